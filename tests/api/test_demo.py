"""The demo organisation: complete, written through services, and idempotent."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

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
from evaluations.validation import validate_document
from riskreg.audit.models import AuditEvent
from riskreg.audit.services import audit_verify
from riskreg.inventory.models import AISystem, ModelVersion
from riskreg.organisations.actor import Actor
from riskreg.organisations.middleware import SESSION_KEY
from riskreg.organisations.models import Membership, Organization
from riskreg.risks.models import Risk, RiskStatus
from riskreg.risks.selectors import register as risk_selectors
from riskreg.risks.selectors import workflow
from riskreg.web import demo_models
from riskreg.web.demo import seed_demo
from riskreg.web.demo_models import job_key
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
    job = AssessmentJob.objects.get(organization__slug="demo", system__slug="credit-scoring")
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
    job = AssessmentJob.objects.get(organization__slug="demo", system__slug="credit-scoring")
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


# --- the edge classifier's computed robustness and efficiency ---------------------------

SHELF_BUILDS = {"2.0": ("safetensors", True), "2.0-int8": ("onnx", False)}


def _shelf_item(version: str, kind: str) -> Evidence:
    job = AssessmentJob.objects.get(idempotency_key=job_key(kind, version))
    return Evidence.objects.get(assessment_job=job)


def test_both_shelf_vision_builds_have_robustness_and_efficiency_computed_by_riskreg() -> None:
    seed_demo()
    jobs = AssessmentJob.objects.filter(organization__slug="demo", system__slug="shelf-vision")
    assert jobs.count() == 4
    for job in jobs:
        version = job.model_version.version
        assert job.idempotency_key == job_key(job.kinds[0], version)
        assert (job.status, job.error_code, job.deliveries) == ("succeeded", "", 1)
        assert (job.submitter_label, job.input_name) == ("engineer", "shelf-digits-test.csv")
        # 2.0 ships as safetensors with its architecture, the int8 build as ONNX.
        model_format, with_architecture = SHELF_BUILDS[version]
        assert job.model_format == model_format
        assert (job.architecture is not None) == with_architecture
        assert job.mapping == {"label": "label"}
        (item,) = Evidence.objects.filter(assessment_job=job)
        assert (item.kind, item.model_version) == (job.kinds[0], job.model_version)
        assert (item.tool_name, item.tool_version) == ("riskreg", riskreg.__version__)
        assert item.labels == {"assessment_job": str(job.uid), "input": "shelf-digits-test.csv"}
        assert validate_document(item.document, computed=True) == []
        assert evidence_state(item) == "current"


def test_the_edge_classifiers_robustness_curves_fall_with_the_budget_and_differ_by_build() -> None:
    seed_demo()
    full = _shelf_item("2.0", "robustness").document["metrics"]
    int8 = _shelf_item("2.0-int8", "robustness").document["metrics"]
    for metrics in (full, int8):
        assert metrics["size"] == 360  # the digits' held-out test set
        assert 0.9 < metrics["clean_accuracy"]["value"] < 1
        curves = {(p["name"], p["norm"]): p["points"] for p in metrics["perturbations"]}
        assert set(curves) == {
            ("fgsm", "linf"),
            ("fgsm", "l2"),
            ("pgd", "linf"),
            ("pgd", "l2"),
            ("gaussian_noise", None),
            ("feature_dropout", None),
        }
        assert [p["budget"] for p in curves["pgd", "linf"]] == [0.05, 0.1, 0.2]
        assert [p["budget"] for p in curves["pgd", "l2"]] == [0.25, 0.5, 1.0]
        for points in curves.values():
            accuracies = [p["accuracy"] for p in points]
            assert accuracies[0] > accuracies[-1], points
        # PGD is at least as strong as FGSM at the largest budget, and breaks the model.
        assert curves["pgd", "linf"][-1]["accuracy"] <= curves["fgsm", "linf"][-1]["accuracy"]
        assert curves["pgd", "linf"][-1]["accuracy"] < 0.1
    # Quantising the weights moves the curves a little, without changing their shape.
    assert full["perturbations"] != int8["perturbations"]
    gaps = [
        abs(a["accuracy"] - b["accuracy"])
        for p, q in zip(full["perturbations"], int8["perturbations"], strict=True)
        for a, b in zip(p["points"], q["points"], strict=True)
    ]
    assert 0 < max(gaps) < 0.05


def test_the_edge_classifiers_efficiency_uses_the_demos_power_and_grid_assumptions() -> None:
    seed_demo()
    for version in SHELF_BUILDS:
        item = _shelf_item(version, "efficiency")
        assert item.assessment_job is not None
        assert item.assessment_job.options["power_watts"] == 15.0
        metrics = item.document["metrics"]
        assert [row["batch_size"] for row in metrics["latency"]] == [1, 32, 256]
        assert metrics["parameter_count"] == 1898  # the digits CNN: two convolutions, one linear
        best = max(row["throughput_per_s"] for row in metrics["latency"])
        assert metrics["throughput_per_s"] == best
        assert metrics["energy_kwh"] == pytest.approx(15 * (1000 / best) / 3.6e6)
        assert metrics["co2e_kg"] == pytest.approx(metrics["energy_kwh"] * 250 / 1000)


def test_the_edge_classifiers_computed_evidence_decides_its_robustness_and_energy_verdicts() -> (
    None
):
    from controls.models import Verdict

    seed_demo()
    int8 = ModelVersion.objects.get(system__slug="shelf-vision", version="2.0-int8")
    robustness = str(_shelf_item("2.0-int8", "robustness").uid)
    efficiency = str(_shelf_item("2.0-int8", "efficiency").uid)
    on_int8 = Verdict.objects.filter(scope=f"mv:{int8.pk}")
    for subcategory in ("MEASURE 2.6", "MEASURE 2.7"):
        verdict = on_int8.get(subcategory=subcategory)
        assert verdict.status == "met"  # the smallest budgets pass; larger ones are charted
        assert {e for c in verdict.rationale for e in c["evidence"]} == {robustness}
    energy = on_int8.get(subcategory="MEASURE 2.12")
    assert energy.status == "met"
    assert [c["evidence"] for c in energy.rationale] == [[efficiency]]


def test_seeding_again_trains_no_classifier_and_queues_no_model_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> None:
        raise AssertionError("the demo classifier was trained again")

    seed_demo()
    jobs = AssessmentJob.objects.filter(system__slug="shelf-vision").count()
    items = Evidence.objects.filter(assessment_job__system__slug="shelf-vision").count()
    monkeypatch.setattr(demo_models, "_builds", refuse)
    seed_demo()
    assert AssessmentJob.objects.filter(system__slug="shelf-vision").count() == jobs == 4
    assert Evidence.objects.filter(assessment_job__system__slug="shelf-vision").count() == items


def _signed_in(username: str) -> Client:
    demo = Organization.objects.get(slug="demo")
    client = Client()
    client.force_login(Membership.objects.get(organization=demo, user__username=username).user)
    session = client.session
    session[SESSION_KEY] = demo.pk
    session.save()
    return client


def test_the_robustness_evidence_page_tabulates_every_point_of_every_curve() -> None:
    seed_demo()
    item = _shelf_item("2.0-int8", "robustness")
    response = _signed_in("engineer").get(f"/evidence/{item.uid}/")
    assert response.status_code == 200
    html = response.content.decode()
    metrics = item.document["metrics"]
    clean = metrics["clean_accuracy"]["value"]
    assert f'<strong id="clean-accuracy">{clean:.4f}</strong>' in html
    assert "(95% interval" in html
    assert "on 360 examples" in html
    table = html.split('<table id="robustness-points">')[1].split("</table>")[0]
    points = sum(len(p["points"]) for p in metrics["perturbations"])
    assert table.count('<th scope="row">') == points == 18
    pgd = next(p for p in metrics["perturbations"] if (p["name"], p["norm"]) == ("pgd", "linf"))
    first = pgd["points"][0]
    assert (
        '<th scope="row">PGD L∞</th>\n      <td>attack</td>\n      <td class="num">0.05</td>\n'
        f'      <td class="num">{first["accuracy"]:.4f}</td>\n'
        f'      <td class="num">{first["decision_flip_rate"]:.4f}</td>'
    ) in table
    assert '<th scope="row">Gaussian noise</th>\n      <td>corruption</td>' in table


def test_evidence_of_other_kinds_shows_no_robustness_table() -> None:
    seed_demo()
    item = _shelf_item("2.0", "efficiency")
    html = _signed_in("auditor").get(f"/evidence/{item.uid}/").content.decode()
    assert 'id="document"' in html
    assert "robustness-points" not in html
