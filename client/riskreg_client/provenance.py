"""Where a CI job runs: the commit and the CI run, for an evidence item's provenance.

GitHub Actions and GitLab CI are read from their documented variables; elsewhere the commit
comes from ``git rev-parse HEAD`` when the directory is a git checkout. Keys that cannot be
known are left out, so the result merges into a provenance object as is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

_COMMIT = re.compile(r"[0-9a-f]{7,64}")  # SHA-1 (40) or SHA-256 (64) object names
_GIT_TIMEOUT_S = 10


def ci_provenance(
    env: Mapping[str, str] | None = None, *, cwd: Path | None = None
) -> dict[str, str]:
    """``commit_sha`` and ``ci_run_url`` of this CI run, each only when known.

    Args:
        env: the environment to read (default: this process's).
        cwd: the checkout to ask git when no CI variable names the commit (default: the
            current directory).
    """
    env = os.environ if env is None else env
    found = _github(env) or _gitlab(env) or {}
    if "commit_sha" not in found and (sha := git_head(cwd or Path.cwd())):
        found["commit_sha"] = sha
    return found


def git_head(cwd: Path) -> str | None:
    """The commit checked out in cwd, or None when it is not a git checkout (or git is absent)."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        result = subprocess.run(  # noqa: S603 - git found on PATH, fixed arguments
            [git, "rev-parse", "--verify", "--quiet", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return _commit(result.stdout) if result.returncode == 0 else None


def _github(env: Mapping[str, str]) -> dict[str, str] | None:
    """GitHub Actions: GITHUB_SHA, and the run page built from server, repository and run id."""
    sha = _commit(env.get("GITHUB_SHA", ""))
    if sha is None:
        return None
    found = {"commit_sha": sha}
    repository, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    if repository and run_id:
        server = env.get("GITHUB_SERVER_URL", "") or "https://github.com"
        found["ci_run_url"] = f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}"
    return found


def _gitlab(env: Mapping[str, str]) -> dict[str, str] | None:
    """GitLab CI: CI_COMMIT_SHA, and the job's page (else the pipeline's)."""
    sha = _commit(env.get("CI_COMMIT_SHA", ""))
    if sha is None:
        return None
    found = {"commit_sha": sha}
    url = env.get("CI_JOB_URL", "") or env.get("CI_PIPELINE_URL", "")
    if url:
        found["ci_run_url"] = url
    return found


def _commit(text: str) -> str | None:
    value = text.strip().lower()
    return value if _COMMIT.fullmatch(value) else None
