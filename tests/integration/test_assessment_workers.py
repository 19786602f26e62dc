"""Assessment jobs on real workers: a worker killed mid-job is rescued by the lease sweep
(on Redis and on the embedded broker) and the job ends with exactly one item per kind; a
job over its memory budget fails once and the worker lives on.
"""

import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations.models import AssessmentJob, Evidence
from evaluations.services import assessments as services
from riskreg.celery import app as celery_app
from riskreg.inventory import services as inventory
from riskreg.lib.fsbroker import broker_settings
from riskreg.organisations.actor import Actor
from riskreg.organisations.services import organization_create
from tests.integration import support
from tests.integration.conftest import Worker, reset_connections

pytestmark = pytest.mark.integration

LEASE = "3"  # seconds: the killed worker's lease runs out quickly
FINISH_SECONDS = 180


def predictions(path: Path, rows: int) -> Path:
    """Predictions whose calibration bootstrap keeps a worker busy for several seconds."""
    rng = np.random.default_rng(7)
    score = rng.random(rows)
    table = pa.table(
        {
            "label": (rng.random(rows) < score).astype(np.int64),
            "prediction": (score > 0.5).astype(np.int64),
            "score": np.round(score, 4),
            "sex": np.where(rng.random(rows) < 0.5, "f", "m"),
        }
    )
    pa_csv.write_csv(table, path)
    return path


@pytest.fixture
def queue_job(committed_db: None, tmp_path: Path) -> Callable[..., AssessmentJob]:
    """queue_job(rows, **options) -> a committed job, its message sent on commit."""

    def make(rows: int, **options: Any) -> AssessmentJob:
        org = organization_create(name="Workers", slug=f"workers-{uuid.uuid4().hex[:8]}")
        actor = Actor.system(org.pk)
        system = inventory.system_create(actor=actor, slug="scoring", name="Scoring")
        version = inventory.model_version_create(actor=actor, system=system, version="1")
        path = predictions(tmp_path / f"{uuid.uuid4().hex}.csv", rows)
        with path.open("rb") as stream:
            upload = SimpleUploadedFile("predictions.csv", stream.read(), "text/csv")
        return services.assessment_job_create(
            actor=actor,
            system=system,
            model_version=version,
            upload=upload,
            kinds=["fairness", "calibration"],
            mapping={
                "label": "label",
                "prediction": "prediction",
                "score": "score",
                "sensitive": ["sex"],
            },
            options={"n_boot": 1000, **options},
        ).job

    return make


def job_env(**extra: str) -> dict[str, str]:
    """What the worker needs beyond the test database: our attachment store, a short lease."""
    return {
        "RISKREG_ATTACHMENTS_DIR": str(settings.RISKREG_ATTACHMENTS_DIR),
        "RISKREG_ASSESSMENT_LEASE_SECONDS": LEASE,
        **extra,
    }


def status_of(job: AssessmentJob) -> str:
    job.refresh_from_db()
    return job.status


def kill_mid_job_then_rescue(
    job: AssessmentJob, start: Callable[[], Worker], first: Worker
) -> AssessmentJob:
    first.wait_for("job running", lambda: status_of(job) == "running")
    os.killpg(first.proc.pid, signal.SIGKILL)  # the whole worker, pool child included
    first.proc.wait(10)
    job.refresh_from_db()
    assert job.status == "running", "the job finished before the kill; make it slower"
    support.wait_for(
        "lease expiry",
        lambda: job.pk in services.assessment_jobs_sweep(),
        timeout=30,
        interval=0.5,
    )
    second = start()
    support.wait_for(
        "job finished on the second worker",
        lambda: status_of(job) in ("succeeded", "failed"),
        timeout=FINISH_SECONDS,
        alive=second.proc,
        log=second.log,
    )
    job.refresh_from_db()
    return job


def test_a_job_whose_worker_is_killed_on_redis_ends_with_one_item_per_kind(
    redis_broker: str, start_worker: Callable[..., Worker], queue_job: Callable[..., AssessmentJob]
) -> None:
    first = start_worker(redis_broker, **job_env())
    job = queue_job(400_000)

    done = kill_mid_job_then_rescue(job, lambda: start_worker(redis_broker, **job_env()), first)

    assert (done.status, done.error_code, done.deliveries) == ("succeeded", "", 2), done.message
    kinds = sorted(Evidence.objects.filter(assessment_job=done).values_list("kind", flat=True))
    assert kinds == ["calibration", "fairness"]


@pytest.fixture
def embedded_broker(tmp_path: Path) -> Iterator[None]:
    """The test process sends through the embedded broker the workers of this test use."""
    conf = celery_app.conf
    keys = ("broker_url", "broker_transport", "broker_transport_options")
    saved = {key: conf.get(key) for key in keys}
    conf.update(broker_settings(tmp_path / "broker"))
    reset_connections()
    yield
    conf.update(saved)
    reset_connections()


def test_the_lease_sweep_rescues_a_job_the_embedded_broker_lost_with_its_worker(
    embedded_broker: None,
    start_worker: Callable[..., Worker],
    queue_job: Callable[..., AssessmentJob],
) -> None:
    first = start_worker(None, **job_env())
    job = queue_job(400_000)

    done = kill_mid_job_then_rescue(job, lambda: start_worker(None, **job_env()), first)

    assert (done.status, done.deliveries) == ("succeeded", 2), done.message
    assert Evidence.objects.filter(assessment_job=done).count() == 2


def test_a_job_over_its_memory_budget_fails_after_one_delivery_and_the_worker_lives(
    redis_broker: str, start_worker: Callable[..., Worker], queue_job: Callable[..., AssessmentJob]
) -> None:
    worker = start_worker(redis_broker, **job_env(RISKREG_ASSESSMENT_MEMORY_BYTES="1048576"))
    job = queue_job(50_000, n_boot=0)

    worker.wait_for("job failed", lambda: status_of(job) in ("failed", "succeeded"))

    job.refresh_from_db()
    assert (job.status, job.error_code, job.deliveries) == ("failed", "memory_limit_exceeded", 1)
    assert not Evidence.objects.filter(assessment_job=job).exists()
    assert worker.proc.poll() is None, support.tail(worker.log)
