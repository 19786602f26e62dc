"""The checks on data, budgets, severities and options; each ValueError names the bad value."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Bounds = tuple[float, float]


@dataclass(frozen=True)
class Data:
    """Checked data: a private C-contiguous float32 copy of x, int64 labels, mutable features.

    `mutable` is a boolean mask over the flattened features of one example.
    """

    x: NDArray[np.float32]
    y: NDArray[np.int64]
    mutable: NDArray[np.bool_]
    bounds: Bounds | None

    @property
    def size(self) -> int:
        """Examples."""
        return int(self.y.shape[0])


def checked_data(x: Any, y: Any, *, input_bounds: Any, immutable_features: Sequence[int]) -> Data:
    """The data after every check on x, y, bounds and immutable feature indices."""
    features = np.array(x, dtype=np.float32, order="C", copy=True)
    labels = np.asarray(y)
    if features.ndim < 2:
        raise ValueError(f"x must have shape (n, features...), got {features.shape}")
    if features.shape[0] == 0:
        raise ValueError("x is empty: there is nothing to evaluate")
    if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise ValueError(f"y must have shape ({features.shape[0]},) like x, got {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer class indices, got dtype {labels.dtype}")
    if not np.isfinite(features).all():
        row = int(np.argwhere(~np.isfinite(features))[0][0])
        raise ValueError(f"x holds NaN or infinite values (first in row {row})")
    bounds = _checked_bounds(input_bounds, features)
    width = math.prod(features.shape[1:])
    mutable = np.ones(width, dtype=np.bool_)
    for index in immutable_features:
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise ValueError(f"immutable feature index {index!r} is not a whole number")
        if not 0 <= index < width:
            raise ValueError(f"immutable feature index {index} is outside 0..{width - 1}")
        mutable[index] = False
    return Data(features, labels.astype(np.int64), mutable, bounds)


def checked_labels(y: NDArray[np.int64], columns: int) -> None:
    """Refuse labels outside the classes the model scores (two for a single logit column)."""
    classes = max(columns, 2)
    outside = (y < 0) | (y >= classes)
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"label {int(y[row])} (row {row}) is outside the model's classes 0..{classes - 1}"
        )


def checked_levels(name: str, values: Sequence[float], *, at_most: float = math.inf) -> list[float]:
    """Budgets or severities: finite, ≥ 0 (≤ `at_most`), returned sorted without repeats."""
    levels = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ValueError(f"{name} must hold numbers, got {value!r}")
        if not math.isfinite(value) or not 0 <= value <= at_most:
            limit = "" if math.isinf(at_most) else f" and ≤ {at_most}"
            raise ValueError(f"{name} must be finite, ≥ 0{limit}; got {value!r}")
        levels.append(float(value))
    return sorted(set(levels))


def check_options(
    *, pgd_steps: int, pgd_step_size: float | None, batch_size: int, seed: int
) -> None:
    """Refuse PGD step counts and batch sizes below 1, bad step sizes and negative seeds."""
    for name, value, minimum in (
        ("pgd_steps", pgd_steps, 1),
        ("batch_size", batch_size, 1),
        ("seed", seed, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
            raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")
    if pgd_step_size is not None and not (math.isfinite(pgd_step_size) and pgd_step_size > 0):
        raise ValueError(f"pgd_step_size must be a finite number > 0, got {pgd_step_size!r}")


def _checked_bounds(input_bounds: Any, x: NDArray[np.float32]) -> Bounds | None:
    if input_bounds is None:
        return None
    if len(input_bounds) != 2:
        raise ValueError(f"input_bounds must be a pair (low, high), got {input_bounds!r}")
    low, high = float(input_bounds[0]), float(input_bounds[1])
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ValueError(f"input_bounds must be finite with low ≤ high, got {input_bounds!r}")
    if x.min() < low or x.max() > high:
        raise ValueError(
            f"x lies outside input_bounds {input_bounds!r}: "
            f"its values span [{float(x.min())}, {float(x.max())}]"
        )
    return low, high
