"""Data quality: counts exact whatever the chunking, duplicates by normalised value, PSI and KS.

Expected numbers are worked out by hand from the fixtures, or come from scipy itself.
"""

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from scipy import stats

from evaluations.assessments import reading
from evaluations.assessments.data_quality import (
    PSI_EPSILON,
    DataQualityAccumulator,
    data_quality_report,
    population_stability_index,
)
from evaluations.validation import validate_document


def applications(rows: int = 240, seed: int = 3) -> pd.DataFrame:
    """Loan applications with splits, gaps, repeats, a label and two sensitive features."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "split": rng.choice(["train", "test", "validation"], rows, p=[0.6, 0.3, 0.1]),
            "age": rng.integers(18, 30, rows).astype(float),
            "income": rng.choice([20_000.0, 35_000.5, 50_000.0, np.nan], rows),
            "sex": rng.choice(["female", "male", "", None], rows, p=[0.45, 0.45, 0.05, 0.05]),
            "region": rng.choice(["north", "south"], rows),
            "repaid": rng.choice([0, 1], rows),
        }
    )
    # Few distinct values, so repeats within and across splits are plenty.
    return frame.astype({"sex": object})


def split_frames(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[start : start + size] for start in range(0, len(frame), size)]


def report_of(data: Any, reference: Any = None, **options: Any) -> dict[str, Any]:
    if reference is not None:
        options |= {"reference": reference, "reference_dataset": "applications-2024"}
        options.setdefault("reference_split", "baseline")
    report = data_quality_report(
        data,
        dataset="applications-2025",
        split_column="split",
        label="repaid",
        sensitive=["sex", "region"],
        **options,
    )
    return report.to_metrics()


def assert_same_metrics(got: Any, expected: Any, at: str = "") -> None:
    """Equal structure and counts; floats within 1e-12."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), at
        assert list(got) == list(expected), at
        for key in expected:
            assert_same_metrics(got[key], expected[key], f"{at}/{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list), at
        assert len(got) == len(expected), at
        for index, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_same_metrics(a, b, f"{at}/{index}")
    elif isinstance(expected, float):
        assert isinstance(got, float), at
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), at
    else:
        assert type(got) is type(expected), at
        assert got == expected, at


# Chunking and merging change nothing.


@pytest.mark.parametrize("chunk_rows", [1, 7, 100])
def test_a_report_is_the_same_in_any_chunking(chunk_rows: int) -> None:
    frame, baseline = applications(), applications(90, seed=4).drop(columns="split")

    one_pass = report_of(frame, baseline)
    chunked = report_of(split_frames(frame, chunk_rows), split_frames(baseline, chunk_rows))

    assert len(split_frames(frame, chunk_rows)) >= 3
    assert_same_metrics(chunked, one_pass)
    assert one_pass["drift"]
    assert one_pass["overlap"]


def test_a_report_read_from_csv_in_chunks_equals_the_frame_it_was_written_from(
    tmp_path: Path,
) -> None:
    frame = applications()
    path = tmp_path / "applications.csv"
    frame.to_csv(path, index=False)

    from_file = report_of(reading.read_chunks(path, chunk_rows=11))

    assert_same_metrics(from_file, report_of(frame))


def test_accumulators_merged_in_any_order_equal_one_pass() -> None:
    frame, baseline = applications(), applications(90, seed=4).drop(columns="split")
    options: dict[str, Any] = {
        "dataset": "applications-2025",
        "split_column": "split",
        "label": "repaid",
        "sensitive": ["sex"],
        "reference_dataset": "applications-2024",
        "reference_split": "baseline",
    }
    parts = []
    for data, reference in [(frame[:100], baseline[:50]), (frame[100:], baseline[50:])]:
        part = DataQualityAccumulator(**options)
        part.update(data)
        part.update_reference(reference)
        parts.append(part)
    whole = DataQualityAccumulator(**options)
    whole.update(frame)
    whole.update_reference(baseline)

    parts[1].merge(parts[0])

    assert_same_metrics(parts[1].result().to_metrics(), whole.result().to_metrics())


# Missing values.


def test_missing_values_are_none_nan_na_and_blank_text_but_not_the_text_na() -> None:
    frame = pd.DataFrame(
        {
            "text": ["a", None, np.nan, "", "   ", "NA", pd.NA, "null"],
            "number": [1.0, np.nan, 2.0, 3.0, np.nan, 4.0, 5.0, 6.0],
            "nullable": pd.array([1, None, 3, 4, 5, 6, 7, None], dtype="Int64"),
        }
    )

    report = data_quality_report(frame, dataset="survey").to_metrics()

    assert report["datasets"][0]["missing"] == {
        "nullable": {"count": 2, "rate": 0.25},
        "number": {"count": 2, "rate": 0.25},
        "text": {"count": 5, "rate": 0.625},
    }


def test_an_empty_csv_field_is_missing_like_an_empty_string(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text('answer,score\n"",1\n,2\n" ",\nNA,4\n')

    report = data_quality_report(reading.read_chunks(path), dataset="survey").to_metrics()

    assert report["datasets"][0]["missing"] == {
        "answer": {"count": 3, "rate": 0.75},
        "score": {"count": 1, "rate": 0.25},
    }


# Duplicates and overlap.


def known_duplicates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "split": ["train"] * 6 + ["test"] * 4,
            "amount": [1, 1.0, 2.5, 2.5, 3, np.nan, 1, 2.5, 7, np.nan],
            # "café" in NFC, then in NFD (e + combining acute), then padded.
            "city": [
                "café",
                "cafe\u0301",
                "Oslo",
                "oslo",
                " Oslo ",
                None,
                "café",
                "Oslo",
                "Rome",
                "",
            ],
        },
        dtype=object,
    )


def test_duplicates_compare_normalised_values() -> None:
    report = data_quality_report(known_duplicates(), dataset="loans", split_column="split")

    train, test = report.datasets
    # Train: (1, café) twice (1 == 1.0, NFC == NFD); (2.5, Oslo) and (2.5, oslo) differ by case.
    assert (train.rows, train.duplicate_rows.count) == (6, 1)
    assert train.duplicate_rows.rate == pytest.approx(1 / 6, abs=1e-15)
    # Test: (nan, "") is the all-missing row, as is train's (nan, None), but not repeated in test.
    assert (test.rows, test.duplicate_rows.count) == (4, 0)


def test_overlap_counts_the_rows_of_the_second_split_found_in_the_first() -> None:
    report = data_quality_report(known_duplicates(), dataset="loans", split_column="split")

    by_pair = {item.between: (item.rows, item.rate) for item in report.overlap}

    # Test rows found in train: (1, café), (2.5, Oslo) and the all-missing row: 3 of 4.
    assert by_pair[("train", "test")] == (3, 0.75)
    # Train rows found in test: both café rows, (2.5, Oslo) and the all-missing row: 4 of 6.
    assert by_pair[("test", "train")] == (4, 4 / 6)
    assert [item["between"] for item in report.to_metrics()["overlap"]] == [
        ["train", "test"],
        ["test", "train"],
    ]


def test_overlap_with_a_reference_dataset_uses_its_split_name() -> None:
    data = pd.DataFrame({"x": [1, 2, 3, 3]})
    reference = pd.DataFrame({"x": [3.0, 4.0]})

    report = data_quality_report(
        data,
        dataset="holdout",
        split="test",
        reference=reference,
        reference_dataset="training-set",
        reference_split="train",
    ).to_metrics()

    assert report["overlap"] == [
        {"between": ["train", "test"], "rows": 2, "rate": 0.5},
        {"between": ["test", "train"], "rows": 1, "rate": 0.5},
    ]
    assert [(d["slug"], d["split"]) for d in report["datasets"]] == [
        ("training-set", "train"),
        ("holdout", "test"),
    ]


def test_integers_beyond_two_to_the_53_are_not_merged_by_rounding() -> None:
    big = 2**53
    frame = pd.DataFrame({"id": np.array([big, big + 1, big + 1], dtype=np.int64)})

    report = data_quality_report(frame, dataset="ids", label="id")

    assert report.datasets[0].duplicate_rows.count == 1
    assert report.to_metrics()["datasets"][0]["label_balance"] == {
        str(big): {"count": 1, "rate": 1 / 3},
        str(big + 1): {"count": 2, "rate": 2 / 3},
    }


def test_wide_integers_hash_alike_in_integer_and_object_arrays() -> None:
    big, unsigned = 2**53 + 1, 2**63 + 5
    chunks = [
        {"id": np.array([big], dtype=np.int64)},
        {"id": np.array([np.int64(big), big - 1, float(big)], dtype=object)},
        {"id": np.array([unsigned], dtype=np.uint64)},
        {"id": np.array([unsigned], dtype=object)},
    ]

    report = data_quality_report(chunks, dataset="ids", label="id")

    # float(big) is 2**53, which is big - 1: so two pairs of repeats.
    assert report.datasets[0].duplicate_rows.count == 3
    assert {key: value.count for key, value in report.datasets[0].label_balance.items()} == {
        str(big - 1): 2,
        str(big): 2,
        str(unsigned): 2,
    }


def test_a_number_never_equals_the_same_digits_as_text() -> None:
    frame = pd.DataFrame({"code": np.array([1, "1", 1.0, True], dtype=object)})

    report = data_quality_report(frame, dataset="codes")

    # 1, 1.0 and True are one value; the text "1" is another.
    assert report.datasets[0].duplicate_rows.count == 2


# Label balance and group representation.


def test_label_balance_and_groups_count_rows_per_normalised_value() -> None:
    frame = pd.DataFrame(
        {
            "label": [1, 1.0, 0, 0, 1, None],
            "sex": ["female", " female", "male", "cafe\u0301", None, "café"],
        },
        dtype=object,
    )

    report = data_quality_report(frame, dataset="loans", label="label", sensitive=["sex"])

    quality = report.to_metrics()["datasets"][0]
    assert quality["label_balance"] == {
        "0": {"count": 2, "rate": 2 / 6},
        "1": {"count": 3, "rate": 3 / 6},
    }
    assert quality["group_representation"] == {
        "sex": {
            "café": {"count": 2, "rate": 2 / 6},
            "female": {"count": 2, "rate": 2 / 6},
            "male": {"count": 1, "rate": 1 / 6},
        }
    }


# Drift.


def test_psi_of_numbers_matches_a_hand_computed_example() -> None:
    # Reference 1..10: its deciles (linear) are 1.9, 2.8, ..., 9.1, so each value has a bin.
    reference = pd.DataFrame({"x": np.arange(1.0, 11.0)})
    # Shares per bin: 0.4, 0.2, 0.1, 0.1, 0.1, 0, 0, 0, 0, 0.1; missing: 0 on both sides.
    data = pd.DataFrame({"x": [1.0, 1, 1, 1, 2, 2, 3, 4, 5, 10]})

    report = data_quality_report(data, dataset="now", reference=reference, reference_dataset="then")

    eps = 1e-4
    expected = (
        (0.4 - 0.1) * math.log(0.4 / 0.1)
        + (0.2 - 0.1) * math.log(0.2 / 0.1)
        + 4 * (eps - 0.1) * math.log(eps / 0.1)
    )
    assert eps == PSI_EPSILON
    assert report.drift[0].columns["x"].psi == pytest.approx(expected, rel=1e-12)


def test_psi_of_text_counts_every_category_and_missing_values() -> None:
    reference = pd.DataFrame({"colour": ["red", "blue"] * 4})
    data = pd.DataFrame({"colour": ["red", "blue", "blue", "blue", "green", None, "red", "blue"]})

    report = data_quality_report(data, dataset="now", reference=reference, reference_dataset="then")

    # blue 4/8 vs 4/8, red 2/8 vs 4/8, green 1/8 vs 0, missing 1/8 vs 0.
    eps = 1e-4
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + 2 * (0.125 - eps) * math.log(0.125 / eps)
    column = report.drift[0].columns["colour"]
    assert column.psi == pytest.approx(expected, rel=1e-12)
    assert column.ks_statistic is None


def test_psi_is_zero_for_identical_shares_and_symmetric() -> None:
    assert population_stability_index([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert population_stability_index([0.2, 0.8], [0.6, 0.4]) == pytest.approx(
        population_stability_index([0.6, 0.4], [0.2, 0.8]), rel=1e-15
    )
    with pytest.raises(ValueError, match="shares must be finite and >= 0"):
        population_stability_index([-0.1, 1.1], [0.5, 0.5])


@pytest.mark.parametrize(("n_data", "n_reference"), [(40, 55), (3000, 4500), (12_000, 15_000)])
def test_ks_equals_scipy_ks_2samp_on_the_whole_data(n_data: int, n_reference: int) -> None:
    rng = np.random.default_rng(n_data)
    data = rng.normal(0.1, 1.0, n_data).round(2)  # rounding makes ties
    reference = rng.normal(0.0, 1.1, n_reference).round(2)
    data[::17] = np.nan

    chunks = split_frames(pd.DataFrame({"score": data}), 997)
    report = data_quality_report(
        chunks, dataset="now", reference={"score": reference}, reference_dataset="then"
    )

    expected = stats.ks_2samp(data[~np.isnan(data)], reference)
    column = report.drift[0].columns["score"]
    assert column.ks_statistic == expected.statistic
    assert column.ks_p_value == expected.pvalue
    assert column.exact


def test_beyond_the_sample_size_ks_is_an_approximation_independent_of_chunking() -> None:
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"score": rng.normal(0.3, 1.0, 5000)})
    reference = pd.DataFrame({"score": rng.normal(0.0, 1.0, 5000)})
    options: dict[str, Any] = {"dataset": "now", "reference_dataset": "then", "sample_size": 1000}

    whole = data_quality_report(data, reference=reference, **options)
    chunked = data_quality_report(
        split_frames(data, 333), reference=split_frames(reference, 77), **options
    )

    column = whole.drift[0].columns["score"]
    assert not column.exact
    assert chunked.drift[0].columns["score"] == column
    exact = stats.ks_2samp(data["score"], reference["score"])
    assert column.ks_statistic == pytest.approx(exact.statistic, abs=0.06)


def test_text_with_too_many_distinct_values_gets_no_psi() -> None:
    ids = pd.DataFrame({"id": [f"row-{i}" for i in range(1500)], "x": np.arange(1500.0)})

    report = data_quality_report(ids, dataset="now", reference=ids, reference_dataset="then")

    assert set(report.drift[0].columns) == {"x"}


# The evidence document.


def test_metrics_in_a_full_envelope_pass_the_schema() -> None:
    frame, baseline = applications(), applications(90, seed=4).drop(columns="split")
    document = {
        "kind": "data_quality",
        "schema_version": "1.0",
        "system": "credit-scoring",
        "context": "evaluation",
        "metrics": report_of(frame, baseline),
    }

    assert validate_document(document) == []
    assert len(document["metrics"]["datasets"]) == 4
    assert set(document["metrics"]["drift"][0]["columns"]) == {
        "age",
        "income",
        "region",
        "repaid",
        "sex",
    }


def test_metrics_without_label_groups_or_reference_pass_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    pa_csv.write_csv(pa.table({"a": [1, 2, 2], "b": ["x", "y", "y"]}), path)
    metrics = data_quality_report(reading.read_chunks(path), dataset="plain").to_metrics()
    document = {
        "kind": "data_quality",
        "schema_version": "1.0",
        "system": "credit-scoring",
        "context": "evaluation",
        "metrics": metrics,
    }

    assert validate_document(document) == []
    assert metrics["overlap"] == []
    assert metrics["drift"] == []
    assert "label_balance" not in metrics["datasets"][0]


# Refusals.


def test_a_missing_label_or_feature_column_is_refused_with_the_available_ones() -> None:
    with pytest.raises(ValueError, match=r"missing columns 'outcome', 'gender'; available: 'a'"):
        data_quality_report({"a": [1]}, dataset="d", label="outcome", sensitive=["gender"])


def test_chunks_with_other_columns_are_refused() -> None:
    with pytest.raises(ValueError, match=r"missing \['b'\], unexpected \['c'\]"):
        data_quality_report([{"a": [1], "b": [2]}, {"a": [1], "c": [2]}], dataset="d")


def test_a_reference_with_other_columns_is_refused() -> None:
    with pytest.raises(ValueError, match=r"the reference has other columns .*missing \['b'\]"):
        data_quality_report(
            {"a": [1], "b": [2]}, dataset="d", reference={"a": [1]}, reference_dataset="r"
        )


def test_a_reference_split_named_like_a_data_split_is_refused() -> None:
    with pytest.raises(ValueError, match="the reference split 'train' is also a split"):
        data_quality_report(
            {"split": ["train"], "a": [1]},
            dataset="d",
            split_column="split",
            reference={"a": [1]},
            reference_dataset="r",
            reference_split="train",
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dataset": "not a slug"}, "dataset must be a slug"),
        ({"dataset": "d", "split": ""}, "a split name must be text of 1-64"),
        ({"dataset": "d", "sample_size": 0}, "sample_size must be an integer >= 1, got 0"),
        ({"dataset": "d", "sensitive": "sex"}, "not the string 'sex'"),
    ],
)
def test_bad_options_are_refused_naming_the_value(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        data_quality_report({"sex": ["f"]}, **options)


def test_no_rows_and_values_that_cannot_be_compared_are_refused() -> None:
    with pytest.raises(ValueError, match=r"the data \(d\) has no rows"):
        data_quality_report({"a": np.array([], dtype=float)}, dataset="d")
    with pytest.raises(ValueError, match="column 'a' holds a dict"):
        data_quality_report({"a": np.array([{"x": 1}], dtype=object)}, dataset="d")
    with pytest.raises(ValueError, match="label value must be text of 1-100"):
        data_quality_report({"a": ["x" * 101]}, dataset="d", label="a")


def test_only_accumulators_built_alike_merge() -> None:
    ours = DataQualityAccumulator(dataset="d", label="a")
    theirs = DataQualityAccumulator(dataset="d", label="b")

    with pytest.raises(ValueError, match="only accumulators built with the same arguments"):
        ours.merge(theirs)
    with pytest.raises(ValueError, match="has no reference dataset"):
        ours.update_reference({"a": [1]})


def test_a_path_instead_of_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"read files with reading\.read_chunks"):
        data_quality_report(str(tmp_path / "a.csv"), dataset="d")
