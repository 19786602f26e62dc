"""An evaluation file read for a model: features shaped to its input, integer labels.

The file is CSV or Parquet (`reading`). One column may hold the labels (`label`); the
features are every other column in file order, or exactly the columns `features` names, in
that order. Row i of the file becomes example i: its m feature values, in column order,
reshaped in C order to the model's per-example `input_shape`, so m must equal
prod(input_shape) (a 64-column file fits a (1, 8, 8) image model).

Every feature value must be a number (integers and booleans are converted to float32);
labels must be whole numbers (integers, booleans, or floats with no fractional part).
Whether they lie within the model's classes is the engine's check, once it knows how many
scores the model gives. The rows are held in memory, so a file may have at most `max_rows`.
Errors name rows from 0, the header not counted.
"""

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evaluations.assessments.modelfiles.errors import ModelRefusedError
from evaluations.assessments.reading import Format, detect_format, read_chunks, read_header

# The rows are held in memory (a 64-feature file: 256 bytes a row).
MAX_ROWS = 200_000
CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class ModelInputs:
    """x of shape (n, *input_shape), float32; y of shape (n,), int64, or None without a
    label column; `features` the columns x was read from, in order."""

    x: NDArray[np.float32]
    y: NDArray[np.int64] | None
    features: list[str]


def read_model_inputs(
    path: str | os.PathLike[str],
    *,
    input_shape: Sequence[int],
    label: str | None = None,
    features: Sequence[str] | None = None,
    max_rows: int = MAX_ROWS,
    format: Format | None = None,
) -> ModelInputs:
    """Read an evaluation file's features (shaped to `input_shape`) and labels.

    Raises
    ------
    ModelRefusedError
        `input_mismatch` when the number of feature columns differs from prod(input_shape);
        the message names both.
    ValueError
        Naming the value: a file that cannot be read, a label or feature column that is
        missing (or named twice, or both), a non-numeric or missing feature value (its
        column and row), a label that is not a whole number (its row), no rows, or more
        than `max_rows` rows.
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"max_rows must be a whole number ≥ 1, got {max_rows!r}")
    kind = detect_format(path, format=format)
    shape = tuple(int(size) for size in input_shape)
    chosen = check_columns(
        read_header(path, format=kind), input_shape=shape, label=label, features=features
    )
    x, y = _read(path, kind, chosen, label, max_rows)
    return ModelInputs(x.reshape(len(x), *shape), y, chosen)


def check_columns(
    header: Sequence[str],
    *,
    input_shape: Sequence[int],
    label: str | None = None,
    features: Sequence[str] | None = None,
) -> list[str]:
    """The feature columns a file with this header gives the model, refused as
    `read_model_inputs` would refuse them, before any row is read (the web process's check).
    """
    chosen = _feature_columns(list(header), label, features)
    _check_width(tuple(int(size) for size in input_shape), len(chosen), label, features)
    return chosen


def _check_width(
    shape: tuple[int, ...], width: int, label: str | None, features: Sequence[str] | None
) -> None:
    """Refuse a file whose number of feature columns is not the model's input size."""
    if width == math.prod(shape):
        return
    if features is not None:
        rule = "the columns named as features"
    elif label is None:
        rule = "every column: name the label column or the features to leave columns out"
    else:
        rule = f"every column but the label {label!r}"
    raise ModelRefusedError(
        "input_mismatch",
        f"The model takes examples of shape {shape} ({math.prod(shape)} values); the "
        f"evaluation file has {width} feature columns ({rule}).",
    )


def _read(
    path: str | os.PathLike[str], kind: Format, chosen: list[str], label: str | None, max_rows: int
) -> tuple[NDArray[np.float32], NDArray[np.int64] | None]:
    """The features as a float32 (rows, m) matrix and the labels, chunk by chunk."""
    columns = [*chosen, label] if label is not None else chosen
    blocks: list[NDArray[np.float32]] = []
    labels: list[NDArray[np.int64]] = []
    rows = 0
    for chunk in read_chunks(path, columns=columns, chunk_rows=CHUNK_ROWS, format=kind):
        size = len(chunk[columns[0]])
        if rows + size > max_rows:
            raise ValueError(
                f"the evaluation file has more than {max_rows:,} rows, the most a model "
                "assessment reads; evaluate a sample of it"
            )
        blocks.append(_features(chunk, chosen, first_row=rows))
        if label is not None:
            labels.append(_labels(chunk[label], label, first_row=rows))
        rows += size
    if rows == 0:
        raise ValueError("the evaluation file has no rows")
    return np.concatenate(blocks), (np.concatenate(labels) if label is not None else None)


def _feature_columns(
    header: list[str], label: str | None, features: Sequence[str] | None
) -> list[str]:
    """The feature columns: `features` as given, else every column but the label's."""
    if label is not None and label not in header:
        raise ValueError(f"no label column {label!r}; the file's columns: {_listed(header)}")
    if features is None:
        return [name for name in header if name != label]
    if isinstance(features, str):
        raise ValueError(f"features must be a sequence of column names, not {features!r}")
    chosen = list(features)
    missing = [name for name in chosen if name not in header]
    if missing:
        raise ValueError(f"no feature column {_listed(missing)}; the file's: {_listed(header)}")
    twice = sorted({name for name in chosen if chosen.count(name) > 1})
    if twice:
        raise ValueError(f"feature columns named more than once: {_listed(twice)}")
    if label is not None and label in chosen:
        raise ValueError(f"the label column {label!r} cannot also be a feature")
    return chosen


def _features(
    chunk: dict[str, NDArray[Any]], names: list[str], *, first_row: int
) -> NDArray[np.float32]:
    """One chunk's features as a float32 (rows, m) block; each column checked first."""
    block = np.empty((len(chunk[names[0]]), len(names)), dtype=np.float32)
    for index, name in enumerate(names):
        block[:, index] = _numbers(chunk[name], name, first_row=first_row)
    return block


def _numbers(values: NDArray[Any], name: str, *, first_row: int) -> NDArray[Any]:
    """A feature column as numbers: ValueError naming the column and the first bad row."""
    if values.dtype.kind not in "biuf":
        row, value = _first_value(values)
        if value is None:
            raise ValueError(
                f"feature column {name!r} has a missing value at row {first_row + row}"
            )
        raise ValueError(
            f"feature column {name!r} is not numeric: {value!r} at row {first_row + row}"
        )
    bad = ~np.isfinite(values) if values.dtype.kind == "f" else None
    if bad is not None and bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "a missing value (or NaN)" if np.isnan(values[row]) else "an infinite value"
        raise ValueError(f"feature column {name!r} has {what} at row {first_row + row}")
    return values


def _labels(values: NDArray[Any], name: str, *, first_row: int) -> NDArray[np.int64]:
    """The label column as int64 class indices: ValueError naming the first bad row."""
    if values.dtype.kind in "biu":
        return values.astype(np.int64)
    if values.dtype.kind != "f":
        row, value = _first_value(values)
        what = "a missing value" if value is None else repr(value)
        raise ValueError(
            f"label column {name!r} has {what} at row {first_row + row}; labels must be "
            "whole numbers (class indices 0..k-1)"
        )
    # Beyond 2**53 a float no longer tells whole numbers apart, nor fits int64 safely.
    bad = ~np.isfinite(values) | (values != np.round(values)) | (np.abs(values) > 2**53)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "a missing value" if np.isnan(values[row]) else repr(values[row].item())
        raise ValueError(
            f"label column {name!r} has {what} at row {first_row + row}; labels must be "
            "whole numbers (class indices 0..k-1)"
        )
    return values.astype(np.int64)


def _first_value(values: NDArray[Any]) -> tuple[int, Any]:
    """(row, value) of a column that is not numeric: its first value that is not missing
    (None, the reader's missing value), else (0, None) when every value is missing."""
    for row, value in enumerate(values):
        if value is not None:
            return row, value
    return 0, None


def _listed(names: Sequence[str], *, at_most: int = 20) -> str:
    """Names quoted and joined; past `at_most` the rest are counted, not listed."""
    shown = ", ".join(map(repr, names[:at_most]))
    return shown if len(names) <= at_most else f"{shown} and {len(names) - at_most} more"
