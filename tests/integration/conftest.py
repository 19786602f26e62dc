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
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kombu
import pytest
from django.db import connection, connections

from riskreg.celery import app as celery_app
from riskreg.ops.models import WorkerHeartbeat
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


QUEUES = ("default", "assessments", "reports")
READY_SECONDS = 30
BROKER_KEYS = ("broker_url", "broker_transport", "broker_transport_options")
ANSWER_SECONDS = 30


def reset_connections() -> None:
    """Drop the Celery app's pooled connections, which still point at the previous broker
    (`.delay()` publishes through them; a task sent on commit would go astray)."""
    kombu.pools.reset()  # kombu's registry of pools, keyed by broker URL
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def use_broker(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point riskreg's Celery app at a reachable broker with empty queues, meanwhile."""
    parts = urlsplit(url)
    assert parts.hostname
    assert parts.port
    support.require_port(parts.hostname, parts.port, f"{parts.scheme} broker")
    _purge(url)
    # Celery reads CELERY_BROKER_URL from the environment before its own config.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    conf = celery_app.conf
    saved = {key: conf.get(key) for key in BROKER_KEYS}
    # No transport override: kombu would otherwise prefer the embedded one to the URL's scheme.
    conf.update(broker_url=url, broker_transport=None, broker_transport_options={})
    reset_connections()
    yield url
    conf.update(saved)
    reset_connections()


@pytest.fixture(
    params=[
        pytest.param("redis://127.0.0.1:6379/13", id="redis"),
        pytest.param("amqp://guest:guest@127.0.0.1:5672//", id="rabbitmq"),
    ]
)
def broker_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each real broker in turn (see use_broker)."""
    yield from use_broker(request.param, monkeypatch)


@pytest.fixture
def redis_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Redis only (see use_broker)."""
    yield from use_broker("redis://127.0.0.1:6379/13", monkeypatch)


def _purge(url: str) -> None:
    """Declare the worker's queues as Celery does and drop anything left in them."""
    with kombu.Connection(url, connect_timeout=5) as conn:
        channel = conn.default_channel
        for name in QUEUES:
            queue = kombu.Queue(name, kombu.Exchange(name, type="direct"), routing_key=name)
            queue(channel).declare()
            queue(channel).purge()


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    hostname: str
    log: Path

    def wait_for(self, what: str, predicate: Callable[[], object]) -> None:
        """Poll until ``predicate``; fail with the worker's log on timeout or if it dies."""
        support.wait_for(what, predicate, timeout=ANSWER_SECONDS, alive=self.proc, log=self.log)


@pytest.fixture
def start_worker(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], committed_db: None
) -> Callable[..., Worker]:
    """start_worker(url, **env) -> a worker that has sent its first heartbeat (stopped at
    teardown)."""

    def start(url: str | None, **env: str) -> Worker:
        """url None: the embedded broker under the worker's RISKREG_DATA_DIR (tmp_path)."""
        name = f"int-{uuid.uuid4().hex[:8]}"
        log = tmp_path / f"{name}.log"
        args = [
            support.PYTHON, "-m", "celery", "-A", "riskreg", "worker",
            "-Q", ",".join(QUEUES), "--concurrency", "1", "--pool", "prefork",
            "--hostname", f"{name}@%h", "--loglevel", "INFO",
            # Startup speed only: no other workers to sync with or gossip to.
            "--without-mingle", "--without-gossip",
            "--include", "tests.integration.worker_tasks",
        ]  # fmt: skip
        if url is not None:
            env["CELERY_BROKER_URL"] = url
        proc = support.spawn(args, env=support.child_env(tmp_path, **env), log=log)
        processes.append(proc)
        beats = WorkerHeartbeat.objects.filter(hostname__startswith=f"{name}@")
        support.wait_for(
            "worker heartbeat", beats.exists, timeout=READY_SECONDS, alive=proc, log=log
        )
        return Worker(proc=proc, hostname=beats.get().hostname, log=log)

    return start
