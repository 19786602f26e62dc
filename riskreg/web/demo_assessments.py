"""The demo's computed evidence: an assessment of credit scoring 4.3.0 from its predictions.

The CI pipeline uploads the hold-out predictions (fixtures/demo/credit-predictions.csv,
written by scripts/demo_predictions.py) through the same service as the API, and
seed_demo runs the job in-process, as a worker would, so that the demo has computed
evidence before any worker starts. Idempotent: the job is found by its Idempotency-Key
first, and run only while it has not finished.
"""

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations.models import AssessmentJob
from evaluations.selectors import assessments as assessment_selectors
from evaluations.services import assessments as assessment_services
from riskreg.inventory import selectors as inventory
from riskreg.organisations import selectors as org_selectors
from riskreg.organisations.actor import Actor

PREDICTIONS = settings.BASE_DIR / "fixtures" / "demo" / "credit-predictions.csv"
KEY = "demo-assessment-credit-4.3.0-holdout"
KINDS = ["fairness", "calibration", "data_quality"]
MAPPING = {
    "label": "label",
    "prediction": "prediction",
    "score": "score",
    "sensitive": ["sex", "age_band"],
    "split": "split",
}
# Every option spelled out, as the API stores them after filling in its defaults.
OPTIONS = {
    "dataset": "credit-holdout-2025",
    "bins": 10,
    "strategy": "uniform",
    "n_boot": 1000,
    "seed": 0,
    "min_group_size": 30,
    "level": 0.95,
}


def _ci(actor: Actor) -> Actor:
    """The CI service account, acting as its tokens do (limited to credit scoring)."""
    token = org_selectors.token_list(actor=actor).filter(service_account__slug="ci").first()
    assert token is not None  # seed_demo issued it before
    return org_selectors.actor_for_token(token)


def _queued(ci: Actor) -> AssessmentJob:
    system = inventory.system_get(actor=ci, slug="credit-scoring")
    version = inventory.model_version_get(actor=ci, system=system, version="4.3.0")
    upload = SimpleUploadedFile(PREDICTIONS.name, PREDICTIONS.read_bytes(), "text/csv")
    created = assessment_services.assessment_job_create(
        actor=ci,
        system=system,
        model_version=version,
        upload=upload,
        kinds=KINDS,
        mapping=MAPPING,
        options=OPTIONS,
        idempotency_key=KEY,
    )
    return created.job


def seed_assessments(actor: Actor) -> None:
    """Queue the hold-out assessment of credit scoring 4.3.0 once, and run it to the end."""
    ci = _ci(actor)
    job = assessment_selectors.assessment_job_list(actor=ci).filter(idempotency_key=KEY).first()
    if job is None:
        job = _queued(ci)
    if not job.done:
        assessment_services.assessment_run(job_id=job.pk, worker="seed_demo")
