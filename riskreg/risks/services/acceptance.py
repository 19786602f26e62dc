"""Accepting and dismissing risks: the only ways into those two statuses.

The rules (docs/roles.md, "Accepting and dismissing risks"):
- only compliance officers and admins accept, and only as members (not service accounts);
- never the risk's own owner (segregation of duties);
- a residual level above the organisation's tolerance needs an admin;
- justification, conditions and a valid-until date are required; the date lies ahead and at
  most RISKREG_ACCEPTANCE_MAX_DAYS away;
- an acceptance that has run out returns the risk to open (acceptance_expire_due, periodic);
  accepting again while one is in force renews it;
- proposed risks are dismissed with a reason; confirming them is the plain move to open.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from riskreg.audit.services import audit_append
from riskreg.lib.errors import PermissionDeniedError, ValidationFailedError
from riskreg.lib.models import assign, save_changed
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import Role
from riskreg.risks.errors import (
    AcceptanceAboveToleranceError,
    AcceptanceNeedsPersonError,
    AcceptanceSegregationError,
    ResidualScoreRequiredError,
    RiskTransitionInvalidError,
)
from riskreg.risks.models import (
    LEVELS,
    AcceptanceEnd,
    Risk,
    RiskAcceptance,
    RiskStatus,
    TreatmentDecision,
)
from riskreg.risks.selectors.workflow import matrix_current
from riskreg.risks.services.matrix import matrix_ensure
from riskreg.risks.services.scoring import schedule_review

S = RiskStatus
ACCEPTABLE = (S.OPEN, S.TREATING, S.ACCEPTED)  # accepting an accepted risk renews it


def _required(name: str, text: str) -> str:
    if not text or not text.strip():
        raise ValidationFailedError.for_field(name, "is required")
    return text.strip()


def _check_valid_until(valid_until: date, today: date) -> None:
    longest = settings.RISKREG_ACCEPTANCE_MAX_DAYS
    if valid_until <= today:
        raise ValidationFailedError.for_field("valid_until", "must lie after today")
    if valid_until > today + timedelta(days=longest):
        raise ValidationFailedError.for_field(
            "valid_until", f"must lie at most {longest} days ahead"
        )


def check_may_accept(*, actor: Actor, risk: Risk, residual_level: str, tolerance: str) -> int:
    """Raise the refusal that names the rule, if any, for actor accepting risk.

    Returns the accepting member's membership id.
    """
    if actor.role not in (Role.ADMIN, Role.COMPLIANCE_OFFICER):
        raise PermissionDeniedError("Only compliance officers and admins accept risks.")
    if actor.membership_id is None:
        raise AcceptanceNeedsPersonError(
            "A service account may not accept a risk: acceptance is a person's decision."
        )
    if risk.owner_id is not None and risk.owner_id == actor.membership_id:
        raise AcceptanceSegregationError(
            f"You own {risk.reference}; segregation of duties requires someone else to accept it.",
            extra={"rule": "segregation_of_duties"},
        )
    if LEVELS.index(residual_level) > LEVELS.index(tolerance) and actor.role != Role.ADMIN:
        raise AcceptanceAboveToleranceError(
            f"The residual level {residual_level!r} is above the organisation's tolerance "
            f"{tolerance!r}; only an admin may accept it.",
            extra={"rule": "tolerance", "residual_level": residual_level, "tolerance": tolerance},
        )
    return actor.membership_id


def _end(acceptance: RiskAcceptance, reason: str) -> dict[str, object]:
    changes = assign(acceptance, {"ended_at": timezone.now(), "end_reason": reason})
    save_changed(acceptance, changes, stamp=False)
    _request_verdicts(acceptance.risk)
    return {"acceptance_ended": {"before": None, "after": reason}}


def acceptance_in_force(risk: Risk) -> RiskAcceptance | None:
    return RiskAcceptance.objects.filter(risk=risk, ended_at__isnull=True).first()


@transaction.atomic
def risk_accept(
    *, actor: Actor, risk: Risk, justification: str, conditions: str, valid_until: date
) -> RiskAcceptance:
    """Accept the risk's residual level until valid_until, or renew an acceptance in force."""
    # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the residual-score join.
    risk = (
        Risk.objects.select_for_update(of=("self",))
        .select_related("residual_score")
        .get(pk=risk.pk)
    )
    if risk.status not in ACCEPTABLE:
        raise RiskTransitionInvalidError(
            f"status: a {risk.status!r} risk cannot be accepted",
            extra={"from": risk.status, "to": S.ACCEPTED, "allowed": list(ACCEPTABLE)},
        )
    if risk.residual_score is None:
        raise ResidualScoreRequiredError(
            f"{risk.reference} has no residual score; score it before accepting it."
        )
    justification = _required("justification", justification)
    conditions = _required("conditions", conditions)
    today = timezone.localdate()
    _check_valid_until(valid_until, today)
    matrix = matrix_ensure(actor=actor)
    residual = risk.residual_score
    member_id = check_may_accept(
        actor=actor, risk=risk, residual_level=residual.level, tolerance=matrix.tolerance
    )
    changes: dict[str, object] = {}
    previous = acceptance_in_force(risk)
    if previous is not None:
        changes |= _end(previous, AcceptanceEnd.RENEWED)
    acceptance = RiskAcceptance(
        risk=risk,
        accepted_by_id=member_id,
        accepted_by_label=actor.label,
        accepted_by_role=actor.role,
        justification=justification,
        conditions=conditions,
        valid_until=valid_until,
        residual_score=residual,
        residual_level=residual.level,
        tolerance=matrix.tolerance,
        matrix=matrix,
    )
    acceptance.full_clean()
    acceptance.save()
    risk_changes = assign(
        risk, {"status": S.ACCEPTED, "treatment_decision": TreatmentDecision.ACCEPT}
    )
    risk_changes |= schedule_review(risk, matrix, today)
    save_changed(risk, risk_changes)
    changes |= risk_changes
    changes["acceptance"] = {
        "before": None,
        "after": {
            "justification": justification,
            "conditions": conditions,
            "valid_until": valid_until,
            "residual_level": residual.level,
            "tolerance": matrix.tolerance,
        },
    }
    action = "risk.accept_renew" if previous is not None else "risk.accept"
    audit_append(actor=actor, action=action, object_type="risk", object_id=risk.pk, changes=changes)
    _request_verdicts(risk)
    return acceptance


def _request_verdicts(risk: Risk) -> None:
    """An acceptance in force is evidence for MANAGE 1.3 and 1.4 of the risk's systems."""
    from controls.services.updates import verdicts_request  # controls reads the register

    verdicts_request(organization_id=risk.organization_id, system_id=None, cause="acceptance")


@transaction.atomic
def risk_dismiss(*, actor: Actor, risk: Risk, reason: str) -> Risk:
    """Dismiss a proposed risk with a reason (it was never a risk, or a duplicate)."""
    if risk.status != S.PROPOSED:
        raise RiskTransitionInvalidError(
            f"status: only proposed risks are dismissed, not {risk.status!r} ones",
            extra={"from": risk.status, "to": S.DISMISSED, "allowed": [S.PROPOSED]},
        )
    changes = assign(risk, {"status": S.DISMISSED, "dismissal_reason": _required("reason", reason)})
    save_changed(risk, changes)
    audit_append(
        actor=actor, action="risk.dismiss", object_type="risk", object_id=risk.pk, changes=changes
    )
    return risk


def end_acceptance_on_leaving(risk: Risk, status: str) -> dict[str, object]:
    """When an accepted risk is reopened or closed by hand, its acceptance ends with it."""
    acceptance = acceptance_in_force(risk)
    if acceptance is None:
        return {}
    reason = AcceptanceEnd.CLOSED if status == S.CLOSED else AcceptanceEnd.REOPENED
    return _end(acceptance, reason)


@transaction.atomic
def _expire(acceptance_id: int, today: date) -> bool:
    acceptance = (
        RiskAcceptance.objects.select_for_update()
        .select_related("risk")
        .filter(pk=acceptance_id, ended_at__isnull=True, valid_until__lt=today)
        .first()
    )
    if acceptance is None:  # renewed or expired by another run meanwhile
        return False
    risk = acceptance.risk
    actor = Actor.system(risk.organization_id)
    ended = _end(acceptance, AcceptanceEnd.EXPIRED)
    changes = assign(risk, {"status": S.OPEN})
    changes |= schedule_review(risk, matrix_current(organization_id=risk.organization_id), today)
    save_changed(risk, changes)
    audit_append(
        actor=actor,
        action="risk.accept_expire",
        object_type="risk",
        object_id=risk.pk,
        changes=ended | changes,
    )
    return True


def acceptance_expire_due(*, today: date | None = None) -> int:
    """Return every risk whose acceptance ran out (valid_until before today) to open.

    One transaction per risk, so one failure does not hold back the others; safe to run
    twice at once. Returns how many acceptances ended.
    """
    today = today or timezone.localdate()
    due = RiskAcceptance.objects.filter(ended_at__isnull=True, valid_until__lt=today)
    return sum(_expire(pk, today) for pk in due.values_list("pk", flat=True))
