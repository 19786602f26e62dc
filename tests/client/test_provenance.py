"""A CI job's provenance comes from its CI's variables, else from git, else it is left out."""

import shutil
import subprocess
from pathlib import Path

import pytest
from riskreg_client.provenance import ci_provenance, git_head

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_github_actions_gives_commit_and_run_page(tmp_path: Path) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": SHA,
        "GITHUB_SERVER_URL": "https://github.example.com",
        "GITHUB_REPOSITORY": "acme/credit-scoring",
        "GITHUB_RUN_ID": "4242",
    }
    assert ci_provenance(env, cwd=tmp_path) == {
        "commit_sha": SHA,
        "ci_run_url": "https://github.example.com/acme/credit-scoring/actions/runs/4242",
    }


def test_github_actions_without_server_url_uses_github_com(tmp_path: Path) -> None:
    env = {"GITHUB_SHA": SHA, "GITHUB_REPOSITORY": "acme/x", "GITHUB_RUN_ID": "7"}
    assert ci_provenance(env, cwd=tmp_path)["ci_run_url"] == (
        "https://github.com/acme/x/actions/runs/7"
    )


def test_gitlab_ci_gives_commit_and_job_page(tmp_path: Path) -> None:
    env = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": SHA.upper(),
        "CI_JOB_URL": "https://gitlab.example.com/acme/x/-/jobs/99",
        "CI_PIPELINE_URL": "https://gitlab.example.com/acme/x/-/pipelines/12",
    }
    assert ci_provenance(env, cwd=tmp_path) == {
        "commit_sha": SHA,
        "ci_run_url": "https://gitlab.example.com/acme/x/-/jobs/99",
    }


def test_gitlab_ci_without_job_url_gives_the_pipeline_page(tmp_path: Path) -> None:
    env = {"CI_COMMIT_SHA": SHA, "CI_PIPELINE_URL": "https://gitlab.example.com/p/12"}
    assert ci_provenance(env, cwd=tmp_path)["ci_run_url"] == "https://gitlab.example.com/p/12"


def test_no_ci_and_no_checkout_gives_nothing(tmp_path: Path) -> None:
    assert ci_provenance({}, cwd=tmp_path) == {}


def test_a_ci_variable_that_is_not_a_commit_is_ignored(tmp_path: Path) -> None:
    assert ci_provenance({"GITHUB_SHA": "main", "CI_COMMIT_SHA": ""}, cwd=tmp_path) == {}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_outside_ci_a_git_checkout_gives_its_head(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    git("init", "--quiet")
    (tmp_path / "model.txt").write_text("v1\n")
    git("add", "model.txt")
    git("commit", "--quiet", "-m", "v1")
    head = git("rev-parse", "HEAD")
    assert git_head(tmp_path) == head
    assert ci_provenance({}, cwd=tmp_path) == {"commit_sha": head}
