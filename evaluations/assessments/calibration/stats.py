"""`CalibrationStats`: the streaming accumulator behind every calibration result."""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evaluations.assessments.calibration.binning import _Binner, uniform_edges
from evaluations.assessments.calibration.bootstrap import _bootstrap
from evaluations.assessments.calibration.groups import (
    _Breakdown,
    _breakdown_features,
    _factorize,
    _intersect,
)
from evaluations.assessments.calibration.inputs import (
    DEFAULT_SAMPLE_ROWS,
    METRICS,
    STRATEGIES,
    TASKS,
    Floats,
    Seed,
    Strategy,
    Task,
    _binary_label_values,
    _check_binary_labels,
    _check_choice,
    _check_class_indices,
    _check_level,
    _check_n_bins,
    _check_range,
    _check_whole,
    _labels,
    _scores,
)
from evaluations.assessments.calibration.results import (
    CalibrationBreakdown,
    CalibrationReport,
    Estimate,
    GroupCalibration,
    ReliabilityBin,
)
from evaluations.assessments.calibration.sampling import _generator, _Reservoir
from evaluations.assessments.calibration.tables import (
    _binary_rows,
    _block_rows,
    _block_sums,
    _multiclass_rows,
    _Rows,
    _Table,
)
from evaluations.assessments.encoding import decode_array, encode_array
from evaluations.assessments.intervals import Interval, percentile_interval


class CalibrationStats:
    """Additive calibration statistics: `update` chunk by chunk, `merge` parts, `result` at the end.

    Uniform bins are fixed by `n_bins`; quantile bins need their `edges` up front (from
    `quantile_edges` over the data, or `ConfidenceSample.edges` over a first pass).
    `sensitive_features` names the columns each `update` must give. The bootstrap sample
    keeps at most `sample_rows` rows (0 keeps none and allows no intervals).

    A part of a longer stream of rows, processed apart and merged later, gives the stream
    row it starts at as `first_row`, and may give `sample_key_bound` (`sample_key_bound`
    of the whole stream): its sample then holds exactly its rows of the one-pass sample
    (see the module, "Merging").

    Raises
    ------
    ValueError
        On a bad option (named in the message).
    """

    def __init__(
        self,
        *,
        task: Task = "binary",
        pos_label: object = 1,
        n_bins: int = 10,
        strategy: Strategy = "uniform",
        edges: ArrayLike | None = None,
        sensitive_features: Sequence[str] = (),
        sample_rows: int = DEFAULT_SAMPLE_ROWS,
        seed: Seed = 0,
        first_row: int = 0,
        sample_key_bound: float = math.inf,
    ) -> None:
        _check_choice("task", task, TASKS)
        _check_choice("strategy", strategy, STRATEGIES)
        _check_n_bins(n_bins)
        _check_whole("sample_rows", sample_rows, 0)
        self.task: Task = task
        self.pos_label = pos_label
        self.strategy: Strategy = strategy
        self.edges = self._edges(strategy, n_bins, edges)
        self.n_bins = n_bins
        self.features = self._feature_names(sensitive_features)
        self.seed = seed
        self.size = 0
        self.n_classes: int | None = None
        self._binner = _Binner(self.edges, uniform=strategy == "uniform")
        self._labels: set[Any] = set()
        self._overall = _Table(1, n_bins)
        self._breakdowns = [
            _Breakdown(f, _Table(0, n_bins)) for f in _breakdown_features(self.features)
        ]
        self._reservoir = _Reservoir(
            sample_rows, seed, first_row=first_row, key_bound=sample_key_bound
        )

    @staticmethod
    def _edges(strategy: str, n_bins: int, edges: ArrayLike | None) -> Floats:
        if strategy == "uniform":
            if edges is not None:
                raise ValueError("edges are computed for strategy='uniform'; give n_bins only")
            return uniform_edges(n_bins)
        if edges is None:
            raise ValueError(
                "strategy='quantile' needs its edges: quantile_edges(confidences, n_bins), "
                "or ConfidenceSample(...).edges(n_bins) when streaming"
            )
        given = np.asarray(edges, dtype=np.float64)
        if given.ndim != 1 or given.size != n_bins + 1:
            raise ValueError(
                f"edges must hold n_bins + 1 = {n_bins + 1} numbers, got shape {given.shape}"
            )
        _check_range(given, "edges")
        if (np.diff(given) < 0).any():
            raise ValueError(f"edges must not decrease, got {given.tolist()!r}")
        return given

    @staticmethod
    def _feature_names(names: Sequence[str]) -> tuple[str, ...]:
        if isinstance(names, str):
            raise ValueError(
                f"sensitive_features must be a sequence of names, got the string {names!r}"
            )
        features = tuple(names)
        for name in features:
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                raise ValueError(
                    f"a sensitive feature name must be 1 to 100 characters, got {name!r}"
                )
        if len(set(features)) != len(features):
            raise ValueError(f"sensitive feature names repeat: {list(features)!r}")
        return features

    def update(
        self,
        y_true: ArrayLike,
        y_score: ArrayLike,
        *,
        sensitive_features: Mapping[str, ArrayLike] | None = None,
    ) -> None:
        """Add one chunk of rows. Everything is checked before anything is added.

        Raises
        ------
        ValueError
            On scores outside [0, 1] or NaN, lengths that differ, labels that are not
            binary (binary task) or not column indices (multiclass), probability rows that
            do not sum to 1, or sensitive features that differ from those named.
        """
        scores = _scores(y_score, self.task)
        n = scores.shape[0]
        labels = _labels(y_true, n)
        seen = self._check_labels(labels, scores)
        coded = self._code_groups(sensitive_features, n)
        self._labels = seen
        if self.task == "multiclass":
            self.n_classes = scores.shape[1]
        groups = [
            breakdown.register(keys)[codes]
            for breakdown, (codes, keys) in zip(self._breakdowns, coded, strict=True)
        ]
        coarser = self._coarser()
        step = _block_rows(scores)
        for start in range(0, n, step):
            block = slice(start, start + step)
            rows = self._rows(scores[block], labels[block])
            self._add_block(rows, groups[-1][block] if groups else None, coarser)
            self._reservoir.add(
                {
                    "confidence": rows.confidence,
                    "correct": rows.correct,
                    "bins": rows.bins,
                    "brier": rows.brier,
                    "log_loss": rows.log_loss,
                }
            )
        self.size += n

    def _coarser(self) -> list[tuple[_Table, NDArray[np.intp]]]:
        """Every table but the finest breakdown's, each with the group of it that each
        finest group falls in: those tables are sums of the finest one's groups."""
        if not self._breakdowns:
            return []
        finest = self._breakdowns[-1]
        keys = list(finest.index)  # in index order
        found = [(self._overall, np.zeros(len(keys), np.intp))]
        for breakdown in self._breakdowns[:-1]:
            positions = [self.features.index(name) for name in breakdown.features]
            into = [breakdown.index[tuple(key[i] for i in positions)] for key in keys]
            found.append((breakdown.table, np.array(into, dtype=np.intp)))
        return found

    def _add_block(
        self,
        rows: _Rows,
        group: NDArray[np.intp] | None,
        coarser: list[tuple[_Table, NDArray[np.intp]]],
    ) -> None:
        """Count the rows once, per group of the finest breakdown, and sum those counts
        into the coarser tables (integers: the same as counting each table apart)."""
        if group is None:
            self._overall.add(_block_sums(rows, None, 1, self.n_bins))
            return
        finest = self._breakdowns[-1].table
        sums = _block_sums(rows, group, finest.groups, self.n_bins)
        finest.add(sums)
        for table, into in coarser:
            table.add(sums, into)

    def _check_labels(self, labels: NDArray[Any], scores: NDArray[Any]) -> set[Any]:
        if self.task == "binary":
            seen = self._labels | _binary_label_values(labels)
            _check_binary_labels(seen, self.pos_label)
            return seen
        k = scores.shape[1]
        if self.n_classes is not None and k != self.n_classes:
            raise ValueError(f"y_score has {k} columns; earlier chunks had {self.n_classes}")
        _check_class_indices(labels, k)
        return self._labels

    def _code_groups(
        self, sensitive_features: Mapping[str, ArrayLike] | None, n: int
    ) -> list[tuple[NDArray[np.intp], list[tuple[str, ...]]]]:
        given = dict(sensitive_features) if sensitive_features is not None else {}
        if set(given) != set(self.features):
            raise ValueError(
                f"sensitive_features must give exactly {list(self.features)!r}, "
                f"got {sorted(given)!r}"
            )
        if not self.features:
            return []
        factorized = {name: _factorize(given[name], name, n) for name in self.features}
        coded = []
        for features in _breakdown_features(self.features):
            codes = [factorized[name][0] for name in features]
            labels = [factorized[name][1] for name in features]
            coded.append(_intersect(codes, labels))
        return coded

    def _rows(self, scores: NDArray[Any], labels: NDArray[Any]) -> _Rows:
        if self.task == "binary":
            rows = _binary_rows(scores, labels, self.pos_label)
        else:
            rows = _multiclass_rows(scores, labels)
        rows.bins = self._binner.assign(rows.confidence)
        return rows

    def merge(self, other: "CalibrationStats") -> None:
        """Add another accumulator's statistics (same task, labels, edges and features).

        Raises
        ------
        ValueError
            When the two differ in task, pos_label, strategy, edges, features or number of
            classes, or share a seed while their samples must drop rows.
        """
        for name in ("task", "pos_label", "strategy", "features"):
            if getattr(self, name) != getattr(other, name):
                raise ValueError(
                    f"cannot merge statistics with {name}={getattr(other, name)!r} into "
                    f"{name}={getattr(self, name)!r}"
                )
        if not np.array_equal(self.edges, other.edges):
            raise ValueError("cannot merge statistics over different bin edges")
        if None not in (self.n_classes, other.n_classes) and self.n_classes != other.n_classes:
            raise ValueError(f"cannot merge {other.n_classes} classes into {self.n_classes}")
        seen = self._labels | other._labels
        if self.task == "binary":
            _check_binary_labels(seen, self.pos_label)
        self._reservoir.merge(other._reservoir)
        self._labels = seen
        self.n_classes = self.n_classes if self.n_classes is not None else other.n_classes
        self._overall.merge(other._overall, np.zeros(1, np.intp))
        for mine, theirs in zip(self._breakdowns, other._breakdowns, strict=True):
            into = mine.register(list(theirs.index))
            mine.table.merge(theirs.table, into)
        self.size += other.size

    def to_state(self) -> dict[str, Any]:
        """Everything accumulated, as JSON that `from_state` turns back into these statistics
        exactly (integer counts and limbs, the sample's rows as raw bytes)."""
        return {
            "task": self.task,
            "pos_label": _plain(self.pos_label),
            "n_bins": self.n_bins,
            "strategy": self.strategy,
            "edges": encode_array(self.edges),
            "features": list(self.features),
            "seed": list(self._reservoir.entropy),
            "size": self.size,
            "n_classes": self.n_classes,
            "labels": [_plain(label) for label in self._labels],
            "overall": self._overall.to_state(),
            "breakdowns": [
                {"groups": [list(key) for key in b.index], "table": b.table.to_state()}
                for b in self._breakdowns
            ],
            "sample": self._reservoir.to_state(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "CalibrationStats":
        """The statistics `to_state` wrote.

        Raises
        ------
        ValueError
            When the state is not one `to_state` could have written.
        """
        strategy = state["strategy"]
        stats = cls(
            task=state["task"],
            pos_label=state["pos_label"],
            n_bins=int(state["n_bins"]),
            strategy=strategy,
            edges=decode_array(state["edges"]) if strategy == "quantile" else None,
            sensitive_features=tuple(state["features"]),
            sample_rows=int(state["sample"]["capacity"]),
            seed=tuple(int(s) for s in state["seed"]),
        )
        stats.size = int(state["size"])
        stats.n_classes = None if state["n_classes"] is None else int(state["n_classes"])
        stats._labels = set(state["labels"])
        stats._overall = _Table.from_state(state["overall"], stats.n_bins)
        if len(state["breakdowns"]) != len(stats._breakdowns):
            raise ValueError("a calibration state does not match its sensitive features")
        for breakdown, saved in zip(stats._breakdowns, state["breakdowns"], strict=True):
            keys = [tuple(str(v) for v in key) for key in saved["groups"]]
            breakdown.index = {key: i for i, key in enumerate(keys)}
            breakdown.table = _Table.from_state(saved["table"], stats.n_bins)
        stats._reservoir = _Reservoir.from_state(state["sample"])
        return stats

    def result(
        self,
        *,
        min_group_size: int = 30,
        n_boot: int = 1000,
        level: float = 0.95,
        intervals: bool = True,
    ) -> CalibrationReport:
        """The report of every row added so far.

        Intervals are percentile bootstrap intervals over the sample (see the module).

        Raises
        ------
        ValueError
            With no rows, a bad option, or intervals asked of statistics built with
            sample_rows=0.
        """
        _check_whole("min_group_size", min_group_size, 0)
        _check_whole("n_boot", n_boot, 1)
        _check_level(level)
        if self.size == 0:
            raise ValueError("no rows: calibration needs at least one prediction")
        if intervals and self._reservoir.capacity == 0:
            raise ValueError(
                "intervals need a sample: these statistics were built with sample_rows=0"
            )
        ece, mce, brier, log_loss = (float(m[0]) for m in self._overall.metrics())
        bounds: dict[str, Interval | None] = dict.fromkeys(METRICS)
        if intervals:
            bounds = self._intervals(n_boot=n_boot, level=level)
        return CalibrationReport(
            task=self.task,
            bin_strategy=self.strategy,
            n_bins=self.n_bins,
            size=self.size,
            expected_calibration_error=Estimate(ece, bounds["expected_calibration_error"]),
            maximum_calibration_error=Estimate(mce, bounds["maximum_calibration_error"]),
            brier_score_loss=Estimate(brier, bounds["brier_score_loss"]),
            log_loss=Estimate(log_loss, bounds["log_loss"]),
            bins=self._bins(),
            breakdowns=tuple(_breakdown(b, min_group_size) for b in self._breakdowns),
        )

    def _bins(self) -> tuple[ReliabilityBin, ...]:
        count = self._overall.count[0]
        correct = self._overall.correct[0]
        confidence = self._overall.confidence.value()[0]
        bins = []
        for b in range(self.n_bins):
            n = int(count[b])
            bins.append(
                ReliabilityBin(
                    lower=float(self.edges[b]),
                    upper=float(self.edges[b + 1]),
                    count=n,
                    mean_confidence=float(confidence[b] / n) if n else None,
                    observed_frequency=float(correct[b] / n) if n else None,
                )
            )
        return tuple(bins)

    def _intervals(self, *, n_boot: int, level: float) -> dict[str, Interval | None]:
        sample = self._reservoir.sample()
        draws = _bootstrap(sample, self.n_bins, n_boot=n_boot, rng=_generator(self.seed, 1))
        result: dict[str, Interval | None] = {}
        for name, values in zip(METRICS, draws, strict=True):
            bounds = percentile_interval(values, level=level)  # never None: no draw is NaN
            result[name] = None if bounds is None else Interval(*bounds, level, "bootstrap")
        return result


def _breakdown(breakdown: _Breakdown, min_group_size: int) -> CalibrationBreakdown:
    table = breakdown.table
    values = table.metrics()
    size = table.count.sum(axis=1)
    groups = [
        GroupCalibration(
            group=key,
            size=int(size[i]),
            insufficient=bool(size[i] < min_group_size),
            expected_calibration_error=float(values[0][i]),
            maximum_calibration_error=float(values[1][i]),
            brier_score_loss=float(values[2][i]),
            log_loss=float(values[3][i]),
        )
        for key, i in sorted(breakdown.index.items())
    ]
    sufficient = [g for g in groups if not g.insufficient]
    gaps: dict[str, float | None] = {}
    for name in METRICS:
        found = [getattr(g, name) for g in sufficient]
        gaps[name] = max(found) - min(found) if len(found) > 1 else None
    return CalibrationBreakdown(breakdown.features, tuple(groups), gaps)


def _plain(value: Any) -> Any:
    """A label as a JSON value: numpy scalars become Python ones."""
    return value.item() if isinstance(value, np.generic) else value
