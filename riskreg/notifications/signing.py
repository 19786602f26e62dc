"""The webhook body and its signature headers (docs/notifications.md shows how to verify)."""

import hashlib
import hmac
import secrets
from typing import Any

from riskreg.lib.hashing import canonical_json

SECRET_PREFIX = "whsec_"  # noqa: S105 - a public marker, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def body_bytes(document: dict[str, Any]) -> bytes:
    """Canonical JSON (RFC 8785: sorted keys, no spaces), the bytes that are signed and sent."""
    return canonical_json(document)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """sha256=<hex HMAC-SHA256 of "<timestamp>.<body>"> under the webhook's secret."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def headers(
    *, secret: str, kind: str, delivery: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The X-Riskreg-* headers of one delivery attempt."""
    return {
        "X-Riskreg-Event": kind,
        "X-Riskreg-Delivery": delivery,
        "X-Riskreg-Timestamp": str(timestamp),
        "X-Riskreg-Signature": signature(secret, timestamp, body),
    }
