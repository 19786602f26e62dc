"""Confidence intervals for what a confusion table gives: rates, differences, anything else.

Three methods, each for the quantity it suits:

* `wilson` — a single rate x / n (a group's selection rate, true positive rate, ...).
  Wilson's score interval (Wilson 1927; method 3 of Newcombe 1998a) stays inside [0, 1]
  and keeps close to its nominal coverage for small n and for rates near 0 or 1, where
  the normal ("Wald") interval fails.
* `newcombe` — a difference of two independent rates x1 / n1 - x2 / n2. Newcombe's hybrid
  score interval (method 10 of Newcombe 1998b) combines the two Wilson intervals.
* `bootstrap` — anything else computed from confusion counts (ratios, the larger of two
  differences, any max or min over groups). Sampling n rows with replacement from a table
  of n rows makes the cell counts Multinomial(n, observed cell proportions); drawing that
  multinomial directly gives the row bootstrap's distribution exactly, for any statistic
  of the cell counts, at a cost that depends on the number of cells, not of rows. The
  interval is the percentile interval of the statistic over the resamples.

References
----------
Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    J Am Stat Assoc 22:209-212.
Newcombe RG (1998a). Two-sided confidence intervals for the single proportion: comparison
    of seven methods. Stat Med 17:857-872.
Newcombe RG (1998b). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Stat Med 17:873-890.
Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap, ch. 13 (percentile
    intervals).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Resamples are drawn and evaluated in blocks of at most this many cells, so that a wide
# table (thousands of intersection groups) never needs n_boot x cells integers at once.
_BLOCK_CELLS = 2**22

# A statistic of resampled counts: (resamples, cells) integers -> (resamples,) or
# (resamples, statistics) floats, NaN where the statistic is undefined for a resample.
Statistic = Callable[[NDArray[np.int64]], NDArray[np.float64]]


@dataclass(frozen=True)
class Interval:
    """A confidence interval: its bounds, its level (0.95) and the method that gave it."""

    low: float
    high: float
    level: float
    method: str

    def to_dict(self) -> dict[str, float | str]:
        """The interval as evidence documents write it: {low, high, level, method}."""
        return {"low": self.low, "high": self.high, "level": self.level, "method": self.method}


def normal_quantile(level: float) -> float:
    """z with P(-z < Z < z) = level for a standard normal Z (1.959964 for 0.95).

    Raises
    ------
    ValueError
        When `level` is not a number strictly between 0 and 1.
    """
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    return NormalDist().inv_cdf(1 - (1 - level) / 2)


def wilson(successes: int, trials: int, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for the rate successes / trials.

    With x successes in n trials, p = x / n and z the normal quantile of `level`::

        centre = (x + z²/2) / (n + z²)
        half   = z / (n + z²) * sqrt(x (n - x) / n + z²/4)
        (low, high) = (centre - half, centre + half)

    In exact arithmetic low = 0 when x = 0 and high = 1 when x = n; those ends are set
    exactly, and the bounds clipped to [0, 1], so that rounding cannot leave them outside.

    Raises
    ------
    ValueError
        When trials < 1, or successes lies outside 0..trials, or `level` outside (0, 1).
    """
    _check_counts(successes, trials)
    z = normal_quantile(level)
    x, n, z2 = float(successes), float(trials), z * z
    centre = (x + z2 / 2) / (n + z2)
    half = z / (n + z2) * math.sqrt(x * (n - x) / n + z2 / 4)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def newcombe(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for the difference of rates x1 / n1 - x2 / n2.

    With p1 = x1 / n1, p2 = x2 / n2, D = p1 - p2 and (l1, u1), (l2, u2) their Wilson
    intervals at `level` (method 10 of Newcombe 1998b)::

        low  = D - sqrt((p1 - l1)² + (u2 - p2)²)
        high = D + sqrt((u1 - p1)² + (p2 - l2)²)

    The two samples must be independent (different groups, as between-group differences
    are). The bounds lie in [-1, 1].

    Raises
    ------
    ValueError
        When a count is impossible (n < 1, x outside 0..n) or `level` lies outside (0, 1).
    """
    l1, u1 = wilson(x1, n1, level=level)
    l2, u2 = wilson(x2, n2, level=level)
    p1, p2 = x1 / n1, x2 / n2
    difference = p1 - p2
    low = difference - math.hypot(p1 - l1, u2 - p2)
    high = difference + math.hypot(u1 - p1, p2 - l2)
    return max(-1.0, low), min(1.0, high)


def resample_counts(counts: ArrayLike, *, n_boot: int = 1000, seed: int = 0) -> NDArray[np.int64]:
    """n_boot multinomial resamples of a table of cell counts, shape (n_boot, cells).

    Each row is drawn from Multinomial(n, counts / n) with n = counts.sum(): the cell
    counts of n rows drawn with replacement from the n rows the table counts. The same
    seed gives the same resamples.

    Raises
    ------
    ValueError
        When the counts are not whole numbers ≥ 0 adding up to at least 1, or n_boot < 1.
    """
    cells = _cell_counts(counts)
    _check_n_boot(n_boot)
    total = int(cells.sum())
    probabilities = cells / total
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_CELLS // cells.size)
    drawn = [
        rng.multinomial(total, probabilities, size=min(block, n_boot - start))
        for start in range(0, n_boot, block)
    ]
    return np.concatenate(drawn).astype(np.int64, copy=False)


def percentile_interval(draws: ArrayLike, *, level: float = 0.95) -> tuple[float, float] | None:
    """The percentile interval of bootstrap draws: their (1 - level)/2 and (1 + level)/2 quantiles.

    Draws that are NaN (the statistic was undefined for that resample, such as a rate of
    a group that drew no rows) are left out. When more than 1 - level of the draws are
    NaN, the interval would rest on a selected minority of the resamples: None is
    returned instead. Quantiles interpolate linearly between order statistics.

    Raises
    ------
    ValueError
        When `level` lies outside (0, 1) or there are no draws.
    """
    normal_quantile(level)
    values = np.asarray(draws, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("percentile_interval needs at least one draw, got none")
    finite = values[np.isfinite(values)]
    if finite.size == 0 or (values.size - finite.size) > (1 - level) * values.size:
        return None
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def bootstrap(
    counts: ArrayLike,
    statistic: Statistic,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> list[tuple[float, float] | None]:
    """Percentile intervals of one or more statistics of the cell counts, by multinomial bootstrap.

    `statistic` receives resampled counts of shape (resamples, cells), in the order of
    `counts` flattened, and returns one value per resample (shape (resamples,)) or one
    column per statistic (shape (resamples, m)). Each statistic's interval is
    `percentile_interval` of its n_boot draws; all statistics share the same resamples.

    Returns
    -------
    list
        One (low, high) per statistic, or None where too many draws were undefined.

    Raises
    ------
    ValueError
        As `resample_counts` and `percentile_interval`, or when the statistic returns the
        wrong number of rows.
    """
    normal_quantile(level)
    resamples = resample_counts(counts, n_boot=n_boot, seed=seed)
    block = max(1, _BLOCK_CELLS // resamples.shape[1])
    parts = [
        _evaluate(statistic, resamples[start : start + block]) for start in range(0, n_boot, block)
    ]
    draws = np.concatenate(parts)
    return [percentile_interval(draws[:, column], level=level) for column in range(draws.shape[1])]


def _evaluate(statistic: Statistic, resamples: NDArray[np.int64]) -> NDArray[np.float64]:
    """The statistic on a block of resamples, as a (resamples, statistics) float array."""
    values = np.asarray(statistic(resamples), dtype=np.float64)
    if values.ndim == 1:
        values = values[:, np.newaxis]
    if values.ndim != 2 or values.shape[0] != resamples.shape[0]:
        raise ValueError(
            f"the statistic must give one row per resample ({resamples.shape[0]}), "
            f"got shape {values.shape}"
        )
    return values


def _cell_counts(counts: ArrayLike) -> NDArray[np.int64]:
    cells = np.asarray(counts).ravel()
    if cells.size == 0 or not (
        np.issubdtype(cells.dtype, np.integer) or np.issubdtype(cells.dtype, np.bool_)
    ):
        raise ValueError(f"counts must be whole numbers, got an array of {cells.dtype}")
    if (cells < 0).any():
        raise ValueError(f"counts cannot be negative, got {cells.min()}")
    if cells.sum() < 1:
        raise ValueError("counts must add up to at least 1 to be resampled, got 0")
    return cells.astype(np.int64, copy=False)


def _check_counts(successes: int, trials: int) -> None:
    for name, value in (("successes", successes), ("trials", trials)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must lie in 0..{trials}, got {successes}")


def _check_n_boot(n_boot: int) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot must be a whole number ≥ 1, got {n_boot!r}")
