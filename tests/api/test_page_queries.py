"""The dashboard, the register and a risk's page issue as many queries with 1,000 risks as
with 10: no query per row (N+1) hides in a page, a template or a selector.

Ten risks are written through the services, with everything a page shows (scores of each
kind, treatment actions, an acceptance, a review, comments, evidence). The other 990 are
bulk-inserted, a shortcut for this test only: what is measured is the pages' reads, not
the write path, and 990 risks through the services take minutes.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evaluations.services.evidence import Provenance, evidence_submit
from riskreg.inventory import services as inventory
from riskreg.organisations.roles import Role
from riskreg.risks.models import Risk, RiskMatrix, RiskScore, TreatmentAction
from riskreg.risks.services import acceptance, comments, scoring, treatment
from riskreg.risks.services import register as risks
from tests.api.test_evidence_pages import signed_in
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/risks/",
    "/risks/?status=open&sort=-level",
    "/risks/?overdue=any&sort=next_review",
    "/risks/?cell=inherent-4-3",
    "/risks/RSK-001/",
    "/risks/RSK-002/",
]
SYSTEMS = ("credit-scoring", "shelf-vision")
STATUSES = ("open", "treating", "proposed", "closed")


def _evidence(tenant: Tenant, system: str) -> None:
    document = {
        "kind": "performance",
        "system": system,
        "context": "monitoring",
        "effective_date": timezone.localdate().isoformat(),
        "expiry_date": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "metrics": {"task": "binary_classification", "scores": {"accuracy": 0.9}},
    }
    evidence_submit(actor=tenant.actor, document=document, provenance=Provenance())


def _ten(tenant: Tenant) -> None:
    """Ten risks through the services, each with what its page and the register show."""
    actor = tenant.actor
    officer = tenant.actor_for(Role.COMPLIANCE_OFFICER)
    for slug in SYSTEMS:
        inventory.system_create(actor=actor, slug=slug, name=slug.title(), owner="engineer")
        _evidence(tenant, slug)
    today = timezone.localdate()
    for n in range(10):
        risk = risks.risk_create(
            actor=actor,
            title=f"Risk {n}",
            statement="Something may go wrong.",
            category="fairness",
            owner="engineer",
            systems=list(SYSTEMS[: 1 + n % 2]),
        )
        risks.risk_transition(actor=actor, risk=risk, status="open")
        for kind, (likelihood, impact) in (("inherent", (4, 3)), ("current", (3, 3))):
            scoring.risk_score(
                actor=actor, risk=risk, kind=kind, likelihood=likelihood, impact=impact
            )
        scoring.risk_score(actor=actor, risk=risk, kind="residual", likelihood=2, impact=2)
        treatment.treatment_action_create(
            actor=actor, risk=risk, title="Overdue", due_date=today - timedelta(days=5)
        )
        treatment.treatment_action_create(
            actor=actor, risk=risk, title="Later", due_date=today + timedelta(days=50)
        )
        comments.risk_comment_add(actor=officer, risk=risk, text="Seen.")
        scoring.risk_review(actor=officer, risk=risk, note="Reviewed.")
        if n < 3:
            acceptance.risk_accept(
                actor=officer,
                risk=risk,
                justification="Small.",
                conditions="Watch it.",
                valid_until=today + timedelta(days=10 + n),
            )


def _bulk(tenant: Tenant, count: int) -> None:
    """Test-only shortcut: count more risks straight into the tables (see the module doc)."""
    org = tenant.org
    owner = tenant.members[Role.ENGINEER]
    matrix = RiskMatrix.objects.get(organization=org)
    system_ids = list(
        Risk.systems.through.objects.filter(risk__organization=org).values_list(
            "aisystem_id", flat=True
        )
    )
    overdue = timezone.localdate() - timedelta(days=1)
    rows = Risk.objects.bulk_create(
        Risk(
            organization=org,
            number=11 + n,
            title=f"Bulk risk {n}",
            statement="Bulk.",
            category="privacy",
            owner=owner,
            status=STATUSES[n % len(STATUSES)],
            level="high",
            next_review_date=overdue,
        )
        for n in range(count)
    )
    Risk.systems.through.objects.bulk_create(
        Risk.systems.through(risk_id=risk.pk, aisystem_id=system_ids[n % len(system_ids)])
        for n, risk in enumerate(rows)
    )
    for kind, (likelihood, impact) in (("inherent", (4, 3)), ("residual", (2, 2))):
        scores = RiskScore.objects.bulk_create(
            RiskScore(
                risk=risk,
                kind=kind,
                likelihood=likelihood,
                impact=impact,
                score=likelihood * impact,
                level=matrix.level_for(likelihood * impact),
                matrix=matrix,
                scored_by="bulk",
            )
            for risk in rows
        )
        for risk, score in zip(rows, scores, strict=True):
            setattr(risk, f"{kind}_score", score)
        Risk.objects.bulk_update(rows, [f"{kind}_score"], batch_size=500)
    TreatmentAction.objects.bulk_create(
        TreatmentAction(risk=risk, number=1, title="Bulk action", due_date=overdue) for risk in rows
    )


def _counts(client: Client) -> dict[str, int]:
    found = {}
    for path in PAGES:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, path
        found[path] = len(queries.captured_queries)
    return found


@pytest.fixture
def officer(acme: Tenant) -> Client:
    return signed_in(acme, Role.COMPLIANCE_OFFICER)


def test_officer_pages_issue_the_same_queries_with_10_and_with_1000_risks(
    acme: Tenant, officer: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    _ten(acme)
    officer.get("/")  # the session and the matrix settle on a first request
    small = _counts(officer)
    _bulk(acme, 990)
    assert Risk.objects.filter(organization=acme.org).count() == 1000
    large = _counts(officer)
    with capsys.disabled():
        for path in PAGES:
            print(f"\n  queries {path}: {small[path]} with 10 risks, {large[path]} with 1,000")
    assert large == small
