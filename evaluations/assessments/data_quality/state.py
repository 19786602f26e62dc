"""Accumulated state: hash and value counts, samples, and per-split and per-side state."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evaluations.assessments.data_quality.common import F64, MAX_CATEGORIES, U64, Kind
from evaluations.assessments.data_quality.inputs import (
    _check_name,
    _check_split,
    _difference,
    _row_count,
)
from evaluations.assessments.data_quality.normalise import (
    _mix,
    _normalise,
    _Normalised,
    _row_hashes,
)
from evaluations.assessments.encoding import decode_array, encode_array


@dataclass(frozen=True)
class _Config:
    split_column: str | None
    label: str | None
    sensitive: tuple[str, ...]
    distributions: bool
    sample_size: int
    sample_salt: np.uint64


class _HashCounts:
    """A multiset of 64-bit hashes: sorted distinct hashes and their counts."""

    def __init__(self) -> None:
        self.hashes: U64 = np.empty(0, np.uint64)
        self.counts: NDArray[np.int64] = np.empty(0, np.int64)
        self._pending: list[U64] = []
        self._held = 0

    def add(self, hashes: U64) -> None:
        self._pending.append(hashes)
        self._held += len(hashes)
        # Sorting in batches keeps the work near O(n log n) overall.
        if self._held > max(1 << 20, len(self.hashes)):
            self.compact()

    def compact(self) -> None:
        if self._pending:
            hashes = np.concatenate(self._pending)
            self._pending, self._held = [], 0
            self._combine(hashes, np.ones(len(hashes), np.int64))

    def merge(self, other: "_HashCounts") -> None:
        other.compact()
        self._combine(other.hashes, other.counts)

    def _combine(self, hashes: U64, counts: NDArray[np.int64]) -> None:
        """Add hashes with counts: one sort, then the counts of equal hashes summed."""
        hashes = np.concatenate([self.hashes, hashes])
        counts = np.concatenate([self.counts, counts])
        order = np.argsort(hashes)
        hashes, counts = hashes[order], counts[order]
        starts = np.flatnonzero(np.diff(hashes, prepend=~hashes[:1]))
        self.hashes = hashes[starts]
        self.counts = np.add.reduceat(counts, starts) if len(starts) else counts[:0]

    def to_state(self) -> dict[str, Any]:
        self.compact()
        return {"hashes": encode_array(self.hashes), "counts": encode_array(self.counts)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "_HashCounts":
        counts = cls()
        counts.hashes = decode_array(state["hashes"]).astype(np.uint64)
        counts.counts = decode_array(state["counts"]).astype(np.int64)
        return counts

    def rows_in(self, other: "_HashCounts") -> int:
        """How many of these rows (with repeats) are also among `other`'s."""
        self.compact()
        other.compact()
        shared = np.isin(self.hashes, other.hashes, assume_unique=True)
        return int(self.counts[shared].sum())


@dataclass
class _ValueCounts:
    """Rows per value (by hash), with the value's key as shown in the metrics."""

    counts: dict[int, int] = field(default_factory=dict)
    keys: dict[int, str] = field(default_factory=dict)

    def add(self, column: "_Normalised", rows: NDArray[np.intp]) -> None:
        present = rows[~column.missing[rows]]
        hashes, first, counts = np.unique(
            column.hashes[present], return_index=True, return_counts=True
        )
        for value, at, count in zip(hashes.tolist(), present[first], counts.tolist(), strict=True):
            self.counts[value] = self.counts.get(value, 0) + count
            if value not in self.keys:
                self.keys[value] = column.key(int(at))

    def merge(self, other: "_ValueCounts") -> None:
        for value, count in other.counts.items():
            self.counts[value] = self.counts.get(value, 0) + count
            self.keys.setdefault(value, other.keys[value])

    def to_state(self) -> dict[str, Any]:
        values = list(self.counts)
        return {
            "values": encode_array(np.array(values, dtype=np.uint64)),
            "counts": [self.counts[v] for v in values],
            "keys": [self.keys[v] for v in values],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "_ValueCounts":
        values = decode_array(state["values"]).astype(np.uint64).tolist()
        return cls(
            counts=dict(zip(values, (int(c) for c in state["counts"]), strict=True)),
            keys=dict(zip(values, (str(k) for k in state["keys"]), strict=True)),
        )

    def by_key(self) -> dict[str, int]:
        """Counts per key; values that show the same key (the number 1, the text "1") add up."""
        out: dict[str, int] = {}
        for value, count in self.counts.items():
            key = self.keys[value]
            out[key] = out.get(key, 0) + count
        return dict(sorted(out.items()))


@dataclass
class _Sample:
    """The non-missing values of a numeric column with the smallest row keys (bottom-k)."""

    size: int
    seen: int = 0
    keys: U64 = field(default_factory=lambda: np.empty(0, np.uint64))
    values: F64 = field(default_factory=lambda: np.empty(0, np.float64))

    def add(self, keys: U64, values: F64) -> None:
        self.seen += len(values)
        if len(self.keys) >= self.size:
            # Only a key below the largest kept one can enter.
            lower = keys < self.keys.max()
            keys, values = keys[lower], values[lower]
        keys = np.concatenate([self.keys, keys])
        values = np.concatenate([self.values, values])
        if len(keys) > self.size:
            kept = np.argpartition(keys, self.size - 1)[: self.size]
            keys, values = keys[kept], values[kept]
        self.keys, self.values = keys, values

    def merge(self, other: "_Sample") -> None:
        seen = self.seen + other.seen
        self.add(other.keys, other.values)
        self.seen = seen

    @property
    def exact(self) -> bool:
        return self.seen == len(self.values)

    def to_state(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "seen": self.seen,
            "keys": encode_array(self.keys),
            "values": encode_array(self.values),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "_Sample":
        return cls(
            size=int(state["size"]),
            seen=int(state["seen"]),
            keys=decode_array(state["keys"]).astype(np.uint64),
            values=decode_array(state["values"]).astype(np.float64),
        )


@dataclass
class _SplitState:
    rows: int = 0
    missing: dict[str, int] = field(default_factory=dict)
    hashes: _HashCounts = field(default_factory=_HashCounts)
    label: _ValueCounts = field(default_factory=_ValueCounts)
    groups: dict[str, _ValueCounts] = field(default_factory=dict)
    samples: dict[str, _Sample] = field(default_factory=dict)
    categories: dict[str, _ValueCounts] = field(default_factory=dict)
    # Columns that showed more than MAX_CATEGORIES values: no categorical PSI.
    capped: set[str] = field(default_factory=set)

    def to_state(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "missing": dict(self.missing),
            "hashes": self.hashes.to_state(),
            "label": self.label.to_state(),
            "groups": {name: counts.to_state() for name, counts in self.groups.items()},
            "samples": {name: sample.to_state() for name, sample in self.samples.items()},
            "categories": {name: c.to_state() for name, c in self.categories.items()},
            "capped": sorted(self.capped),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "_SplitState":
        return cls(
            rows=int(state["rows"]),
            missing={name: int(count) for name, count in state["missing"].items()},
            hashes=_HashCounts.from_state(state["hashes"]),
            label=_ValueCounts.from_state(state["label"]),
            groups={n: _ValueCounts.from_state(c) for n, c in state["groups"].items()},
            samples={n: _Sample.from_state(c) for n, c in state["samples"].items()},
            categories={n: _ValueCounts.from_state(c) for n, c in state["categories"].items()},
            capped={str(name) for name in state["capped"]},
        )

    def merge(self, other: "_SplitState") -> None:
        self.rows += other.rows
        for name, count in other.missing.items():
            self.missing[name] = self.missing.get(name, 0) + count
        self.hashes.merge(other.hashes)
        self.label.merge(other.label)
        for name, counts in other.groups.items():
            self.groups.setdefault(name, _ValueCounts()).merge(counts)
        for name, sample in other.samples.items():
            self.samples.setdefault(name, _Sample(sample.size)).merge(sample)
        self.capped |= other.capped
        for name, categories in other.categories.items():
            self.categories.setdefault(name, _ValueCounts()).merge(categories)
        for name in list(self.categories):
            _cap(self, name)


class _Side:
    """The state of the data, or of the reference: its columns and its splits."""

    def __init__(self, config: _Config, default_split: str, *, single: bool = False) -> None:
        self.config = config
        self.default_split = default_split
        self.single = single  # the reference is one split, whatever its split column says
        self.columns: list[str] | None = None
        self.kinds: dict[str, Kind] = {}
        self.splits: dict[str, _SplitState] = {}

    def update(self, chunk: dict[str, NDArray[Any]]) -> None:
        split_column = self.config.split_column
        if self.single and split_column is not None:
            chunk = {name: values for name, values in chunk.items() if name != split_column}
        self._check_columns(chunk)
        if not _row_count(chunk):
            return
        normal = {name: _normalise(name, chunk[name]) for name in chunk}
        measured = [name for name in sorted(chunk) if name != split_column]
        for name in measured:
            self.kinds[name] = _combine_kinds(self.kinds.get(name, "empty"), normal[name].kind)
        rows = _row_hashes([normal[name] for name in measured], _row_count(chunk))
        keys = _mix(rows ^ self.config.sample_salt) if self.config.distributions else rows
        for split, at in self._split_rows(normal, len(rows)):
            state = self.splits.setdefault(split, _SplitState())
            self._add(state, normal, measured, rows, keys, at)

    def merge(self, other: "_Side") -> None:
        if other.columns is None:
            return
        if self.columns is None:
            self.columns = list(other.columns)
        elif set(self.columns) != set(other.columns):
            raise ValueError(_difference("the merged accumulator", other.columns, self.columns))
        for name, kind in other.kinds.items():
            self.kinds[name] = _combine_kinds(self.kinds.get(name, "empty"), kind)
        for split, state in other.splits.items():
            self.splits.setdefault(split, _SplitState()).merge(state)

    def to_state(self) -> dict[str, Any]:
        """The columns, their kinds and every split's state, as JSON (splits in order)."""
        return {
            "columns": self.columns,
            "kinds": dict(self.kinds),
            "splits": [[name, state.to_state()] for name, state in self.splits.items()],
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Take the columns, kinds and splits `to_state` wrote (this side must be new)."""
        columns = state["columns"]
        self.columns = None if columns is None else [str(name) for name in columns]
        self.kinds = {str(name): kind for name, kind in state["kinds"].items()}
        self.splits = {str(name): _SplitState.from_state(s) for name, s in state["splits"]}

    def _check_columns(self, chunk: Mapping[str, NDArray[Any]]) -> None:
        if self.columns is None:
            for name in chunk:
                _check_name(name, "column name")
            config = self.config
            needed = [config.split_column] if config.split_column and not self.single else []
            needed += [config.label] if config.label else []
            needed += list(config.sensitive)
            missing = [name for name in needed if name not in chunk]
            if missing:
                raise ValueError(
                    f"missing columns {', '.join(map(repr, missing))}; "
                    f"available: {', '.join(map(repr, chunk))}"
                )
            self.columns = list(chunk)
        elif set(chunk) != set(self.columns):
            raise ValueError(_difference("this chunk", list(chunk), self.columns))

    def _split_rows(
        self, normal: dict[str, "_Normalised"], count: int
    ) -> list[tuple[str, NDArray[np.intp]]]:
        """Each split in the chunk, in order of first appearance, with its row positions."""
        name = self.config.split_column
        if name is None or self.single:
            return [(self.default_split, np.arange(count))]
        column = normal[name]
        if column.missing.any():
            raise ValueError(f"the split column {name!r} is missing in {column.missing.sum()} rows")
        _, first, inverse = np.unique(column.hashes, return_index=True, return_inverse=True)
        found = []
        for code in np.argsort(first):
            split = column.key(int(first[code]))
            _check_split(split)
            found.append((split, np.flatnonzero(inverse == code)))
        return found

    def _add(
        self,
        state: _SplitState,
        normal: dict[str, "_Normalised"],
        measured: list[str],
        rows: U64,
        keys: U64,
        at: NDArray[np.intp],
    ) -> None:
        config = self.config
        state.rows += len(at)
        for name in measured:
            state.missing[name] = state.missing.get(name, 0) + int(normal[name].missing[at].sum())
        state.hashes.add(rows[at])
        if config.label is not None:
            state.label.add(normal[config.label], at)
        for feature in config.sensitive:
            state.groups.setdefault(feature, _ValueCounts()).add(normal[feature], at)
        if config.distributions:
            for name in measured:
                self._add_distribution(state, name, normal[name], keys, at)

    def _add_distribution(
        self, state: _SplitState, name: str, column: "_Normalised", keys: U64, at: NDArray[np.intp]
    ) -> None:
        kind = self.kinds[name]
        if kind == "number" and column.numbers is not None:
            present = at[~column.missing[at]]
            sample = state.samples.setdefault(name, _Sample(self.config.sample_size))
            sample.add(keys[present], column.numbers[present])
        elif kind == "category" and name not in state.capped:
            state.categories.setdefault(name, _ValueCounts()).add(column, at)
            _cap(state, name)


def _cap(state: _SplitState, name: str) -> None:
    """Stop counting the values of a column that has too many of them."""
    if name in state.capped or len(state.categories[name].counts) > MAX_CATEGORIES:
        state.categories.pop(name, None)
        state.capped.add(name)


def _combine_kinds(old: Kind, new: Kind) -> Kind:
    if old == "empty" or old == new:
        return new
    return old if new == "empty" else "mixed"


def _check_same_columns(reference: _Side, data: _Side) -> None:
    split_column = data.config.split_column
    ours = [name for name in data.columns or [] if name != split_column]
    theirs = [name for name in reference.columns or [] if name != split_column]
    if set(ours) != set(theirs):
        raise ValueError(_difference("the reference", theirs, ours))
