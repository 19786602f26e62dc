"""Appending to and verifying the audit chain."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from riskreg.audit.chain import body_hash, event_body, timestamp
from riskreg.audit.models import GENESIS, AuditEvent
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of a field value as it is recorded in `changes`."""
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """{field: {"before": old, "after": new}} for the fields whose values differ."""
    before, after = before or {}, after or {}
    changed = {}
    for name in sorted(set(before) | set(after)):
        old, new = jsonable(before.get(name)), jsonable(after.get(name))
        if old != new:
            changed[name] = {"before": old, "after": new}
    return changed


def audit_append(
    *, actor: Actor, action: str, object_type: str, object_id: object, changes: dict[str, Any]
) -> AuditEvent:
    """Append one event to the actor's organisation chain, inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_append must run inside the transaction of the change")
    # Locking the organisation row serialises appends, so two writers never read
    # the same head; the unique (organisation, prev_hash) constraint backs it up.
    org = Organization.objects.select_for_update().get(pk=actor.organization_id)
    last = AuditEvent.objects.filter(organization=org).order_by("-seq").only("seq", "hash").first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    created_at = timezone.now()
    ref = actor.audit_ref()
    body = event_body(
        organization=org.slug,
        seq=seq,
        actor=ref,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=jsonable(changes),
        created_at=timestamp(created_at),
        prev_hash=prev,
    )
    return AuditEvent.objects.create(
        organization=org,
        seq=seq,
        actor_type=ref["type"],
        actor_id=ref["id"],
        actor_label=ref["label"],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=body["changes"],
        created_at=created_at,
        prev_hash=prev,
        hash=body_hash(body),
    )


def event_to_body(event: AuditEvent, organization_slug: str) -> dict[str, Any]:
    """Rebuild the hashed body from a stored row."""
    return event_body(
        organization=organization_slug,
        seq=event.seq,
        actor={"type": event.actor_type, "id": event.actor_id, "label": event.actor_label},
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        changes=event.changes,
        created_at=timestamp(event.created_at),
        prev_hash=event.prev_hash,
    )


@dataclass
class ChainReport:
    organization: str
    events: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_verify(*, organization: Organization, expect_head: str | None = None) -> ChainReport:
    """Walk one organisation's chain and report every break found."""
    report = ChainReport(organization=organization.slug)
    expected_prev, expected_seq = GENESIS, 1
    events = AuditEvent.objects.filter(organization=organization).order_by("seq")
    for event in events.iterator(chunk_size=2000):
        if event.seq != expected_seq:
            report.problems.append(f"event #{event.seq}: expected #{expected_seq} (gap or insert)")
        if event.prev_hash != expected_prev:
            report.problems.append(f"event #{event.seq}: previous hash does not match the chain")
        if body_hash(event_to_body(event, organization.slug)) != event.hash:
            report.problems.append(f"event #{event.seq}: content does not match its hash")
        expected_prev, expected_seq = event.hash, event.seq + 1
        report.events += 1
    report.head = expected_prev
    if expect_head is not None and expect_head != report.head:
        report.problems.append(
            f"chain ends at {report.head}, expected {expect_head} (truncated or extended)"
        )
    return report
