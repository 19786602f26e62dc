"""The register's workflow: scoring on a versioned matrix, treatment, acceptance with its
rules (role, segregation of duties, tolerance, expiry, renewal), dismissal, reviews,
comments and field history — at service level and through the API."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from riskreg.audit.models import AuditEvent
from riskreg.lib.errors import ApplicationError, PermissionDeniedError
from riskreg.organisations import services as orgs
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import Role
from riskreg.risks.models import Risk, RiskAcceptance, RiskScore
from riskreg.risks.selectors import register as registers
from riskreg.risks.selectors import workflow as selectors
from riskreg.risks.services import acceptance, matrix, scoring, treatment
from riskreg.risks.services import register as risks
from tests.api.helpers import assert_envelope, assert_nothing_written, db_snapshot
from tests.conftest import Tenant

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def make_risk(tenant: Tenant, *, owner: str | None = "engineer", residual: int = 2) -> Risk:
    """An open risk owned by `owner`, scored 4x4 inherent and residual x residual."""
    actor = tenant.actor
    risk = risks.risk_create(
        actor=actor,
        title="Proxy discrimination",
        statement="Postcode stands in for ethnicity.",
        category="fairness",
        owner=owner,
    )
    risks.risk_transition(actor=actor, risk=risk, status="open")
    scoring.risk_score(actor=actor, risk=risk, kind="inherent", likelihood=4, impact=4)
    scoring.risk_score(actor=actor, risk=risk, kind="residual", likelihood=residual, impact=2)
    return Risk.objects.get(pk=risk.pk)


def accept(tenant: Tenant, role: Role, risk: Risk, **changes: Any) -> RiskAcceptance:
    values: dict[str, Any] = {
        "justification": "Low after retraining.",
        "conditions": "The drift report stays green.",
        "valid_until": timezone.localdate() + timedelta(days=30),
    }
    return acceptance.risk_accept(actor=tenant.actor_for(role), risk=risk, **(values | changes))


def refusal(call: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught, transaction.atomic():
        call()
    return caught.value


# --- scoring ---------------------------------------------------------------------------


def test_scores_keep_the_matrix_version_they_were_made_on(acme: Tenant) -> None:
    risk = make_risk(acme)
    old = Risk.objects.get(pk=risk.pk).residual_score
    assert old is not None
    assert (old.matrix.version, old.level) == (1, "low")

    matrix.matrix_update(
        actor=acme.actor_for(Role.ADMIN),
        band_limits={"low": 2, "medium": 3, "high": 9},
        impact_labels=["Tiny", "Small", "Medium", "Large", "Huge"],
    )
    scoring.risk_score(actor=acme.actor, risk=risk, kind="current", likelihood=2, impact=2)

    old.refresh_from_db()
    new = RiskScore.objects.get(risk=risk, kind="current")
    assert (old.matrix.version, old.level, old.impact_label) == (1, "low", "Minor")
    assert (new.matrix.version, new.level, new.impact_label) == (2, "high", "Small")


def test_rating_level_follows_the_current_score_else_the_inherent_one(acme: Tenant) -> None:
    risk = make_risk(acme)
    assert Risk.objects.get(pk=risk.pk).level == "high"  # inherent 4x4 = 16

    scoring.risk_score(actor=acme.actor, risk=risk, kind="current", likelihood=5, impact=5)

    assert Risk.objects.get(pk=risk.pk).level == "critical"


def test_officer_scores_through_the_api_and_the_heat_map_counts_it(
    acme: Tenant, api_for: Any
) -> None:
    risk = make_risk(acme)
    officer = api_for(Role.COMPLIANCE_OFFICER)

    answer = officer.post(
        f"/api/v1/risks/{risk.reference}/scores/",
        {"kind": "residual", "likelihood": 1, "impact": 3, "rationale": "Controls work."},
        format="json",
    )
    summary = officer.get("/api/v1/risks/summary/").json()

    assert answer.status_code == 201, answer.content
    residual = answer.json()["residual_score"]
    assert (residual["score"], residual["level"], residual["impact_label"]) == (
        3,
        "low",
        "Moderate",
    )
    assert summary["residual_heat_map"][4][2] == 1  # likelihood 1 is the last row
    assert summary["inherent_heat_map"][1][3] == 1  # 4x4


def test_engineer_cannot_score_and_nothing_is_written(acme: Tenant, api_for: Any) -> None:
    risk = make_risk(acme)
    engineer = api_for(Role.ENGINEER)
    before = db_snapshot()

    answer = engineer.post(
        f"/api/v1/risks/{risk.reference}/scores/",
        {"kind": "residual", "likelihood": 1, "impact": 1},
        format="json",
    )

    assert_envelope(answer, 403, "permission_denied")
    assert_nothing_written(before)


def test_the_database_refuses_to_rewrite_a_score_or_a_matrix_version(acme: Tenant) -> None:
    risk = make_risk(acme)
    score = RiskScore.objects.filter(risk=risk).first()
    assert score is not None

    for sql in (
        "UPDATE risks_riskscore SET likelihood = 1, impact = 1, score = 1 WHERE id = %s",
        "DELETE FROM risks_riskscore WHERE id = %s",
        "UPDATE risks_riskmatrix SET tolerance = 'critical' WHERE id = %s",
    ):
        row = score.pk if "riskscore" in sql else score.matrix_id
        # Raw SQL: the ORM's own PROTECT checks must not be what refuses the DELETE.
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [row])

    score.refresh_from_db()
    assert (score.likelihood, score.impact) == (4, 4)


# --- acceptance rules ------------------------------------------------------------------


def test_officer_accepts_a_risk_someone_else_owns(acme: Tenant) -> None:
    risk = make_risk(acme, owner="engineer")

    row = accept(acme, Role.COMPLIANCE_OFFICER, risk)

    risk.refresh_from_db()
    assert (risk.status, risk.treatment_decision) == ("accepted", "accept")
    assert (row.residual_level, row.tolerance, row.accepted_by_label) == (
        "low",
        "medium",
        "officer",
    )
    assert AuditEvent.objects.filter(action="risk.accept", object_id=str(risk.pk)).count() == 1


def test_owner_may_not_accept_their_own_risk_even_as_admin(acme: Tenant) -> None:
    for role, owner in ((Role.COMPLIANCE_OFFICER, "officer"), (Role.ADMIN, "admin")):
        risk = make_risk(acme, owner=owner)

        error = refusal(lambda: accept(acme, role, risk))  # noqa: B023 - called at once

        assert error.code == "segregation_of_duties"
        assert "segregation of duties" in error.message
        assert Risk.objects.get(pk=risk.pk).status == "open"


def test_officer_may_not_accept_above_tolerance_but_admin_may(acme: Tenant) -> None:
    risk = make_risk(acme, residual=4)  # 4x2 = 8: medium; tolerance lowered to low below
    matrix.matrix_update(actor=acme.actor_for(Role.ADMIN), tolerance="low")

    error = refusal(lambda: accept(acme, Role.COMPLIANCE_OFFICER, risk))
    row = accept(acme, Role.ADMIN, risk)

    assert error.code == "above_tolerance"
    assert "'medium'" in error.message
    assert "'low'" in error.message
    assert (row.residual_level, row.tolerance, row.accepted_by_role) == ("medium", "low", "admin")


def test_engineers_auditors_and_service_accounts_never_accept(acme: Tenant) -> None:
    risk = make_risk(acme, owner=None)
    account = orgs.service_account_create(
        actor=acme.actor, name="CI", slug="ci", role=Role.COMPLIANCE_OFFICER
    )
    robot = Actor(
        organization_id=acme.org.pk,
        role=Role.COMPLIANCE_OFFICER,
        label="ci",
        service_account_id=account.pk,
    )
    values = {"justification": "j", "conditions": "c", "valid_until": TODAY + timedelta(days=9)}

    refused = [
        refusal(lambda: accept(acme, role, risk)).code  # noqa: B023 - called at once
        for role in (Role.ENGINEER, Role.AUDITOR)
    ]
    robot_refused = refusal(lambda: acceptance.risk_accept(actor=robot, risk=risk, **values))

    assert refused == ["permission_denied", "permission_denied"]
    assert not isinstance(robot_refused, PermissionDeniedError)
    assert robot_refused.code == "acceptance_needs_person"
    assert Risk.objects.get(pk=risk.pk).status == "open"


def test_acceptance_needs_a_residual_score_and_an_open_risk(acme: Tenant) -> None:
    unscored = risks.risk_create(actor=acme.actor, title="t", statement="s", category="privacy")
    proposed_error = refusal(lambda: accept(acme, Role.ADMIN, unscored))
    risks.risk_transition(actor=acme.actor, risk=unscored, status="open")

    unscored_error = refusal(lambda: accept(acme, Role.ADMIN, unscored))

    assert proposed_error.code == "invalid_transition"
    assert unscored_error.code == "residual_score_required"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("justification", "  "),
        ("conditions", ""),
        ("valid_until", TODAY),
        ("valid_until", TODAY - timedelta(days=1)),
        ("valid_until", TODAY + timedelta(days=366)),
    ],
)
def test_acceptance_requires_justification_conditions_and_a_date_within_a_year(
    acme: Tenant, field: str, value: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        risk = make_risk(acme)

        error = refusal(lambda: accept(acme, Role.COMPLIANCE_OFFICER, risk, **{field: value}))

    assert (error.code, list(error.extra["fields"])) == ("validation_error", [field])
    assert not RiskAcceptance.objects.filter(risk=risk).exists()


def test_expired_acceptance_returns_the_risk_to_open_once(acme: Tenant) -> None:
    with time_machine.travel(NOW, tick=False):
        risk = make_risk(acme)
        row = accept(acme, Role.COMPLIANCE_OFFICER, risk, valid_until=TODAY + timedelta(days=10))

    with time_machine.travel(NOW + timedelta(days=10), tick=False):
        on_the_last_day = acceptance.acceptance_expire_due()
    with time_machine.travel(NOW + timedelta(days=11), tick=False):
        the_day_after = acceptance.acceptance_expire_due()
        again = acceptance.acceptance_expire_due()

    risk.refresh_from_db()
    row.refresh_from_db()
    assert (on_the_last_day, the_day_after, again) == (0, 1, 0)
    assert risk.status == "open"
    assert row.end_reason == "expired"
    event = AuditEvent.objects.filter(action="risk.accept_expire").get()
    assert (event.actor_type, event.changes["status"]) == (
        "system",
        {"before": "accepted", "after": "open"},
    )


def test_accepting_again_renews_and_an_expired_one_can_be_accepted_anew(acme: Tenant) -> None:
    with time_machine.travel(NOW, tick=False):
        risk = make_risk(acme)
        first = accept(acme, Role.COMPLIANCE_OFFICER, risk, valid_until=TODAY + timedelta(days=5))
        second = accept(acme, Role.ADMIN, risk, valid_until=TODAY + timedelta(days=20))
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        acceptance.acceptance_expire_due()
        risk.refresh_from_db()
        third = accept(acme, Role.COMPLIANCE_OFFICER, risk, valid_until=TODAY + timedelta(days=60))

    rows = {r.pk: r for r in RiskAcceptance.objects.filter(risk=risk)}
    assert [rows[first.pk].end_reason, rows[second.pk].end_reason] == ["renewed", "expired"]
    assert rows[third.pk].ended_at is None
    assert Risk.objects.get(pk=risk.pk).status == "accepted"
    assert AuditEvent.objects.filter(action="risk.accept_renew").count() == 1


def test_reopening_an_accepted_risk_ends_its_acceptance(acme: Tenant) -> None:
    risk = make_risk(acme)
    row = accept(acme, Role.COMPLIANCE_OFFICER, risk)
    risk.refresh_from_db()

    risks.risk_transition(actor=acme.actor_for(Role.COMPLIANCE_OFFICER), risk=risk, status="open")

    row.refresh_from_db()
    assert row.end_reason == "reopened"
    assert selectors.acceptance_list(risk=risk).filter(ended_at__isnull=True).count() == 0


# --- the API refuses with the rule's code ----------------------------------------------


def accept_body(days: int = 30) -> dict[str, str]:
    return {
        "justification": "Low after retraining.",
        "conditions": "Drift report green.",
        "valid_until": (timezone.localdate() + timedelta(days=days)).isoformat(),
    }


def test_engineer_posting_an_acceptance_gets_403(acme: Tenant, api_for: Any) -> None:
    risk = make_risk(acme, owner="officer")
    engineer = api_for(Role.ENGINEER)
    before = db_snapshot()

    answer = engineer.post(f"/api/v1/risks/{risk.reference}/accept/", accept_body(), format="json")

    assert_envelope(answer, 403, "permission_denied")
    assert_nothing_written(before)


def test_owner_accepting_through_the_api_is_refused_naming_the_rule(
    acme: Tenant, api_for: Any
) -> None:
    risk = make_risk(acme, owner="officer")
    officer = api_for(Role.COMPLIANCE_OFFICER)
    before = db_snapshot()

    answer = officer.post(f"/api/v1/risks/{risk.reference}/accept/", accept_body(), format="json")

    body = assert_envelope(answer, 403, "segregation_of_duties")
    assert body["extra"]["rule"] == "segregation_of_duties"
    assert_nothing_written(before)


def test_officer_accepting_above_tolerance_through_the_api_is_refused(
    acme: Tenant, api_for: Any
) -> None:
    risk = make_risk(acme, residual=5)  # 5x2 = 10: high, above the default tolerance
    officer = api_for(Role.COMPLIANCE_OFFICER)
    before = db_snapshot()

    answer = officer.post(f"/api/v1/risks/{risk.reference}/accept/", accept_body(), format="json")

    body = assert_envelope(answer, 403, "above_tolerance")
    assert body["extra"] == {"rule": "tolerance", "residual_level": "high", "tolerance": "medium"}
    assert_nothing_written(before)


def test_generic_update_and_transition_never_reach_accepted_or_dismissed(
    acme: Tenant, api_for: Any
) -> None:
    risk = make_risk(acme)
    officer = api_for(Role.COMPLIANCE_OFFICER)
    before = db_snapshot()

    patched = [
        officer.patch(f"/api/v1/risks/{risk.reference}/", {"status": s}, format="json")
        for s in ("accepted", "dismissed")
    ]
    moved = [
        officer.post(f"/api/v1/risks/{risk.reference}/transition/", {"status": s}, format="json")
        for s in ("accepted", "dismissed")
    ]

    for answer in patched:
        assert_envelope(answer, 400, "validation_error")
    for answer in moved:
        assert_envelope(answer, 409, "transition_reserved")
    assert_nothing_written(before)


def test_officer_dismisses_a_proposed_risk_with_a_reason_only(acme: Tenant, api_for: Any) -> None:
    proposed = risks.risk_create(actor=acme.actor, title="t", statement="s", category="privacy")
    opened = make_risk(acme)
    officer = api_for(Role.COMPLIANCE_OFFICER)

    done = officer.post(
        f"/api/v1/risks/{proposed.reference}/dismiss/", {"reason": "Duplicate."}, format="json"
    )
    refused = officer.post(
        f"/api/v1/risks/{opened.reference}/dismiss/", {"reason": "Duplicate."}, format="json"
    )

    assert (done.status_code, done.json()["status"], done.json()["dismissal_reason"]) == (
        200,
        "dismissed",
        "Duplicate.",
    )
    assert_envelope(refused, 409, "invalid_transition")


# --- treatment, reviews, comments, history ---------------------------------------------


def test_overdue_actions_and_reviews_are_flagged_and_filtered(acme: Tenant, api_for: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        late = make_risk(acme)
        treatment.treatment_action_create(
            actor=acme.actor, risk=late, title="Retrain", due_date=TODAY + timedelta(days=3)
        )
        fine = make_risk(acme)
    officer = api_for(Role.COMPLIANCE_OFFICER)

    with time_machine.travel(NOW + timedelta(days=4), tick=False):
        overdue = officer.get("/api/v1/risks/?overdue=treatment").json()["results"]
        plan = officer.get("/api/v1/risks/actions/?overdue=true").json()["results"]
    with time_machine.travel(NOW + timedelta(days=95), tick=False):
        # A fresh token: the first one expired after 90 days.
        reviews = (
            api_for(Role.COMPLIANCE_OFFICER).get("/api/v1/risks/?overdue=review").json()["results"]
        )

    assert [(r["reference"], r["action_overdue"]) for r in overdue] == [(late.reference, True)]
    assert [(a["risk"], a["number"], a["overdue"]) for a in plan] == [(late.reference, "A1", True)]
    # Both are high (inherent 4x4): a 90-day cadence from the day they were scored.
    assert {r["reference"] for r in reviews} == {late.reference, fine.reference}


def test_review_schedules_the_next_by_level_and_may_record_an_earlier_meeting(
    acme: Tenant, api_for: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        risk = make_risk(acme)
        answer = api_for(Role.COMPLIANCE_OFFICER).post(
            f"/api/v1/risks/{risk.reference}/reviews/",
            {"note": "Still relevant.", "reviewed_on": TODAY.isoformat()},
            format="json",
        )

    assert answer.status_code == 201, answer.content
    assert answer.json()["next_review_date"] == (TODAY + timedelta(days=90)).isoformat()
    assert Risk.objects.get(pk=risk.pk).last_reviewed_on == TODAY


def test_history_lists_each_changed_field_with_who_and_when(acme: Tenant, api_for: Any) -> None:
    risk = make_risk(acme)
    officer = api_for(Role.COMPLIANCE_OFFICER)
    officer.patch(f"/api/v1/risks/{risk.reference}/", {"title": "Proxy bias"}, format="json")
    officer.post(f"/api/v1/risks/{risk.reference}/comments/", {"text": "Seen."}, format="json")

    rows = officer.get(f"/api/v1/risks/{risk.reference}/history/").json()
    comments = officer.get(f"/api/v1/risks/{risk.reference}/comments/").json()

    title = [r for r in rows if r["field"] == "title"]
    assert [(r["before"], r["after"]) for r in title] == [
        (None, "Proxy discrimination"),
        ("Proxy discrimination", "Proxy bias"),
    ]
    assert title[-1]["actor"] == "officer"
    assert any(r["field"] == "residual_score" for r in rows)
    assert [(c["author"], c["text"]) for c in comments] == [("officer", "Seen.")]


def test_admin_changes_the_matrix_and_an_officer_cannot(acme: Tenant, api_for: Any) -> None:
    officer = api_for(Role.COMPLIANCE_OFFICER).patch(
        "/api/v1/risks/matrix/", {"tolerance": "high"}, format="json"
    )
    admin = api_for(Role.ADMIN).patch("/api/v1/risks/matrix/", {"tolerance": "high"}, format="json")
    same = api_for(Role.ADMIN).patch("/api/v1/risks/matrix/", {"tolerance": "high"}, format="json")

    assert_envelope(officer, 403, "permission_denied")
    assert (admin.status_code, admin.json()["version"], admin.json()["tolerance"]) == (
        200,
        1,
        "high",
    )
    assert same.json()["version"] == 1  # nothing changed, no new version
    assert selectors.matrix_current(organization_id=acme.org.pk).tolerance == "high"


def test_register_filters_are_validated_and_sort_by_level_severity(
    acme: Tenant, api_for: Any
) -> None:
    low = make_risk(acme)
    scoring.risk_score(actor=acme.actor, risk=low, kind="current", likelihood=1, impact=1)
    make_risk(acme)  # high
    officer = api_for(Role.COMPLIANCE_OFFICER)

    ordered = officer.get("/api/v1/risks/?sort=-level").json()["results"]
    bad = officer.get("/api/v1/risks/?level=extreme")

    assert [r["level"] for r in ordered] == ["high", "low"]
    assert_envelope(bad, 400, "validation_error")
    assert registers.risk_list(actor=acme.actor, level="low").count() == 1
