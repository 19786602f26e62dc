"""Helpers for tests that start real processes: environments, bounded waits, clean stops."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CI = os.environ.get("CI", "").strip().lower() == "true"
# Variables that would point a child process elsewhere than the test's own setup.
_CHILD_DROPS = ("DATABASE_", "CELERY_", "RISKREG_", "DJANGO_")


def unavailable(reason: str) -> NoReturn:
    """Skip locally; on CI a missing service must fail, never hide behind a skip."""
    if CI:
        pytest.fail(f"{reason} (CI=true: not skipping)")
    pytest.skip(reason)


def require_port(host: str, port: int, what: str) -> None:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        unavailable(f"{what} is not reachable at {host}:{port}")


def require_postgresql() -> None:
    """PostgreSQL-only checks: skipped on SQLite, except on CI with DATABASE_URL set."""
    if connection.vendor == "postgresql":
        return
    if CI and os.environ.get("DATABASE_URL"):
        pytest.fail(f"CI=true with DATABASE_URL set, but the suite runs on {connection.vendor}")
    pytest.skip(f"PostgreSQL only; this run uses {connection.vendor}")


def database_url() -> str:
    """The test database as a DATABASE_URL, for the role this process connects as now."""
    conf = connection.settings_dict
    name = str(conf["NAME"])
    if connection.vendor == "postgresql":
        auth = quote(conf["USER"], safe="")
        if conf["PASSWORD"]:
            auth += ":" + quote(conf["PASSWORD"], safe="")
        host = conf["HOST"] or "localhost"
        return f"postgres://{auth}@{host}:{conf['PORT'] or 5432}/{quote(name, safe='')}"
    if connection.vendor == "sqlite":
        if "mode=memory" in name or name == ":memory:":
            raise RuntimeError("an in-memory SQLite test database cannot be shared")
        # dj-database-url turns the query into OPTIONS: same WAL, IMMEDIATE and timeout.
        options = {k: v for k, v in conf["OPTIONS"].items() if isinstance(v, str | int)}
        return f"sqlite:///{quote(name)}?{urlencode(options)}"
    raise RuntimeError(f"no URL for {connection.vendor}")


def base_env(data_dir: Path) -> dict[str, str]:
    """This environment without any riskreg, Django, database or Celery setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CHILD_DROPS)}
    env.update(DJANGO_SETTINGS_MODULE="riskreg.settings", RISKREG_DATA_DIR=str(data_dir))
    return env


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a child process that must use this run's test database."""
    env = base_env(data_dir)
    env["DATABASE_URL"] = database_url()
    if settings.DATABASE_RUNTIME_ROLE:
        env["DATABASE_RUNTIME_ROLE"] = settings.DATABASE_RUNTIME_ROLE
    env.update(extra)
    return env


def spawn(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a process in its own group, output to ``log``."""
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes], *, timeout: float = 20) -> bool:
    """SIGTERM, then SIGKILL to the whole group after ``timeout``; True if it exited by itself."""
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        pass
    # Still running and not reaped, so the group id is still ours: take pool children too.
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    return False


def tail(log: Path | None, chars: int = 4000) -> str:
    """The end of a process's log, for failure messages."""
    if log is None:
        return ""
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def wait_for(
    what: str,
    predicate: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.1,
    alive: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll ``predicate`` until true; fail after ``timeout`` s or when ``alive`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if alive is not None and alive.poll() is not None:
            pytest.fail(f"{what}: process exited with {alive.returncode}\n{tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s\n{tail(log)}")
        time.sleep(interval)
