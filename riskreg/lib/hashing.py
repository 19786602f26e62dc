"""Canonical hashing: SHA-256 over RFC 8785 JSON of NFC-normalised text."""

import hashlib
import unicodedata
from typing import Any

import rfc8785


def normalise(value: Any) -> Any:
    """Return value with every string (keys included) in Unicode NFC.

    RFC 8785 does not normalise Unicode, so the same visible text typed two ways
    would hash differently.
    """
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {normalise(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return value


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes; raises ValueError for NaN, infinities or non-JSON types."""
    try:
        return rfc8785.dumps(normalise(value))
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise ValueError(f"value cannot be canonicalised: {exc}") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_hash(value: Any) -> str:
    """SHA-256 hex digest of the canonical JSON of value."""
    return sha256_hex(canonical_json(value))
