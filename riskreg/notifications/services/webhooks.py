"""Webhooks: registering and deactivating them (audited), and delivering notifications.

Deliveries live in the database: a try claims the row by pushing next_attempt_at ahead
(a lease), so a duplicate task finds nothing to do, and a worker that dies mid-try leaves a
row the sweep picks up again once the lease runs out. Receivers may therefore, rarely, get
a delivery twice; X-Riskreg-Delivery lets them notice.
"""

import http.client
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from riskreg.audit.services import audit_append
from riskreg.lib.errors import ConflictError, ValidationFailedError
from riskreg.notifications import signing, transport
from riskreg.notifications.addresses import check_url
from riskreg.notifications.errors import WebhookAddressRefusedError
from riskreg.notifications.models import DeliveryStatus, NotificationKind, Webhook, WebhookDelivery
from riskreg.notifications.selectors import webhook_deliveries_due
from riskreg.notifications.services.backoff import after_failure
from riskreg.organisations.actor import Actor

log = logging.getLogger(__name__)
# A claimed try owns the delivery this long: well above the 10 s network timeout.
LEASE = timedelta(minutes=2)


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """Queue one task per delivery once the transaction that wrote them commits."""
    from riskreg.notifications.tasks import webhook_deliver_task

    for delivery_id in delivery_ids:
        transaction.on_commit(lambda pk=delivery_id: webhook_deliver_task.delay(pk))  # type: ignore[misc]


def _kinds(kinds: list[str] | None) -> list[str]:
    chosen = list(NotificationKind.values) if kinds is None else kinds
    unknown = sorted(set(chosen) - set(NotificationKind.values))
    if unknown or not chosen:
        raise ValidationFailedError.for_field("kinds", "must name one or more known kinds")
    return sorted(set(chosen))


def webhook_create(
    *, actor: Actor, url: str, kinds: list[str] | None = None, description: str = ""
) -> tuple[Webhook, str]:
    """Register a webhook after checking its address; the secret is returned only here."""
    # Resolved before the transaction: a slow DNS answer must not hold the write lock.
    check_url(url, allow_private=settings.RISKREG_WEBHOOK_ALLOW_PRIVATE)
    secret = signing.new_secret()
    webhook = Webhook(
        organization_id=actor.organization_id,
        url=url,
        description=description,
        secret=secret,
        kinds=_kinds(kinds),
        created_by=actor.label,
    )
    webhook.full_clean()
    with transaction.atomic():
        webhook.save()
        audit_append(
            actor=actor,
            action="webhook.create",
            object_type="webhook",
            object_id=webhook.pk,
            changes={
                name: {"before": None, "after": getattr(webhook, name)}
                for name in ("url", "kinds", "description")
            },
        )
    return webhook, secret


@transaction.atomic
def webhook_deactivate(*, actor: Actor, webhook: Webhook, reason: str = "") -> Webhook:
    """Stop a webhook for good; its pending deliveries fail. A webhook is deactivated once."""
    locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if not locked.active:
        raise ConflictError(
            f"active: webhook {webhook.uid} is already inactive",
            extra={"fields": {"active": ["already inactive"]}},
        )
    locked.active, locked.deactivated_at = False, timezone.now()
    locked.full_clean()
    locked.save(update_fields=["active", "deactivated_at"])
    WebhookDelivery.objects.filter(webhook=locked, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, last_error="webhook deactivated", updated_at=timezone.now()
    )
    audit_append(
        actor=actor,
        action="webhook.deactivate",
        object_type="webhook",
        object_id=locked.pk,
        changes={"active": {"before": True, "after": False}}
        | ({"reason": {"before": None, "after": reason}} if reason else {}),
    )
    return locked


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    """Take the next try of a due delivery (a lease), or None when it is not due or taken."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1, updated_at=now)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("webhook", "notification").get(pk=delivery_id)


def _finish(delivery: WebhookDelivery, now: datetime, **fields: object) -> str:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(updated_at=now, **fields)
    return str(fields["status"])


@dataclass(frozen=True)
class _Try:
    """One attempt's outcome: the answer's status (if any), what went wrong, retry or not."""

    response_status: int | None
    error: str
    retry: bool


def _attempt(delivery: WebhookDelivery, now: datetime) -> _Try:
    """Check the address again, then POST; never raises for network or address trouble."""
    hook, notification = delivery.webhook, delivery.notification
    try:
        target = check_url(hook.url, allow_private=settings.RISKREG_WEBHOOK_ALLOW_PRIVATE)
    except WebhookAddressRefusedError as exc:  # refused without connecting, for good
        return _Try(None, f"address refused: {exc.message}", retry=False)
    except ValidationFailedError as exc:  # the host stopped resolving; it may come back
        return _Try(None, f"not resolved: {exc.message}", retry=True)
    body = signing.body_bytes(notification.payload)
    headers = signing.headers(
        secret=hook.secret,
        kind=notification.kind,
        delivery=str(delivery.uid),
        timestamp=int(now.timestamp()),
        body=body,
    )
    try:
        answer = transport.post(target, target.addresses[0], body, headers)
    except (OSError, http.client.HTTPException) as exc:
        return _Try(None, f"network error: {type(exc).__name__}: {exc}", retry=True)
    if 200 <= answer.status < 300:
        return _Try(answer.status, "", retry=False)
    # Rate limits and server errors pass; any other answer (redirects included) will not.
    retry = answer.status == 429 or answer.status >= 500
    return _Try(answer.status, f"HTTP {answer.status}: {answer.text[:200]}", retry=retry)


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> str:
    """Try one due delivery; returns its status afterwards, or "skipped" when not due."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return "skipped"
    if not delivery.webhook.active:
        return _finish(delivery, now, status=DeliveryStatus.FAILED, last_error="webhook inactive")
    outcome = _attempt(delivery, now)
    if not outcome.error:
        return _finish(
            delivery,
            now,
            status=DeliveryStatus.SENT,
            sent_at=now,
            response_status=outcome.response_status,
            last_error="",
        )
    log.warning("webhook delivery %s: %s", delivery.uid, outcome.error[:100])
    fields: dict[str, object] = {"status": DeliveryStatus.FAILED}
    if outcome.retry:
        fields = after_failure(delivery.attempts, settings.RISKREG_WEBHOOK_MAX_ATTEMPTS, now)
    return _finish(
        delivery,
        now,
        response_status=outcome.response_status,
        last_error=outcome.error[:500],
        **fields,
    )


def webhook_deliveries_sweep(*, now: datetime | None = None) -> int:
    """Queue every delivery that is due (retries, and tries whose worker was lost)."""
    due = webhook_deliveries_due(now=now or timezone.now())
    enqueue_deliveries(due)
    return len(due)
