"""OpenAPI: the error responses and paging parameters every API view documents."""

import re
from typing import Any

from django.urls.converters import get_converters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import Direction, OpenApiResponse
from rest_framework import serializers

from riskreg.lib.errors import CODES


class ErrorEnvelopeSerializer(serializers.Serializer[Any]):
    """Schema-only: the error envelope (see riskreg.lib.errors)."""

    code = serializers.ChoiceField(choices=sorted(CODES))
    message = serializers.CharField()
    extra = serializers.DictField()


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error responses and the paging parameters.

    400 (a NUL byte in the query string, a bad filter), 401, 403 and 406 (an Accept
    header we cannot serve) can answer any request; 404 one naming an object in its path
    (or, with `body_names_objects` on the view, a POST whose body names an AI system),
    or a page past the end of a list; 413 and 415 one with a body; 409 a POST (slug or
    version taken, transition not allowed).
    """

    def _paging(self) -> str | None:
        """ "page", "cursor", or None: how the operation's list response is paginated."""
        found = self.get_response_serializers()
        if isinstance(found, dict):
            found = found.get(200)
        return getattr(found, "paginated", None)

    def _is_paginated(self) -> bool:
        return self._paging() is not None

    def _get_pagination_parameters(self) -> list[dict[str, Any]]:
        from riskreg.lib.pagination import Cursor, Pagination

        paging = self._paging()
        if paging == "page":
            return Pagination().get_schema_operation_parameters(self.view)
        if paging == "cursor":
            return Cursor().get_schema_operation_parameters(self.view)
        return super()._get_pagination_parameters()  # type: ignore[no-untyped-call,no-any-return]

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        """Path parameters, with the pattern of their URL converter (else Django's HTML 404)."""
        parameters: list[dict[str, Any]] = super()._resolve_path_parameters(variables)  # type: ignore[no-untyped-call]
        converters = {name: kind for kind, name in re.findall(r"<(\w+):(\w+)>", self.path_regex)}
        for parameter in parameters:
            converter = get_converters().get(converters.get(parameter["name"], ""))
            if converter is not None and parameter["schema"].get("type") == "string":
                parameter["schema"] = {**parameter["schema"], "pattern": f"^{converter.regex}$"}
        return parameters

    def _error_statuses(self) -> list[int]:
        statuses = [400, 401, 403, 406]
        # A view whose body names an AI system answers 404 for one not in the organisation.
        refers = getattr(self.view, "body_names_objects", False) and self.method == "POST"
        if "{" in self.path or self._is_paginated() or refers:
            statuses.append(404)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += [413, 415]
        if self.method == "POST":
            statuses.append(409)
        return sorted(statuses)

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status_code in self._error_statuses():
            meanings = [f"`{c}`: {m}" for c, (s, m) in CODES.items() if s == status_code]
            error = OpenApiResponse(ErrorEnvelopeSerializer, description=" ".join(meanings))
            response = self._get_response_for_code(error, str(status_code))  # type: ignore[no-untyped-call]
            responses.setdefault(str(status_code), response)
        return responses
