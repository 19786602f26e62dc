"""Files in an S3-compatible object store (RISKREG_STORAGE_URL): attachments and uploaded
predictions go to the bucket, never to the local folder; downloads, the orphan sweep and
assessment jobs (split into parts included) work from there. The store is moto's server
mode on a free local port, reached over HTTP like any S3-compatible server."""

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from evaluations import blobstore
from evaluations.models import AssessmentJob, Evidence
from evaluations.services import assessments as services
from evaluations.services import chunks
from evaluations.services.storage import attachment_sweep
from riskreg.organisations.roles import Role
from tests.api.conftest import World
from tests.api.helpers import attachment_files
from tests.api.test_evidence import PDF, policy_document, submit
from tests.s3server import S3Server, s3_server


@pytest.fixture(scope="module")
def server() -> Iterator[S3Server]:
    with s3_server() as started:
        yield started


@pytest.fixture
def bucket(server: S3Server, settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket that riskreg stores every file in, meanwhile."""
    name = server.create_bucket(f"riskreg-{uuid.uuid4().hex[:12]}")
    for key, value in server.settings(name).items():
        if key.startswith("RISKREG_"):
            setattr(settings, key, value)
        else:
            monkeypatch.setenv(key, value)
    return name


@pytest.fixture
def engineer(world: World, api_for: Any) -> APIClient:
    return api_for(Role.ENGINEER)


def test_an_attachment_lives_in_the_bucket_and_downloads_with_its_exact_bytes(
    engineer: APIClient, server: S3Server, bucket: str, world: World
) -> None:
    local = attachment_files()
    upload = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")

    item = submit(engineer, policy_document(), [upload]).json()["items"][0]

    [attachment] = item["attachments"]
    sha = hashlib.sha256(PDF).hexdigest()
    assert server.keys(bucket) == [f"riskreg/{world.acme.org.pk}/{sha[:2]}/{sha}"]
    assert attachment_files() == local  # nothing new in the local folder
    response = engineer.get(attachment["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert blobstore.describe() == f"s3://{bucket}/riskreg"


def test_the_sweep_removes_only_objects_no_row_owns(
    engineer: APIClient, server: S3Server, bucket: str, world: World
) -> None:
    upload = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    submit(engineer, policy_document(), [upload])
    org = world.acme.org.pk
    blobstore.store(org, "a" * 64, [b"left by a killed worker"])

    young = attachment_sweep(older_than=timedelta(hours=1))
    swept = attachment_sweep(older_than=timedelta(0))

    assert young.removed == []
    assert swept.removed == [f"{org}/aa/{'a' * 64}"]
    assert swept.kept == 1
    assert not blobstore.exists(org, "a" * 64)
    assert len(server.keys(bucket)) == 1


def test_a_split_job_reads_its_input_from_the_bucket(
    engineer: APIClient,
    server: S3Server,
    bucket: str,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.api.test_assessment_chunks import CSV, MAPPING, OPTIONS, run_parts
    from tests.api.test_assessments import upload

    settings.RISKREG_ASSESSMENT_CHUNK_BYTES = 10_000
    local = attachment_files()
    response = engineer.post(
        "/api/v1/assessments/",
        {
            "file": upload(CSV),
            "system": "credit-scoring",
            "model_version": "1.0",
            "kinds": ["fairness", "calibration"],
            "mapping": json.dumps(MAPPING),
            "options": json.dumps(OPTIONS | {"n_boot": 50}),
        },
        format="multipart",
    )
    job = AssessmentJob.objects.get(uid=response.json()["id"])
    with django_capture_on_commit_callbacks():
        services.assessment_run(job_id=job.pk, worker="planner")
    assert chunks.assessment_job_chunked(job_id=job.pk)

    done = run_parts(job)

    assert done.status == "succeeded", done.message
    assert Evidence.objects.filter(assessment_job=done).count() == 2
    sha = hashlib.sha256(CSV).hexdigest()
    assert f"riskreg/{done.organization_id}/{sha[:2]}/{sha}" in server.keys(bucket)
    assert attachment_files() == local
