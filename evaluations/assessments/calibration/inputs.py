"""Calibration inputs: shared types and constants, and the checks on scores, labels and options."""

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

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
