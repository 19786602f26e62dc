"""Risk core API: list, create, read, update, and the plain status moves."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.lib.api import paginated, paginated_response
from riskreg.organisations.apiview import OrgApiView
from riskreg.risks import selectors, services
from riskreg.risks.models import Risk, RiskCategory, RiskSource, RiskStatus


class ModelVersionRefSerializer(serializers.Serializer[Any]):
    system = serializers.SlugField(max_length=64)
    version = serializers.CharField(max_length=64)


class RiskOutputSerializer(serializers.Serializer[Risk]):
    reference = serializers.CharField()
    title = serializers.CharField()
    statement = serializers.CharField()
    category = serializers.ChoiceField(choices=RiskCategory.choices)
    owner = serializers.CharField(source="owner.user.username", allow_null=True, default=None)
    status = serializers.ChoiceField(choices=RiskStatus.choices)
    source = serializers.ChoiceField(choices=RiskSource.choices)  # type: ignore[assignment]  # field named like a Field attribute
    systems = serializers.SerializerMethodField()
    model_versions = ModelVersionRefSerializer(many=True, source="model_version_refs")
    datasets = serializers.SerializerMethodField()
    subcategories = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_systems(self, risk: Risk) -> list[str]:
        return [s.slug for s in risk.systems.all()]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_datasets(self, risk: Risk) -> list[str]:
        return [d.slug for d in risk.datasets.all()]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_subcategories(self, risk: Risk) -> list[str]:
        return [s.pk for s in risk.subcategories.all()]


def _links_field(child: serializers.Field[Any, Any, Any, Any]) -> serializers.ListField:
    return serializers.ListField(child=child, required=False, max_length=200)


class RiskUpdateInputSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200, required=False)
    statement = serializers.CharField(max_length=10000, required=False)
    category = serializers.ChoiceField(choices=RiskCategory.choices, required=False)
    owner = serializers.CharField(max_length=150, allow_null=True, required=False)
    systems = _links_field(serializers.SlugField(max_length=64))
    model_versions = _links_field(ModelVersionRefSerializer())
    datasets = _links_field(serializers.SlugField(max_length=64))
    subcategories = _links_field(serializers.CharField(max_length=16))


class RiskCreateInputSerializer(RiskUpdateInputSerializer):
    title = serializers.CharField(max_length=200)
    statement = serializers.CharField(max_length=10000)
    category = serializers.ChoiceField(choices=RiskCategory.choices)
    source = serializers.ChoiceField(choices=RiskSource.choices, required=False)  # type: ignore[assignment]  # field named like a Field attribute


class RiskTransitionInputSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=RiskStatus.choices)


class RisksApi(OrgApiView):
    actions = {"GET": "risk.read", "POST": "risk.create"}

    @extend_schema(
        operation_id="risks_list",
        parameters=[
            OpenApiParameter("status", str, required=False, enum=RiskStatus.values),
            OpenApiParameter("system", str, required=False, description="An AI system's slug."),
        ],
        responses=paginated(RiskOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        rows = selectors.risk_list(
            actor=self.actor,
            status=request.query_params.get("status"),
            system=request.query_params.get("system"),
        )
        return paginated_response(request, self, rows, RiskOutputSerializer)

    @extend_schema(
        operation_id="risks_create",
        request=RiskCreateInputSerializer,
        responses={201: RiskOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = RiskCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        risk = services.risk_create(actor=self.actor, **data.validated_data)
        risk = selectors.risk_get(actor=self.actor, reference=risk.reference)
        return Response(RiskOutputSerializer(risk).data, status=status.HTTP_201_CREATED)


class RiskDetailApi(OrgApiView):
    actions = {"GET": "risk.read", "PATCH": "risk.update"}

    @extend_schema(operation_id="risks_retrieve", responses=RiskOutputSerializer)
    def get(self, request: Request, reference: str) -> Response:
        risk = selectors.risk_get(actor=self.actor, reference=reference)
        return Response(RiskOutputSerializer(risk).data)

    @extend_schema(
        operation_id="risks_update",
        request=RiskUpdateInputSerializer,
        responses=RiskOutputSerializer,
    )
    def patch(self, request: Request, reference: str) -> Response:
        risk = selectors.risk_get(actor=self.actor, reference=reference)
        # Every field is optional already; partial=True would also waive the required
        # `system` and `version` of each model_versions item (a 500 on a missing one).
        data = RiskUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        owner = {"owner": fields.pop("owner")} if "owner" in fields else {}
        if owner and owner["owner"] is None:
            owner = {"clear_owner": True}
        services.risk_update(actor=self.actor, risk=risk, **owner, **fields)
        risk = selectors.risk_get(actor=self.actor, reference=reference)
        return Response(RiskOutputSerializer(risk).data)


class RiskTransitionApi(OrgApiView):
    actions = {"POST": "risk.transition"}

    @extend_schema(
        operation_id="risks_transition",
        request=RiskTransitionInputSerializer,
        responses=RiskOutputSerializer,
    )
    def post(self, request: Request, reference: str) -> Response:
        risk = selectors.risk_get(actor=self.actor, reference=reference)
        data = RiskTransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.risk_transition(actor=self.actor, risk=risk, status=data.validated_data["status"])
        risk = selectors.risk_get(actor=self.actor, reference=reference)
        return Response(RiskOutputSerializer(risk).data)
