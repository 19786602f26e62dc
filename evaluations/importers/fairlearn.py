"""fairlearn `MetricFrame` results → one `fairness` item.

A `MetricFrame` lives in the submitter's Python process; what arrives here is its content
as JSON, in this shape::

    {
      "sensitive_features": ["sex"],                 # the MetricFrame's feature names
      "overall": {"count": 2000, "selection_rate": 0.4125, ...},   # mf.overall.to_dict()
      "by_group": ...,                               # see below
      "positive_label": 1,                           # optional, copied as is
      "fairlearn_version": "0.15.0"                  # optional, becomes tool_version
    }

`by_group` takes one of two forms:

* one sensitive feature: `{metric: {group_value: number}}`, exactly what
  `mf.by_group.to_dict()` gives;
* any number of features (so also an intersection): a list of records
  `[{"sex": "F", "age_band": "<25", "count": 212, "selection_rate": 0.31, ...}, ...]`,
  exactly what `mf.by_group.reset_index().to_dict(orient="records")` gives. Each record
  carries every sensitive feature as a column; the other members are metrics.

Metrics are named by the fairlearn or scikit-learn function that computed them, which is
what `MetricFrame(metrics={...})` keys are when built as `{f.__name__: f for f in ...}`:

=======================  ============================
name in the payload      evidence group metric
=======================  ============================
count                    size (required everywhere)
selection_rate           selection_rate
true_positive_rate       true_positive_rate
recall_score             true_positive_rate
false_positive_rate      false_positive_rate
false_negative_rate      false_negative_rate
true_negative_rate       true_negative_rate
precision_score          positive_predictive_value
accuracy_score           accuracy
=======================  ============================

Rates must lie in [0, 1] or be null (undefined for the group, such as the true positive
rate of a group without positives); counts must be whole numbers ≥ 0. Other top-level
members are ignored. Group values are turned into strings (`1` → `"1"`).

The item has one breakdown, over the features given (their intersection when there are
several). A group whose count is below `min_group_size` is flagged `insufficient` and left
out of the between-group aggregates, which are computed over the remaining groups:

    demographic_parity_difference = max(selection_rate) - min(selection_rate)
    demographic_parity_ratio      = min(selection_rate) / max(selection_rate)
    equal_opportunity_difference  = max(TPR) - min(TPR)
    equal_opportunity_ratio       = min(TPR) / max(TPR)
    equalized_odds_difference     = max(TPR difference, FPR difference)
    equalized_odds_ratio          = min(TPR ratio, FPR ratio)

Each aggregate is present only when its metrics have a value (not null) in at least two
sufficient groups. A ratio whose maximum is 0 (so every value is 0) is 1.0: the groups
are equal.
"""

from typing import Any

from riskreg_client.metricframe import breakdown_aggregates

from evaluations.importers.base import (
    ImportedItem,
    ImportFormatError,
    child,
    expect_count,
    expect_list,
    expect_object,
    expect_rate,
    expect_string,
    member,
)

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
_ACCEPTED = ", ".join(sorted(METRIC_NAMES))

# A group as read: its feature values (as strings) and its evidence metrics.
Group = tuple[dict[str, str], dict[str, Any]]


def import_metricframe(payload: Any, *, min_group_size: int = 30) -> list[ImportedItem]:
    """Read a MetricFrame's JSON (shape in the module docstring) into one `fairness` item.

    Raises
    ------
    ImportFormatError
        When the payload departs from the shape; `pointer` says where.
    ValueError
        When `min_group_size` is not a whole number ≥ 0.
    """
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int):
        raise ValueError(f"min_group_size must be a whole number, got {min_group_size!r}")
    if min_group_size < 0:
        raise ValueError(f"min_group_size cannot be negative, got {min_group_size}")
    root = expect_object(payload, "")
    features = _sensitive_features(member(root, "sensitive_features", ""))
    overall = _metrics(expect_object(member(root, "overall", ""), "/overall"), "/overall")
    groups = _groups(member(root, "by_group", ""), features)
    metrics: dict[str, Any] = {}
    if "positive_label" in root:
        metrics["positive_label"] = _positive_label(root["positive_label"])
    metrics |= {
        "sensitive_features": features,
        "min_group_size": min_group_size,
        "overall": overall,
        "breakdowns": [_breakdown(features, groups, min_group_size)],
    }
    version = root.get("fairlearn_version", "")
    return [
        ImportedItem(
            kind="fairness",
            metrics=metrics,
            label=", ".join(features),
            tool_name="fairlearn",
            tool_version=expect_string(version, "/fairlearn_version"),
        )
    ]


def _sensitive_features(value: Any) -> list[str]:
    names = expect_list(value, "/sensitive_features")
    if not names:
        raise ImportFormatError("/sensitive_features", "name at least one sensitive feature")
    for index, name in enumerate(names):
        if not expect_string(name, f"/sensitive_features/{index}"):
            raise ImportFormatError(f"/sensitive_features/{index}", "a name cannot be empty")
        if name in names[:index]:
            raise ImportFormatError(f"/sensitive_features/{index}", f"{name!r} is repeated")
    return list(names)


def _positive_label(value: Any) -> str | int | float | bool:
    if isinstance(value, str | int | float | bool):
        return value
    raise ImportFormatError("/positive_label", "expected a string, number or boolean")


def _metric(name: str, value: Any, pointer: str) -> tuple[str, Any]:
    """The evidence name and checked value of the fairlearn metric `name`."""
    if name not in METRIC_NAMES:
        raise ImportFormatError(pointer, f"unknown metric {name!r}; accepted: {_ACCEPTED}")
    target = METRIC_NAMES[name]
    if target == "size":
        return target, expect_count(value, pointer)
    return target, None if value is None else expect_rate(value, pointer)


def _metrics(raw: dict[str, Any], pointer: str) -> dict[str, Any]:
    """Evidence group metrics from `{fairlearn_name: value}`; `count` is required."""
    if "count" not in raw:
        raise ImportFormatError(child(pointer, "count"), "is required (the group sizes)")
    converted: dict[str, Any] = {}
    for name, value in raw.items():
        target, checked = _metric(name, value, child(pointer, name))
        if target in converted:
            # recall_score and true_positive_rate are the same quantity: keep one.
            raise ImportFormatError(child(pointer, name), f"gives {target} a second time")
        converted[target] = checked
    return converted


def _groups(value: Any, features: list[str]) -> list[Group]:
    if isinstance(value, list):
        groups = _groups_from_records(value, features)
    elif len(features) == 1:
        groups = _groups_from_columns(expect_object(value, "/by_group"), features[0])
    else:
        raise ImportFormatError(
            "/by_group", "with several sensitive features by_group must be a list of records"
        )
    if not groups:
        raise ImportFormatError("/by_group", "lists no groups")
    return groups


def _groups_from_columns(columns: dict[str, Any], feature: str) -> list[Group]:
    """Groups from `{metric: {group_value: number}}` (one sensitive feature)."""
    if "count" not in columns:
        raise ImportFormatError("/by_group/count", "is required (the group sizes)")
    sizes = expect_object(columns["count"], "/by_group/count")
    rows: dict[str, dict[str, Any]] = {value: {} for value in sizes}
    for name, column in columns.items():
        pointer = child("/by_group", name)
        if name not in METRIC_NAMES:
            raise ImportFormatError(pointer, f"unknown metric {name!r}; accepted: {_ACCEPTED}")
        for value, number in expect_object(column, pointer).items():
            if value not in rows:
                raise ImportFormatError(child(pointer, value), "this group has no count")
            target, checked = _metric(name, number, child(pointer, value))
            if target in rows[value]:
                raise ImportFormatError(child(pointer, value), f"gives {target} a second time")
            rows[value][target] = checked
    return [({feature: str(value)}, row) for value, row in rows.items()]


def _groups_from_records(records: list[Any], features: list[str]) -> list[Group]:
    """Groups from `[{feature: value, ..., metric: number, ...}]`."""
    groups: list[Group] = []
    seen: set[tuple[str, ...]] = set()
    for index, record in enumerate(records):
        pointer = f"/by_group/{index}"
        row = expect_object(record, pointer)
        group = {
            name: _group_value(member(row, name, pointer), child(pointer, name))
            for name in features
        }
        key = tuple(group.values())
        if key in seen:
            raise ImportFormatError(pointer, f"group {group} appears twice")
        seen.add(key)
        rest = {name: value for name, value in row.items() if name not in features}
        groups.append((group, _metrics(rest, pointer)))
    return groups


def _group_value(value: Any, pointer: str) -> str:
    if isinstance(value, bool | int | float | str):
        return str(value)
    raise ImportFormatError(pointer, "a group value must be a string, number or boolean")


def _breakdown(features: list[str], groups: list[Group], min_group_size: int) -> dict[str, Any]:
    rows = [
        {"group": group, **metrics, "insufficient": metrics["size"] < min_group_size}
        for group, metrics in groups
    ]
    sufficient = [row for row in rows if not row["insufficient"]]
    return {"features": list(features), "groups": rows, **breakdown_aggregates(sufficient)}
