"""Data quality of tabular datasets: the `data_quality` evidence metrics, computed in chunks.

For every split of a dataset (and for a reference dataset, when one is given):

- ``rows``: the number of rows.
- ``missing[column]``: for every column but the split column, the count of missing values
  and rate = count / rows. Missing means
  None, NaN, ``pandas.NA``, NaT, or text that is empty once normalised (below), so an empty
  CSV field, ``""`` and ``"  "`` are all missing. Text such as "NA" is a value.
- ``duplicate_rows``: count = rows - distinct rows (every row that repeats an earlier one),
  rate = count / rows.
- ``label_balance[value]`` and ``group_representation[feature][value]``: rows holding the
  value, and rate = count / rows. Rows whose label or feature is missing are counted in
  ``missing`` only, so these rates add up to 1 - the column's missing rate.

Across splits, ``overlap`` gives for every ordered pair of splits (a, b) the rows of b
that also occur in a, and rate = those rows / rows of b (a row of b repeated three times
counts three times). With a reference dataset, its split takes part like any other.

Against the reference, ``drift`` gives per column of each split:

- ``psi`` (population stability index), PSI = Σ_i (p_i - q_i) · ln(p_i / q_i), where p_i
  and q_i are the shares of the split's and of the reference's rows that fall in bin i.
  Numbers: `PSI_BINS` (10) bins cut at the reference's deciles (numpy's linear
  quantiles; equal cut points merged, so a column with few values gets fewer bins); a
  bin is (lower, upper], the first open below and the last open above. Text and booleans:
  one bin per value seen on either side. Missing values are one more bin in both cases,
  so a rise in missing values is drift too. A share of 0 is replaced by `PSI_EPSILON`
  (1e-4) on both sides before the formula, which keeps every term finite and ≥ 0. Text
  columns with more than `MAX_CATEGORIES` distinct values (identifiers, free text) get no
  PSI; nor do dates and times, and columns that hold numbers in some places and text in
  others (in one dataset, or one in each).
- ``ks_statistic`` and ``ks_p_value`` for numeric columns: the two-sample
  Kolmogorov-Smirnov test, ``scipy.stats.ks_2samp(split_values, reference_values)`` with
  its defaults (two-sided, exact p-value for small samples), on the non-missing values.

Normalisation (what "the same value" means, for duplicates, overlap and counting):
text is NFC-normalised and stripped of leading and trailing whitespace (case is kept);
numbers are compared by value whatever their type (1 == 1.0 == True, -0.0 == 0.0; an
integer beyond 2**53 that no double holds stays exact); a number never equals text
("1" ≠ 1); all missing values are one marker; dates and times compare as instants.
Value keys in the metrics are the normalised text, or the number written shortest
(``1`` for 1.0, ``0.5``; booleans are ``1`` and ``0``).

How the work is split: `DataQualityAccumulator.update` takes one chunk at a time, and
`merge` adds another accumulator's chunks (another worker, another file part). Counts are
additive. Duplicates and overlap need the distinct rows: each row is kept as one 64-bit
hash with its count (16 bytes per distinct row and split, and about three times that for a
moment while they are sorted), never as values. Numeric drift needs the values: each
numeric column keeps a bounded sample of at most `sample_size` (1,000,000) non-missing
values per split (16 bytes each), chosen by the smallest keys, where a row's key
is a seeded hash of its content. While a column has no more values than that, the sample
is every value and PSI and KS are exact (equal to ``ks_2samp`` on the whole data);
beyond it they are computed on the sample, an approximation whose result does not depend
on chunk size, chunk order or how the data was split across workers (identical rows are
sampled together). `ColumnDrift.exact` says which case applies.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pandas.util import hash_array
from scipy import stats

PSI_BINS = 10
PSI_EPSILON = 1e-4
SAMPLE_SIZE = 1_000_000
MAX_CATEGORIES = 1_000

Frame: TypeAlias = pd.DataFrame | Mapping[str, Any]
Kind = Literal["empty", "number", "category", "mixed", "other"]
U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]

_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}\Z")
_NAME_MAX = 100
_SPLIT_MAX = 64
_EXACT_FLOAT_INT = 2**53

# Every value is hashed to 64 bits in its own domain (numbers, text, ...), and a row's hash
# combines its values' hashes in column-name order. Two different rows share a hash with
# probability about n**2 / 2**65 among n distinct rows (birthday bound): 3e-8 at a million
# rows, 3e-4 at a hundred million. Duplicates and overlap are exact up to that: a
# collision would count two different rows as one. The hashes are not cryptographic: they
# guard against chance, not against someone crafting rows to collide in their own data.
_MISSING = np.uint64(0x6D69737369E6E700)
_NUMBER = np.uint64(0x9E3779B97F4A7C15)
_WIDE_INTEGER = np.uint64(0xD1B54A32D192ED03)
_TEXT = np.uint64(0x8CB92BA72F3D8DD7)
_TIME = np.uint64(0xA0761D6478BD642F)
_ROW = np.uint64(0xE7037ED1A0B428DB)
_SAMPLE = np.uint64(0x8EBC6AF09C88C6E3)


# Results.


@dataclass(frozen=True)
class CountRate:
    """How many rows, and which share of the rows they were counted among."""

    count: int
    rate: float

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "rate": self.rate}


@dataclass(frozen=True)
class DatasetQuality:
    """The quality of one split of one dataset."""

    slug: str
    split: str
    rows: int
    missing: Mapping[str, CountRate]
    duplicate_rows: CountRate
    label_balance: Mapping[str, CountRate] | None = None
    group_representation: Mapping[str, Mapping[str, CountRate]] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "slug": self.slug,
            "split": self.split,
            "rows": self.rows,
            "missing": {name: value.to_json() for name, value in self.missing.items()},
            "duplicate_rows": self.duplicate_rows.to_json(),
        }
        if self.label_balance is not None:
            out["label_balance"] = {k: v.to_json() for k, v in self.label_balance.items()}
        if self.group_representation is not None:
            out["group_representation"] = {
                feature: {k: v.to_json() for k, v in values.items()}
                for feature, values in self.group_representation.items()
            }
        return out


@dataclass(frozen=True)
class Overlap:
    """Rows of split `between[1]` that also occur in split `between[0]`."""

    between: tuple[str, str]
    rows: int
    rate: float

    def to_json(self) -> dict[str, Any]:
        return {"between": list(self.between), "rows": self.rows, "rate": self.rate}


@dataclass(frozen=True)
class ColumnDrift:
    """Drift statistics of one column; `exact` is False when computed on a sample."""

    psi: float
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    exact: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"psi": self.psi}
        if self.ks_statistic is not None and self.ks_p_value is not None:
            out["ks_statistic"] = self.ks_statistic
            out["ks_p_value"] = self.ks_p_value
        return out


@dataclass(frozen=True)
class Drift:
    """Drift of one split against the reference split."""

    slug: str
    split: str
    reference_slug: str
    reference_split: str
    columns: Mapping[str, ColumnDrift]

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "split": self.split,
            "reference": {"slug": self.reference_slug, "split": self.reference_split},
            "columns": {name: value.to_json() for name, value in self.columns.items()},
        }


@dataclass(frozen=True)
class DataQualityReport:
    """Everything measured; `to_metrics()` gives the `data_quality` evidence metrics."""

    datasets: tuple[DatasetQuality, ...]
    overlap: tuple[Overlap, ...]
    drift: tuple[Drift, ...]

    def to_metrics(self) -> dict[str, Any]:
        """The `metrics` object of a `data_quality` evidence document (schema 1.0)."""
        return {
            "datasets": [item.to_json() for item in self.datasets],
            "overlap": [item.to_json() for item in self.overlap],
            "drift": [item.to_json() for item in self.drift],
        }


# Entry points.


def data_quality_report(
    frame_or_chunks: Frame | Iterable[Frame],
    *,
    dataset: str,
    split_column: str | None = None,
    split: str = "all",
    label: str | None = None,
    sensitive: Sequence[str] = (),
    reference: Frame | Iterable[Frame] | None = None,
    reference_dataset: str | None = None,
    reference_split: str = "reference",
    sample_size: int = SAMPLE_SIZE,
    seed: int = 0,
) -> DataQualityReport:
    """Measure the data quality of a dataset in one call (see the module for the metrics).

    Parameters
    ----------
    frame_or_chunks : DataFrame, mapping of columns, or an iterable of either
        The data: a `pandas.DataFrame`, a mapping {column: 1-D array}, or chunks of them
        (such as `reading.read_chunks(path)`), all with the same columns.
    dataset : str
        The inventory slug of the dataset.
    split_column : str, optional
        A column naming each row's split (train, test, ...); it is not itself measured.
        Without it, every row belongs to the split named `split`.
    label : str, optional
        The column whose balance is measured.
    sensitive : sequence of str
        The features whose representation is measured.
    reference, reference_dataset, reference_split
        Data to measure drift against (chunked like the data, with the same columns; a
        `split_column` there is ignored), its inventory slug and the split it is.
    sample_size, seed
        The most numeric values kept per column and split for drift, and the seed that
        chooses them when there are more.

    Raises
    ------
    ValueError
        For a bad slug or split name, a missing column, columns that differ between chunks
        or from the reference, a split without rows, or values that cannot be compared.
    """
    if (reference is None) != (reference_dataset is None):
        raise ValueError("reference and reference_dataset must be given together")
    accumulator = DataQualityAccumulator(
        dataset=dataset,
        split_column=split_column,
        split=split,
        label=label,
        sensitive=sensitive,
        reference_dataset=reference_dataset,
        reference_split=reference_split,
        sample_size=sample_size,
        seed=seed,
    )
    if reference is not None:
        for chunk in _frames(reference, "reference"):
            accumulator.update_reference(chunk)
    for chunk in _frames(frame_or_chunks, "frame_or_chunks"):
        accumulator.update(chunk)
    return accumulator.result()


class DataQualityAccumulator:
    """Additive data-quality state: feed chunks with `update`, combine with `merge`.

    `update` takes chunks of the data, `update_reference` chunks of the reference
    dataset (only when `reference_dataset` is given). Accumulators built with the same
    arguments can be merged in any order and give the result one of them would give on all
    the chunks (exactly; see the module on sampling beyond `sample_size`).
    """

    def __init__(
        self,
        *,
        dataset: str,
        split_column: str | None = None,
        split: str = "all",
        label: str | None = None,
        sensitive: Sequence[str] = (),
        reference_dataset: str | None = None,
        reference_split: str = "reference",
        sample_size: int = SAMPLE_SIZE,
        seed: int = 0,
    ) -> None:
        _check_slug(dataset, "dataset")
        _check_split(split)
        if isinstance(sensitive, str):
            raise ValueError(f"sensitive must be a sequence of names, not the string {sensitive!r}")
        if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1:
            raise ValueError(f"sample_size must be an integer >= 1, got {sample_size!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
            raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
        if reference_dataset is not None:
            _check_slug(reference_dataset, "reference_dataset")
            _check_split(reference_split)
        self.dataset = dataset
        self.reference_dataset = reference_dataset
        self.reference_split = reference_split
        config = _Config(
            split_column=split_column,
            label=label,
            sensitive=tuple(sensitive),
            distributions=reference_dataset is not None,
            sample_size=sample_size,
            sample_salt=_mix(np.array([seed], dtype=np.uint64) ^ _SAMPLE)[0],
        )
        self._data = _Side(config, split)
        self._reference = _Side(config, reference_split, single=True)

    def update(self, chunk: Frame) -> None:
        """Add a chunk of the data: a DataFrame or a mapping {column: 1-D array}."""
        self._data.update(_columns(chunk))

    def update_reference(self, chunk: Frame) -> None:
        """Add a chunk of the reference dataset."""
        if self.reference_dataset is None:
            raise ValueError("this accumulator has no reference dataset (reference_dataset=None)")
        self._reference.update(_columns(chunk))

    def merge(self, other: "DataQualityAccumulator") -> None:
        """Add everything `other` has seen (it must have been built with the same arguments)."""
        if other is self:
            raise ValueError("an accumulator cannot be merged with itself")
        if not isinstance(other, DataQualityAccumulator) or (
            self._signature() != other._signature()
        ):
            raise ValueError("only accumulators built with the same arguments can be merged")
        self._data.merge(other._data)
        self._reference.merge(other._reference)

    def result(self) -> DataQualityReport:
        """The report on everything seen so far.

        Raises
        ------
        ValueError
            When the data (or the reference) has no rows, a split name is used by both, the
            reference's columns differ from the data's, or a value key does not fit the
            schema (empty, or longer than 100 characters).
        """
        sides = [(self.dataset, self._data)]
        if self.reference_dataset is not None:
            sides.insert(0, (self.reference_dataset, self._reference))
            _check_same_columns(self._reference, self._data)
            clash = sorted(set(self._reference.splits) & set(self._data.splits))
            if clash:
                raise ValueError(
                    f"the reference split {clash[0]!r} is also a split of the data; "
                    "choose another reference_split"
                )
        datasets, splits = [], []
        for slug, side in sides:
            if not side.splits:
                which = "reference" if side is self._reference else "data"
                raise ValueError(f"the {which} ({slug}) has no rows")
            for name, state in side.splits.items():
                datasets.append(_dataset_quality(slug, name, state, side.config))
                splits.append((name, state))
        overlap = [
            _overlap(a_name, a, b_name, b)
            for a_name, a in splits
            for b_name, b in splits
            if a is not b
        ]
        drift = self._drift()
        return DataQualityReport(tuple(datasets), tuple(overlap), tuple(drift))

    def _drift(self) -> list[Drift]:
        if self.reference_dataset is None:
            return []
        reference = self._reference.splits[self.reference_split]
        found = []
        for name, state in self._data.splits.items():
            columns = _column_drift(self._data, state, self._reference, reference)
            if columns:
                found.append(
                    Drift(self.dataset, name, self.reference_dataset, self.reference_split, columns)
                )
        return found

    def _signature(self) -> tuple[Any, ...]:
        return (
            self.dataset,
            self.reference_dataset,
            self.reference_split,
            self._data.config,
            self._data.default_split,
        )


# Accumulated state.


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


# Normalising and hashing values.


@dataclass(frozen=True)
class _Normalised:
    """A column's values as hashes (missing: one marker), with what its keys need."""

    kind: Kind
    hashes: U64
    missing: NDArray[np.bool_]
    # The number at each position (NaN where missing or not a number).
    numbers: F64 | None
    # The normalised text at each position (None where not text).
    text: NDArray[Any] | None
    raw: NDArray[Any]

    def key(self, at: int) -> str:
        """The value at `at` as a metrics key."""
        if self.text is not None and self.text[at] is not None:
            return str(self.text[at])
        raw = self.raw[at]
        if isinstance(raw, int | np.integer) and not isinstance(raw, bool | np.bool_):
            return str(int(raw))  # exact, also beyond 2**53
        if self.numbers is not None and not np.isnan(self.numbers[at]):
            return _number_key(float(self.numbers[at]))
        return str(raw)


def _normalise(name: str, values: NDArray[Any]) -> _Normalised:
    dtype = values.dtype
    if dtype.kind in "biuf":
        return _normalise_numbers(values)
    if dtype.kind in "mM":
        return _normalise_times(values)
    if dtype.kind == "O":
        missing = np.asarray(pd.isna(values), dtype=bool)
        present = values[~missing]
        if pd.api.types.infer_dtype(present, skipna=False) in ("string", "empty"):
            return _normalise_text(values)
        return _normalise_objects(name, values, missing)
    raise ValueError(f"column {name!r} has the numpy type {dtype}, which is not compared")


def _normalise_numbers(values: NDArray[Any]) -> _Normalised:
    numbers = values.astype(np.float64)
    missing = np.isnan(numbers)
    # Adding 0.0 turns -0.0 into 0.0, so both hash alike.
    hashes = _mix((numbers + 0.0).view(np.uint64) ^ _NUMBER)
    if values.dtype.kind in "iu":
        with np.errstate(invalid="ignore"):
            wide = numbers.astype(values.dtype) != values
        if wide.any():
            # An integer that no double holds exactly keeps its own value.
            bits = values[wide].astype(np.uint64 if values.dtype.kind == "u" else np.int64)
            hashes[wide] = _mix(bits.view(np.uint64) ^ _WIDE_INTEGER)
    hashes[missing] = _MISSING
    kind: Kind = "category" if values.dtype.kind == "b" else "number"
    if missing.all():
        kind = "empty"
    return _Normalised(kind, hashes, missing, numbers, None, values)


def _normalise_times(values: NDArray[Any]) -> _Normalised:
    unit = "datetime64[ns]" if values.dtype.kind == "M" else "timedelta64[ns]"
    ticks = values.astype(unit).view(np.int64)
    missing = np.isnat(values)
    hashes = _mix(ticks.view(np.uint64) ^ _TIME)
    hashes[missing] = _MISSING
    return _Normalised("empty" if missing.all() else "other", hashes, missing, None, None, values)


def _normalise_text(values: NDArray[Any]) -> _Normalised:
    """Text (or missing values) only: each distinct value is normalised and hashed once."""
    codes, distinct = pd.factorize(values)  # missing values get the code -1
    normal = np.array(
        [unicodedata.normalize("NFC", value).strip() for value in distinct] + [None], dtype=object
    )
    hashes = np.append(_mix(hash_array(normal[:-1], categorize=False) ^ _TEXT), _MISSING)
    blank = normal == ""
    hashes[blank] = _MISSING
    missing = (codes == -1) | blank[codes]
    kind: Kind = "empty" if missing.all() else "category"
    return _Normalised(kind, hashes[codes], missing, None, normal[codes], values)


def _normalise_objects(name: str, values: NDArray[Any], missing: NDArray[np.bool_]) -> _Normalised:
    """A column of mixed Python objects, one value at a time: numbers, booleans and text."""
    numbers = np.full(len(values), np.nan)
    text = np.full(len(values), None, dtype=object)
    booleans = np.zeros(len(values), dtype=bool)
    wide: list[int] = []
    for at in np.flatnonzero(~missing).tolist():
        value = values[at]
        if isinstance(value, str):
            text[at] = unicodedata.normalize("NFC", value).strip()
        elif isinstance(value, bool | np.bool_):
            numbers[at] = float(value)
            booleans[at] = True
        elif isinstance(value, float | np.floating):
            numbers[at] = float(value)
        elif isinstance(value, int | np.integer):
            exact, rounded = int(value), _float_of(name, int(value))
            numbers[at] = rounded
            if rounded != exact:  # Python compares an int and a float exactly; numpy does not
                wide.append(at)
        else:
            raise ValueError(
                f"column {name!r} holds a {type(value).__name__} ({value!r:.40}); only numbers, "
                "text, booleans and missing values are compared"
            )
    missing = missing | (text == "")
    hashes = _objects_hashed(values, missing, numbers, text, wide)
    is_number = ~np.isnan(numbers) & ~booleans
    is_category = ~missing & ~is_number
    kind: Kind = "mixed" if is_number.any() and is_category.any() else "empty"
    if is_number.any() != is_category.any():
        kind = "number" if is_number.any() else "category"
    return _Normalised(kind, hashes, missing, numbers, text, values)


def _objects_hashed(
    values: NDArray[Any],
    missing: NDArray[np.bool_],
    numbers: F64,
    text: NDArray[Any],
    wide: list[int],
) -> U64:
    hashes = np.full(len(values), _MISSING, dtype=np.uint64)
    is_number = ~np.isnan(numbers)
    hashes[is_number] = _mix((numbers[is_number] + 0.0).view(np.uint64) ^ _NUMBER)
    is_text = ~missing & ~is_number
    if is_text.any():
        hashes[is_text] = _mix(hash_array(text[is_text], categorize=True) ^ _TEXT)
    for at in wide:
        value = int(values[at])
        if -(2**63) <= value < 2**64:
            # The 64 bits of an int64 or uint64 array holding it, as _normalise_numbers hashes.
            bits = np.array([value % 2**64], dtype=np.uint64)
            hashes[at] = _mix(bits ^ _WIDE_INTEGER)[0]
        else:
            text[at] = str(value)
            hashes[at] = _mix(hash_array(text[at : at + 1]) ^ _WIDE_INTEGER)[0]
    return hashes


def _float_of(name: str, value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"column {name!r} holds an integer too large for a float") from None


def _row_hashes(columns: list[_Normalised], count: int) -> U64:
    """One hash per row, combining its values' hashes in column-name order."""
    hashes = np.full(count, _ROW, dtype=np.uint64)
    for column in columns:
        hashes = _mix(hashes ^ column.hashes)
    return hashes


def _mix(x: U64) -> U64:
    """splitmix64's finaliser: a bijection of 64-bit words that spreads every input bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _number_key(value: float) -> str:
    if value.is_integer() and abs(value) <= _EXACT_FLOAT_INT:
        return str(int(value))
    return repr(value)


# Input.


def _frames(data: Frame | Iterable[Frame], what: str) -> Iterable[Frame]:
    if isinstance(data, pd.DataFrame | Mapping):
        return [data]
    if isinstance(data, str | bytes) or not isinstance(data, Iterable):
        raise ValueError(
            f"{what} must be a DataFrame, a mapping of columns or an iterable of them "
            f"(read files with reading.read_chunks), got {type(data).__name__}"
        )
    return data


def _columns(chunk: Frame) -> dict[str, NDArray[Any]]:
    """A chunk as {name: 1-D numpy array}, all of one length."""
    if isinstance(chunk, pd.DataFrame):
        if not chunk.columns.is_unique:
            twice = sorted({str(name) for name in chunk.columns[chunk.columns.duplicated()]})
            raise ValueError(f"columns named more than once: {', '.join(twice)}")
        columns = {name: _series_array(chunk[name]) for name in chunk.columns}
    elif isinstance(chunk, Mapping):
        columns = {name: _array(name, values) for name, values in chunk.items()}
    else:
        raise ValueError(
            f"a chunk must be a DataFrame or a mapping of columns, got {type(chunk).__name__}"
        )
    if not columns:
        raise ValueError("a chunk must have at least one column")
    _row_count(columns)
    return columns


def _series_array(series: pd.Series) -> NDArray[Any]:
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        return np.asarray(series.to_numpy())
    if isinstance(dtype, pd.DatetimeTZDtype):
        return np.asarray(series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if numeric and hasattr(dtype, "numpy_dtype"):
        if series.hasnans:
            return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
        return np.asarray(series.to_numpy(dtype=dtype.numpy_dtype))
    return np.asarray(series.to_numpy(dtype=object, na_value=None))


def _array(name: Any, values: Any) -> NDArray[Any]:
    if isinstance(values, pd.Series):
        array = _series_array(values)
    else:
        array = np.asarray(values)
        if array.dtype.kind in "US":
            # NumPy turns [1, "a"] into ["1", "a"]; keep the original objects instead.
            array = np.array(list(values), dtype=object)
    if array.ndim != 1:
        raise ValueError(f"column {name!r} must be 1-D, got shape {array.shape}")
    return array


def _row_count(columns: Mapping[str, NDArray[Any]]) -> int:
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns of different lengths in one chunk: {lengths}")
    return next(iter(lengths.values()), 0)


# Checks on names.


def _check_slug(value: Any, what: str) -> None:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise ValueError(f"{what} must be a slug (1-64 of a-z, A-Z, 0-9, -, _), got {value!r}")


def _check_split(value: Any) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= _SPLIT_MAX:
        raise ValueError(f"a split name must be text of 1-{_SPLIT_MAX} characters, got {value!r}")


def _check_name(value: Any, what: str) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= _NAME_MAX:
        raise ValueError(f"a {what} must be text of 1-{_NAME_MAX} characters, got {value!r:.120}")


def _check_same_columns(reference: _Side, data: _Side) -> None:
    split_column = data.config.split_column
    ours = [name for name in data.columns or [] if name != split_column]
    theirs = [name for name in reference.columns or [] if name != split_column]
    if set(ours) != set(theirs):
        raise ValueError(_difference("the reference", theirs, ours))


def _difference(what: str, found: list[str], expected: list[str]) -> str:
    lacking = [name for name in expected if name not in found]
    extra = [name for name in found if name not in expected]
    return (
        f"{what} has other columns than expected: missing {lacking or 'none'}, "
        f"unexpected {extra or 'none'}"
    )


# Metrics from the state.


def _dataset_quality(slug: str, split: str, state: _SplitState, config: _Config) -> DatasetQuality:
    state.hashes.compact()
    rows = state.rows
    duplicates = rows - len(state.hashes.hashes)
    label = None
    if config.label is not None:
        label = _count_rates(state.label, rows, "label value")
    groups = None
    if config.sensitive:
        groups = {
            feature: _count_rates(state.groups.get(feature, _ValueCounts()), rows, "group value")
            for feature in config.sensitive
        }
    return DatasetQuality(
        slug=slug,
        split=split,
        rows=rows,
        missing={name: CountRate(count, count / rows) for name, count in state.missing.items()},
        duplicate_rows=CountRate(duplicates, duplicates / rows),
        label_balance=label,
        group_representation=groups,
    )


def _count_rates(counts: _ValueCounts, rows: int, what: str) -> dict[str, CountRate]:
    out = {}
    for key, count in counts.by_key().items():
        _check_name(key, what)
        out[key] = CountRate(count, count / rows)
    return out


def _overlap(a_name: str, a: _SplitState, b_name: str, b: _SplitState) -> Overlap:
    shared = b.hashes.rows_in(a.hashes)
    return Overlap((a_name, b_name), shared, shared / b.rows)


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
