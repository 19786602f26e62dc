"""Uploading a model from a model version's page (no browser): the form, its refusals on
the page with the API's status, and who may post it."""

import json
import pickle  # noqa: TID251 - builds the malicious payload this test must see refused
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations.assessments.modelfiles.architecture import weights_of
from evaluations.models import AssessmentJob, Evidence
from evaluations.services import assessments as services
from riskreg.organisations.roles import Role
from tests.api.helpers import assert_nothing_written, attachment_files, db_snapshot
from tests.api.test_assessment_pages import VERSION_PAGE, Jobs, queue_jobs
from tests.api.test_evidence_pages import signed_in
from tests.api.test_model_assessments import _Canary, evaluation_csv, network, onnx_bytes
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

UPLOAD = VERSION_PAGE + "model-assessments/"


@pytest.fixture
def jobs(acme: Tenant, globex: Tenant) -> Jobs:
    return queue_jobs(acme, globex)


def form(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": SimpleUploadedFile("edge.onnx", onnx_bytes()),
        "file": SimpleUploadedFile("eval.csv", evaluation_csv(), content_type="text/csv"),
        "kind": "robustness",
        "label": "label",
        "features": "",
        "low": "0",
        "high": "1",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def new_job(acme: Tenant, jobs: Jobs) -> AssessmentJob:
    return AssessmentJob.objects.exclude(
        pk__in=[jobs.queued.pk, jobs.succeeded.pk]
    ).get(organization=acme.org)  # fmt: skip


def test_engineer_sees_the_model_form_and_auditor_does_not(acme: Tenant, jobs: Jobs) -> None:
    engineer = signed_in(acme, Role.ENGINEER).get(VERSION_PAGE).content.decode()
    auditor = signed_in(acme, Role.AUDITOR).get(VERSION_PAGE).content.decode()

    assert UPLOAD in engineer
    assert 'accept=".onnx,.safetensors"' in engineer
    ids = re.findall(r'\bid="([^"]+)"', engineer)
    assert len(ids) == len(set(ids)), "two forms on one page must not share element ids"
    assert '<label for="model-file"' in engineer
    assert UPLOAD not in auditor


def test_engineer_uploads_an_onnx_model_and_its_job_page_names_it(acme: Tenant, jobs: Jobs) -> None:
    client = signed_in(acme, Role.ENGINEER)

    response = client.post(UPLOAD, form())

    assert response.status_code == 302
    job = new_job(acme, jobs)
    assert response["Location"] == f"/assessments/{job.uid}/"
    assert (job.kinds, job.model_format, job.options) == (
        ["robustness"], "onnx", {"input_bounds": [0.0, 1.0]},
    )  # fmt: skip
    services.assessment_run(job_id=job.pk, worker="test")
    page = client.get(f"/assessments/{job.uid}/").content.decode()
    assert "edge.onnx (onnx)" in page
    item = Evidence.objects.get(assessment_job=job)
    assert f"/evidence/{item.uid}/" in page


def test_safetensors_weights_with_their_architecture_are_accepted(acme: Tenant, jobs: Jobs) -> None:
    module, architecture = network()
    client = signed_in(acme, Role.ENGINEER)

    response = client.post(
        UPLOAD,
        form(
            model=SimpleUploadedFile("edge.safetensors", weights_of(module)),
            architecture=SimpleUploadedFile("edge.json", json.dumps(architecture).encode()),
            kind="efficiency",
        ),
    )

    assert response.status_code == 302
    assert new_job(acme, jobs).model_format == "safetensors"


@pytest.mark.parametrize(
    ("changes", "status", "shown"),
    [
        ({"model": None}, 400, "This field is required."),
        ({"kind": "fairness"}, 400, "Select a valid choice."),
        ({"low": "0", "high": ""}, 400, "Give both input bounds, or neither."),
        ({"file": SimpleUploadedFile("eval.csv", evaluation_csv(features=4))}, 400,
         "evaluation file has 4 feature columns"),
        ({"label": "nope"}, 400, "nope"),
    ],
    ids=["no model", "a predictions kind", "one bound", "narrow file", "unknown label column"],
)  # fmt: skip
def test_engineer_sees_each_refusal_on_the_form_and_nothing_is_written(
    acme: Tenant, jobs: Jobs, changes: dict[str, Any], status: int, shown: str
) -> None:
    client = signed_in(acme, Role.ENGINEER)
    before, stored = db_snapshot(), attachment_files()

    response = client.post(UPLOAD, form(**changes))

    assert response.status_code == status
    assert shown in response.content.decode()
    assert_nothing_written(before)
    assert attachment_files() == stored


def test_a_pickle_posted_as_the_model_is_refused_on_the_form_and_never_runs(
    acme: Tenant, jobs: Jobs, tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    client = signed_in(acme, Role.ENGINEER)
    before = db_snapshot()

    response = client.post(
        UPLOAD, form(model=SimpleUploadedFile("edge.onnx", pickle.dumps(_Canary(canary))))
    )

    assert response.status_code == 400
    assert "Python pickle" in response.content.decode()
    assert not canary.exists()
    assert_nothing_written(before)


def test_auditor_posting_a_model_gets_403_and_foreign_versions_404(
    acme: Tenant, jobs: Jobs
) -> None:
    before = db_snapshot()

    auditor = signed_in(acme, Role.AUDITOR).post(UPLOAD, form())
    foreign = signed_in(acme, Role.ENGINEER).post(
        "/systems/turnstile/model-versions/7.3/model-assessments/", form()
    )

    assert auditor.status_code == 403
    assert foreign.status_code == 404
    assert_nothing_written(before)
