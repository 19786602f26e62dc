"""A fairlearn ``MetricFrame`` → a ``fairness`` evidence document (docs/evidence.md).

The same conversion as the server's ``fairlearn-metricframe`` importer, done in the
submitter's process so that the document can be hashed, checked and submitted as it is.
Metrics are named by the function that computed them (build the MetricFrame with
``metrics={f.__name__: f for f in [...]}``); ``count`` is required::

    count → size, selection_rate, true_positive_rate (or recall_score),
    false_positive_rate, false_negative_rate, true_negative_rate,
    precision_score → positive_predictive_value, accuracy_score → accuracy

A group below ``min_group_size`` is ``insufficient`` and left out of the aggregates:

    demographic_parity_difference = max(selection_rate) - min(selection_rate)
    demographic_parity_ratio      = min(selection_rate) / max(selection_rate)
    equal_opportunity_difference  = max(TPR) - min(TPR)
    equal_opportunity_ratio       = min(TPR) / max(TPR)
    equalized_odds_difference     = max(TPR difference, FPR difference)
    equalized_odds_ratio          = min(TPR ratio, FPR ratio)

Each aggregate needs values in at least two sufficient groups; a ratio whose maximum is 0
is 1.0 (every group at 0: equal). fairlearn and pandas are never imported here: the
MetricFrame is read through its own methods, so this module loads without them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

SCHEMA_VERSION = "1.0"
METRIC_NAMES: dict[str, str] = {
    "count": "size",
    "selection_rate": "selection_rate",
    "true_positive_rate": "true_positive_rate",
    "recall_score": "true_positive_rate",
    "false_positive_rate": "false_positive_rate",
    "false_negative_rate": "false_negative_rate",
    "true_negative_rate": "true_negative_rate",
    "precision_score": "positive_predictive_value",
    "accuracy_score": "accuracy",
}


def metricframe_document(
    mf: Any,
    *,
    system: str,
    model_version: str | None,
    context: str = "evaluation",
    effective_date: date | str | None = None,
    datasets: Sequence[Mapping[str, str]] | None = None,
    min_group_size: int = 30,
    positive_label: str | int | float | bool | None = None,
) -> dict[str, Any]:
    """The ``fairness`` document of a MetricFrame built with a dict of metrics.

    Raises:
        ValueError: control features, a single unnamed metric, a missing ``count``, an
            unknown metric, one metric given twice, a fractional or negative count, a rate
            outside [0, 1], or a negative ``min_group_size``.
    """
    if isinstance(min_group_size, bool) or min_group_size < 0:
        raise ValueError(f"min_group_size must be a whole number >= 0, got {min_group_size!r}")
    if getattr(mf.overall, "ndim", None) != 1 or getattr(mf.by_group, "ndim", None) != 2:
        raise ValueError("build the MetricFrame with metrics={name: function}, no control features")
    features = [str(name) for name in mf.by_group.index.names]
    groups = [
        _group(record, features) for record in mf.by_group.reset_index().to_dict(orient="records")
    ]
    metrics: dict[str, Any] = {} if positive_label is None else {"positive_label": positive_label}
    metrics |= {
        "sensitive_features": features,
        "min_group_size": min_group_size,
        "overall": _metrics(mf.overall.to_dict(), "overall"),
        "breakdowns": [_breakdown(features, groups, min_group_size)],
    }
    document: dict[str, Any] = {
        "kind": "fairness",
        "schema_version": SCHEMA_VERSION,
        "system": system,
        "model_version": model_version,
        "context": context,
    }
    if effective_date is not None:
        document["effective_date"] = str(effective_date)  # date.isoformat() is its str()
    if datasets is not None:
        document["datasets"] = [{"slug": d["slug"], "split": d.get("split", "")} for d in datasets]
    document["metrics"] = metrics
    return document


def _group(record: Mapping[Any, Any], features: list[str]) -> dict[str, Any]:
    values = {str(key): value for key, value in record.items()}
    group = {name: str(values.pop(name)) for name in features}
    return {"group": group, **_metrics(values, f"group {group}")}


def _metrics(raw: Mapping[Any, Any], where: str) -> dict[str, Any]:
    """Evidence group metrics from ``{fairlearn_name: value}``; ``count`` is required."""
    if "count" not in raw:
        raise ValueError(f"{where}: count is required (the group sizes)")
    converted: dict[str, Any] = {}
    for name, value in raw.items():
        target = METRIC_NAMES.get(str(name))
        if target is None:
            accepted = ", ".join(sorted(METRIC_NAMES))
            raise ValueError(f"{where}: unknown metric {name!r}; accepted: {accepted}")
        if target in converted:
            # recall_score and true_positive_rate are the same quantity: keep one.
            raise ValueError(f"{where}: {name} gives {target} a second time")
        converted[target] = _count(value, where) if target == "size" else _rate(value, name, where)
    return converted


def _count(value: Any, where: str) -> int:
    number = float(value)  # numpy and pandas numbers too; a count in a float frame is 812.0
    if not math.isfinite(number) or not number.is_integer() or number < 0:
        raise ValueError(f"{where}: a count is a whole number >= 0, got {value!r}")
    return int(number)


def _rate(value: Any, name: str, where: str) -> float | None:
    """A rate in [0, 1]; NaN (undefined for the group) becomes None."""
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return None
    if not 0 <= number <= 1:
        raise ValueError(f"{where}: {name} is a rate in [0, 1], got {number}")
    return number


def _breakdown(
    features: list[str], groups: list[dict[str, Any]], min_group_size: int
) -> dict[str, Any]:
    rows = [{**row, "insufficient": row["size"] < min_group_size} for row in groups]
    sufficient = [row for row in rows if not row["insufficient"]]
    return {"features": list(features), "groups": rows, **breakdown_aggregates(sufficient)}


def breakdown_aggregates(groups: list[dict[str, Any]]) -> dict[str, float]:
    """The between-group differences and ratios of the sufficient groups (formulas in the
    module docstring); the server's fairlearn importer uses the same function."""
    aggregates: dict[str, float] = {}
    selection = _spread(groups, "selection_rate")
    if selection is not None:
        aggregates["demographic_parity_difference"] = selection[0]
        aggregates["demographic_parity_ratio"] = selection[1]
    tpr = _spread(groups, "true_positive_rate")
    if tpr is not None:
        aggregates["equal_opportunity_difference"] = tpr[0]
        aggregates["equal_opportunity_ratio"] = tpr[1]
    fpr = _spread(groups, "false_positive_rate")
    if tpr is not None and fpr is not None:
        aggregates["equalized_odds_difference"] = max(tpr[0], fpr[0])
        aggregates["equalized_odds_ratio"] = min(tpr[1], fpr[1])
    return aggregates


def _spread(groups: list[dict[str, Any]], metric: str) -> tuple[float, float] | None:
    """(max - min, min / max) of metric over the groups that have it; None below two."""
    values = [row[metric] for row in groups if row.get(metric) is not None]
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    # Rates are >= 0, so a maximum of 0 means every group is at 0: equal, hence 1.0.
    return float(high - low), float(low / high if high > 0 else 1.0)
