"""The demo organisation: complete, written through services, and idempotent."""

from collections.abc import Iterator
from typing import Any

import pytest

import riskreg
from evaluations.models import (
    AssessmentJob,
    Blob,
    Evidence,
    EvidenceKind,
    Incident,
    IncidentTimelineEntry,
    Withdrawal,
)
from evaluations.selectors.evidence import evidence_list, evidence_state
from riskreg.audit.models import AuditEvent
from riskreg.audit.services import audit_verify
from riskreg.inventory.models import AISystem, ModelVersion
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Membership, Organization
from riskreg.risks.models import Risk, RiskStatus
from riskreg.risks.selectors import register as risk_selectors
from riskreg.risks.selectors import workflow
from riskreg.web.demo import seed_demo
from tests.conftest import module_transaction

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def seeded_once(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Seeding renders and signs a report per system (seconds each): once for the module,
    rolled back at its end; each test then seeds again, which must change nothing."""
    with module_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            seed_demo()
        yield


def _demo_actor() -> Actor:
    return Actor.system(Organization.objects.get(slug="demo").pk)


def test_seeding_twice_changes_nothing_the_second_time() -> None:
    seed_demo()
    events = AuditEvent.objects.count()
    seed_demo()
    assert AuditEvent.objects.count() == events
    for org in Organization.objects.all():
        assert audit_verify(organization=org).ok


def test_demo_has_the_four_personas_in_both_organisations() -> None:
    seed_demo()
    for slug in ("demo", "northwind"):
        roles = dict(
            Membership.objects.filter(organization__slug=slug).values_list("user__username", "role")
        )
        assert roles == {
            "admin": "admin",
            "officer": "compliance_officer",
            "engineer": "engineer",
            "auditor": "auditor",
        }


def test_demo_systems_cover_tabular_edge_and_generative() -> None:
    seed_demo()
    systems = {s.slug: s for s in AISystem.objects.filter(organization__slug="demo")}
    assert set(systems) == {"credit-scoring", "shelf-vision", "support-assistant"}
    assert systems["shelf-vision"].deployment_context == "edge"
    assert systems["support-assistant"].is_generative
    edge = ModelVersion.objects.get(system=systems["shelf-vision"], version="2.0-int8")
    assert edge.parent is not None
    assert edge.parent.version == "2.0"
    statuses = set(Risk.objects.filter(organization__slug="demo").values_list("status", flat=True))
    assert statuses == set(RiskStatus.values)


def test_demo_has_evidence_of_every_kind_in_every_state() -> None:
    seed_demo()
    items = Evidence.objects.filter(organization__slug="demo")
    assert set(items.values_list("kind", flat=True)) == set(EvidenceKind.values)
    states = {evidence_state(item) for item in evidence_list(actor=_demo_actor())}
    assert states == {"current", "expired", "superseded", "withdrawn"}
    correction = items.get(supersedes__isnull=False)
    assert correction.kind == "calibration"
    withdrawn = Withdrawal.objects.get(evidence__organization__slug="demo")
    assert withdrawn.actor_label == "officer"
    assert "shares rows with the training data" in withdrawn.reason
    assert items.filter(context="monitoring").exists()
    # riskreg itself submits what its assessment computed.
    assert set(items.values_list("submitter_label", flat=True)) == {
        "engineer",
        "service:ci",
        "riskreg",
    }


def test_demo_keeps_policies_organisation_wide_and_a_model_card_for_credit_scoring() -> None:
    seed_demo()
    documents = Evidence.objects.filter(organization__slug="demo", kind="document")
    policies = documents.filter(system__isnull=True)
    assert {d.document["document"]["document_type"] for d in policies} == {
        "policy",
        "incident_response_procedure",
    }
    card = documents.get(document__document__document_type="model_card")
    assert card.system is not None
    assert card.system.slug == "credit-scoring"
    for item in documents:
        attachments = list(item.attachments.all())
        assert attachments, item
        for attachment in attachments:
            assert attachment.name.endswith(".md")
            assert attachment.blob.media_type == "text/markdown"


def test_demo_has_a_closed_and_an_investigating_incident_linked_to_systems_and_risks() -> None:
    seed_demo()
    incidents = {
        i.status: i for i in Incident.objects.filter(organization__slug="demo").order_by("number")
    }
    assert set(incidents) == {"closed", "investigating"}
    closed, investigating = incidents["closed"], incidents["investigating"]
    assert closed.root_cause
    assert closed.corrective_actions
    steps = list(
        IncidentTimelineEntry.objects.filter(incident=closed)
        .order_by("created_at", "id")
        .values_list("kind", "to_status")
    )
    assert [to for kind, to in steps if kind == "status"] == [
        "investigating",
        "mitigated",
        "closed",
    ]
    assert len(steps) >= 5
    assert investigating.regulator_notification_required
    assert investigating.regulator_deadline is not None
    for incident in (closed, investigating):
        assert incident.systems.exists()
        assert incident.risks.exists()


def test_seeding_twice_adds_no_evidence_incident_or_audit_event() -> None:
    seed_demo()
    counts = (
        AssessmentJob.objects.count(),
        Blob.objects.count(),
        Evidence.objects.count(),
        Withdrawal.objects.count(),
        Incident.objects.count(),
        IncidentTimelineEntry.objects.count(),
        AuditEvent.objects.count(),
    )
    seed_demo()
    assert counts == (
        AssessmentJob.objects.count(),
        Blob.objects.count(),
        Evidence.objects.count(),
        Withdrawal.objects.count(),
        Incident.objects.count(),
        IncidentTimelineEntry.objects.count(),
        AuditEvent.objects.count(),
    )


def test_demo_has_a_succeeded_assessment_of_credit_scoring_with_one_item_per_kind() -> None:
    seed_demo()
    job = AssessmentJob.objects.get(organization__slug="demo")
    assert (job.system.slug, job.model_version.version) == ("credit-scoring", "4.3.0")
    assert (job.status, job.error_code, job.progress, job.deliveries) == ("succeeded", "", 1.0, 1)
    assert job.input_name == "credit-predictions.csv"
    assert job.submitter_label == "service:ci"
    assert job.mapping["sensitive"] == ["sex", "age_band"]
    assert job.options["dataset"] == "credit-holdout-2025"
    items = {item.kind: item for item in Evidence.objects.filter(assessment_job=job)}
    assert sorted(items) == ["calibration", "data_quality", "fairness"]
    for item in items.values():
        assert (item.tool_name, item.tool_version) == ("riskreg", riskreg.__version__)
        assert item.model_version == job.model_version
        assert evidence_state(item) == "current"


def test_demo_assessment_finds_the_youngest_applicants_approved_less_often() -> None:
    seed_demo()
    job = AssessmentJob.objects.get(organization__slug="demo")
    fairness = Evidence.objects.get(assessment_job=job, kind="fairness").document["metrics"]
    [by_age] = [b for b in fairness["breakdowns"] if b["features"] == ["age_band"]]
    rates = {g["group"]["age_band"]: g["true_positive_rate"]["value"] for g in by_age["groups"]}
    assert set(rates) == {"18-24", "25-39", "40-64", "65+"}
    others = [rate for band, rate in rates.items() if band != "18-24"]
    assert 0.1 < min(others) - rates["18-24"] < 0.25  # "slightly unfair": some points below
    assert [b["features"] for b in fairness["breakdowns"]] == [
        ["sex"],
        ["age_band"],
        ["sex", "age_band"],
    ]
    quality = Evidence.objects.get(assessment_job=job, kind="data_quality").document["metrics"]
    assert {d["split"] for d in quality["datasets"]} == {"train", "test"}
    leaked = [o for o in quality["overlap"] if o["between"] == ["train", "test"]]
    assert leaked[0]["rows"] == 20


def test_demo_register_has_every_status_scored_treated_accepted_and_overdue() -> None:
    seed_demo()
    actor = _demo_actor()
    register = list(risk_selectors.risk_list(actor=actor))
    by_status: dict[str, list[Risk]] = {}
    for risk in register:
        by_status.setdefault(risk.status, []).append(risk)
    assert set(by_status) == set(RiskStatus.values)
    for risk in register:
        if risk.status not in ("proposed", "dismissed"):
            assert risk.inherent_score is not None, risk
            assert risk.residual_score is not None, risk
    assert any(risk.current_score is not None for risk in register)
    assert any(risk.treatment_decision and risk.treatment_plan for risk in register)
    # One treatment action overdue, one done; one review overdue.
    assert workflow.action_list(actor=actor, overdue=True).count() == 1
    assert workflow.action_list(actor=actor, status="done").exists()
    assert [r.title for r in risk_selectors.risk_list(actor=actor, overdue="review")] == [
        "Shelf alerts missed in night-time images"
    ]
    # The officer accepted a risk the engineer owns, and the acceptance runs out soon.
    [expiring] = workflow.acceptances_expiring(actor=actor, within_days=30)
    assert expiring.accepted_by_label == "officer"
    assert expiring.risk.owner is not None
    assert expiring.risk.owner.user.username == "engineer"
    assert expiring.risk.status == "accepted"
    assert by_status["dismissed"][0].dismissal_reason
    assert workflow.comment_list(risk=by_status["treating"][0]).count() == 2


def test_every_demo_system_has_72_verdicts_and_every_status_appears() -> None:
    from controls.models import Verdict

    seed_demo()
    seen: set[str] = set()
    for system in AISystem.objects.all():
        rows = Verdict.objects.filter(
            organization=system.organization, scope__in=["org", f"sys:{system.pk}"]
        )
        assert rows.count() == 72, system.slug
        seen |= set(rows.values_list("status", flat=True))
    assert seen == {
        "not_met",
        "inconclusive",
        "partially_met",
        "met",
        "not_assessed",
        "not_applicable",
    }


def test_the_quantised_edge_build_carries_a_silent_regression_that_passes_its_thresholds() -> None:
    from controls.models import Finding, Verdict

    seed_demo()
    shelf = AISystem.objects.get(slug="shelf-vision")
    int8 = ModelVersion.objects.get(system=shelf, version="2.0-int8")
    on_int8 = Verdict.objects.filter(scope=f"mv:{int8.pk}")
    assert on_int8.get(subcategory="MEASURE 4.3").regression is True
    assert on_int8.get(subcategory="MEASURE 2.11").status == "met"  # every threshold passes
    findings = Finding.objects.filter(system=shelf, kind="regression")
    assert {f.subcategory_id for f in findings} == {"MEASURE 4.3", "MEASURE 2.4", "MANAGE 4.1"}
    (risk,) = {f.risk for f in findings}
    assert risk is not None
    assert risk.source == "finding"
    notes = " ".join(c["note"] for c in on_int8.get(subcategory="MEASURE 4.3").rationale)
    assert "lighting=night/true_positive_rate" in " ".join(
        str(c["metric"]) for c in on_int8.get(subcategory="MEASURE 4.3").rationale
    )
    assert "against version 2.0" in notes


def test_every_demo_system_has_an_approved_signed_report_that_verifies() -> None:
    from riskreg_client.verify import verify_pdf

    from reports.models import Report
    from reports.services.keys import trust_roots_for
    from reports.storage import pdf_read

    seed_demo()
    demo = Organization.objects.get(slug="demo")
    for system in AISystem.objects.filter(organization=demo):
        report = Report.objects.get(system=system, status="signed")
        assert report.approved_by_label == "officer"
        verdict = verify_pdf(
            pdf_read(demo.pk, report.pdf_sha256),
            trust_roots=trust_roots_for(organization_id=demo.pk),
        )
        assert verdict.valid, verdict.reason
