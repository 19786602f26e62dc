"""The hashed body of an audit event, shared by writer, verifier and export.

Kept free of database access so that the client can verify an export with the
same rules.
"""

from datetime import UTC, datetime
from typing import Any

from riskreg.lib.hashing import canonical_hash


def timestamp(value: datetime) -> str:
    """UTC, microseconds: the precision PostgreSQL and SQLite both store."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_body(
    *,
    organization: str,
    seq: int,
    actor: dict[str, Any],
    action: str,
    object_type: str,
    object_id: str,
    changes: dict[str, Any],
    created_at: str,
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "organization": organization,
        "seq": seq,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "changes": changes,
        "created_at": created_at,
        "prev_hash": prev_hash,
    }


def body_hash(body: dict[str, Any]) -> str:
    return canonical_hash(body)
