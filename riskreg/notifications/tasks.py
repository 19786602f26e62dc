"""Notification tasks: the periodic scan, webhook deliveries and their sweep (thin)."""

import logging

from celery import shared_task

from riskreg.notifications.services.scan import notifications_scan
from riskreg.notifications.services.webhooks import webhook_deliver, webhook_deliveries_sweep

log = logging.getLogger(__name__)


@shared_task(name="riskreg.notifications.tasks.notifications_scan_task")
def notifications_scan_task() -> int:
    """Record new events in every organisation and send due e-mails; returns how many new."""
    result = notifications_scan()
    if result.recorded or result.emailed:
        log.info("notifications: %d new, %d e-mails sent", result.recorded, result.emailed)
    return result.recorded


@shared_task(
    name="riskreg.notifications.tasks.webhook_deliver_task",
    acks_late=True,
    reject_on_worker_lost=True,
)
def webhook_deliver_task(delivery_id: int) -> str:
    """Try one webhook delivery (a duplicate finds it leased or done and returns)."""
    return webhook_deliver(delivery_id=delivery_id)


@shared_task(name="riskreg.notifications.tasks.webhook_sweep_task")
def webhook_sweep_task() -> int:
    """Queue the webhook deliveries that are due; returns how many."""
    return webhook_deliveries_sweep()
