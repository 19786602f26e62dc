"""What can go wrong talking to riskreg, each with its own exit status.

The command prints one line naming the problem and exits with the status of the error's
class, so a CI job can tell a failed gate from a server outage. ``docs/ci.md`` lists them.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_GATE = 1  # a verdict the caller said to fail on (or an invalid report / audit chain)
EXIT_USAGE = 2  # bad arguments, an unreadable local file
EXIT_INVALID = 3  # the server (or the local schema check) refused the input: 400, 404, 413, 415
EXIT_AUTH = 4  # missing, wrong or expired token (401), or a role that may not (403)
EXIT_CONFLICT = 5  # 409: an idempotency key reused for something else, a version taken
EXIT_UNREACHABLE = 6  # no answer: connection refused, DNS, timeouts (after retries)
EXIT_SERVER = 7  # the server failed: 5xx (after retries)
EXIT_JOB_FAILED = 8  # an assessment job ended failed or cancelled
EXIT_TIMEOUT = 9  # --wait gave up before the job or the verdicts were done


class RiskregError(Exception):
    """Base of every client error; ``exit_status`` is what the command exits with."""

    exit_status = EXIT_USAGE

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.extra: dict[str, Any] = {}


class UsageError(RiskregError):
    exit_status = EXIT_USAGE


class InvalidInputError(RiskregError):
    """The input was refused; ``problems`` lists ``(pointer, message)`` when known."""

    exit_status = EXIT_INVALID

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.problems = problems or []


class AuthError(RiskregError):
    exit_status = EXIT_AUTH


class ConflictError(RiskregError):
    exit_status = EXIT_CONFLICT


class UnreachableError(RiskregError):
    exit_status = EXIT_UNREACHABLE


class ServerError(RiskregError):
    exit_status = EXIT_SERVER


class JobFailedError(RiskregError):
    exit_status = EXIT_JOB_FAILED


class WaitTimeoutError(RiskregError):
    exit_status = EXIT_TIMEOUT


def from_response(status: int, body: Any, *, what: str) -> RiskregError:
    """The error for an HTTP answer that is not a success, from riskreg's error envelope
    ``{"code", "message", "extra"}`` (or the bare status when the body is not one)."""
    envelope = body if isinstance(body, dict) else {}
    code = str(envelope.get("code") or "")
    message = str(envelope.get("message") or f"HTTP {status}")
    extra = envelope.get("extra") if isinstance(envelope.get("extra"), dict) else {}
    text = f"{what}: {message}" + (f" ({code}, HTTP {status})" if code else f" (HTTP {status})")
    error: RiskregError
    if status in (401, 403):
        error = AuthError(text, status=status, code=code)
    elif status == 409:
        error = ConflictError(text, status=status, code=code)
    elif status >= 500:
        error = ServerError(text, status=status, code=code)
    else:
        problems = [
            (str(p.get("pointer", "")), str(p.get("message", "")))
            for p in (extra or {}).get("errors", [])
            if isinstance(p, dict)
        ]
        error = InvalidInputError(text, status=status, code=code, problems=problems)
    error.extra = dict(extra or {})
    return error
