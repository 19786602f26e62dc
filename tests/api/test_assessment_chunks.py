"""Split assessment jobs: a file above RISKREG_ASSESSMENT_CHUNK_BYTES becomes parts that
workers claim with leases; the last part merges them into exactly the evidence one pass
writes. Parts are run here in-process, as the chunk task runs them."""

import itertools
import json
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from evaluations.models import AssessmentChunk, AssessmentJob, Evidence
from evaluations.services import assessments as services
from evaluations.services import chunks
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import Role
from tests.api.conftest import World
from tests.api.test_assessments import upload

KINDS = ["calibration", "data_quality", "fairness"]
MAPPING = {
    "label": "label",
    "prediction": "prediction",
    "score": "score",
    "sensitive": ["sex", "band"],
    "split": "split",
}
OPTIONS = {
    "dataset": "loans-2023",
    "n_boot": 200,
    "seed": 3,
    "strategy": "quantile",
    "bins": 8,
    "min_group_size": 10,
}


def predictions(rows: int = 1_500) -> bytes:
    """Groups interleaved row by row, so that every part boundary splits every group."""
    rng = np.random.default_rng(9)
    score = np.round(rng.random(rows), 3)
    lines = ["label,prediction,score,sex,band,split,note"]
    for i in range(rows):
        label = int(rng.random() < score[i])
        note = '"late, then\nrepaid"' if i % 7 == 0 else "none"
        lines.append(
            f"{label},{int(score[i] > 0.4)},{score[i]},{'fm'[i % 2]},{'abc'[i % 3]},"
            f"{'test' if i % 4 == 0 else 'train'},{note}"
        )
    return ("\n".join(lines) + "\n").encode()


CSV = predictions()


@pytest.fixture
def engineer(world: World, api_for: Any) -> APIClient:
    return api_for(Role.ENGINEER)


def submit(client: APIClient) -> AssessmentJob:
    response = client.post(
        "/api/v1/assessments/",
        {
            "file": upload(CSV),
            "system": "credit-scoring",
            "model_version": "1.0",
            "kinds": KINDS,
            "mapping": json.dumps(MAPPING),
            "options": json.dumps(OPTIONS),
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return AssessmentJob.objects.get(uid=response.json()["id"])


def metrics(job: AssessmentJob) -> dict[str, Any]:
    items = Evidence.objects.filter(assessment_job=job)
    return {item.kind: item.document["metrics"] for item in items}


@pytest.fixture
def one_pass(engineer: APIClient, settings: Any) -> dict[str, Any]:
    """The evidence of the same file and request, computed in one pass."""
    settings.RISKREG_ASSESSMENT_CHUNK_BYTES = 0
    job = submit(engineer)
    services.assessment_run(job_id=job.pk, worker="single")
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert not job.chunks.exists()
    return metrics(job)


@pytest.fixture
def split_job(
    engineer: APIClient,
    one_pass: dict[str, Any],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> AssessmentJob:
    """A job planned into parts by its first delivery (their tasks captured, not sent)."""
    settings.RISKREG_ASSESSMENT_CHUNK_BYTES = 6_000
    job = submit(engineer)
    with django_capture_on_commit_callbacks() as sent:
        services.assessment_run(job_id=job.pk, worker="planner")
    job.refresh_from_db()
    assert job.chunks.count() >= 6
    assert len(sent) == job.chunks.count()  # one task per part, after the commit
    assert (job.status, job.lease_owner, job.deliveries) == ("running", "", 1)
    return job


def run_parts(job: AssessmentJob, workers: tuple[str, ...] = ("w1", "w2")) -> AssessmentJob:
    ids = list(job.chunks.order_by("index").values_list("pk", flat=True))
    for i, chunk_id in enumerate(ids):
        chunks.assessment_chunk_run(chunk_id=chunk_id, worker=workers[i % len(workers)])
    job.refresh_from_db()
    return job


def test_a_split_job_writes_exactly_the_evidence_of_one_pass(
    split_job: AssessmentJob, one_pass: dict[str, Any]
) -> None:
    done = run_parts(split_job)

    assert (done.status, done.progress, done.deliveries) == ("succeeded", 1.0, 1), done.message
    assert metrics(done) == one_pass
    assert one_pass["calibration"]["expected_calibration_error"]["interval"] is not None
    owners = set(done.chunks.values_list("lease_owner", flat=True))
    assert owners == {"w1", "w2"}
    assert set(done.chunks.values_list("status", flat=True)) == {"done"}


def test_parts_split_the_rows_of_every_group(split_job: AssessmentJob) -> None:
    parts = list(split_job.chunks.order_by("index"))
    assert parts[0].row_start == 0
    assert all(a.row_stop == b.row_start for a, b in itertools.pairwise(parts))
    assert parts[-1].row_stop == 1_500
    assert any(part.row_start % 2 for part in parts)  # a boundary inside the f/m alternation


def test_a_part_whose_lease_expired_is_re_run_by_the_sweep_and_counted_once(
    split_job: AssessmentJob,
    one_pass: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = split_job.chunks.get(index=0)
    assert chunks.assessment_chunk_claim(chunk_id=first.pk, worker="lost") is not None
    AssessmentChunk.objects.filter(pk=first.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks() as sent:
        assert chunks.assessment_chunks_sweep() == [first.pk]
    assert len(sent) == 1

    done = run_parts(split_job)
    # The lost worker comes back: it may neither store its part nor renew its lease.
    assert chunks.assessment_chunk_finish(chunk_id=first.pk, worker="lost", state={}) is False
    assert chunks.assessment_chunk_progress(chunk_id=first.pk, worker="lost") is False

    assert done.status == "succeeded", done.message
    assert done.chunks.get(index=0).deliveries == 2
    assert sorted(Evidence.objects.filter(assessment_job=done).values_list("kind", flat=True)) == (
        KINDS
    )
    assert metrics(done) == one_pass


def test_a_merge_that_never_ran_is_sent_again_by_the_sweep(
    split_job: AssessmentJob,
    one_pass: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with monkeypatch.context() as patch:  # the last part's worker dies before it merges
        patch.setattr(chunks, "assessment_chunks_merge", lambda **_: None)
        waiting = run_parts(split_job)
    assert (waiting.status, waiting.progress) == ("running", 0.99)
    AssessmentJob.objects.filter(pk=waiting.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks() as sent:
        chunks.assessment_chunks_sweep()
    assert len(sent) == 1

    services.assessment_run(job_id=waiting.pk, worker="w3")  # what the re-sent task does

    waiting.refresh_from_db()
    assert (waiting.status, waiting.deliveries) == ("succeeded", 1), waiting.message
    assert metrics(waiting) == one_pass


def test_a_merge_whose_worker_was_lost_is_taken_over_as_a_new_delivery(
    split_job: AssessmentJob, one_pass: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(chunks, "assessment_chunks_merge", lambda **_: None)
        run_parts(split_job)
    assert chunks._merge_claim(split_job.pk, "merger") is not None
    assert chunks._merge_claim(split_job.pk, "another") is None  # its lease holds
    AssessmentJob.objects.filter(pk=split_job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.assessment_jobs_sweep() == [split_job.pk]

    services.assessment_run(job_id=split_job.pk, worker="w4")

    split_job.refresh_from_db()
    assert (split_job.status, split_job.deliveries) == ("succeeded", 2), split_job.message
    assert metrics(split_job) == one_pass


def test_cancelling_a_split_job_stops_its_parts(split_job: AssessmentJob) -> None:
    parts = list(split_job.chunks.order_by("index"))
    chunks.assessment_chunk_run(chunk_id=parts[0].pk, worker="w1")
    running = chunks.assessment_chunk_claim(chunk_id=parts[1].pk, worker="w2")
    assert running is not None

    services.assessment_job_cancel(actor=Actor.system(split_job.organization_id), job=split_job)

    assert chunks.assessment_chunk_progress(chunk_id=parts[1].pk, worker="w2") is False
    for part in parts[1:]:
        chunks.assessment_chunk_run(chunk_id=part.pk, worker="w3")
    assert chunks.assessment_chunks_sweep() == []
    split_job.refresh_from_db()
    assert split_job.status == "cancelled"
    assert not Evidence.objects.filter(assessment_job=split_job).exists()
    assert split_job.chunks.filter(status="done").count() == 1


def test_a_part_delivered_too_often_fails_the_job(split_job: AssessmentJob, settings: Any) -> None:
    settings.RISKREG_ASSESSMENT_MAX_DELIVERIES = 2
    part = split_job.chunks.get(index=3)
    for worker in ("w1", "w2"):
        assert chunks.assessment_chunk_claim(chunk_id=part.pk, worker=worker) is not None
        AssessmentChunk.objects.filter(pk=part.pk).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )

    assert chunks.assessment_chunk_claim(chunk_id=part.pk, worker="w3") is None

    split_job.refresh_from_db()
    part.refresh_from_db()
    assert (split_job.status, split_job.error_code) == ("failed", "too_many_deliveries")
    assert "Part 3" in split_job.message
    assert part.status == "failed"
    run_parts(split_job)  # the other parts find the job ended and do nothing
    assert not split_job.chunks.filter(status="done").exists()


def test_a_part_with_values_the_engines_refuse_fails_the_whole_job(
    engineer: APIClient, settings: Any
) -> None:
    settings.RISKREG_ASSESSMENT_CHUNK_BYTES = 6_000
    bad = CSV[:-40] + CSV[-40:].replace(b",0.", b",1.", 1)  # a score above 1 in the last part
    response = engineer.post(
        "/api/v1/assessments/",
        {
            "file": upload(bad),
            "system": "credit-scoring",
            "model_version": "1.0",
            "kinds": ["calibration"],
            "mapping": json.dumps({"label": "label", "score": "score"}),
        },
        format="multipart",
    )
    job = AssessmentJob.objects.get(uid=response.json()["id"])
    services.assessment_run(job_id=job.pk, worker="planner")

    done = run_parts(job)

    assert (done.status, done.error_code) == ("failed", "invalid_input")
    assert "[0, 1]" in done.message
    assert "riskreg-" not in done.message
    assert "attachments" not in done.message
    assert not Evidence.objects.filter(assessment_job=done).exists()
