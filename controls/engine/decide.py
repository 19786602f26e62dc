"""From evidence to one decision per subcategory (docs/posture.md, "Series" and "Deciding").

A series is one kind x context x datasets and splits x sensitive features (fairness) or
perturbations (robustness). Within a series only the newest current item counts (latest
effective date, then latest receipt); every rule's contributions from every series are
kept, and the worst status wins.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from controls.engine.judge import judge, reading
from controls.engine.rules import MetricRule, PresenceRule, RuleSet
from controls.engine.status import Status, worst
from evaluations import paths


@dataclass(frozen=True)
class Item:
    """A current evidence item, as the engine needs it."""

    uid: str
    kind: str
    context: str
    effective_date: date
    received_at: datetime
    document: Mapping[str, Any]
    datasets: tuple[tuple[str, str], ...] = ()  # (slug, split)
    expiry_date: date | None = None
    model_version: str | None = None


@dataclass(frozen=True)
class Facts:
    """What presence rules look for, already restricted to the scope being decided."""

    documents: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)  # by type
    monitoring: tuple[Item, ...] = ()
    evidence: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)  # by kind
    incidents_handled: tuple[str, ...] = ()  # references
    incidents_overdue: tuple[str, ...] = ()  # open past a deadline
    acceptances: tuple[str, ...] = ()  # risk references with an acceptance in force


@dataclass(frozen=True)
class Contribution:
    """One rule's finding about one item (or about a presence), as the rationale shows it."""

    rule: str
    status: Status
    evidence: tuple[str, ...] = ()
    metric: str | None = None  # the concrete pointer read
    value: float | None = None
    interval: tuple[float, float] | None = None
    threshold: float | None = None
    band: float | None = None
    compare: str | None = None
    note: str = ""
    regression: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": str(self.status),
            "evidence": list(self.evidence),
            "metric": self.metric,
            "value": self.value,
            "interval": list(self.interval) if self.interval else None,
            "threshold": self.threshold,
            "band": self.band,
            "compare": self.compare,
            "note": self.note,
            "regression": self.regression,
        }


@dataclass(frozen=True)
class Decision:
    subcategory: str
    status: Status
    contributions: tuple[Contribution, ...]
    valid_until: date | None  # the first expiry among the items it rests on

    @property
    def evidence(self) -> tuple[str, ...]:
        seen = dict.fromkeys(uid for c in self.contributions for uid in c.evidence)
        return tuple(seen)

    @property
    def regression(self) -> bool:
        return any(c.regression for c in self.contributions)


def series_key(item: Item) -> tuple[Any, ...]:
    """kind x context x datasets and splits x sensitive features or perturbations."""
    metrics = item.document.get("metrics") or {}
    facets: tuple[str, ...] = ()
    if item.kind == "fairness":
        facets = tuple(sorted(metrics.get("sensitive_features") or ()))
    elif item.kind == "robustness":
        facets = tuple(sorted(str(p.get("name")) for p in metrics.get("perturbations") or ()))
    return (item.kind, item.context, tuple(sorted(item.datasets)), facets)


def newest_per_series(items: Iterable[Item]) -> list[Item]:
    """The newest item of every series, in a stable order."""
    newest: dict[tuple[Any, ...], Item] = {}
    for item in items:
        key = series_key(item)
        held = newest.get(key)
        if held is None or (item.effective_date, item.received_at) > (
            held.effective_date,
            held.received_at,
        ):
            newest[key] = item
    return sorted(newest.values(), key=lambda i: (i.kind, i.effective_date, i.uid))


def _insufficient(document: Mapping[str, Any], pointer: str) -> bool:
    """Whether the value at pointer lies inside a group marked insufficient."""
    segments = paths.parse(pointer)
    node: Any = document
    for segment in segments[:-1]:
        node = node[int(segment)] if isinstance(node, list) else node[segment]
        if isinstance(node, dict) and node.get("insufficient") is True:
            return True
    return False


def metric_contributions(
    rule: MetricRule, item: Item, *, threshold: float, band: float
) -> list[Contribution]:
    """What `rule` finds in `item`: one contribution per value read, [] when none applies."""
    if item.kind != rule.kind or item.context not in rule.contexts:
        return []
    selected = paths.select(item.document, rule.metric)
    if not selected:
        return []
    common = {"rule": rule.id, "evidence": (item.uid,), "threshold": threshold, "band": band}
    found: list[Contribution] = []
    for pointer, raw in selected:
        value = reading(raw)
        if value is None or _insufficient(item.document, pointer):
            continue
        status = judge(value, compare=rule.compare, threshold=threshold, band=band)
        interval = (value.low, value.high) if value.low is not None else None
        found.append(
            Contribution(
                **common,  # type: ignore[arg-type]
                status=status,
                metric=pointer,
                value=value.value,
                interval=interval,  # type: ignore[arg-type]
                compare=rule.compare,
            )
        )
    if not found:  # every group was too small, or the metric undefined for all
        note = "no group large enough to judge"
        return [Contribution(**common, status=Status.INCONCLUSIVE, note=note)]  # type: ignore[arg-type]
    return found


def presence_contributions(rule: PresenceRule, facts: Facts) -> list[Contribution]:
    """What a presence rule finds in the facts of one scope."""

    def absent(note: str) -> list[Contribution]:
        if rule.when_absent == Status.NOT_ASSESSED:
            return []
        return [Contribution(rule=rule.id, status=rule.when_absent, note=note)]

    if rule.look_for == "document":
        docs = facts.documents.get(rule.document_type or "", ())
        if not docs:
            return absent(f"no current {rule.document_type} document")
        return [_present(rule.id, docs, f"current {rule.document_type} document")]
    if rule.look_for == "monitoring":
        if not facts.monitoring:
            return absent("no current monitoring evidence")
        return [_present(rule.id, facts.monitoring, "current monitoring evidence")]
    if rule.look_for == "evidence":
        items = tuple(i for kind in rule.kinds for i in facts.evidence.get(kind, ()))
        if not items:
            return absent(f"no current evidence of kinds {', '.join(rule.kinds)}")
        return [_present(rule.id, items, "current evaluation evidence")]
    if rule.look_for == "risk_acceptance":
        if not facts.acceptances:
            return absent("no risk acceptance in force")
        note = "acceptance in force for " + ", ".join(facts.acceptances)
        return [Contribution(rule=rule.id, status=Status.MET, note=note)]
    return _incident_response(rule, facts)


def _incident_response(rule: PresenceRule, facts: Facts) -> list[Contribution]:
    docs = facts.documents.get(rule.document_type or "", ())
    if facts.incidents_overdue:
        note = "past a deadline: " + ", ".join(facts.incidents_overdue)
        uids = tuple(d.uid for d in docs)
        return [Contribution(rule=rule.id, status=Status.NOT_MET, evidence=uids, note=note)]
    if not docs:
        if rule.when_absent == Status.NOT_ASSESSED:
            return []
        return [Contribution(rule=rule.id, status=rule.when_absent, note="no response procedure")]
    handled = ", ".join(facts.incidents_handled) or "none recorded"
    note = f"response procedure in force; incidents handled within deadlines: {handled}"
    return [_present(rule.id, docs, note)]


def _present(rule_id: str, items: tuple[Item, ...], note: str) -> Contribution:
    return Contribution(
        rule=rule_id, status=Status.MET, evidence=tuple(i.uid for i in items), note=note
    )


def decide(
    subcategories: Iterable[str],
    rules: RuleSet,
    items: Iterable[Item],
    facts: Facts,
    *,
    scope: str,
    thresholds: Mapping[str, tuple[float, float]] | None = None,
    extra: Mapping[str, list[Contribution]] | None = None,
) -> dict[str, Decision]:
    """One decision per subcategory in `subcategories`, for a scope ("organisation" or
    "system"); `thresholds` maps rule ids to the (threshold, band) a policy sets, `extra`
    adds contributions found elsewhere (regressions) by subcategory."""
    wanted = list(subcategories)
    found: dict[str, list[Contribution]] = defaultdict(list)
    newest = newest_per_series(items)
    by_uid = {i.uid: i for i in newest}
    for rule in rules.metric_rules if scope == "system" else ():
        threshold, band = (thresholds or {}).get(rule.id, (rule.threshold, rule.band))
        for item in newest:
            for c in metric_contributions(rule, item, threshold=threshold, band=band):
                for sub in rule.subcategories:
                    found[sub].append(c)
    for presence in rules.presence_rules:
        if presence.scope != scope:
            continue
        for c in presence_contributions(presence, facts):
            for sub in presence.subcategories:
                found[sub].append(c)
    for sub, contributions in (extra or {}).items():
        found[sub].extend(contributions)
    expiry = _expiries(facts, by_uid)
    decisions = {}
    for sub in wanted:
        contributions = found.get(sub, [])
        dates = [expiry[u] for c in contributions for u in c.evidence if expiry.get(u)]
        decisions[sub] = Decision(
            subcategory=sub,
            status=worst([c.status for c in contributions]),
            contributions=tuple(contributions),
            valid_until=min(dates) if dates else None,
        )
    return decisions


def _expiries(facts: Facts, by_uid: Mapping[str, Item]) -> dict[str, date]:
    everything = [*by_uid.values(), *facts.monitoring]
    everything += [i for docs in facts.documents.values() for i in docs]
    everything += [i for group in facts.evidence.values() for i in group]
    return {i.uid: i.expiry_date for i in everything if i.expiry_date is not None}
