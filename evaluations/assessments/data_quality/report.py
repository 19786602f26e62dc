"""Entry points: `data_quality_report` and the streaming `DataQualityAccumulator`."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from evaluations.assessments.data_quality.common import SAMPLE_SIZE, Frame
from evaluations.assessments.data_quality.drift import _column_drift
from evaluations.assessments.data_quality.inputs import (
    _check_slug,
    _check_split,
    _columns,
    _frames,
)
from evaluations.assessments.data_quality.normalise import _SAMPLE, _mix
from evaluations.assessments.data_quality.quality import _dataset_quality, _overlap
from evaluations.assessments.data_quality.results import DataQualityReport, Drift
from evaluations.assessments.data_quality.state import _check_same_columns, _Config, _Side


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
        self._seed = seed
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

    def to_state(self) -> dict[str, Any]:
        """Everything seen so far, with the arguments this accumulator was built with, as
        JSON that `from_state` turns back into an accumulator (hashes and samples exact)."""
        config = self._data.config
        return {
            "arguments": {
                "dataset": self.dataset,
                "split_column": config.split_column,
                "split": self._data.default_split,
                "label": config.label,
                "sensitive": list(config.sensitive),
                "reference_dataset": self.reference_dataset,
                "reference_split": self.reference_split,
                "sample_size": config.sample_size,
                "seed": self._seed,
            },
            "data": self._data.to_state(),
            "reference": self._reference.to_state(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "DataQualityAccumulator":
        """The accumulator `to_state` wrote.

        Raises
        ------
        ValueError
            When the state's arguments are not valid ones (see the constructor).
        """
        accumulator = cls(**state["arguments"])
        accumulator._data.load_state(state["data"])
        accumulator._reference.load_state(state["reference"])
        return accumulator

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
