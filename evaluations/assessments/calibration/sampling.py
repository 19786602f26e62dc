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
from evaluations.assessments.encoding import (
    decode_array,
    decode_float,
    encode_array,
    encode_float,
)


def _entropy(seed: Seed) -> tuple[int, ...]:
    parts = [seed] if isinstance(seed, int | np.integer) else list(seed)
    if not parts or any(isinstance(s, bool) or not isinstance(s, int | np.integer) for s in parts):
        raise ValueError(f"seed must be a whole number ≥ 0 or a sequence of them, got {seed!r}")
    if any(s < 0 for s in parts):
        raise ValueError(f"seed must not be negative, got {seed!r}")
    return tuple(int(s) for s in parts)


def _generator(seed: Seed, stream: int, skip: int = 0) -> np.random.Generator:
    """Stream 0 draws the sample's keys, stream 1 the bootstrap resamples. `skip` advances
    the generator by that many 64-bit draws (one per key: `Generator.random` takes one
    draw per float64), as `numpy.random.default_rng` would after as many keys."""
    bits = np.random.PCG64(np.random.SeedSequence(list(_entropy(seed)), spawn_key=(stream,)))
    return np.random.Generator(bits.advance(skip) if skip else bits)


# A span of one key stream: (seed entropy, first row, row after the last).
Span = tuple[tuple[int, ...], int, int]
_KEY_BLOCK = 1 << 22


def _overlap(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


class _Reservoir:
    """A uniform sample of at most `capacity` rows of a stream: the rows with the smallest keys.

    Every row draws a key from the seeded generator, in stream order, so the sample does not
    depend on how the stream is chunked. Rows are held in chunks and cut back to `capacity`
    whenever twice that many are held; once cut, a row whose key is above the largest kept
    key is dropped on arrival. `first_row` starts the keys at that row of the stream (the
    generator is advanced, one 64-bit draw per key), and `key_bound` drops from the start
    every row whose key is not below it.
    """

    def __init__(
        self, capacity: int, seed: Seed, *, first_row: int = 0, key_bound: float = math.inf
    ) -> None:
        _check_whole("first_row", first_row, 0)
        if not key_bound > 0:  # also refuses NaN
            raise ValueError(f"key_bound must be a number > 0, got {key_bound!r}")
        self.capacity = capacity
        self.entropy = _entropy(seed)
        self.first_row = first_row
        self.next_row = first_row  # the stream row whose key is drawn next
        self.merged: list[Span] = []  # the spans of the samples merged into this one
        self._rng = _generator(seed, 0, first_row)
        self._chunks: list[dict[str, NDArray[Any]]] = []
        self._held = 0
        self._threshold = float(key_bound)
        self.dropped = False

    @property
    def spans(self) -> list[Span]:
        """The stream rows whose keys this sample drew: its own and those merged in."""
        return [(self.entropy, self.first_row, self.next_row), *self.merged]

    def add(self, columns: dict[str, NDArray[Any]]) -> None:
        if self.capacity == 0:
            return
        n = int(next(iter(columns.values())).shape[0])
        keys = self._rng.random(n)
        self.next_row += n
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
        if any(_overlap(a, b) for a in self.spans for b in other.spans):
            raise ValueError(
                "cannot merge samples drawn with the same seed over the same rows (their keys "
                "would repeat): give each partial accumulator its own seed, e.g. "
                "seed=(base, part), or its own first_row of one stream"
            )
        self._chunks.append(other.rows())
        self._held += other._held
        self.merged += other.spans
        self.dropped = self.dropped or other.dropped
        self._threshold = min(self._threshold, other._threshold)
        if self._held > 2 * self.capacity:
            self._cut()

    def to_state(self) -> dict[str, Any]:
        """The sample as JSON: its rows (cut to capacity), stream position and bounds."""
        if self._held > self.capacity:
            self._cut()
        return {
            "capacity": self.capacity,
            "entropy": list(self.entropy),
            "first_row": self.first_row,
            "next_row": self.next_row,
            "merged": [[list(e), start, stop] for e, start, stop in self.merged],
            "threshold": encode_float(self._threshold),
            "dropped": self.dropped,
            "rows": {name: encode_array(values) for name, values in self.rows().items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "_Reservoir":
        """The sample `to_state` wrote; it goes on drawing keys where it stopped."""
        entropy = tuple(int(e) for e in state["entropy"])
        sample = cls(int(state["capacity"]), entropy, first_row=int(state["first_row"]))
        sample.next_row = int(state["next_row"])
        sample._rng = _generator(entropy, 0, sample.next_row)
        sample.merged = [
            (tuple(int(x) for x in e), int(start), int(stop)) for e, start, stop in state["merged"]
        ]
        sample._threshold = decode_float(state["threshold"])
        sample.dropped = bool(state["dropped"])
        rows = {name: decode_array(values) for name, values in state["rows"].items()}
        if rows:
            sample._chunks = [rows]
            sample._held = int(rows["key"].shape[0])
        return sample


def sample_key_bound(rows: int, *, seed: Seed = 0, sample_rows: int = DEFAULT_SAMPLE_ROWS) -> float:
    """The key below which lie exactly the rows one pass over `rows` rows samples.

    The keys are the seeded stream's first `rows` draws, known before any row is read; one
    pass keeps the `sample_rows` smallest. Parts of the stream built with this bound as
    `sample_key_bound` (and their own `first_row`) keep only those rows, so their samples
    merge into the one-pass sample while each holds only its share. math.inf when there
    is nothing to bound: every row is kept (rows ≤ sample_rows), or none (sample_rows 0).

    Raises
    ------
    ValueError
        When rows or sample_rows is not a whole number ≥ 0, or the seed is bad.
    """
    _check_whole("rows", rows, 0)
    _check_whole("sample_rows", sample_rows, 0)
    if rows <= sample_rows or sample_rows == 0:
        return math.inf
    generator = _generator(seed, 0)
    kept, largest = np.empty(0), math.inf
    for start in range(0, rows, _KEY_BLOCK):
        keys = generator.random(min(_KEY_BLOCK, rows - start))
        kept = np.concatenate([kept, keys[keys <= largest]])
        if kept.size > 2 * sample_rows:
            kept = np.partition(kept, sample_rows - 1)[:sample_rows]
            largest = float(kept.max())
    kth = float(np.partition(kept, sample_rows - 1)[sample_rows - 1])
    return float(np.nextafter(kth, math.inf))


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
