"""Finding the events that notifications announce: reads over the other apps' selectors.

Each event has a stable kind and a key that names it for good: the key includes whatever
makes it a new event (a moved due date that falls overdue again is a new event), so the
unique (organisation, event key) constraint sends each one once.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from evaluations.selectors.evidence import evidence_list
from evaluations.selectors.incidents import incident_list
from riskreg.notifications.models import NotificationKind as K
from riskreg.organisations.actor import Actor
from riskreg.risks.selectors.register import review_overdue_q, risk_scope
from riskreg.risks.selectors.workflow import acceptances_expiring, action_list

CLOSED_INCIDENT = "closed"
PROPOSED_RISK = "proposed"


@dataclass(frozen=True)
class Event:
    kind: str
    key: str
    object_type: str
    object_id: int
    object_label: str  # RSK-001, RSK-001/A2, INC-003, an evidence uid
    title: str
    path: str  # the object's page, appended to RISKREG_BASE_URL
    summary: str  # one sentence: what happened
    details: dict[str, Any] = field(default_factory=dict)  # JSON-safe facts
    # Members who receive it by default whatever their role (owners of the object).
    concerned: frozenset[int] = frozenset()


def _members(*ids: int | None) -> frozenset[int]:
    return frozenset(i for i in ids if i is not None)


def _risk_proposed(actor: Actor, now: datetime, today: date) -> list[Event]:
    risks = risk_scope(actor=actor).filter(status=PROPOSED_RISK).order_by("number")
    return [
        Event(
            kind=K.RISK_PROPOSED,
            key=f"{K.RISK_PROPOSED}:{risk.pk}",
            object_type="risk",
            object_id=risk.pk,
            object_label=risk.reference,
            title=risk.title,
            path=f"/risks/{risk.reference}/",
            summary=f"{risk.reference} was proposed and waits for review.",
            details={"category": risk.category, "source": risk.source},
            concerned=_members(risk.owner_id),
        )
        for risk in risks
    ]


def _treatment_overdue(actor: Actor, now: datetime, today: date) -> list[Event]:
    events = []
    for action in action_list(actor=actor, overdue=True):
        label = f"{action.risk.reference}/A{action.number}"
        events.append(
            Event(
                kind=K.TREATMENT_OVERDUE,
                key=f"{K.TREATMENT_OVERDUE}:{action.pk}:{action.due_date.isoformat()}",
                object_type="treatment_action",
                object_id=action.pk,
                object_label=label,
                title=action.title,
                path=f"/risks/{action.risk.reference}/",
                summary=f"Treatment action {label} was due on {action.due_date.isoformat()}.",
                details={"due_date": action.due_date.isoformat(), "status": action.status},
                concerned=_members(action.owner_id, action.risk.owner_id),
            )
        )
    return events


def _review_overdue(actor: Actor, now: datetime, today: date) -> list[Event]:
    risks = risk_scope(actor=actor).filter(review_overdue_q(today)).order_by("number")
    events = []
    for risk in risks:
        due = risk.next_review_date.isoformat()  # type: ignore[union-attr]
        events.append(
            Event(
                kind=K.REVIEW_OVERDUE,
                key=f"{K.REVIEW_OVERDUE}:{risk.pk}:{due}",
                object_type="risk",
                object_id=risk.pk,
                object_label=risk.reference,
                title=risk.title,
                path=f"/risks/{risk.reference}/",
                summary=f"{risk.reference} was due for review on {due}.",
                details={"next_review_date": due, "status": risk.status, "level": risk.level},
                concerned=_members(risk.owner_id),
            )
        )
    return events


def _acceptance_expiring(actor: Actor, now: datetime, today: date) -> list[Event]:
    days = settings.RISKREG_NOTIFY_EXPIRY_DAYS
    events = []
    for acceptance in acceptances_expiring(actor=actor, within_days=days):
        risk, until = acceptance.risk, acceptance.valid_until.isoformat()
        events.append(
            Event(
                kind=K.ACCEPTANCE_EXPIRING,
                key=f"{K.ACCEPTANCE_EXPIRING}:{acceptance.pk}",
                object_type="risk",
                object_id=risk.pk,
                object_label=risk.reference,
                title=risk.title,
                path=f"/risks/{risk.reference}/",
                summary=f"The acceptance of {risk.reference} runs out after {until}.",
                details={"valid_until": until, "residual_level": acceptance.residual_level},
                concerned=_members(risk.owner_id, acceptance.accepted_by_id),
            )
        )
    return events


def _evidence_expiring(actor: Actor, now: datetime, today: date) -> list[Event]:
    horizon = today + timedelta(days=settings.RISKREG_NOTIFY_EXPIRY_DAYS)
    items = evidence_list(actor=actor, state="current").filter(
        expiry_date__isnull=False, expiry_date__lte=horizon
    )
    events = []
    for item in items.order_by("expiry_date", "pk"):
        expiry = item.expiry_date.isoformat()  # type: ignore[union-attr]
        scope = item.system.slug if item.system is not None else "the organisation"
        submitter = item.submitter_id if item.submitter_type == "member" else None
        events.append(
            Event(
                kind=K.EVIDENCE_EXPIRING,
                key=f"{K.EVIDENCE_EXPIRING}:{item.pk}:{expiry}",
                object_type="evidence",
                object_id=item.pk,
                object_label=str(item.uid),
                title=f"{item.kind} evidence for {scope}",
                path=f"/evidence/{item.uid}/",
                summary=f"This {item.kind} evidence for {scope} expires after {expiry}.",
                details={"kind": item.kind, "expiry_date": expiry, "system": scope},
                concerned=_members(submitter),
            )
        )
    return events


def _regulator_deadline(actor: Actor, now: datetime, today: date) -> list[Event]:
    horizon = now + timedelta(hours=settings.RISKREG_NOTIFY_DEADLINE_HOURS)
    incidents = (
        incident_list(actor=actor)
        .exclude(status=CLOSED_INCIDENT)
        .filter(regulator_notification_required=True, regulator_deadline__lte=horizon)
    )
    events = []
    for incident in incidents.order_by("regulator_deadline", "number"):
        deadline = incident.regulator_deadline
        assert deadline is not None  # the incident_regulator_deadline_given constraint
        when = "passed" if deadline <= now else "is near"
        events.append(
            Event(
                kind=K.INCIDENT_REGULATOR_DEADLINE,
                key=f"{K.INCIDENT_REGULATOR_DEADLINE}:{incident.pk}:{deadline.isoformat()}",
                object_type="incident",
                object_id=incident.pk,
                object_label=incident.reference,
                title=incident.title,
                path=f"/incidents/{incident.reference}/",
                summary=(
                    f"The regulator must be notified of {incident.reference} by "
                    f"{deadline.isoformat()}; the deadline {when}."
                ),
                details={"regulator_deadline": deadline.isoformat(), "severity": incident.severity},
            )
        )
    return events


FINDERS: dict[str, Callable[[Actor, datetime, date], list[Event]]] = {
    K.RISK_PROPOSED: _risk_proposed,
    K.TREATMENT_OVERDUE: _treatment_overdue,
    K.REVIEW_OVERDUE: _review_overdue,
    K.ACCEPTANCE_EXPIRING: _acceptance_expiring,
    K.EVIDENCE_EXPIRING: _evidence_expiring,
    K.INCIDENT_REGULATOR_DEADLINE: _regulator_deadline,
}


def events_due(*, organization_id: int, now: datetime) -> list[Event]:
    """Every event that holds now in the organisation, of every kind."""
    actor = Actor.system(organization_id)
    today = timezone.localdate(now)
    return [event for finder in FINDERS.values() for event in finder(actor, now, today)]
