"""The one error envelope and the registry of its stable codes.

Every error the API returns is `{"code", "message", "extra"}`. Codes are part of
the public interface: clients branch on them, so they are listed here once, with
the HTTP status they travel with, and never renamed.
"""

from typing import Any, ClassVar

# code -> (HTTP status, what it means)
CODES: dict[str, tuple[int, str]] = {
    "validation_error": (400, "A field is missing, has the wrong type or an invalid value."),
    "malformed_request": (400, "The body is not valid JSON or not valid UTF-8."),
    "not_authenticated": (401, "No credentials were sent."),
    "authentication_failed": (401, "The credentials are wrong."),
    "token_expired": (401, "The API token has expired or was revoked."),
    "permission_denied": (403, "Your role may not do this."),
    "not_found": (404, "No such object in your organisation."),
    "method_not_allowed": (405, "The endpoint does not accept this HTTP method."),
    "not_acceptable": (406, "The requested response format is not available."),
    "conflict": (409, "The object already exists or changed meanwhile."),
    "unsupported_media_type": (415, "The body must be application/json."),
    "too_many_requests": (429, "Slow down and retry later."),
    "request_too_large": (413, "The request body is larger than allowed."),
    "slug_taken": (409, "Another object in the organisation already uses this slug."),
    "version_taken": (409, "The AI system already has a model version with this name."),
    "invalid_transition": (409, "The object cannot move from its status to the one asked."),
    "transition_reserved": (
        409,
        "Accepting and dismissing go through the acceptance workflow, not this endpoint.",
    ),
    "foreign_reference": (400, "A referenced object does not exist in your organisation."),
    "organisation_required": (403, "You are not a member of any organisation."),
    "last_admin": (409, "The organisation must keep at least one admin."),
    "evidence_invalid": (
        400,
        "The evidence document does not match its kind's schema; extra.errors lists every "
        "problem with its JSON pointer.",
    ),
    "import_failed": (400, "The file to import does not have the shape its format expects."),
    "import_rows_invalid": (
        400,
        "Rows of the file to import are invalid; extra.errors lists each with its row number, "
        "column and reason. Nothing was imported.",
    ),
    "import_too_large": (
        413,
        "The file to import is larger, expands further or has more rows than this server accepts.",
    ),
    "idempotency_conflict": (
        409,
        "The Idempotency-Key was already used for a different document or attachment.",
    ),
    "evidence_not_current": (
        409,
        "The evidence item was already withdrawn or superseded.",
    ),
    "attachment_too_large": (413, "An uploaded file is larger than this server accepts."),
    "attachment_type_refused": (
        415,
        "An uploaded file's type is not accepted, or its content does not match its type.",
    ),
    "job_finished": (409, "The assessment job has already finished."),
    "model_refused": (
        400,
        "The uploaded model, its architecture or its evaluation data is refused; extra.reason "
        "names the rule (model_format, model_invalid, model_external_data, model_op_refused, "
        "model_too_large, architecture_invalid, weights_mismatch, input_mismatch).",
    ),
    "segregation_of_duties": (403, "A risk's owner may not accept that risk."),
    "above_tolerance": (
        403,
        "The residual level is above the organisation's risk tolerance; only an admin may "
        "accept it.",
    ),
    "acceptance_needs_person": (403, "Only a member, not a service account, may accept a risk."),
    "residual_score_required": (409, "The risk needs a residual score before it is accepted."),
    "report_not_draft": (409, "Only a rendered draft report can be approved."),
    "report_not_signed": (409, "The report has no signed PDF yet."),
    "report_too_large": (413, "The PDF sent for verification is larger than this server accepts."),
    "webhook_address_refused": (
        400,
        "The webhook URL's host is, or resolves to, a private, loopback, link-local or other "
        "non-public address.",
    ),
}


class ApplicationError(Exception):
    """A domain error that the API turns into the envelope.

    Subclasses set `code`; the HTTP status comes from the registry.
    """

    code: ClassVar[str] = "validation_error"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.code not in CODES:
            raise TypeError(f"{cls.__name__}.code {cls.code!r} is not in riskreg.lib.errors.CODES")

    @property
    def http_status(self) -> int:
        return CODES[self.code][0]


class ValidationFailedError(ApplicationError):
    code = "validation_error"

    @classmethod
    def for_field(cls, field: str, reason: str) -> "ValidationFailedError":
        return cls(f"{field}: {reason}", extra={"fields": {field: [reason]}})


class NotFoundError(ApplicationError):
    code = "not_found"


class ConflictError(ApplicationError):
    code = "conflict"


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"


class ForeignReferenceError(ApplicationError):
    code = "foreign_reference"

    @classmethod
    def for_field(cls, field: str, value: object) -> "ForeignReferenceError":
        reason = f"{value!r} does not exist in your organisation"
        return cls(f"{field}: {reason}", extra={"fields": {field: [reason]}})


def envelope(code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "extra": extra or {}}
