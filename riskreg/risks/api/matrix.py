"""The organisation's scoring matrix, and the register at a glance (counts and heat maps)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.organisations.apiview import OrgApiView
from riskreg.risks.models import Level, RiskMatrix
from riskreg.risks.selectors import register as registers
from riskreg.risks.selectors import workflow as selectors
from riskreg.risks.services import matrix as services


class BandLimitsSerializer(serializers.Serializer[Any]):
    low = serializers.IntegerField(min_value=1, max_value=24)
    medium = serializers.IntegerField(min_value=1, max_value=24)
    high = serializers.IntegerField(min_value=1, max_value=24)


class ReviewDaysSerializer(serializers.Serializer[Any]):
    low = serializers.IntegerField(min_value=1, max_value=services.MAX_REVIEW_DAYS)
    medium = serializers.IntegerField(min_value=1, max_value=services.MAX_REVIEW_DAYS)
    high = serializers.IntegerField(min_value=1, max_value=services.MAX_REVIEW_DAYS)
    critical = serializers.IntegerField(min_value=1, max_value=services.MAX_REVIEW_DAYS)


def _labels(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=40), min_length=5, max_length=5, **kwargs
    )


class MatrixOutputSerializer(serializers.Serializer[RiskMatrix]):
    version = serializers.IntegerField()
    likelihood_labels = _labels()
    impact_labels = _labels()
    band_limits = BandLimitsSerializer()
    tolerance = serializers.ChoiceField(choices=Level.choices)
    review_days = ReviewDaysSerializer()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class MatrixInputSerializer(serializers.Serializer[Any]):
    likelihood_labels = _labels(required=False)
    impact_labels = _labels(required=False)
    band_limits = BandLimitsSerializer(required=False)
    tolerance = serializers.ChoiceField(choices=Level.choices, required=False)
    review_days = ReviewDaysSerializer(required=False)


class RiskMatrixApi(OrgApiView):
    actions = {"GET": "risk_matrix.read", "PATCH": "risk_matrix.update"}

    @extend_schema(operation_id="risks_matrix_retrieve", responses=MatrixOutputSerializer)
    def get(self, request: Request) -> Response:
        matrix = selectors.matrix_current(organization_id=self.actor.organization_id)
        return Response(MatrixOutputSerializer(matrix).data)

    @extend_schema(
        operation_id="risks_matrix_update",
        request=MatrixInputSerializer,
        responses=MatrixOutputSerializer,
    )
    def patch(self, request: Request) -> Response:
        data = MatrixInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        matrix = services.matrix_update(actor=self.actor, **data.validated_data)
        return Response(MatrixOutputSerializer(matrix).data)


class SummaryOutputSerializer(serializers.Serializer[Any]):
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_level = serializers.DictField(child=serializers.IntegerField())
    overdue_actions = serializers.IntegerField()
    overdue_reviews = serializers.IntegerField()
    acceptances_expiring = serializers.IntegerField(
        help_text=f"Acceptances in force that end within {selectors.DUE_SOON_DAYS} days."
    )
    inherent_heat_map = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Rows are likelihood 5 down to 1, columns impact 1 to 5.",
    )
    residual_heat_map = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField())
    )


class RiskSummaryApi(OrgApiView):
    actions = {"GET": "risk.read"}

    @extend_schema(operation_id="risks_summary", responses=SummaryOutputSerializer)
    def get(self, request: Request) -> Response:
        actor = self.actor
        summary = registers.risk_summary(actor=actor)
        summary["acceptances_expiring"] = selectors.acceptances_expiring(
            actor=actor, within_days=selectors.DUE_SOON_DAYS
        ).count()
        summary["inherent_heat_map"] = selectors.heat_map(actor=actor, kind="inherent")
        summary["residual_heat_map"] = selectors.heat_map(actor=actor, kind="residual")
        return Response(SummaryOutputSerializer(summary).data)
