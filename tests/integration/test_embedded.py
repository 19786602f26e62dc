"""The embedded default end to end: SQLite and the filesystem broker, with real worker and beat.

Independent of the test database: the child processes get no DATABASE_URL,
CELERY_BROKER_URL or DATABASE_RUNTIME_ROLE, only RISKREG_DATA_DIR, exactly as a
fresh install with no settings.
"""

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.integration import support

pytestmark = pytest.mark.integration


def _manage(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [support.PYTHON, "manage.py", *args],
        cwd=support.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_embedded_default_answers_ping_through_real_worker_with_beat_running(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    env = support.base_env(tmp_path)
    migrated = _manage("migrate", "--noinput", "-v0", env=env, timeout=120)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    celery = [support.PYTHON, "-m", "celery", "-A", "riskreg"]
    worker = support.spawn(
        [*celery, "worker", "-Q", "default,assessments,reports", "--concurrency", "1",
         "--pool", "prefork", "--hostname", "embedded@%h", "--loglevel", "INFO"],
        env=env, log=worker_log,
    )  # fmt: skip
    processes.append(worker)
    beat = support.spawn([*celery, "beat", "--loglevel", "INFO"], env=env, log=beat_log)
    processes.append(beat)

    ping = _manage("ping_worker", "--timeout", "60", env=env, timeout=90)
    assert ping.returncode == 0, ping.stdout + ping.stderr + support.tail(worker_log)
    assert "answered by embedded@" in ping.stdout

    database = tmp_path / "riskreg.sqlite3"
    with sqlite3.connect(database) as db:
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
    db.close()  # the context manager only ends the transaction
    assert mode == "wal"
    assert list((tmp_path / "broker" / "queue").glob("*.msg")) == [], "messages left unconsumed"
    support.wait_for(
        "beat schedule file", lambda: any(tmp_path.glob("celerybeat-schedule*")),
        timeout=30, alive=beat, log=beat_log,
    )  # fmt: skip
    assert beat.poll() is None, support.tail(beat_log)
    assert worker.poll() is None, support.tail(worker_log)

    assert support.stop(beat), "beat ignored SIGTERM\n" + support.tail(beat_log)
    assert support.stop(worker), "worker ignored SIGTERM\n" + support.tail(worker_log)
    assert worker.returncode == 0, support.tail(worker_log)
    assert beat.returncode == 0, support.tail(beat_log)
