"""Silent regressions: the newest item of a series against its baseline (docs/posture.md).

A model version is compared with its parent (else the version created before it), series
by series; successive monitoring items of one version are compared with each other. Each
comparison of two items is one family: every metric and group that both items give is
tested for a harmful move (controls.regression), and the p-values go through one
Benjamini-Hochberg correction. A significant harmful move is a regression even when the
new value still passes its threshold.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from controls import regression
from controls.engine.decide import Contribution, Item, newest_per_series, series_key
from controls.engine.status import Status
from evaluations import paths, validation

REGRESSION_SUBCATEGORIES = ("MEASURE 4.3", "MEASURE 2.4", "MANAGE 4.1")
# Rates of the confusion counts: (counts in the numerator, counts in the denominator).
RATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "true_positive_rate": (("tp",), ("tp", "fn")),
    "false_positive_rate": (("fp",), ("fp", "tn")),
    "false_negative_rate": (("fn",), ("tp", "fn")),
    "true_negative_rate": (("tn",), ("fp", "tn")),
    "positive_predictive_value": (("tp",), ("tp", "fp")),
    "accuracy": (("tp", "tn"), ("tp", "fp", "tn", "fn")),
}
Measured = dict[str, tuple[regression.Measurement, bool]]


def _plain(raw: Any) -> regression.Measurement | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        return regression.Measurement(float(raw))
    if isinstance(raw, dict) and isinstance(raw.get("value"), int | float):
        interval = raw.get("interval") or {}
        if {"low", "high", "level"} <= set(interval):
            return regression.Measurement(
                float(raw["value"]),
                low=float(interval["low"]),
                high=float(interval["high"]),
                level=float(interval["level"]),
            )
        return regression.Measurement(float(raw["value"]))
    return None


def _rates(block: Mapping[str, Any], label: str, pointer: str, found: Measured) -> None:
    """The counted rates of one group (or of the whole set) with their counts."""
    if block.get("insufficient") is True:
        return
    for name, (top, bottom) in RATES.items():
        value = _plain(block.get(name))
        counts = [block.get(c) for c in {*top, *bottom}]
        if value is None or not all(isinstance(c, int) for c in counts):
            continue
        successes = sum(int(block[c]) for c in top)
        trials = sum(int(block[c]) for c in bottom)
        direction = validation.higher_is_better("fairness", f"{pointer}/{name}")
        if direction is None or trials == 0:
            continue
        found[f"{label}/{name}"] = (
            regression.Measurement(value.value, successes=successes, trials=trials),
            direction,
        )


def _fairness(document: Mapping[str, Any]) -> Measured:
    metrics = document.get("metrics") or {}
    found: Measured = {}
    _rates(metrics.get("overall") or {}, "overall", "/metrics/overall", found)
    for b, breakdown in enumerate(metrics.get("breakdowns") or ()):
        for g, group in enumerate(breakdown.get("groups") or ()):
            label = ",".join(f"{k}={v}" for k, v in sorted((group.get("group") or {}).items()))
            _rates(group, label, f"/metrics/breakdowns/{b}/groups/{g}", found)
    return found


def _generic(kind: str, document: Mapping[str, Any]) -> Measured:
    found: Measured = {}
    for pointer, raw in paths.walk(document.get("metrics") or {}):
        full = "/metrics" + pointer
        if "/interval" in full or full.endswith("/value"):
            continue
        value = _plain(raw)
        if value is None:
            continue
        try:
            direction = validation.higher_is_better(kind, full)
        except (KeyError, paths.PathError):
            continue
        if direction is not None:
            found[full] = (value, direction)
    return found


def measurements(item: Item) -> Measured:
    """Every directed metric of an item, keyed so that two items of a series line up."""
    if item.kind == "fairness":
        return _fairness(item.document)
    return _generic(item.kind, item.document)


def compare_items(before: Item, after: Item, *, fdr: float, against: str) -> list[Contribution]:
    """One family: every metric both items give; a contribution per significant harm, or
    one `met` contribution saying nothing moved significantly."""
    old, new = measurements(before), measurements(after)
    pairs = [
        regression.Comparison(key, old[key][0], new[key][0], new[key][1])
        for key in sorted(old.keys() & new.keys())
    ]
    if not pairs:
        return []
    tested = regression.compare(pairs, fdr=fdr)
    evidence = (after.uid, before.uid)
    harmful = [t for t in tested if t.significant]
    if not harmful:
        note = f"no significant harmful change against {against} across {len(tested)} metrics"
        return [Contribution(rule="regression", status=Status.MET, evidence=evidence, note=note)]
    return [
        Contribution(
            rule="regression",
            status=Status.NOT_MET,
            evidence=evidence,
            metric=t.key,
            value=t.after,
            note=(
                f"{t.before:.4g} -> {t.after:.4g} against {against}; "
                f"adjusted p = {t.adjusted_p_value:.2g} ({t.method}, FDR {fdr:g})"
            ),
            regression=True,
        )
        for t in harmful
    ]


def _line(item: Item) -> tuple[Any, ...]:
    return series_key(item)


def regressions(
    items: Iterable[Item],
    baseline: Iterable[Item],
    *,
    fdr: float,
    against: str,
) -> list[Contribution]:
    """Regressions of a version's newest items against the baseline version's, and of each
    monitoring series' newest item against the one before it."""
    items = list(items)
    found: list[Contribution] = []
    old = {_line(i): i for i in newest_per_series(baseline)}
    for item in newest_per_series(items):
        if (before := old.get(_line(item))) is not None:
            found += compare_items(before, item, fdr=fdr, against=f"version {against}")
    for previous, latest in _monitoring_pairs(items):
        found += compare_items(previous, latest, fdr=fdr, against="the previous monitoring item")
    return found


def _monitoring_pairs(items: list[Item]) -> list[tuple[Item, Item]]:
    series: dict[tuple[Any, ...], list[Item]] = {}
    for item in items:
        if item.context == "monitoring" and item.kind != "document":
            series.setdefault(series_key(item), []).append(item)
    pairs = []
    for members in series.values():
        members.sort(key=lambda i: (i.effective_date, i.received_at))
        if len(members) >= 2:
            pairs.append((members[-2], members[-1]))
    return pairs
