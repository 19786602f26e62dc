"""Real Celery workers on Redis and RabbitMQ: probes, heartbeats, /readyz, lost pool children.

Each test starts `celery -A riskreg worker` as a child process on the test
database (see conftest.py) and the broker under test; the test process sends
through the same broker, so `riskreg.celery.app` is pointed at it for the test.
"""

import os
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from riskreg.celery import app as celery_app
from riskreg.ops import services as ops_services
from riskreg.ops.models import TaskProbe, WorkerHeartbeat
from riskreg.ops.selectors import HEARTBEAT_STALE
from riskreg.ops.tasks import probe_answer_task
from tests.integration import support
from tests.integration.conftest import Worker
from tests.integration.worker_tasks import record_delivery_task

pytestmark = pytest.mark.integration


def _send(task_name: str, *args: object) -> None:
    with celery_app.connection_for_write() as conn:
        celery_app.send_task(task_name, args=list(args), connection=conn)


def test_worker_answers_probe_and_readyz_follows_its_heartbeat(
    broker_url: str, start_worker: Callable[[str], Worker], client: Client
) -> None:
    worker = start_worker(broker_url)
    probe = ops_services.probe_create()

    _send(probe_answer_task.name, probe.pk)

    def answered() -> bool:
        return TaskProbe.objects.filter(pk=probe.pk, answered_at__isnull=False).exists()

    worker.wait_for("probe answer", answered)
    probe.refresh_from_db()
    assert probe.answered_by == worker.hostname
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    assert ready.json()["checks"] == {"database": True, "broker": True, "worker": True}

    assert support.stop(worker.proc), "worker ignored SIGTERM\n" + support.tail(worker.log)
    assert worker.proc.returncode == 0, support.tail(worker.log)
    # A worker that stops cleanly removes its heartbeat: readiness drops at once.
    assert not WorkerHeartbeat.objects.filter(hostname=worker.hostname).exists()
    gone = client.get("/readyz")
    assert gone.status_code == 503, gone.json()
    assert gone.json()["checks"] == {"database": True, "broker": True, "worker": False}
    # A killed worker leaves its row behind, which counts only until it is 30 s old.
    old = timezone.now() - HEARTBEAT_STALE - timedelta(seconds=1)
    WorkerHeartbeat.objects.create(hostname=worker.hostname, seen_at=old)
    stale = client.get("/readyz")
    assert stale.status_code == 503, stale.json()
    assert stale.json()["checks"] == {"database": True, "broker": True, "worker": False}


def test_task_whose_pool_child_is_killed_runs_again(
    broker_url: str, start_worker: Callable[[str], Worker], tmp_path: Path
) -> None:
    worker = start_worker(broker_url)
    folder = tmp_path / "deliveries"
    folder.mkdir()

    _send(record_delivery_task.name, str(folder))
    first = folder / "delivery-1"
    worker.wait_for("first delivery", first.exists)
    child, parent = map(int, first.read_text().split())
    assert parent == worker.proc.pid, "the task must run in a pool child of the worker"
    os.kill(child, signal.SIGKILL)

    # acks_late + reject_on_worker_lost: the message goes back and a new child runs it.
    second = folder / "delivery-2"
    worker.wait_for("redelivery", second.exists)
    new_child, new_parent = map(int, second.read_text().split())
    assert new_child != child
    assert new_parent == worker.proc.pid
    assert "WorkerLostError" in support.tail(worker.log, 20000)
