"""DRF glue: the exception handler that renders every error as the envelope."""

import functools
import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls.converters import get_converters
from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import Direction, OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from riskreg.lib.errors import CODES, ApplicationError, envelope
from riskreg.organisations.errors import TokenExpiredError

_DRF_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ParseError, "malformed_request"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (TokenExpiredError, "token_expired"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "too_many_requests"),
]


def _field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error detail into {"a.b.0.c": ["reason", ...]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "non_field_errors" if key == "non_field_errors" and not prefix else str(key)
            out.update(
                _field_errors(value, f"{prefix}{name}" if not prefix else f"{prefix}.{name}")
            )
        return out
    if isinstance(detail, list) and detail and all(isinstance(d, dict | list) for d in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(_field_errors(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(item) for item in items]}


def _validation_response(detail: Any) -> Response:
    fields = _field_errors(detail)
    first = next(iter(fields.items()))
    message = f"{first[0]}: {first[1][0]}"
    return Response(envelope("validation_error", message, {"fields": fields}), status=400)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render domain, DRF and Django errors as `{"code", "message", "extra"}`."""
    set_rollback()
    if isinstance(exc, ApplicationError):
        return Response(envelope(exc.code, exc.message, exc.extra), status=exc.http_status)
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc.detail)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return _validation_response(detail)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            envelope("request_too_large", "The request body is larger than this server accepts."),
            status=413,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), "validation_error")
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            headers["Retry-After"] = str(int(wait))
        return Response(envelope(code, str(exc.detail)), status=exc.status_code, headers=headers)
    return None


def not_found_response() -> Response:
    return Response(envelope("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)


def paginated(serializer_class: type[Any]) -> type[Any]:
    """A schema-only serializer for the paginated envelope around serializer_class."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{name}Serializer",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
            "paginated": True,  # tells ApiAutoSchema to document `page` and `page_size`
        },
    )


def paginated_response(request: Any, view: Any, rows: Any, serializer_class: type[Any]) -> Response:
    """Paginate rows and render them with serializer_class in the paginated envelope."""
    from riskreg.lib.pagination import Pagination

    paginator = Pagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


# --- OpenAPI: the error responses every API view can return -------------------------------


class ErrorEnvelopeSerializer(serializers.Serializer[Any]):
    """Schema-only: the error envelope (see riskreg.lib.errors)."""

    code = serializers.ChoiceField(choices=sorted(CODES))
    message = serializers.CharField()
    extra = serializers.DictField()


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error responses and the paging parameters.

    400 (a NUL byte in the query string, a bad filter), 401, 403 and 406 (an Accept
    header we cannot serve) can answer any request; 404 one naming an object in its path,
    or a page past the end of a list; 413 and 415 one with a body; 409 a POST (slug or
    version taken, transition not allowed).
    """

    def _is_paginated(self) -> bool:
        found = self.get_response_serializers()
        if isinstance(found, dict):
            found = found.get(200)
        return bool(getattr(found, "paginated", False))

    def _get_pagination_parameters(self) -> list[dict[str, Any]]:
        if self._is_paginated():
            from riskreg.lib.pagination import Pagination

            return Pagination().get_schema_operation_parameters(self.view)
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
        if "{" in self.path or self._is_paginated():
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


class OrgApiViewSchema(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    """Documents every organisation-scoped API view with ApiAutoSchema.

    @extend_schema builds each method's schema class on AutoSchema, so the replacement
    view slots ApiAutoSchema beneath it. Were REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]
    set to ApiAutoSchema, this extension would have nothing left to do.
    """

    target_class = "riskreg.organisations.apiview.OrgApiView"
    match_subclasses = True

    def view_replacement(self) -> type[Any]:
        attrs: dict[str, Any] = {"schema": ApiAutoSchema()}
        for name in self.target.http_method_names:
            handler = getattr(self.target, name, None)
            extended = getattr(handler, "kwargs", {}).get("schema")
            if extended is not None and not issubclass(extended, ApiAutoSchema):
                schema = type(extended.__name__, (extended, ApiAutoSchema), {})
                attrs[name] = _with_schema(handler, schema)
        return type(self.target.__name__, (self.target,), attrs)


def _with_schema(handler: Any, schema: type[Any]) -> Any:
    """A stand-in for a view method (schema generation only) with another schema class."""

    @functools.wraps(handler)
    def method(*args: Any, **kwargs: Any) -> Any:
        return handler(*args, **kwargs)

    method.kwargs = {**handler.kwargs, "schema": schema}  # type: ignore[attr-defined]
    return method
