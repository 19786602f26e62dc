"""A file split into parts, each part's state kept as JSON and merged, gives the one-pass
numbers exactly: every kind, bootstrap intervals on, quantile bins, parts that split every
group, CSV (quoted line breaks included) and Parquet (parts that cut row groups)."""

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from evaluations.assessments import pipeline
from evaluations.assessments.calibration import CalibrationStats, sample_key_bound
from evaluations.assessments.confusion import ConfusionCounts
from evaluations.assessments.data_quality import DataQualityAccumulator
from evaluations.assessments.encoding import decode_array, encode_array
from evaluations.assessments.parts import Part, plan_parts, read_part
from evaluations.assessments.reading import read_chunks

KINDS = ["calibration", "data_quality", "fairness"]
MAPPING = {
    "label": "label",
    "prediction": "prediction",
    "score": "score",
    "sensitive": ["sex", "band"],
    "split": "split",
}
OPTIONS = {"dataset": "loans-2024", "n_boot": 200, "seed": 5, "min_group_size": 10}


def table(rows: int, seed: int = 3) -> pa.Table:
    """Groups interleaved row by row, so every part holds a piece of every group."""
    rng = np.random.default_rng(seed)
    score = rng.random(rows)
    notes = np.array(["plain", "with, comma", "two\nlines", 'a "quoted" word', ""], dtype=object)
    return pa.table(
        {
            "label": (rng.random(rows) < score).astype(np.int64),
            "prediction": (score > 0.45).astype(np.int64),
            "score": np.round(score, 3),
            "sex": np.where(rng.random(rows) < 0.4, "f", "m"),
            "band": np.array(["18-30", "31-50", "51+"])[rng.integers(0, 3, rows)],
            "split": np.where(np.arange(rows) % 5 == 0, "test", "train"),
            "note": notes[rng.integers(0, len(notes), rows)],
            "income": np.where(rng.random(rows) < 0.05, np.nan, rng.normal(50, 10, rows)),
        }
    )


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parts") / "predictions.csv"
    pa_csv.write_csv(table(3_000), path)
    return path


@pytest.fixture(scope="module")
def parquet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parts") / "predictions.parquet"
    pq.write_table(table(3_000), path, row_group_size=700)
    return path


def in_parts(path: Path, file_format: str, part_bytes: int, **changes: Any) -> dict[str, Any]:
    """Plan, compute each part, keep its state as JSON text, merge: as the workers do."""
    options = OPTIONS | changes
    parts, shared = pipeline.plan(
        path,
        format=file_format,
        kinds=KINDS,
        mapping=MAPPING,
        options=options,
        part_bytes=part_bytes,
    )
    assert len(parts) >= 4
    shared = pipeline.Shared.from_json(json.loads(json.dumps(shared.to_json())))
    states = [
        json.dumps(
            pipeline.compute_part(
                path,
                part,
                shared,
                format=file_format,
                kinds=KINDS,
                mapping=MAPPING,
                options=options,
            ),
            allow_nan=False,
        )
        for part in parts
    ]
    return pipeline.merge_parts(
        (json.loads(state) for state in states), kinds=KINDS, mapping=MAPPING, options=options
    )


def one_pass(path: Path, file_format: str, **changes: Any) -> dict[str, Any]:
    return pipeline.compute(
        path, format=file_format, kinds=KINDS, mapping=MAPPING, options=OPTIONS | changes
    )


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_a_csv_file_in_parts_gives_exactly_the_one_pass_evidence(
    csv_file: Path, strategy: str
) -> None:
    merged = in_parts(csv_file, "csv", 7_000, strategy=strategy)

    assert merged == one_pass(csv_file, "csv", strategy=strategy)
    assert merged["fairness"]["overall"]["size"] == 3_000
    assert merged["calibration"]["expected_calibration_error"]["interval"] is not None


def test_a_parquet_file_in_parts_that_cut_row_groups_gives_exactly_the_one_pass_evidence(
    parquet_file: Path,
) -> None:
    parts = plan_parts(parquet_file, format="parquet", part_bytes=parquet_file.stat().st_size // 6)
    assert any(part.row_start % 700 for part in parts)  # not on row-group boundaries

    merged = in_parts(parquet_file, "parquet", parquet_file.stat().st_size // 6)

    assert merged == one_pass(parquet_file, "parquet")


def test_csv_parts_cover_every_row_once_and_cut_only_between_rows(csv_file: Path) -> None:
    parts = plan_parts(csv_file, format="csv", part_bytes=9_000)

    assert parts[0].row_start == 0
    assert all(a.row_stop == b.row_start for a, b in itertools.pairwise(parts))
    assert parts[-1].row_stop == 3_000
    whole = next(read_chunks(csv_file, chunk_rows=10_000))
    for part in parts:
        [rows] = list(read_part(csv_file, part, format="csv", columns=None, chunk_rows=10_000))
        for name, values in rows.items():
            expected = whole[name][part.row_start : part.row_stop]
            assert np.array_equal(values, expected, equal_nan=values.dtype.kind == "f"), name


def test_a_csv_whose_quotes_mislead_the_line_count_is_read_in_one_pass(tmp_path: Path) -> None:
    # A quote inside an unquoted field is text to the parser but flips the count of quotes,
    # so the line break inside the next quoted field looks like the end of a row.
    rows = [
        f'0,0,0.5,f,5" screen {i}\n1,1,0.5,m,"two\nlines {i}"\n0,1,0.5,f,plain {i}\n'
        for i in range(300)
    ]
    path = tmp_path / "inches.csv"
    path.write_text("label,prediction,score,sex,note\n" + "".join(rows))

    assert plan_parts(path, format="csv", part_bytes=500) == []


def test_a_file_no_larger_than_a_part_is_not_split(csv_file: Path) -> None:
    assert plan_parts(csv_file, format="csv", part_bytes=csv_file.stat().st_size) == []
    with pytest.raises(ValueError, match="part_bytes"):
        plan_parts(csv_file, format="csv", part_bytes=0)


def test_parts_with_a_key_bound_hold_exactly_the_one_pass_bootstrap_sample() -> None:
    rng = np.random.default_rng(11)
    score = rng.random(5_000)
    label = (rng.random(5_000) < score).astype(np.int64)
    whole = CalibrationStats(sample_rows=300, seed=4)
    whole.update(label, score)
    bound = sample_key_bound(5_000, seed=4, sample_rows=300)
    merged = CalibrationStats(sample_rows=300, seed=4)
    held = 0
    for start, stop in [(0, 1_234), (1_234, 1_235), (1_235, 4_000), (4_000, 5_000)]:
        part = CalibrationStats(sample_rows=300, seed=4, first_row=start, sample_key_bound=bound)
        part.update(label[start:stop], score[start:stop])
        state = json.loads(json.dumps(part.to_state(), allow_nan=False))
        held += len(decode_array(state["sample"]["rows"]["key"]))
        merged.merge(CalibrationStats.from_state(state))

    assert held == 300  # each part kept only its share of the sample
    assert merged.result(n_boot=300).to_metrics() == whole.result(n_boot=300).to_metrics()


def test_two_parts_over_the_same_rows_are_refused() -> None:
    first = CalibrationStats(sample_rows=10, seed=1, first_row=100)
    second = CalibrationStats(sample_rows=10, seed=1, first_row=150)
    first.update([0, 1] * 50, [0.2, 0.8] * 50)
    second.update([0, 1], [0.3, 0.6])
    with pytest.raises(ValueError, match="same seed over the same rows"):
        first.merge(second)


def test_calibration_sums_do_not_depend_on_how_the_rows_were_split() -> None:
    rng = np.random.default_rng(2)
    score = rng.random(20_000) ** 3  # many tiny terms, where float sums drift most
    label = (rng.random(20_000) < score).astype(np.int64)
    whole = CalibrationStats()
    whole.update(label, score)
    pieces = CalibrationStats(sample_rows=0)
    for cut in np.array_split(np.arange(20_000), 13):
        part = CalibrationStats(sample_rows=0)
        part.update(label[cut], score[cut])
        pieces.merge(part)

    assert pieces.result(intervals=False) == whole.result(intervals=False)


def test_states_survive_a_json_round_trip() -> None:
    counts = ConfusionCounts(["sex"], pos_label="yes")
    counts.update(["yes", "no", "no"], ["no", "no", "yes"], {"sex": ["f", "m", "f"]})
    again = ConfusionCounts.from_state(json.loads(json.dumps(counts.to_state())))
    assert again == counts
    assert again.labels_seen == counts.labels_seen

    quality = DataQualityAccumulator(dataset="loans", label="y", sensitive=["sex"], seed=3)
    quality.update({"y": np.array([1, 0, 1, 1]), "sex": np.array(["f", "m", "f", "f"], object)})
    restored = DataQualityAccumulator.from_state(json.loads(json.dumps(quality.to_state())))
    assert restored.result() == quality.result()

    wide = np.array([2**64 - 1, 0, 7], dtype=np.uint64)
    assert np.array_equal(decode_array(json.loads(json.dumps(encode_array(wide)))), wide)
    assert pipeline.Shared.from_json(pipeline.Shared().to_json()).key_bound == math.inf


def test_an_encoded_array_of_another_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="not allowed"):
        decode_array({"dtype": "|O", "shape": [1], "data": ""})
    with pytest.raises(ValueError, match="not enough"):
        decode_array({"dtype": "<f8", "shape": [2], "data": "AAAAAAAAAAA="})


def test_a_part_that_reads_fewer_rows_than_planned_is_refused(csv_file: Path) -> None:
    [first, *_] = plan_parts(csv_file, format="csv", part_bytes=20_000)
    wrong = Part(
        first.row_start, first.row_stop + 5, first.byte_start, first.byte_stop, first.header_stop
    )
    with pytest.raises(ValueError, match="the file changed"):
        pipeline.compute_part(
            csv_file,
            wrong,
            pipeline.Shared(),
            format="csv",
            kinds=["fairness"],
            mapping=MAPPING,
            options={},
        )
