"""The model version and assessment pages, through Django's test client (no browser).

The pages call the same service as the API, so these tests check what the pages add:
who sees the upload form, refusals shown on the form instead of a 500, the page that
reloads itself only while its job is unfinished, and cancelling from the page.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations.models import AssessmentJob, Evidence
from evaluations.services import assessments as services
from riskreg.inventory import selectors as inventory_selectors
from riskreg.inventory import services as inventory
from riskreg.organisations.roles import Role, allows
from tests.api.helpers import assert_nothing_written, attachment_files, db_snapshot
from tests.api.test_evidence_pages import READERS, signed_in
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

CSV = (
    "label,prediction,score,sex,age_band,split\n"
    + "".join(
        f"{i % 2},{(i // 2) % 2},{(i % 10) / 10:.1f},{'f' if i % 3 else 'm'},"
        f"{'18-24' if i % 4 else '25-39'},{'test' if i % 5 else 'train'}\n"
        for i in range(200)
    )
).encode()
VERSION_PAGE = "/systems/credit-scoring/model-versions/1.0/"
UPLOAD = VERSION_PAGE + "assessments/"
REFRESH = '<meta http-equiv="refresh" content="2">'


@dataclass(frozen=True)
class Jobs:
    queued: AssessmentJob
    succeeded: AssessmentJob
    foreign: AssessmentJob


def _queue(tenant: Tenant, system: str, version: str, **changes: Any) -> AssessmentJob:
    actor = tenant.actor_for(Role.ENGINEER)
    found = inventory_selectors.system_get(actor=actor, slug=system)
    given: dict[str, Any] = {
        "actor": actor,
        "system": found,
        "model_version": inventory_selectors.model_version_get(
            actor=actor, system=found, version=version
        ),
        "upload": SimpleUploadedFile("predictions.csv", CSV, content_type="text/csv"),
        "kinds": ["fairness", "calibration"],
        "mapping": {"label": "label", "prediction": "prediction", "score": "score"}
        | {"sensitive": ["sex"]},
        "options": {"n_boot": 20},
    }
    return services.assessment_job_create(**(given | changes)).job


@pytest.fixture
def jobs(acme: Tenant, globex: Tenant) -> Jobs:
    return queue_jobs(acme, globex)


def queue_jobs(acme: Tenant, globex: Tenant) -> Jobs:
    """credit-scoring 1.0 in acme (one job queued, one succeeded), turnstile 7.3 in globex."""
    inventory.dataset_create(actor=acme.actor, slug="loans-2023", name="Loan applications 2023")
    for tenant, slug, version, owner in (
        (acme, "credit-scoring", "1.0", "engineer"),
        (globex, "turnstile", "7.3", "globex-engineer"),
    ):
        system = inventory.system_create(
            actor=tenant.actor, slug=slug, name=slug.title(), owner=owner
        )
        inventory.model_version_create(actor=tenant.actor, system=system, version=version)
    succeeded = _queue(acme, "credit-scoring", "1.0", options={"n_boot": 10})
    services.assessment_run(job_id=succeeded.pk, worker="test")
    succeeded.refresh_from_db()
    return Jobs(
        queued=_queue(acme, "credit-scoring", "1.0"),
        succeeded=succeeded,
        foreign=_queue(globex, "turnstile", "7.3"),
    )


def form(**changes: Any) -> dict[str, Any]:
    """What the upload form posts: a file, the mapping field by field, the kinds ticked."""
    body: dict[str, Any] = {
        "file": SimpleUploadedFile("scores.csv", CSV, content_type="text/csv"),
        "label": "label",
        "prediction": "prediction",
        "score": "score",
        "sensitive": "sex, age_band",
        "split": "",
        "pos_label": "",
        "kinds": ["fairness", "calibration"],
        "dataset": "",
        "bins": "10",
        "strategy": "uniform",
        "n_boot": "50",
    }
    body.update(changes)
    return body


@pytest.mark.parametrize("role", READERS)
def test_every_reader_opens_the_version_the_job_and_the_list_pages(
    acme: Tenant, jobs: Jobs, role: Role
) -> None:
    client = signed_in(acme, role)
    for path in (
        "/systems/credit-scoring/",
        VERSION_PAGE,
        "/assessments/",
        "/assessments/?status=queued",
        f"/assessments/{jobs.queued.uid}/",
        f"/assessments/{jobs.succeeded.uid}/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response["Content-Security-Policy"]
    version = client.get(VERSION_PAGE).content.decode()
    may_upload = allows(role, "assessment.create")
    assert ('enctype="multipart/form-data"' in version) is may_upload
    assert f"/assessments/{jobs.queued.uid}/" in version
    assert 'href="/assessments/"' in version  # the nav entry, and the link below the jobs
    assert VERSION_PAGE in client.get("/systems/credit-scoring/").content.decode()


def test_auditor_sees_no_upload_form_or_cancel_button_and_posting_them_is_403(
    acme: Tenant, jobs: Jobs
) -> None:
    client = signed_in(acme, Role.AUDITOR)
    assert 'name="file"' not in client.get(VERSION_PAGE).content.decode()
    job_page = client.get(f"/assessments/{jobs.queued.uid}/").content.decode()
    assert "Cancel assessment" not in job_page
    before, stored = db_snapshot(), attachment_files()

    assert client.post(UPLOAD, form()).status_code == 403
    assert client.post(f"/assessments/{jobs.queued.uid}/cancel/").status_code == 403

    assert_nothing_written(before)
    assert attachment_files() == stored


def test_engineer_gets_404_for_another_organisations_job_and_model_version(
    acme: Tenant, jobs: Jobs
) -> None:
    client = signed_in(acme, Role.ENGINEER)
    before = db_snapshot()
    for path in (
        f"/assessments/{jobs.foreign.uid}/",
        "/assessments/00000000-0000-4000-8000-000000000000/",
        "/systems/turnstile/model-versions/7.3/",
        "/systems/credit-scoring/model-versions/9.9/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/assessments/{jobs.foreign.uid}/cancel/").status_code == 404
    foreign_upload = client.post("/systems/turnstile/model-versions/7.3/assessments/", form())
    assert foreign_upload.status_code == 404
    assert_nothing_written(before)
    assert str(jobs.foreign.uid) not in client.get("/assessments/").content.decode()
    jobs.foreign.refresh_from_db()
    assert jobs.foreign.status == "queued"


def test_engineer_uploads_predictions_and_lands_on_the_queued_job_page(
    acme: Tenant, jobs: Jobs, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(acme, Role.ENGINEER)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(UPLOAD, form())

    assert response.status_code == 302
    job = AssessmentJob.objects.exclude(pk__in=[jobs.queued.pk, jobs.succeeded.pk]).get(
        organization=acme.org
    )
    assert response["Location"] == f"/assessments/{job.uid}/"
    assert len(callbacks) == 1  # enqueued once the transaction commits, as from the API
    assert (job.kinds, job.input_name, job.submitter_label) == (
        ["calibration", "fairness"],
        "scores.csv",
        "engineer",
    )
    assert job.mapping == {
        "label": "label",
        "prediction": "prediction",
        "score": "score",
        "sensitive": ["sex", "age_band"],
    }
    # The API's defaults filled in, so the page queues the job the API would.
    assert job.options == {
        "bins": 10,
        "strategy": "uniform",
        "n_boot": 50,
        "seed": 0,
        "min_group_size": 30,
        "level": 0.95,
    }
    body = client.get(response["Location"]).content.decode()
    assert "The predictions file is uploaded and its assessment is queued." in body
    assert "status--queued" in body
    assert '<progress id="job-progress" max="100" value="0">' in body
    assert job.input.sha256 in body
    assert "<code>sex, age_band</code>" in body


@pytest.mark.parametrize(
    ("changes", "status", "field", "reason"),
    [
        ({"label": "outcome"}, 400, "label", "no column &#x27;outcome&#x27; in the file"),
        ({"prediction": ""}, 400, "prediction", "is required for fairness"),
        ({"sensitive": " , "}, 400, "sensitive", "is required for fairness"),
        ({"kinds": ["data_quality"]}, 400, "dataset", "is required for data_quality"),
        ({"kinds": []}, 400, "kinds", "This field is required."),
        ({"bins": "0"}, 400, "bins", "greater than or equal to 1"),
        (
            {"file": SimpleUploadedFile("scores.xlsx", CSV)},
            415,
            "file",
            "must be a .csv or .parquet file",
        ),
        (
            {"file": SimpleUploadedFile("scores.parquet", CSV)},
            415,
            "file",
            "is not a Parquet file",
        ),
        (
            {"file": SimpleUploadedFile("scores.csv", b"a,a\n1,2\n")},
            400,
            "file",
            "named more than once",
        ),
    ],
    ids=[
        "unknown label column",
        "fairness without predictions",
        "fairness without sensitive columns",
        "data quality without a dataset",
        "nothing to compute",
        "zero bins",
        "a spreadsheet",
        "CSV named .parquet",
        "duplicate column names",
    ],
)
def test_engineer_sees_each_refusal_on_the_form_and_nothing_is_written(
    acme: Tenant, jobs: Jobs, changes: dict[str, Any], status: int, field: str, reason: str
) -> None:
    client = signed_in(acme, Role.ENGINEER)
    before, stored = db_snapshot(), attachment_files()

    response = client.post(UPLOAD, form(**changes))

    assert response.status_code == status
    body = response.content.decode()
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert reason in body
    assert 'role="alert"' in body
    assert "attachments/" not in body  # no server path in the answer
    assert_nothing_written(before)
    assert attachment_files() == stored


def test_engineer_uploading_a_file_over_the_limit_sees_413_on_the_form(
    acme: Tenant, jobs: Jobs, settings: Any
) -> None:
    settings.RISKREG_ASSESSMENT_MAX_BYTES = 100
    before = db_snapshot()
    response = signed_in(acme, Role.ENGINEER).post(UPLOAD, form())
    assert response.status_code == 413
    assert "the limit is 100" in response.content.decode()
    assert_nothing_written(before)


def test_engineer_asks_data_quality_of_an_inventory_dataset(acme: Tenant, jobs: Jobs) -> None:
    client = signed_in(acme, Role.ENGINEER)
    page = client.get(VERSION_PAGE).content.decode()
    assert '<option value="loans-2023">Loan applications 2023</option>' in page
    response = client.post(
        UPLOAD, form(kinds=["data_quality"], dataset="loans-2023", split="split")
    )
    assert response.status_code == 302
    job = AssessmentJob.objects.get(uid=response["Location"].split("/")[2])
    assert job.options["dataset"] == "loans-2023"
    assert job.mapping["split"] == "split"


def test_a_queued_job_page_reloads_itself_and_a_finished_one_does_not(
    acme: Tenant, jobs: Jobs
) -> None:
    client = signed_in(acme, Role.AUDITOR)
    queued = client.get(f"/assessments/{jobs.queued.uid}/").content.decode()
    assert REFRESH in queued
    assert queued.index(REFRESH) < queued.index("</head>")
    assert "None yet" in queued
    off = client.get(f"/assessments/{jobs.queued.uid}/?refresh=off").content.decode()
    assert "http-equiv" not in off
    assert "Automatic reloading is off" in off

    done = client.get(f"/assessments/{jobs.succeeded.uid}/").content.decode()
    assert "http-equiv" not in done
    assert "status--succeeded" in done
    assert '<progress id="job-progress" max="100" value="100">' in done
    items = Evidence.objects.filter(assessment_job=jobs.succeeded)
    assert sorted(items.values_list("kind", flat=True)) == ["calibration", "fairness"]
    for item in items:
        assert f'href="/evidence/{item.uid}/"' in done
        assert client.get(f"/evidence/{item.uid}/").status_code == 200


def test_engineer_cancels_a_queued_job_and_a_second_cancel_is_an_error_message(
    acme: Tenant, jobs: Jobs
) -> None:
    client = signed_in(acme, Role.ENGINEER)
    path = f"/assessments/{jobs.queued.uid}/"
    assert "Cancel assessment" in client.get(path).content.decode()

    first = client.post(path + "cancel/", follow=True)

    assert first.redirect_chain == [(path, 302)]
    body = first.content.decode()
    assert "The assessment is cancelled." in body
    assert "status--cancelled" in body
    assert "Cancel assessment" not in body
    assert "http-equiv" not in body
    jobs.queued.refresh_from_db()
    assert jobs.queued.status == "cancelled"

    second = client.post(path + "cancel/", follow=True)

    assert second.status_code == 200
    assert "message--error" in second.content.decode()
    assert "already cancelled" in second.content.decode()
    jobs.queued.refresh_from_db()
    assert jobs.queued.message == "Cancelled."


def test_officer_filters_the_jobs_list_by_status_newest_first(acme: Tenant, jobs: Jobs) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    everything = client.get("/assessments/").content.decode()
    newest, older = f"/assessments/{jobs.queued.uid}/", f"/assessments/{jobs.succeeded.uid}/"
    assert everything.index(newest) < everything.index(older)
    assert 'aria-current="page">Assessments</a>' in everything
    finished = client.get("/assessments/?status=succeeded").content.decode()
    assert older in finished
    assert newest not in finished
    odd = client.get("/assessments/?status=%3Cscript%3E").content.decode()
    assert newest in odd  # an unknown status filters nothing
    assert older in odd
