"""Verdicts decided by a real worker: evidence submitted here is decided there, and its
verdict_update goes from pending to done with the subcategories it changed; an assessment
job's evidence is decided once the job finishes."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from controls.models import Verdict, VerdictUpdate
from controls.services import catalog_load
from evaluations.services import assessments as assessment_services
from evaluations.services import evidence as evidence_services
from riskreg.inventory import services as inventory
from riskreg.organisations.actor import Actor
from riskreg.organisations.services import organization_create
from tests.api.posture_support import fairness
from tests.integration.conftest import Worker

pytestmark = pytest.mark.integration


def _organisation() -> tuple[Actor, Any, Any]:
    catalog_load()
    org = organization_create(name="Verdicts", slug=f"verdicts-{uuid.uuid4().hex[:8]}")
    actor = Actor.system(org.pk)
    inventory.dataset_create(actor=actor, slug="credit-holdout-2025", name="Holdout")
    system = inventory.system_create(actor=actor, slug="credit-scoring", name="Credit scoring")
    version = inventory.model_version_create(
        actor=actor, system=system, version="1.0", status="production"
    )
    return actor, system, version


def _state(update: VerdictUpdate) -> str:
    update.refresh_from_db()
    return update.state


def test_a_worker_decides_submitted_evidence_and_reports_what_changed(
    redis_broker: str, start_worker: Callable[..., Worker]
) -> None:
    actor, system, _ = _organisation()
    worker = start_worker(redis_broker)

    item = evidence_services.evidence_submit(
        actor=actor,
        document=fairness(ratio=0.6),
        provenance=evidence_services.Provenance(tool_name="pytest"),
    ).items[0]
    update = VerdictUpdate.objects.get(evidence=item)
    worker.wait_for("verdict update done", lambda: _state(update) == "done")

    assert {
        "system": "credit-scoring",
        "subcategory": "MEASURE 2.11",
        "status": "not_met",
        "previous": "not_assessed",
        "regression": False,
    } in update.affected
    stored = Verdict.objects.get(scope=f"sys:{system.pk}", subcategory="MEASURE 2.11")
    assert stored.evidence == [str(item.uid)]


def test_an_assessment_jobs_verdict_update_is_done_after_the_worker_finishes_it(
    redis_broker: str, start_worker: Callable[..., Worker]
) -> None:
    from tests.integration.test_assessment_workers import job_env

    actor, system, version = _organisation()
    worker = start_worker(redis_broker, **job_env())
    rows = "label,prediction,sex\n" + "".join(
        f"{i % 2},{(i // 3) % 2},{'f' if i % 3 else 'm'}\n" for i in range(600)
    )
    job = assessment_services.assessment_job_create(
        actor=actor,
        system=system,
        model_version=version,
        upload=SimpleUploadedFile("p.csv", rows.encode(), content_type="text/csv"),
        kinds=["fairness"],
        mapping={"label": "label", "prediction": "prediction", "sensitive": ["sex"]},
        options={"n_boot": 0},
    ).job

    worker.wait_for("job verdict update", lambda: VerdictUpdate.objects.filter(job=job).exists())
    update = VerdictUpdate.objects.get(job=job)
    worker.wait_for("verdict update done", lambda: _state(update) == "done")

    changed = {a["subcategory"] for a in update.affected}
    assert "MEASURE 2.11" in changed  # the job's fairness item now decides it
    assert Verdict.objects.get(scope=f"sys:{system.pk}", subcategory="MEASURE 2.11").evidence
