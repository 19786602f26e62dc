"""Reads of the risk register, scoped to the actor's organisation."""

from django.db.models import Count, QuerySet

from riskreg.lib.errors import ForeignReferenceError, NotFoundError
from riskreg.lib.models import reference_number
from riskreg.organisations.actor import Actor
from riskreg.risks.models import Risk


def risk_list(
    *, actor: Actor, status: str | None = None, system: str | None = None
) -> QuerySet[Risk]:
    """Risks with owner and links loaded; a limited service account sees its systems' risks."""
    risks = Risk.objects.filter(organization_id=actor.organization_id)
    if actor.system_ids is not None:
        risks = risks.filter(systems__pk__in=actor.system_ids).distinct()
    if status:
        risks = risks.filter(status=status)
    if system:
        risks = risks.filter(systems__slug=system)
    return (
        risks.select_related("owner__user")
        .prefetch_related("systems", "model_versions__system", "datasets", "subcategories")
        .order_by("number")
    )


def risk_get(*, actor: Actor, reference: str) -> Risk:
    """A risk by its reference code (RSK-001) or number."""
    number = reference_number(reference, "RSK-")
    risk = risk_list(actor=actor).filter(number=number).first() if number is not None else None
    if risk is None:
        raise NotFoundError(f"No risk {reference!r} in your organisation.")
    return risk


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
