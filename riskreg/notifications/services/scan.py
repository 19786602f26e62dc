"""The periodic scan: record each new event once, then e-mail the members who want it.

Once per event: a Notification row per (organisation, event key), enforced by a unique
constraint; two scans at once both try to insert and one gets the IntegrityError. Once per
member: an EmailDelivery row per (notification, member), claimed (pending -> sending) by a
conditional UPDATE before the mail goes out, so no two senders send it. A sender that dies
between the claim and the send leaves the row in `sending`: at most once, never twice.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from riskreg.notifications import messages
from riskreg.notifications.events import Event, events_due
from riskreg.notifications.models import (
    DeliveryStatus,
    EmailDelivery,
    Notification,
    Webhook,
    WebhookDelivery,
)
from riskreg.notifications.selectors import (
    Audience,
    audience_for,
    email_deliveries_due,
    notification_keys,
    webhooks_active,
)
from riskreg.notifications.services.backoff import after_failure
from riskreg.notifications.services.webhooks import enqueue_deliveries
from riskreg.organisations.models import Organization
from riskreg.organisations.selectors import organization_list

log = logging.getLogger(__name__)
# E-mail retries ride on the scan (every five minutes); three tries cover a short outage.
EMAIL_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class ScanResult:
    recorded: int
    emailed: int


def _notification(org: Organization, event: Event, now: datetime) -> Notification:
    notification = Notification(
        organization=org,
        kind=event.kind,
        event_key=event.key,
        subject=messages.subject(event),
        body=messages.body(event, org.slug),
        object_type=event.object_type,
        object_id=str(event.object_id),
        object_label=event.object_label,
        created_at=now,
    )
    notification.payload = messages.document(
        event, uid=str(notification.uid), organisation=org.slug, created_at=now
    )
    # The unique (organisation, event key) constraint is left to the database: a duplicate
    # is the expected race between two scans, answered by the IntegrityError below.
    notification.full_clean(validate_unique=False, validate_constraints=False)
    return notification


def _deliveries(
    notification: Notification, event: Event, audience: Audience, hooks: list[Webhook]
) -> list[int]:
    """Create the e-mail and webhook deliveries of a new notification; webhook ids returned.

    Built from rows just read, so bulk_create without full_clean (which would query each
    foreign key again).
    """
    emails = [
        EmailDelivery(notification=notification, membership=member, address=member.user.email)
        for member in audience.recipients(event.kind, event.concerned)
    ]
    EmailDelivery.objects.bulk_create(emails)
    calls = [
        WebhookDelivery(
            webhook=hook, notification=notification, next_attempt_at=notification.created_at
        )
        for hook in hooks
        if event.kind in hook.kinds
    ]
    return [d.pk for d in WebhookDelivery.objects.bulk_create(calls)]


def _record(
    org: Organization, event: Event, audience: Audience, hooks: list[Webhook], now: datetime
) -> bool:
    """Write one event's notification and deliveries; False when another scan did first."""
    try:
        with transaction.atomic():
            notification = _notification(org, event, now)
            notification.save()
            enqueue_deliveries(_deliveries(notification, event, audience, hooks))
    except IntegrityError:
        if not Notification.objects.filter(organization=org, event_key=event.key).exists():
            raise
        return False
    return True


def notifications_record(*, organization: Organization, now: datetime) -> int:
    """Record the organisation's events that have no notification yet; returns how many."""
    events = events_due(organization_id=organization.pk, now=now)
    known = notification_keys(organization_id=organization.pk, keys=[e.key for e in events])
    fresh = [e for e in events if e.key not in known]
    if not fresh:
        return 0
    audience = audience_for(organization_id=organization.pk)
    hooks = webhooks_active(organization_id=organization.pk)
    return sum(_record(organization, event, audience, hooks, now) for event in fresh)


def _send(delivery_id: int, now: datetime) -> bool:
    """Claim one e-mail, send it, record the outcome; False if claimed elsewhere or failed."""
    claimed = EmailDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        return False
    delivery = EmailDelivery.objects.select_related("notification").get(pk=delivery_id)
    notification = delivery.notification
    try:
        EmailMessage(notification.subject, notification.body, to=[delivery.address]).send()
    except (OSError, ValueError) as exc:  # SMTP errors are OSErrors; a bad header a ValueError
        fields = after_failure(delivery.attempts, EMAIL_MAX_ATTEMPTS, now)
        EmailDelivery.objects.filter(pk=delivery_id).update(last_error=str(exc)[:500], **fields)
        log.warning("notification e-mail %s failed: %s", delivery_id, type(exc).__name__)
        return False
    EmailDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def email_send_due(*, now: datetime | None = None) -> int:
    """Send every pending e-mail that is due; returns how many went out."""
    now = now or timezone.now()
    return sum(_send(pk, now) for pk in email_deliveries_due(now=now))


def notifications_scan(*, now: datetime | None = None) -> ScanResult:
    """Record every organisation's new events, then send the e-mails that are due."""
    now = now or timezone.now()
    recorded = sum(notifications_record(organization=org, now=now) for org in organization_list())
    return ScanResult(recorded=recorded, emailed=email_send_due(now=now))
