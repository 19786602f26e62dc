"""Policy API: the thresholds an organisation sets over the default rules."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from controls.models import Policy
from controls.rulebook import rules_current
from controls.selectors.policies import policy_versions
from controls.services.policies import policy_update
from riskreg.organisations.apiview import OrgApiView


class RuleOutputSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    kind = serializers.CharField()
    metric = serializers.CharField()
    compare = serializers.CharField()
    threshold = serializers.FloatField()
    band = serializers.FloatField()
    origin = serializers.CharField()
    subcategories = serializers.ListField(child=serializers.CharField())


class PolicyOutputSerializer(serializers.Serializer[Policy]):
    version = serializers.IntegerField()
    thresholds = serializers.DictField()
    tiers = serializers.DictField()
    note = serializers.CharField(allow_blank=True)
    by = serializers.CharField(source="actor_label")
    created_at = serializers.DateTimeField()


class PoliciesOutputSerializer(serializers.Serializer[Any]):
    rules_version = serializers.CharField()
    rules = RuleOutputSerializer(many=True)
    current = PolicyOutputSerializer(allow_null=True)
    versions = PolicyOutputSerializer(many=True)


class PolicyInputSerializer(serializers.Serializer[Any]):
    thresholds = serializers.DictField(
        help_text='{rule id: {"threshold": t, "band": b}} for every system'
    )
    tiers = serializers.DictField(required=False, help_text="{risk tier: {rule id: {...}}}")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class PoliciesApi(OrgApiView):
    actions = {"GET": "policy.read", "POST": "policy.update"}

    def _body(self) -> dict[str, Any]:
        versions = list(policy_versions(organization_id=self.actor.organization_id)[:50])
        rules = rules_current()
        return {
            "rules_version": rules.label,
            "rules": rules.metric_rules,
            "current": versions[0] if versions else None,
            "versions": versions,
        }

    @extend_schema(operation_id="policies_retrieve", responses=PoliciesOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(PoliciesOutputSerializer(self._body()).data)

    @extend_schema(
        operation_id="policies_update",
        request=PolicyInputSerializer,
        responses={201: PoliciesOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = PolicyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy_update(
            actor=self.actor,
            thresholds=data.validated_data["thresholds"],
            tiers=data.validated_data.get("tiers", {}),
            note=data.validated_data.get("note", ""),
        )
        return Response(PoliciesOutputSerializer(self._body()).data, status=201)
