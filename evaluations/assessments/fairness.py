"""Fairness of a binary classifier: group rates and between-group aggregates, with intervals.

Everything is computed from confusion counts per group (`confusion.ConfusionCounts`); no
step after counting looks at a row. For a group with counts tp, fp, tn, fn and
n = tp + fp + tn + fn::

    selection_rate            = (tp + fp) / n
    true_positive_rate        = tp / (tp + fn)        false_negative_rate = fn / (tp + fn)
    false_positive_rate       = fp / (fp + tn)        true_negative_rate  = tn / (fp + tn)
    positive_predictive_value = tp / (tp + fp)        accuracy            = (tp + tn) / n

Each breakdown (one per sensitive feature, and one for the intersection of all features
when there are several) compares its sufficient groups, those with at least
`min_group_size` rows::

    demographic_parity_difference = max - min of selection_rate
    demographic_parity_ratio      = min / max of selection_rate
    equal_opportunity_difference  = max - min of true_positive_rate
    equal_opportunity_ratio       = min / max of true_positive_rate
    equalized_odds_difference     = max(TPR difference, FPR difference)
    equalized_odds_ratio          = min(TPR ratio, FPR ratio)

These equal fairlearn's `MetricFrame(...).difference()` / `.ratio()` and its
`demographic_parity_*`, `equal_opportunity_*` and `equalized_odds_*` functions with
`method="between_groups"`, computed over the sufficient groups, wherever every rate
involved is defined. Where the definitions run out, riskreg pins its behaviour (each case
is tested):

* Zero division. A rate whose denominator is 0 is undefined: None here, null in the
  document. fairlearn reports such rates as 0.0 instead (its TPR, FPR, FNR and TNR come
  from scikit-learn's `confusion_matrix(normalize="true")`, which fills empty rows with
  0; `precision_score` gives 0.0 with an UndefinedMetricWarning). A rate that was never
  measured is not reported as 0.
* Single class. A group without positive labels has no TPR or FNR; one without negative
  labels no FPR or TNR; one without positive predictions no PPV.
* Aggregates leave out groups whose rate is undefined (as fairlearn's group_min and
  group_max skip NaN), and are None when fewer than two sufficient groups have a value:
  one group shows neither disparity nor parity. (fairlearn gives difference 0.0 and
  ratio 1.0 for a single group.)
* A ratio whose maximum is 0, so every value is 0, is 1.0: the groups are equal.
  (fairlearn gives NaN, from 0 / 0.)
* Equalized odds is None when either its TPR or its FPR part is.
* Empty groups. A group that no row belongs to does not exist (fairlearn also leaves
  out pandas categories that never occur). A group counted with no rows (possible with
  `ConfusionCounts.from_cells`) is reported with size 0, every rate None, insufficient.
* `insufficient` is size < min_group_size, or size 0. Insufficient groups are reported
  with their rates, and left out of every aggregate.

Intervals (at `level`, 0.95 by default):

* a group rate: Wilson's score interval of its numerator and denominator;
* a difference (demographic parity, equal opportunity): Newcombe's hybrid score interval
  for the difference between the two groups that attain the maximum and the minimum in
  the point estimate (the last group attaining the maximum and the first attaining the
  minimum, in group order, so ties still give two groups). It treats that pair as fixed,
  so it does not account for having picked the extremes. Its low end is raised to 0,
  since max - min cannot be negative;
* ratios and equalized odds: the multinomial bootstrap of the intersection groups' cell
  counts (`intervals.bootstrap`, seeded, `n_boot` resamples, percentile interval). Every
  breakdown is computed from the same resamples; the sufficient groups stay those of the
  point estimate, and a group whose rate is undefined in a resample is left out of that
  resample's aggregate.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evaluations.assessments.confusion import (
    CELLS,
    FN,
    FP,
    TN,
    TP,
    ConfusionCounts,
    CountTable,
    Label,
)
from evaluations.assessments.intervals import Interval, bootstrap, newcombe, normal_quantile, wilson

# Each rate as (cells added up in the numerator, cells added up in the denominator).
RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "selection_rate": ((FP, TP), (TN, FP, FN, TP)),
    "true_positive_rate": ((TP,), (TP, FN)),
    "false_positive_rate": ((FP,), (FP, TN)),
    "false_negative_rate": ((FN,), (TP, FN)),
    "true_negative_rate": ((TN,), (FP, TN)),
    "positive_predictive_value": ((TP,), (TP, FP)),
    "accuracy": ((TP, TN), (TN, FP, FN, TP)),
}
AGGREGATES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
)
# The differences of one rate between two groups, with Newcombe's interval.
_NEWCOMBE = {
    "demographic_parity_difference": "selection_rate",
    "equal_opportunity_difference": "true_positive_rate",
}
_BOOTSTRAPPED = tuple(name for name in AGGREGATES if name not in _NEWCOMBE)


@dataclass(frozen=True)
class Estimate:
    """A metric's value (None where undefined) and its interval, when one was computed."""

    value: float | None
    interval: Interval | None = None

    def to_metric(self) -> float | dict[str, Any] | None:
        """The metric as evidence documents write it: null, a number or {value, interval}."""
        if self.value is None or self.interval is None:
            return self.value
        return {"value": self.value, "interval": self.interval.to_dict()}


@dataclass(frozen=True)
class GroupMetrics:
    """The counts and rates of one group (`group` is {} for the overall metrics)."""

    group: Mapping[str, str]
    size: int
    tp: int
    fp: int
    tn: int
    fn: int
    insufficient: bool
    rates: Mapping[str, Estimate]

    def to_dict(self, *, with_group: bool = True) -> dict[str, Any]:
        """The group as evidence documents write it; without group and insufficient for overall."""
        counts = {"size": self.size, "tp": self.tp, "fp": self.fp, "tn": self.tn, "fn": self.fn}
        rates = {name: estimate.to_metric() for name, estimate in self.rates.items()}
        if not with_group:
            return {**counts, **rates}
        return {"group": dict(self.group), **counts, **rates, "insufficient": self.insufficient}


@dataclass(frozen=True)
class Breakdown:
    """The groups of some features and the aggregates over the sufficient ones."""

    features: tuple[str, ...]
    groups: tuple[GroupMetrics, ...]
    aggregates: Mapping[str, Estimate]

    def to_dict(self) -> dict[str, Any]:
        """The breakdown as evidence documents write it."""
        aggregates = {name: estimate.to_metric() for name, estimate in self.aggregates.items()}
        groups = [group.to_dict() for group in self.groups]
        return {"features": list(self.features), "groups": groups, **aggregates}


@dataclass(frozen=True)
class FairnessReport:
    """A fairness assessment: overall metrics and one breakdown per feature and intersection."""

    sensitive_features: tuple[str, ...]
    positive_label: Label
    min_group_size: int
    overall: GroupMetrics
    breakdowns: tuple[Breakdown, ...]

    def to_metrics(self) -> dict[str, Any]:
        """The `metrics` object of a `fairness` evidence document (schema 1.0)."""
        return {
            "positive_label": self.positive_label,
            "sensitive_features": list(self.sensitive_features),
            "min_group_size": self.min_group_size,
            "overall": self.overall.to_dict(with_group=False),
            "breakdowns": [breakdown.to_dict() for breakdown in self.breakdowns],
        }


@dataclass(frozen=True)
class _Options:
    min_group_size: int
    n_boot: int
    level: float
    seed: int
    intervals: bool


def fairness_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: Mapping[str, ArrayLike],
    pos_label: Label = 1,
    min_group_size: int = 30,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    intervals: bool = True,
) -> FairnessReport:
    """Group rates and between-group aggregates of binary predictions, in one pass.

    Parameters
    ----------
    y_true, y_pred : array-like
        Labels and predictions: {0, 1}, booleans, or two values one of which is pos_label.
    sensitive_features : mapping of str to array-like
        One column per sensitive feature (a dict, or a pandas DataFrame).
    pos_label : str, int, float or bool, default 1
        The label value of the positive outcome.
    min_group_size : int, default 30
        Groups with fewer rows are reported but left out of the aggregates.
    n_boot : int, default 1000
        Bootstrap resamples for the intervals of ratios and equalized odds.
    level : float, default 0.95
        Confidence level of every interval.
    seed : int, default 0
        Seed of the bootstrap; the same inputs and seed give the same report.
    intervals : bool, default True
        False gives point estimates only, as plain numbers.

    Raises
    ------
    ValueError
        On bad input (see `ConfusionCounts.update`) or options, naming the bad value.
    """
    options = _check_options(min_group_size, n_boot, level, seed, intervals)
    names = list(sensitive_features.keys())
    counts = ConfusionCounts(names, pos_label=pos_label)
    counts.update(y_true, y_pred, {name: sensitive_features[name] for name in names})
    return _report(counts, options)


def report_from_counts(
    counts: ConfusionCounts,
    *,
    min_group_size: int = 30,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    intervals: bool = True,
) -> FairnessReport:
    """The report of counts accumulated chunk by chunk; options as in `fairness_report`.

    Raises
    ------
    ValueError
        When no group was counted, or an option is bad.
    """
    return _report(counts, _check_options(min_group_size, n_boot, level, seed, intervals))


def group_rates(cells: ArrayLike) -> dict[str, NDArray[np.float64]]:
    """Every rate (RATES) of counts shaped (..., 4) in CELLS order; NaN where undefined."""
    counts = np.asarray(cells, dtype=np.float64)
    return {
        name: _divide(counts[..., list(top)].sum(axis=-1), counts[..., list(bottom)].sum(axis=-1))
        for name, (top, bottom) in RATES.items()
    }


def spread(values: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(max - min, min / max) over the last axis, leaving out NaN.

    NaN where fewer than two values are defined; the ratio is 1.0 where the maximum is 0
    (every value is then 0, rates being ≥ 0).
    """
    array = np.asarray(values, dtype=np.float64)
    defined = ~np.isnan(array)
    enough = defined.sum(axis=-1) >= 2
    high = np.where(defined, array, -np.inf).max(axis=-1, initial=-np.inf)
    low = np.where(defined, array, np.inf).min(axis=-1, initial=np.inf)
    difference = np.where(enough, high - low, np.nan)
    safe_high = np.where(high > 0, high, 1.0)
    ratio = np.where(enough, np.where(high > 0, low / safe_high, 1.0), np.nan)
    return difference, ratio


def aggregates(cells: ArrayLike) -> dict[str, NDArray[np.float64]]:
    """Every aggregate (AGGREGATES) of counts shaped (..., groups, 4); NaN where undefined."""
    rates = group_rates(cells)
    parity = spread(rates["selection_rate"])
    opportunity = spread(rates["true_positive_rate"])
    false_positive = spread(rates["false_positive_rate"])
    return {
        "demographic_parity_difference": parity[0],
        "demographic_parity_ratio": parity[1],
        "equalized_odds_difference": np.maximum(opportunity[0], false_positive[0]),
        "equalized_odds_ratio": np.minimum(opportunity[1], false_positive[1]),
        "equal_opportunity_difference": opportunity[0],
        "equal_opportunity_ratio": opportunity[1],
    }


# Building the report.


def _report(counts: ConfusionCounts, options: _Options) -> FairnessReport:
    if not isinstance(counts, ConfusionCounts):
        raise ValueError(f"counts must be ConfusionCounts, got {type(counts).__name__}")
    intersection = counts.intersection()
    if not intersection.groups:
        raise ValueError("no rows were counted: a fairness report needs at least one group")
    features = counts.features
    tables = [counts.by_feature(name) for name in features]
    if len(features) > 1:
        tables.append(intersection)
    sufficient = [_sufficient(table, options.min_group_size) for table in tables]
    points = [
        _point_aggregates(table, mask) for table, mask in zip(tables, sufficient, strict=True)
    ]
    boot = _bootstrap_intervals(counts, intersection, tables, sufficient, points, options)
    breakdowns = tuple(
        _breakdown(table, mask, point, bounds, options)
        for table, mask, point, bounds in zip(tables, sufficient, points, boot, strict=True)
    )
    return FairnessReport(
        sensitive_features=features,
        positive_label=counts.pos_label,
        min_group_size=options.min_group_size,
        overall=_group((), (), counts.overall(), insufficient=False, options=options),
        breakdowns=breakdowns,
    )


def _sufficient(table: CountTable, min_group_size: int) -> NDArray[np.bool_]:
    sizes = table.cells.sum(axis=1)
    sufficient: NDArray[np.bool_] = (sizes >= min_group_size) & (sizes > 0)
    return sufficient


def _point_aggregates(table: CountTable, sufficient: NDArray[np.bool_]) -> dict[str, float | None]:
    return {name: _value(value) for name, value in aggregates(table.cells[sufficient]).items()}


def _breakdown(
    table: CountTable,
    sufficient: NDArray[np.bool_],
    point: dict[str, float | None],
    bounds: dict[str, tuple[float, float] | None],
    options: _Options,
) -> Breakdown:
    groups = tuple(
        _group(table.features, group, cells, insufficient=not ok, options=options)
        for group, cells, ok in zip(table.groups, table.cells, sufficient, strict=True)
    )
    estimates = {}
    for name in AGGREGATES:
        value = point[name]
        if not options.intervals or value is None:
            estimates[name] = Estimate(value)
        elif name in _NEWCOMBE:
            low, high = _difference_interval(table, sufficient, _NEWCOMBE[name], options.level)
            estimates[name] = Estimate(value, Interval(low, high, options.level, "newcombe"))
        else:
            estimates[name] = _bootstrap_estimate(value, bounds.get(name), options.level)
    return Breakdown(features=table.features, groups=groups, aggregates=estimates)


def _group(
    features: tuple[str, ...],
    group: tuple[str, ...],
    cells: NDArray[np.int64],
    *,
    insufficient: bool,
    options: _Options,
) -> GroupMetrics:
    counts = dict(zip(CELLS, (int(c) for c in cells), strict=True))
    rates = {}
    for name, (top, bottom) in RATES.items():
        successes, trials = int(cells[list(top)].sum()), int(cells[list(bottom)].sum())
        rates[name] = _rate_estimate(successes, trials, options)
    return GroupMetrics(
        group=dict(zip(features, group, strict=True)),
        size=int(cells.sum()),
        tp=counts["tp"],
        fp=counts["fp"],
        tn=counts["tn"],
        fn=counts["fn"],
        insufficient=insufficient or int(cells.sum()) == 0,
        rates=rates,
    )


def _rate_estimate(successes: int, trials: int, options: _Options) -> Estimate:
    if trials == 0:
        return Estimate(None)
    value = successes / trials
    if not options.intervals:
        return Estimate(value)
    low, high = wilson(successes, trials, level=options.level)
    return Estimate(value, Interval(low, high, options.level, "wilson"))


def _difference_interval(
    table: CountTable, sufficient: NDArray[np.bool_], rate: str, level: float
) -> tuple[float, float]:
    """Newcombe's interval between the groups attaining the max and the min of `rate`."""
    top, bottom = RATES[rate]
    cells = table.cells[sufficient]
    successes = cells[:, list(top)].sum(axis=1)
    trials = cells[:, list(bottom)].sum(axis=1)
    defined = np.flatnonzero(trials > 0)
    values = successes[defined] / trials[defined]
    high = defined[len(values) - 1 - int(np.argmax(values[::-1]))]
    low = defined[int(np.argmin(values))]
    interval = newcombe(
        int(successes[high]), int(trials[high]), int(successes[low]), int(trials[low]), level=level
    )
    return max(0.0, interval[0]), interval[1]


def _bootstrap_estimate(value: float, bounds: tuple[float, float] | None, level: float) -> Estimate:
    if bounds is None:
        return Estimate(value)
    return Estimate(value, Interval(bounds[0], bounds[1], level, "bootstrap"))


def _bootstrap_intervals(
    counts: ConfusionCounts,
    intersection: CountTable,
    tables: list[CountTable],
    sufficient: list[NDArray[np.bool_]],
    points: list[dict[str, float | None]],
    options: _Options,
) -> list[dict[str, tuple[float, float] | None]]:
    """Bootstrap intervals of _BOOTSTRAPPED per breakdown, all from one set of resamples."""
    empty: list[dict[str, tuple[float, float] | None]] = [{} for _ in tables]
    wanted = any(point[name] is not None for point in points for name in _BOOTSTRAPPED)
    if not options.intervals or not wanted:
        return empty
    memberships = [
        _membership(counts.features, intersection, table, mask)
        for table, mask in zip(tables, sufficient, strict=True)
    ]
    groups = len(intersection.groups)

    def statistic(resamples: NDArray[np.int64]) -> NDArray[np.float64]:
        cells = resamples.reshape(len(resamples), groups, 4).astype(np.float64)
        by_cell = cells.transpose(0, 2, 1)  # (resamples, 4, intersection groups)
        columns = []
        for membership in memberships:
            grouped = (by_cell @ membership).transpose(0, 2, 1)  # (resamples, groups, 4)
            values = aggregates(grouped)
            columns += [values[name] for name in _BOOTSTRAPPED]
        return np.stack(columns, axis=1)

    bounds = bootstrap(
        intersection.cells.ravel(),
        statistic,
        n_boot=options.n_boot,
        level=options.level,
        seed=options.seed,
    )
    width = len(_BOOTSTRAPPED)
    return [
        dict(zip(_BOOTSTRAPPED, bounds[i * width : (i + 1) * width], strict=True))
        for i in range(len(tables))
    ]


def _membership(
    features: tuple[str, ...],
    intersection: CountTable,
    table: CountTable,
    sufficient: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """(intersection groups, sufficient groups of `table`): 1 where the first lies in the second.

    Counts are added as float64, exact for integers below 2**53.
    """
    positions = [features.index(name) for name in table.features]
    kept = [group for group, ok in zip(table.groups, sufficient, strict=True) if ok]
    column = {group: index for index, group in enumerate(kept)}
    membership = np.zeros((len(intersection.groups), len(kept)), dtype=np.float64)
    for row, group in enumerate(intersection.groups):
        index = column.get(tuple(group[i] for i in positions))
        if index is not None:
            membership[row, index] = 1.0
    return membership


# Small helpers.


def _divide(top: NDArray[np.float64], bottom: NDArray[np.float64]) -> NDArray[np.float64]:
    """top / bottom, NaN where bottom is 0 (without a warning)."""
    result = np.full(np.shape(top), np.nan)
    np.divide(top, bottom, out=result, where=bottom > 0)
    return result


def _value(value: NDArray[np.float64]) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def _check_options(
    min_group_size: int, n_boot: int, level: float, seed: int, intervals: bool
) -> _Options:
    for name, number in (("min_group_size", min_group_size), ("n_boot", n_boot), ("seed", seed)):
        if isinstance(number, bool) or not isinstance(number, int | np.integer):
            raise ValueError(f"{name} must be a whole number, got {number!r}")
    if min_group_size < 0:
        raise ValueError(f"min_group_size cannot be negative, got {min_group_size}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if seed < 0:
        raise ValueError(f"seed cannot be negative, got {seed}")
    normal_quantile(level)
    if not isinstance(intervals, bool):
        raise ValueError(f"intervals must be True or False, got {intervals!r}")
    return _Options(int(min_group_size), int(n_boot), float(level), int(seed), intervals)
