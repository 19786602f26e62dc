"""Notification preferences (everyone's own) and the organisation's webhooks."""

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.lib.api import paginated, paginated_response
from riskreg.lib.schema import ErrorEnvelopeSerializer
from riskreg.notifications import selectors
from riskreg.notifications.models import (
    DeliveryStatus,
    NotificationKind,
    PreferenceSource,
    Webhook,
    WebhookDelivery,
)
from riskreg.notifications.services import preferences, webhooks
from riskreg.organisations.apiview import OrgApiView

# --- preferences -------------------------------------------------------------------------


class PreferenceSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    description = serializers.CharField()
    email = serializers.BooleanField()
    source = serializers.ChoiceField(  # type: ignore[assignment]  # field named like a Field attribute
        choices=PreferenceSource.choices, help_text="Your own choice, or your role's default."
    )


class PreferencesOutputSerializer(serializers.Serializer[Any]):
    preferences = PreferenceSerializer(many=True)


class PreferenceChoiceSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    email = serializers.BooleanField(
        allow_null=True, help_text="true or false; null returns the kind to its default."
    )


class PreferencesInputSerializer(serializers.Serializer[Any]):
    preferences = serializers.ListField(
        child=PreferenceChoiceSerializer(),
        allow_empty=False,
        max_length=len(NotificationKind.values),
    )

    def validate_preferences(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kinds = [choice["kind"] for choice in value]
        if len(set(kinds)) != len(kinds):
            raise serializers.ValidationError("each kind may appear once")
        return value


class NotificationPreferencesApi(OrgApiView):
    actions = {"GET": "notification.read", "PATCH": "notification.update"}

    @extend_schema(
        operation_id="me_notifications_retrieve",
        responses={200: PreferencesOutputSerializer, 404: ErrorEnvelopeSerializer},
    )
    def get(self, request: Request) -> Response:
        rows = selectors.preference_list(actor=self.actor)
        return Response(PreferencesOutputSerializer({"preferences": rows}).data)

    @extend_schema(
        operation_id="me_notifications_update",
        request=PreferencesInputSerializer,
        responses={200: PreferencesOutputSerializer, 404: ErrorEnvelopeSerializer},
    )
    def patch(self, request: Request) -> Response:
        data = PreferencesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        choices = {c["kind"]: c["email"] for c in data.validated_data["preferences"]}
        preferences.preferences_update(actor=self.actor, choices=choices)
        rows = selectors.preference_list(actor=self.actor)
        return Response(PreferencesOutputSerializer({"preferences": rows}).data)


# --- webhooks ----------------------------------------------------------------------------


class WebhookOutputSerializer(serializers.Serializer[Webhook]):
    id = serializers.UUIDField(source="uid")
    url = serializers.CharField()
    description = serializers.CharField()
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=NotificationKind.choices))
    active = serializers.BooleanField()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    deactivated_at = serializers.DateTimeField(allow_null=True)


class WebhookCreatedOutputSerializer(WebhookOutputSerializer):
    secret = serializers.CharField(help_text="The signing secret, shown this once and never again.")


class WebhookCreateInputSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=500)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationKind.choices),
        allow_empty=False,
        max_length=len(NotificationKind.values),
        required=False,
        help_text="The kinds to receive; every kind when left out.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhooksApi(OrgApiView):
    actions = {"GET": "webhook.read", "POST": "webhook.manage"}

    @extend_schema(operation_id="webhooks_list", responses=paginated(WebhookOutputSerializer))
    def get(self, request: Request) -> Response:
        rows = selectors.webhook_list(actor=self.actor)
        return paginated_response(request, self, rows, WebhookOutputSerializer)

    @extend_schema(
        operation_id="webhooks_create",
        request=WebhookCreateInputSerializer,
        responses={201: WebhookCreatedOutputSerializer, 400: ErrorEnvelopeSerializer},
    )
    def post(self, request: Request) -> Response:
        data = WebhookCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook, secret = webhooks.webhook_create(actor=self.actor, **data.validated_data)
        body = {**WebhookOutputSerializer(webhook).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookDeactivateInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class WebhookDeactivateApi(OrgApiView):
    actions = {"POST": "webhook.manage"}

    @extend_schema(
        operation_id="webhooks_deactivate",
        request=WebhookDeactivateInputSerializer,
        responses={200: WebhookOutputSerializer, 409: ErrorEnvelopeSerializer},
    )
    def post(self, request: Request, uid: UUID) -> Response:
        data = WebhookDeactivateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = selectors.webhook_get(actor=self.actor, uid=str(uid))
        webhook = webhooks.webhook_deactivate(
            actor=self.actor, webhook=webhook, **data.validated_data
        )
        return Response(WebhookOutputSerializer(webhook).data)


class WebhookDeliveryOutputSerializer(serializers.Serializer[WebhookDelivery]):
    id = serializers.UUIDField(source="uid")
    kind = serializers.ChoiceField(source="notification.kind", choices=NotificationKind.choices)
    event_key = serializers.CharField(source="notification.event_key")
    object = serializers.CharField(source="notification.object_label")
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    response_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class WebhookDeliveriesApi(OrgApiView):
    actions = {"GET": "webhook.read"}

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        responses=paginated(WebhookDeliveryOutputSerializer),
    )
    def get(self, request: Request, uid: UUID) -> Response:
        webhook = selectors.webhook_get(actor=self.actor, uid=str(uid))
        rows = selectors.webhook_delivery_list(webhook=webhook)
        return paginated_response(request, self, rows, WebhookDeliveryOutputSerializer)
