"""Confusion counts per group: the additive sufficient statistics of every fairness metric.

Every group metric riskreg reports (selection rate, true and false positive rates, ...)
and every between-group aggregate is a function of four counts per group::

    tn = #(label 0, prediction 0)    fp = #(label 0, prediction 1)
    fn = #(label 1, prediction 0)    tp = #(label 1, prediction 1)

`ConfusionCounts` keeps them per intersection group (one value of every sensitive
feature), as integers. Counts of disjoint chunks of rows add up exactly, so a file is
streamed chunk by chunk (`update`), split across workers and combined (`merge`) with the
same result as one pass over all rows, in any order. The counts of one feature, of any
set of features and overall are sums of the intersection counts (`table`).

Counting is vectorised: each sensitive column is factorised once per chunk (by hashing,
not sorting), the codes are combined into one group index, and one `np.bincount` counts
all cells; no Python step runs per row, only per group.

Inputs
------
Labels and predictions are binary: {0, 1}, booleans, or any two values one of which is
`pos_label` (the positive outcome; 1 by default, and True counts as 1). Every value other
than `pos_label` is the negative outcome, so across y_true, y_pred and every chunk counted
so far at most one such value may appear. Sensitive features are any one-dimensional
arrays (numpy, pandas, lists); their values become strings with `str()` (1 → "1",
True → "True"; bytes are decoded as UTF-8), and two values that give the same string are
the same group. Missing
values (None, NaN, NaT, pd.NA) are refused in labels, predictions and sensitive features.
"""

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

# A label value: what positive_label may be in an evidence document.
Label = str | int | float | bool
# A group: its value of each feature, in the order of the features.
Group = tuple[str, ...]

# The four cells of one group, in this order; a row's cell is 2 * label + prediction.
CELLS = ("tn", "fp", "fn", "tp")
TN, FP, FN, TP = range(4)

# Groups are indexed by the product of the features' codes while there are no more such
# combinations than rows (or this many), so the count table stays as small as the chunk;
# past that (features with very many values), by the combinations that occur.
_DENSE_COMBINATIONS = 2**12
# Multiplier of the rolling hash of fixed-width strings (a prime; uint64 wraps around).
_HASH_PRIME = np.uint64(1_000_003)
_SHOWN_VALUES = 10


@dataclass(frozen=True)
class CountTable:
    """Confusion counts of the groups of some features.

    Attributes
    ----------
    features : tuple of str
        The features the groups are made of; () for the overall counts.
    groups : tuple of Group
        The groups, sorted; each is its value of each feature.
    cells : ndarray of int64, shape (len(groups), 4)
        Counts per group in CELLS order: tn, fp, fn, tp.
    """

    features: tuple[str, ...]
    groups: tuple[Group, ...]
    cells: NDArray[np.int64]


class ConfusionCounts:
    """Mutable confusion counts per intersection group of some sensitive features.

    Parameters
    ----------
    features : sequence of str
        The sensitive feature names, in the order groups are written.
    pos_label : str, int, float or bool, default 1
        The label value of the positive outcome.

    Raises
    ------
    ValueError
        When no feature is named, a name is empty, not a string or repeated, or pos_label
        is not a string, number or boolean (or is NaN).
    """

    __hash__ = None  # type: ignore[assignment]  # mutable: equal counts, no hash

    def __init__(self, features: Sequence[str], *, pos_label: Label = 1) -> None:
        self._features = _check_features(features)
        self._pos_label = _check_pos_label(pos_label)
        self._cells: dict[Group, NDArray[np.int64]] = {}
        self._labels: list[Label] = []

    @classmethod
    def from_cells(
        cls,
        features: Sequence[str],
        cells: Mapping[Group, Sequence[int]],
        *,
        pos_label: Label = 1,
    ) -> "ConfusionCounts":
        """Counts given directly: {group: (tn, fp, fn, tp)}; a group may count 0 rows.

        Raises
        ------
        ValueError
            When a group does not give one string per feature, or its counts are not four
            whole numbers ≥ 0.
        """
        counts = cls(features, pos_label=pos_label)
        for group, row in cells.items():
            counts._add(_check_group(group, counts._features), _check_cells(row, group))
        return counts

    @property
    def features(self) -> tuple[str, ...]:
        """The sensitive feature names, in group order."""
        return self._features

    @property
    def pos_label(self) -> Label:
        """The label value of the positive outcome."""
        return self._pos_label

    @property
    def labels_seen(self) -> tuple[Label, ...]:
        """The label values met so far in y_true and y_pred (at most two)."""
        return tuple(self._labels)

    @property
    def size(self) -> int:
        """The number of rows counted."""
        return sum(int(row.sum()) for row in self._cells.values())

    def update(
        self, y_true: ArrayLike, y_pred: ArrayLike, sensitive: Mapping[str, ArrayLike]
    ) -> None:
        """Count one chunk of rows: labels, predictions and each sensitive feature's values.

        Nothing is counted when the chunk is refused.

        Raises
        ------
        ValueError
            When the arrays differ in length, are not one-dimensional, hold missing values,
            or the labels are not binary with pos_label among them (see the module
            docstring); when `sensitive` does not name exactly the features.
        """
        columns = [sensitive[name] for name in self._check_names(sensitive)]
        _check_lengths(y_true, y_pred, columns, self._features)
        truth, found_true = _binary(y_true, "y_true", self._pos_label)
        predicted, found_pred = _binary(y_pred, "y_pred", self._pos_label)
        labels = self._checked_labels([*self._labels, *found_true, *found_pred])
        factorised = [
            _factorize(column, name) for column, name in zip(columns, self._features, strict=True)
        ]
        values = [names for _, names in factorised]
        keys, table = _count(
            truth, predicted, [codes for codes, _ in factorised], [len(v) for v in values]
        )
        self._labels = labels
        for key, row in zip(keys, table, strict=True):
            self._add(tuple(v[code] for v, code in zip(values, key, strict=True)), row)

    def merge(self, other: "ConfusionCounts") -> None:
        """Add the counts of `other` (same features and pos_label) to these: exact addition.

        Raises
        ------
        ValueError
            When the features or pos_label differ, or the two together met more than two
            label values.
        """
        if not isinstance(other, ConfusionCounts):
            raise ValueError(f"can only merge ConfusionCounts, got {type(other).__name__}")
        if other._features != self._features:
            raise ValueError(
                f"cannot merge counts of features {list(other._features)} "
                f"into counts of {list(self._features)}"
            )
        if not _same_label(other._pos_label, self._pos_label):
            raise ValueError(
                f"cannot merge counts with pos_label {other._pos_label!r} "
                f"into counts with pos_label {self._pos_label!r}"
            )
        self._labels = self._checked_labels([*self._labels, *other._labels])
        for group, row in other._cells.items():
            self._add(group, row)

    def copy(self) -> "ConfusionCounts":
        """An independent copy."""
        twin = ConfusionCounts(self._features, pos_label=self._pos_label)
        twin._cells = {group: row.copy() for group, row in self._cells.items()}
        twin._labels = list(self._labels)
        return twin

    def to_state(self) -> dict[str, Any]:
        """The counts as JSON (integers), for `from_state` in another process."""
        groups = list(self._cells)
        cells = np.array([self._cells[g] for g in groups], dtype=np.int64).reshape(len(groups), 4)
        return {
            "features": list(self._features),
            "pos_label": self._pos_label,
            "labels": list(self._labels),
            "groups": [list(group) for group in groups],
            "cells": cells.tolist(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "ConfusionCounts":
        """The counts `to_state` wrote.

        Raises
        ------
        ValueError
            When the state is not one `to_state` could have written (bad groups or counts,
            more than two labels).
        """
        groups = [tuple(group) for group in state["groups"]]
        if len(groups) != len(state["cells"]):
            raise ValueError("a counts state names as many groups as it has rows of counts")
        counts = cls.from_cells(
            state["features"],
            dict(zip(groups, state["cells"], strict=True)),
            pos_label=state["pos_label"],
        )
        counts._labels = counts._checked_labels(list(state["labels"]))
        return counts

    def table(self, features: Sequence[str] | None = None) -> CountTable:
        """The counts per group of `features` (all of them by default; () for overall).

        Raises
        ------
        ValueError
            When a name is not one of the counted features, or is repeated.
        """
        chosen = self._features if features is None else tuple(features)
        if len(set(chosen)) != len(chosen) or not set(chosen) <= set(self._features):
            raise ValueError(
                f"features must be distinct names among {list(self._features)}, got {list(chosen)}"
            )
        positions = [self._features.index(name) for name in chosen]
        sums: dict[Group, NDArray[np.int64]] = {}
        for group, row in self._cells.items():
            key = tuple(group[i] for i in positions)
            sums[key] = sums[key] + row if key in sums else row.copy()
        groups = tuple(sorted(sums))
        cells = np.array([sums[g] for g in groups], dtype=np.int64).reshape(len(groups), 4)
        return CountTable(features=chosen, groups=groups, cells=cells)

    def by_feature(self, feature: str) -> CountTable:
        """The counts per value of one feature."""
        return self.table([feature])

    def intersection(self) -> CountTable:
        """The counts per intersection group (one value of every feature)."""
        return self.table()

    def overall(self) -> NDArray[np.int64]:
        """The counts over every row: (tn, fp, fn, tp)."""
        total = np.zeros(4, dtype=np.int64)
        for row in self._cells.values():
            total += row
        return total

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfusionCounts):
            return NotImplemented
        return (
            self._features == other._features
            and _same_label(self._pos_label, other._pos_label)
            and self._cells.keys() == other._cells.keys()
            and all(np.array_equal(row, other._cells[g]) for g, row in self._cells.items())
        )

    def __repr__(self) -> str:
        return (
            f"ConfusionCounts(features={list(self._features)}, pos_label={self._pos_label!r}, "
            f"groups={len(self._cells)}, size={self.size})"
        )

    def _add(self, group: Group, row: NDArray[np.int64]) -> None:
        if group in self._cells:
            self._cells[group] = self._cells[group] + row
        else:
            self._cells[group] = np.array(row, dtype=np.int64)

    def _check_names(self, sensitive: Mapping[str, ArrayLike]) -> tuple[str, ...]:
        names = list(sensitive.keys())
        if set(names) != set(self._features) or len(names) != len(self._features):
            raise ValueError(
                f"sensitive features must be exactly {list(self._features)}, got {names}"
            )
        return self._features

    def _checked_labels(self, values: list[Any]) -> list[Label]:
        """The distinct label values; refused when more than two or pos_label is not one."""
        labels = _distinct(values)
        if len(labels) > 2:
            raise ValueError(
                f"labels must be binary: y_true and y_pred (with the rows counted before) "
                f"hold {len(labels)} values: {_show(labels)}"
            )
        if len(labels) == 2 and not any(_same_label(v, self._pos_label) for v in labels):
            raise ValueError(
                f"pos_label {self._pos_label!r} is not one of the label values found: "
                f"{_show(labels)}"
            )
        return labels


# Checking the arguments.


def _check_features(features: Sequence[str]) -> tuple[str, ...]:
    if isinstance(features, str):
        raise ValueError(f"features must be a sequence of names, got the string {features!r}")
    names = tuple(features)
    if not names:
        raise ValueError("name at least one sensitive feature")
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a sensitive feature name must be a non-empty string, got {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"sensitive feature names must be distinct, got {list(names)}")
    return names


def _check_pos_label(pos_label: Any) -> Label:
    value = pos_label.item() if isinstance(pos_label, np.generic) else pos_label
    if not isinstance(value, str | int | float | bool):
        raise ValueError(f"pos_label must be a string, number or boolean, got {pos_label!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"pos_label must be a finite number, got {pos_label!r}")
    return value


def _check_group(group: Any, features: tuple[str, ...]) -> Group:
    if (
        not isinstance(group, tuple)
        or len(group) != len(features)
        or not all(isinstance(v, str) for v in group)
    ):
        raise ValueError(
            f"a group must be a tuple of {len(features)} strings (one per feature), got {group!r}"
        )
    return group


def _check_cells(row: Sequence[int], group: Group) -> NDArray[np.int64]:
    cells = np.asarray(row)
    if cells.shape != (4,) or not np.issubdtype(cells.dtype, np.integer) or (cells < 0).any():
        raise ValueError(
            f"the counts of group {group!r} must be four whole numbers ≥ 0 "
            f"(tn, fp, fn, tp), got {row!r}"
        )
    return cells.astype(np.int64)


def _check_lengths(
    y_true: ArrayLike, y_pred: ArrayLike, columns: list[ArrayLike], features: tuple[str, ...]
) -> None:
    lengths = {"y_true": _length(y_true, "y_true"), "y_pred": _length(y_pred, "y_pred")}
    for name, column in zip(features, columns, strict=True):
        lengths[f"sensitive feature {name!r}"] = _length(column, f"sensitive feature {name!r}")
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"every array needs one value per row, but {shown}")


def _length(values: ArrayLike, name: str) -> int:
    shape = np.shape(values)
    if len(shape) != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {shape}")
    return int(shape[0])


# Labels and predictions.


def _binary(values: ArrayLike, name: str, pos_label: Label) -> tuple[NDArray[np.bool_], list[Any]]:
    """Where `values` equal pos_label, and the distinct values found (at most two)."""
    array = _numpy_if_plain(values)
    if isinstance(array, np.ndarray) and array.dtype.kind in "biuf":
        return _binary_numeric(array, name, pos_label)
    codes, uniques = _factorize_raw(array)
    _refuse_missing(codes, name)
    found = _python_values(uniques)
    _refuse_non_binary(found, name)
    positive = _index_of(found, pos_label)
    if positive is None:
        return np.zeros(len(codes), dtype=np.bool_), found
    return codes == positive, found


def _binary_numeric(
    array: NDArray[Any], name: str, pos_label: Label
) -> tuple[NDArray[np.bool_], list[Any]]:
    """The numeric and boolean case: min, max and two comparisons, no hashing."""
    if array.size == 0:
        return np.zeros(0, dtype=np.bool_), []
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValueError(f"{name} has {int(np.isnan(array).sum())} missing values (NaN)")
    low, high = array.min(), array.max()
    found = _python_values([low] if low == high else [low, high])
    if (
        len(found) == 2
        and np.count_nonzero(array == low) + np.count_nonzero(array == high) != array.size
    ):
        _refuse_non_binary(_python_values(np.unique(array)), name)
    positive = _index_of(found, pos_label)
    if positive is None:
        return np.zeros(array.size, dtype=np.bool_), found
    if array.dtype.kind == "b":
        return array if found[positive] else ~array, found
    return array == found[positive], found


def _refuse_non_binary(found: list[Any], name: str) -> None:
    if len(found) > 2:
        raise ValueError(f"{name} must be binary, but holds {len(found)} values: {_show(found)}")


def _index_of(found: list[Any], pos_label: Label) -> int | None:
    return next((i for i, value in enumerate(found) if _same_label(value, pos_label)), None)


def _same_label(a: Any, b: Any) -> bool:
    """Equal as label values: 1 == 1.0 == True, but "1" is not 1."""
    return isinstance(a, str) == isinstance(b, str) and bool(a == b)


def _distinct(values: list[Any]) -> list[Any]:
    found: list[Any] = []
    for value in values:
        if not any(_same_label(value, seen) for seen in found):
            found.append(value)
    return found


# Sensitive features.


def _factorize(values: ArrayLike, name: str) -> tuple[NDArray[np.intp], list[str]]:
    """Integer codes of a sensitive column and the group value (a string) of each code."""
    codes, uniques = _factorize_raw(_numpy_if_plain(values))
    _refuse_missing(codes, f"sensitive feature {name!r}")
    labels = [_text(value) for value in _python_values(uniques)]
    if len(set(labels)) == len(labels):
        return codes, labels
    # Values such as 1 and "1" are one group once written as strings.
    merged, remap = np.unique(np.array(labels, dtype=object), return_inverse=True)
    return remap.astype(np.intp)[codes], [str(v) for v in merged]


def _factorize_raw(array: Any) -> tuple[NDArray[np.intp], Any]:
    """Codes (-1 where missing) and the distinct values, in order of first appearance."""
    if isinstance(array, np.ndarray) and array.dtype.kind in "US" and array.size > 0:
        return _factorize_fixed_width(array)
    codes, uniques = pd.factorize(array)
    return np.asarray(codes, dtype=np.intp), uniques


def _factorize_fixed_width(array: NDArray[Any]) -> tuple[NDArray[np.intp], NDArray[Any]]:
    """pd.factorize for numpy str or bytes arrays, several times faster.

    pandas would first turn every fixed-width string into a Python object. Instead each
    string's code units (4 bytes each for str, 1 for bytes) become one uint64 key per row:
    exactly when the string fits in 8 bytes of Latin-1 (`_factorize_packed`), else by a
    rolling hash whose result is checked against the strings (`_factorize_hashed`).
    """
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    width = 4 if array.dtype.kind == "U" else 1
    units = np.ascontiguousarray(array).view(f"u{width}").reshape(array.size, -1)
    if sys.byteorder == "little" and 0 < units.shape[1] <= 8 and units.max() < 256:
        return _factorize_packed(array, units)
    return _factorize_hashed(array, units)


def _factorize_packed(
    array: NDArray[Any], units: NDArray[Any]
) -> tuple[NDArray[np.intp], NDArray[Any]]:
    """Strings of at most 8 code units below 256: their bytes, read as one uint64, are the key.

    The code units are copied as bytes into one buffer, row after row; reading a uint64
    at each row's offset and keeping its low `width` bytes (little-endian) gives the row's
    bytes exactly, so equal keys are equal strings, and each distinct key decodes back
    into its string.
    """
    rows, width = units.shape
    packed = np.zeros(rows * width + 8, dtype=np.uint8)
    packed[: rows * width] = units.ravel()
    windows = np.ndarray((rows,), dtype=np.uint64, buffer=packed, strides=(width,))
    keys = windows & np.uint64((1 << (8 * width)) - 1)
    codes, uniques = pd.factorize(keys)
    unique_units = np.asarray(uniques, dtype=np.uint64).view(np.uint8).reshape(-1, 8)[:, :width]
    values = np.ascontiguousarray(unique_units.astype(units.dtype)).view(array.dtype).ravel()
    return np.asarray(codes, dtype=np.intp), values


def _factorize_hashed(
    array: NDArray[Any], units: NDArray[Any]
) -> tuple[NDArray[np.intp], NDArray[Any]]:
    """Longer strings: a rolling hash of the code units, checked against the strings.

    On a hash collision (never seen in practice, but possible) the check fails and the
    strings are factorised by sorting instead.
    """
    hashed = units[:, 0].astype(np.uint64)
    for column in range(1, units.shape[1]):
        hashed *= _HASH_PRIME
        hashed += units[:, column]
    codes = np.asarray(pd.factorize(hashed)[0], dtype=np.intp)
    # Codes appear in order of first appearance, so the running maximum steps up by one
    # exactly at each code's first row.
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1))
    uniques = array[first]
    if np.array_equal(uniques[codes], array):
        return codes, uniques
    sorted_uniques, inverse = np.unique(array, return_inverse=True)
    return inverse.astype(np.intp).ravel(), sorted_uniques


def _refuse_missing(codes: NDArray[np.intp], name: str) -> None:
    missing = int(np.count_nonzero(codes < 0))
    if missing:
        raise ValueError(f"{name} has {missing} missing values (None, NaN or NA)")


# Counting.


def _count(
    truth: NDArray[np.bool_],
    predicted: NDArray[np.bool_],
    codes: list[NDArray[np.intp]],
    sizes: list[int],
) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
    """The groups that occur (one code per feature) and their counts (tn, fp, fn, tp)."""
    if truth.size == 0:
        return np.zeros((0, len(codes)), dtype=np.intp), np.zeros((0, 4), dtype=np.int64)
    cell = (truth.view(np.uint8) << 1) | predicted.view(np.uint8)
    combinations = math.prod(sizes)
    if combinations <= max(_DENSE_COMBINATIONS, truth.size):
        index = np.ravel_multi_index(tuple(codes), tuple(sizes)) if len(codes) > 1 else codes[0]
        table = np.bincount(index * 4 + cell, minlength=combinations * 4).reshape(-1, 4)
        present = np.flatnonzero(table.any(axis=1))
        keys = np.stack(np.unravel_index(present, tuple(sizes)), axis=1)
        return keys, table[present].astype(np.int64, copy=False)
    keys, index = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
    table = np.bincount(index.ravel() * 4 + cell, minlength=len(keys) * 4).reshape(-1, 4)
    return keys, table.astype(np.int64, copy=False)


# Small helpers.


def _is_pandas(values: Any) -> bool:
    return isinstance(
        values, pd.Series | pd.Index | pd.Categorical | pd.api.extensions.ExtensionArray
    )


def _numpy_if_plain(values: Any) -> Any:
    """A numpy array, unless pandas holds the values in its own (nullable, Arrow) dtype."""
    if not _is_pandas(values):
        return np.asarray(values)
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
        return values.to_numpy()
    return values


def _python_values(values: Any) -> list[Any]:
    """Numpy scalars as Python values (np.int64(1) → 1), for messages and comparisons."""
    return [v.item() if isinstance(v, np.generic) else v for v in list(values)]


def _text(value: Any) -> str:
    """A group value as text: bytes decoded as UTF-8, anything else through str()."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)


def _show(values: list[Any]) -> str:
    shown = ", ".join(repr(v) for v in values[:_SHOWN_VALUES])
    more = len(values) - _SHOWN_VALUES
    return f"{shown}, … ({more} more)" if more > 0 else shown
