"""DRF glue: the exception handler that renders every error as the envelope."""

import json
import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import set_rollback

from riskreg.lib.errors import ApplicationError, ValidationFailedError, envelope
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
            "paginated": "page",  # tells ApiAutoSchema to document `page` and `page_size`
        },
    )


def cursor_paginated(serializer_class: type[Any]) -> type[Any]:
    """A schema-only serializer for the cursor-paginated envelope around serializer_class."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return type(
        f"CursorPaginated{name}Serializer",
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
            "paginated": "cursor",  # tells ApiAutoSchema to document `cursor` and `page_size`
        },
    )


def paginated_response(request: Any, view: Any, rows: Any, serializer_class: type[Any]) -> Response:
    """Paginate rows and render them with serializer_class in the paginated envelope."""
    from riskreg.lib.pagination import Pagination

    paginator = Pagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def cursor_paginated_response(
    request: Any, view: Any, rows: Any, serializer_class: type[Any]
) -> Response:
    """One page of rows (newest first) with opaque next/previous cursors."""
    from riskreg.lib.pagination import Cursor

    paginator = Cursor()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def strict_json(name: str, text: str) -> Any:
    """Parse a JSON form part; NaN and infinities are not JSON (DRF's parser agrees)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError) as exc:
        raise exceptions.ParseError(f"{name}: not valid JSON ({exc})") from exc


# Idempotency keys: 1 to 200 visible ASCII characters, unique per organisation.
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,200}")


def idempotency_key(request: Any) -> str | None:
    """The request's Idempotency-Key header, checked; None when there is none."""
    key: str | None = request.headers.get("Idempotency-Key")
    if key is not None and not KEY_PATTERN.fullmatch(key):
        raise ValidationFailedError.for_field(
            "Idempotency-Key", "1 to 200 visible ASCII characters"
        )
    return key
