"""One streaming pass over a predictions file, feeding every engine asked for.

The file is read in chunks (`reading.read_chunks`); each engine keeps additive state
(confusion counts, calibration bin sums, data-quality counts), so memory depends on the
chunk size and not on the rows. Quantile calibration bins need their edges first: a
bounded sample of the scores is taken in a first pass (`calibration.ConfidenceSample`).

`compute` returns {kind: the `metrics` object of that kind's evidence document}.

A large file can instead be split into parts that workers process apart (`plan`, then
`compute_part` for each part, then `merge_parts` over the parts' states). Every state is
additive and exact (integer counts, calibration sums as integer limbs, samples drawn with
the keys one pass would draw), so the merged result is the one-pass result, number for
number. What the parts share is fixed by the plan before any part runs: quantile bin edges
(the same first pass `compute` makes) and the key bound of the calibration sample.
"""

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from evaluations.assessments.calibration import (
    DEFAULT_SAMPLE_ROWS,
    CalibrationStats,
    ConfidenceSample,
    sample_key_bound,
)
from evaluations.assessments.confusion import ConfusionCounts
from evaluations.assessments.data_quality import DataQualityAccumulator
from evaluations.assessments.encoding import decode_float, encode_float
from evaluations.assessments.fairness import report_from_counts
from evaluations.assessments.parts import Part, plan_parts, read_part
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


def _intervals(options: Mapping[str, Any]) -> bool:
    return int(options.get("n_boot", 1000)) > 0


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
        *,
        first_row: int = 0,
        key_bound: float = math.inf,
    ) -> None:
        self.kinds, self.mapping, self.options = kinds, mapping, options
        self.sensitive: list[str] = list(mapping.get("sensitive") or [])
        self.edges = edges
        self.first_row, self.key_bound = first_row, key_bound
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
                    # The sample only feeds intervals; without them it is not kept.
                    sample_rows=DEFAULT_SAMPLE_ROWS if _intervals(self.options) else 0,
                    seed=int(self.options.get("seed", 0)),
                    first_row=self.first_row,
                    sample_key_bound=self.key_bound,
                )
            self.calibration.update(
                labels,
                chunk[self.mapping["score"]],
                sensitive_features=self._groups(chunk) or None,
            )
        if self.data_quality is not None:
            self.data_quality.update(dict(chunk))

    def to_state(self) -> dict[str, Any]:
        """Each engine's additive state, as JSON."""
        return {
            "fairness": None if self.fairness is None else self.fairness.to_state(),
            "calibration": None if self.calibration is None else self.calibration.to_state(),
            "data_quality": None if self.data_quality is None else self.data_quality.to_state(),
        }

    def merge_state(self, state: Mapping[str, Any]) -> None:
        """Add the state of another part of the file (`to_state`)."""
        if state.get("fairness") is not None:
            counts = ConfusionCounts.from_state(state["fairness"])
            if self.fairness is None:
                self.fairness = counts
            else:
                self.fairness.merge(counts)
        if state.get("calibration") is not None:
            stats = CalibrationStats.from_state(state["calibration"])
            if self.calibration is None:
                self.calibration = stats
            else:
                self.calibration.merge(stats)
        if state.get("data_quality") is not None and self.data_quality is not None:
            self.data_quality.merge(DataQualityAccumulator.from_state(state["data_quality"]))

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


# --- a file in parts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Shared:
    """What every part of one file uses alike: quantile bin edges, the sample's key bound."""

    edges: tuple[float, ...] | None = None
    key_bound: float = math.inf

    def to_json(self) -> dict[str, Any]:
        """Exact JSON (floats as hex)."""
        edges = None if self.edges is None else [encode_float(e) for e in self.edges]
        return {"edges": edges, "key_bound": encode_float(self.key_bound)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Shared":
        edges = data.get("edges")
        return cls(
            edges=None if edges is None else tuple(decode_float(e) for e in edges),
            key_bound=decode_float(data["key_bound"]),
        )


def plan(
    path: str | Path,
    *,
    format: str,
    kinds: Sequence[str],
    mapping: Mapping[str, Any],
    options: Mapping[str, Any],
    part_bytes: int,
) -> tuple[list[Part], Shared]:
    """Parts of about `part_bytes` bytes and what they share; no parts: one pass is better.

    Raises
    ------
    ValueError
        As `compute`, for a file whose scores the quantile edges' first pass refuses.
    """
    path = Path(path)
    parts = plan_parts(path, format=format, part_bytes=part_bytes)
    if not parts:
        return [], Shared()
    edges = None
    if "calibration" in kinds and options.get("strategy") == "quantile":
        edges = tuple(float(e) for e in _quantile_edges(path, mapping, options, format))
    bound = math.inf
    if "calibration" in kinds and _intervals(options):
        rows = parts[-1].row_stop
        bound = sample_key_bound(rows, seed=int(options.get("seed", 0)))
    return parts, Shared(edges, bound)


def compute_part(
    path: str | Path,
    part: Part,
    shared: Shared,
    *,
    format: str,
    kinds: Sequence[str],
    mapping: Mapping[str, Any],
    options: Mapping[str, Any],
    on_progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, Any]:
    """The engines' additive state over one part's rows, as JSON for `merge_parts`.

    Raises
    ------
    ValueError
        As `compute`, for anything wrong in the part's rows.
    """
    edges = None if shared.edges is None else np.array(shared.edges, dtype=np.float64)
    engines = _Engines(
        kinds, mapping, options, edges, first_row=part.row_start, key_bound=shared.key_bound
    )
    total, done = max(part.row_stop - part.row_start, 1), 0
    columns = _needed(kinds, mapping)
    for chunk in read_part(path, part, format=format, columns=columns, chunk_rows=chunk_rows):
        engines.update(chunk)
        done += len(next(iter(chunk.values()))) if chunk else 0
        if on_progress is not None:
            on_progress(min(done / total, 0.99))
    if done != part.row_stop - part.row_start:
        raise ValueError(
            f"part of rows {part.row_start}..{part.row_stop} read {done} rows; the file changed"
        )
    return {"rows": done, "engines": engines.to_state()}


def merge_parts(
    states: Iterable[Mapping[str, Any]],
    *,
    kinds: Sequence[str],
    mapping: Mapping[str, Any],
    options: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    """{kind: metrics} of the whole file from its parts' states, in the parts' order.

    Raises
    ------
    ValueError
        When the states do not fit together, or the engines refuse the merged data (as
        `compute` would: no rows, labels that are not binary across parts).
    """
    engines = _Engines(kinds, mapping, options, None)
    for state in states:
        engines.merge_state(state["engines"])
    return engines.results()
