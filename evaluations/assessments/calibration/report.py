"""`calibration_report`: the one-call entry point over in-memory arrays."""

from collections.abc import Mapping

from numpy.typing import ArrayLike

from evaluations.assessments.calibration.binning import quantile_edges
from evaluations.assessments.calibration.inputs import (
    DEFAULT_SAMPLE_ROWS,
    STRATEGIES,
    TASKS,
    Seed,
    Strategy,
    Task,
    _check_choice,
    _check_n_bins,
    _scores,
)
from evaluations.assessments.calibration.results import CalibrationReport
from evaluations.assessments.calibration.stats import CalibrationStats


def calibration_report(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    task: Task = "binary",
    pos_label: object = 1,
    n_bins: int = 10,
    strategy: Strategy = "uniform",
    sensitive_features: Mapping[str, ArrayLike] | None = None,
    min_group_size: int = 30,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: Seed = 0,
    intervals: bool = True,
) -> CalibrationReport:
    """Calibration of predictions held in memory (see the module for every definition).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary: labels (any two values, `pos_label` the positive one). Multiclass: the
        column index 0..k-1 of each row's true class.
    y_score : array-like of shape (n,) or (n, k)
        Binary: the positive class's probability. Multiclass: probabilities, rows summing
        to 1.
    sensitive_features : mapping of name to array-like of shape (n,), optional
        One breakdown per feature, and one for their intersection when there are several.
    intervals : bool
        Bootstrap intervals (n_boot resamples at `level`, seeded) for ECE, MCE, Brier and
        log loss, over at most DEFAULT_SAMPLE_ROWS sampled rows.

    Raises
    ------
    ValueError
        On bad input or options; the message names the value.
    """
    _check_choice("task", task, TASKS)
    _check_choice("strategy", strategy, STRATEGIES)
    _check_n_bins(n_bins)
    edges = None
    if strategy == "quantile":
        scores = _scores(y_score, task)
        confidence = scores if task == "binary" else scores.max(axis=1)
        if confidence.size == 0:
            raise ValueError("no rows: calibration needs at least one prediction")
        edges = quantile_edges(confidence, n_bins)
    stats = CalibrationStats(
        task=task,
        pos_label=pos_label,
        n_bins=n_bins,
        strategy=strategy,
        edges=edges,
        sensitive_features=tuple(sensitive_features.keys())
        if sensitive_features is not None
        else (),
        sample_rows=DEFAULT_SAMPLE_ROWS if intervals else 0,
        seed=seed,
    )
    stats.update(y_true, y_score, sensitive_features=sensitive_features)
    return stats.result(
        min_group_size=min_group_size, n_boot=n_boot, level=level, intervals=intervals
    )
