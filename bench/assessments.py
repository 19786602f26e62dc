"""The assessment engines against their references, at 100k, 1M and 10M rows.

Four benchmarks, each calling ours and its reference in this process, interleaved round
by round, timing every call and measuring its peak memory (`timing.measured_call`):

1. Fairness point metrics. Ours: `fairness_report(..., intervals=False)`, which counts
   the rows and reports every rate overall, per group of each feature and of their
   intersection, and every aggregate of each breakdown. Reference: one fairlearn
   `MetricFrame` of the same eight group metrics over both features (the 8 intersection
   groups, and overall) with its between-group differences and ratios. The input is the
   same: integer labels and predictions, and two text sensitive features as the object
   arrays of `str` that the CSV reader gives the engines. The intersection's groups and
   aggregates and the overall rates must equal fairlearn's (to 1e-12), else the
   benchmark fails. A second line gives ours on numpy str arrays, for comparison.
2. Bootstrap. Ours: counting, every point metric and percentile intervals of every
   metric (7 rates overall and of each of 14 groups, 6 aggregates of each of 3
   breakdowns) from 1,000 multinomial resamples; also `fairness_report` with its default
   1,000 resamples. Reference: one fairlearn `MetricFrame` as in 1, built with
   `n_boot=1, ci_quantiles=[0.025, 0.975], random_state=0`, with every interval read.
3. Calibration point metrics. Ours: `calibration_report(..., intervals=False)` (bins,
   ECE, MCE, Brier, log loss). Reference: scikit-learn's `calibration_curve` (10
   uniform bins) and `brier_score_loss`. Bins and Brier must equal scikit-learn's.
4. End to end. Ours: `pipeline.compute` over a CSV file with fairness and calibration,
   options {"n_boot": 0} (intervals off), and a progress callback as the worker passes.
   Reference: pyarrow's streaming CSV reader (`open_csv`, defaults) reading every batch
   of the same file. Three more lines show where the time goes.

fairlearn's `MetricFrame` runs Python steps per row and metric (tens of seconds at 1M
rows), so it is measured at 100k and 1M rows only, with fewer rounds than ours; at 10M
rows ours is measured alone. Data come from a seeded numpy generator; files go to a
temporary folder removed at the end.
"""

import functools
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from numpy.typing import NDArray

from bench.timing import Call, measured_call
from evaluations.assessments import pipeline
from evaluations.assessments.calibration import CalibrationReport, calibration_report
from evaluations.assessments.confusion import ConfusionCounts, CountTable
from evaluations.assessments.fairness import (
    RATES,
    FairnessReport,
    aggregates,
    fairness_report,
    group_rates,
    report_from_counts,
)
from evaluations.assessments.intervals import bootstrap
from evaluations.assessments.reading import read_chunks

SEXES = np.array(["female", "male"])
REGIONS = np.array(["north", "south", "east", "west"])
FEATURES = ("sex", "region")
N_BOOT = 1000
N_BINS = 10
# Values must agree to this (absolute): the tolerance of the engine's own tests.
TOLERANCE = 1e-12
MIB = 1 << 20
CSV_COLUMNS = ["label", "prediction", "score", *FEATURES]
CSV_MAPPING = {
    "label": "label",
    "prediction": "prediction",
    "score": "score",
    "sensitive": list(FEATURES),
}
NOT_RUN = "reference not run at this size (see bench/README.md)"
_STARTED = time.monotonic()


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Goal:
    """What ours must achieve against the reference.

    kind "faster": the reference takes at least `factor` times ours; kind "within": ours
    takes at most `factor` times the reference. `judged` is False at sizes the goal is not
    set for: the ratio is printed the same way, for information.
    """

    kind: Literal["faster", "within"]
    factor: float
    judged: bool = True

    def met(self, ours_ms: float, reference_ms: float) -> bool:
        if self.kind == "faster":
            return reference_ms >= self.factor * ours_ms
        return ours_ms <= self.factor * reference_ms

    def describe(self) -> str:
        target = f">= {self.factor:g}x faster" if self.kind == "faster" else f"<= {self.factor:g}x"
        return f"goal {target}" if self.judged else f"goal {target} is set at another size"

    def at(self, judged: bool) -> "Goal":
        return Goal(self.kind, self.factor, judged)


@dataclass(frozen=True)
class Side:
    """One implementation at one size: median time over its rounds, and its largest peak."""

    name: str
    ms: float
    peak_bytes: int | None
    rounds: int


@dataclass(frozen=True)
class Measurement:
    """One benchmark at one size, and whether its goal (where judged at this size) is met."""

    benchmark: str
    rows: int
    ours: Side
    reference: Side | None
    goal: Goal
    check: str = ""
    mismatch: str | None = None

    @property
    def missed(self) -> bool:
        if self.mismatch is not None:
            return True
        if not self.goal.judged or self.reference is None:
            return False
        return not self.goal.met(self.ours.ms, self.reference.ms)

    def ratio(self) -> str:
        """Ours against the reference, as the goal reads: "12.3x faster than R" or "1.40x R"."""
        if self.reference is None:
            return NOT_RUN
        if self.goal.kind == "faster":
            return f"{self.reference.ms / self.ours.ms:,.1f}x faster than {self.reference.name}"
        return f"{self.ours.ms / self.reference.ms:.3g}x {self.reference.name}"

    def line(self) -> str:
        head = f"{self.benchmark} @ {self.rows:,} rows"
        if self.mismatch is not None:
            return f"FAILED {head}: values differ from {_reference_name(self)}: {self.mismatch}"
        ours = f"ours {_side(self.ours)}"
        if self.reference is None:
            return f"{head}: {ours}; {NOT_RUN}"
        check = f"; {self.check}" if self.check else ""
        return (
            f"{head}: {self.ratio()} ({self.goal.describe()}) "
            f"[{ours}; reference {_side(self.reference)}{check}]"
        )


def _side(side: Side) -> str:
    peak = "n/a" if side.peak_bytes is None else f"+{side.peak_bytes / MIB:,.0f} MiB"
    return f"{side.ms:,.1f} ms, peak {peak}, {side.rounds} rounds"


def _reference_name(measurement: Measurement) -> str:
    return measurement.reference.name if measurement.reference else "the reference"


# ----------------------------------------------------------------------------- measuring


@dataclass
class _Runner:
    name: str
    fn: Callable[[], object]
    rounds: int
    calls: list[Call]
    last: object = None


def _interleaved(runners: Sequence[tuple[str, Callable[[], object], int]]) -> list[_Runner]:
    """Round i calls every runner that has an i-th round, in order; each call is measured."""
    states = [_Runner(name, fn, rounds, []) for name, fn, rounds in runners]
    for index in range(max(state.rounds for state in states)):
        for state in states:
            if index < state.rounds:
                state.last = None  # the previous result is not held through the next call
                call, state.last = measured_call(state.fn)
                state.calls.append(call)
    return states


def _summary(state: _Runner) -> Side | None:
    if not state.calls:
        return None
    peaks = [call.peak_bytes for call in state.calls]
    peak = None if any(p is None for p in peaks) else max(p for p in peaks if p is not None)
    ms = statistics.median(call.ms for call in state.calls)
    return Side(state.name, ms, peak, len(state.calls))


def _ran(state: _Runner) -> Side:
    side = _summary(state)
    assert side is not None, f"{state.name} has no rounds"
    return side


def _progress(text: str) -> None:
    print(f"  ... {time.monotonic() - _STARTED:4.0f} s: {text}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Predictions:
    """Seeded predictions of a binary classifier for 8 groups (2 sexes x 4 regions).

    Groups differ in size, base rate and threshold; the scores are miscalibrated per
    group; every 97th score is rounded to one decimal, so that some lie exactly on a bin
    edge, and every 10,007th is 1.0. `sex_text` and `region_text` are numpy str arrays;
    `sensitive()` gives the same values as object arrays of `str`, the way the CSV reader
    gives text columns to the engines.
    """

    label: NDArray[np.int64]
    prediction: NDArray[np.int64]
    score: NDArray[np.float64]
    group: NDArray[np.int64]

    @property
    def sex_text(self) -> NDArray[np.str_]:
        return SEXES[self.group // 4]

    @property
    def region_text(self) -> NDArray[np.str_]:
        return REGIONS[self.group % 4]

    @functools.cached_property
    def _as_read(self) -> dict[str, NDArray[Any]]:
        return {
            "sex": _as_read(self.group // 4, SEXES),
            "region": _as_read(self.group % 4, REGIONS),
        }

    def sensitive(self) -> dict[str, NDArray[Any]]:
        return dict(self._as_read)


def predictions(rows: int, seed: int = 0) -> Predictions:
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.5, 2.0, size=8)
    group = rng.choice(8, size=rows, p=weights / weights.sum())
    score = rng.beta(2.0, 3.0, size=rows)
    score[::97] = np.round(score[::97], 1)
    score[::10_007] = 1.0
    bias = rng.uniform(-0.15, 0.15, size=8)[group]
    label = (rng.random(rows) < np.clip(score + bias, 0.0, 1.0)).astype(np.int64)
    prediction = (score >= rng.uniform(0.35, 0.55, size=8)[group]).astype(np.int64)
    return Predictions(label, prediction, score, group)


def _as_read(codes: NDArray[np.int64], values: NDArray[np.str_]) -> NDArray[Any]:
    """What `reading.read_chunks` yields for a text column: Arrow strings converted to a
    numpy object array holding one new `str` per row (built from a dictionary array,
    which is faster than converting a numpy str array)."""
    encoded = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(values))
    converted: NDArray[Any] = pa.chunked_array([encoded.cast(pa.string())]).to_numpy()
    return converted


# ----------------------------------------------------------------------------- references


def _fairlearn_metrics() -> dict[str, Callable[..., Any]]:
    """fairlearn's and scikit-learn's function for each group metric of fairness.RATES."""
    import fairlearn.metrics as flm  # type: ignore[import-untyped]  # noqa: TID251 - the reference the engine is measured against
    import sklearn.metrics as skm  # type: ignore[import-untyped]  # noqa: TID251 - the reference the engine is measured against

    metrics: dict[str, Callable[..., Any]] = {
        "selection_rate": flm.selection_rate,
        "true_positive_rate": flm.true_positive_rate,
        "false_positive_rate": flm.false_positive_rate,
        "false_negative_rate": flm.false_negative_rate,
        "true_negative_rate": flm.true_negative_rate,
        "positive_predictive_value": functools.partial(skm.precision_score, zero_division=np.nan),
        "accuracy": skm.accuracy_score,
        "size": flm.count,
    }
    assert set(metrics) == {*RATES, "size"}
    return metrics


def _metric_frame(data: Predictions, **bootstrap_options: Any) -> Any:
    """fairlearn's MetricFrame of every group metric over the intersection of both features,
    with its between-group differences and ratios (and their intervals when bootstrapped)."""
    import fairlearn.metrics as flm  # noqa: TID251 - the reference the engine is measured against
    import pandas as pd

    frame = flm.MetricFrame(
        metrics=_fairlearn_metrics(),
        y_true=data.label,
        y_pred=data.prediction,
        sensitive_features=pd.DataFrame(data.sensitive()),
        **bootstrap_options,
    )
    frame.difference(method="between_groups")
    frame.ratio(method="between_groups")
    if bootstrap_options:
        frame.difference_ci(method="between_groups")
        frame.ratio_ci(method="between_groups")
        frame.by_group_ci  # noqa: B018 - every interval fairlearn offers is read
    return frame


def _sklearn_calibration(label: NDArray[Any], score: NDArray[Any]) -> tuple[Any, Any, float]:
    from sklearn.calibration import calibration_curve  # type: ignore[import-untyped]  # noqa: TID251 - the reference the engine is measured against
    from sklearn.metrics import brier_score_loss  # noqa: TID251 - the reference the engine is measured against

    observed, mean_score = calibration_curve(label, score, n_bins=N_BINS, strategy="uniform")
    return observed, mean_score, float(brier_score_loss(label, score))


def _bare_read(path: Path) -> int:
    """pyarrow's streaming CSV reader with its defaults, every batch read; the rows."""
    rows = 0
    for batch in pa_csv.open_csv(path):
        rows += batch.num_rows
    return rows


# ----------------------------------------------------------------------------- value checks


class _Differences:
    """The largest absolute difference seen, and the first values that cannot be compared."""

    def __init__(self) -> None:
        self.largest = 0.0
        self.problem: str | None = None

    def add(self, where: str, ours: float | None, theirs: Any) -> None:
        theirs_value = float(theirs)
        if ours is None or math.isnan(theirs_value):
            if not (ours is None and math.isnan(theirs_value)) and self.problem is None:
                self.problem = f"{where}: ours {ours}, reference {theirs_value}"
            return
        self.largest = max(self.largest, abs(ours - theirs_value))

    def verdict(self) -> tuple[str, str | None]:
        if self.problem is not None:
            return "", self.problem
        if self.largest > TOLERANCE:
            return "", f"largest |difference| {self.largest:.3g} > {TOLERANCE:g}"
        return f"values equal, max |diff| {self.largest:.2g}", None


def _fairness_check(report: FairnessReport, frame: Any) -> tuple[str, str | None]:
    """Overall rates, the 8 groups' counts and rates, and the 6 aggregates of the
    intersection breakdown, ours against fairlearn's."""
    found = _Differences()
    for name in RATES:
        found.add(f"overall {name}", report.overall.rates[name].value, frame.overall[name])
    intersection = report.breakdowns[-1]
    assert intersection.features == FEATURES
    theirs = {tuple(str(value) for value in key): row for key, row in frame.by_group.iterrows()}
    ours = {tuple(group.group[name] for name in FEATURES): group for group in intersection.groups}
    if set(ours) != set(theirs):
        return "", f"groups differ: ours {sorted(ours)}, fairlearn {sorted(theirs)}"
    for key, group in ours.items():
        row = theirs[key]
        found.add(f"size of {key}", group.size, row["size"])
        for name in RATES:
            found.add(f"{name} of {key}", group.rates[name].value, row[name])
    difference = frame.difference(method="between_groups")
    ratio = frame.ratio(method="between_groups")
    expected = {
        "demographic_parity_difference": difference["selection_rate"],
        "demographic_parity_ratio": ratio["selection_rate"],
        "equal_opportunity_difference": difference["true_positive_rate"],
        "equal_opportunity_ratio": ratio["true_positive_rate"],
        "equalized_odds_difference": max(
            difference["true_positive_rate"], difference["false_positive_rate"]
        ),
        "equalized_odds_ratio": min(ratio["true_positive_rate"], ratio["false_positive_rate"]),
    }
    for name, value in expected.items():
        found.add(name, intersection.aggregates[name].value, value)
    return found.verdict()


def _calibration_check(
    report: CalibrationReport, reference: tuple[Any, Any, float]
) -> tuple[str, str | None]:
    observed, mean_score, brier = reference
    filled = [b for b in report.bins if b.count > 0]
    if len(filled) != len(observed):
        return "", f"{len(filled)} non-empty bins, scikit-learn has {len(observed)}"
    found = _Differences()
    for index, (b, frequency, confidence) in enumerate(
        zip(filled, observed, mean_score, strict=True)
    ):
        found.add(f"observed frequency of bin {index}", b.observed_frequency, frequency)
        found.add(f"mean confidence of bin {index}", b.mean_confidence, confidence)
    found.add("brier_score_loss", report.brier_score_loss.value, brier)
    return found.verdict()


# ----------------------------------------------------------------------------- ours


def every_metric_bootstrap(
    data: Predictions, *, n_boot: int = N_BOOT
) -> tuple[FairnessReport, list[tuple[float, float] | None]]:
    """Counts, every point metric, and percentile intervals of every metric from n_boot
    multinomial resamples of the intersection cells: the 7 rates overall and of every group
    of each feature and of the intersection (14 groups), and the 6 aggregates of each of
    the 3 breakdowns; 123 statistics per resample."""
    counts = ConfusionCounts(FEATURES)
    counts.update(data.label, data.prediction, data.sensitive())
    report = report_from_counts(counts, intervals=False)
    intersection = counts.intersection()
    tables = [counts.by_feature(name) for name in FEATURES] + [intersection]
    memberships = [_membership(intersection, table) for table in tables]
    groups = len(intersection.groups)

    def statistic(resamples: NDArray[np.int64]) -> NDArray[np.float64]:
        cells = resamples.reshape(len(resamples), groups, 4).astype(np.float64)
        columns = [rates[:, np.newaxis] for rates in group_rates(cells.sum(axis=1)).values()]
        for membership in memberships:
            grouped = np.einsum("rgc,gk->rkc", cells, membership)
            columns += list(group_rates(grouped).values())
            columns += [value[:, np.newaxis] for value in aggregates(grouped).values()]
        return np.concatenate(columns, axis=1)

    intervals = bootstrap(intersection.cells.ravel(), statistic, n_boot=n_boot, seed=0)
    return report, intervals


def _membership(intersection: CountTable, table: CountTable) -> NDArray[np.float64]:
    """(intersection groups, groups of `table`): 1 where the first lies in the second."""
    positions = [FEATURES.index(name) for name in table.features]
    column = {group: index for index, group in enumerate(table.groups)}
    membership = np.zeros((len(intersection.groups), len(table.groups)))
    for row, group in enumerate(intersection.groups):
        membership[row, column[tuple(group[i] for i in positions)]] = 1.0
    return membership


# ----------------------------------------------------------------------------- benchmarks


def fairness_points() -> Iterator[Measurement]:
    """Counts and every point metric (no intervals) against fairlearn's MetricFrame."""
    benchmark = "fairness points, 2 text features (8 groups)"
    for rows, ours_rounds, reference_rounds in (
        (100_000, 15, 3),
        (1_000_000, 15, 1),
        (10_000_000, 3, 0),
    ):
        _progress(f"{benchmark} at {rows:,} rows")
        data = predictions(rows)
        sensitive = data.sensitive()
        text = {"sex": data.sex_text, "region": data.region_text}

        def ours(
            data: Predictions = data, sensitive: Mapping[str, Any] = sensitive
        ) -> FairnessReport:
            return fairness_report(
                data.label, data.prediction, sensitive_features=sensitive, intervals=False
            )

        def ours_text(data: Predictions = data, text: Mapping[str, Any] = text) -> FairnessReport:
            return fairness_report(
                data.label, data.prediction, sensitive_features=text, intervals=False
            )

        states = _interleaved(
            [
                ("fairness_report (object str columns)", ours, ours_rounds),
                ("fairness_report (numpy str columns)", ours_text, ours_rounds),
                (
                    "fairlearn MetricFrame",
                    functools.partial(_metric_frame, data),
                    reference_rounds,
                ),
            ]
        )
        mine, mine_text, theirs = states
        check, mismatch = "", None
        if theirs.calls:
            assert isinstance(mine.last, FairnessReport)
            check, mismatch = _fairness_check(mine.last, theirs.last)
        ours_side, text_side = _ran(mine), _ran(mine_text)
        reference = _summary(theirs)
        goal = Goal("faster", 300, judged=rows == 1_000_000)
        yield Measurement(benchmark, rows, ours_side, reference, goal, check, mismatch)
        yield Measurement(
            f"{benchmark}, numpy str input (not what the pipeline feeds)",
            rows,
            text_side,
            reference,
            goal.at(judged=False),
        )


def fairness_bootstrap() -> Iterator[Measurement]:
    """Ours: counts, points and 1,000 resamples of every metric; fairlearn: one resample."""
    benchmark = f"fairness {N_BOOT:,} bootstrap resamples of every metric"
    for rows, ours_rounds, reference_rounds in (
        (100_000, 15, 2),
        (1_000_000, 7, 1),
        (10_000_000, 3, 0),
    ):
        _progress(f"{benchmark} at {rows:,} rows")
        data = predictions(rows)
        sensitive = data.sensitive()

        def product(
            data: Predictions = data, sensitive: Mapping[str, Any] = sensitive
        ) -> FairnessReport:
            return fairness_report(
                data.label, data.prediction, sensitive_features=sensitive, n_boot=N_BOOT
            )

        states = _interleaved(
            [
                ("every metric", functools.partial(every_metric_bootstrap, data), ours_rounds),
                ("fairness_report with intervals", product, ours_rounds),
                (
                    "fairlearn MetricFrame(n_boot=1)",
                    functools.partial(
                        _metric_frame,
                        data,
                        n_boot=1,
                        ci_quantiles=[0.025, 0.975],
                        random_state=0,
                    ),
                    reference_rounds,
                ),
            ]
        )
        every, report, theirs = states
        assert isinstance(every.last, tuple)
        bounds = every.last[1]
        check = f"{sum(b is not None for b in bounds)} of {len(bounds)} intervals"
        every_side, report_side = _ran(every), _ran(report)
        reference = _summary(theirs)
        goal = Goal("within", 1.0)
        yield Measurement(benchmark, rows, every_side, reference, goal, check)
        yield Measurement(
            f"fairness_report with {N_BOOT:,} resamples (ratios, equalized odds; "
            "Wilson and Newcombe for the rest)",
            rows,
            report_side,
            reference,
            goal,
        )


def calibration_points() -> Iterator[Measurement]:
    """Bins, ECE, MCE, Brier and log loss against calibration_curve + brier_score_loss."""
    benchmark = f"calibration points, {N_BINS} uniform bins"
    for rows, rounds in ((100_000, 15), (1_000_000, 7), (10_000_000, 3)):
        _progress(f"{benchmark} at {rows:,} rows")
        data = predictions(rows)

        def ours(data: Predictions = data) -> CalibrationReport:
            return calibration_report(data.label, data.score, n_bins=N_BINS, intervals=False)

        mine, theirs = _interleaved(
            [
                ("calibration_report", ours, rounds),
                (
                    "scikit-learn calibration_curve + brier_score_loss",
                    functools.partial(_sklearn_calibration, data.label, data.score),
                    rounds,
                ),
            ]
        )
        assert isinstance(mine.last, CalibrationReport)
        assert isinstance(theirs.last, tuple)
        check, mismatch = _calibration_check(mine.last, theirs.last)
        ours_side, reference = _ran(mine), _summary(theirs)
        goal = Goal("faster", 3, judged=rows == 10_000_000)
        yield Measurement(benchmark, rows, ours_side, reference, goal, check, mismatch)


def end_to_end(folder: Path) -> Iterator[Measurement]:
    """pipeline.compute over a CSV file as a worker calls it against a bare pyarrow read.

    At 100k and 1M rows three more runs, each against the same bare read, show where the
    time goes: the pipeline's reader alone (`read_chunks`: the same read plus numpy
    conversion), and the pipeline with fairness only and with calibration only.
    """
    benchmark = "pipeline.compute, fairness + calibration, n_boot=0 (intervals off), CSV"
    goal = Goal("within", 1.5)
    for rows, rounds, parts_rounds in ((100_000, 9, 9), (1_000_000, 5, 5), (10_000_000, 2, 0)):
        _progress(f"{benchmark} at {rows:,} rows")
        path = folder / f"predictions-{rows}.csv"
        _write_csv(path, predictions(rows))
        bare = ("bare pyarrow open_csv", functools.partial(_bare_read, path), rounds)
        states = _interleaved(
            [
                ("pipeline.compute", functools.partial(_compute, path, CSV_KINDS), rounds),
                bare,
                ("read_chunks", functools.partial(_read_all, path), parts_rounds),
                ("fairness", functools.partial(_compute, path, ("fairness",)), parts_rounds),
                (
                    "calibration",
                    functools.partial(_compute, path, ("calibration",)),
                    parts_rounds,
                ),
            ]
        )
        mine, theirs, *parts = states
        assert isinstance(mine.last, dict)
        sizes = (
            mine.last["fairness"]["overall"]["size"],
            mine.last["calibration"]["size"],
            theirs.last,
        )
        mismatch = None if sizes == (rows,) * 3 else f"rows counted {sizes}, expected {rows}"
        check = f"{path.stat().st_size / 1e6:,.0f} MB file"
        path.unlink()
        reference = _summary(theirs)
        judged = goal.at(judged=rows == 1_000_000)
        yield Measurement(benchmark, rows, _ran(mine), reference, judged, check, mismatch)
        for part, what in zip(parts, PARTS, strict=True):
            side = _summary(part)
            if side is not None:
                yield Measurement(what, rows, side, reference, goal.at(judged=False))


CSV_KINDS = ("fairness", "calibration")
PARTS = (
    "  where the time goes: reading.read_chunks alone (the read + numpy conversion)",
    "  where the time goes: pipeline.compute, fairness only",
    "  where the time goes: pipeline.compute, calibration only",
)


def _write_csv(path: Path, data: Predictions) -> None:
    table = pa.table(
        {
            "label": data.label,
            "prediction": data.prediction,
            "score": data.score,
            "sex": data.sex_text,
            "region": data.region_text,
        }
    )
    pa_csv.write_csv(table, path)


def _compute(path: Path, kinds: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The engine as the worker calls it (with a progress callback, which adds a pass
    counting the file's lines)."""
    return pipeline.compute(
        path,
        format="csv",
        kinds=kinds,
        mapping=CSV_MAPPING,
        options={"n_boot": 0},
        on_progress=lambda done: None,
    )


def _read_all(path: Path) -> int:
    rows = 0
    for chunk in read_chunks(path, columns=CSV_COLUMNS, chunk_rows=pipeline.CHUNK_ROWS):
        rows += len(chunk["label"])
    return rows


def run() -> Iterator[Measurement]:
    """Every benchmark, each size as it is measured."""
    yield from fairness_points()
    yield from fairness_bootstrap()
    yield from calibration_points()
    with tempfile.TemporaryDirectory(prefix="riskreg-bench-") as folder:
        yield from end_to_end(Path(folder))
