"""Reads of the audit trail, scoped to one organisation."""

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from riskreg.audit.models import GENESIS, AuditEvent
from riskreg.audit.services import event_to_body
from riskreg.organisations.models import Organization


def audit_event_list(
    *, organization_id: int, object_type: str | None = None, object_id: str | None = None
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(organization_id=organization_id)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    return events.order_by("seq")


def audit_head(*, organization_id: int) -> dict[str, Any]:
    """The newest event's hash and number (genesis hash and 0 for an empty chain)."""
    last = (
        AuditEvent.objects.filter(organization_id=organization_id)
        .order_by("-seq")
        .only("seq", "hash", "created_at")
        .first()
    )
    if last is None:
        return {"seq": 0, "hash": GENESIS, "created_at": None}
    return {"seq": last.seq, "hash": last.hash, "created_at": last.created_at}


def audit_export_lines(*, organization_id: int) -> Iterator[dict[str, Any]]:
    """Each event's hashed body plus its hash, oldest first, for offline verification."""
    slug = Organization.objects.values_list("slug", flat=True).get(pk=organization_id)
    events = AuditEvent.objects.filter(organization_id=organization_id).order_by("seq")
    for event in events.iterator(chunk_size=2000):
        yield {**event_to_body(event, slug), "hash": event.hash}


def audit_event_latest(*, organization_id: int) -> QuerySet[AuditEvent]:
    """The organisation's events, newest first (for the audit-trail page)."""
    return AuditEvent.objects.filter(organization_id=organization_id).order_by("-seq")
