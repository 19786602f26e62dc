"""Canonical hashing: SHA-256 over RFC 8785 JSON of NFC-normalised text.

One implementation for the server and the light client (riskreg_client.hashing): a document
hashed in a CI job has exactly the digest the server stores, and docs/hashing.md's vectors
are checked through that code.
"""

import hashlib

from riskreg_client.hashing import canonical_hash, canonical_json, normalise

__all__ = ["canonical_hash", "canonical_json", "normalise", "sha256_hex"]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
