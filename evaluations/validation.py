"""Evidence documents checked against their kind's JSON Schema, and what a schema cannot say.

The schemas live in `evaluations/schemas/{kind}/{version}.json`; the definitions every kind
shares live in `evaluations/schemas/common/{version}.json` and are copied into each kind's
`$defs` when it is loaded, so every schema riskreg serves stands alone. docs/evidence.md
describes the shapes in prose.

Beyond the schema, a document must hold only finite numbers and integers that JSON numbers
carry exactly, no two keys of one object may differ only in Unicode normalisation (they
would hash as one, see docs/hashing.md), and every interval must have low <= high.
"""

import copy
import functools
import json
import math
import re
import reprlib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.protocols import Validator

from evaluations import paths

KINDS: tuple[str, ...] = (
    "fairness",
    "calibration",
    "robustness",
    "performance",
    "efficiency",
    "data_quality",
    "document",
)
CURRENT_VERSION: dict[str, str] = dict.fromkeys(KINDS, "1.0")

# The annotation that gives a metric's better direction: true, false or null (none).
DIRECTION = "x-higher-is-better"
# The confusion counts riskreg's own fairness assessments must give for every group.
COUNTS = ("tp", "fp", "tn", "fn")

_SCHEMAS = resources.files("evaluations") / "schemas"
# RFC 8785 refuses integers that an IEEE 754 double cannot hold exactly.
_SAFE_INTEGER = 2**53 - 1
_MESSAGE_LIMIT = 200
_INDEX_DIGITS = 18


class UnknownKindError(ValueError):
    """An evidence kind, or a schema version of a kind, that riskreg does not have."""


@dataclass(frozen=True)
class SchemaIssue:
    """One problem of a document.

    Attributes
    ----------
    pointer : str
        JSON Pointer (RFC 6901) to where the problem lies; "" for the whole document.
    message : str
        What is wrong there, in plain English.
    """

    pointer: str
    message: str


def schema_for(kind: str, version: str | None = None) -> dict[str, Any]:
    """The self-contained JSON Schema of `kind` (current version unless `version` is given).

    Returns a copy: changing it does not change what riskreg validates against.

    Raises
    ------
    UnknownKindError
        When riskreg has no such kind, or no such version of it.
    """
    return copy.deepcopy(_schema(kind, _version(kind, version)))


def validate_document(document: Any, *, computed: bool = False) -> list[SchemaIssue]:
    """Every problem of an evidence document, sorted by pointer; [] when it is valid.

    Parameters
    ----------
    document : Any
        The parsed document, with `schema_version` filled in.
    computed : bool
        True for riskreg's own assessments, which must also give the confusion counts
        (tp, fp, tn, fn) of the overall metrics and of every fairness group, and whose
        counts must add up to the group's size.
    """
    if not isinstance(document, dict):
        return [SchemaIssue("", "must be a JSON object")]
    issues = _number_issues(document)
    flagged = {issue.pointer for issue in issues}
    issues += _key_issues(document)
    chosen = _kind_and_version(document)
    if isinstance(chosen, SchemaIssue):
        issues.append(chosen)
    else:
        kind, version = chosen
        # A NaN or an infinity also breaks type and range rules; saying so again adds nothing.
        issues += [i for i in _schema_issues(kind, version, document) if i.pointer not in flagged]
        issues += _bound_issues(document)
        if computed and kind == "fairness":
            issues += _count_issues(document)
    return sorted(issues, key=_order)


def higher_is_better(kind: str, pointer: str, *, version: str | None = None) -> bool | None:
    """The better direction the schema of `kind` gives the value at `pointer`.

    `pointer` may be concrete (`/metrics/breakdowns/0/groups/1/accuracy`) or hold `*`
    segments. The deepest annotated schema along the pointer governs, so the `value` or the
    interval bounds of a metric object take the metric's direction. A performance score
    outside the known names states its direction in the document, not in the schema.

    Returns
    -------
    bool or None
        True when larger is better, False when smaller is, None when neither is.

    Raises
    ------
    KeyError
        When the pointer leads nowhere in the schema, or no direction is annotated on it.
    UnknownKindError
        When riskreg has no such kind or version.
    paths.PathError
        When `pointer` is malformed.
    """
    root = _schema(kind, _version(kind, version))
    nodes: list[Mapping[str, Any]] = [root]
    found: set[bool | None] = set()
    for segment in paths.parse(pointer):
        nodes = [child for node in _applicable(root, nodes) for child in _children(node, segment)]
        if not nodes:
            raise KeyError(f"{pointer!r} leads nowhere in the {kind} schema")
        here = {node[DIRECTION] for node in _applicable(root, nodes) if DIRECTION in node}
        found = here or found
    if not found:
        raise KeyError(f"the {kind} schema gives no direction for {pointer!r}")
    if len(found) > 1:
        raise KeyError(f"the {kind} schema gives conflicting directions for {pointer!r}")
    return found.pop()


# Loading the schemas.


def _version(kind: str, version: str | None) -> str:
    """The version to use; raises UnknownKindError for an unknown kind or version."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise UnknownKindError(
            f"unknown evidence kind {_short(kind)}; known kinds: {', '.join(KINDS)}"
        )
    if version is None:
        return CURRENT_VERSION[kind]
    if not isinstance(version, str) or version not in _versions(kind):
        raise UnknownKindError(
            f"unknown schema version {_short(version)} of {kind}; "
            f"known versions: {', '.join(_versions(kind))}"
        )
    return version


@functools.cache
def _versions(kind: str) -> tuple[str, ...]:
    files = (_SCHEMAS / kind).iterdir()
    return tuple(sorted(f.name.removesuffix(".json") for f in files if f.name.endswith(".json")))


@functools.cache
def _schema(kind: str, version: str) -> dict[str, Any]:
    """The kind's schema with the common definitions merged into its $defs (cached)."""
    schema = _read(kind, version)
    common = _read("common", version)["$defs"]
    own = schema.get("$defs", {})
    clash = sorted(own.keys() & common.keys())
    if clash:
        # A packaging mistake, not bad input: fail loudly.
        raise RuntimeError(f"{kind} {version} redefines common definitions: {clash}")
    schema["$defs"] = {**common, **own}
    return schema


def _read(folder: str, version: str) -> dict[str, Any]:
    loaded = json.loads((_SCHEMAS / folder / f"{version}.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@functools.cache
def _regex(pattern: str) -> re.Pattern[str]:
    # Python's `$` also matches before a final newline, so "credit-scoring\n" would pass
    # ^[-a-zA-Z0-9_]+$. ECMA-262, whose regular expressions JSON Schema uses, does not
    # allow that; \Z is Python's true end of text.
    body = pattern[:-1]
    backslashes = len(body) - len(body.rstrip("\\"))
    if pattern.endswith("$") and backslashes % 2 == 0:
        pattern = body + r"\Z"
    return re.compile(pattern)


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """The `pattern` keyword, with ECMA-262's meaning of a final `$`."""
    if validator.is_type(instance, "string") and not _regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# The jsonschema stubs leave extend() untyped; it returns a validator class.
_EvidenceValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _pattern}
)
# `format` only annotates unless a checker is given; these two are the formats used.
_FORMATS = FormatChecker(formats=("date", "uuid"))


@functools.cache
def _validator(kind: str, version: str) -> Validator:
    return _EvidenceValidator(_schema(kind, version), format_checker=_FORMATS)


# Checking documents.


def _kind_and_version(document: dict[str, Any]) -> tuple[str, str] | SchemaIssue:
    """The kind and version to validate against, or the issue that prevents choosing."""
    if "kind" not in document:
        return SchemaIssue("", "'kind' is a required property")
    kind = document["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        return SchemaIssue("/kind", f"{_short(kind)} is not one of {', '.join(KINDS)}")
    # A missing schema_version is reported by the schema itself, which requires it.
    version = document.get("schema_version", CURRENT_VERSION[kind])
    if not isinstance(version, str) or version not in _versions(kind):
        known = ", ".join(_versions(kind))
        return SchemaIssue(
            "/schema_version", f"{_short(version)} is not a version of {kind} (known: {known})"
        )
    return kind, version


def _schema_issues(kind: str, version: str, document: dict[str, Any]) -> list[SchemaIssue]:
    errors = [
        (paths.pointer(list(error.absolute_path)), error)
        for error in _validator(kind, version).iter_errors(document)
    ]
    # Dates and ids carry a pattern too, for clients that treat `format` as a mere note;
    # when both fail, the pattern's message is enough.
    others = {at for at, error in errors if error.validator != "format"}
    return [
        SchemaIssue(at, _message(error))
        for at, error in errors
        if error.validator != "format" or at not in others
    ]


def _message(error: ValidationError) -> str:
    """jsonschema's message, without long echoes of the value."""
    if error.validator in ("oneOf", "anyOf"):
        if not error.context:
            return "matches more than one of the allowed forms; exactly one is expected"
        reasons = sorted({_message(sub) for sub in error.context})
        return _clip("matches none of the allowed forms: " + "; or ".join(reasons))
    text = error.message
    if error.instance is None or isinstance(error.instance, bool):
        # Python's None, True and False read as JSON's null, true and false.
        text = text.replace(repr(error.instance), json.dumps(error.instance), 1)
    if len(text) > _MESSAGE_LIMIT:
        text = text.replace(repr(error.instance), _short(error.instance))
    return _clip(text)


def _number_issues(document: dict[str, Any]) -> list[SchemaIssue]:
    """Numbers that JSON cannot carry exactly."""
    issues = []
    for at, value in paths.walk(document):
        if isinstance(value, float) and not math.isfinite(value):
            issues.append(SchemaIssue(at, "must be a finite number (not NaN or infinite)"))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _SAFE_INTEGER:
            issues.append(SchemaIssue(at, "must lie within ±(2**53 - 1) to be exact in JSON"))
    return issues


def _key_issues(document: dict[str, Any]) -> list[SchemaIssue]:
    """Objects with two keys that are equal in Unicode NFC: hashing would merge them."""
    issues = []
    for at, value in paths.walk(document):
        if not isinstance(value, dict):
            continue
        seen: set[Any] = set()
        for key in value:
            normal = unicodedata.normalize("NFC", key) if isinstance(key, str) else key
            if normal in seen:
                message = f"has two keys written {_short(normal)} in Unicode NFC"
                issues.append(SchemaIssue(at, message))
            seen.add(normal)
    return issues


def _bound_issues(document: dict[str, Any]) -> list[SchemaIssue]:
    """Every interval, and every robustness input range, must have low <= high."""
    ranges = [
        (f"{at}/interval", value["interval"])
        for at, value in paths.walk(document)
        if isinstance(value, dict) and "value" in value and "interval" in value
    ]
    ranges += paths.select(document, "/metrics/perturbations/*/input_bounds")
    return [
        SchemaIssue(at, "low must not be greater than high")
        for at, bounds in ranges
        if isinstance(bounds, dict) and _finite(bounds.get("low"), bounds.get("high"))
        if bounds["low"] > bounds["high"]
    ]


def _count_issues(document: dict[str, Any]) -> list[SchemaIssue]:
    """riskreg's own fairness assessments give every count, and the counts add up."""
    groups = paths.select(document, "/metrics/overall")
    groups += paths.select(document, "/metrics/breakdowns/*/groups/*")
    issues = []
    for at, group in groups:
        if not isinstance(group, dict):
            continue
        missing = [name for name in COUNTS if name not in group]
        if missing:
            message = f"riskreg's own assessments give every count; missing: {', '.join(missing)}"
            issues.append(SchemaIssue(at, message))
        elif _whole(*(group[name] for name in COUNTS), group.get("size")) and (
            sum(group[name] for name in COUNTS) != group["size"]
        ):
            issues.append(SchemaIssue(at, "tp + fp + tn + fn must equal size"))
    return issues


def _finite(*values: Any) -> bool:
    return all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )


def _whole(*values: Any) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


# Walking the schema for directions.


def _applicable(root: Mapping[str, Any], nodes: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The nodes and every subschema that applies to the same value: $ref, allOf, anyOf, oneOf."""
    found: list[Mapping[str, Any]] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if any(node is seen for seen in found):
            continue
        found.append(node)
        if "$ref" in node:
            stack.append(_resolve(root, node["$ref"]))
        for keyword in ("allOf", "anyOf", "oneOf"):
            stack.extend(branch for branch in node.get(keyword, []) if isinstance(branch, dict))
    return found


def _resolve(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith("#"):
        raise ValueError(f"only local references are expected, got {ref!r}")
    target: Any = root
    for segment in paths.parse(ref[1:]):
        target = target[segment]
    assert isinstance(target, dict)
    return target


def _children(node: Mapping[str, Any], segment: str) -> list[Mapping[str, Any]]:
    """The subschemas that govern the member or element `segment` of a value of `node`."""
    children = []
    properties = node.get("properties", {})
    extra = node.get("additionalProperties")
    if segment in properties:
        children.append(properties[segment])
    elif isinstance(extra, dict):
        children.append(extra)
    items = node.get("items")
    if isinstance(items, dict) and (segment == paths.WILDCARD or _is_index(segment)):
        children.append(items)
    return children


# Small helpers.


def _is_index(segment: str) -> bool:
    return segment.isascii() and segment.isdigit() and len(segment) <= _INDEX_DIGITS


def _order(issue: SchemaIssue) -> tuple[list[tuple[int, int, str]], str]:
    """Sort by pointer, array indices as numbers (…/2 before …/10), then by message."""
    key = [
        (0, int(segment), "") if _is_index(segment) else (1, 0, segment)
        for segment in paths.parse(issue.pointer)
    ]
    return key, issue.message


_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = _REPR.maxdict = 4
_REPR.maxlevel = 2


def _short(value: Any) -> str:
    """A repr of value short enough for a message."""
    return _REPR.repr(value)


def _clip(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"
