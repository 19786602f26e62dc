"""One streaming pass over a predictions file, feeding every engine asked for.

The file is read in chunks (`reading.read_chunks`); each engine keeps additive state
(confusion counts, calibration bin sums, data-quality counts), so memory depends on the
chunk size and not on the rows. Quantile calibration bins need their edges first: a
bounded sample of the scores is taken in a first pass (`calibration.ConfidenceSample`).

`compute` returns {kind: the `metrics` object of that kind's evidence document}.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from evaluations.assessments.calibration import CalibrationStats, ConfidenceSample
from evaluations.assessments.confusion import ConfusionCounts
from evaluations.assessments.data_quality import DataQualityAccumulator
from evaluations.assessments.fairness import report_from_counts
from evaluations.assessments.reading import read_chunks

Progress = Callable[[float], None]
CHUNK_ROWS = 262_144
_COUNT_BLOCK = 8 << 20


def _needed(kinds: Sequence[str], mapping: Mapping[str, Any]) -> list[str] | None:
    """The columns to read: all of them for data quality (it measures every column)."""
    if "data_quality" in kinds:
        return None
    roles = ["label", "prediction"] if "fairness" in kinds else ["label"]
    if "calibration" in kinds:
        roles.append("score")
    columns = [mapping[r] for r in roles if mapping.get(r)]
    columns += list(mapping.get("sensitive") or [])
    return list(dict.fromkeys(columns))


def estimated_rows(path: Path, file_format: str) -> int:
    """Rows in the file: exact for Parquet (its footer), newlines for CSV (an estimate when
    quoted fields hold newlines; only progress depends on it)."""
    if file_format == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    lines = 0
    with path.open("rb") as stream:
        while block := stream.read(_COUNT_BLOCK):
            lines += block.count(b"\n")
    return max(lines - 1, 1)


def _pos_label(given: Any, labels: NDArray[Any]) -> Any:
    """The positive label in the column's own type: "1" names 1 in a numeric column."""
    if given is None:
        return 1
    if labels.dtype.kind in "iuf" and isinstance(given, str):
        try:
            number = float(given)
        except ValueError as exc:
            raise ValueError(f"pos_label {given!r} is not a number, but the labels are") from exc
        return int(number) if number.is_integer() else number
    if labels.dtype.kind == "b" and isinstance(given, str):
        return given.strip().lower() in ("1", "true", "yes")
    return given


class _Engines:
    """The accumulators of the kinds asked for, fed chunk by chunk."""

    def __init__(
        self,
        kinds: Sequence[str],
        mapping: Mapping[str, Any],
        options: Mapping[str, Any],
        edges: NDArray[np.float64] | None,
    ) -> None:
        self.kinds, self.mapping, self.options = kinds, mapping, options
        self.sensitive: list[str] = list(mapping.get("sensitive") or [])
        self.edges = edges
        self.fairness: ConfusionCounts | None = None
        self.calibration: CalibrationStats | None = None
        self.data_quality: DataQualityAccumulator | None = None
        if "data_quality" in kinds:
            self.data_quality = DataQualityAccumulator(
                dataset=str(options.get("dataset") or "unknown"),
                split_column=mapping.get("split"),
                label=mapping.get("label"),
                sensitive=self.sensitive,
                reference_dataset=options.get("reference_dataset"),
                seed=int(options.get("seed", 0)),
            )

    def _groups(self, chunk: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        return {name: chunk[name] for name in self.sensitive}

    def update(self, chunk: Mapping[str, NDArray[Any]]) -> None:
        labels = chunk[self.mapping["label"]] if self.mapping.get("label") else None
        if "fairness" in self.kinds and labels is not None:
            if self.fairness is None:
                pos = _pos_label(self.mapping.get("pos_label"), labels)
                self.fairness = ConfusionCounts(self.sensitive, pos_label=pos)
            self.fairness.update(labels, chunk[self.mapping["prediction"]], self._groups(chunk))
        if "calibration" in self.kinds and labels is not None:
            if self.calibration is None:
                self.calibration = CalibrationStats(
                    pos_label=_pos_label(self.mapping.get("pos_label"), labels),
                    n_bins=int(self.options.get("bins", 10)),
                    strategy=self.options.get("strategy", "uniform"),
                    edges=self.edges,
                    sensitive_features=self.sensitive,
                    seed=int(self.options.get("seed", 0)),
                )
            self.calibration.update(
                labels,
                chunk[self.mapping["score"]],
                sensitive_features=self._groups(chunk) or None,
            )
        if self.data_quality is not None:
            self.data_quality.update(dict(chunk))

    def results(self) -> dict[str, dict[str, Any]]:
        min_group_size = int(self.options.get("min_group_size", 30))
        n_boot = int(self.options.get("n_boot", 1000))
        level = float(self.options.get("level", 0.95))
        intervals = n_boot > 0
        n_boot = max(n_boot, 1)  # the engines check it even when no interval is asked for
        out: dict[str, dict[str, Any]] = {}
        if "fairness" in self.kinds:
            if self.fairness is None:
                raise ValueError("the file has no rows")
            fairness = report_from_counts(
                self.fairness,
                min_group_size=min_group_size,
                n_boot=n_boot,
                level=level,
                seed=int(self.options.get("seed", 0)),
                intervals=intervals,
            )
            out["fairness"] = fairness.to_metrics()
        if "calibration" in self.kinds:
            if self.calibration is None:
                raise ValueError("the file has no rows")
            calibration = self.calibration.result(
                min_group_size=min_group_size, n_boot=n_boot, level=level, intervals=intervals
            )
            out["calibration"] = calibration.to_metrics()
        if self.data_quality is not None:
            out["data_quality"] = self.data_quality.result().to_metrics()
        return out


def _chunks(
    path: Path, columns: list[str] | None, file_format: str, chunk_rows: int
) -> Iterator[dict[str, NDArray[Any]]]:
    kind: Literal["csv", "parquet"] = "parquet" if file_format == "parquet" else "csv"
    yield from read_chunks(path, columns=columns, chunk_rows=chunk_rows, format=kind)


def _quantile_edges(
    path: Path, mapping: Mapping[str, Any], options: Mapping[str, Any], file_format: str
) -> NDArray[np.float64]:
    """First pass for quantile bins: the edges of a bounded, seeded sample of the scores."""
    sample = ConfidenceSample(seed=int(options.get("seed", 0)))
    for chunk in _chunks(path, [mapping["score"]], file_format, CHUNK_ROWS):
        sample.update(chunk[mapping["score"]])
    return sample.edges(int(options.get("bins", 10)))


def compute(
    path: str | Path,
    *,
    format: str,
    kinds: Sequence[str],
    mapping: Mapping[str, Any],
    options: Mapping[str, Any],
    on_progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    reference: str | Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the engines for `kinds` over the file; {kind: metrics}.

    `reference` is a second file (same format) that data quality measures drift against;
    `options["reference_dataset"]` names it.

    Raises
    ------
    ValueError
        For anything wrong with the file or its values (the engines and the reader name
        the problem): a missing column, non-binary labels, scores outside [0, 1], NaN, no
        rows.
    """
    path = Path(path)
    edges = None
    if "calibration" in kinds and options.get("strategy") == "quantile":
        edges = _quantile_edges(path, mapping, options, format)
    engines = _Engines(kinds, mapping, options, edges)
    if reference is not None and engines.data_quality is not None:
        for chunk in _chunks(Path(reference), None, format, chunk_rows):
            engines.data_quality.update_reference(chunk)
    total = estimated_rows(path, format) if on_progress else 1
    done = 0
    for chunk in _chunks(path, _needed(kinds, mapping), format, chunk_rows):
        engines.update(chunk)
        done += len(next(iter(chunk.values()))) if chunk else 0
        if on_progress is not None:
            on_progress(min(done / total, 0.99))
    return engines.results()
