"""Scoring a risk on the organisation's matrix, and scheduling its reviews."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from riskreg.audit.services import audit_append
from riskreg.lib.errors import ValidationFailedError
from riskreg.lib.models import assign, save_changed
from riskreg.organisations.actor import Actor
from riskreg.risks.models import Risk, RiskMatrix, RiskReview, RiskScore, RiskStatus, ScoreKind
from riskreg.risks.selectors.workflow import matrix_current
from riskreg.risks.services.matrix import matrix_ensure

# Statuses whose risks are reviewed on a cadence; the others are settled or not yet confirmed.
REVIEWED = (RiskStatus.OPEN, RiskStatus.TREATING, RiskStatus.ACCEPTED)


def _scale(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationFailedError.for_field(
            name, f"must be a whole number from 1 to 5, not {value!r}"
        )
    return value


def rating_level(risk: Risk) -> str:
    """The level the register shows: the current score's, else the inherent one's."""
    latest = risk.current_score or risk.inherent_score
    return latest.level if latest else ""


def next_review(matrix: RiskMatrix, level: str, today: date) -> date:
    """Today plus the cadence of the level; unscored risks use the slowest cadence."""
    days = matrix.review_days[level] if level else max(matrix.review_days.values())
    return today + timedelta(days=days)


def schedule_review(risk: Risk, matrix: RiskMatrix, today: date) -> dict[str, dict[str, object]]:
    """Set the next review date of a risk under review; the caller saves and audits."""
    if risk.status not in REVIEWED:
        return assign(risk, {"next_review_date": None})
    return assign(risk, {"next_review_date": next_review(matrix, risk.level, today)})


@transaction.atomic
def risk_score(
    *, actor: Actor, risk: Risk, kind: str, likelihood: int, impact: int, rationale: str = ""
) -> RiskScore:
    """Record a score of one kind on the current matrix and make it the risk's latest.

    A changed level brings the next review forward (or pushes it back) to the new level's
    cadence, counted from today.
    """
    if kind not in ScoreKind.values:
        raise ValidationFailedError.for_field("kind", f"must be one of {ScoreKind.values}")
    likelihood, impact = _scale("likelihood", likelihood), _scale("impact", impact)
    matrix = matrix_ensure(actor=actor)
    score = likelihood * impact
    row = RiskScore(
        risk=risk,
        kind=kind,
        likelihood=likelihood,
        impact=impact,
        score=score,
        level=matrix.level_for(score),
        matrix=matrix,
        rationale=rationale,
        scored_by=actor.label,
    )
    row.full_clean()
    row.save()
    setattr(risk, f"{kind}_score", row)
    changes = {f"{kind}_score": _score_change(risk, kind, row)}
    level_before = risk.level
    changes |= assign(risk, {"level": rating_level(risk)})
    if risk.level != level_before:
        changes |= schedule_review(risk, matrix, timezone.localdate())
    save_changed(risk, {f"{kind}_score": True, **changes})
    audit_append(
        actor=actor, action="risk.score", object_type="risk", object_id=risk.pk, changes=changes
    )
    return row


def _score_change(risk: Risk, kind: str, row: RiskScore) -> dict[str, object]:
    previous = (
        RiskScore.objects.filter(risk=risk, kind=kind).exclude(pk=row.pk).order_by("-pk").first()
    )

    def label(s: RiskScore | None) -> str | None:
        return (
            f"{s.likelihood}x{s.impact}={s.score} {s.level} (matrix v{s.matrix.version})"
            if s
            else None
        )

    return {"before": label(previous), "after": label(row)}


@transaction.atomic
def risk_review(
    *, actor: Actor, risk: Risk, note: str, reviewed_on: date | None = None
) -> RiskReview:
    """Record that the risk was reviewed and schedule the next review by its level.

    reviewed_on records a review held on an earlier day (a meeting written up later); the
    next review counts from it. It may not lie in the future or before the risk was identified.
    """
    if risk.status not in REVIEWED:
        raise ValidationFailedError.for_field(
            "status", f"only open, treating or accepted risks are reviewed, not {risk.status!r}"
        )
    if not note.strip():
        raise ValidationFailedError.for_field("note", "must not be blank")
    matrix = matrix_current(organization_id=actor.organization_id)
    now = timezone.now()
    today = timezone.localdate(now)
    held = reviewed_on or today
    if held > today or held < risk.identified_on:
        raise ValidationFailedError.for_field(
            "reviewed_on", "must lie between the day the risk was identified and today"
        )
    due = next_review(matrix, risk.level, held)
    changes = assign(risk, {"next_review_date": due, "last_reviewed_on": held})
    review = RiskReview(
        risk=risk,
        reviewed_on=held,
        reviewer_id=actor.membership_id,
        reviewer_label=actor.label,
        note=note,
        next_review_date=due,
        created_at=now,
    )
    review.full_clean()
    review.save()
    save_changed(risk, changes)
    audit_append(
        actor=actor,
        action="risk.review",
        object_type="risk",
        object_id=risk.pk,
        changes=changes
        | {"review": {"before": None, "after": {"note": note, "reviewed_on": held}}},
    )
    return review
