"""The register's workflow API: scores, treatment and its actions, acceptance, dismissal,
reviews, comments and field history of one risk, plus the organisation's treatment plan."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.lib.api import paginated, paginated_response
from riskreg.organisations.apiview import OrgApiView
from riskreg.risks.api.register import RiskOutputSerializer, ScoreOutputSerializer
from riskreg.risks.models import (
    ActionStatus,
    Level,
    RiskAcceptance,
    ScoreKind,
    TreatmentAction,
    TreatmentDecision,
)
from riskreg.risks.selectors import register as registers
from riskreg.risks.selectors import workflow as selectors
from riskreg.risks.services import acceptance, comments, scoring, treatment


def _risk_answer(view: OrgApiView, reference: str, code: int = status.HTTP_200_OK) -> Response:
    """The risk as the register shows it, re-read after a write."""
    risk = registers.risk_get(actor=view.actor, reference=reference)
    return Response(RiskOutputSerializer(risk).data, status=code)


# --- scores ----------------------------------------------------------------------------


class ScoreInputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ScoreKind.choices)
    likelihood = serializers.IntegerField(min_value=1, max_value=5)
    impact = serializers.IntegerField(min_value=1, max_value=5)
    rationale = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class RiskScoresApi(OrgApiView):
    actions = {"GET": "risk.read", "POST": "risk.score"}

    @extend_schema(operation_id="risks_scores_list", responses=ScoreOutputSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        return Response(ScoreOutputSerializer(selectors.score_list(risk=risk), many=True).data)

    @extend_schema(
        operation_id="risks_scores_create",
        request=ScoreInputSerializer,
        responses={201: RiskOutputSerializer},
    )
    def post(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        data = ScoreInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scoring.risk_score(actor=self.actor, risk=risk, **data.validated_data)
        return _risk_answer(self, reference, status.HTTP_201_CREATED)


# --- treatment -------------------------------------------------------------------------


class TreatmentInputSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(
        choices=[*TreatmentDecision.values, ""], required=False, allow_blank=True
    )
    plan = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class RiskTreatmentApi(OrgApiView):
    actions = {"PATCH": "risk.treat"}

    @extend_schema(
        operation_id="risks_treatment_update",
        request=TreatmentInputSerializer,
        responses=RiskOutputSerializer,
    )
    def patch(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        data = TreatmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        treatment.risk_treatment_set(actor=self.actor, risk=risk, **data.validated_data)
        return _risk_answer(self, reference)


class ActionOutputSerializer(serializers.Serializer[Any]):
    risk = serializers.CharField(source="risk.reference")
    number = serializers.SerializerMethodField()
    title = serializers.CharField()
    owner = serializers.CharField(source="owner.user.username", allow_null=True, default=None)
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=ActionStatus.choices)
    overdue = serializers.SerializerMethodField()
    completed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_number(self, action: TreatmentAction) -> str:
        return f"A{action.number}"

    def get_overdue(self, action: TreatmentAction) -> bool:
        return action.is_overdue(timezone.localdate())


class ActionUpdateInputSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200, required=False)
    owner = serializers.CharField(max_length=150, allow_null=True, required=False)
    due_date = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)


class ActionCreateInputSerializer(ActionUpdateInputSerializer):
    title = serializers.CharField(max_length=200)
    due_date = serializers.DateField()


class RiskActionsApi(OrgApiView):
    actions = {"GET": "risk.read", "POST": "risk.treat"}

    @extend_schema(operation_id="risks_actions_list", responses=ActionOutputSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        rows = selectors.action_list(actor=self.actor, risk=risk)
        return Response(ActionOutputSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="risks_actions_create",
        request=ActionCreateInputSerializer,
        responses={201: ActionOutputSerializer},
    )
    def post(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        data = ActionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = treatment.treatment_action_create(
            actor=self.actor, risk=risk, **data.validated_data
        )
        action = selectors.action_get(actor=self.actor, risk=risk, number=str(created.number))
        return Response(ActionOutputSerializer(action).data, status=status.HTTP_201_CREATED)


class RiskActionDetailApi(OrgApiView):
    actions = {"PATCH": "risk.treat"}

    @extend_schema(
        operation_id="risks_actions_update",
        request=ActionUpdateInputSerializer,
        responses=ActionOutputSerializer,
    )
    def patch(self, request: Request, reference: str, number: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        action = selectors.action_get(actor=self.actor, risk=risk, number=number)
        data = ActionUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "owner" in fields and fields["owner"] is None:
            fields = {k: v for k, v in fields.items() if k != "owner"} | {"clear_owner": True}
        treatment.treatment_action_update(actor=self.actor, action=action, **fields)
        action = selectors.action_get(actor=self.actor, risk=risk, number=number)
        return Response(ActionOutputSerializer(action).data)


class TreatmentPlanFilterSerializer(serializers.Serializer[Any]):
    owner = serializers.CharField(max_length=150, required=False)
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    overdue = serializers.BooleanField(required=False, default=False)


class TreatmentPlanApi(OrgApiView):
    actions = {"GET": "risk.read"}

    @extend_schema(
        operation_id="risks_treatment_plan",
        parameters=[TreatmentPlanFilterSerializer],
        responses=paginated(ActionOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        wanted = TreatmentPlanFilterSerializer(data=request.query_params)
        wanted.is_valid(raise_exception=True)
        rows = selectors.action_list(actor=self.actor, **wanted.validated_data)
        return paginated_response(request, self, rows, ActionOutputSerializer)


# --- acceptance and dismissal ----------------------------------------------------------


class AcceptanceOutputSerializer(serializers.Serializer[Any]):
    risk = serializers.CharField(source="risk.reference")
    risk_status = serializers.CharField(source="risk.status")
    accepted_by = serializers.CharField(source="accepted_by_label")
    accepted_by_role = serializers.CharField()
    justification = serializers.CharField()
    conditions = serializers.CharField()
    valid_until = serializers.DateField()
    residual_level = serializers.ChoiceField(choices=Level.choices)
    residual_score = ScoreOutputSerializer()
    tolerance = serializers.ChoiceField(choices=Level.choices)
    matrix_version = serializers.IntegerField(source="matrix.version")
    in_force = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField()

    def get_in_force(self, row: RiskAcceptance) -> bool:
        return row.ended_at is None


class AcceptInputSerializer(serializers.Serializer[Any]):
    justification = serializers.CharField(max_length=5000)
    conditions = serializers.CharField(max_length=5000)
    valid_until = serializers.DateField()


class RiskAcceptApi(OrgApiView):
    actions = {"POST": "risk.accept"}

    @extend_schema(
        operation_id="risks_accept",
        request=AcceptInputSerializer,
        responses={201: AcceptanceOutputSerializer},
    )
    def post(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        data = AcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = acceptance.risk_accept(actor=self.actor, risk=risk, **data.validated_data)
        row = selectors.acceptance_list(risk=risk).get(pk=created.pk)
        return Response(AcceptanceOutputSerializer(row).data, status=status.HTTP_201_CREATED)


class RiskAcceptancesApi(OrgApiView):
    actions = {"GET": "risk.read"}

    @extend_schema(
        operation_id="risks_acceptances_list", responses=AcceptanceOutputSerializer(many=True)
    )
    def get(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        rows = selectors.acceptance_list(risk=risk)
        return Response(AcceptanceOutputSerializer(rows, many=True).data)


class DismissInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class RiskDismissApi(OrgApiView):
    actions = {"POST": "risk.dismiss"}

    @extend_schema(
        operation_id="risks_dismiss", request=DismissInputSerializer, responses=RiskOutputSerializer
    )
    def post(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        data = DismissInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        acceptance.risk_dismiss(actor=self.actor, risk=risk, **data.validated_data)
        return _risk_answer(self, reference)


# --- reviews, comments, history --------------------------------------------------------


class ReviewOutputSerializer(serializers.Serializer[Any]):
    reviewer = serializers.CharField(source="reviewer_label")
    reviewed_on = serializers.DateField()
    note = serializers.CharField()
    next_review_date = serializers.DateField()
    created_at = serializers.DateTimeField()


class ReviewInputSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=5000)
    reviewed_on = serializers.DateField(required=False)


class RiskReviewsApi(OrgApiView):
    actions = {"GET": "risk.read", "POST": "risk.review"}

    @extend_schema(operation_id="risks_reviews_list", responses=ReviewOutputSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        return Response(ReviewOutputSerializer(selectors.review_list(risk=risk), many=True).data)

    @extend_schema(
        operation_id="risks_reviews_create",
        request=ReviewInputSerializer,
        responses={201: ReviewOutputSerializer},
    )
    def post(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = scoring.risk_review(actor=self.actor, risk=risk, **data.validated_data)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


class CommentOutputSerializer(serializers.Serializer[Any]):
    author = serializers.CharField(source="author_label")
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class CommentInputSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=5000)


class RiskCommentsApi(OrgApiView):
    actions = {"GET": "risk.read", "POST": "risk.comment"}

    @extend_schema(operation_id="risks_comments_list", responses=CommentOutputSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        rows = selectors.comment_list(risk=risk)
        return Response(CommentOutputSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="risks_comments_create",
        request=CommentInputSerializer,
        responses={201: CommentOutputSerializer},
    )
    def post(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        data = CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = comments.risk_comment_add(actor=self.actor, risk=risk, **data.validated_data)
        return Response(CommentOutputSerializer(comment).data, status=status.HTTP_201_CREATED)


class HistoryOutputSerializer(serializers.Serializer[Any]):
    seq = serializers.IntegerField(help_text="The audit event's number in the chain.")
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.CharField()
    field = serializers.CharField()
    before = serializers.SerializerMethodField()
    after = serializers.SerializerMethodField()

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_before(self, row: dict[str, Any]) -> Any:
        return row["before"]

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_after(self, row: dict[str, Any]) -> Any:
        return row["after"]


class RiskHistoryApi(OrgApiView):
    actions = {"GET": "risk.read"}

    @extend_schema(operation_id="risks_history", responses=HistoryOutputSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        risk = registers.risk_get(actor=self.actor, reference=reference)
        rows = selectors.risk_history(actor=self.actor, risk=risk)
        return Response(HistoryOutputSerializer(rows, many=True).data)
