"""Fixtures for the OpenAPI contract tests: seeded objects and one bearer token per role.

The seeded objects have fixed identifiers (see SEED) so that the schema examples the
tests add to each path parameter name real objects; detail, update and transition
operations then reach a 2xx and not only 404.
"""

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from controls.services import catalog_load
from evaluations.models import AssessmentJob, Evidence
from evaluations.services import assessments as assessment_services
from evaluations.services import evidence as evidence_services
from evaluations.services import incidents as incident_services
from riskreg.inventory import selectors as inventory_selectors
from riskreg.inventory import services as inventory
from riskreg.notifications.models import Webhook
from riskreg.notifications.services import webhooks
from riskreg.organisations import services as orgs
from riskreg.organisations.models import ApiToken
from riskreg.organisations.roles import Role
from riskreg.risks.services import register as risks
from riskreg.risks.services import scoring, treatment
from tests.conftest import Tenant, make_tenant, module_transaction

# Identifiers of the objects every contract test finds in its organisation.
SEED = {
    "system": "seed-system",
    "version": "v1",
    "dataset": "seed-dataset",
    "risk": "RSK-001",
    "webhook": "5eed0000-0000-4000-8000-000000000003",
    "report": "5eed0000-0000-4000-8000-000000000004",
    "open_risk": "RSK-002",  # open, scored, owned by the engineer, with action A1
    "action": "A1",
    "subcategory": "GOVERN 1.1",
    "token": "rr_seedtok",  # the engineer's token "seed", under a fixed prefix
    "member": "engineer",
    "evidence": "5eed0000-0000-4000-8000-000000000001",
    "assessment": "5eed0000-0000-4000-8000-000000000002",
    "incident": "INC-001",
    "kind": "fairness",
}
SEED_POLICY = b"%PDF-1.7\n% the seeded policy\n%%EOF\n"
SEED_PREDICTIONS = "label,prediction,score,sex\n" + "".join(
    f"{i % 2},{(i // 3) % 2},{(i % 10) / 10:.1f},{'f' if i % 3 else 'm'}\n" for i in range(60)
)
SEED["attachment"] = hashlib.sha256(SEED_POLICY).hexdigest()

# operation id -> role -> statuses seen; filled by the generated tests, read at the end.
STATUSES: defaultdict[str, defaultdict[str, set[int]]] = defaultdict(lambda: defaultdict(set))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """The catalog is shared reference data: loaded once, committed, for the whole run."""
    with django_db_blocker.unblock():
        catalog_load()


@pytest.fixture(autouse=True)
def keep_test_connection() -> Iterator[None]:
    """Requests go through the real WSGI handler, which closes the database connection
    when a request starts and finishes; that would end the test's transaction (on
    PostgreSQL), so, like Django's test client, these tests keep it open."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _seed_evidence(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    """An organisation-wide policy (PDF attachment) under a fixed id, and an open incident."""
    uid = Evidence._meta.get_field("uid")
    monkeypatch.setattr(uid, "_get_default", lambda: uuid.UUID(SEED["evidence"]))
    document = {
        "kind": "document",
        "system": None,
        "document": {
            "document_type": "policy",
            "title": "Seed policy",
            "summary": "How AI is used here.",
            "reviewed_by": "Board",
            "reviewed_on": "2026-11-01",
        },
    }
    upload = SimpleUploadedFile("policy.pdf", SEED_POLICY, content_type="application/pdf")
    evidence_services.evidence_submit(
        actor=tenant.actor,
        document=document,
        provenance=evidence_services.Provenance(),
        uploads=[upload],
    )
    monkeypatch.undo()
    job = AssessmentJob._meta.get_field("uid")
    monkeypatch.setattr(job, "_get_default", lambda: uuid.UUID(SEED["assessment"]))
    system = inventory_selectors.system_get(actor=tenant.actor, slug=SEED["system"])
    assessment_services.assessment_job_create(
        actor=tenant.actor,
        system=system,
        model_version=inventory_selectors.model_version_get(
            actor=tenant.actor, system=system, version=SEED["version"]
        ),
        upload=SimpleUploadedFile("p.csv", SEED_PREDICTIONS.encode(), content_type="text/csv"),
        kinds=["fairness"],
        mapping={"label": "label", "prediction": "prediction", "sensitive": ["sex"]},
        options={},
    )
    monkeypatch.undo()
    incident_services.incident_create(
        actor=tenant.actor,
        title="Seed incident",
        description="Scores jumped overnight.",
        severity="medium",
        occurred_at=datetime(2026, 11, 1, 8, tzinfo=UTC),
        detected_at=datetime(2026, 11, 1, 9, tzinfo=UTC),
        systems=[SEED["system"]],
    )


def _seed_report(tenant: Tenant, system: Any) -> None:
    """A system report under a fixed id, its draft a stand-in PDF (nothing is rendered)."""
    from reports.models import Report
    from reports.services.requests import report_request
    from reports.storage import pdf_store

    made = report_request(actor=tenant.actor, kind="system", system=system)
    sha256 = pdf_store(made.organization_id, b"%PDF-1.7\n% seeded draft\n")
    Report.objects.filter(pk=made.pk).update(
        uid=SEED["report"], status="draft", draft_sha256=sha256, pdf_sha256=sha256
    )


def _seed_open_risk(tenant: Tenant) -> None:
    """RSK-002: what the admin may accept, review, treat and score."""
    actor = tenant.actor
    risk = risks.risk_create(
        actor=actor,
        title="Seed open risk",
        statement="Scores drift after retraining.",
        category="validity_reliability",
        owner="engineer",
        systems=[SEED["system"]],
    )
    assert risk.reference == SEED["open_risk"]
    risks.risk_transition(actor=actor, risk=risk, status="open")
    scoring.risk_score(actor=actor, risk=risk, kind="inherent", likelihood=4, impact=3)
    scoring.risk_score(actor=actor, risk=risk, kind="residual", likelihood=2, impact=2)
    treatment.treatment_action_create(
        actor=actor, risk=risk, title="Retrain", due_date=date(2027, 1, 31), owner="engineer"
    )


def _seed(acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    """acme with a system, a dataset, a model version, a proposed risk, an organisation-wide
    policy and an incident."""
    actor = acme.actor
    system = inventory.system_create(
        actor=actor, slug=SEED["system"], name="Seed system", owner="engineer"
    )
    inventory.dataset_create(actor=actor, slug=SEED["dataset"], name="Seed dataset")
    inventory.model_version_create(
        actor=actor, system=system, version=SEED["version"], training_datasets=[SEED["dataset"]]
    )
    risk = risks.risk_create(
        actor=actor,
        title="Seed risk",
        statement="The seeded model may drift.",
        category="validity_reliability",
        owner="officer",
        systems=[SEED["system"]],
        model_versions=[{"system": SEED["system"], "version": SEED["version"]}],
        datasets=[SEED["dataset"]],
        subcategories=[SEED["subcategory"]],
    )
    assert risk.reference == SEED["risk"]
    _seed_open_risk(acme)
    hook, _ = webhooks.webhook_create(actor=actor, url="https://93.184.216.34/seed-hook")
    Webhook.objects.filter(pk=hook.pk).update(uid=SEED["webhook"])
    _seed_evidence(acme, monkeypatch)
    token, _ = orgs.token_create(actor=actor, name="seed", membership=acme.members[Role.ENGINEER])
    ApiToken.objects.filter(pk=token.pk).update(prefix=SEED["token"])
    _seed_report(acme, system)


def _bearer(tenant: Tenant) -> dict[str, dict[str, str]]:
    """role -> the Authorization header of a fresh token of that acme member."""
    headers = {}
    for role in Role:
        _, key = orgs.token_create(
            actor=tenant.actor, name=f"schema-{role}", membership=tenant.members[role]
        )
        headers[role.value] = {"Authorization": f"Bearer {key}"}
    return headers


@pytest.fixture(scope="module")
def seeded_module(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[tuple[Tenant, dict[str, dict[str, str]]]]:
    """The seeded organisation and its tokens, built once per module and rolled back at its
    end; each test (with all its generated examples) runs in a savepoint of it. Seeding per
    test cost about a second, times some four hundred tests."""
    with module_transaction(django_db_blocker):
        with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as monkeypatch:
            acme = make_tenant("acme")
            _seed(acme, monkeypatch)
            built = (acme, _bearer(acme))
        yield built


@pytest.fixture
def seeded(seeded_module: tuple[Tenant, dict[str, dict[str, str]]], db: None) -> Tenant:
    return seeded_module[0]


@pytest.fixture
def bearer(
    seeded_module: tuple[Tenant, dict[str, dict[str, str]]], db: None
) -> dict[str, dict[str, str]]:
    return seeded_module[1]
