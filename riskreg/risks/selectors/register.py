"""Reads of the register itself, scoped to the actor's organisation."""

from datetime import date
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from riskreg.lib.errors import ForeignReferenceError, NotFoundError
from riskreg.lib.models import reference_number
from riskreg.organisations.actor import Actor
from riskreg.risks.models import (
    LEVELS,
    OPEN_ACTION_STATUSES,
    Risk,
    RiskStatus,
    TreatmentAction,
)

# Risks under review on a cadence; the others are settled or not yet confirmed.
REVIEWED = (RiskStatus.OPEN, RiskStatus.TREATING, RiskStatus.ACCEPTED)
OVERDUE = ("treatment", "review", "any")
# Settled risks: the heat maps leave them out.
NOT_LIVE = (RiskStatus.DISMISSED, RiskStatus.CLOSED)
# ?sort= values: the register's columns, each ascending; "-" in front reverses it.
SORTS = {
    "reference": ("number",),
    "title": ("title", "number"),
    "status": ("status", "number"),
    "level": ("level_rank", "number"),
    "next_review": ("next_review_date", "number"),
    "updated": ("updated_at", "number"),
}


def overdue_actions(today: date) -> QuerySet[TreatmentAction]:
    return TreatmentAction.objects.filter(status__in=OPEN_ACTION_STATUSES, due_date__lt=today)


def review_overdue_q(today: date) -> Q:
    return Q(status__in=REVIEWED, next_review_date__lt=today)


def _rank() -> Any:
    """low=1 … critical=4, unscored 0: levels sort by severity, not by name."""
    return Case(
        *(When(level=level, then=Value(i + 1)) for i, level in enumerate(LEVELS)),
        default=Value(0),
        output_field=IntegerField(),
    )


def risk_scope(*, actor: Actor) -> QuerySet[Risk]:
    """The risks the actor may see, nothing loaded: the base of every other read."""
    risks = Risk.objects.filter(organization_id=actor.organization_id)
    if actor.system_ids is None:
        return risks
    return risks.filter(
        Exists(
            Risk.systems.through.objects.filter(
                risk_id=OuterRef("pk"), aisystem_id__in=actor.system_ids
            )
        )
    )


def risk_list(
    *,
    actor: Actor,
    status: str | None = None,
    system: str | None = None,
    owner: str | None = None,
    category: str | None = None,
    level: str | None = None,
    overdue: str | None = None,
    sort: str | None = None,
    cell: tuple[str, int, int] | None = None,
) -> QuerySet[Risk]:
    """Risks with owner, links and latest scores loaded, filtered as the register filters.

    A limited service account sees only its systems' risks. Each row carries
    `action_overdue` and `review_overdue` flags computed in the same query. `cell`
    (kind, likelihood, impact) keeps the risks that heat_map counts in that cell.
    """
    today = timezone.localdate()
    risks = risk_scope(actor=actor)
    if status:
        risks = risks.filter(status=status)
    if system:
        risks = risks.filter(
            Exists(
                Risk.systems.through.objects.filter(risk_id=OuterRef("pk"), aisystem__slug=system)
            )
        )
    if owner:
        risks = risks.filter(owner__user__username=owner)
    if category:
        risks = risks.filter(category=category)
    if level:
        risks = risks.filter(level=level)
    if cell:
        kind, likelihood, impact = cell
        risks = risks.exclude(status__in=NOT_LIVE).filter(
            **{f"{kind}_score__likelihood": likelihood, f"{kind}_score__impact": impact}
        )
    risks = risks.annotate(
        action_overdue=Exists(overdue_actions(today).filter(risk_id=OuterRef("pk"))),
        review_overdue=ExpressionWrapper(review_overdue_q(today), output_field=BooleanField()),
        level_rank=_rank(),
    )
    if overdue == "treatment":
        risks = risks.filter(action_overdue=True)
    elif overdue == "review":
        risks = risks.filter(review_overdue=True)
    elif overdue == "any":
        risks = risks.filter(Q(action_overdue=True) | Q(review_overdue=True))
    reverse = (sort or "").startswith("-")
    order = SORTS.get((sort or "").lstrip("-"), SORTS["reference"])
    return (
        risks.select_related(
            "owner__user",
            "inherent_score__matrix",
            "current_score__matrix",
            "residual_score__matrix",
        )
        .prefetch_related("systems", "model_versions__system", "datasets", "subcategories")
        .order_by(*(f"-{name}" if reverse else name for name in order))
    )


def risk_get(*, actor: Actor, reference: str) -> Risk:
    """A risk by its reference code (RSK-001) or number."""
    number = reference_number(reference, "RSK-")
    risk = risk_list(actor=actor).filter(number=number).first() if number is not None else None
    if risk is None:
        raise NotFoundError(f"No risk {reference!r} in your organisation.")
    return risk


def risk_summary(*, actor: Actor) -> dict[str, Any]:
    """Counts by status and by level (live risks), overdue actions and reviews."""
    today = timezone.localdate()
    risks = risk_scope(actor=actor)
    by_status = dict(risks.values_list("status").annotate(n=Count("pk")).order_by())
    live = risks.exclude(status__in=(RiskStatus.DISMISSED, RiskStatus.CLOSED))
    by_level = dict(live.exclude(level="").values_list("level").annotate(n=Count("pk")).order_by())
    return {
        "by_status": {status: by_status.get(status, 0) for status in RiskStatus.values},
        "by_level": {level: by_level.get(level, 0) for level in LEVELS},
        "overdue_actions": overdue_actions(today).filter(risk__in=risks.values("pk")).count(),
        "overdue_reviews": risks.filter(review_overdue_q(today)).count(),
    }


def risk_status_counts_by_system(*, actor: Actor) -> dict[int, dict[str, int]]:
    """For each system, how many linked risks are in each status (one grouped query)."""
    rows = (
        Risk.systems.through.objects.filter(risk__organization_id=actor.organization_id)
        .values_list("aisystem_id", "risk__status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = {}
    for system_id, status, n in rows:
        counts.setdefault(system_id, {})[status] = n
    return counts


def risk_list_by_dataset(*, actor: Actor, dataset_id: int) -> QuerySet[Risk]:
    """Risks that name the dataset, loaded as risk_list loads them."""
    return risk_list(actor=actor).filter(datasets__pk=dataset_id)


def risks_by_references(*, actor: Actor, references: list[str], field: str) -> list[Risk]:
    """Resolve reference codes within the organisation; an unknown one is a 400 naming field."""
    found = []
    for reference in references:
        try:
            found.append(risk_get(actor=actor, reference=reference))
        except NotFoundError as exc:
            raise ForeignReferenceError.for_field(field, reference) from exc
    return found
