"""Calibration: reliability bins, ECE, MCE, Brier score and log loss, overall and per group.

What is measured
----------------
Each row gives a *confidence* c and an *outcome* o ∈ {0, 1}:

* task="binary": c is the score of the positive class (`y_score`, shape (n,)) and
  o = (y_true == pos_label);
* task="multiclass": `y_score` is an (n, k) probability matrix whose columns are the
  classes 0..k-1, `y_true` holds those column indices, c = max_j p_j and
  o = (argmax_j p_j == y_true) — the top-label calibration (ties go to the first column,
  as `numpy.argmax` breaks them).

The rows fall into bins b with n_b rows, mean confidence conf_b = Σc / n_b and observed
frequency acc_b = Σo / n_b. With n rows in all::

    expected_calibration_error = Σ_b (n_b / n) · |acc_b - conf_b|
    maximum_calibration_error  = max_b |acc_b - conf_b|       over the bins with n_b > 0

The two scoring rules are scikit-learn's (1.9), computed on float64::

    binary      brier_score_loss = (1/n) Σ_i (p_i - y_i)²                  y_i = o_i
    multiclass  brier_score_loss = (1/n) Σ_i Σ_j (p_ij - [y_i = j])²      halved when k = 2
    log_loss    = -(1/n) Σ_i log(clip(q_i, ε, 1 - ε))

where q_i is the probability given to the true class (p_i or 1 - p_i in the binary task,
p_{i,y_i} in the multiclass one) and ε = 2.22e-16, the float64 machine epsilon.
`sklearn.metrics.brier_score_loss` with `scale_by_half="auto"` (its default) halves the
multiclass sum only for two columns, and `sklearn.metrics.log_loss` clips to
[eps, 1 - eps] of the input's dtype: scores are cast to float64 here, so a float32 input
is clipped at the float64 epsilon, not float32's.

Bins
----
strategy="uniform": n_bins equal-width bins with the edges of `numpy.linspace(0, 1,
n_bins + 1)`. A confidence on an edge belongs to the lower bin, (lo, hi]; 0.0 belongs to
the first bin and 1.0 to the last. This is exactly `sklearn.calibration.calibration_curve`
(`searchsorted(edges[1:-1], c)`); here it is reproduced by arithmetic (ceil(c · n_bins) - 1
corrected against the true edges), without a search or a sort.

strategy="quantile": the edges are `numpy.percentile(c, linspace(0, 100, n_bins + 1))`,
as `calibration_curve(strategy="quantile")` computes them, and rows are binned against
them the same way. In memory (`calibration_report`) the percentiles are those of every
row. When streaming, the edges must be fixed before the bins are filled: a first pass
through `ConfidenceSample` keeps a seeded uniform sample of at most `max_rows`
confidences (every one of them when the data are no larger) and its percentiles are the
edges — an approximation once the data outgrow the sample. A confidence below the first
edge falls into the first bin, one above the last edge into the last.

`calibration_curve` leaves out empty bins; the bins here keep them, with count 0 and null
mean_confidence / observed_frequency.

Streaming: additive sufficient statistics
-----------------------------------------
`CalibrationStats` keeps, overall and for every group, per-bin counts, Σo (integers,
exact), Σc per bin and the totals Σ brier-term and Σ log-loss-term. Rows are processed in
blocks of at most 65,536; each block's partial sums are added into Neumaier-compensated
(total, carry) pairs, so chunked or merged accumulation equals one pass to rounding (far
below 1e-12), and the in-memory result equals scikit-learn's to about 1e-15.

Groups
------
Sensitive features are named columns. Their values become strings (`1` → "1"); a group
is the tuple of its values, one breakdown per feature and, with several features, one for
their intersection. Every group gets ECE, MCE, Brier and log loss over the overall bin
edges; a group with fewer than `min_group_size` rows is `insufficient`, and each
breakdown's `largest_gap` is max - min of each metric over its sufficient groups (null with
fewer than two).

Intervals
---------
Percentile bootstrap intervals over rows (Efron & Tibshirani 1993, ch. 13) for ECE, MCE,
Brier and log loss. The resampled rows are a seeded uniform sample of at most
`sample_rows` (default 1,000,000) rows, kept while streaming by bottom-k sampling on
random keys (each row draws a key; the rows with the smallest keys are kept), so memory
is bounded and the sample does not depend on how the rows were chunked. Every row of
smaller data is kept. A resample of the m sampled rows draws the counts of the cells
(bin, outcome) from Multinomial(m, cell proportions) and then, within each cell, its rows
uniformly with replacement — the same distribution as drawing m rows with replacement.
Resamples are drawn in blocks of bounded size (about 32 MiB of indices), and the same seed
and rows give the same intervals, however the rows were chunked. The cost is about 15 ns
per sampled row and resample: some 15 s for 1,000 resamples of a full 1,000,000-row sample.
The interval is `intervals.percentile_interval` of the draws (linear interpolation). ECE
is biased upward in small samples, so its percentile interval may lie above the point
estimate (the evidence schema allows it).

Merging: partial accumulators whose samples are merged must have been seeded differently
(e.g. seed=(base, part)): equal seeds draw equal keys, so the merged sample would not be
uniform; `merge` refuses two samples with a seed in common (with sample_rows=0 there is no
sample and any seeds merge).

References
----------
Naeini MP, Cooper G, Hauskrecht M (2015). Obtaining well calibrated probabilities using
    Bayesian binning. AAAI. (ECE and MCE)
Guo C, Pleiss G, Sun Y, Weinberger KQ (2017). On calibration of modern neural networks.
    ICML. (top-label confidence)
Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evaluations.assessments.intervals import Interval, percentile_interval

Task = Literal["binary", "multiclass"]
Strategy = Literal["uniform", "quantile"]
Seed = int | Sequence[int]
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

TASKS: tuple[str, ...] = ("binary", "multiclass")
STRATEGIES: tuple[str, ...] = ("uniform", "quantile")
# Rows kept for the bootstrap (and for quantile edges when streaming).
DEFAULT_SAMPLE_ROWS = 1_000_000
METRICS: tuple[str, ...] = (
    "expected_calibration_error",
    "maximum_calibration_error",
    "brier_score_loss",
    "log_loss",
)

_EPS = float(np.finfo(np.float64).eps)
# Rows per block inside one update: the temporaries of a block stay in cache. A block of
# multiclass scores holds at most _BLOCK_VALUES probabilities.
_BLOCK_ROWS = 1 << 16
_BLOCK_VALUES = 1 << 20
# Resampled rows drawn per bootstrap block: bounds the index and gather arrays (~32 MiB each).
_BOOT_BLOCK_ROWS = 1 << 22
# Group values are written into documents, whose schema caps them at 200 characters.
_GROUP_VALUE_LIMIT = 200


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Estimate:
    """A metric's value and, when one was computed, its interval."""

    value: float
    interval: Interval | None = None

    def to_metric(self) -> float | dict[str, Any]:
        """A plain number without an interval, else {"value", "interval"}."""
        if self.interval is None:
            return self.value
        return {"value": self.value, "interval": self.interval.to_dict()}


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin: its edges, its rows, and their mean confidence and observed frequency.

    `mean_confidence` and `observed_frequency` are None for an empty bin.
    """

    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    observed_frequency: float | None


@dataclass(frozen=True)
class GroupCalibration:
    """The calibration of one group: `group` holds its values in the breakdown's feature order."""

    group: tuple[str, ...]
    size: int
    insufficient: bool
    expected_calibration_error: float
    maximum_calibration_error: float
    brier_score_loss: float
    log_loss: float


@dataclass(frozen=True)
class CalibrationBreakdown:
    """The groups of one feature (or one intersection) and max - min of each metric.

    `largest_gap` maps each name of `METRICS` to max - min over the sufficient groups,
    or None with fewer than two of them.
    """

    features: tuple[str, ...]
    groups: tuple[GroupCalibration, ...]
    largest_gap: dict[str, float | None]


@dataclass(frozen=True)
class CalibrationReport:
    """Calibration of a set of predictions; `to_metrics()` gives the evidence `metrics`."""

    task: Task
    bin_strategy: Strategy
    n_bins: int
    size: int
    expected_calibration_error: Estimate
    maximum_calibration_error: Estimate
    brier_score_loss: Estimate
    log_loss: Estimate
    bins: tuple[ReliabilityBin, ...]
    breakdowns: tuple[CalibrationBreakdown, ...] = ()

    def to_metrics(self) -> dict[str, Any]:
        """The `metrics` object of a `calibration` evidence document (schema 1.0)."""
        metrics: dict[str, Any] = {
            "task": self.task,
            "bin_strategy": self.bin_strategy,
            "n_bins": self.n_bins,
            "size": self.size,
        }
        for name in METRICS:
            estimate: Estimate = getattr(self, name)
            metrics[name] = estimate.to_metric()
        metrics["bins"] = [
            {
                "lower": b.lower,
                "upper": b.upper,
                "count": b.count,
                "mean_confidence": b.mean_confidence,
                "observed_frequency": b.observed_frequency,
            }
            for b in self.bins
        ]
        if self.breakdowns:
            metrics["breakdowns"] = [_breakdown_metrics(b) for b in self.breakdowns]
        return metrics


def _breakdown_metrics(breakdown: CalibrationBreakdown) -> dict[str, Any]:
    groups = []
    for g in breakdown.groups:
        entry: dict[str, Any] = {
            "group": dict(zip(breakdown.features, g.group, strict=True)),
            "size": g.size,
            "insufficient": g.insufficient,
        }
        entry |= {name: getattr(g, name) for name in METRICS}
        groups.append(entry)
    return {
        "features": list(breakdown.features),
        "groups": groups,
        "largest_gap": dict(breakdown.largest_gap),
    }


# ----------------------------------------------------------------------------- edges


def uniform_edges(n_bins: int) -> Floats:
    """The n_bins + 1 edges of equal-width bins on [0, 1]: `numpy.linspace(0, 1, n_bins + 1)`.

    Raises
    ------
    ValueError
        When n_bins is not a whole number ≥ 1.
    """
    _check_n_bins(n_bins)
    return np.linspace(0.0, 1.0, n_bins + 1)


def quantile_edges(confidence: ArrayLike, n_bins: int) -> Floats:
    """Equal-mass edges: the 0, 100/n_bins, ..., 100 percentiles of the confidences.

    `numpy.percentile` with linear interpolation, as `calibration_curve(strategy="quantile")`
    computes them; repeated values can make some edges equal (empty bins).

    Raises
    ------
    ValueError
        When n_bins < 1, or the confidences are empty, NaN or outside [0, 1].
    """
    _check_n_bins(n_bins)
    values = np.asarray(confidence, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("quantile edges need at least one confidence, got none")
    _check_range(values, "confidence")
    edges: Floats = np.percentile(values, np.linspace(0.0, 1.0, n_bins + 1) * 100)
    return edges


class _Binner:
    """Assigns confidences to bins with calibration_curve's rule: (lo, hi], 0.0 to the first."""

    def __init__(self, edges: Floats, *, uniform: bool) -> None:
        self.edges = edges
        self.n_bins = edges.size - 1
        self._inner = edges[1:-1]
        # linspace's edge i is i * step (the last one is 1.0): arithmetic then gives the bin
        # without a search, corrected against those exact products.
        self._step = 1.0 / self.n_bins
        products = np.arange(self.n_bins + 1, dtype=np.float64) * self._step
        products[-1] = 1.0
        self._arithmetic = uniform and np.array_equal(products, edges)

    def assign(self, confidence: Floats) -> NDArray[np.intp]:
        if not self._arithmetic:
            return np.searchsorted(self._inner, confidence, side="left")
        k = self.n_bins
        guess = np.multiply(confidence, k)
        np.ceil(guess, out=guess)
        guess -= 1.0
        # ceil(c·k) - 1 is the bin or a neighbour of it: edge i is i·step only to rounding.
        bound = guess * self._step
        guess -= confidence <= bound
        np.add(guess, 1.0, out=bound)
        bound *= self._step
        guess += confidence > bound
        np.clip(guess, 0, k - 1, out=guess)
        return guess.astype(np.intp)


# ----------------------------------------------------------------------------- input checks


def _check_n_bins(n_bins: object) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a whole number ≥ 1, got {n_bins!r}")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_whole(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")


def _check_level(level: object) -> None:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")


def _check_range(values: NDArray[Any], name: str) -> None:
    """Refuse NaN and values outside [0, 1], naming the first bad one and its row."""
    if values.size == 0:
        return
    low, high = values.min(), values.max()
    if low >= 0 and high <= 1:  # False for NaN, which min and max propagate
        return
    bad = np.isnan(values)
    if bad.any():
        row = np.unravel_index(int(np.flatnonzero(bad)[0]), values.shape)[0]
        raise ValueError(f"{name} has NaN at row {row}")
    index = int(np.flatnonzero((values < 0) | (values > 1))[0])
    row = np.unravel_index(index, values.shape)[0]
    raise ValueError(
        f"{name} has a value outside [0, 1]: {values.flat[index].item()!r} at row {row}"
    )


def _scores(y_score: ArrayLike, task: str) -> NDArray[Any]:
    """The scores as an array of the task's shape, checked for range, NaN and row sums."""
    scores = np.asarray(y_score)
    if scores.dtype.kind not in "biuf":
        raise ValueError(f"y_score must hold numbers, got dtype {scores.dtype}")
    if task == "binary":
        if scores.ndim != 1:
            raise ValueError(
                "y_score must be 1-D for task='binary' (the positive class's probability), "
                f"got shape {scores.shape}"
            )
        _check_range(scores, "y_score")
        return scores
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(
            f"y_score must be an (n, k) probability matrix with k ≥ 2 for task='multiclass', "
            f"got shape {scores.shape}"
        )
    _check_range(scores, "y_score")
    _check_row_sums(scores)
    return scores


def _check_row_sums(scores: NDArray[Any]) -> None:
    """Rows must sum to 1 within sqrt(eps) of the input's float type (scikit-learn's test)."""
    if scores.shape[0] == 0:
        return
    kind = scores.dtype if scores.dtype.kind == "f" else np.dtype(np.float64)
    tolerance = math.sqrt(float(np.finfo(kind).eps))
    sums = scores.sum(axis=1, dtype=np.float64)
    off = np.abs(sums - 1.0) > tolerance
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise ValueError(
            f"y_score row {row} sums to {sums[row].item()!r}, not 1 (tolerance {tolerance:.3g}): "
            "pass probabilities"
        )


def _labels(y_true: ArrayLike, n: int) -> NDArray[Any]:
    labels = np.asarray(y_true)
    if labels.ndim != 1:
        raise ValueError(f"y_true must be 1-D, got shape {labels.shape}")
    if labels.shape[0] != n:
        raise ValueError(f"y_true has {labels.shape[0]} rows but y_score has {n}")
    return labels


def _binary_label_values(labels: NDArray[Any]) -> set[Any]:
    """The distinct labels (at most three are looked for), refusing NaN."""
    if labels.size == 0:
        return set()
    if labels.dtype.kind in "biuf":
        if labels.dtype.kind == "f" and np.isnan(labels).any():
            row = int(np.flatnonzero(np.isnan(labels))[0])
            raise ValueError(f"y_true has NaN at row {row}")
        low, high = labels.min(), labels.max()
        if low == high:
            return {low.item()}
        if np.count_nonzero(labels == low) + np.count_nonzero(labels == high) == labels.size:
            return {low.item(), high.item()}
        third = labels[(labels != low) & (labels != high)][0]
        return {low.item(), high.item(), third.item()}
    try:
        return set(np.unique(labels).tolist())
    except TypeError as error:
        raise ValueError(f"y_true holds labels that cannot be compared: {error}") from None


def _check_binary_labels(seen: set[Any], pos_label: object) -> None:
    if len(seen) > 2:
        shown = ", ".join(repr(v) for v in sorted(seen, key=repr))
        raise ValueError(f"y_true has more than two labels for task='binary': {shown}")
    if len(seen) == 2 and pos_label not in seen:
        shown = ", ".join(repr(v) for v in sorted(seen, key=repr))
        raise ValueError(f"pos_label {pos_label!r} is not one of the labels in y_true ({shown})")


def _check_class_indices(labels: NDArray[Any], k: int) -> None:
    if labels.dtype.kind not in "iu":
        raise ValueError(
            "y_true must hold integer class indices (the columns of y_score) for "
            f"task='multiclass', got dtype {labels.dtype}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        bad = labels[(labels < 0) | (labels >= k)][0]
        raise ValueError(f"y_true has class index {bad.item()!r}, outside 0..{k - 1}")


# ----------------------------------------------------------------------------- per-row terms


@dataclass
class _Rows:
    """Per-row quantities of one block."""

    confidence: Floats
    correct: NDArray[np.bool_]
    bins: NDArray[np.intp]
    brier: Floats
    log_loss: Floats


def _binary_rows(scores: NDArray[Any], labels: NDArray[Any], pos_label: object) -> _Rows:
    p = np.asarray(scores, dtype=np.float64)
    correct = np.asarray(labels == pos_label, dtype=np.bool_)
    brier = p - correct
    brier *= brier
    true_class = np.subtract(1.0, p)
    np.copyto(true_class, p, where=correct)
    log_loss = _log_terms(true_class)
    return _Rows(p, correct, np.empty(0, np.intp), brier, log_loss)


def _multiclass_rows(scores: NDArray[Any], labels: NDArray[Any]) -> _Rows:
    p = np.asarray(scores, dtype=np.float64)
    rows = np.arange(p.shape[0])
    predicted = p.argmax(axis=1)
    confidence = p[rows, predicted]
    index = labels.astype(np.intp, copy=False)
    true_class = p[rows, index]
    difference = p.copy()
    difference[rows, index] -= 1.0
    brier: Floats = np.einsum("ij,ij->i", difference, difference)
    if p.shape[1] == 2:  # scikit-learn's scale_by_half="auto"
        brier *= 0.5
    log_loss = _log_terms(true_class.copy())
    return _Rows(confidence, predicted == index, np.empty(0, np.intp), brier, log_loss)


def _block_rows(scores: NDArray[Any]) -> int:
    """Rows per block: _BLOCK_ROWS, fewer for wide probability matrices."""
    width = scores.shape[1] if scores.ndim == 2 else 1
    return max(1, min(_BLOCK_ROWS, _BLOCK_VALUES // width))


def _log_terms(true_class: Floats) -> Floats:
    """-log(clip(q, ε, 1 - ε)), in place."""
    np.clip(true_class, _EPS, 1.0 - _EPS, out=true_class)
    np.log(true_class, out=true_class)
    np.negative(true_class, out=true_class)
    return true_class


# ----------------------------------------------------------------------------- sums


class _Compensated:
    """Elementwise float sums as (total, carry) pairs: Neumaier's compensated summation."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.total: Floats = np.zeros(shape)
        self.carry: Floats = np.zeros(shape)

    def add(self, values: Floats) -> None:
        total = self.total + values
        larger = np.abs(self.total) >= np.abs(values)
        self.carry += np.where(larger, (self.total - total) + values, (values - total) + self.total)
        self.total = total

    def value(self) -> Floats:
        result: Floats = self.total + self.carry
        return result

    def grow(self, rows: int) -> None:
        extra = rows - self.total.shape[0]
        if extra > 0:
            pad = ((0, extra),) + ((0, 0),) * (self.total.ndim - 1)
            self.total = np.pad(self.total, pad)
            self.carry = np.pad(self.carry, pad)


def _weighted_counts(index: NDArray[np.intp], weights: Floats, length: int) -> Floats:
    """Σ weights per index value 0..length-1 (`numpy.bincount` with weights)."""
    return np.bincount(index, weights, length).astype(np.float64, copy=False)


class _Table:
    """The sufficient statistics of G groups over K bins."""

    def __init__(self, groups: int, n_bins: int) -> None:
        self.n_bins = n_bins
        self.count: Ints = np.zeros((groups, n_bins), np.int64)
        self.correct: Ints = np.zeros((groups, n_bins), np.int64)
        self.confidence = _Compensated((groups, n_bins))
        self.brier = _Compensated((groups,))
        self.log_loss = _Compensated((groups,))

    @property
    def groups(self) -> int:
        return int(self.count.shape[0])

    def grow(self, groups: int) -> None:
        extra = groups - self.groups
        if extra > 0:
            self.count = np.pad(self.count, ((0, extra), (0, 0)))
            self.correct = np.pad(self.correct, ((0, extra), (0, 0)))
            for sums in (self.confidence, self.brier, self.log_loss):
                sums.grow(groups)

    def add_rows(self, rows: _Rows, group: NDArray[np.intp] | None) -> None:
        """Add one block's rows; `group` gives each row's group (None: all in group 0)."""
        g, k = self.groups, self.n_bins
        cell = rows.bins if group is None else group * k + rows.bins
        both = np.bincount(cell * 2 + rows.correct, minlength=2 * g * k).reshape(g, k, 2)
        self.count += both.sum(axis=2)
        self.correct += both[:, :, 1]
        self.confidence.add(_weighted_counts(cell, rows.confidence, g * k).reshape(g, k))
        if group is None:
            self.brier.add(np.array([rows.brier.sum()]))
            self.log_loss.add(np.array([rows.log_loss.sum()]))
        else:
            self.brier.add(_weighted_counts(group, rows.brier, g))
            self.log_loss.add(_weighted_counts(group, rows.log_loss, g))

    def merge(self, other: "_Table", into: NDArray[np.intp]) -> None:
        """Add `other`, whose group i is our group into[i]."""

        def spread(values: NDArray[Any]) -> NDArray[Any]:
            out = np.zeros((self.groups, *values.shape[1:]), values.dtype)
            out[into] = values
            return out

        self.count += spread(other.count)
        self.correct += spread(other.correct)
        for mine, theirs in (
            (self.confidence, other.confidence),
            (self.brier, other.brier),
            (self.log_loss, other.log_loss),
        ):
            mine.add(spread(theirs.total))
            mine.carry += spread(theirs.carry)

    def metrics(self) -> tuple[Floats, Floats, Floats, Floats]:
        """ECE, MCE, Brier and log loss of every group (rows with zero size give NaN)."""
        size = self.count.sum(axis=1)
        ece, mce = _errors(self.count, self.correct, self.confidence.value())
        with np.errstate(invalid="ignore", divide="ignore"):
            brier = self.brier.value() / size
            log_loss = self.log_loss.value() / size
        return ece, mce, brier, log_loss


def _errors(
    count: NDArray[Any], correct: NDArray[Any], confidence: Floats
) -> tuple[Floats, Floats]:
    """ECE and MCE along the last axis (bins) from per-bin count, Σo and Σc."""
    occupied = count > 0
    safe = np.maximum(count, 1)
    gap = np.abs(correct / safe - confidence / safe)
    size = count.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ece: Floats = ((count / size[..., None]) * gap).sum(axis=-1)
    mce: Floats = np.where(occupied, gap, 0.0).max(axis=-1)
    return ece, mce


# ----------------------------------------------------------------------------- reservoir


def _entropy(seed: Seed) -> tuple[int, ...]:
    parts = [seed] if isinstance(seed, int | np.integer) else list(seed)
    if not parts or any(isinstance(s, bool) or not isinstance(s, int | np.integer) for s in parts):
        raise ValueError(f"seed must be a whole number ≥ 0 or a sequence of them, got {seed!r}")
    if any(s < 0 for s in parts):
        raise ValueError(f"seed must not be negative, got {seed!r}")
    return tuple(int(s) for s in parts)


def _generator(seed: Seed, stream: int) -> np.random.Generator:
    """Stream 0 draws the sample's keys, stream 1 the bootstrap resamples."""
    return np.random.default_rng(np.random.SeedSequence(list(_entropy(seed)), spawn_key=(stream,)))


class _Reservoir:
    """A uniform sample of at most `capacity` rows of a stream: the rows with the smallest keys.

    Every row draws a key from the seeded generator, in stream order, so the sample does not
    depend on how the stream is chunked. Rows are held in chunks and cut back to `capacity`
    whenever twice that many are held; once cut, a row whose key is above the largest kept
    key is dropped on arrival.
    """

    def __init__(self, capacity: int, seed: Seed) -> None:
        self.capacity = capacity
        self.seeds: set[tuple[int, ...]] = {_entropy(seed)}
        self._rng = _generator(seed, 0)
        self._chunks: list[dict[str, NDArray[Any]]] = []
        self._held = 0
        self._threshold = math.inf
        self.dropped = False

    def add(self, columns: dict[str, NDArray[Any]]) -> None:
        if self.capacity == 0:
            return
        n = int(next(iter(columns.values())).shape[0])
        keys = self._rng.random(n)
        if self._threshold < math.inf:
            keep = keys < self._threshold
            self.dropped = self.dropped or not keep.all()
            chunk = {name: values[keep] for name, values in columns.items()}
            chunk["key"] = keys[keep]
        else:
            chunk = {name: values.copy() for name, values in columns.items()}
            chunk["key"] = keys
        self._chunks.append(chunk)
        self._held += chunk["key"].shape[0]
        if self._held > 2 * self.capacity:
            self._cut()

    def _cut(self) -> None:
        rows = self.rows()
        if rows["key"].shape[0] > self.capacity:
            kept = np.argpartition(rows["key"], self.capacity - 1)[: self.capacity]
            rows = {name: values[kept] for name, values in rows.items()}
            self._threshold = float(rows["key"].max())
            self.dropped = True
        self._chunks = [rows]
        self._held = rows["key"].shape[0]

    def rows(self) -> dict[str, NDArray[Any]]:
        """The held rows, concatenated (not yet cut to capacity)."""
        if len(self._chunks) != 1:
            names = self._chunks[0].keys() if self._chunks else ()
            self._chunks = [
                {name: np.concatenate([c[name] for c in self._chunks]) for name in names}
            ]
        return self._chunks[0] if self._chunks else {}

    def sample(self) -> dict[str, NDArray[Any]]:
        """At most `capacity` rows, in the order of their keys."""
        if self._held > self.capacity:
            self._cut()
        rows = self.rows()
        if not rows:
            return {}
        order = np.argsort(rows["key"], kind="stable")
        return {name: values[order] for name, values in rows.items()}

    def merge(self, other: "_Reservoir") -> None:
        if other.capacity != self.capacity:
            raise ValueError(
                f"cannot merge a sample of at most {other.capacity} rows into one of "
                f"at most {self.capacity}"
            )
        if other._held == 0:
            return
        if self.seeds & other.seeds:
            raise ValueError(
                "cannot merge samples drawn with the same seed (their keys would repeat): "
                "give each partial accumulator its own seed, e.g. seed=(base, part)"
            )
        self._chunks.append(other.rows())
        self._held += other._held
        self.seeds |= other.seeds
        self.dropped = self.dropped or other.dropped
        self._threshold = min(self._threshold, other._threshold)
        if self._held > 2 * self.capacity:
            self._cut()


class ConfidenceSample:
    """A first pass for quantile bins when streaming: a bounded uniform sample of confidences.

    Keeps every confidence while at most `max_rows` have been seen, else a seeded uniform
    sample of `max_rows` of them; `edges(n_bins)` gives their percentiles (exact in the
    first case, an approximation in the second).
    """

    def __init__(
        self, *, task: Task = "binary", max_rows: int = DEFAULT_SAMPLE_ROWS, seed: Seed = 0
    ) -> None:
        _check_choice("task", task, TASKS)
        _check_whole("max_rows", max_rows, 1)
        self.task = task
        self.size = 0
        self._reservoir = _Reservoir(max_rows, seed)

    def update(self, y_score: ArrayLike) -> None:
        """Add the confidences of one chunk of scores (checked as `CalibrationStats.update`)."""
        scores = _scores(y_score, self.task)
        step = _block_rows(scores)
        for start in range(0, scores.shape[0], step):
            block = np.asarray(scores[start : start + step], dtype=np.float64)
            confidence = block if self.task == "binary" else block.max(axis=1)
            self._reservoir.add({"confidence": confidence})
        self.size += scores.shape[0]

    def merge(self, other: "ConfidenceSample") -> None:
        """Add another sample's rows (it must have been seeded differently; see the module)."""
        if other.task != self.task:
            raise ValueError(f"cannot merge a {other.task!r} sample into a {self.task!r} one")
        self._reservoir.merge(other._reservoir)
        self.size += other.size

    @property
    def exact(self) -> bool:
        """True while the sample holds every confidence seen."""
        return not self._reservoir.dropped and self.size <= self._reservoir.capacity

    def edges(self, n_bins: int) -> Floats:
        """Quantile edges (`quantile_edges`) of the sampled confidences."""
        sample = self._reservoir.sample()
        return quantile_edges(sample.get("confidence", np.empty(0)), n_bins)


# ----------------------------------------------------------------------------- groups


def _factorize(values: ArrayLike, name: str, n: int) -> tuple[NDArray[np.intp], list[str]]:
    """Codes 0..m-1 per row and the m distinct values as strings."""
    column = np.asarray(values)
    if column.ndim != 1 or column.shape[0] != n:
        raise ValueError(
            f"sensitive feature {name!r} must be 1-D with {n} rows, got shape {column.shape}"
        )
    if column.dtype.kind == "O":
        return _factorize_objects(column, name)
    if column.dtype.kind in "fc":
        missing = np.isnan(column)
    elif column.dtype.kind in "mM":
        missing = np.isnat(column)
    else:
        missing = np.zeros(0, np.bool_)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ValueError(f"sensitive feature {name!r} has a missing value at row {row}")
    uniques, codes = np.unique(column, return_inverse=True)
    labels = [str(value) for value in uniques.tolist()]
    too_long = next((label for label in labels if len(label) > _GROUP_VALUE_LIMIT), None)
    if too_long is not None:
        raise ValueError(
            f"sensitive feature {name!r} has a value longer than {_GROUP_VALUE_LIMIT} "
            f"characters: {too_long[:40]!r}..."
        )
    return codes.reshape(-1).astype(np.intp), labels


def _factorize_objects(column: NDArray[Any], name: str) -> tuple[NDArray[np.intp], list[str]]:
    """`_factorize` for object columns (what the CSV reader gives for text), by hashing.

    pandas' factorize finds the distinct values in one hashed pass (no per-row Python call,
    no sort of a million strings); missing values (None, NaN, NaT, NA) come back as -1. The
    few distinct values are then turned into sorted strings, merging any two that print
    alike (1 and "1"), so the result equals the sorting path's.
    """
    import pandas as pd

    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise ValueError(f"sensitive feature {name!r} has a missing value at row {row}")
    labels, remap = np.unique(np.asarray([str(u) for u in uniques], dtype=str), return_inverse=True)
    as_text = [str(label) for label in labels.tolist()]
    too_long = next((label for label in as_text if len(label) > _GROUP_VALUE_LIMIT), None)
    if too_long is not None:
        raise ValueError(
            f"sensitive feature {name!r} has a value longer than {_GROUP_VALUE_LIMIT} "
            f"characters: {too_long[:40]!r}..."
        )
    return remap.reshape(-1).astype(np.intp)[codes], as_text


def _intersect(
    codes: list[NDArray[np.intp]], labels: list[list[str]]
) -> tuple[NDArray[np.intp], list[tuple[str, ...]]]:
    """Codes and value tuples of the intersection of several factorized features."""
    combined = codes[0]
    keys: list[tuple[str, ...]] = [(label,) for label in labels[0]]
    for more, more_labels in zip(codes[1:], labels[1:], strict=True):
        pairs = combined.astype(np.int64) * len(more_labels) + more
        uniques, combined_codes = np.unique(pairs, return_inverse=True)
        keys = [
            keys[u // len(more_labels)] + (more_labels[u % len(more_labels)],)
            for u in uniques.tolist()
        ]
        combined = combined_codes.reshape(-1).astype(np.intp)
    return combined, keys


@dataclass
class _Breakdown:
    features: tuple[str, ...]
    table: _Table
    index: dict[tuple[str, ...], int] = field(default_factory=dict)

    def register(self, keys: list[tuple[str, ...]]) -> NDArray[np.intp]:
        """Our group index of each key, adding new groups."""
        for key in keys:
            self.index.setdefault(key, len(self.index))
        self.table.grow(len(self.index))
        return np.array([self.index[key] for key in keys], dtype=np.intp)


def _breakdown_features(names: tuple[str, ...]) -> list[tuple[str, ...]]:
    singles: list[tuple[str, ...]] = [(name,) for name in names]
    return [*singles, names] if len(names) > 1 else singles


# ----------------------------------------------------------------------------- accumulator


class CalibrationStats:
    """Additive calibration statistics: `update` chunk by chunk, `merge` parts, `result` at the end.

    Uniform bins are fixed by `n_bins`; quantile bins need their `edges` up front (from
    `quantile_edges` over the data, or `ConfidenceSample.edges` over a first pass).
    `sensitive_features` names the columns each `update` must give. The bootstrap sample
    keeps at most `sample_rows` rows (0 keeps none and allows no intervals).

    Raises
    ------
    ValueError
        On a bad option (named in the message).
    """

    def __init__(
        self,
        *,
        task: Task = "binary",
        pos_label: object = 1,
        n_bins: int = 10,
        strategy: Strategy = "uniform",
        edges: ArrayLike | None = None,
        sensitive_features: Sequence[str] = (),
        sample_rows: int = DEFAULT_SAMPLE_ROWS,
        seed: Seed = 0,
    ) -> None:
        _check_choice("task", task, TASKS)
        _check_choice("strategy", strategy, STRATEGIES)
        _check_n_bins(n_bins)
        _check_whole("sample_rows", sample_rows, 0)
        self.task: Task = task
        self.pos_label = pos_label
        self.strategy: Strategy = strategy
        self.edges = self._edges(strategy, n_bins, edges)
        self.n_bins = n_bins
        self.features = self._feature_names(sensitive_features)
        self.seed = seed
        self.size = 0
        self.n_classes: int | None = None
        self._binner = _Binner(self.edges, uniform=strategy == "uniform")
        self._labels: set[Any] = set()
        self._overall = _Table(1, n_bins)
        self._breakdowns = [
            _Breakdown(f, _Table(0, n_bins)) for f in _breakdown_features(self.features)
        ]
        self._reservoir = _Reservoir(sample_rows, seed)

    @staticmethod
    def _edges(strategy: str, n_bins: int, edges: ArrayLike | None) -> Floats:
        if strategy == "uniform":
            if edges is not None:
                raise ValueError("edges are computed for strategy='uniform'; give n_bins only")
            return uniform_edges(n_bins)
        if edges is None:
            raise ValueError(
                "strategy='quantile' needs its edges: quantile_edges(confidences, n_bins), "
                "or ConfidenceSample(...).edges(n_bins) when streaming"
            )
        given = np.asarray(edges, dtype=np.float64)
        if given.ndim != 1 or given.size != n_bins + 1:
            raise ValueError(
                f"edges must hold n_bins + 1 = {n_bins + 1} numbers, got shape {given.shape}"
            )
        _check_range(given, "edges")
        if (np.diff(given) < 0).any():
            raise ValueError(f"edges must not decrease, got {given.tolist()!r}")
        return given

    @staticmethod
    def _feature_names(names: Sequence[str]) -> tuple[str, ...]:
        if isinstance(names, str):
            raise ValueError(
                f"sensitive_features must be a sequence of names, got the string {names!r}"
            )
        features = tuple(names)
        for name in features:
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                raise ValueError(
                    f"a sensitive feature name must be 1 to 100 characters, got {name!r}"
                )
        if len(set(features)) != len(features):
            raise ValueError(f"sensitive feature names repeat: {list(features)!r}")
        return features

    def update(
        self,
        y_true: ArrayLike,
        y_score: ArrayLike,
        *,
        sensitive_features: Mapping[str, ArrayLike] | None = None,
    ) -> None:
        """Add one chunk of rows. Everything is checked before anything is added.

        Raises
        ------
        ValueError
            On scores outside [0, 1] or NaN, lengths that differ, labels that are not
            binary (binary task) or not column indices (multiclass), probability rows that
            do not sum to 1, or sensitive features that differ from those named.
        """
        scores = _scores(y_score, self.task)
        n = scores.shape[0]
        labels = _labels(y_true, n)
        seen = self._check_labels(labels, scores)
        coded = self._code_groups(sensitive_features, n)
        self._labels = seen
        if self.task == "multiclass":
            self.n_classes = scores.shape[1]
        groups = [
            breakdown.register(keys)[codes]
            for breakdown, (codes, keys) in zip(self._breakdowns, coded, strict=True)
        ]
        step = _block_rows(scores)
        for start in range(0, n, step):
            block = slice(start, start + step)
            rows = self._rows(scores[block], labels[block])
            self._overall.add_rows(rows, None)
            for breakdown, group in zip(self._breakdowns, groups, strict=True):
                breakdown.table.add_rows(rows, group[block])
            self._reservoir.add(
                {
                    "confidence": rows.confidence,
                    "correct": rows.correct,
                    "bins": rows.bins,
                    "brier": rows.brier,
                    "log_loss": rows.log_loss,
                }
            )
        self.size += n

    def _check_labels(self, labels: NDArray[Any], scores: NDArray[Any]) -> set[Any]:
        if self.task == "binary":
            seen = self._labels | _binary_label_values(labels)
            _check_binary_labels(seen, self.pos_label)
            return seen
        k = scores.shape[1]
        if self.n_classes is not None and k != self.n_classes:
            raise ValueError(f"y_score has {k} columns; earlier chunks had {self.n_classes}")
        _check_class_indices(labels, k)
        return self._labels

    def _code_groups(
        self, sensitive_features: Mapping[str, ArrayLike] | None, n: int
    ) -> list[tuple[NDArray[np.intp], list[tuple[str, ...]]]]:
        given = dict(sensitive_features) if sensitive_features is not None else {}
        if set(given) != set(self.features):
            raise ValueError(
                f"sensitive_features must give exactly {list(self.features)!r}, "
                f"got {sorted(given)!r}"
            )
        if not self.features:
            return []
        factorized = {name: _factorize(given[name], name, n) for name in self.features}
        coded = []
        for features in _breakdown_features(self.features):
            codes = [factorized[name][0] for name in features]
            labels = [factorized[name][1] for name in features]
            coded.append(_intersect(codes, labels))
        return coded

    def _rows(self, scores: NDArray[Any], labels: NDArray[Any]) -> _Rows:
        if self.task == "binary":
            rows = _binary_rows(scores, labels, self.pos_label)
        else:
            rows = _multiclass_rows(scores, labels)
        rows.bins = self._binner.assign(rows.confidence)
        return rows

    def merge(self, other: "CalibrationStats") -> None:
        """Add another accumulator's statistics (same task, labels, edges and features).

        Raises
        ------
        ValueError
            When the two differ in task, pos_label, strategy, edges, features or number of
            classes, or share a seed while their samples must drop rows.
        """
        for name in ("task", "pos_label", "strategy", "features"):
            if getattr(self, name) != getattr(other, name):
                raise ValueError(
                    f"cannot merge statistics with {name}={getattr(other, name)!r} into "
                    f"{name}={getattr(self, name)!r}"
                )
        if not np.array_equal(self.edges, other.edges):
            raise ValueError("cannot merge statistics over different bin edges")
        if None not in (self.n_classes, other.n_classes) and self.n_classes != other.n_classes:
            raise ValueError(f"cannot merge {other.n_classes} classes into {self.n_classes}")
        seen = self._labels | other._labels
        if self.task == "binary":
            _check_binary_labels(seen, self.pos_label)
        self._reservoir.merge(other._reservoir)
        self._labels = seen
        self.n_classes = self.n_classes if self.n_classes is not None else other.n_classes
        self._overall.merge(other._overall, np.zeros(1, np.intp))
        for mine, theirs in zip(self._breakdowns, other._breakdowns, strict=True):
            into = mine.register(list(theirs.index))
            mine.table.merge(theirs.table, into)
        self.size += other.size

    def result(
        self,
        *,
        min_group_size: int = 30,
        n_boot: int = 1000,
        level: float = 0.95,
        intervals: bool = True,
    ) -> CalibrationReport:
        """The report of every row added so far.

        Intervals are percentile bootstrap intervals over the sample (see the module).

        Raises
        ------
        ValueError
            With no rows, a bad option, or intervals asked of statistics built with
            sample_rows=0.
        """
        _check_whole("min_group_size", min_group_size, 0)
        _check_whole("n_boot", n_boot, 1)
        _check_level(level)
        if self.size == 0:
            raise ValueError("no rows: calibration needs at least one prediction")
        if intervals and self._reservoir.capacity == 0:
            raise ValueError(
                "intervals need a sample: these statistics were built with sample_rows=0"
            )
        ece, mce, brier, log_loss = (float(m[0]) for m in self._overall.metrics())
        bounds: dict[str, Interval | None] = dict.fromkeys(METRICS)
        if intervals:
            bounds = self._intervals(n_boot=n_boot, level=level)
        return CalibrationReport(
            task=self.task,
            bin_strategy=self.strategy,
            n_bins=self.n_bins,
            size=self.size,
            expected_calibration_error=Estimate(ece, bounds["expected_calibration_error"]),
            maximum_calibration_error=Estimate(mce, bounds["maximum_calibration_error"]),
            brier_score_loss=Estimate(brier, bounds["brier_score_loss"]),
            log_loss=Estimate(log_loss, bounds["log_loss"]),
            bins=self._bins(),
            breakdowns=tuple(_breakdown(b, min_group_size) for b in self._breakdowns),
        )

    def _bins(self) -> tuple[ReliabilityBin, ...]:
        count = self._overall.count[0]
        correct = self._overall.correct[0]
        confidence = self._overall.confidence.value()[0]
        bins = []
        for b in range(self.n_bins):
            n = int(count[b])
            bins.append(
                ReliabilityBin(
                    lower=float(self.edges[b]),
                    upper=float(self.edges[b + 1]),
                    count=n,
                    mean_confidence=float(confidence[b] / n) if n else None,
                    observed_frequency=float(correct[b] / n) if n else None,
                )
            )
        return tuple(bins)

    def _intervals(self, *, n_boot: int, level: float) -> dict[str, Interval | None]:
        sample = self._reservoir.sample()
        draws = _bootstrap(sample, self.n_bins, n_boot=n_boot, rng=_generator(self.seed, 1))
        result: dict[str, Interval | None] = {}
        for name, values in zip(METRICS, draws, strict=True):
            bounds = percentile_interval(values, level=level)  # never None: no draw is NaN
            result[name] = None if bounds is None else Interval(*bounds, level, "bootstrap")
        return result


def _breakdown(breakdown: _Breakdown, min_group_size: int) -> CalibrationBreakdown:
    table = breakdown.table
    values = table.metrics()
    size = table.count.sum(axis=1)
    groups = [
        GroupCalibration(
            group=key,
            size=int(size[i]),
            insufficient=bool(size[i] < min_group_size),
            expected_calibration_error=float(values[0][i]),
            maximum_calibration_error=float(values[1][i]),
            brier_score_loss=float(values[2][i]),
            log_loss=float(values[3][i]),
        )
        for key, i in sorted(breakdown.index.items())
    ]
    sufficient = [g for g in groups if not g.insufficient]
    gaps: dict[str, float | None] = {}
    for name in METRICS:
        found = [getattr(g, name) for g in sufficient]
        gaps[name] = max(found) - min(found) if len(found) > 1 else None
    return CalibrationBreakdown(breakdown.features, tuple(groups), gaps)


# ----------------------------------------------------------------------------- bootstrap


def _bootstrap(
    sample: dict[str, NDArray[Any]], n_bins: int, *, n_boot: int, rng: np.random.Generator
) -> tuple[Floats, Floats, Floats, Floats]:
    """n_boot resampled ECE, MCE, Brier and log loss of the sampled rows.

    Rows are sorted by cell (bin, outcome); a resample draws the cell counts from
    Multinomial(m, cell proportions), then the rows of each cell uniformly with replacement.
    """
    cell = sample["bins"].astype(np.int64) * 2 + sample["correct"]
    order = np.argsort(cell, kind="stable")
    columns = [sample[name][order] for name in ("confidence", "brier", "log_loss")]
    m = cell.size
    cells = 2 * n_bins
    counts = np.bincount(cell, minlength=cells)
    starts = np.concatenate([[0], np.cumsum(counts)])
    block = max(1, min(n_boot, _BOOT_BLOCK_ROWS // m))
    results: list[tuple[Floats, Floats, Floats, Floats]] = []
    for first in range(0, n_boot, block):
        drawn = rng.multinomial(m, counts / m, size=min(block, n_boot - first))
        sums = _cell_sums(drawn, columns, starts, rng)
        count = drawn[:, 0::2] + drawn[:, 1::2]
        confidence = sums[0][:, 0::2] + sums[0][:, 1::2]
        ece, mce = _errors(count, drawn[:, 1::2], confidence)
        results.append((ece, mce, sums[1].sum(axis=1) / m, sums[2].sum(axis=1) / m))
    ece_all, mce_all, brier_all, log_all = (
        np.concatenate(parts) for parts in zip(*results, strict=True)
    )
    return ece_all, mce_all, brier_all, log_all


def _cell_sums(
    drawn: Ints, columns: list[Floats], starts: Ints, rng: np.random.Generator
) -> list[Floats]:
    """For each column, the sum per (resample, cell) of the drawn rows' values."""
    resamples, cells = drawn.shape
    sums = [np.zeros((resamples, cells)) for _ in columns]
    for c in range(cells):
        per_resample = drawn[:, c]
        total = int(per_resample.sum())
        if total == 0:
            continue
        picked = rng.integers(starts[c], starts[c + 1], size=total)
        present = per_resample > 0
        offsets = (np.cumsum(per_resample) - per_resample)[present]
        for values, out in zip(columns, sums, strict=True):
            out[present, c] = np.add.reduceat(values[picked], offsets)
    return sums


# ----------------------------------------------------------------------------- entry point


def calibration_report(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    task: Task = "binary",
    pos_label: object = 1,
    n_bins: int = 10,
    strategy: Strategy = "uniform",
    sensitive_features: Mapping[str, ArrayLike] | None = None,
    min_group_size: int = 30,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: Seed = 0,
    intervals: bool = True,
) -> CalibrationReport:
    """Calibration of predictions held in memory (see the module for every definition).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary: labels (any two values, `pos_label` the positive one). Multiclass: the
        column index 0..k-1 of each row's true class.
    y_score : array-like of shape (n,) or (n, k)
        Binary: the positive class's probability. Multiclass: probabilities, rows summing
        to 1.
    sensitive_features : mapping of name to array-like of shape (n,), optional
        One breakdown per feature, and one for their intersection when there are several.
    intervals : bool
        Bootstrap intervals (n_boot resamples at `level`, seeded) for ECE, MCE, Brier and
        log loss, over at most DEFAULT_SAMPLE_ROWS sampled rows.

    Raises
    ------
    ValueError
        On bad input or options; the message names the value.
    """
    _check_choice("task", task, TASKS)
    _check_choice("strategy", strategy, STRATEGIES)
    _check_n_bins(n_bins)
    edges = None
    if strategy == "quantile":
        scores = _scores(y_score, task)
        confidence = scores if task == "binary" else scores.max(axis=1)
        if confidence.size == 0:
            raise ValueError("no rows: calibration needs at least one prediction")
        edges = quantile_edges(confidence, n_bins)
    stats = CalibrationStats(
        task=task,
        pos_label=pos_label,
        n_bins=n_bins,
        strategy=strategy,
        edges=edges,
        sensitive_features=tuple(sensitive_features.keys())
        if sensitive_features is not None
        else (),
        sample_rows=DEFAULT_SAMPLE_ROWS if intervals else 0,
        seed=seed,
    )
    stats.update(y_true, y_score, sensitive_features=sensitive_features)
    return stats.result(
        min_group_size=min_group_size, n_boot=n_boot, level=level, intervals=intervals
    )
