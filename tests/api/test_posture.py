"""Verdicts from evidence: the posture of a system as docs/posture.md specifies it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from controls.models import Finding, Verdict
from controls.services.updates import verdicts_sweep
from riskreg.audit.models import AuditEvent
from riskreg.organisations.roles import Role
from riskreg.risks.models import Risk
from tests.api.helpers import assert_envelope, assert_nothing_written, db_snapshot
from tests.api.posture_support import drain, fairness, set_up, submit
from tests.conftest import Tenant

FAIRNESS = "MEASURE 2.11"


@pytest.fixture
def system(acme: Tenant) -> Any:
    return set_up(acme)


def verdict(client: APIClient, subcategory: str, **query: str) -> dict[str, Any]:
    response = client.get("/api/v1/systems/credit-scoring/posture/", query)
    assert response.status_code == 200, response.content[:300]
    return next(r for r in response.json()["subcategories"] if r["id"] == subcategory)


@pytest.fixture
def officer(system: Any, api_for: Any) -> APIClient:
    client: APIClient = api_for(Role.COMPLIANCE_OFFICER)
    return client


def test_every_system_has_72_verdicts_stored(system: Any, officer: APIClient) -> None:
    stored = Verdict.objects.filter(scope__in=["org", f"sys:{system.pk}"]).count()
    body = officer.get("/api/v1/systems/credit-scoring/posture/").json()

    assert stored == 72
    assert len(body["subcategories"]) == 72
    assert {r["status"] for r in body["subcategories"]} <= {"not_assessed", "not_met"}


def test_failing_fairness_evidence_sends_measure_2_11_to_not_met_naming_the_evidence(
    acme: Tenant, officer: APIClient
) -> None:
    item = submit(acme, fairness(ratio=0.6), run=False)
    pending = officer.get(f"/api/v1/evidence/{item.uid}/").json()["verdict_update"]
    drain()

    found = verdict(officer, FAIRNESS)
    assert pending["state"] == "pending"
    assert found["status"] == "not_met"
    assert str(item.uid) in found["evidence"]
    failing = [c for c in found["rationale"] if c["status"] == "not_met"]
    assert failing[0]["value"] == 0.6
    assert failing[0]["threshold"] == 0.8
    assert failing[0]["metric"] == "/metrics/breakdowns/0/demographic_parity_ratio"
    report = officer.get(f"/api/v1/evidence/{item.uid}/").json()["verdict_update"]
    assert report["state"] == "done"
    assert {
        "system": "credit-scoring",
        "subcategory": FAIRNESS,
        "status": "not_met",
        "previous": "not_assessed",
        "regression": False,
    } in report["affected"]


def test_an_interval_straddling_the_threshold_is_inconclusive(
    acme: Tenant, officer: APIClient
) -> None:
    interval = {"low": 0.75, "high": 0.85, "level": 0.95, "method": "bootstrap"}
    submit(acme, fairness(ratio={"value": 0.81, "interval": interval}))

    assert verdict(officer, FAIRNESS)["status"] == "inconclusive"


def test_an_interval_wholly_inside_the_band_is_partially_met(
    acme: Tenant, officer: APIClient
) -> None:
    interval = {"low": 0.76, "high": 0.79, "level": 0.95, "method": "bootstrap"}
    submit(acme, fairness(ratio={"value": 0.78, "interval": interval}))

    assert verdict(officer, FAIRNESS)["status"] == "partially_met"


def test_a_later_passing_item_in_the_same_series_restores_met(
    acme: Tenant, officer: APIClient
) -> None:
    submit(acme, fairness(ratio=0.6, effective="2026-10-01"))
    later = submit(acme, fairness(ratio=0.95, effective="2026-11-01"))

    found = verdict(officer, FAIRNESS)
    assert found["status"] == "met"
    assert found["evidence"] == [str(later.uid)]


def test_a_failing_item_in_another_series_keeps_it_not_met(
    acme: Tenant, officer: APIClient
) -> None:
    failing = submit(acme, fairness(ratio=0.6, features=("age_band",), effective="2026-10-01"))
    passing = submit(acme, fairness(ratio=0.95, features=("sex",), effective="2026-11-01"))

    found = verdict(officer, FAIRNESS)
    assert found["status"] == "not_met"
    assert set(found["evidence"]) == {str(failing.uid), str(passing.uid)}
    assert {c["status"] for c in found["rationale"]} == {"not_met", "met"}


def test_a_series_whose_groups_are_all_insufficient_is_inconclusive(
    acme: Tenant, officer: APIClient
) -> None:
    doc = fairness(ratio=None)
    for group in doc["metrics"]["breakdowns"][0]["groups"]:
        group["insufficient"] = True
    doc["metrics"]["breakdowns"][0]["equalized_odds_difference"] = None
    submit(acme, doc)

    found = verdict(officer, FAIRNESS)
    assert found["status"] == "inconclusive"
    assert found["rationale"][0]["note"] == "no group large enough to judge"


def test_evidence_expiry_turns_the_verdict_back_to_not_assessed(
    acme: Tenant, officer: APIClient
) -> None:
    item = submit(acme, fairness(ratio=0.95, effective="2026-11-01", expiry="2026-12-31"))
    assert verdict(officer, FAIRNESS)["status"] == "met"

    with time_machine.travel(datetime(2027, 1, 1, 6, tzinfo=UTC), tick=False):
        queued = verdicts_sweep()
        (update,) = drain()
        found = verdict(officer, FAIRNESS)

    assert queued == 1
    assert found["status"] == "not_assessed"
    assert update.state == "done"
    assert {
        "system": "credit-scoring",
        "subcategory": FAIRNESS,
        "status": "not_assessed",
        "previous": "met",
        "regression": False,
    } in update.affected
    assert str(item.uid) not in found["evidence"]


def test_reading_a_posture_replays_history_at_a_given_time(
    acme: Tenant, officer: APIClient
) -> None:
    submit(acme, fairness(ratio=0.95))
    between = datetime.now(tz=UTC)
    submit(acme, fairness(ratio=0.6, effective="2026-11-02"))

    assert verdict(officer, FAIRNESS)["status"] == "not_met"
    assert verdict(officer, FAIRNESS, at=between.isoformat())["status"] == "met"
    changes = officer.get(
        "/api/v1/systems/credit-scoring/posture/changes/", {"since": between.isoformat()}
    ).json()
    assert [
        (c["subcategory"], c["previous"], c["status"])
        for c in changes
        if c["subcategory"] == FAIRNESS
    ] == [(FAIRNESS, "met", "not_met")]


def test_reading_a_posture_costs_the_same_queries_with_10_and_5000_items(
    acme: Tenant, officer: APIClient
) -> None:
    from tests.api.posture_support import bulk_performance

    bulk_performance(acme, 10)
    with CaptureQueriesContext(connection) as few:
        officer.get("/api/v1/systems/credit-scoring/posture/")
    bulk_performance(acme, 4990)
    with CaptureQueriesContext(connection) as many:
        body = officer.get("/api/v1/systems/credit-scoring/posture/").json()

    assert len(few.captured_queries) == len(many.captured_queries)
    assert next(r for r in body["subcategories"] if r["id"] == "MEASURE 2.3")["status"] == "met"


def test_officer_overrides_a_verdict_with_a_justification_and_it_is_audited(
    acme: Tenant, officer: APIClient
) -> None:
    submit(acme, fairness(ratio=0.6))
    expires = (datetime.now(tz=UTC) + timedelta(days=30)).isoformat()

    response = officer.post(
        "/api/v1/systems/credit-scoring/overrides/",
        {
            "subcategory": FAIRNESS,
            "kind": "override",
            "status": "met",
            "justification": "Reviewed with legal: the gap comes from a pilot region.",
            "expires_at": expires,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    found = verdict(officer, FAIRNESS)
    assert (found["status"], found["computed_status"], found["overridden"]) == (
        "met",
        "not_met",
        True,
    )
    assert found["override"]["justification"].startswith("Reviewed with legal")
    assert AuditEvent.objects.filter(action="verdict.override").count() == 1


def test_officer_marks_an_outcome_not_applicable_and_it_is_audited(
    acme: Tenant, officer: APIClient
) -> None:
    expires = (datetime.now(tz=UTC) + timedelta(days=90)).isoformat()
    response = officer.post(
        "/api/v1/systems/credit-scoring/overrides/",
        {
            "subcategory": "MEASURE 2.12",
            "kind": "not_applicable",
            "justification": "A rules engine: no training, negligible energy.",
            "expires_at": expires,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert verdict(officer, "MEASURE 2.12")["status"] == "not_applicable"
    assert AuditEvent.objects.filter(action="verdict.not_applicable").count() == 1


def test_an_override_without_justification_is_refused_and_nothing_is_written(
    officer: APIClient,
) -> None:
    before = db_snapshot()
    response = officer.post(
        "/api/v1/systems/credit-scoring/overrides/",
        {
            "subcategory": FAIRNESS,
            "kind": "override",
            "status": "met",
            "justification": "   ",
            "expires_at": (datetime.now(tz=UTC) + timedelta(days=3)).isoformat(),
        },
        format="json",
    )

    assert_envelope(response, 400, "validation_error")
    assert "justification" in response.json()["extra"]["fields"]
    assert_nothing_written(before)


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineer_or_auditor_overriding_gets_403(role: Role, system: Any, api_for: Any) -> None:
    client = api_for(role)
    before = db_snapshot()
    response = client.post(
        "/api/v1/systems/credit-scoring/overrides/",
        {
            "subcategory": FAIRNESS,
            "kind": "not_applicable",
            "justification": "x",
            "expires_at": "2027-01-01T00:00:00Z",
        },
        format="json",
    )

    assert_envelope(response, 403, "permission_denied")
    assert_nothing_written(before)


def test_policy_raises_a_threshold_and_the_verdict_follows_and_is_audited(
    acme: Tenant, officer: APIClient
) -> None:
    submit(acme, fairness(ratio=0.85))
    assert verdict(officer, FAIRNESS)["status"] == "met"

    response = officer.post(
        "/api/v1/policies/",
        {"thresholds": {"fairness.demographic-parity-ratio": {"threshold": 0.9, "band": 0.0}}},
        format="json",
    )
    drain()

    assert response.status_code == 201, response.content
    found = verdict(officer, FAIRNESS)
    assert found["status"] == "not_met"
    assert found["policy_version"] == 1
    assert found["rules_version"].startswith("2026.11+")
    assert AuditEvent.objects.filter(action="policy.update").count() == 1


def test_policy_for_a_risk_tier_wins_for_systems_of_that_tier(
    acme: Tenant, system: Any, officer: APIClient
) -> None:
    submit(acme, fairness(ratio=0.85))
    officer.post(
        "/api/v1/policies/",
        {
            "thresholds": {},
            "tiers": {"high": {"fairness.demographic-parity-ratio": {"threshold": 0.9, "band": 0}}},
        },
        format="json",
    )
    drain()
    assert verdict(officer, FAIRNESS)["status"] == "met"

    officer.patch("/api/v1/systems/credit-scoring/", {"risk_tier": "high"}, format="json")
    drain()

    assert verdict(officer, FAIRNESS)["status"] == "not_met"


@pytest.mark.parametrize(
    ("thresholds", "field"),
    [
        (
            {"fairness.demographic-parity-ratio": {"threshold": 1.5}},
            "thresholds.fairness.demographic-parity-ratio",
        ),
        (
            {"fairness.demographic-parity-ratio": {"band": -0.1}},
            "thresholds.fairness.demographic-parity-ratio",
        ),
        ({"no-such-rule": {"threshold": 0.5}}, "thresholds.no-such-rule"),
        (
            {"fairness.demographic-parity-ratio": {"threshold": "high"}},
            "thresholds.fairness.demographic-parity-ratio.threshold",
        ),
    ],
    ids=["threshold out of range", "negative band", "unknown rule", "not a number"],
)
def test_a_bad_policy_is_refused_naming_the_field_and_nothing_is_written(
    thresholds: dict[str, Any], field: str, officer: APIClient
) -> None:
    before = db_snapshot()
    response = officer.post("/api/v1/policies/", {"thresholds": thresholds}, format="json")

    assert_envelope(response, 400, "validation_error")
    assert field in response.json()["extra"]["fields"]
    assert_nothing_written(before)


def test_the_oscal_export_validates_with_trestle(acme: Tenant, officer: APIClient) -> None:
    from trestle.core.duplicates_validator import DuplicatesValidator
    from trestle.oscal.assessment_results import AssessmentResults

    item = submit(acme, fairness(ratio=0.6))
    response = officer.get("/api/v1/systems/credit-scoring/posture/oscal/")

    assert response.status_code == 200
    document = response.json()["assessment-results"]
    model = AssessmentResults.model_validate(document)
    assert DuplicatesValidator().model_is_valid(model, True, None)
    (result,) = document["results"]
    assert [o["uuid"] for o in result["observations"]]
    assert any(str(item.uid) in json_text(o) for o in result["observations"])


def json_text(value: Any) -> str:
    import json

    return json.dumps(value)


def test_outsider_gets_404_for_a_foreign_systems_posture(
    globex: Tenant, api_for: Any, system: Any
) -> None:
    response = api_for(Role.ADMIN, globex).get("/api/v1/systems/credit-scoring/posture/")

    assert_envelope(response, 404, "not_found")


def test_a_regression_proposes_one_risk_only_however_often_it_is_submitted(
    acme: Tenant, officer: APIClient
) -> None:
    from tests.api.posture_support import regression_setup, strong_groups, weak_groups

    regression_setup(acme)
    submit(acme, fairness(ratio=0.95, version="1.0", groups=strong_groups()))
    submit(acme, fairness(ratio=0.95, version="1.1", groups=weak_groups()))
    for day in range(2, 5):
        submit(
            acme,
            fairness(ratio=0.95, version="1.1", groups=weak_groups(), effective=f"2026-11-0{day}"),
        )

    found = verdict(officer, "MEASURE 4.3")
    assert found["regression"] is True
    assert found["status"] == "not_met"
    assert verdict(officer, FAIRNESS)["status"] == "met"  # the threshold still passes
    findings = Finding.objects.filter(kind="regression")
    assert findings.count() == 3  # MEASURE 4.3, MEASURE 2.4 and MANAGE 4.1
    assert len({f.risk_id for f in findings}) == 1
    risks = Risk.objects.filter(source="finding", subcategories="MEASURE 4.3")
    assert risks.count() == 1
    assert {s.id for s in risks.get().subcategories.all()} == {
        "MEASURE 4.3",
        "MEASURE 2.4",
        "MANAGE 4.1",
    }
    assert risks.get().owner is not None


def test_a_new_override_replaces_the_one_in_force(acme: Tenant, officer: APIClient) -> None:
    from controls.models import Override

    submit(acme, fairness(ratio=0.6))
    body = {
        "subcategory": FAIRNESS,
        "kind": "override",
        "justification": "Reviewed with legal.",
        "expires_at": (datetime.now(tz=UTC) + timedelta(days=30)).isoformat(),
    }
    officer.post(
        "/api/v1/systems/credit-scoring/overrides/", body | {"status": "met"}, format="json"
    )
    officer.post(
        "/api/v1/systems/credit-scoring/overrides/",
        body | {"status": "partially_met"},
        format="json",
    )

    assert verdict(officer, FAIRNESS)["status"] == "partially_met"
    assert Override.objects.filter(ended_at__isnull=True).count() == 1
    event = AuditEvent.objects.filter(action="verdict.override").order_by("pk").last()
    assert event is not None
    assert len(event.changes["replaces"]["after"]) == 1


def test_a_tier_band_is_checked_with_the_organisation_wide_threshold_under_it(
    officer: APIClient,
) -> None:
    response = officer.post(
        "/api/v1/policies/",
        {
            "thresholds": {"fairness.demographic-parity-ratio": {"threshold": 0.1}},
            "tiers": {"high": {"fairness.demographic-parity-ratio": {"band": 0.2}}},
        },
        format="json",
    )

    assert_envelope(response, 400, "validation_error")
    assert "tiers.high.fairness.demographic-parity-ratio" in response.json()["extra"]["fields"]
