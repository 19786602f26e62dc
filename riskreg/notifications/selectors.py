"""Reads: who receives what, members' preferences, webhooks and their deliveries."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from riskreg.lib.errors import NotFoundError
from riskreg.notifications.models import (
    DeliveryStatus,
    EmailDelivery,
    Notification,
    NotificationKind,
    NotificationPreference,
    PreferenceSource,
    Webhook,
    WebhookDelivery,
)
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Membership
from riskreg.organisations.roles import Role
from riskreg.organisations.selectors import member_list, membership_of_actor

K = NotificationKind
ACT_ON_RISKS = frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER})
# Who receives each kind by e-mail when they have not chosen: the roles that act on it.
# Owners of the object concerned (the risk, the action, the acceptance, the evidence)
# receive it too, whatever their role; an explicit preference overrides both.
DEFAULT_ROLES: dict[str, frozenset[Role]] = {
    K.RISK_PROPOSED: ACT_ON_RISKS,
    K.TREATMENT_OVERDUE: frozenset({Role.COMPLIANCE_OFFICER}),
    K.REVIEW_OVERDUE: frozenset({Role.COMPLIANCE_OFFICER}),
    K.ACCEPTANCE_EXPIRING: ACT_ON_RISKS,
    K.EVIDENCE_EXPIRING: frozenset({Role.COMPLIANCE_OFFICER}),
    K.INCIDENT_REGULATOR_DEADLINE: ACT_ON_RISKS,
}


@dataclass(frozen=True)
class Audience:
    """An organisation's members with an address, and their explicit choices."""

    members: tuple[Membership, ...]
    chosen: dict[tuple[int, str], bool]  # (membership id, kind) -> email on?

    def wants(self, member: Membership, kind: str, concerned: Collection[int]) -> bool:
        choice = self.chosen.get((member.pk, kind))
        if choice is not None:
            return choice
        return member.pk in concerned or member.role in DEFAULT_ROLES[kind]

    def recipients(self, kind: str, concerned: Collection[int]) -> list[Membership]:
        return [m for m in self.members if self.wants(m, kind, concerned)]


def audience_for(*, organization_id: int) -> Audience:
    """Members who have an e-mail address, users loaded, and every explicit preference."""
    members = member_list(actor=Actor.system(organization_id)).exclude(user__email="")
    rows = NotificationPreference.objects.filter(membership__organization_id=organization_id)
    chosen = {(r.membership_id, r.kind): r.email for r in rows}
    return Audience(members=tuple(members), chosen=chosen)


def preference_member(*, actor: Actor) -> Membership:
    """The caller's membership; a service account has no preferences (404)."""
    membership = membership_of_actor(actor=actor)
    if membership is None:
        raise NotFoundError("Service accounts receive no notifications and have no preferences.")
    return membership


def preference_list(*, actor: Actor) -> list[dict[str, Any]]:
    """Every kind with the caller's effective e-mail choice and where it comes from."""
    membership = preference_member(actor=actor)
    rows = NotificationPreference.objects.filter(membership=membership)
    chosen = {row.kind: row.email for row in rows}
    return [
        {
            "kind": kind.value,
            "description": kind.label,
            "email": chosen.get(kind.value, membership.role in DEFAULT_ROLES[kind.value]),
            "source": PreferenceSource.CHOSEN if kind.value in chosen else PreferenceSource.DEFAULT,
        }
        for kind in K
    ]


def notification_keys(*, organization_id: int, keys: Collection[str]) -> set[str]:
    """Which of keys the organisation already has a notification for."""
    rows = Notification.objects.filter(organization_id=organization_id, event_key__in=keys)
    return set(rows.values_list("event_key", flat=True))


def webhooks_active(*, organization_id: int) -> list[Webhook]:
    return list(Webhook.objects.filter(organization_id=organization_id, active=True))


def webhook_list(*, actor: Actor) -> QuerySet[Webhook]:
    """The organisation's webhooks, active or not, newest first."""
    return Webhook.objects.filter(organization_id=actor.organization_id).order_by(
        "-created_at", "-pk"
    )


def webhook_list_with_recent(*, actor: Actor, recent: int) -> QuerySet[Webhook]:
    """The webhooks, each with its `recent` newest deliveries in `.recent` (two queries)."""
    latest = WebhookDelivery.objects.order_by("-created_at", "-pk")[:recent]
    return webhook_list(actor=actor).prefetch_related(
        Prefetch("deliveries", queryset=latest, to_attr="recent")
    )


def webhook_get(*, actor: Actor, uid: str) -> Webhook:
    found = webhook_list(actor=actor).filter(uid=uid).first()
    if found is None:
        raise NotFoundError(f"No webhook {uid!r} in your organisation.")
    return found


def webhook_delivery_list(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    """A webhook's deliveries, newest first, notifications loaded."""
    return (
        WebhookDelivery.objects.filter(webhook=webhook)
        .select_related("notification")
        .order_by("-created_at", "-pk")
    )


def webhook_deliveries_due(*, now: datetime) -> list[int]:
    """Pending deliveries whose next attempt (or expired lease) is due, oldest first."""
    rows = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    return list(rows.order_by("next_attempt_at", "pk").values_list("pk", flat=True))


def email_deliveries_due(*, now: datetime) -> list[int]:
    rows = EmailDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    return list(rows.order_by("next_attempt_at", "pk").values_list("pk", flat=True))
