"""The seeded reservoir sample of rows, and `ConfidenceSample` for quantile edges."""

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evaluations.assessments.calibration.binning import quantile_edges
from evaluations.assessments.calibration.inputs import (
    DEFAULT_SAMPLE_ROWS,
    TASKS,
    Floats,
    Seed,
    Task,
    _check_choice,
    _check_whole,
    _scores,
)
from evaluations.assessments.calibration.tables import _block_rows


def _entropy(seed: Seed) -> tuple[int, ...]:
    parts = [seed] if isinstance(seed, int | np.integer) else list(seed)
    if not parts or any(isinstance(s, bool) or not isinstance(s, int | np.integer) for s in parts):
        raise ValueError(f"seed must be a whole number ≥ 0 or a sequence of them, got {seed!r}")
    if any(s < 0 for s in parts):
        raise ValueError(f"seed must not be negative, got {seed!r}")
    return tuple(int(s) for s in parts)


def _generator(seed: Seed, stream: int) -> np.random.Generator:
    """Stream 0 draws the sample's keys, stream 1 the bootstrap resamples."""
    return np.random.default_rng(np.random.SeedSequence(list(_entropy(seed)), spawn_key=(stream,)))


class _Reservoir:
    """A uniform sample of at most `capacity` rows of a stream: the rows with the smallest keys.

    Every row draws a key from the seeded generator, in stream order, so the sample does not
    depend on how the stream is chunked. Rows are held in chunks and cut back to `capacity`
    whenever twice that many are held; once cut, a row whose key is above the largest kept
    key is dropped on arrival.
    """

    def __init__(self, capacity: int, seed: Seed) -> None:
        self.capacity = capacity
        self.seeds: set[tuple[int, ...]] = {_entropy(seed)}
        self._rng = _generator(seed, 0)
        self._chunks: list[dict[str, NDArray[Any]]] = []
        self._held = 0
        self._threshold = math.inf
        self.dropped = False

    def add(self, columns: dict[str, NDArray[Any]]) -> None:
        if self.capacity == 0:
            return
        n = int(next(iter(columns.values())).shape[0])
        keys = self._rng.random(n)
        if self._threshold < math.inf:
            keep = keys < self._threshold
            self.dropped = self.dropped or not keep.all()
            chunk = {name: values[keep] for name, values in columns.items()}
            chunk["key"] = keys[keep]
        else:
            chunk = {name: values.copy() for name, values in columns.items()}
            chunk["key"] = keys
        self._chunks.append(chunk)
        self._held += chunk["key"].shape[0]
        if self._held > 2 * self.capacity:
            self._cut()

    def _cut(self) -> None:
        rows = self.rows()
        if rows["key"].shape[0] > self.capacity:
            kept = np.argpartition(rows["key"], self.capacity - 1)[: self.capacity]
            rows = {name: values[kept] for name, values in rows.items()}
            self._threshold = float(rows["key"].max())
            self.dropped = True
        self._chunks = [rows]
        self._held = rows["key"].shape[0]

    def rows(self) -> dict[str, NDArray[Any]]:
        """The held rows, concatenated (not yet cut to capacity)."""
        if len(self._chunks) != 1:
            names = self._chunks[0].keys() if self._chunks else ()
            self._chunks = [
                {name: np.concatenate([c[name] for c in self._chunks]) for name in names}
            ]
        return self._chunks[0] if self._chunks else {}

    def sample(self) -> dict[str, NDArray[Any]]:
        """At most `capacity` rows, in the order of their keys."""
        if self._held > self.capacity:
            self._cut()
        rows = self.rows()
        if not rows:
            return {}
        order = np.argsort(rows["key"], kind="stable")
        return {name: values[order] for name, values in rows.items()}

    def merge(self, other: "_Reservoir") -> None:
        if other.capacity != self.capacity:
            raise ValueError(
                f"cannot merge a sample of at most {other.capacity} rows into one of "
                f"at most {self.capacity}"
            )
        if other._held == 0:
            return
        if self.seeds & other.seeds:
            raise ValueError(
                "cannot merge samples drawn with the same seed (their keys would repeat): "
                "give each partial accumulator its own seed, e.g. seed=(base, part)"
            )
        self._chunks.append(other.rows())
        self._held += other._held
        self.seeds |= other.seeds
        self.dropped = self.dropped or other.dropped
        self._threshold = min(self._threshold, other._threshold)
        if self._held > 2 * self.capacity:
            self._cut()


class ConfidenceSample:
    """A first pass for quantile bins when streaming: a bounded uniform sample of confidences.

    Keeps every confidence while at most `max_rows` have been seen, else a seeded uniform
    sample of `max_rows` of them; `edges(n_bins)` gives their percentiles (exact in the
    first case, an approximation in the second).
    """

    def __init__(
        self, *, task: Task = "binary", max_rows: int = DEFAULT_SAMPLE_ROWS, seed: Seed = 0
    ) -> None:
        _check_choice("task", task, TASKS)
        _check_whole("max_rows", max_rows, 1)
        self.task = task
        self.size = 0
        self._reservoir = _Reservoir(max_rows, seed)

    def update(self, y_score: ArrayLike) -> None:
        """Add the confidences of one chunk of scores (checked as `CalibrationStats.update`)."""
        scores = _scores(y_score, self.task)
        step = _block_rows(scores)
        for start in range(0, scores.shape[0], step):
            block = np.asarray(scores[start : start + step], dtype=np.float64)
            confidence = block if self.task == "binary" else block.max(axis=1)
            self._reservoir.add({"confidence": confidence})
        self.size += scores.shape[0]

    def merge(self, other: "ConfidenceSample") -> None:
        """Add another sample's rows (it must have been seeded differently; see the module)."""
        if other.task != self.task:
            raise ValueError(f"cannot merge a {other.task!r} sample into a {self.task!r} one")
        self._reservoir.merge(other._reservoir)
        self.size += other.size

    @property
    def exact(self) -> bool:
        """True while the sample holds every confidence seen."""
        return not self._reservoir.dropped and self.size <= self._reservoir.capacity

    def edges(self, n_bins: int) -> Floats:
        """Quantile edges (`quantile_edges`) of the sampled confidences."""
        sample = self._reservoir.sample()
        return quantile_edges(sample.get("confidence", np.empty(0)), n_bins)
