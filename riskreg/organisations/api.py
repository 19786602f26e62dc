"""Who am I: the caller's organisation and role, for the client and the UI."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.organisations import selectors
from riskreg.organisations.apiview import OrgApiView


class MeOutputSerializer(serializers.Serializer[Any]):
    organisation = serializers.CharField()
    role = serializers.CharField()
    actor = serializers.CharField()
    kind = serializers.CharField()


class MeApi(OrgApiView):
    actions = {"GET": "me.read"}

    @extend_schema(operation_id="me_retrieve", responses=MeOutputSerializer)
    def get(self, request: Request) -> Response:
        actor = self.actor
        org = selectors.organization_by_id(organization_id=actor.organization_id)
        data = {
            "organisation": org.slug,
            "role": actor.role,
            "actor": actor.label,
            "kind": actor.kind,
        }
        return Response(MeOutputSerializer(data).data)
