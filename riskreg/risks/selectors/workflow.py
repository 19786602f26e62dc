"""Reads of a risk's workflow: scores, treatment actions, acceptances, reviews, comments,
field history, and the organisation's matrix."""

from datetime import timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from riskreg.audit.selectors import audit_event_list
from riskreg.lib.errors import NotFoundError
from riskreg.organisations.actor import Actor
from riskreg.risks.models import (
    Risk,
    RiskAcceptance,
    RiskComment,
    RiskMatrix,
    RiskReview,
    RiskScore,
    TreatmentAction,
)
from riskreg.risks.selectors.register import overdue_actions, risk_scope
from riskreg.risks.services.matrix import DEFAULTS

# "Soon" for the dashboard and the register summary: what falls due within this many days.
DUE_SOON_DAYS = 30


def matrix_current(*, organization_id: int) -> RiskMatrix:
    """The organisation's newest matrix; the defaults (as version 1, unsaved) before any."""
    latest = RiskMatrix.objects.filter(organization_id=organization_id).order_by("-version").first()
    return latest or RiskMatrix(
        organization_id=organization_id, version=1, created_by="riskreg", **DEFAULTS
    )


def matrix_versions(*, organization_id: int) -> QuerySet[RiskMatrix]:
    return RiskMatrix.objects.filter(organization_id=organization_id).order_by("-version")


def score_list(*, risk: Risk) -> QuerySet[RiskScore]:
    """Every scoring of the risk, newest first, with the matrix each was made on."""
    return RiskScore.objects.filter(risk=risk).select_related("matrix").order_by("-pk")


def action_list(
    *,
    actor: Actor,
    risk: Risk | None = None,
    owner: str | None = None,
    status: str | None = None,
    overdue: bool = False,
) -> QuerySet[TreatmentAction]:
    """Treatment actions of one risk, or the organisation's treatment plan, by due date."""
    rows = TreatmentAction.objects.filter(risk__in=risk_scope(actor=actor).values("pk"))
    if risk is not None:
        rows = rows.filter(risk=risk)
    if owner:
        rows = rows.filter(owner__user__username=owner)
    if status:
        rows = rows.filter(status=status)
    if overdue:
        rows = rows.filter(pk__in=overdue_actions(timezone.localdate()).values("pk"))
    return rows.select_related("risk", "owner__user").order_by("due_date", "risk__number", "number")


def action_get(*, actor: Actor, risk: Risk, number: str) -> TreatmentAction:
    """An action by its number within the risk (A2 or 2)."""
    digits = number.upper().removeprefix("A")
    found = None
    if digits.isascii() and digits.isdigit() and len(digits) <= 9:
        found = action_list(actor=actor, risk=risk).filter(number=int(digits)).first()
    if found is None:
        raise NotFoundError(f"No action {number!r} on {risk.reference}.")
    return found


def acceptance_list(*, risk: Risk) -> QuerySet[RiskAcceptance]:
    return (
        RiskAcceptance.objects.filter(risk=risk)
        .select_related("residual_score", "matrix")
        .order_by("-pk")
    )


def acceptances_expiring(*, actor: Actor, within_days: int) -> QuerySet[RiskAcceptance]:
    """Acceptances in force that run out within the next within_days days, soonest first."""
    today = timezone.localdate()
    return (
        RiskAcceptance.objects.filter(
            risk__in=risk_scope(actor=actor).values("pk"),
            ended_at__isnull=True,
            valid_until__lte=today + timedelta(days=within_days),
        )
        .select_related("risk")
        .order_by("valid_until", "risk__number")
    )


def review_list(*, risk: Risk) -> QuerySet[RiskReview]:
    return RiskReview.objects.filter(risk=risk).order_by("-pk")


def comment_list(*, risk: Risk) -> QuerySet[RiskComment]:
    return RiskComment.objects.filter(risk=risk).order_by("pk")


def risk_history(*, actor: Actor, risk: Risk) -> list[dict[str, Any]]:
    """Field-level history from the audit trail, oldest first: one row per changed field."""
    events = audit_event_list(
        organization_id=actor.organization_id, object_type="risk", object_id=str(risk.pk)
    )
    rows = []
    for event in events:
        for field, change in sorted(event.changes.items()):
            rows.append(
                {
                    "seq": event.seq,
                    "at": event.created_at,
                    "actor": event.actor_label,
                    "action": event.action,
                    "field": field,
                    "before": change.get("before") if isinstance(change, dict) else None,
                    "after": change.get("after") if isinstance(change, dict) else change,
                }
            )
    return rows


def heat_map(*, actor: Actor, kind: str) -> list[list[int]]:
    """Counts of live risks by likelihood (rows, 5 first) and impact (columns, 1 first).

    Live means not dismissed or closed; one grouped query.
    """
    rows = (
        risk_scope(actor=actor)
        .exclude(status__in=("dismissed", "closed"))
        .filter(**{f"{kind}_score__isnull": False})
        .values_list(f"{kind}_score__likelihood", f"{kind}_score__impact")
        .annotate(n=Count("pk"))
        .order_by()
    )
    grid = [[0] * 5 for _ in range(5)]
    for likelihood, impact, n in rows:
        grid[5 - likelihood][impact - 1] = n
    return grid


def acceptances_in_force_by_system(*, organization_id: int) -> dict[int, list[str]]:
    """system id -> references of its risks with an acceptance in force today."""
    today = timezone.localdate()
    rows = (
        RiskAcceptance.objects.filter(
            risk__organization_id=organization_id, ended_at__isnull=True, valid_until__gte=today
        )
        .values_list("risk__systems", "risk__number")
        .order_by("risk__number")
    )
    found: dict[int, list[str]] = {}
    for system_id, number in rows:
        if system_id is not None:
            found.setdefault(system_id, []).append(f"RSK-{number:03d}")
    return found
