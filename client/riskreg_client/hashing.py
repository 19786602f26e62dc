"""Canonical hashing, the same rules as the server's (docs/hashing.md).

SHA-256 over RFC 8785 canonical JSON of the value with every string in Unicode NFC. A
document hashed here has the digest the server stores for it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import rfc8785

IDEMPOTENCY_PREFIX = "rr-"


def normalise(value: Any) -> Any:
    """Return value with every string (keys included) in Unicode NFC.

    RFC 8785 does not normalise Unicode, so the same visible text typed two ways would
    otherwise hash differently.
    """
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {normalise(key): normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    return value


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes; raises ValueError for NaN, infinities or non-JSON types."""
    try:
        return rfc8785.dumps(normalise(value))
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise ValueError(f"value cannot be canonicalised: {exc}") from exc


def canonical_hash(value: Any) -> str:
    """SHA-256 hex digest of the canonical JSON of value."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def idempotency_key(document: Any) -> str:
    """An ``Idempotency-Key`` for submitting document: the same document gives the same key.

    A CI job that re-runs after a timeout sends the same key, so the server returns the item
    it already stored instead of recording a second one.
    """
    return IDEMPOTENCY_PREFIX + canonical_hash(document)
