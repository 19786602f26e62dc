"""What every importer returns and raises, and the checks they share.

An importer reads one result file of another tool and returns typed evidence items: the
`metrics` of each item, shaped as docs/evidence.md says for its kind, plus provenance hints.
It never fills the envelope (system, model version, context, datasets): the caller knows
those from the request, the file does not.
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

_HEX_COMMIT = re.compile(r"[0-9a-f]{7,40}")


@dataclass(frozen=True)
class ImportedItem:
    """One evidence item read from another tool's results.

    Attributes
    ----------
    kind : str
        The evidence kind (`fairness`, `performance`, ...).
    metrics : dict
        The `metrics` object of the document, shaped as docs/evidence.md says for `kind`.
    label : str
        A short human label (the task name, the sensitive features).
    tool_name, tool_version, commit_sha : str
        Provenance hints; empty when the file does not say.
    effective_date : str or None
        ISO date (`YYYY-MM-DD`) when the file states when it was measured.
    """

    kind: str
    metrics: dict[str, Any]
    label: str
    tool_name: str
    tool_version: str = ""
    commit_sha: str = ""
    effective_date: str | None = None


class ImportFormatError(ValueError):
    """The payload does not have the shape its format promises.

    Attributes
    ----------
    pointer : str
        JSON Pointer (RFC 6901) into the payload where the problem lies; "" for the root.
    message : str
        What is wrong there.
    """

    def __init__(self, pointer: str, message: str) -> None:
        self.pointer = pointer
        self.message = message
        super().__init__(f"{pointer}: {message}" if pointer else message)


class Importer(Protocol):
    """The signature every registered importer has."""

    def __call__(self, payload: Any, *, min_group_size: int = 30) -> list[ImportedItem]: ...


def child(pointer: str, key: str | int) -> str:
    """The pointer one level below `pointer`, with `~` and `/` escaped as RFC 6901 says."""
    segment = str(key).replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{segment}"


def expect_object(value: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportFormatError(pointer, f"expected an object, got {_describe(value)}")
    return value


def expect_list(value: Any, pointer: str) -> list[Any]:
    if not isinstance(value, list):
        raise ImportFormatError(pointer, f"expected a list, got {_describe(value)}")
    return value


def expect_string(value: Any, pointer: str) -> str:
    if not isinstance(value, str):
        raise ImportFormatError(pointer, f"expected a string, got {_describe(value)}")
    return value


def member(container: dict[str, Any], key: str, pointer: str) -> Any:
    """container[key], refusing its absence with the pointer to where it should be."""
    if key not in container:
        raise ImportFormatError(child(pointer, key), "is required")
    return container[key]


def expect_number(value: Any, pointer: str) -> float | int:
    """A finite int or float; booleans, strings, NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ImportFormatError(pointer, f"expected a number, got {_describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ImportFormatError(pointer, f"expected a finite number, got {value}")
    return value


def expect_count(value: Any, pointer: str) -> int:
    """A whole number ≥ 0; 120.0 (as pandas may write it) is accepted as 120."""
    number = expect_number(value, pointer)
    if number != int(number):
        raise ImportFormatError(pointer, f"a count must be a whole number, got {number}")
    if number < 0:
        raise ImportFormatError(pointer, f"a count cannot be negative, got {number}")
    return int(number)


def expect_rate(value: Any, pointer: str) -> float | int:
    number = expect_number(value, pointer)
    if not 0 <= number <= 1:
        raise ImportFormatError(pointer, f"a rate lies in [0, 1], got {number}")
    return number


def expect_integer_like(value: Any, pointer: str) -> int:
    """An integer, or a string of digits (protobuf's JSON writes int64 either way)."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    number = expect_number(value, pointer)
    if number != int(number):
        raise ImportFormatError(pointer, f"expected a whole number, got {number}")
    return int(number)


def date_from_epoch(seconds: float, pointer: str) -> str:
    """The UTC calendar date of a Unix time, as `YYYY-MM-DD`."""
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ImportFormatError(pointer, f"{seconds} is not a usable Unix time") from exc
    return moment.date().isoformat()


def commit_or_empty(value: Any) -> str:
    """value when it looks like a git commit (7 to 40 lowercase hex digits), else ""."""
    if isinstance(value, str) and _HEX_COMMIT.fullmatch(value.strip().lower()):
        return value.strip().lower()
    return ""


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"{type(value).__name__} {value!r}"
