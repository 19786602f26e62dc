"""Mapping rules: data in fixtures/controls/rules.yaml, checked when they are read.

A metric rule reads one metric of one evidence kind (by a path in the schemas' path syntax,
docs/evidence.md) and compares it with a threshold; a presence rule looks for things that
exist or not (a document of a type, monitoring evidence, incident handling, a risk
acceptance). Each rule informs one or more subcategories. A rule file that names an unknown
kind, metric path, document type or subcategory does not load, and the error names the
file and the rule.
"""

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from controls.engine.judge import AT_LEAST, COMPARISONS
from controls.engine.status import Status
from evaluations import paths, validation

METRIC_KEYS = {
    "id",
    "kind",
    "contexts",
    "metric",
    "compare",
    "threshold",
    "band",
    "range",
    "origin",
    "subcategories",
}
METRIC_OPTIONAL = {"band", "contexts"}
PRESENCE_KEYS = {
    "id",
    "look_for",
    "document_type",
    "kinds",
    "scope",
    "when_absent",
    "origin",
    "subcategories",
}
PRESENCE_OPTIONAL = {"document_type", "kinds", "when_absent"}
LOOK_FOR = ("document", "monitoring", "incident_response", "risk_acceptance", "evidence")
SCOPES = ("organisation", "system")
CONTEXTS = ("evaluation", "monitoring")
DOCUMENT_TYPES = tuple(
    validation.schema_for("document")["$defs"]["reviewed_document"]["properties"]["document_type"][
        "enum"
    ]
)


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class MetricRule:
    id: str
    kind: str
    contexts: tuple[str, ...]
    metric: str
    compare: str
    threshold: float
    band: float
    range: tuple[float | None, float | None]
    origin: str
    subcategories: tuple[str, ...]


@dataclass(frozen=True)
class PresenceRule:
    id: str
    look_for: str
    document_type: str | None
    kinds: tuple[str, ...]
    scope: str
    when_absent: Status
    origin: str
    subcategories: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    version: str
    sha256: str
    metric_rules: tuple[MetricRule, ...]
    presence_rules: tuple[PresenceRule, ...]

    @property
    def label(self) -> str:
        """What a verdict records: the declared version and the file's hash."""
        return f"{self.version}+{self.sha256[:12]}"

    def metric_rule(self, rule_id: str) -> MetricRule | None:
        return next((r for r in self.metric_rules if r.id == rule_id), None)


def rules_read(path: Path, *, subcategory_ids: Collection[str]) -> RuleSet:
    """Parse and check a rule file; raises RuleFileError naming the file and the entry."""
    raw = path.read_bytes()
    data = yaml.safe_load(raw)
    where = path.name
    if not isinstance(data, dict) or set(data) != {"version", "metric_rules", "presence_rules"}:
        raise RuleFileError(f"{where}: needs exactly version, metric_rules and presence_rules")
    seen: set[str] = set()
    metric = tuple(_metric(where, e, subcategory_ids, seen) for e in data["metric_rules"])
    presence = tuple(_presence(where, e, subcategory_ids, seen) for e in data["presence_rules"])
    return RuleSet(str(data["version"]), hashlib.sha256(raw).hexdigest(), metric, presence)


def _entry(where: str, entry: Any, keys: set[str], optional: set[str], seen: set[str]) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise RuleFileError(f"{where}: every rule needs an id, got {entry!r:.80}")
    rule_id: str = entry["id"]
    if rule_id in seen:
        raise RuleFileError(f"{where}: rule {rule_id!r}: the id is used twice")
    seen.add(rule_id)
    if missing := sorted(keys - optional - set(entry)):
        raise RuleFileError(f"{where}: rule {rule_id!r}: missing {missing}")
    if extra := sorted(set(entry) - keys):
        raise RuleFileError(f"{where}: rule {rule_id!r}: unknown fields {extra}")
    if not str(entry["origin"]).strip():
        raise RuleFileError(f"{where}: rule {rule_id!r}: origin must say where it comes from")
    return rule_id


def _subcategories(where: str, rule_id: str, value: Any, known: Collection[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise RuleFileError(f"{where}: rule {rule_id!r}: subcategories must be a non-empty list")
    for ident in value:
        if ident not in known:
            raise RuleFileError(f"{where}: rule {rule_id!r}: unknown subcategory {ident!r}")
    return tuple(value)


def _metric(where: str, entry: Any, known: Collection[str], seen: set[str]) -> MetricRule:
    rule_id = _entry(where, entry, METRIC_KEYS, METRIC_OPTIONAL, seen)
    kind, metric = entry["kind"], entry["metric"]
    if kind not in validation.KINDS or kind == "document":
        raise RuleFileError(f"{where}: rule {rule_id!r}: unknown evidence kind {kind!r}")
    try:
        direction = validation.higher_is_better(kind, metric)
    except (KeyError, paths.PathError) as exc:
        raise RuleFileError(
            f"{where}: rule {rule_id!r}: metric path {metric!r} is not in the {kind} schema"
        ) from exc
    compare = entry["compare"]
    if compare not in COMPARISONS or direction is None or (compare == AT_LEAST) != direction:
        raise RuleFileError(
            f"{where}: rule {rule_id!r}: compare {compare!r} does not fit {metric!r} "
            f"(higher is better: {direction})"
        )
    contexts = tuple(entry.get("contexts") or CONTEXTS)
    if bad := sorted(set(contexts) - set(CONTEXTS)):
        raise RuleFileError(f"{where}: rule {rule_id!r}: unknown contexts {bad}")
    low, high = entry["range"]
    rule = MetricRule(
        id=rule_id,
        kind=kind,
        contexts=contexts,
        metric=metric,
        compare=compare,
        threshold=float(entry["threshold"]),
        band=float(entry.get("band") or 0.0),
        range=(low, high),
        origin=str(entry["origin"]).strip(),
        subcategories=_subcategories(where, rule_id, entry["subcategories"], known),
    )
    if problem := threshold_problem(rule, rule.threshold, rule.band):
        raise RuleFileError(f"{where}: rule {rule_id!r}: {problem}")
    return rule


def threshold_problem(rule: MetricRule, threshold: float, band: float) -> str | None:
    """Why a threshold and band do not fit the rule's range; None when they do."""
    low, high = rule.range
    if _outside(threshold, low, high):
        return f"threshold {threshold!r} lies outside [{low}, {high}]"
    if band < 0:
        return f"band {band!r} must not be negative"
    edge = threshold - band if rule.compare == AT_LEAST else threshold + band
    if _outside(edge, low, high):
        return f"band {band!r} reaches outside [{low}, {high}]"
    return None


def _outside(value: float, low: float | None, high: float | None) -> bool:
    return (low is not None and value < low) or (high is not None and value > high)


def _presence(where: str, entry: Any, known: Collection[str], seen: set[str]) -> PresenceRule:
    rule_id = _entry(where, entry, PRESENCE_KEYS, PRESENCE_OPTIONAL, seen)
    look_for, scope = entry["look_for"], entry["scope"]
    if look_for not in LOOK_FOR:
        raise RuleFileError(f"{where}: rule {rule_id!r}: unknown look_for {look_for!r}")
    if scope not in SCOPES:
        raise RuleFileError(f"{where}: rule {rule_id!r}: unknown scope {scope!r}")
    doc_type = entry.get("document_type")
    needs_type = look_for in ("document", "incident_response")
    if needs_type and doc_type not in DOCUMENT_TYPES:
        raise RuleFileError(f"{where}: rule {rule_id!r}: unknown document type {doc_type!r}")
    kinds = tuple(entry.get("kinds") or ())
    if look_for == "evidence" and (not kinds or set(kinds) - set(validation.KINDS)):
        raise RuleFileError(f"{where}: rule {rule_id!r}: unknown evidence kinds {list(kinds)}")
    absent = entry.get("when_absent", Status.NOT_ASSESSED)
    if absent not in (Status.NOT_ASSESSED, Status.NOT_MET, Status.PARTIALLY_MET):
        raise RuleFileError(f"{where}: rule {rule_id!r}: when_absent {absent!r} is not allowed")
    return PresenceRule(
        id=rule_id,
        look_for=look_for,
        document_type=doc_type,
        kinds=kinds,
        scope=scope,
        when_absent=Status(absent),
        origin=str(entry["origin"]).strip(),
        subcategories=_subcategories(where, rule_id, entry["subcategories"], known),
    )
