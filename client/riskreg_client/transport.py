"""HTTP to riskreg: the token, JSON errors, and retries only where a retry can help.

A network error (refused, reset, DNS, timeout) or a 5xx answer is retried with exponential
backoff; a 4xx answer never is: sending the same request again gets the same refusal.
Retrying a POST is safe because every write the client sends carries an Idempotency-Key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from riskreg_client import __version__
from riskreg_client.errors import RiskregError, UnreachableError, from_response

RETRIES = 3
BACKOFF_S = 0.5
TIMEOUT_S = 60.0


class Transport:
    """One riskreg server and token; ``request`` returns the decoded JSON of a success."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = TIMEOUT_S,
        retries: int = RETRIES,
        backoff: float = BACKOFF_S,
        sleep: Callable[[float], None] | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        if not url:
            raise RiskregError("no server: set RISKREG_URL or pass --url")
        if not token:
            raise RiskregError("no token: set RISKREG_TOKEN or pass --token")
        self.base = url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.http = http or httpx.Client(timeout=timeout)
        self.last_status = 0
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": f"riskreg-client/{__version__}",
        }

    def url(self, path: str) -> str:
        """An absolute URL: paths the server returned (``/api/v1/...``) or API-relative ones."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):
            return self.base + path
        return f"{self.base}/api/v1/{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send, retrying network errors and 5xx; raise the error of a refusal."""
        target = self.url(path)
        sent = {**self.headers, **(headers or {})}
        attempt = 0
        while True:
            try:
                answer = self.http.request(
                    method, target, json=json, data=data, files=files, params=params, headers=sent
                )
            except httpx.TransportError as exc:
                if attempt < self.retries:
                    self._pause(attempt)
                    attempt += 1
                    continue
                raise UnreachableError(
                    f"{what}: cannot reach {self.base} ({_reason(exc)})"
                ) from exc
            if answer.status_code >= 500 and attempt < self.retries:
                self._pause(attempt)
                attempt += 1
                continue
            self.last_status = answer.status_code
            return _decoded(answer, what=what)

    def _pause(self, attempt: int) -> None:
        (self.sleep or time.sleep)(self.backoff * (2**attempt))


def _decoded(answer: httpx.Response, *, what: str) -> Any:
    try:
        body = answer.json() if answer.content else None
    except ValueError:
        body = None
    if answer.is_success:
        if body is None and answer.content:
            raise RiskregError(f"{what}: the server's answer is not JSON (HTTP 200)")
        return body
    raise from_response(answer.status_code, body, what=what)


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {exc}" if str(exc) else "connection failed"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
