"""Integration fixtures: committed data that other processes can see, and process cleanup.

Worker and other child processes open the test database themselves. PostgreSQL's
test database is shared as it is. SQLite's lives in memory, in this process only,
so on SQLite `committed_db` points this thread's default connection at a file copy
of the migrated test database for the duration of the test (WAL, IMMEDIATE
transactions, as in production), and back afterwards: the in-memory database that
every other test uses never sees the committed data.
"""

import copy
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from tests.integration import support


@pytest.fixture(scope="session")
def _sqlite_file_copy(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Path | None:
    """A file copy of an in-memory SQLite test database (None on any other database)."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        return None
    path = tmp_path_factory.mktemp("shared-db") / "test_riskreg_int.sqlite3"
    with django_db_blocker.unblock():
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    return path


@pytest.fixture
def committed_db(django_db_blocker: Any, _sqlite_file_copy: Path | None) -> Iterator[None]:
    """Database access outside any test transaction: every write commits.

    For data that worker processes or other connections must see. Nothing is
    cleaned up (the audit trail refuses DELETE); use unique slugs.
    """
    with django_db_blocker.unblock():
        if _sqlite_file_copy is None:
            yield
            return
        original = connections["default"]
        conf = copy.deepcopy(original.settings_dict)
        conf["NAME"] = str(_sqlite_file_copy)
        shared = original.__class__(conf, alias="default")
        connections["default"] = shared
        try:
            yield
        finally:
            shared.close()
            connections["default"] = original


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Append every process started; each is stopped (SIGTERM, then SIGKILL) at teardown."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        support.stop(proc, timeout=15)
