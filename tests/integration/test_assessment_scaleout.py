"""Scale-out on real processes: two Celery workers on one Redis broker and one S3-compatible
object store (moto's server mode) split a large predictions file into parts, process the
parts in parallel, and the last one merges them into exactly the evidence one pass gives.
"""

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations.assessments import pipeline
from evaluations.models import AssessmentJob, Evidence
from evaluations.services import assessments as services
from riskreg.inventory import services as inventory
from riskreg.organisations.actor import Actor
from riskreg.organisations.services import organization_create
from tests.integration import support
from tests.integration.conftest import Worker
from tests.s3server import S3Server, s3_server

pytestmark = pytest.mark.integration

ROWS = 200_000
PART_BYTES = 600_000
FINISH_SECONDS = 90
KINDS = ["calibration", "data_quality", "fairness"]
MAPPING = {
    "label": "label",
    "prediction": "prediction",
    "score": "score",
    "sensitive": ["sex", "band"],
    "split": "split",
}
OPTIONS = {"dataset": "applications", "n_boot": 300, "seed": 11, "strategy": "quantile"}


def predictions(path: Path) -> Path:
    """Groups interleaved row by row: every part boundary splits every group."""
    rng = np.random.default_rng(17)
    score = np.round(rng.random(ROWS), 4)
    table = pa.table(
        {
            "label": (rng.random(ROWS) < score).astype(np.int64),
            "prediction": (score > 0.5).astype(np.int64),
            "score": score,
            "sex": np.where(np.arange(ROWS) % 2 == 0, "f", "m"),
            "band": np.array(["18-30", "31-50", "51+"])[np.arange(ROWS) % 3],
            "split": np.where(rng.random(ROWS) < 0.2, "test", "train"),
        }
    )
    pa_csv.write_csv(table, path)
    return path


@pytest.fixture
def store(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[S3Server, str]]:
    """A bucket on a local S3-compatible server that this process and the workers use."""
    with s3_server() as server:
        bucket = server.create_bucket(f"riskreg-{uuid.uuid4().hex[:12]}")
        for key, value in server.settings(bucket).items():
            if key.startswith("RISKREG_"):
                setattr(settings, key, value)
            else:
                monkeypatch.setenv(key, value)
        yield server, bucket


def test_two_workers_split_a_file_in_the_object_store_and_merge_the_one_pass_evidence(
    redis_broker: str,
    start_worker: Callable[..., Worker],
    store: tuple[S3Server, str],
    tmp_path: Path,
) -> None:
    server, bucket = store
    env = {
        **server.settings(bucket),
        "RISKREG_ASSESSMENT_CHUNK_BYTES": str(PART_BYTES),
        "RISKREG_ASSESSMENT_LEASE_SECONDS": "30",
    }
    workers = [start_worker(redis_broker, **env), start_worker(redis_broker, **env)]
    path = predictions(tmp_path / "predictions.csv")

    job = submit(path)
    support.wait_for(
        "split job finished",
        lambda: status_of(job) in ("succeeded", "failed", "cancelled"),
        timeout=FINISH_SECONDS,
        alive=workers[0].proc,
        log=workers[0].log,
    )

    job.refresh_from_db()
    assert (job.status, job.progress) == ("succeeded", 1.0), job.message
    parts = list(job.chunks.order_by("index"))
    assert len(parts) >= 6
    assert {part.status for part in parts} == {"done"}
    assert len({part.lease_owner for part in parts}) == 2, "one worker did every part"
    found = {e.kind: e.document["metrics"] for e in Evidence.objects.filter(assessment_job=job)}
    one_pass = pipeline.compute(path, format="csv", kinds=KINDS, mapping=MAPPING, options=OPTIONS)
    assert found == json.loads(json.dumps(one_pass))
    # The input lives in the bucket, and on no local disk.
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"riskreg/{job.organization_id}/{sha[:2]}/{sha}" in server.keys(bucket)
    local = [Path(django_settings.RISKREG_ATTACHMENTS_DIR), tmp_path / "attachments"]
    assert not [p for root in local if root.exists() for p in root.rglob(sha)]


def submit(path: Path) -> AssessmentJob:
    org = organization_create(name="Scale-out", slug=f"scaleout-{uuid.uuid4().hex[:8]}")
    actor = Actor.system(org.pk)
    system = inventory.system_create(actor=actor, slug="scoring", name="Scoring")
    version = inventory.model_version_create(actor=actor, system=system, version="1")
    inventory.dataset_create(actor=actor, slug="applications", name="Applications")
    upload = SimpleUploadedFile("predictions.csv", path.read_bytes(), "text/csv")
    return services.assessment_job_create(
        actor=actor,
        system=system,
        model_version=version,
        upload=upload,
        kinds=KINDS,
        mapping=MAPPING,
        options=OPTIONS,
    ).job


def status_of(job: AssessmentJob) -> str:
    job.refresh_from_db()
    return job.status
