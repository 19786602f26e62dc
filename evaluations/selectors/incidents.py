"""Reads of incidents, scoped to the actor's organisation (and a limited account's systems)."""

from django.db.models import QuerySet

from evaluations.models import Incident, IncidentTimelineEntry
from riskreg.lib.errors import NotFoundError
from riskreg.lib.models import reference_number
from riskreg.organisations.actor import Actor


def incident_list(
    *,
    actor: Actor,
    status: str | None = None,
    severity: str | None = None,
    system: str | None = None,
) -> QuerySet[Incident]:
    """Incidents, newest first, with their links loaded."""
    rows = Incident.objects.filter(organization_id=actor.organization_id)
    if actor.system_ids is not None:
        rows = rows.filter(systems__pk__in=actor.system_ids).distinct()
    if status:
        rows = rows.filter(status=status)
    if severity:
        rows = rows.filter(severity=severity)
    if system:
        rows = rows.filter(systems__slug=system)
    return rows.prefetch_related("systems", "model_versions__system", "risks").order_by("-number")


def incident_get(*, actor: Actor, reference: str) -> Incident:
    """An incident by its reference code (INC-001) or number."""
    number = reference_number(reference, "INC-")
    found = incident_list(actor=actor).filter(number=number).first() if number is not None else None
    if found is None:
        raise NotFoundError(f"No incident {reference!r} in your organisation.")
    return found


def incident_timeline(*, incident: Incident) -> QuerySet[IncidentTimelineEntry]:
    return IncidentTimelineEntry.objects.filter(incident=incident).order_by("created_at", "id")
