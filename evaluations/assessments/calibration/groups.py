"""Sensitive-feature groups: codes per row, intersections and breakdown tables."""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evaluations.assessments.calibration.inputs import _GROUP_VALUE_LIMIT
from evaluations.assessments.calibration.tables import _Table


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
