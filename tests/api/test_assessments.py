"""Assessment jobs over the API: upload checks before anything is queued, idempotency,
cancel, and the lease discipline that makes results exactly once."""

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from evaluations.models import AssessmentJob, Evidence, JobStatus
from evaluations.services import assessments as services
from riskreg.organisations.roles import Role
from tests.api.conftest import World
from tests.api.helpers import (
    assert_envelope,
    assert_nothing_written,
    attachment_files,
    db_snapshot,
)

CSV = (
    "label,prediction,score,sex,split\n"
    + "".join(
        f"{i % 2},{(i // 2) % 2},{(i % 10) / 10:.1f},{'f' if i % 3 else 'm'},test\n"
        for i in range(200)
    )
).encode()
MAPPING = {"label": "label", "prediction": "prediction", "score": "score", "sensitive": ["sex"]}


def upload(content: bytes = CSV, name: str = "predictions.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def form(**changes: Any) -> dict[str, Any]:
    body = {
        "file": upload(),
        "system": "credit-scoring",
        "model_version": "1.0",
        "kinds": ["fairness", "calibration"],
        "mapping": json.dumps(MAPPING),
        "options": json.dumps({"n_boot": 50}),
    }
    body.update(changes)
    return body


def post(client: APIClient, key: str | None = None, **changes: Any) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/assessments/", form(**changes), format="multipart", **headers)


@pytest.fixture
def limits(settings: Any) -> Any:
    """pytest-django's settings fixture, under a name that does not hide django.conf's."""
    return settings


@pytest.fixture
def engineer(world: World, api_for: Any) -> APIClient:
    return api_for(Role.ENGINEER)


def test_engineer_uploads_predictions_and_gets_202_with_the_job_url(
    engineer: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(engineer)

    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == job["url"]
    assert (job["status"], job["kinds"], job["deliveries"]) == (
        "queued",
        ["calibration", "fairness"],
        0,
    )
    assert len(callbacks) == 1  # enqueued only once the transaction commits
    assert engineer.get(job["url"]).json()["id"] == job["id"]


def test_a_parquet_file_is_accepted_too(engineer: APIClient) -> None:
    table = pa.table({"label": [0, 1] * 50, "prediction": [1, 1] * 50, "sex": ["f", "m"] * 50})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    response = post(
        engineer,
        file=upload(sink.getvalue(), "predictions.parquet"),
        kinds=["fairness"],
        mapping=json.dumps({"label": "label", "prediction": "prediction", "sensitive": ["sex"]}),
    )
    assert response.status_code == 202, response.content


def test_same_idempotency_key_and_file_returns_the_original_job(engineer: APIClient) -> None:
    first = post(engineer, key="nightly-17")
    again = post(engineer, key="nightly-17")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert AssessmentJob.objects.filter(uid=first.json()["id"]).count() == 1
    assert AssessmentJob.objects.filter(idempotency_key="nightly-17").count() == 1


def test_same_idempotency_key_with_another_file_is_a_conflict(engineer: APIClient) -> None:
    post(engineer, key="nightly-18")
    before = db_snapshot()
    other = CSV.replace(b"test\n", b"train\n", 1)
    response = post(engineer, key="nightly-18", file=upload(other))
    assert_envelope(response, 409, "idempotency_conflict")
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        (
            {"mapping": json.dumps({**MAPPING, "label": "outcome"})},
            400,
            "validation_error",
            "mapping.label",
        ),
        (
            {"mapping": json.dumps({"label": "label"}), "kinds": ["fairness"]},
            400,
            "validation_error",
            "mapping.prediction",
        ),
        (
            {"mapping": json.dumps({"label": "label"}), "kinds": ["calibration"]},
            400,
            "validation_error",
            "mapping.score",
        ),
        ({"mapping": "{not json"}, 400, "malformed_request", None),
        ({"mapping": "[1]"}, 400, "validation_error", "mapping"),
        ({"options": json.dumps({"bins": 0})}, 400, "validation_error", "options.bins"),
        ({"kinds": ["toxicity"]}, 400, "validation_error", "kinds.0"),
        ({"file": upload(name="predictions.xlsx")}, 415, "attachment_type_refused", None),
        ({"file": upload(b"PAR1 not really csv", "p.csv")}, 415, "attachment_type_refused", None),
        ({"file": upload(CSV, "p.parquet")}, 415, "attachment_type_refused", None),
        ({"file": upload(b"a,a\n1,2\n")}, 400, "validation_error", "file"),
        ({"model_version": "9.9"}, 404, "not_found", None),
        ({"system": "turnstile"}, 404, "not_found", None),
    ],
    ids=[
        "unknown label column",
        "fairness without predictions",
        "calibration without scores",
        "mapping not JSON",
        "mapping not an object",
        "zero bins",
        "unknown kind",
        "not CSV or Parquet",
        "Parquet magic in a .csv",
        "CSV named .parquet",
        "duplicate column names",
        "unknown model version",
        "system of globex",
    ],
)
def test_bad_uploads_are_refused_before_anything_is_queued(
    changes: dict[str, Any], status: int, code: str, field: str | None, engineer: APIClient
) -> None:
    before, stored = db_snapshot(), attachment_files()
    jobs = AssessmentJob.objects.count()

    response = post(engineer, **changes)

    found = assert_envelope(response, status, code)
    if field is not None:
        assert field in found["extra"].get("fields", {}), found
    assert "attachments/" not in found["message"]  # no server path in the answer
    assert_nothing_written(before)
    assert AssessmentJob.objects.count() == jobs
    assert attachment_files() == stored


def test_a_file_over_the_limit_is_refused_with_413(engineer: APIClient, limits: Any) -> None:
    limits.RISKREG_ASSESSMENT_MAX_BYTES = 100
    before = db_snapshot()
    assert_envelope(post(engineer), 413, "attachment_too_large")
    assert_nothing_written(before)


def test_auditor_may_read_but_not_upload(world: World, api_for: Any) -> None:
    auditor = api_for(Role.AUDITOR)
    assert_envelope(post(auditor), 403, "permission_denied")
    assert auditor.get("/api/v1/assessments/").status_code == 200


def test_a_queued_job_can_be_cancelled_once(engineer: APIClient) -> None:
    url = post(engineer).json()["url"]
    response = engineer.post(url + "cancel/")
    assert response.json()["status"] == "cancelled"
    assert_envelope(engineer.post(url + "cancel/"), 409, "job_finished")


# --- the lease ------------------------------------------------------------------------------


@pytest.fixture
def job(engineer: APIClient) -> AssessmentJob:
    uid = post(engineer).json()["id"]
    return AssessmentJob.objects.get(uid=uid)


def test_a_claimed_job_is_not_run_by_a_second_delivery_while_its_lease_holds(
    job: AssessmentJob,
) -> None:
    assert services.assessment_job_claim(job_id=job.pk, worker="w1") is not None
    assert services.assessment_job_claim(job_id=job.pk, worker="w2") is None
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.deliveries) == ("running", "w1", 1)


def test_an_expired_lease_lets_another_worker_take_over_and_the_first_cannot_finish(
    job: AssessmentJob,
) -> None:
    services.assessment_job_claim(job_id=job.pk, worker="w1")
    AssessmentJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.assessment_job_claim(job_id=job.pk, worker="w2") is not None
    assert services.assessment_job_progress(job_id=job.pk, worker="w1", progress=0.5) is False
    assert services.assessment_job_finish(job_id=job.pk, worker="w1", results={}) is None
    assert services.assessment_job_progress(job_id=job.pk, worker="w2", progress=0.5) is True


def test_a_job_delivered_too_often_ends_failed(job: AssessmentJob, limits: Any) -> None:
    limits.RISKREG_ASSESSMENT_MAX_DELIVERIES = 2
    for worker in ("w1", "w2"):
        services.assessment_job_claim(job_id=job.pk, worker=worker)
        AssessmentJob.objects.filter(pk=job.pk).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
    assert services.assessment_job_claim(job_id=job.pk, worker="w3") is None
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "too_many_deliveries")


def test_the_sweep_re_enqueues_expired_leases_and_stale_queued_jobs(
    job: AssessmentJob, django_capture_on_commit_callbacks: Any
) -> None:
    services.assessment_job_claim(job_id=job.pk, worker="w1")
    AssessmentJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.assessment_jobs_sweep() == [job.pk]
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.assessment_jobs_sweep() == [job.pk]  # still expired: again
    services.assessment_job_fail(job_id=job.pk, code="invalid_input", message="bad")
    assert services.assessment_jobs_sweep() == []


def test_each_kind_is_written_once_per_job_even_when_finished_twice(
    job: AssessmentJob, world: World
) -> None:
    example = Path(settings.BASE_DIR) / "fixtures" / "evidence" / "calibration.json"
    metrics = json.loads(example.read_text())["metrics"]
    services.assessment_job_claim(job_id=job.pk, worker="w1")
    services.assessment_job_finish(job_id=job.pk, worker="w1", results={"calibration": metrics})
    job.refresh_from_db()
    assert (job.status, job.progress) == (JobStatus.SUCCEEDED, 1.0)
    [item] = Evidence.objects.filter(assessment_job=job)
    assert (item.tool_name, item.kind, item.submitter_label) == (
        "riskreg",
        "calibration",
        "riskreg",
    )
    # A late second delivery that still thinks it holds the lease changes nothing.
    assert services.assessment_job_finish(job_id=job.pk, worker="w1", results={}) is None
    assert Evidence.objects.filter(assessment_job=job).count() == 1


# --- running a job in-process (the worker's code path, without the broker) ---------------


def run(job: AssessmentJob, worker: str = "w1") -> AssessmentJob:
    services.assessment_run(job_id=job.pk, worker=worker)
    job.refresh_from_db()
    return job


def test_a_job_runs_to_success_with_one_evidence_item_per_kind(job: AssessmentJob) -> None:
    from evaluations.assessments.calibration import calibration_report
    from evaluations.assessments.fairness import fairness_report

    done = run(job)

    assert (done.status, done.error_code, done.progress) == ("succeeded", "", 1.0)
    items = {e.kind: e for e in Evidence.objects.filter(assessment_job=job)}
    assert sorted(items) == ["calibration", "fairness"]
    assert items["fairness"].tool_name == "riskreg"
    rows = [line.split(",") for line in CSV.decode().splitlines()[1:]]
    labels = [int(r[0]) for r in rows]
    expected = fairness_report(
        labels,
        [int(r[1]) for r in rows],
        sensitive_features={"sex": [r[3] for r in rows]},
        n_boot=50,
    ).to_metrics()
    assert items["fairness"].document["metrics"] == json.loads(json.dumps(expected))
    calibration = calibration_report(
        labels,
        [float(r[2]) for r in rows],
        sensitive_features={"sex": [r[3] for r in rows]},
        n_boot=50,
    ).to_metrics()
    assert (
        items["calibration"].document["metrics"]["brier_score_loss"]
        == json.loads(json.dumps(calibration))["brier_score_loss"]
    )
    assert run(job).status == "succeeded"  # a late duplicate delivery changes nothing
    assert Evidence.objects.filter(assessment_job=job).count() == 2


def test_values_the_engines_refuse_end_the_job_failed_with_a_reason(engineer: APIClient) -> None:
    bad = CSV.replace(b"0.5,", b"1.5,")  # scores outside [0, 1]
    uid = post(engineer, file=upload(bad)).json()["id"]

    done = run(AssessmentJob.objects.get(uid=uid))

    assert (done.status, done.error_code) == ("failed", "invalid_input")
    assert "1.5" in done.message or "[0, 1]" in done.message
    assert "attachments" not in done.message
    assert not Evidence.objects.filter(assessment_job=done).exists()


# The memory budget is tested where it is deterministic: on a fresh worker process
# (tests/integration/test_assessment_workers.py) and in tests/unit/test_memlimit.py. In this
# long-lived test process, memory freed by earlier tests stays mapped and absorbs a job.


def test_a_cancelled_job_is_not_run(job: AssessmentJob) -> None:
    services.assessment_job_cancel(actor=_system_actor(job), job=job)
    assert run(job).status == "cancelled"
    assert not Evidence.objects.filter(assessment_job=job).exists()


def _system_actor(job: AssessmentJob) -> Any:
    from riskreg.organisations.actor import Actor

    return Actor.system(job.organization_id)


def test_data_quality_needs_a_dataset_of_the_organisation(engineer: APIClient) -> None:
    response = post(engineer, kinds=["data_quality"])
    assert_envelope(response, 400, "validation_error")
    response = post(engineer, kinds=["data_quality"], options=json.dumps({"dataset": "nope"}))
    assert_envelope(response, 400, "foreign_reference")
    ok = post(engineer, kinds=["data_quality"], options=json.dumps({"dataset": "loans-2023"}))
    assert ok.status_code == 202
    done = run(AssessmentJob.objects.get(uid=ok.json()["id"]))
    assert done.status == "succeeded", done.message
    [item] = Evidence.objects.filter(assessment_job=done)
    assert item.document["metrics"]["datasets"][0]["slug"] == "loans-2023"
