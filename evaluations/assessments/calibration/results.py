"""Calibration results: the report's dataclasses and their evidence metrics."""

from dataclasses import dataclass
from typing import Any

from evaluations.assessments.calibration.inputs import METRICS, Strategy, Task
from evaluations.assessments.intervals import Interval


@dataclass(frozen=True)
class Estimate:
    """A metric's value and, when one was computed, its interval."""

    value: float
    interval: Interval | None = None

    def to_metric(self) -> float | dict[str, Any]:
        """A plain number without an interval, else {"value", "interval"}."""
        if self.interval is None:
            return self.value
        return {"value": self.value, "interval": self.interval.to_dict()}


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin: its edges, its rows, and their mean confidence and observed frequency.

    `mean_confidence` and `observed_frequency` are None for an empty bin.
    """

    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    observed_frequency: float | None


@dataclass(frozen=True)
class GroupCalibration:
    """The calibration of one group: `group` holds its values in the breakdown's feature order."""

    group: tuple[str, ...]
    size: int
    insufficient: bool
    expected_calibration_error: float
    maximum_calibration_error: float
    brier_score_loss: float
    log_loss: float


@dataclass(frozen=True)
class CalibrationBreakdown:
    """The groups of one feature (or one intersection) and max - min of each metric.

    `largest_gap` maps each name of `METRICS` to max - min over the sufficient groups,
    or None with fewer than two of them.
    """

    features: tuple[str, ...]
    groups: tuple[GroupCalibration, ...]
    largest_gap: dict[str, float | None]


@dataclass(frozen=True)
class CalibrationReport:
    """Calibration of a set of predictions; `to_metrics()` gives the evidence `metrics`."""

    task: Task
    bin_strategy: Strategy
    n_bins: int
    size: int
    expected_calibration_error: Estimate
    maximum_calibration_error: Estimate
    brier_score_loss: Estimate
    log_loss: Estimate
    bins: tuple[ReliabilityBin, ...]
    breakdowns: tuple[CalibrationBreakdown, ...] = ()

    def to_metrics(self) -> dict[str, Any]:
        """The `metrics` object of a `calibration` evidence document (schema 1.0)."""
        metrics: dict[str, Any] = {
            "task": self.task,
            "bin_strategy": self.bin_strategy,
            "n_bins": self.n_bins,
            "size": self.size,
        }
        for name in METRICS:
            estimate: Estimate = getattr(self, name)
            metrics[name] = estimate.to_metric()
        metrics["bins"] = [
            {
                "lower": b.lower,
                "upper": b.upper,
                "count": b.count,
                "mean_confidence": b.mean_confidence,
                "observed_frequency": b.observed_frequency,
            }
            for b in self.bins
        ]
        if self.breakdowns:
            metrics["breakdowns"] = [_breakdown_metrics(b) for b in self.breakdowns]
        return metrics


def _breakdown_metrics(breakdown: CalibrationBreakdown) -> dict[str, Any]:
    groups = []
    for g in breakdown.groups:
        entry: dict[str, Any] = {
            "group": dict(zip(breakdown.features, g.group, strict=True)),
            "size": g.size,
            "insufficient": g.insufficient,
        }
        entry |= {name: getattr(g, name) for name in METRICS}
        groups.append(entry)
    return {
        "features": list(breakdown.features),
        "groups": groups,
        "largest_gap": dict(breakdown.largest_gap),
    }
