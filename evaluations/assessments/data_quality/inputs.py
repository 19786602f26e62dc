"""Input: chunks as columns of one length, and the checks on names."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evaluations.assessments.data_quality.common import Frame

_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}\Z")
_NAME_MAX = 100
_SPLIT_MAX = 64


def _frames(data: Frame | Iterable[Frame], what: str) -> Iterable[Frame]:
    if isinstance(data, pd.DataFrame | Mapping):
        return [data]
    if isinstance(data, str | bytes) or not isinstance(data, Iterable):
        raise ValueError(
            f"{what} must be a DataFrame, a mapping of columns or an iterable of them "
            f"(read files with reading.read_chunks), got {type(data).__name__}"
        )
    return data


def _columns(chunk: Frame) -> dict[str, NDArray[Any]]:
    """A chunk as {name: 1-D numpy array}, all of one length."""
    if isinstance(chunk, pd.DataFrame):
        if not chunk.columns.is_unique:
            twice = sorted({str(name) for name in chunk.columns[chunk.columns.duplicated()]})
            raise ValueError(f"columns named more than once: {', '.join(twice)}")
        columns = {name: _series_array(chunk[name]) for name in chunk.columns}
    elif isinstance(chunk, Mapping):
        columns = {name: _array(name, values) for name, values in chunk.items()}
    else:
        raise ValueError(
            f"a chunk must be a DataFrame or a mapping of columns, got {type(chunk).__name__}"
        )
    if not columns:
        raise ValueError("a chunk must have at least one column")
    _row_count(columns)
    return columns


def _series_array(series: pd.Series) -> NDArray[Any]:
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        return np.asarray(series.to_numpy())
    if isinstance(dtype, pd.DatetimeTZDtype):
        return np.asarray(series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if numeric and hasattr(dtype, "numpy_dtype"):
        if series.hasnans:
            return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
        return np.asarray(series.to_numpy(dtype=dtype.numpy_dtype))
    return np.asarray(series.to_numpy(dtype=object, na_value=None))


def _array(name: Any, values: Any) -> NDArray[Any]:
    if isinstance(values, pd.Series):
        array = _series_array(values)
    else:
        array = np.asarray(values)
        if array.dtype.kind in "US":
            # NumPy turns [1, "a"] into ["1", "a"]; keep the original objects instead.
            array = np.array(list(values), dtype=object)
    if array.ndim != 1:
        raise ValueError(f"column {name!r} must be 1-D, got shape {array.shape}")
    return array


def _row_count(columns: Mapping[str, NDArray[Any]]) -> int:
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns of different lengths in one chunk: {lengths}")
    return next(iter(lengths.values()), 0)


# Checks on names.


def _check_slug(value: Any, what: str) -> None:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise ValueError(f"{what} must be a slug (1-64 of a-z, A-Z, 0-9, -, _), got {value!r}")


def _check_split(value: Any) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= _SPLIT_MAX:
        raise ValueError(f"a split name must be text of 1-{_SPLIT_MAX} characters, got {value!r}")


def _check_name(value: Any, what: str) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= _NAME_MAX:
        raise ValueError(f"a {what} must be text of 1-{_NAME_MAX} characters, got {value!r:.120}")


def _difference(what: str, found: list[str], expected: list[str]) -> str:
    lacking = [name for name in expected if name not in found]
    extra = [name for name in found if name not in expected]
    return (
        f"{what} has other columns than expected: missing {lacking or 'none'}, "
        f"unexpected {extra or 'none'}"
    )
