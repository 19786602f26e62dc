"""Writes of incidents: report, update, move along the lifecycle, add to the timeline.

Every change also lands on the incident's append-only timeline and in the audit trail.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max

from evaluations.errors import IncidentTransitionInvalidError
from evaluations.models import (
    Incident,
    IncidentStatus,
    IncidentTimelineEntry,
    TimelineEntryKind,
)
from riskreg.audit.services import audit_append
from riskreg.inventory import selectors as inventory
from riskreg.lib.errors import PermissionDeniedError, ValidationFailedError
from riskreg.lib.models import assign, save_changed, set_links
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization
from riskreg.organisations.roles import ADMIN, OFFICER
from riskreg.risks.selectors import register as risks

S = IncidentStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.OPEN: frozenset({S.INVESTIGATING, S.CLOSED}),
    S.INVESTIGATING: frozenset({S.MITIGATED}),
    S.MITIGATED: frozenset({S.CLOSED, S.INVESTIGATING}),
    S.CLOSED: frozenset({S.INVESTIGATING}),
}
# Who may close: closing declares the incident handled, an officer's call.
CLOSERS = frozenset({ADMIN, OFFICER})
FIELDS = (
    "title",
    "description",
    "severity",
    "occurred_at",
    "detected_at",
    "harmed_parties",
    "near_miss",
    "root_cause",
    "corrective_actions",
    "regulator_notification_required",
    "regulator_deadline",
    "external_reference",
)
LINKS = ("systems", "model_versions", "risks")


def _links(actor: Actor, links: dict[str, Any]) -> dict[str, list[Any]]:
    resolved = inventory.inventory_links(actor=actor, links=links)
    if links.get("risks") is not None:
        resolved["risks"] = risks.risks_by_references(
            actor=actor, references=links["risks"], field="risks"
        )
    if actor.system_ids is not None and not resolved.get("systems", [None]):
        # A limited account would lose sight of an incident without one of its systems.
        raise ValidationFailedError.for_field("systems", "must name one of your AI systems")
    return resolved


def _check_times(incident: Incident) -> None:
    if incident.detected_at < incident.occurred_at:
        raise ValidationFailedError.for_field("detected_at", "must not be before occurred_at")
    if incident.regulator_notification_required and incident.regulator_deadline is None:
        raise ValidationFailedError.for_field(
            "regulator_deadline", "is required when the regulator must be notified"
        )


def _entry(actor: Actor, incident: Incident, kind: str, text: str = "", **moves: str) -> None:
    entry = IncidentTimelineEntry(
        incident=incident, kind=kind, text=text, author_label=actor.label, **moves
    )
    entry.full_clean()
    entry.save()


@transaction.atomic
def incident_create(
    *,
    actor: Actor,
    title: str,
    description: str,
    severity: str,
    occurred_at: datetime,
    detected_at: datetime,
    **fields: Any,
) -> Incident:
    """Report an incident as open, numbered INC-001, … per organisation."""
    Organization.objects.select_for_update().get(pk=actor.organization_id)
    links = {k: fields.pop(k) for k in LINKS if k in fields}
    if actor.system_ids is not None:
        links.setdefault("systems", [])
    resolved = _links(actor, links)
    top = Incident.objects.filter(organization_id=actor.organization_id).aggregate(n=Max("number"))[
        "n"
    ]
    incident = Incident(
        organization_id=actor.organization_id,
        number=(top or 0) + 1,
        title=title,
        description=description,
        severity=severity,
        occurred_at=occurred_at,
        detected_at=detected_at,
        reporter_label=actor.label,
        **{k: v for k, v in fields.items() if k in FIELDS},
    )
    _check_times(incident)
    incident.full_clean()
    incident.save()
    shown = ["title", "severity", "status", "occurred_at", "detected_at"]
    shown += [k for k in fields if k in FIELDS]
    changes: dict[str, Any] = {k: {"before": None, "after": getattr(incident, k)} for k in shown}
    changes["reference"] = {"before": None, "after": incident.reference}
    changes |= set_links(incident, resolved)
    _entry(actor, incident, TimelineEntryKind.REPORTED, description[:500])
    audit_append(
        actor=actor,
        action="incident.create",
        object_type="incident",
        object_id=incident.pk,
        changes=changes,
    )
    _request_verdicts(incident)
    return incident


@transaction.atomic
def incident_update(*, actor: Actor, incident: Incident, **fields: Any) -> Incident:
    """Change an incident's facts or links (not its status)."""
    links = {k: fields.pop(k) for k in LINKS if k in fields}
    resolved = _links(actor, links)
    changes = assign(incident, {k: v for k, v in fields.items() if k in FIELDS})
    _check_times(incident)
    save_changed(incident, changes)
    changes |= set_links(incident, resolved)
    if changes:
        _entry(actor, incident, TimelineEntryKind.UPDATE, "Changed " + ", ".join(sorted(changes)))
        audit_append(
            actor=actor,
            action="incident.update",
            object_type="incident",
            object_id=incident.pk,
            changes=changes,
        )
    _request_verdicts(incident)
    return incident


@transaction.atomic
def incident_transition(
    *, actor: Actor, incident: Incident, status: str, note: str = ""
) -> Incident:
    """Move an incident along open → investigating → mitigated → closed."""
    if status not in TRANSITIONS[incident.status]:
        raise IncidentTransitionInvalidError(
            f"status: cannot move from {incident.status!r} to {status!r}",
            extra={
                "from": incident.status,
                "to": status,
                "allowed": sorted(TRANSITIONS[incident.status]),
            },
        )
    if status == S.CLOSED:
        if actor.role not in CLOSERS:
            raise PermissionDeniedError("Only compliance officers and admins close incidents.")
        missing = [f for f in ("root_cause", "corrective_actions") if not getattr(incident, f)]
        if missing:
            raise ValidationFailedError(
                f"{missing[0]}: is required before the incident is closed",
                extra={
                    "fields": {f: ["is required before the incident is closed"] for f in missing}
                },
            )
    before = incident.status
    changes = assign(incident, {"status": status})
    save_changed(incident, changes)
    _entry(actor, incident, TimelineEntryKind.STATUS, note, from_status=before, to_status=status)
    audit_append(
        actor=actor,
        action="incident.transition",
        object_type="incident",
        object_id=incident.pk,
        changes=changes,
    )
    _request_verdicts(incident)
    return incident


@transaction.atomic
def incident_note(*, actor: Actor, incident: Incident, text: str) -> IncidentTimelineEntry:
    """Add a note to an incident's timeline."""
    if not text.strip():
        raise ValidationFailedError.for_field("text", "a note needs text")
    _entry(actor, incident, TimelineEntryKind.NOTE, text)
    audit_append(
        actor=actor,
        action="incident.note",
        object_type="incident",
        object_id=incident.pk,
        changes={"note": {"before": None, "after": text}},
    )
    return IncidentTimelineEntry.objects.filter(incident=incident).latest("id")


def _request_verdicts(incident: Incident) -> None:
    """Incidents and their deadlines feed organisation-wide and system verdicts alike."""
    from controls.services.updates import verdicts_request  # controls reads this app

    verdicts_request(organization_id=incident.organization_id, system_id=None, cause="incident")
