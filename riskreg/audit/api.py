"""Audit trail API: events, the chain head, and a JSON Lines export."""

import json
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.audit import selectors
from riskreg.audit.models import AuditEvent
from riskreg.lib.api import paginated, paginated_response
from riskreg.organisations.apiview import OrgApiView


class AuditEventOutputSerializer(serializers.Serializer[AuditEvent]):
    seq = serializers.IntegerField()
    actor_type = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    actor_label = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    changes = serializers.JSONField()
    created_at = serializers.DateTimeField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class AuditHeadOutputSerializer(serializers.Serializer[Any]):
    seq = serializers.IntegerField()
    hash = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)


class AuditEventsApi(OrgApiView):
    actions = {"GET": "audit.read"}

    @extend_schema(
        operation_id="audit_events_list",
        parameters=[
            OpenApiParameter("object_type", str, required=False),
            OpenApiParameter("object_id", str, required=False),
        ],
        responses=paginated(AuditEventOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        rows = selectors.audit_event_list(
            organization_id=self.actor.organization_id,
            object_type=request.query_params.get("object_type"),
            object_id=request.query_params.get("object_id"),
        )
        return paginated_response(request, self, rows, AuditEventOutputSerializer)


class AuditHeadApi(OrgApiView):
    actions = {"GET": "audit.read"}

    @extend_schema(operation_id="audit_head_retrieve", responses=AuditHeadOutputSerializer)
    def get(self, request: Request) -> Response:
        head = selectors.audit_head(organization_id=self.actor.organization_id)
        return Response(AuditHeadOutputSerializer(head).data)


class AuditExportApi(OrgApiView):
    actions = {"GET": "audit.export"}

    @extend_schema(
        operation_id="audit_export",
        responses={(200, "application/jsonl"): OpenApiTypes.STR},
        description="The organisation's chain as JSON Lines, oldest first: each line is an "
        "event's hashed body plus its `hash`.",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        def lines() -> Iterator[bytes]:
            for body in selectors.audit_export_lines(organization_id=self.actor.organization_id):
                yield json.dumps(body, ensure_ascii=False, sort_keys=True).encode() + b"\n"

        response = StreamingHttpResponse(lines(), content_type="application/jsonl")
        response["Content-Disposition"] = 'attachment; filename="audit.jsonl"'
        return response
