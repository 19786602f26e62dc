"""Posture API: a system's 72 verdicts, their history, overrides and findings."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

import riskreg
from controls.models import Finding, Override, Subcategory, VerdictChange, VerdictStatus
from controls.oscal import oscal_assessment_results
from controls.rulebook import rules_current
from controls.selectors import posture as selectors
from controls.services.overrides import override_create
from riskreg.inventory.selectors import system_get
from riskreg.lib.errors import ValidationFailedError
from riskreg.organisations.apiview import OrgApiView

STATUSES = VerdictStatus.choices
# What an officer may put in place of a computed verdict (not applicable has its own kind).
OVERRIDE_STATUSES = [
    ("not_met", "Not met"),
    ("inconclusive", "Inconclusive"),
    ("partially_met", "Partially met"),
    ("met", "Met"),
]


class ContributionSerializer(serializers.Serializer[Any]):
    rule = serializers.CharField()
    status = serializers.CharField(help_text="This contribution's verdict status.")
    evidence = serializers.ListField(child=serializers.CharField())
    metric = serializers.CharField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    interval = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    threshold = serializers.FloatField(allow_null=True)
    band = serializers.FloatField(allow_null=True)
    compare = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    regression = serializers.BooleanField()
    model_version = serializers.CharField(allow_null=True, required=False)


class OverrideOutputSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=Override.Kind.choices)
    status = serializers.ChoiceField(choices=STATUSES)
    justification = serializers.CharField()
    expires_at = serializers.DateTimeField()
    by = serializers.CharField()
    created_at = serializers.DateTimeField()


class VersionStatusSerializer(serializers.Serializer[Any]):
    version = serializers.CharField()
    status = serializers.CharField()


class VerdictOutputSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    function = serializers.CharField()
    category = serializers.CharField()
    outcome = serializers.CharField()
    page = serializers.IntegerField(help_text="Page number printed in NIST AI 100-1.")
    scope = serializers.CharField()
    inherited = serializers.BooleanField(help_text="Decided once for the organisation.")
    status = serializers.ChoiceField(choices=STATUSES)
    computed_status = serializers.ChoiceField(choices=STATUSES)
    overridden = serializers.BooleanField()
    override = OverrideOutputSerializer(allow_null=True)
    regression = serializers.BooleanField()
    rationale = ContributionSerializer(many=True)
    evidence = serializers.ListField(child=serializers.CharField())
    decided_at = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    rules_version = serializers.CharField(allow_null=True)
    policy_version = serializers.IntegerField(allow_null=True)
    by_model_version = VersionStatusSerializer(many=True)


class PostureOutputSerializer(serializers.Serializer[Any]):
    system = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    model_versions = VersionStatusSerializer(many=True)
    coverage = serializers.DictField()
    subcategories = VerdictOutputSerializer(many=True)


class AtSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField(required=False)


class PostureApi(OrgApiView):
    actions = {"GET": "posture.read"}

    @extend_schema(
        operation_id="posture_retrieve",
        parameters=[OpenApiParameter("at", str, required=False, description="ISO 8601 time")],
        responses=PostureOutputSerializer,
    )
    def get(self, request: Request, slug: str) -> Response:
        system = system_get(actor=self.actor, slug=slug)
        query = AtSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        posture = selectors.posture_get(system=system, at=query.validated_data.get("at"))
        return Response(PostureOutputSerializer(posture).data)


class ChangeOutputSerializer(serializers.Serializer[VerdictChange]):
    subcategory = serializers.CharField(source="subcategory_id")
    status = serializers.ChoiceField(choices=STATUSES)
    previous = serializers.CharField(allow_blank=True, help_text="Empty for a first verdict.")
    regression = serializers.BooleanField()
    overridden = serializers.BooleanField()
    cause = serializers.CharField()
    decided_at = serializers.DateTimeField()
    evidence = serializers.ListField(child=serializers.CharField())
    rules_version = serializers.CharField()
    policy_version = serializers.IntegerField(allow_null=True)


class PeriodSerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class PostureChangesApi(OrgApiView):
    actions = {"GET": "posture.read"}

    @extend_schema(
        operation_id="posture_changes",
        parameters=[
            OpenApiParameter("since", str, required=False),
            OpenApiParameter("until", str, required=False),
        ],
        responses=ChangeOutputSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        system = system_get(actor=self.actor, slug=slug)
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        rows: Any = selectors.posture_changes(
            system=system,
            since=period.validated_data.get("since"),
            until=period.validated_data.get("until"),
        )
        return Response(ChangeOutputSerializer(rows, many=True).data)


class OverrideInputSerializer(serializers.Serializer[Any]):
    subcategory = serializers.CharField(max_length=16)
    kind = serializers.ChoiceField(choices=Override.Kind.choices)
    status = serializers.ChoiceField(choices=OVERRIDE_STATUSES, required=False)
    justification = serializers.CharField(max_length=5000)
    expires_at = serializers.DateTimeField()


class OverrideCreatedSerializer(OverrideOutputSerializer):
    subcategory = serializers.CharField()
    system = serializers.CharField(allow_null=True, help_text="null: organisation-wide")


class OverridesApi(OrgApiView):
    actions = {"POST": "posture.override"}

    @extend_schema(
        operation_id="posture_override",
        request=OverrideInputSerializer,
        responses={201: OverrideCreatedSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        system = system_get(actor=self.actor, slug=slug)
        data = OverrideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        subcategory = Subcategory.objects.filter(pk=fields.pop("subcategory")).first()
        if subcategory is None:
            raise ValidationFailedError.for_field("subcategory", "no such AI RMF subcategory")
        made = override_create(actor=self.actor, system=system, subcategory=subcategory, **fields)
        body = {
            "id": str(made.uid),
            "kind": made.kind,
            "status": made.status,
            "justification": made.justification,
            "expires_at": made.expires_at,
            "by": made.actor_label,
            "created_at": made.created_at,
            "subcategory": subcategory.id,
            "system": system.slug if made.system_id else None,
        }
        return Response(OverrideCreatedSerializer(body).data, status=201)


class FindingOutputSerializer(serializers.Serializer[Finding]):
    id = serializers.UUIDField(source="uid")
    kind = serializers.ChoiceField(choices=Finding.Kind.choices)
    subcategory = serializers.CharField(source="subcategory_id")
    summary = serializers.CharField()
    evidence = serializers.ListField(child=serializers.CharField())
    details = ContributionSerializer(many=True)
    risk = serializers.CharField(source="risk.reference", allow_null=True, default=None)
    proposed = serializers.BooleanField(help_text="True when this finding proposed the risk.")
    created_at = serializers.DateTimeField()


class FindingsApi(OrgApiView):
    actions = {"GET": "finding.read"}

    @extend_schema(operation_id="findings_list", responses=FindingOutputSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        system = system_get(actor=self.actor, slug=slug)
        rows: Any = selectors.finding_list(system=system)[:500]
        return Response(FindingOutputSerializer(rows, many=True).data)


class PostureOscalApi(OrgApiView):
    actions = {"GET": "posture.read"}

    @extend_schema(
        operation_id="posture_oscal",
        responses={200: {"type": "object", "description": "OSCAL assessment-results (JSON)"}},
    )
    def get(self, request: Request, slug: str) -> Response:
        system = system_get(actor=self.actor, slug=slug)
        found = selectors.oscal_inputs(system=system)
        posture = found["posture"]
        document = oscal_assessment_results(
            organisation=system.organization.name,
            system={"slug": system.slug, "name": system.name, "description": system.description},
            posture={
                "decided_at": _iso(posture["decided_at"]),
                "rules_version": rules_current().label,
                "policy_version": next(
                    (r["policy_version"] for r in posture["subcategories"] if r["policy_version"]),
                    None,
                ),
                "subcategories": [
                    {
                        "id": r["id"],
                        "function": r["function"],
                        "outcome": r["outcome"],
                        "status": r["status"],
                        "overridden": r["overridden"],
                        "rationale": r["rationale"],
                        "evidence": r["evidence"],
                        "decided_at": _iso(r["decided_at"]),
                    }
                    for r in posture["subcategories"]
                ],
            },
            evidence=found["evidence"],
            risks=found["risks"],
            generated_at=timezone.now(),
            riskreg_version=riskreg.__version__,
        )
        return Response(document)


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None
