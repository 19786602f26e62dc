from django.contrib import admin

from riskreg.notifications.models import Notification, Webhook, WebhookDelivery
from riskreg.organisations.admin import ReadOnlyAdmin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("event_key", "kind", "organization", "created_at")
    list_select_related = ("organization",)


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    list_display = ("uid", "url", "organization", "active", "created_at")
    exclude = ("secret",)
    list_select_related = ("organization",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("uid", "webhook", "status", "attempts", "next_attempt_at")
    list_select_related = ("webhook",)
