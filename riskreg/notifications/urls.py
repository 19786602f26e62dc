"""/api/v1/ routes of notifications, included from riskreg/api_urls.py."""

from django.urls import path

from riskreg.notifications.api import (
    NotificationPreferencesApi,
    WebhookDeactivateApi,
    WebhookDeliveriesApi,
    WebhooksApi,
)

urlpatterns = [
    path("me/notifications/", NotificationPreferencesApi.as_view(), name="me-notifications"),
    path("webhooks/", WebhooksApi.as_view(), name="webhooks"),
    path(
        "webhooks/<uuid:uid>/deactivate/",
        WebhookDeactivateApi.as_view(),
        name="webhook-deactivate",
    ),
    path(
        "webhooks/<uuid:uid>/deliveries/",
        WebhookDeliveriesApi.as_view(),
        name="webhook-deliveries",
    ),
]
