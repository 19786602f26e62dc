"""Integration fixtures: committed data that other processes can see, and process cleanup.

Worker and other child processes need the test database itself. On SQLite the
default test database lives in memory, which no other process can open, so this
conftest moves it into a file (WAL, IMMEDIATE transactions, as in production).
That happens when this folder is collected, before any database is created, so a
whole-suite run then uses the file too.
"""

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.integration import support

_sqlite_dir: Path | None = None
_default = connections.settings["default"]
if _default["ENGINE"] == "django.db.backends.sqlite3" and not _default["TEST"].get("NAME"):
    _sqlite_dir = Path(tempfile.mkdtemp(prefix="riskreg-int-"))
    _default["TEST"]["NAME"] = str(_sqlite_dir / "test_riskreg_int.sqlite3")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _sqlite_dir is not None:
        shutil.rmtree(_sqlite_dir, ignore_errors=True)


@pytest.fixture
def committed_db(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Database access outside any test transaction: every write commits.

    For data that worker processes or other connections must see. Nothing is
    cleaned up (the audit trail refuses DELETE); use unique slugs.
    """
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Append every process started; each is stopped (SIGTERM, then SIGKILL) at teardown."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        support.stop(proc, timeout=15)
