"""Drift against the reference: PSI and KS per column."""

from collections.abc import Sequence

import numpy as np
from scipy import stats

from evaluations.assessments.data_quality.common import F64, PSI_BINS, PSI_EPSILON
from evaluations.assessments.data_quality.results import ColumnDrift
from evaluations.assessments.data_quality.state import _Sample, _Side, _SplitState, _ValueCounts


def _column_drift(
    data: _Side, state: _SplitState, reference: _Side, reference_state: _SplitState
) -> dict[str, ColumnDrift]:
    found = {}
    for name in sorted(state.missing):
        kinds = {data.kinds.get(name, "empty"), reference.kinds.get(name, "empty")} - {"empty"}
        if kinds == {"number"}:
            found[name] = _numeric_drift(name, state, reference_state)
        elif kinds == {"category"} and not (state.capped | reference_state.capped) & {name}:
            found[name] = ColumnDrift(psi=_categorical_psi(name, state, reference_state))
    return found


def _numeric_drift(name: str, state: _SplitState, reference: _SplitState) -> ColumnDrift:
    ours = state.samples.get(name, _Sample(1))
    theirs = reference.samples.get(name, _Sample(1))
    edges = _psi_edges(theirs.values)
    p = _shares(ours, edges, state.missing[name], state.rows)
    q = _shares(theirs, edges, reference.missing[name], reference.rows)
    psi = population_stability_index(p, q)
    exact = ours.exact and theirs.exact
    if not len(ours.values) or not len(theirs.values):
        return ColumnDrift(psi=psi, exact=exact)
    test = stats.ks_2samp(ours.values, theirs.values)
    return ColumnDrift(psi, float(test.statistic), float(test.pvalue), exact)


def _psi_edges(reference: F64) -> F64:
    """The reference's deciles, without repeats: the inner edges of the PSI bins."""
    if not len(reference):
        return np.empty(0)
    edges = np.quantile(reference, np.arange(1, PSI_BINS) / PSI_BINS)
    return np.unique(edges[~np.isnan(edges)])


def _shares(sample: _Sample, edges: F64, missing: int, rows: int) -> F64:
    """Shares of the rows per bin (lower, upper], then the share of missing values."""
    counts = np.bincount(
        np.searchsorted(edges, sample.values, side="left"), minlength=len(edges) + 1
    )
    if sample.exact:
        share = counts / rows
    else:
        # The sample stands for all the non-missing values, in proportion.
        share = counts / len(sample.values) * ((rows - missing) / rows)
    return np.append(share, missing / rows)


def _categorical_psi(name: str, state: _SplitState, reference: _SplitState) -> float:
    ours = state.categories.get(name, _ValueCounts())
    theirs = reference.categories.get(name, _ValueCounts())
    values = sorted(ours.counts.keys() | theirs.counts.keys())
    p = np.array([ours.counts.get(v, 0) for v in values] + [state.missing[name]]) / state.rows
    q = np.array([theirs.counts.get(v, 0) for v in values] + [reference.missing[name]])
    return population_stability_index(p, q / reference.rows)


def population_stability_index(p: Sequence[float] | F64, q: Sequence[float] | F64) -> float:
    """PSI = Σ_i (p_i - q_i) · ln(p_i / q_i), each share below `PSI_EPSILON` raised to it.

    Parameters
    ----------
    p, q : sequences of float
        The shares of the compared and of the reference rows in the same bins.

    Raises
    ------
    ValueError
        When the two have different lengths, or a share is negative or not finite.
    """
    p_arr = np.asarray(p, dtype=np.float64)
    q_arr = np.asarray(q, dtype=np.float64)
    if p_arr.shape != q_arr.shape or p_arr.ndim != 1:
        raise ValueError(f"p and q must be 1-D of one length, got {p_arr.shape} and {q_arr.shape}")
    for share in (p_arr, q_arr):
        if not np.isfinite(share).all() or (share < 0).any():
            raise ValueError(f"shares must be finite and >= 0, got {share.tolist()!r:.200}")
    p_arr = np.maximum(p_arr, PSI_EPSILON)
    q_arr = np.maximum(q_arr, PSI_EPSILON)
    return float(np.sum((p_arr - q_arr) * np.log(p_arr / q_arr)))
