"""The world the API tests run in: a few records in acme, more in globex.

globex has more risks than acme, so a globex reference such as RSK-005 exists only there,
and its slugs and names appear nowhere in acme: any of them in an answer to an acme
caller is a leak.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from controls.models import Category, Function, Scope, Subcategory
from evaluations.models import AssessmentJob, Evidence
from evaluations.services import evidence as evidence_services
from evaluations.services import incidents as incident_services
from riskreg.inventory import services as inventory
from riskreg.notifications.models import Webhook
from riskreg.notifications.services import webhooks
from riskreg.organisations import services as orgs
from riskreg.organisations.models import ApiToken
from riskreg.organisations.roles import Role
from riskreg.risks.services import register as risks
from riskreg.risks.services import scoring, treatment
from tests.conftest import Tenant, make_tenant, module_transaction

SUBCATEGORY = "MEASURE 2.11"
# Each acme member's own token "laptop", and one of globex's admin, under fixed prefixes so
# that tables of URLs can name them (a prefix only labels a token; the key stays random).
OWN_TOKEN_PREFIXES = {
    Role.ADMIN: "rr_acme_ad",
    Role.COMPLIANCE_OFFICER: "rr_acme_of",
    Role.ENGINEER: "rr_acme_en",
    Role.AUDITOR: "rr_acme_au",
}
FOREIGN_TOKEN_PREFIX = "rr_globex1"


@dataclass(frozen=True)
class World:
    acme: Tenant
    globex: Tenant
    own: dict[str, str]  # kind of object -> its acme value, as URLs name it
    foreign: dict[str, str]  # kind -> a globex value that does not exist in acme
    missing: dict[str, str]  # kind -> a value that exists nowhere
    foreign_markers: tuple[str, ...]  # globex text that must never reach an acme caller
    # kind -> role -> its acme value, for objects each member has its own of (tokens)
    own_by_role: dict[str, dict[Role, str]] = field(default_factory=dict)

    def own_for(self, kind: str, role: Role) -> str:
        """The acme value of kind that a caller with role names: its own, where it has one."""
        return self.own_by_role[kind][role] if kind in self.own_by_role else self.own[kind]


def _catalog_row() -> None:
    """One subcategory, enough for risks to cite (the full catalog costs 0.1 s a test)."""
    function = Function.objects.create(
        id="MEASURE", code="MS", title="Measure", summary="Measure.", position=2
    )
    category = Category.objects.create(
        id="MEASURE 2", function=function, summary="Evaluated.", page=30, position=0
    )
    Subcategory.objects.create(
        id=SUBCATEGORY,
        category=category,
        outcome="Fairness and bias are evaluated.",
        page=32,
        scope=Scope.SYSTEM,
        position=0,
    )


def _acme_records(acme: Tenant) -> None:
    actor = acme.actor
    inventory.dataset_create(
        actor=actor,
        slug="loans-2023",
        name="Loan applications 2023",
        collection_start=date(2023, 1, 1),
        collection_end=date(2023, 12, 31),
    )
    system = inventory.system_create(
        actor=actor, slug="credit-scoring", name="Credit scoring", owner="engineer"
    )
    inventory.model_version_create(
        actor=actor, system=system, version="1.0", training_datasets=["loans-2023"]
    )
    risks.risk_create(
        actor=actor,
        title="Proxy discrimination in credit scores",
        statement="Postcode acts as a proxy for ethnicity.",
        category="fairness",
        systems=["credit-scoring"],
    )
    second = risks.risk_create(
        actor=actor,
        title="Stale training data",
        statement="Applicants changed since 2023.",
        category="validity_reliability",
    )
    risks.risk_transition(actor=actor, risk=second, status="open")
    # RSK-002 is ready to be accepted by the officer or the admin: the engineer owns it and
    # its residual level (low) is within the default tolerance (medium).
    risks.risk_update(actor=actor, risk=second, owner="engineer")
    scoring.risk_score(actor=actor, risk=second, kind="inherent", likelihood=4, impact=4)
    scoring.risk_score(actor=actor, risk=second, kind="residual", likelihood=2, impact=2)
    treatment.treatment_action_create(
        actor=actor, risk=second, title="Retrain on 2026 data", due_date=date(2027, 3, 31)
    )
    # An address literal: registering it needs no DNS.
    webhooks.webhook_create(actor=actor, url="https://93.184.216.34/hook")
    orgs.service_account_create(
        actor=actor, name="Pipeline", slug="pipeline", role=Role.ENGINEER, system_ids=[system.pk]
    )
    report(actor, system)
    evidence_services.evidence_submit(
        actor=actor,
        document=performance_document("credit-scoring", "1.0"),
        provenance=evidence_services.Provenance(tool_name="pytest"),
    )
    policy(actor, "Acceptable use of AI", POLICY_TEXT)
    incident(actor, "Scores drifted after a data outage", "credit-scoring")
    assessment(actor, "credit-scoring", "1.0")


POLICY_TEXT = b"# Acceptable use of AI\n\nEvery AI system has an owner.\n"


def performance_document(system: str, version: str) -> dict[str, object]:
    return {
        "kind": "performance",
        "system": system,
        "model_version": version,
        "context": "evaluation",
        "effective_date": "2026-11-01",
        "metrics": {"task": "binary_classification", "scores": {"accuracy": 0.91}},
    }


def policy(actor: object, title: str, text: bytes) -> str:
    """Submit an organisation-wide policy with one attachment; returns the item's uid."""
    document = {
        "kind": "document",
        "system": None,
        "context": "evaluation",
        "effective_date": "2026-10-01",
        "document": {
            "document_type": "policy",
            "title": title,
            "summary": "Who may use AI, and how.",
            "reviewed_by": "Board",
            "reviewed_on": "2026-09-30",
        },
    }
    upload = SimpleUploadedFile("policy.md", text, content_type="text/markdown")
    result = evidence_services.evidence_submit(
        actor=actor,  # type: ignore[arg-type]
        document=document,
        provenance=evidence_services.Provenance(tool_name="handbook"),
        uploads=[upload],
    )
    return str(result.items[0].uid)


def incident(actor: object, title: str, system: str) -> None:
    incident_services.incident_create(
        actor=actor,  # type: ignore[arg-type]
        title=title,
        description="Noticed in production.",
        severity="high",
        occurred_at=datetime(2026, 10, 1, 8, tzinfo=UTC),
        detected_at=datetime(2026, 10, 1, 9, tzinfo=UTC),
        systems=[system],
    )


PREDICTIONS = b"label,prediction,score,sex\n" + b"".join(
    f"{i % 2},{(i // 3) % 2},{(i % 10) / 10:.1f},{'f' if i % 3 else 'm'}\n".encode()
    for i in range(120)
)


def assessment(actor: object, system: str, version: str) -> str:
    """Queue an assessment job of the predictions above; returns its uid."""
    from evaluations.services import assessments as assessment_services
    from riskreg.inventory import selectors as inventory_selectors

    found = inventory_selectors.system_get(actor=actor, slug=system)  # type: ignore[arg-type]
    mv = inventory_selectors.model_version_get(
        actor=actor,  # type: ignore[arg-type]
        system=found,
        version=version,
    )
    result = assessment_services.assessment_job_create(
        actor=actor,  # type: ignore[arg-type]
        system=found,
        model_version=mv,
        upload=SimpleUploadedFile("predictions.csv", PREDICTIONS, content_type="text/csv"),
        kinds=["fairness"],
        mapping={"label": "label", "prediction": "prediction", "sensitive": ["sex"]},
        options={},
    )
    return str(result.job.uid)


def report(actor: Any, system: Any) -> str:
    """A system report whose draft (a stand-in PDF, no rendering here) waits for approval."""
    from reports.models import Report
    from reports.services.requests import report_request
    from reports.storage import pdf_store

    made = report_request(actor=actor, kind="system", system=system)
    sha256 = pdf_store(made.organization_id, b"%PDF-1.7\n% stand-in for a rendered draft\n")
    Report.objects.filter(pk=made.pk).update(status="draft", draft_sha256=sha256, pdf_sha256=sha256)
    return str(made.uid)


def _globex_records(globex: Tenant) -> None:
    actor = globex.actor
    inventory.dataset_create(actor=actor, slug="passport-photos", name="Passport photo archive")
    system = inventory.system_create(
        actor=actor, slug="turnstile", name="Turnstile face matcher", owner="globex-engineer"
    )
    inventory.model_version_create(
        actor=actor, system=system, version="7.3-beta", training_datasets=["passport-photos"]
    )
    for n in range(1, 6):
        risks.risk_create(
            actor=actor,
            title=f"Spoofed faces pass the turnstile ({n})",
            statement="Printed photos fool the matcher.",
            category="security_resilience",
            systems=["turnstile"],
        )
    orgs.service_account_create(actor=actor, name="Globex CI", slug="globex-ci", role=Role.ENGINEER)
    evidence_services.evidence_submit(
        actor=actor,
        document=performance_document("turnstile", "7.3-beta"),
        provenance=evidence_services.Provenance(tool_name="globex-bench"),
    )
    policy(actor, "Globex biometrics policy", b"# Globex biometrics policy\n")
    for n in range(1, 4):
        incident(actor, f"Turnstile let a stranger in ({n})", "turnstile")
    assessment(actor, "turnstile", "7.3-beta")
    webhooks.webhook_create(actor=actor, url="https://93.184.216.34/globex-hook")
    report(actor, system)


def _tokens(acme: Tenant, globex: Tenant) -> None:
    for role, prefix in OWN_TOKEN_PREFIXES.items():
        token, _ = orgs.token_create(actor=acme.actor, name="laptop", membership=acme.members[role])
        ApiToken.objects.filter(pk=token.pk).update(prefix=prefix)
    token, _ = orgs.token_create(
        actor=globex.actor, name="globex laptop", membership=globex.members[Role.ADMIN]
    )
    ApiToken.objects.filter(pk=token.pk).update(prefix=FOREIGN_TOKEN_PREFIX)


def build_world(acme: Tenant, globex: Tenant) -> World:
    _catalog_row()
    _acme_records(acme)
    _globex_records(globex)
    _tokens(acme, globex)
    own_policy = Evidence.objects.get(organization=acme.org, kind="document")
    foreign_policy = Evidence.objects.get(organization=globex.org, kind="document")
    own_job = AssessmentJob.objects.get(organization=acme.org)
    foreign_job = AssessmentJob.objects.get(organization=globex.org)
    own_hook = Webhook.objects.get(organization=acme.org)
    foreign_hook = Webhook.objects.get(organization=globex.org)
    from reports.models import Report

    own_report = Report.objects.get(organization=acme.org)
    foreign_report = Report.objects.get(organization=globex.org)
    return World(
        acme=acme,
        globex=globex,
        own={
            "system": "credit-scoring",
            "model_version": "1.0",
            "dataset": "loans-2023",
            "risk": "RSK-001",
            "open_risk": "RSK-002",
            "action": "A1",
            "member": "engineer",
            "evidence": str(own_policy.uid),
            "attachment": own_policy.document["attachments"][0]["sha256"],
            "kind": "fairness",
            "incident": "INC-001",
            "assessment": str(own_job.uid),
            "webhook": str(own_hook.uid),
            "report": str(own_report.uid),
        },
        foreign={
            "system": "turnstile",
            "model_version": "7.3-beta",
            "dataset": "passport-photos",
            "risk": "RSK-005",
            "open_risk": "RSK-005",
            "action": "A1",
            "token": FOREIGN_TOKEN_PREFIX,
            "member": "globex-engineer",
            "evidence": str(foreign_policy.uid),
            "attachment": foreign_policy.document["attachments"][0]["sha256"],
            "kind": "unknown-kind",
            "incident": "INC-003",
            "assessment": str(foreign_job.uid),
            "webhook": str(foreign_hook.uid),
            "report": str(foreign_report.uid),
        },
        missing={
            "system": "no-such-system",
            "model_version": "9.9.9",
            "dataset": "no-such-dataset",
            "risk": "RSK-099",
            "open_risk": "RSK-099",
            "action": "A9",
            "token": "rr_nothere",
            "member": "nobody",
            "evidence": "00000000-0000-4000-8000-000000000000",
            "attachment": "0" * 64,
            "kind": "absent-kind",
            "incident": "INC-099",
            "assessment": "00000000-0000-4000-8000-000000000000",
            "webhook": "00000000-0000-4000-8000-000000000000",
            "report": "00000000-0000-4000-8000-000000000000",
        },
        foreign_markers=(
            "globex",
            "Globex",
            "turnstile",
            "Turnstile face matcher",
            "7.3-beta",
            "passport-photos",
            "Passport photo archive",
            "Spoofed faces",
            "Printed photos",
            "globex laptop",
            "globex-bench",
            "Globex biometrics policy",
            "Turnstile let a stranger in",
        ),
        own_by_role={"token": dict(OWN_TOKEN_PREFIXES)},
    )


@pytest.fixture(scope="module", autouse=True)
def shared_world(request: pytest.FixtureRequest, django_db_blocker: Any) -> Iterator[World | None]:
    """One world for a whole module marked `shared_world`, rolled back at the module's end.

    Building the world costs about a second on PostgreSQL, and the role matrix and the
    bad-input tables need it for well over a thousand cases. Each test of such a module
    runs in a savepoint (pytest-django's `db` inside this transaction), so its writes are
    undone; files, Redis keys and sequences are not, which is why a module opts in.
    """
    if request.node.get_closest_marker("shared_world") is None:
        yield None
        return
    request.getfixturevalue("django_db_setup")
    with module_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            built = build_world(make_tenant("acme"), make_tenant("globex", prefix="globex-"))
        yield built


@pytest.fixture
def acme(shared_world: World | None, db: None) -> Tenant:
    return shared_world.acme if shared_world else make_tenant("acme")


@pytest.fixture
def globex(shared_world: World | None, db: None) -> Tenant:
    return shared_world.globex if shared_world else make_tenant("globex", prefix="globex-")


@pytest.fixture
def world(shared_world: World | None, acme: Tenant, globex: Tenant) -> World:
    return shared_world or build_world(acme, globex)
