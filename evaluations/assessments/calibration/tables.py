"""Per-row terms and the additive per-bin tables: integer counts and exact sums."""

import math
from dataclasses import dataclass, field
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
from evaluations.assessments.encoding import decode_array, encode_array


@dataclass
class _Rows:
    """Per-row quantities of one block."""

    confidence: Floats
    correct: NDArray[np.bool_]
    bins: NDArray[np.intp]
    brier: Floats
    log_loss: Floats
    _limbs: dict[str, Floats] = field(default_factory=dict)

    def limbs(self, name: str) -> Floats:
        """The exact limbs of one per-row term (see `_limbs`), computed once per block."""
        if name not in self._limbs:
            self._limbs[name] = _limbs(getattr(self, name))
        return self._limbs[name]


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

# Float sums are kept exactly, as integers: every term (all lie in [0, 64): confidences,
# Brier terms, log-loss terms) is cut into three limbs on a fixed grid, its multiple of
# 2**-26 and then two 32-bit limbs down to 2**-90 (bits below that are dropped, the same
# way for every row). Integer addition does not depend on order, so a sum is the same
# number whichever blocks, chunks, workers and merges its rows went through. A block's
# limb sums stay below 2**53 (at most 2**16 rows of limbs below 2**32), so `bincount`
# adds them exactly in float64 before they become int64.
_HIGH = 2.0**26
_LIMB = 2.0**32
_LIMB_BITS = 32
_GRID_BITS = 26 + 2 * _LIMB_BITS
_LOW_MASK = (1 << _LIMB_BITS) - 1


def _limbs(values: Floats) -> Floats:
    """(3, n) integer-valued floats a, b, c with value = a·2^-26 + b·2^-58 + c·2^-90 + rest,
    0 ≤ rest < 2^-90. Every step is exact in float64 (scaling by powers of two, floor, and
    subtracting a float's own integer part)."""
    out = np.empty((3, values.shape[0]))
    scaled = values * _HIGH
    np.floor(scaled, out=out[0])
    scaled -= out[0]
    scaled *= _LIMB
    np.floor(scaled, out=out[1])
    scaled -= out[1]
    scaled *= _LIMB
    np.floor(scaled, out=out[2])
    return out


class _Exact:
    """Elementwise exact sums of non-negative terms below 64, as int64 limbs (see above)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.limbs: Ints = np.zeros((*shape, 3), np.int64)

    def add(self, sums: NDArray[Any]) -> None:
        """Add limb sums of shape (*shape, 3) (exact integers, as floats or ints)."""
        self.limbs += sums.astype(np.int64)
        for low in (2, 1):  # carry, so the two low limbs stay below 2**32
            self.limbs[..., low - 1] += self.limbs[..., low] >> _LIMB_BITS
            self.limbs[..., low] &= _LOW_MASK

    def value(self) -> Floats:
        """The sums, each correctly rounded to float64 from its exact limbs."""
        flat = self.limbs.reshape(-1, 3).tolist()
        values = [
            math.ldexp(float((a << (2 * _LIMB_BITS)) + (b << _LIMB_BITS) + c), -_GRID_BITS)
            for a, b, c in flat
        ]
        return np.array(values, dtype=np.float64).reshape(self.limbs.shape[:-1])

    def grow(self, rows: int) -> None:
        extra = rows - self.limbs.shape[0]
        if extra > 0:
            self.limbs = np.pad(self.limbs, ((0, extra),) + ((0, 0),) * (self.limbs.ndim - 1))


@dataclass
class _Sums:
    """One block's statistics per group, as exact integers (limbs for the float sums)."""

    count: Ints  # (groups, bins)
    correct: Ints  # (groups, bins)
    confidence: Ints  # (groups, bins, 3)
    brier: Ints  # (groups, 3)
    log_loss: Ints  # (groups, 3)


def _block_sums(rows: _Rows, group: NDArray[np.intp] | None, groups: int, n_bins: int) -> _Sums:
    """The sums of one block's rows per group (`group` None: every row in group 0)."""
    g, k = groups, n_bins
    cell = rows.bins if group is None else group * k + rows.bins
    both = np.bincount(cell * 2 + rows.correct, minlength=2 * g * k).reshape(g, k, 2)
    confidence = _limb_sums(cell, rows.limbs("confidence"), g * k).reshape(g, k, 3)
    if group is None:
        # Integer-valued floats below 2**53 add up exactly in any order.
        brier = rows.limbs("brier").sum(axis=1)[None, :]
        log_loss = rows.limbs("log_loss").sum(axis=1)[None, :]
    else:
        brier = _limb_sums(group, rows.limbs("brier"), g)
        log_loss = _limb_sums(group, rows.limbs("log_loss"), g)
    return _Sums(
        both.sum(axis=2).astype(np.int64),
        both[:, :, 1].astype(np.int64),
        confidence.astype(np.int64),
        brier.astype(np.int64),
        log_loss.astype(np.int64),
    )


def _limb_sums(index: NDArray[np.intp], limbs: Floats, length: int) -> Floats:
    """Σ limbs per index value 0..length-1: shape (length, 3), exact integers as floats."""
    return np.stack([np.bincount(index, limbs[j], length) for j in range(3)], axis=-1)


class _Table:
    """The sufficient statistics of G groups over K bins: integer counts and exact sums."""

    def __init__(self, groups: int, n_bins: int) -> None:
        self.n_bins = n_bins
        self.count: Ints = np.zeros((groups, n_bins), np.int64)
        self.correct: Ints = np.zeros((groups, n_bins), np.int64)
        self.confidence = _Exact((groups, n_bins))
        self.brier = _Exact((groups,))
        self.log_loss = _Exact((groups,))

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

    def add(self, sums: "_Sums", into: NDArray[np.intp] | None = None) -> None:
        """Add one block's sums; with `into`, their group i is our group into[i] (several
        may go into one: a finer breakdown's groups summed into a coarser one's)."""

        def gather(values: Ints) -> Ints:
            if into is None:
                return values
            out = np.zeros((self.groups, *values.shape[1:]), np.int64)
            np.add.at(out, into, values)
            return out

        self.count += gather(sums.count)
        self.correct += gather(sums.correct)
        self.confidence.add(gather(sums.confidence))
        self.brier.add(gather(sums.brier))
        self.log_loss.add(gather(sums.log_loss))

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
            mine.add(spread(theirs.limbs))

    def metrics(self) -> tuple[Floats, Floats, Floats, Floats]:
        """ECE, MCE, Brier and log loss of every group (rows with zero size give NaN)."""
        size = self.count.sum(axis=1)
        ece, mce = _errors(self.count, self.correct, self.confidence.value())
        with np.errstate(invalid="ignore", divide="ignore"):
            brier = self.brier.value() / size
            log_loss = self.log_loss.value() / size
        return ece, mce, brier, log_loss

    def to_state(self) -> dict[str, Any]:
        """The table as JSON (exact: integer arrays)."""
        return {
            "count": encode_array(self.count),
            "correct": encode_array(self.correct),
            "confidence": encode_array(self.confidence.limbs),
            "brier": encode_array(self.brier.limbs),
            "log_loss": encode_array(self.log_loss.limbs),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], n_bins: int) -> "_Table":
        """The table `to_state` wrote."""
        table = cls(0, n_bins)
        table.count = decode_array(state["count"]).astype(np.int64)
        table.correct = decode_array(state["correct"]).astype(np.int64)
        table.confidence.limbs = decode_array(state["confidence"]).astype(np.int64)
        table.brier.limbs = decode_array(state["brier"]).astype(np.int64)
        table.log_loss.limbs = decode_array(state["log_loss"]).astype(np.int64)
        if table.count.shape[1:] != (n_bins,) or table.confidence.limbs.shape[-1] != 3:
            raise ValueError("a calibration table state does not match its number of bins")
        return table


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
