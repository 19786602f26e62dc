"""Paths into evidence documents: JSON Pointers (RFC 6901) with a `*` wildcard.

Mapping rules name the metric they read by such a path (docs/evidence.md, "Path syntax").
A path selects zero or more values, each reported with its concrete pointer, so that a
result can always say exactly which number it came from.
"""

import re
from collections.abc import Iterator
from typing import Any

WILDCARD = "*"

PATH_SYNTAX: dict[str, Any] = {
    "name": "JSON Pointer with wildcard",
    "rfc": "RFC 6901",
    "description": (
        "A JSON Pointer into the evidence document. A segment '*' stands for every element "
        "of an array or every member of an object. Inside a segment '~' is written '~0' "
        "and '/' is written '~1'. A missing member or index selects nothing; each selected "
        "value is reported with its concrete pointer."
    ),
    "wildcard": WILDCARD,
    "escapes": {"~0": "~", "~1": "/"},
    "examples": [
        {
            "path": "/metrics/overall/selection_rate",
            "selects": "the overall selection rate",
        },
        {
            "path": "/metrics/breakdowns/*/demographic_parity_ratio",
            "selects": "the demographic parity ratio of every breakdown",
            "pointer": "/metrics/breakdowns/0/demographic_parity_ratio",
        },
        {
            "path": "/metrics/breakdowns/*/groups/*/selection_rate",
            "selects": "the selection rate of every group of every breakdown",
            "pointer": "/metrics/breakdowns/2/groups/3/selection_rate",
        },
        {
            "path": "/metrics/scores/truthful~1judge",
            "selects": "the score named 'truthful/judge'",
        },
    ],
}

# RFC 6901 array indices: "0", or digits without a leading zero.
_INDEX = re.compile(r"0|[1-9][0-9]*")
# An index longer than this cannot address any list that fits in memory.
_MAX_INDEX_DIGITS = 18


class PathError(ValueError):
    """A path that is not a JSON Pointer (no leading '/', or a '~' not followed by 0 or 1)."""


def parse(path: str) -> list[str]:
    """Split a path into its unescaped segments; "" (the whole document) has none.

    Raises
    ------
    PathError
        When `path` does not start with '/' or holds a bad '~' escape.
    """
    if not isinstance(path, str):
        raise PathError(f"a path must be a string, got {type(path).__name__}")
    if path == "":
        return []
    if not path.startswith("/"):
        raise PathError(f"path {path[:200]!r} must start with '/'")
    return [_unescape(segment, path) for segment in path[1:].split("/")]


def _unescape(segment: str, path: str) -> str:
    if re.search(r"~(?![01])", segment):
        raise PathError(f"path {path[:200]!r} has a '~' not followed by 0 or 1")
    # ~1 first: "~01" must become "~1", not "/".
    return segment.replace("~1", "/").replace("~0", "~")


def escape(segment: str | int) -> str:
    """One segment written for a pointer: '~' as '~0', '/' as '~1'."""
    return str(segment).replace("~", "~0").replace("/", "~1")


def pointer(segments: list[str | int]) -> str:
    """The pointer of a list of segments; [] is "" (the whole document)."""
    return "".join("/" + escape(segment) for segment in segments)


def select(document: Any, path: str) -> list[tuple[str, Any]]:
    """Every value `path` selects in `document`, as (concrete pointer, value), in document order.

    Raises
    ------
    PathError
        When `path` is malformed.
    """
    selected: list[tuple[str, Any]] = [("", document)]
    for segment in parse(path):
        selected = [found for at, value in selected for found in _step(at, value, segment)]
    return selected


def _step(at: str, value: Any, segment: str) -> list[tuple[str, Any]]:
    """The children of one value that one segment selects."""
    if isinstance(value, dict):
        if segment == WILDCARD:
            return [(f"{at}/{escape(key)}", child) for key, child in value.items()]
        return [(f"{at}/{escape(segment)}", value[segment])] if segment in value else []
    if isinstance(value, list):
        if segment == WILDCARD:
            return [(f"{at}/{index}", child) for index, child in enumerate(value)]
        if len(segment) <= _MAX_INDEX_DIGITS and _INDEX.fullmatch(segment):
            index = int(segment)
            return [(f"{at}/{index}", value[index])] if index < len(value) else []
    return []


def walk(document: Any) -> Iterator[tuple[str, Any]]:
    """Every value in `document` (the document itself first) with its pointer, in document order.

    Iterative, so that a deeply nested document cannot exhaust the call stack.
    """
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        at, value = stack.pop()
        yield at, value
        if isinstance(value, dict):
            children = [(f"{at}/{escape(key)}", child) for key, child in value.items()]
        elif isinstance(value, list):
            children = [(f"{at}/{index}", child) for index, child in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
