"""The calibration engine: bins and scores against scikit-learn, streaming, groups, documents."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from sklearn.calibration import calibration_curve  # noqa: TID251 - reference implementation in tests
from sklearn.metrics import brier_score_loss, log_loss  # noqa: TID251 - reference implementation in tests

from evaluations.assessments.calibration import (
    METRICS,
    CalibrationReport,
    CalibrationStats,
    ConfidenceSample,
    calibration_report,
    quantile_edges,
    uniform_edges,
)
from evaluations.validation import validate_document

# Chunked or merged sums must equal one pass to this (absolute) tolerance.
EXACT = 1e-12


def binary_data(
    n: int, seed: int = 0, *, power: float = 1.0
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Scores uniform on [0, 1]; labels drawn with P(y = 1) = score ** power."""
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    label = (rng.random(n) < score**power).astype(np.int64)
    return label, score


def multiclass_data(n: int, k: int, seed: int = 0) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.full(k, 0.7), size=n)
    label = (proba.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1).clip(0, k - 1)
    return label.astype(np.int64), proba


def curve(report: CalibrationReport) -> tuple[list[float | None], list[float | None]]:
    """(prob_true, prob_pred) of the non-empty bins, as calibration_curve returns them."""
    occupied = [b for b in report.bins if b.count > 0]
    return [b.observed_frequency for b in occupied], [b.mean_confidence for b in occupied]


def assert_matches_sklearn_curve(
    report: CalibrationReport, y: NDArray[np.int64], p: NDArray[np.float64], **options: object
) -> None:
    prob_true, prob_pred = calibration_curve(y, p, n_bins=report.n_bins, **options)
    ours_true, ours_pred = curve(report)
    assert ours_true == pytest.approx(prob_true, rel=1e-12, abs=1e-15)
    assert ours_pred == pytest.approx(prob_pred, rel=1e-12, abs=1e-15)


def expected_errors(
    y: NDArray[np.int64], p: NDArray[np.float64], n_bins: int
) -> tuple[float, float]:
    """ECE and MCE recomputed from calibration_curve's output and the bin counts."""
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins)
    edges = np.linspace(0, 1, n_bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=n_bins)
    counts = counts[counts > 0]
    gaps = np.abs(prob_true - prob_pred)
    return float((counts / counts.sum() * gaps).sum()), float(gaps.max())


def same_report(a: CalibrationReport, b: CalibrationReport, *, intervals: bool = False) -> None:
    assert a.size == b.size
    for name in METRICS:
        assert getattr(a, name).value == pytest.approx(getattr(b, name).value, rel=0, abs=EXACT)
        if intervals:
            assert getattr(a, name).interval == getattr(b, name).interval
    for mine, theirs in zip(a.bins, b.bins, strict=True):
        assert (mine.lower, mine.upper, mine.count) == (theirs.lower, theirs.upper, theirs.count)
        for field in ("mean_confidence", "observed_frequency"):
            x, y = getattr(mine, field), getattr(theirs, field)
            assert (x is None and y is None) or x == pytest.approx(y, rel=0, abs=EXACT)
    assert len(a.breakdowns) == len(b.breakdowns)
    for mine_b, theirs_b in zip(a.breakdowns, b.breakdowns, strict=True):
        assert [g.group for g in mine_b.groups] == [g.group for g in theirs_b.groups]
        for g, h in zip(mine_b.groups, theirs_b.groups, strict=True):
            assert (g.size, g.insufficient) == (h.size, h.insufficient)
            for name in METRICS:
                assert getattr(g, name) == pytest.approx(getattr(h, name), rel=0, abs=EXACT)


# --- point estimates against scikit-learn ------------------------------------------------


@pytest.mark.parametrize("n_bins", [1, 3, 5, 10, 15, 100])
@pytest.mark.parametrize("seed", [0, 1])
def test_uniform_bins_equal_sklearns_calibration_curve_on_random_data(n_bins, seed):
    y, p = binary_data(5000, seed)
    report = calibration_report(y, p, n_bins=n_bins, intervals=False)
    assert_matches_sklearn_curve(report, y, p)
    assert sum(b.count for b in report.bins) == report.size == 5000
    ece, mce = expected_errors(y, p, n_bins)
    assert report.expected_calibration_error.value == pytest.approx(ece, rel=1e-12)
    assert report.maximum_calibration_error.value == pytest.approx(mce, rel=1e-12)


@pytest.mark.parametrize("n_bins", [*range(1, 31), 49, 97, 100, 1000])
def test_scores_on_bin_edges_and_at_zero_and_one_fall_in_the_same_bin_as_sklearn(n_bins):
    """Edges, k / n_bins (not always equal to linspace's edge) and their float neighbours."""
    edges = uniform_edges(n_bins)
    fractions = np.arange(n_bins + 1) / n_bins
    near = np.concatenate([edges, fractions])
    scores = np.concatenate(
        [near, np.nextafter(near, -np.inf), np.nextafter(near, np.inf), [0.0, 1.0]]
    )
    scores = scores[(scores >= 0) & (scores <= 1)]
    labels = np.arange(scores.size) % 2
    report = calibration_report(labels, scores, n_bins=n_bins, intervals=False)
    expected = np.bincount(np.searchsorted(edges[1:-1], scores), minlength=n_bins)
    assert [b.count for b in report.bins] == expected.tolist()
    assert_matches_sklearn_curve(report, labels, scores)


def test_a_score_on_an_edge_belongs_to_the_lower_bin():
    report = calibration_report([1, 0, 1], [0.0, 0.5, 1.0], n_bins=2, intervals=False)
    assert [b.count for b in report.bins] == [2, 1]
    assert report.bins[0].mean_confidence == 0.25
    assert report.bins[1].observed_frequency == 1.0


def test_brier_and_log_loss_equal_sklearn_with_scores_at_zero_and_one():
    y, p = binary_data(4000, 3)
    p[:10], p[10:20] = 0.0, 1.0  # log loss clips these to [eps, 1 - eps]
    report = calibration_report(y, p, intervals=False)
    assert report.brier_score_loss.value == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert report.log_loss.value == pytest.approx(log_loss(y, p), rel=1e-12)


def test_confidently_wrong_scores_give_the_clipped_log_loss_of_sklearn():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.0, 1.0, 1.0, 0.0])
    report = calibration_report(y, p, intervals=False)
    assert report.log_loss.value == pytest.approx(log_loss(y, p), rel=1e-12)
    assert report.log_loss.value == pytest.approx(-math.log(np.finfo(float).eps) / 2, rel=1e-12)


def test_a_single_class_gives_sklearns_values():
    _, p = binary_data(300, 4)
    y = np.zeros(300, dtype=np.int64)
    report = calibration_report(y, p, intervals=False)
    assert_matches_sklearn_curve(report, y, p)
    assert report.brier_score_loss.value == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert report.log_loss.value == pytest.approx(log_loss(y, p, labels=[0, 1]), rel=1e-12)


def test_empty_bins_are_kept_with_count_zero_and_nulls():
    y, p = binary_data(500, 5)
    p = 0.4 + 0.2 * p  # every score in (0.4, 0.6]
    report = calibration_report(y, p, n_bins=10, intervals=False)
    assert [b.count == 0 for b in report.bins] == [True] * 4 + [False] * 2 + [True] * 4
    for b in report.bins:
        if b.count == 0:
            assert b.mean_confidence is None
            assert b.observed_frequency is None
    assert_matches_sklearn_curve(report, y, p)


def test_all_scores_in_one_bin_make_ece_equal_mce_equal_the_gap():
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0])
    p = np.full(8, 0.72)
    report = calibration_report(y, p, intervals=False)
    assert [b.count for b in report.bins] == [0] * 7 + [8] + [0] * 2
    assert report.expected_calibration_error.value == pytest.approx(0.72 - 0.25)
    assert report.maximum_calibration_error.value == pytest.approx(0.72 - 0.25)
    assert_matches_sklearn_curve(report, y, p)


def test_string_labels_use_pos_label():
    y, p = binary_data(1000, 6)
    words = np.where(y == 1, "default", "repaid")
    report = calibration_report(words, p, pos_label="default", intervals=False)
    assert_matches_sklearn_curve(report, words, p, pos_label="default")
    expected = brier_score_loss(words, p, pos_label="default")
    assert report.brier_score_loss.value == pytest.approx(expected, rel=1e-12)


def test_float32_scores_are_binned_like_sklearn():
    y, p = binary_data(3000, 7)
    p32 = p.astype(np.float32)
    report = calibration_report(y, p32, intervals=False)
    assert_matches_sklearn_curve(report, y, p32.astype(np.float64))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_multiclass_scores_equal_sklearns_brier_and_log_loss(k):
    y, proba = multiclass_data(3000, k, seed=k)
    report = calibration_report(y, proba, task="multiclass", intervals=False)
    labels = list(range(k))
    expected_brier = brier_score_loss(y, proba, labels=labels)
    assert report.brier_score_loss.value == pytest.approx(expected_brier, rel=1e-12)
    assert report.log_loss.value == pytest.approx(log_loss(y, proba, labels=labels), rel=1e-12)


def test_multiclass_bins_the_top_label_confidence_like_calibration_curve():
    y, proba = multiclass_data(3000, 4, seed=8)
    report = calibration_report(y, proba, task="multiclass", n_bins=15, intervals=False)
    correct = (proba.argmax(axis=1) == y).astype(np.int64)
    assert_matches_sklearn_curve(report, correct, proba.max(axis=1))


# --- quantile bins ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [1, 4, 10, 20])
def test_quantile_edges_and_bins_equal_sklearns_in_memory(n_bins):
    y, p = binary_data(2000, 9, power=1.5)
    p[:100] = 0.5  # ties make equal edges and empty bins
    assert np.array_equal(
        quantile_edges(p, n_bins),
        np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100),  # calibration_curve's
    )
    report = calibration_report(y, p, n_bins=n_bins, strategy="quantile", intervals=False)
    assert report.bin_strategy == "quantile"
    assert [b.lower for b in report.bins] == quantile_edges(p, n_bins)[:-1].tolist()
    assert_matches_sklearn_curve(report, y, p, strategy="quantile")


def test_a_confidence_sample_gives_exact_edges_when_the_data_fit():
    _, p = binary_data(3000, 10)
    sample = ConfidenceSample(max_rows=5000, seed=1)
    for chunk in np.array_split(p, 7):
        sample.update(chunk)
    assert sample.exact
    assert sample.size == 3000
    assert np.array_equal(sample.edges(10), quantile_edges(p, 10))


def test_a_bounded_confidence_sample_approximates_the_edges_and_feeds_a_stream():
    y, p = binary_data(60_000, 11)
    sample = ConfidenceSample(max_rows=5000, seed=2)
    for chunk in np.array_split(p, 6):
        sample.update(chunk)
    assert not sample.exact
    edges = sample.edges(10)
    assert edges == pytest.approx(quantile_edges(p, 10), abs=0.03)
    stats = CalibrationStats(n_bins=10, strategy="quantile", edges=edges, sample_rows=0)
    for y_chunk, p_chunk in zip(np.array_split(y, 4), np.array_split(p, 4), strict=True):
        stats.update(y_chunk, p_chunk)
    report = stats.result(intervals=False)
    assert [b.count for b in report.bins] == pytest.approx([6000] * 10, rel=0.15)


# --- streaming: additive statistics -----------------------------------------------------------


def groups_of(n: int, seed: int) -> dict[str, NDArray[np.str_]]:
    rng = np.random.default_rng(seed)
    return {
        "sex": rng.choice(["female", "male"], n),
        "age_band": rng.choice(["under_25", "25_to_60", "over_60"], n, p=[0.1, 0.7, 0.2]),
    }


def chunks(n: int, cuts: list[int]) -> list[slice]:
    bounds = [0, *cuts, n]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_chunked_updates_equal_one_pass(strategy):
    y, p = binary_data(20_000, 12)
    features = groups_of(20_000, 12)
    edges = quantile_edges(p, 10) if strategy == "quantile" else None
    options = {"strategy": strategy, "edges": edges, "sensitive_features": ("sex", "age_band")}
    whole = CalibrationStats(**options)
    whole.update(y, p, sensitive_features=features)
    parts = CalibrationStats(**options)
    for part in chunks(20_000, [1, 7_777, 7_778, 13_001]):  # every bin spans several chunks
        parts.update(y[part], p[part], sensitive_features={k: v[part] for k, v in features.items()})
    same_report(parts.result(n_boot=50), whole.result(n_boot=50), intervals=True)


def test_one_row_chunks_equal_one_pass():
    y, p = binary_data(400, 13)
    p[:5] = [0.0, 1.0, 0.1, 0.2, 0.5]
    whole = CalibrationStats()
    whole.update(y, p)
    rows = CalibrationStats()
    for i in range(400):
        rows.update(y[i : i + 1], p[i : i + 1])
    same_report(rows.result(n_boot=30), whole.result(n_boot=30), intervals=True)


def test_merged_partial_statistics_equal_one_pass():
    y, proba = multiclass_data(9_000, 3, seed=14)
    features = {"region": np.random.default_rng(14).choice(["north", "south", "east"], 9_000)}
    whole = CalibrationStats(task="multiclass", sensitive_features=["region"], sample_rows=0)
    whole.update(y, proba, sensitive_features=features)
    merged = CalibrationStats(task="multiclass", sensitive_features=["region"], seed=(7, 0))
    for i, part in enumerate(chunks(9_000, [2_000, 2_001, 6_500]), start=1):
        other = CalibrationStats(task="multiclass", sensitive_features=["region"], seed=(7, i))
        other.update(y[part], proba[part], sensitive_features={"region": features["region"][part]})
        merged.merge(other)
    same_report(merged.result(intervals=False), whole.result(intervals=False))
    assert merged.result(n_boot=20).log_loss.interval is not None


def test_merging_samples_with_the_same_seed_is_refused():
    y, p = binary_data(100, 15)
    first, second = CalibrationStats(), CalibrationStats()
    first.update(y[:50], p[:50])
    second.update(y[50:], p[50:])
    with pytest.raises(ValueError, match="same seed"):
        first.merge(second)


def test_merging_samples_of_other_sizes_is_refused():
    with pytest.raises(ValueError, match="at most 10 rows into one of at most 20"):
        CalibrationStats(sample_rows=20).merge(CalibrationStats(sample_rows=10, seed=1))


def test_merging_statistics_over_other_edges_is_refused():
    with pytest.raises(ValueError, match="edges"):
        CalibrationStats(n_bins=10).merge(CalibrationStats(n_bins=5))


def test_chunks_whose_labels_add_up_to_three_values_are_refused():
    stats = CalibrationStats()
    stats.update([0, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="more than two labels"):
        stats.update([2, 1], [0.2, 0.8])


# --- groups ------------------------------------------------------------------------------------


def test_each_group_equals_a_report_on_its_own_rows():
    y, p = binary_data(6_000, 16, power=1.4)
    features = groups_of(6_000, 16)
    report = calibration_report(y, p, sensitive_features=features, intervals=False)
    assert [b.features for b in report.breakdowns] == [("sex",), ("age_band",), ("sex", "age_band")]
    intersection = report.breakdowns[2]
    assert len(intersection.groups) == 6
    for group in intersection.groups:
        rows = (features["sex"] == group.group[0]) & (features["age_band"] == group.group[1])
        alone = calibration_report(y[rows], p[rows], intervals=False)
        assert group.size == alone.size
        for name in METRICS:
            assert getattr(group, name) == pytest.approx(getattr(alone, name).value, abs=EXACT)


def test_small_groups_are_insufficient_and_left_out_of_the_largest_gap():
    y, p = binary_data(230, 17)
    band = np.array(["a"] * 100 + ["b"] * 100 + ["c"] * 30)
    band[-1] = "d"  # 29 rows of c, one of d
    report = calibration_report(y, p, sensitive_features={"band": band}, intervals=False)
    (breakdown,) = report.breakdowns
    assert [(g.group, g.size, g.insufficient) for g in breakdown.groups] == [
        (("a",), 100, False),
        (("b",), 100, False),
        (("c",), 29, True),
        (("d",), 1, True),
    ]
    a, b = breakdown.groups[0], breakdown.groups[1]
    for name in METRICS:
        assert breakdown.largest_gap[name] == pytest.approx(
            abs(getattr(a, name) - getattr(b, name))
        )


def test_largest_gap_is_null_with_fewer_than_two_sufficient_groups():
    y, p = binary_data(100, 18)
    report = calibration_report(
        y, p, sensitive_features={"band": ["x"] * 90 + ["y"] * 10}, intervals=False
    )
    assert report.breakdowns[0].largest_gap == dict.fromkeys(METRICS)


def test_a_dataframe_gives_the_sensitive_features():
    y, p = binary_data(80, 25)
    frame = pd.DataFrame({"sex": ["f", "m"] * 40, "band": pd.Categorical(["a"] * 40 + ["b"] * 40)})
    report = calibration_report(y, p, sensitive_features=frame, intervals=False)
    assert [b.features for b in report.breakdowns] == [("sex",), ("band",), ("sex", "band")]
    assert [g.size for g in report.breakdowns[2].groups] == [20, 20, 20, 20]


def test_group_values_become_strings():
    y, p = binary_data(60, 19)
    report = calibration_report(
        y, p, sensitive_features={"grade": np.repeat([1, 2], 30)}, intervals=False
    )
    assert [g.group for g in report.breakdowns[0].groups] == [("1",), ("2",)]


# --- intervals ---------------------------------------------------------------------------------


def test_bootstrap_intervals_contain_the_point_estimates_on_miscalibrated_data():
    y, p = binary_data(5_000, 20, power=2.0)  # systematically overconfident
    report = calibration_report(y, p, n_boot=300, seed=3)
    for name in METRICS:
        estimate = getattr(report, name)
        assert estimate.interval is not None
        assert estimate.interval.low <= estimate.value <= estimate.interval.high, name
        assert estimate.interval.level == 0.95
        assert estimate.interval.method == "bootstrap"


def test_bootstrap_intervals_are_deterministic_for_a_seed():
    y, p = binary_data(3_000, 21)
    first = calibration_report(y, p, n_boot=200, seed=5)
    again = calibration_report(y, p, n_boot=200, seed=5)
    other = calibration_report(y, p, n_boot=200, seed=6)
    assert first == again
    assert first.log_loss.interval != other.log_loss.interval


def test_bootstrap_over_a_bounded_sample_of_a_larger_stream():
    y, p = binary_data(50_000, 22, power=2.0)
    stats = CalibrationStats(sample_rows=4_000, seed=9)
    for part in np.array_split(np.arange(50_000), 5):
        stats.update(y[part], p[part])
    report = stats.result(n_boot=200)
    interval = report.brier_score_loss.interval
    assert interval is not None
    # The sample has 4,000 rows: the interval is about sqrt(50_000 / 4_000) times wider
    # than the full data's would be, and still holds the full data's value.
    assert interval.low < report.brier_score_loss.value < interval.high
    assert 0.01 < interval.high - interval.low < 0.05


def test_intervals_need_a_sample():
    stats = CalibrationStats(sample_rows=0)
    stats.update([0, 1], [0.3, 0.6])
    with pytest.raises(ValueError, match="sample_rows=0"):
        stats.result()


# --- documents ---------------------------------------------------------------------------------


def envelope(metrics: dict[str, object]) -> dict[str, object]:
    return {
        "kind": "calibration",
        "schema_version": "1.0",
        "system": "credit-scoring",
        "model_version": "4.3.0",
        "context": "evaluation",
        "metrics": metrics,
    }


def test_a_report_with_intervals_and_groups_is_a_valid_calibration_document():
    y, p = binary_data(2_000, 23, power=1.3)
    p[:5] = 0.0
    report = calibration_report(y, p, sensitive_features=groups_of(2_000, 23), n_boot=100)
    metrics = report.to_metrics()
    assert validate_document(envelope(metrics)) == []
    assert metrics["expected_calibration_error"]["interval"]["method"] == "bootstrap"
    assert metrics["breakdowns"][0]["groups"][0]["group"] == {"sex": "female"}


def test_a_point_only_multiclass_report_with_empty_bins_is_a_valid_document():
    y, proba = multiclass_data(500, 4, seed=24)
    metrics = calibration_report(
        y, proba, task="multiclass", n_bins=20, intervals=False
    ).to_metrics()
    assert isinstance(metrics["brier_score_loss"], float)
    assert "breakdowns" not in metrics
    assert metrics["bins"][0] == {
        "lower": 0.0,
        "upper": 0.05,
        "count": 0,
        "mean_confidence": None,
        "observed_frequency": None,
    }
    assert validate_document(envelope(metrics)) == []


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y_true", "y_score", "options", "message"),
    [
        ([0, 1], [0.2, 1.5], {}, "outside \\[0, 1\\]: 1.5 at row 1"),
        ([0, 1], [-0.1, 0.5], {}, "outside \\[0, 1\\]: -0.1 at row 0"),
        ([0, 1], [0.2, math.nan], {}, "NaN at row 1"),
        ([0, 1, 1], [0.2, 0.3], {}, "3 rows but y_score has 2"),
        ([0, 1, 2], [0.2, 0.3, 0.4], {}, "more than two labels.*0, 1, 2"),
        ([0, 2], [0.2, 0.3], {}, "pos_label 1 is not one of the labels"),
        ([0.0, math.nan], [0.2, 0.3], {}, "y_true has NaN at row 1"),
        ([0, 1], [[0.2, 0.8], [0.5, 0.5]], {}, "1-D for task='binary'"),
        ([0, 1], ["a", "b"], {}, "must hold numbers"),
        ([0, 1], [[0.2, 0.7], [0.5, 0.5]], {"task": "multiclass"}, "row 0 sums to 0.8999"),
        ([0, 3], [[0.2, 0.8], [0.5, 0.5]], {"task": "multiclass"}, "class index 3"),
        ([0.0, 1.0], [[0.2, 0.8], [0.5, 0.5]], {"task": "multiclass"}, "integer class indices"),
        ([0, 1], [0.2, 0.8], {"n_bins": 0}, "n_bins must be a whole number ≥ 1, got 0"),
        ([0, 1], [0.2, 0.8], {"n_bins": 2.5}, "got 2.5"),
        ([0, 1], [0.2, 0.8], {"task": "regression"}, "task must be one of.*'regression'"),
        ([0, 1], [0.2, 0.8], {"strategy": "kmeans"}, "strategy must be one of.*'kmeans'"),
        ([0, 1], [0.2, 0.8], {"level": 1.0}, "level must lie strictly between 0 and 1"),
        ([0, 1], [0.2, 0.8], {"n_boot": 0}, "n_boot must be a whole number ≥ 1"),
        ([0, 1], [0.2, 0.8], {"min_group_size": -1}, "min_group_size"),
        ([], [], {}, "no rows"),
        (
            [0, 1],
            [0.2, 0.8],
            {"sensitive_features": {"sex": ["f", None]}},
            "'sex' has a missing value at row 1",
        ),
        (
            [0, 1],
            [0.2, 0.8],
            {"sensitive_features": {"sex": ["f"]}},
            "'sex' must be 1-D with 2 rows",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_value(y_true, y_score, options, message):
    with pytest.raises(ValueError, match=message):
        calibration_report(y_true, y_score, **options)


def test_an_update_that_fails_leaves_the_statistics_unchanged():
    stats = CalibrationStats(sensitive_features=["sex"])
    stats.update([0, 1], [0.2, 0.8], sensitive_features={"sex": ["f", "m"]})
    before = stats.result(intervals=False)
    with pytest.raises(ValueError, match="NaN"):
        stats.update([0, 1], [0.3, math.nan], sensitive_features={"sex": ["f", "x"]})
    with pytest.raises(ValueError, match="exactly \\['sex'\\]"):
        stats.update([0, 1], [0.3, 0.4], sensitive_features={"age": ["1", "2"]})
    assert stats.result(intervals=False) == before


def test_quantile_statistics_need_their_edges():
    with pytest.raises(ValueError, match="quantile_edges"):
        CalibrationStats(strategy="quantile")
    with pytest.raises(ValueError, match="must not decrease"):
        CalibrationStats(strategy="quantile", n_bins=2, edges=[0.0, 0.6, 0.5])
