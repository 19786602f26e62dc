"""Exact JSON forms of numpy arrays and floats, for accumulator states kept in a database.

A part of a file processed by one worker leaves its additive state (counts, limb sums,
samples, hashes) as JSON, and the last part to finish merges them. Nothing here may lose a
bit: arrays travel as their raw little-endian bytes in base64 with their dtype and shape,
floats as `float.hex` (exact, and also for infinities, which JSON numbers cannot hold).
Decoding accepts only plain numeric and boolean dtypes and builds the array with
`numpy.frombuffer`; nothing is ever unpickled.
"""

import base64
from typing import Any

import numpy as np
from numpy.typing import NDArray

# The dtypes a state may hold: booleans, integers and floats, little-endian.
_DTYPES = frozenset({"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f4", "<f8"})


def encode_array(values: NDArray[Any]) -> dict[str, Any]:
    """{"dtype", "shape", "data"}: the array's bytes in base64, little-endian.

    Raises
    ------
    ValueError
        When the array's dtype is not boolean, integer or float.
    """
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"only boolean, integer and float arrays are encoded, got {array.dtype}")
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    data = np.ascontiguousarray(little).tobytes()
    return {
        "dtype": little.dtype.str,
        "shape": list(array.shape),
        "data": base64.b64encode(data).decode("ascii"),
    }


def decode_array(state: dict[str, Any]) -> NDArray[Any]:
    """The array `encode_array` wrote (a writable copy, in native byte order).

    Raises
    ------
    ValueError
        When the dtype is not one of the allowed ones, or the bytes do not fill the shape.
    """
    dtype = state.get("dtype")
    if dtype not in _DTYPES:
        raise ValueError(f"an encoded array has the dtype {dtype!r}, which is not allowed")
    shape = tuple(int(n) for n in state["shape"])
    raw = base64.b64decode(state["data"], validate=True)
    kind = np.dtype(dtype)
    if len(raw) != kind.itemsize * int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"an encoded array holds {len(raw)} bytes, not enough for {shape}")
    array = np.frombuffer(raw, dtype=kind).reshape(shape)
    return array.astype(kind.newbyteorder("="))


def encode_float(value: float) -> str:
    """A float as `float.hex`: exact, and defined for infinities."""
    return float(value).hex()


def decode_float(text: str) -> float:
    """The float `encode_float` wrote."""
    return float.fromhex(text)
