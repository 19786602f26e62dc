"""Per-row terms and the additive per-bin tables, summed with compensation."""

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evaluations.assessments.calibration.inputs import (
    _BLOCK_ROWS,
    _BLOCK_VALUES,
    _EPS,
    Floats,
    Ints,
)


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
