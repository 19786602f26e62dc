"""Normalising and hashing values: each value hashed to 64 bits in its own domain."""

import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pandas.util import hash_array

from evaluations.assessments.data_quality.common import F64, U64, Kind

_EXACT_FLOAT_INT = 2**53


# Every value is hashed to 64 bits in its own domain (numbers, text, ...), and a row's hash
# combines its values' hashes in column-name order. Two different rows share a hash with
# probability about n**2 / 2**65 among n distinct rows (birthday bound): 3e-8 at a million
# rows, 3e-4 at a hundred million. Duplicates and overlap are exact up to that: a
# collision would count two different rows as one. The hashes are not cryptographic: they
# guard against chance, not against someone crafting rows to collide in their own data.
_MISSING = np.uint64(0x6D69737369E6E700)
_NUMBER = np.uint64(0x9E3779B97F4A7C15)
_WIDE_INTEGER = np.uint64(0xD1B54A32D192ED03)
_TEXT = np.uint64(0x8CB92BA72F3D8DD7)
_TIME = np.uint64(0xA0761D6478BD642F)
_ROW = np.uint64(0xE7037ED1A0B428DB)
_SAMPLE = np.uint64(0x8EBC6AF09C88C6E3)


@dataclass(frozen=True)
class _Normalised:
    """A column's values as hashes (missing: one marker), with what its keys need."""

    kind: Kind
    hashes: U64
    missing: NDArray[np.bool_]
    # The number at each position (NaN where missing or not a number).
    numbers: F64 | None
    # The normalised text at each position (None where not text).
    text: NDArray[Any] | None
    raw: NDArray[Any]

    def key(self, at: int) -> str:
        """The value at `at` as a metrics key."""
        if self.text is not None and self.text[at] is not None:
            return str(self.text[at])
        raw = self.raw[at]
        if isinstance(raw, int | np.integer) and not isinstance(raw, bool | np.bool_):
            return str(int(raw))  # exact, also beyond 2**53
        if self.numbers is not None and not np.isnan(self.numbers[at]):
            return _number_key(float(self.numbers[at]))
        return str(raw)


def _normalise(name: str, values: NDArray[Any]) -> _Normalised:
    dtype = values.dtype
    if dtype.kind in "biuf":
        return _normalise_numbers(values)
    if dtype.kind in "mM":
        return _normalise_times(values)
    if dtype.kind == "O":
        missing = np.asarray(pd.isna(values), dtype=bool)
        present = values[~missing]
        if pd.api.types.infer_dtype(present, skipna=False) in ("string", "empty"):
            return _normalise_text(values)
        return _normalise_objects(name, values, missing)
    raise ValueError(f"column {name!r} has the numpy type {dtype}, which is not compared")


def _normalise_numbers(values: NDArray[Any]) -> _Normalised:
    numbers = values.astype(np.float64)
    missing = np.isnan(numbers)
    # Adding 0.0 turns -0.0 into 0.0, so both hash alike.
    hashes = _mix((numbers + 0.0).view(np.uint64) ^ _NUMBER)
    if values.dtype.kind in "iu":
        with np.errstate(invalid="ignore"):
            wide = numbers.astype(values.dtype) != values
        if wide.any():
            # An integer that no double holds exactly keeps its own value.
            bits = values[wide].astype(np.uint64 if values.dtype.kind == "u" else np.int64)
            hashes[wide] = _mix(bits.view(np.uint64) ^ _WIDE_INTEGER)
    hashes[missing] = _MISSING
    kind: Kind = "category" if values.dtype.kind == "b" else "number"
    if missing.all():
        kind = "empty"
    return _Normalised(kind, hashes, missing, numbers, None, values)


def _normalise_times(values: NDArray[Any]) -> _Normalised:
    unit = "datetime64[ns]" if values.dtype.kind == "M" else "timedelta64[ns]"
    ticks = values.astype(unit).view(np.int64)
    missing = np.isnat(values)
    hashes = _mix(ticks.view(np.uint64) ^ _TIME)
    hashes[missing] = _MISSING
    return _Normalised("empty" if missing.all() else "other", hashes, missing, None, None, values)


def _normalise_text(values: NDArray[Any]) -> _Normalised:
    """Text (or missing values) only: each distinct value is normalised and hashed once."""
    codes, distinct = pd.factorize(values)  # missing values get the code -1
    normal = np.array(
        [unicodedata.normalize("NFC", value).strip() for value in distinct] + [None], dtype=object
    )
    hashes = np.append(_mix(hash_array(normal[:-1], categorize=False) ^ _TEXT), _MISSING)
    blank = normal == ""
    hashes[blank] = _MISSING
    missing = (codes == -1) | blank[codes]
    kind: Kind = "empty" if missing.all() else "category"
    return _Normalised(kind, hashes[codes], missing, None, normal[codes], values)


def _normalise_objects(name: str, values: NDArray[Any], missing: NDArray[np.bool_]) -> _Normalised:
    """A column of mixed Python objects, one value at a time: numbers, booleans and text."""
    numbers = np.full(len(values), np.nan)
    text = np.full(len(values), None, dtype=object)
    booleans = np.zeros(len(values), dtype=bool)
    wide: list[int] = []
    for at in np.flatnonzero(~missing).tolist():
        value = values[at]
        if isinstance(value, str):
            text[at] = unicodedata.normalize("NFC", value).strip()
        elif isinstance(value, bool | np.bool_):
            numbers[at] = float(value)
            booleans[at] = True
        elif isinstance(value, float | np.floating):
            numbers[at] = float(value)
        elif isinstance(value, int | np.integer):
            exact, rounded = int(value), _float_of(name, int(value))
            numbers[at] = rounded
            if rounded != exact:  # Python compares an int and a float exactly; numpy does not
                wide.append(at)
        else:
            raise ValueError(
                f"column {name!r} holds a {type(value).__name__} ({value!r:.40}); only numbers, "
                "text, booleans and missing values are compared"
            )
    missing = missing | (text == "")
    hashes = _objects_hashed(values, missing, numbers, text, wide)
    is_number = ~np.isnan(numbers) & ~booleans
    is_category = ~missing & ~is_number
    kind: Kind = "mixed" if is_number.any() and is_category.any() else "empty"
    if is_number.any() != is_category.any():
        kind = "number" if is_number.any() else "category"
    return _Normalised(kind, hashes, missing, numbers, text, values)


def _objects_hashed(
    values: NDArray[Any],
    missing: NDArray[np.bool_],
    numbers: F64,
    text: NDArray[Any],
    wide: list[int],
) -> U64:
    hashes = np.full(len(values), _MISSING, dtype=np.uint64)
    is_number = ~np.isnan(numbers)
    hashes[is_number] = _mix((numbers[is_number] + 0.0).view(np.uint64) ^ _NUMBER)
    is_text = ~missing & ~is_number
    if is_text.any():
        hashes[is_text] = _mix(hash_array(text[is_text], categorize=True) ^ _TEXT)
    for at in wide:
        value = int(values[at])
        if -(2**63) <= value < 2**64:
            # The 64 bits of an int64 or uint64 array holding it, as _normalise_numbers hashes.
            bits = np.array([value % 2**64], dtype=np.uint64)
            hashes[at] = _mix(bits ^ _WIDE_INTEGER)[0]
        else:
            text[at] = str(value)
            hashes[at] = _mix(hash_array(text[at : at + 1]) ^ _WIDE_INTEGER)[0]
    return hashes


def _float_of(name: str, value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"column {name!r} holds an integer too large for a float") from None


def _row_hashes(columns: list[_Normalised], count: int) -> U64:
    """One hash per row, combining its values' hashes in column-name order."""
    hashes = np.full(count, _ROW, dtype=np.uint64)
    for column in columns:
        hashes = _mix(hashes ^ column.hashes)
    return hashes


def _mix(x: U64) -> U64:
    """splitmix64's finaliser: a bijection of 64-bit words that spreads every input bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _number_key(value: float) -> str:
    if value.is_integer() and abs(value) <= _EXACT_FLOAT_INT:
        return str(int(value))
    return repr(value)
