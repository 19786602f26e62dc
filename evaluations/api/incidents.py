"""Incidents API: report, list, read, update, move along the lifecycle, timeline."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from evaluations.models import Incident, IncidentSeverity, IncidentStatus, TimelineEntryKind
from evaluations.selectors import incidents as selectors
from evaluations.services import incidents as services
from riskreg.lib.api import paginated, paginated_response
from riskreg.organisations.apiview import OrgApiView
from riskreg.risks.api.register import ModelVersionRefSerializer


class TimelineEntryOutputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=TimelineEntryKind.choices)
    text = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    author = serializers.CharField(source="author_label")
    at = serializers.DateTimeField(source="created_at")


class IncidentOutputSerializer(serializers.Serializer[Incident]):
    reference = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    severity = serializers.ChoiceField(choices=IncidentSeverity.choices)
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    systems = serializers.SerializerMethodField()
    model_versions = ModelVersionRefSerializer(many=True, source="model_version_refs")
    risks = serializers.SerializerMethodField()
    occurred_at = serializers.DateTimeField()
    detected_at = serializers.DateTimeField()
    reporter = serializers.CharField(source="reporter_label")
    harmed_parties = serializers.CharField()
    near_miss = serializers.BooleanField()
    root_cause = serializers.CharField()
    corrective_actions = serializers.CharField()
    regulator_notification_required = serializers.BooleanField()
    regulator_deadline = serializers.DateTimeField(allow_null=True)
    external_reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_systems(self, incident: Incident) -> list[str]:
        return [s.slug for s in incident.systems.all()]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_risks(self, incident: Incident) -> list[str]:
        return [r.reference for r in incident.risks.all()]


class IncidentDetailOutputSerializer(IncidentOutputSerializer):
    timeline = serializers.SerializerMethodField()

    @extend_schema_field(TimelineEntryOutputSerializer(many=True))
    def get_timeline(self, incident: Incident) -> list[dict[str, Any]]:
        rows = selectors.incident_timeline(incident=incident)
        return list(TimelineEntryOutputSerializer(rows, many=True).data)


def _links(child: serializers.Field[Any, Any, Any, Any]) -> serializers.ListField:
    return serializers.ListField(child=child, required=False, max_length=200)


class IncidentUpdateInputSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=20000, required=False)
    severity = serializers.ChoiceField(choices=IncidentSeverity.choices, required=False)
    occurred_at = serializers.DateTimeField(required=False)
    detected_at = serializers.DateTimeField(required=False)
    systems = _links(serializers.SlugField(max_length=64))
    model_versions = _links(ModelVersionRefSerializer())
    risks = _links(serializers.CharField(max_length=16))
    harmed_parties = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    near_miss = serializers.BooleanField(required=False)
    root_cause = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    corrective_actions = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    regulator_notification_required = serializers.BooleanField(required=False)
    regulator_deadline = serializers.DateTimeField(required=False, allow_null=True)
    external_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)


class IncidentCreateInputSerializer(IncidentUpdateInputSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000)
    severity = serializers.ChoiceField(choices=IncidentSeverity.choices)
    occurred_at = serializers.DateTimeField()
    detected_at = serializers.DateTimeField()


class IncidentsApi(OrgApiView):
    actions = {"GET": "incident.read", "POST": "incident.create"}

    @extend_schema(
        operation_id="incidents_list",
        parameters=[
            OpenApiParameter("status", str, enum=IncidentStatus.values),
            OpenApiParameter("severity", str, enum=IncidentSeverity.values),
            OpenApiParameter("system", str, description="An AI system's slug."),
        ],
        responses=paginated(IncidentOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        rows = selectors.incident_list(
            actor=self.actor,
            status=params.get("status"),
            severity=params.get("severity"),
            system=params.get("system"),
        )
        return paginated_response(request, self, rows, IncidentOutputSerializer)

    @extend_schema(
        operation_id="incidents_create",
        request=IncidentCreateInputSerializer,
        responses={201: IncidentDetailOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = IncidentCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_create(actor=self.actor, **data.validated_data)
        incident = selectors.incident_get(actor=self.actor, reference=incident.reference)
        return Response(
            IncidentDetailOutputSerializer(incident).data, status=status.HTTP_201_CREATED
        )


class IncidentDetailApi(OrgApiView):
    actions = {"GET": "incident.read", "PATCH": "incident.update"}

    @extend_schema(operation_id="incidents_retrieve", responses=IncidentDetailOutputSerializer)
    def get(self, request: Request, reference: str) -> Response:
        incident = selectors.incident_get(actor=self.actor, reference=reference)
        return Response(IncidentDetailOutputSerializer(incident).data)

    @extend_schema(
        operation_id="incidents_update",
        request=IncidentUpdateInputSerializer,
        responses=IncidentDetailOutputSerializer,
    )
    def patch(self, request: Request, reference: str) -> Response:
        incident = selectors.incident_get(actor=self.actor, reference=reference)
        data = IncidentUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.incident_update(actor=self.actor, incident=incident, **data.validated_data)
        incident = selectors.incident_get(actor=self.actor, reference=reference)
        return Response(IncidentDetailOutputSerializer(incident).data)


class IncidentTransitionInputSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    note = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class IncidentTransitionApi(OrgApiView):
    actions = {"POST": "incident.transition"}

    @extend_schema(
        operation_id="incidents_transition",
        request=IncidentTransitionInputSerializer,
        responses=IncidentDetailOutputSerializer,
    )
    def post(self, request: Request, reference: str) -> Response:
        incident = selectors.incident_get(actor=self.actor, reference=reference)
        data = IncidentTransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.incident_transition(actor=self.actor, incident=incident, **data.validated_data)
        incident = selectors.incident_get(actor=self.actor, reference=reference)
        return Response(IncidentDetailOutputSerializer(incident).data)


class TimelineNoteInputSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=10000)


class IncidentTimelineApi(OrgApiView):
    actions = {"GET": "incident.read", "POST": "incident.note"}

    @extend_schema(
        operation_id="incidents_timeline", responses=TimelineEntryOutputSerializer(many=True)
    )
    def get(self, request: Request, reference: str) -> Response:
        incident = selectors.incident_get(actor=self.actor, reference=reference)
        rows = selectors.incident_timeline(incident=incident)
        return Response(TimelineEntryOutputSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="incidents_note",
        request=TimelineNoteInputSerializer,
        responses={201: TimelineEntryOutputSerializer},
    )
    def post(self, request: Request, reference: str) -> Response:
        incident = selectors.incident_get(actor=self.actor, reference=reference)
        data = TimelineNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.incident_note(actor=self.actor, incident=incident, **data.validated_data)
        return Response(TimelineEntryOutputSerializer(entry).data, status=status.HTTP_201_CREATED)
