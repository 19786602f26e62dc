"""Risk core API: list (filtered, sorted, paginated), create, read, update, and the plain
status moves."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.lib.api import paginated, paginated_response
from riskreg.organisations.apiview import OrgApiView
from riskreg.risks.models import (
    Level,
    Risk,
    RiskCategory,
    RiskSource,
    RiskStatus,
    ScoreKind,
    TreatmentDecision,
)
from riskreg.risks.selectors import register as selectors
from riskreg.risks.services import register as services


class ModelVersionRefSerializer(serializers.Serializer[Any]):
    system = serializers.SlugField(max_length=64)
    version = serializers.CharField(max_length=64)


class ScoreOutputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ScoreKind.choices)
    likelihood = serializers.IntegerField()
    impact = serializers.IntegerField()
    score = serializers.IntegerField()
    level = serializers.ChoiceField(choices=Level.choices)
    likelihood_label = serializers.CharField()
    impact_label = serializers.CharField()
    matrix_version = serializers.IntegerField(source="matrix.version")
    rationale = serializers.CharField()
    scored_by = serializers.CharField()
    created_at = serializers.DateTimeField()


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
    level = serializers.ChoiceField(choices=[*Level.choices, ("", "unscored")])
    inherent_score = ScoreOutputSerializer(allow_null=True)
    current_score = ScoreOutputSerializer(allow_null=True)
    residual_score = ScoreOutputSerializer(allow_null=True)
    treatment_decision = serializers.ChoiceField(
        choices=[*TreatmentDecision.choices, ("", "undecided")]
    )
    treatment_plan = serializers.CharField()
    next_review_date = serializers.DateField(allow_null=True)
    last_reviewed_on = serializers.DateField(allow_null=True)
    review_overdue = serializers.BooleanField()
    action_overdue = serializers.BooleanField()
    dismissal_reason = serializers.CharField()
    identified_on = serializers.DateField()
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
    """Text, category, owner and links; never the status (see validate)."""

    title = serializers.CharField(max_length=200, required=False)
    statement = serializers.CharField(max_length=10000, required=False)
    category = serializers.ChoiceField(choices=RiskCategory.choices, required=False)
    owner = serializers.CharField(max_length=150, allow_null=True, required=False)
    systems = _links_field(serializers.SlugField(max_length=64))
    model_versions = _links_field(ModelVersionRefSerializer())
    datasets = _links_field(serializers.SlugField(max_length=64))
    subcategories = _links_field(serializers.CharField(max_length=16))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Silently ignoring a status here would look like a way around the acceptance
        # rules; say where status changes instead.
        if isinstance(self.initial_data, dict) and "status" in self.initial_data:
            raise serializers.ValidationError(
                {"status": "is changed through /transition/, /accept/ or /dismiss/"}
            )
        return attrs


class RiskCreateInputSerializer(RiskUpdateInputSerializer):
    title = serializers.CharField(max_length=200)
    statement = serializers.CharField(max_length=10000)
    category = serializers.ChoiceField(choices=RiskCategory.choices)
    identified_on = serializers.DateField(required=False)
    source = serializers.ChoiceField(choices=RiskSource.choices, required=False)  # type: ignore[assignment]  # field named like a Field attribute


class RiskTransitionInputSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=RiskStatus.choices)


class RiskFilterSerializer(serializers.Serializer[Any]):
    """The register's filters; an unknown value is a 400, not an empty list."""

    status = serializers.ChoiceField(choices=RiskStatus.choices, required=False)
    system = serializers.SlugField(max_length=64, required=False)
    owner = serializers.CharField(max_length=150, required=False)
    category = serializers.ChoiceField(choices=RiskCategory.choices, required=False)
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    overdue = serializers.ChoiceField(choices=selectors.OVERDUE, required=False)
    sort = serializers.ChoiceField(
        choices=[*selectors.SORTS, *(f"-{name}" for name in selectors.SORTS)], required=False
    )


def risk_filters(request: Request) -> dict[str, Any]:
    """Validated register filters from the query string (shared with the export)."""
    wanted = RiskFilterSerializer(data=request.query_params)
    wanted.is_valid(raise_exception=True)
    return dict(wanted.validated_data)


class RisksApi(OrgApiView):
    actions = {"GET": "risk.read", "POST": "risk.create"}

    @extend_schema(
        operation_id="risks_list",
        parameters=[RiskFilterSerializer],
        responses=paginated(RiskOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        rows = selectors.risk_list(actor=self.actor, **risk_filters(request))
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
