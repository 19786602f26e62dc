"""Offline check of an exported audit chain (``GET /api/v1/audit/export/``, docs/audit.md).

Each line of the export is one event's hashed body plus its ``hash``, oldest first. The
chain holds when every hash is the canonical hash of its body, ``seq`` runs 1, 2, 3, ...
without gaps, each ``prev_hash`` is the previous event's hash (64 zeros for the first),
every event belongs to one organisation and, when a head is expected, the last hash is it.
The same rules as the server's ``riskreg.audit.services.audit_verify``; nothing is fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskreg_client.hashing import canonical_hash

GENESIS = "0" * 64
BODY_FIELDS = frozenset(
    {
        "organization",
        "seq",
        "actor",
        "action",
        "object_type",
        "object_id",
        "changes",
        "created_at",
        "prev_hash",
    }
)


class ExportUnreadableError(ValueError):
    """The file cannot be read as JSON Lines of objects; the message says where."""


@dataclass(frozen=True)
class ChainCheck:
    """The answer for one export: valid or not, the first problem and the head reached."""

    valid: bool
    events: int
    head: str
    organization: str | None = None
    problem: str | None = None
    seq: int | None = None  # the seq (or line number, before seq is known) of the problem

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "events": self.events,
            "head": self.head,
            "organization": self.organization,
            "problem": self.problem,
            "seq": self.seq,
        }


def read_export(path: Path) -> list[dict[str, Any]]:
    """The events of a JSON Lines export; blank lines are skipped.

    Raises:
        ExportUnreadableError: the file cannot be opened, is not UTF-8, or a line is not a
            JSON object.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportUnreadableError(f"cannot read {path}: {exc}") from exc
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise ExportUnreadableError(f"line {number} is not JSON ({exc})") from exc
        if not isinstance(event, dict):
            raise ExportUnreadableError(f"line {number} is not a JSON object")
        events.append(event)
    return events


def verify_chain(
    events: Iterable[Mapping[str, Any]], *, expect_head: str | None = None
) -> ChainCheck:
    """Walk the events oldest first and stop at the first break; never raises."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    organization: str | None = None
    for event in events:
        problem = _event_problem(event, expected_seq, expected_prev, organization)
        if problem is not None:
            seq = event.get("seq")
            where = seq if isinstance(seq, int) and not isinstance(seq, bool) else expected_seq
            return ChainCheck(False, count, expected_prev, organization, problem, where)
        organization = str(event["organization"])
        expected_prev, expected_seq, count = str(event["hash"]), expected_seq + 1, count + 1
    if expect_head is not None and expect_head.strip().lower() != expected_prev:
        problem = (
            f"chain ends at {expected_prev} after event #{count}, expected {expect_head}"
            " (truncated or extended)"
        )
        return ChainCheck(False, count, expected_prev, organization, problem, count or None)
    return ChainCheck(True, count, expected_prev, organization)


def verify_export(path: Path, *, expect_head: str | None = None) -> ChainCheck:
    """Read and check one export file; raises ExportUnreadableError when it is unreadable."""
    return verify_chain(read_export(path), expect_head=expect_head)


def _event_problem(
    event: Mapping[str, Any], seq: int, prev: str, organization: str | None
) -> str | None:
    """What is wrong with the event expected at seq after prev; None when nothing is."""
    missing = sorted((BODY_FIELDS | {"hash"}) - event.keys())
    if missing:
        return f"event #{seq}: missing {', '.join(missing)}"
    if event["seq"] != seq or isinstance(event["seq"], bool):
        return f"event #{event['seq']}: expected #{seq} (gap, insert or reorder)"
    if organization is not None and event["organization"] != organization:
        return f"event #{seq}: organisation {event['organization']!r}, expected {organization!r}"
    if event["prev_hash"] != prev:
        return f"event #{seq}: previous hash does not match the chain"
    body = {key: value for key, value in event.items() if key != "hash"}
    try:
        actual = canonical_hash(body)
    except ValueError:
        return f"event #{seq}: content cannot be hashed"
    if actual != event["hash"]:
        return f"event #{seq}: content does not match its hash"
    return None
