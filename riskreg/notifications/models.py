"""Notifications: one row per event (the once-per-event guarantee), members' preferences,
e-mail deliveries, webhooks and their deliveries.

Events are found by scanning (riskreg.notifications.events); a Notification row is written
once per organisation and event key, enforced by a unique constraint, and every e-mail and
webhook delivery hangs off it with its own unique constraint, so a scan that runs twice, or
two that run at once, never send anything twice.
"""

import uuid

from django.db import models
from django.utils import timezone


class NotificationKind(models.TextChoices):
    RISK_PROPOSED = "risk.proposed", "A risk was proposed and waits for review"
    TREATMENT_OVERDUE = "treatment.overdue", "A treatment action is past its due date"
    REVIEW_OVERDUE = "review.overdue", "A risk's review date has passed"
    ACCEPTANCE_EXPIRING = "acceptance.expiring", "A risk acceptance is about to run out"
    EVIDENCE_EXPIRING = "evidence.expiring", "An evidence item is about to expire"
    INCIDENT_REGULATOR_DEADLINE = (
        "incident.regulator_deadline",
        "An incident's regulator-notification deadline is near or passed",
    )


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"  # e-mail only: claimed by one sender, never sent twice
    SENT = "sent"
    FAILED = "failed"


class PreferenceSource(models.TextChoices):
    DEFAULT = "default"  # the member's role (or ownership) decides
    CHOSEN = "chosen"  # the member said so


class Notification(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    # "<kind>:<object pk>[:<date that defines the event>]"; unique per organisation.
    event_key = models.CharField(max_length=200)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    payload = models.JSONField()  # what webhooks receive under "data"
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_key"], name="notification_once_per_event"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=NotificationKind.values),
                name="notification_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.event_key


class NotificationPreference(models.Model):
    """A member's explicit choice for one kind; without a row the default applies."""

    membership = models.ForeignKey(
        "organisations.Membership", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    email = models.BooleanField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "kind"], name="notification_preference_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=NotificationKind.values),
                name="notification_preference_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.kind} email={self.email}"


class EmailDelivery(models.Model):
    """One notification's e-mail to one member: claimed before sending, sent at most once."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="emails")
    membership = models.ForeignKey(
        "organisations.Membership", on_delete=models.CASCADE, related_name="+"
    )
    address = models.CharField(max_length=254)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "membership"], name="email_delivery_once_per_member"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="email_delivery_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="email_delivery_due")]

    def __str__(self) -> str:
        return f"e-mail {self.notification_id} to {self.membership_id}"


class Webhook(models.Model):
    """An HTTPS (or HTTP) endpoint that receives the organisation's notifications, signed."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    url = models.CharField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Kept in clear: signing needs it (docs/notifications.md); shown once, at registration.
    secret = models.CharField(max_length=100)
    kinds = models.JSONField()  # the NotificationKind values it receives
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(active=True, deactivated_at__isnull=True)
                | models.Q(active=False, deactivated_at__isnull=False),
                name="webhook_deactivation_stamped",
            ),
        ]

    def __str__(self) -> str:
        return f"webhook {self.uid}"


class WebhookDelivery(models.Model):
    """One notification POSTed to one webhook, retried with backoff from next_attempt_at."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.PROTECT, related_name="deliveries")
    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # When pending: the next try is due then (a claimed try pushes it ahead as a lease).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "notification"], name="webhook_delivery_once"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="webhook_delivery_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.uid}"
