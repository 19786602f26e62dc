"""Bin edges (uniform, quantile) and the binner that assigns confidences to bins."""

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evaluations.assessments.calibration.inputs import Floats, _check_n_bins, _check_range


def uniform_edges(n_bins: int) -> Floats:
    """The n_bins + 1 edges of equal-width bins on [0, 1]: `numpy.linspace(0, 1, n_bins + 1)`.

    Raises
    ------
    ValueError
        When n_bins is not a whole number ≥ 1.
    """
    _check_n_bins(n_bins)
    return np.linspace(0.0, 1.0, n_bins + 1)


def quantile_edges(confidence: ArrayLike, n_bins: int) -> Floats:
    """Equal-mass edges: the 0, 100/n_bins, ..., 100 percentiles of the confidences.

    `numpy.percentile` with linear interpolation, as `calibration_curve(strategy="quantile")`
    computes them; repeated values can make some edges equal (empty bins).

    Raises
    ------
    ValueError
        When n_bins < 1, or the confidences are empty, NaN or outside [0, 1].
    """
    _check_n_bins(n_bins)
    values = np.asarray(confidence, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("quantile edges need at least one confidence, got none")
    _check_range(values, "confidence")
    edges: Floats = np.percentile(values, np.linspace(0.0, 1.0, n_bins + 1) * 100)
    return edges


class _Binner:
    """Assigns confidences to bins with calibration_curve's rule: (lo, hi], 0.0 to the first."""

    def __init__(self, edges: Floats, *, uniform: bool) -> None:
        self.edges = edges
        self.n_bins = edges.size - 1
        self._inner = edges[1:-1]
        # linspace's edge i is i * step (the last one is 1.0): arithmetic then gives the bin
        # without a search, corrected against those exact products.
        self._step = 1.0 / self.n_bins
        products = np.arange(self.n_bins + 1, dtype=np.float64) * self._step
        products[-1] = 1.0
        self._arithmetic = uniform and np.array_equal(products, edges)

    def assign(self, confidence: Floats) -> NDArray[np.intp]:
        if not self._arithmetic:
            return np.searchsorted(self._inner, confidence, side="left")
        k = self.n_bins
        guess = np.multiply(confidence, k)
        np.ceil(guess, out=guess)
        guess -= 1.0
        # ceil(c·k) - 1 is the bin or a neighbour of it: edge i is i·step only to rounding.
        bound = guess * self._step
        guess -= confidence <= bound
        np.add(guess, 1.0, out=bound)
        bound *= self._step
        guess += confidence > bound
        np.clip(guess, 0, k - 1, out=guess)
        return guess.astype(np.intp)
