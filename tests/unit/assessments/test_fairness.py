"""The fairness engine: counts, rates and aggregates against fairlearn, edge cases, documents."""

import functools
import itertools
import json

import fairlearn.metrics as flm  # noqa: TID251 - reference implementation in tests
import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm  # noqa: TID251 - reference implementation in tests
from sklearn.exceptions import UndefinedMetricWarning  # noqa: TID251 - reference implementation in tests

from evaluations.assessments import confusion
from evaluations.assessments.confusion import ConfusionCounts
from evaluations.assessments.fairness import (
    AGGREGATES,
    RATES,
    fairness_report,
    report_from_counts,
)
from evaluations.assessments.intervals import newcombe
from evaluations.validation import validate_document

# fairlearn's and scikit-learn's functions for each riskreg group metric. Precision is
# asked for NaN where undefined, which riskreg reports as null (see the edge cases).
REFERENCE_RATES = {
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "false_negative_rate": flm.false_negative_rate,
    "true_negative_rate": flm.true_negative_rate,
    "positive_predictive_value": functools.partial(skm.precision_score, zero_division=np.nan),
    "accuracy": skm.accuracy_score,
    "size": flm.count,
}
REFERENCE_AGGREGATES = {
    "demographic_parity_difference": flm.demographic_parity_difference,
    "demographic_parity_ratio": flm.demographic_parity_ratio,
    "equalized_odds_difference": flm.equalized_odds_difference,
    "equalized_odds_ratio": flm.equalized_odds_ratio,
    "equal_opportunity_difference": flm.equal_opportunity_difference,
    "equal_opportunity_ratio": flm.equal_opportunity_ratio,
}
SEXES = np.array(["female", "male"])
REGIONS = np.array(["north", "south", "east", "west"])
ENVELOPE = {
    "kind": "fairness",
    "schema_version": "1.0",
    "system": "credit-scoring",
    "model_version": "4.3.0",
    "context": "evaluation",
}


def _random_data(seed, rows=3000):
    """8 intersection groups (2 sexes x 4 regions) of unequal sizes and different rates."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.3, 3.0, size=8)
    group = rng.choice(8, size=rows, p=weights / weights.sum())
    label = rng.random(rows) < rng.uniform(0.2, 0.7, size=8)[group]
    hit, false_alarm = rng.uniform(0.5, 0.9, size=8), rng.uniform(0.05, 0.4, size=8)
    prediction = rng.random(rows) < np.where(label, hit[group], false_alarm[group])
    features = {"sex": SEXES[group // 4], "region": REGIONS[group % 4]}
    return label.astype(int), prediction.astype(int), features


def _rows(spec):
    """Labels, predictions and one feature `g` from [(group, tn, fp, fn, tp), ...]."""
    labels, predictions, groups = [], [], []
    for group, *cells in spec:
        for (label, prediction), count in zip([(0, 0), (0, 1), (1, 0), (1, 1)], cells, strict=True):
            labels += [label] * count
            predictions += [prediction] * count
            groups += [group] * count
    return np.array(labels), np.array(predictions), {"g": np.array(groups)}


def _by_group(frame):
    """fairlearn's by_group as {(feature value, ...): {metric: value}}."""
    table = frame.by_group.reset_index()
    names = list(frame.by_group.index.names)
    return {
        tuple(str(record[name]) for name in names): record
        for record in table.to_dict(orient="records")
    }


def _document(report):
    return {**ENVELOPE, "metrics": report.to_metrics()}


def _values(breakdown):
    return {name: estimate.value for name, estimate in breakdown.aggregates.items()}


# Point estimates against fairlearn.


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_group_rate_equals_fairlearns_metricframe_on_random_data(seed):
    y_true, y_pred, features = _random_data(seed)

    report = fairness_report(y_true, y_pred, sensitive_features=features, intervals=False)

    assert [b.features for b in report.breakdowns] == [("sex",), ("region",), ("sex", "region")]
    for breakdown in report.breakdowns:
        columns = pd.DataFrame({name: features[name] for name in breakdown.features})
        frame = flm.MetricFrame(
            metrics=REFERENCE_RATES, y_true=y_true, y_pred=y_pred, sensitive_features=columns
        )
        reference = _by_group(frame)
        assert len(breakdown.groups) == len(reference)
        for group in breakdown.groups:
            expected = reference[tuple(group.group.values())]
            assert group.size == expected["size"] >= 30
            assert group.tp + group.fp + group.tn + group.fn == group.size
            for name in RATES:
                assert group.rates[name].value == pytest.approx(expected[name], abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_aggregate_equals_fairlearns_between_groups_functions_on_random_data(seed):
    y_true, y_pred, features = _random_data(seed)

    report = fairness_report(y_true, y_pred, sensitive_features=features, intervals=False)

    for breakdown in report.breakdowns:
        columns = pd.DataFrame({name: features[name] for name in breakdown.features})
        for name, function in REFERENCE_AGGREGATES.items():
            expected = function(y_true, y_pred, sensitive_features=columns, method="between_groups")
            assert breakdown.aggregates[name].value == pytest.approx(expected, abs=1e-12), name


def test_overall_rates_equal_fairlearns_overall():
    y_true, y_pred, features = _random_data(5)

    report = fairness_report(y_true, y_pred, sensitive_features=features, intervals=False)
    frame = flm.MetricFrame(
        metrics=REFERENCE_RATES, y_true=y_true, y_pred=y_pred, sensitive_features=features["sex"]
    )

    assert report.overall.size == len(y_true)
    for name in RATES:
        assert report.overall.rates[name].value == pytest.approx(frame.overall[name], abs=1e-12)


def test_intervals_do_not_change_the_point_estimates():
    y_true, y_pred, features = _random_data(6)

    plain = fairness_report(y_true, y_pred, sensitive_features=features, intervals=False)
    with_intervals = fairness_report(y_true, y_pred, sensitive_features=features)

    for bare, full in zip(plain.breakdowns, with_intervals.breakdowns, strict=True):
        assert _values(bare) == _values(full)
        for group_bare, group_full in zip(bare.groups, full.groups, strict=True):
            assert {k: v.value for k, v in group_bare.rates.items()} == {
                k: v.value for k, v in group_full.rates.items()
            }


# Edge cases: riskreg's pinned behaviour, and where it departs from fairlearn.


def test_a_category_that_no_row_has_is_no_group_as_in_fairlearn():
    y_true, y_pred, features = _rows([("a", 20, 10, 5, 15), ("b", 15, 10, 10, 15)])
    column = pd.Categorical(features["g"], categories=["a", "b", "c"])

    report = fairness_report(y_true, y_pred, sensitive_features={"g": column}, intervals=False)
    frame = flm.MetricFrame(
        metrics=flm.selection_rate,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=pd.Series(column, name="g"),
    )

    assert [group.group for group in report.breakdowns[0].groups] == [{"g": "a"}, {"g": "b"}]
    assert list(frame.by_group.index) == ["a", "b"]


def test_a_group_counted_with_no_rows_is_reported_empty_undefined_and_insufficient():
    counts = ConfusionCounts.from_cells(
        ["g"], {("a",): (20, 10, 5, 15), ("b",): (15, 10, 10, 15), ("c",): (0, 0, 0, 0)}
    )

    report = report_from_counts(counts, min_group_size=0)
    empty = report.breakdowns[0].groups[2]

    assert (empty.group, empty.size, empty.insufficient) == ({"g": "c"}, 0, True)
    assert all(estimate.value is None for estimate in empty.rates.values())
    assert report.breakdowns[0].aggregates["demographic_parity_difference"].value == pytest.approx(
        0.5 - 0.5
    )
    assert validate_document(_document(report), computed=True) == []


def test_a_group_without_positives_has_no_true_positive_rate_and_is_left_out_of_the_aggregates():
    y_true, y_pred, features = _rows(
        [("a", 20, 10, 5, 15), ("b", 15, 10, 10, 15), ("c", 25, 15, 0, 0)]
    )

    report = fairness_report(y_true, y_pred, sensitive_features=features, min_group_size=0)
    breakdown = report.breakdowns[0]
    single_class = breakdown.groups[2]
    # fairlearn's group_min and group_max skip NaN: given NaN for the undefined rate, its
    # aggregates agree with riskreg's.
    recall = {"recall": functools.partial(skm.recall_score, zero_division=np.nan)}
    frame = flm.MetricFrame(
        metrics=recall, y_true=y_true, y_pred=y_pred, sensitive_features=features["g"]
    )

    assert single_class.rates["true_positive_rate"].value is None
    assert single_class.rates["false_negative_rate"].value is None
    assert single_class.rates["false_positive_rate"].value == 15 / 40
    assert breakdown.aggregates["equal_opportunity_difference"].value == pytest.approx(
        frame.difference()["recall"], abs=1e-12
    )
    assert breakdown.aggregates["equal_opportunity_ratio"].value == pytest.approx(
        frame.ratio()["recall"], abs=1e-12
    )
    # fairlearn's own true_positive_rate reports the undefined rate as 0.0; riskreg does not.
    own = flm.MetricFrame(
        metrics=flm.true_positive_rate,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=features["g"],
    )
    assert own.by_group["c"] == 0.0


def test_zero_division_leaves_a_rate_undefined_where_scikit_learn_warns_and_says_zero():
    y_true, y_pred, features = _rows([("a", 20, 10, 5, 15), ("b", 30, 0, 10, 0)])

    report = fairness_report(y_true, y_pred, sensitive_features=features, min_group_size=0)
    no_predictions = report.breakdowns[0].groups[1]
    in_b = features["g"] == "b"

    assert no_predictions.rates["positive_predictive_value"].value is None
    assert no_predictions.rates["selection_rate"].value == 0.0
    assert no_predictions.rates["true_positive_rate"].value == 0.0
    with pytest.warns(UndefinedMetricWarning):
        assert skm.precision_score(y_true[in_b], y_pred[in_b]) == 0.0


def test_undefined_rates_are_null_in_the_document_without_intervals():
    y_true, y_pred, features = _rows([("a", 20, 10, 5, 15), ("b", 25, 15, 0, 0)])

    metrics = fairness_report(
        y_true, y_pred, sensitive_features=features, min_group_size=0
    ).to_metrics()
    group = metrics["breakdowns"][0]["groups"][1]

    assert group["true_positive_rate"] is None
    assert group["false_negative_rate"] is None
    assert group["false_positive_rate"]["interval"]["method"] == "wilson"
    assert metrics["breakdowns"][0]["equal_opportunity_difference"] is None
    assert metrics["breakdowns"][0]["equal_opportunity_ratio"] is None
    assert metrics["breakdowns"][0]["equalized_odds_difference"] is None


def test_all_zero_selection_rates_give_difference_zero_and_ratio_one_where_fairlearn_gives_nan():
    y_true, _, features = _rows([("a", 20, 0, 15, 0), ("b", 30, 0, 10, 0)])
    y_pred = np.zeros_like(y_true)

    report = fairness_report(y_true, y_pred, sensitive_features=features, intervals=False)
    aggregates = _values(report.breakdowns[0])
    column = features["g"]

    assert aggregates["demographic_parity_difference"] == 0.0
    assert aggregates["demographic_parity_ratio"] == 1.0
    assert aggregates["equal_opportunity_ratio"] == 1.0
    assert flm.demographic_parity_difference(y_true, y_pred, sensitive_features=column) == 0.0
    assert np.isnan(flm.demographic_parity_ratio(y_true, y_pred, sensitive_features=column))


def test_one_group_only_has_no_aggregates_where_fairlearn_gives_zero_and_one():
    y_true, y_pred, features = _rows([("a", 20, 10, 5, 15)])

    report = fairness_report(y_true, y_pred, sensitive_features=features)
    column = features["g"]

    assert report.breakdowns[0].groups[0].insufficient is False
    assert all(value is None for value in _values(report.breakdowns[0]).values())
    assert flm.demographic_parity_difference(y_true, y_pred, sensitive_features=column) == 0.0
    assert flm.demographic_parity_ratio(y_true, y_pred, sensitive_features=column) == 1.0
    assert validate_document(_document(report), computed=True) == []


def test_min_group_size_flags_a_small_group_and_leaves_it_out_of_the_aggregates():
    y_true, y_pred, features = _rows(
        [("a", 40, 20, 10, 30), ("b", 30, 10, 20, 20), ("c", 1, 8, 0, 1)]
    )
    sufficient = features["g"] != "c"

    report = fairness_report(y_true, y_pred, sensitive_features=features, intervals=False)
    breakdown = report.breakdowns[0]
    small = breakdown.groups[2]

    assert [group.insufficient for group in breakdown.groups] == [False, False, True]
    assert (small.size, small.rates["selection_rate"].value) == (10, 0.9)
    for name, function in REFERENCE_AGGREGATES.items():
        expected = function(
            y_true[sufficient], y_pred[sufficient], sensitive_features=features["g"][sufficient]
        )
        assert breakdown.aggregates[name].value == pytest.approx(expected, abs=1e-12), name
    everyone = flm.demographic_parity_difference(y_true, y_pred, sensitive_features=features["g"])
    assert breakdown.aggregates["demographic_parity_difference"].value != everyone


def test_min_group_size_zero_keeps_every_group_with_rows():
    y_true, y_pred, features = _rows([("a", 40, 20, 10, 30), ("c", 1, 8, 0, 1)])

    report = fairness_report(y_true, y_pred, sensitive_features=features, min_group_size=0)

    assert [group.insufficient for group in report.breakdowns[0].groups] == [False, False]


def test_equalized_odds_is_undefined_when_its_false_positive_part_is():
    y_true, y_pred, features = _rows([("a", 0, 0, 10, 30), ("b", 0, 0, 20, 20)])

    aggregates = _values(
        fairness_report(y_true, y_pred, sensitive_features=features, intervals=False).breakdowns[0]
    )

    assert aggregates["equal_opportunity_difference"] == pytest.approx(0.25)
    assert aggregates["equalized_odds_difference"] is None
    assert aggregates["equalized_odds_ratio"] is None


# Intervals in the report.


def test_a_difference_interval_is_newcombes_between_the_groups_at_the_max_and_the_min():
    y_true, y_pred, features = _rows(
        [("a", 40, 20, 10, 30), ("b", 30, 10, 20, 20), ("c", 35, 15, 15, 25)]
    )

    estimate = (
        fairness_report(y_true, y_pred, sensitive_features=features)
        .breakdowns[0]
        .aggregates["demographic_parity_difference"]
    )
    # Selection rates: a 50/100, b 30/80, c 40/90; max a, min b.
    low, high = newcombe(50, 100, 30, 80)

    assert estimate.value == pytest.approx(0.5 - 0.375)
    assert estimate.interval.method == "newcombe"
    assert (estimate.interval.low, estimate.interval.high) == (max(0.0, low), high)


def test_ratio_and_equalized_odds_intervals_come_from_the_seeded_bootstrap():
    y_true, y_pred, features = _random_data(7)

    first = fairness_report(y_true, y_pred, sensitive_features=features, n_boot=200, seed=1)
    again = fairness_report(y_true, y_pred, sensitive_features=features, n_boot=200, seed=1)
    other = fairness_report(y_true, y_pred, sensitive_features=features, n_boot=200, seed=2)

    ratio = first.breakdowns[2].aggregates["demographic_parity_ratio"]
    assert ratio.interval.method == "bootstrap"
    assert ratio.interval.level == 0.95
    assert 0.0 <= ratio.interval.low <= ratio.interval.high <= 1.0
    assert first.to_metrics() == again.to_metrics()
    assert first.to_metrics() != other.to_metrics()


def test_every_group_rate_carries_its_wilson_interval():
    y_true, y_pred, features = _rows([("a", 40, 20, 10, 30)])

    rate = fairness_report(y_true, y_pred, sensitive_features=features).overall.rates

    assert rate["true_positive_rate"].value == 0.75
    assert rate["true_positive_rate"].interval.method == "wilson"
    assert rate["true_positive_rate"].interval.low < 0.75 < rate["true_positive_rate"].interval.high


# Streaming: chunks and merges.


def _chunks(y_true, y_pred, features, bounds):
    for start, stop in itertools.pairwise(bounds):
        yield (
            y_true[start:stop],
            y_pred[start:stop],
            {name: column[start:stop] for name, column in features.items()},
        )


def _counted(y_true, y_pred, features, bounds):
    counts = ConfusionCounts(list(features))
    for chunk in _chunks(y_true, y_pred, features, bounds):
        counts.update(*chunk)
    return counts


def test_three_chunks_whose_bounds_split_groups_count_the_same_as_one_pass():
    y_true, y_pred, features = _random_data(11)

    whole = _counted(y_true, y_pred, features, [0, len(y_true)])
    chunked = _counted(y_true, y_pred, features, [0, 701, 1902, len(y_true)])

    assert chunked == whole
    np.testing.assert_array_equal(chunked.intersection().cells, whole.intersection().cells)
    assert report_from_counts(chunked).to_metrics() == report_from_counts(whole).to_metrics()


def test_one_row_chunks_count_the_same_as_one_pass():
    y_true, y_pred, features = _random_data(12, rows=400)

    whole = _counted(y_true, y_pred, features, [0, 400])
    one_by_one = _counted(y_true, y_pred, features, list(range(401)))

    assert one_by_one == whole
    assert one_by_one.size == 400


def test_merging_chunks_in_any_order_gives_identical_counts():
    y_true, y_pred, features = _random_data(13)
    # Sorted by group, each chunk holds a different set of groups.
    order = np.lexsort((features["region"], features["sex"]))
    y_true, y_pred = y_true[order], y_pred[order]
    features = {name: column[order] for name, column in features.items()}
    parts = [
        _counted(*chunk, [0, 1000])
        for chunk in _chunks(y_true, y_pred, features, [0, 1000, 2000, 3000])
    ]
    assert len({part.intersection().groups for part in parts}) == 3

    merged = []
    for first, second, third in [(0, 1, 2), (2, 0, 1), (1, 2, 0)]:
        total = parts[first].copy()
        total.merge(parts[second])
        total.merge(parts[third])
        merged.append(total)

    whole = _counted(y_true, y_pred, features, [0, len(y_true)])
    assert merged[0] == merged[1] == merged[2] == whole
    assert parts[0] != whole  # merging left its operands alone
    metrics = [report_from_counts(total).to_metrics() for total in merged]
    assert metrics[0] == metrics[1] == metrics[2]


def test_an_empty_chunk_counts_nothing():
    y_true, y_pred, features = _random_data(14, rows=200)
    counts = _counted(y_true, y_pred, features, [0, 200])
    before = counts.copy()

    counts.update([], [], {"sex": [], "region": []})

    assert counts == before


def test_counts_of_other_features_or_labels_do_not_merge():
    counts = ConfusionCounts(["sex"])

    with pytest.raises(ValueError, match="region"):
        counts.merge(ConfusionCounts(["region"]))
    with pytest.raises(ValueError, match="'yes'"):
        counts.merge(ConfusionCounts(["sex"], pos_label="yes"))


def test_read_outs_give_each_feature_the_intersection_and_overall():
    counts = ConfusionCounts.from_cells(
        ["sex", "age"],
        {
            ("f", "young"): (1, 2, 3, 4),
            ("f", "old"): (10, 20, 30, 40),
            ("m", "young"): (5, 0, 0, 5),
        },
    )

    sex, age = counts.by_feature("sex"), counts.by_feature("age")

    assert sex.groups == (("f",), ("m",))
    np.testing.assert_array_equal(sex.cells, [[11, 22, 33, 44], [5, 0, 0, 5]])
    assert age.groups == (("old",), ("young",))
    np.testing.assert_array_equal(age.cells, [[10, 20, 30, 40], [6, 2, 3, 9]])
    assert len(counts.intersection().groups) == 3
    np.testing.assert_array_equal(counts.overall(), [16, 22, 33, 49])
    assert counts.size == 120


# Inputs accepted.


def test_booleans_named_labels_and_minus_one_count_like_zero_and_one():
    y_true, y_pred, features = _random_data(15, rows=500)
    expected = _counted(y_true, y_pred, features, [0, 500]).intersection().cells
    words = np.array(["no", "yes"])
    nullable = pd.Series(y_pred, dtype="Int64")

    encodings = [
        (y_true.astype(bool), y_pred.astype(bool), 1),
        (y_true.astype(bool), y_pred.astype(bool), True),
        (words[y_true], words[y_pred], "yes"),
        (words[y_true].astype(object), pd.Series(words[y_pred]), "yes"),
        (2 * y_true - 1, 2 * y_pred - 1, 1),
        (y_true.astype(float), nullable, 1),
        (1 - y_true, 1 - y_pred, 0),
        (list(y_true), list(y_pred), np.int64(1)),
    ]
    for truth, prediction, pos_label in encodings:
        counts = ConfusionCounts(list(features), pos_label=pos_label)
        counts.update(truth, prediction, features)
        np.testing.assert_array_equal(counts.intersection().cells, expected)


def test_sensitive_values_become_strings_and_values_with_the_same_string_are_one_group():
    y_true, y_pred = np.array([1, 0, 1, 1, 0]), np.array([1, 1, 0, 1, 0])
    column = np.array([1, "1", 2.5, "x", 2.5], dtype=object)

    counts = ConfusionCounts(["g"])
    counts.update(y_true, y_pred, {"g": column})

    assert counts.intersection().groups == (("1",), ("2.5",), ("x",))
    np.testing.assert_array_equal(counts.table(["g"]).cells.sum(axis=1), [2, 2, 1])


@pytest.mark.parametrize(
    "values",
    [
        ["female", "male", "non-binary", "female"],  # fits in 8 code units: packed exactly
        ["a considerably longer value", "short", "another long value!!", "short"],  # hashed
        ["Ωmega", "日本", "Ωmega", "plain"],  # beyond Latin-1: hashed
    ],
)
def test_numpy_strings_group_exactly_as_python_strings(values):
    rows = np.array(values * 50)
    y_true = np.arange(len(rows)) % 2
    y_pred = (np.arange(len(rows)) // 3) % 2

    reference, fast, raw = ConfusionCounts(["g"]), ConfusionCounts(["g"]), ConfusionCounts(["g"])
    reference.update(y_true, y_pred, {"g": rows.astype(object)})
    fast.update(y_true, y_pred, {"g": rows})
    raw.update(y_true, y_pred, {"g": pd.Series(rows, dtype="category")})

    assert fast == reference == raw
    assert {group[0] for group in fast.intersection().groups} == set(values)


def test_a_hash_collision_falls_back_to_sorting_and_still_counts_exactly(monkeypatch):
    # With a zero multiplier the hash keeps only the last code unit, so strings that end
    # alike (here in their padding) collide; the check against the strings catches it.
    monkeypatch.setattr(confusion, "_HASH_PRIME", np.uint64(0))
    rows = np.array(["a considerably longer value", "short", "mid-length value"] * 20)
    y_true, y_pred = np.arange(60) % 2, np.arange(60) % 3 == 0

    fast, reference = ConfusionCounts(["g"]), ConfusionCounts(["g"])
    fast.update(y_true, y_pred, {"g": rows})
    reference.update(y_true, y_pred, {"g": rows.astype(object)})

    assert fast == reference
    assert len(fast.intersection().groups) == 3


def test_features_with_very_many_value_combinations_count_the_same_as_row_by_row():
    rng = np.random.default_rng(21)
    features = {name: rng.integers(0, 100, size=500).astype(str) for name in ("a", "b", "c")}
    y_true, y_pred = rng.integers(0, 2, size=500), rng.integers(0, 2, size=500)

    at_once = _counted(y_true, y_pred, features, [0, 500])
    row_by_row = _counted(y_true, y_pred, features, list(range(501)))

    assert at_once == row_by_row


def test_numpy_bytes_group_by_their_utf8_text():
    rows = np.array([b"north", b"south", b"north", b"east"] * 10)
    counts = ConfusionCounts(["region"])

    counts.update(np.ones(40, dtype=int), np.zeros(40, dtype=int), {"region": rows})

    assert counts.intersection().groups == (("east",), ("north",), ("south",))


def test_a_data_frame_gives_the_sensitive_features():
    y_true, y_pred, features = _random_data(16, rows=600)

    from_frame = fairness_report(
        y_true, y_pred, sensitive_features=pd.DataFrame(features), intervals=False
    )
    from_dict = fairness_report(y_true, y_pred, sensitive_features=features, intervals=False)

    assert from_frame == from_dict


# Bad input.


def _report_of(y_true, y_pred, features, **options):
    return lambda: fairness_report(y_true, y_pred, sensitive_features=features, **options)


SEX = {"sex": np.array(["f", "m", "f"])}


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (_report_of([0, 1, 1], [0, 1], SEX), "y_pred has 2"),
        (_report_of([0, 1, 1], [0, 1, 1], {"sex": ["f", "m"]}), "'sex' has 2"),
        (_report_of([0, 1, 2], [0, 1, 1], SEX), "0, 1, 2"),
        (_report_of([0, 1, 1], [0.0, 0.5, 1.0], SEX), "0.0, 0.5, 1.0"),
        (_report_of([0.0, np.nan, 1.0], [0, 1, 1], SEX), "y_true has 1 missing"),
        (_report_of([0, 1, None], [0, 1, 1], SEX), "y_true has 1 missing"),
        (_report_of([0, 1, 1], [0, 1, 1], {"sex": ["f", None, "m"]}), "'sex' has 1 missing"),
        (_report_of([0, 1, 1], [0, 1, 1], {"sex": [1.0, np.nan, 2.0]}), "'sex' has 1 missing"),
        (_report_of(["no", "yes", "no"], ["no", "yes", "yes"], SEX), "pos_label 1 .*'no', 'yes'"),
        (_report_of([0, 1, 1], [0, 1, 1], SEX, pos_label="1"), "pos_label '1'"),
        (_report_of([0, 1, 1], [0, 1, 1], SEX, pos_label=None), "None"),
        (_report_of([0, 1, 1], [0, 1, 1], SEX, pos_label=float("nan")), "nan"),
        (_report_of([0, 1, 1], [0, 1, 1], SEX, min_group_size=-1), "-1"),
        (_report_of([0, 1, 1], [0, 1, 1], SEX, min_group_size=2.5), "2.5"),
        (_report_of([0, 1, 1], [0, 1, 1], SEX, level=1.5), "1.5"),
        (_report_of([0, 1, 1], [0, 1, 1], SEX, n_boot=0), "n_boot .*0"),
        (_report_of([0, 1, 1], [0, 1, 1], SEX, seed=-3), "-3"),
        (_report_of([[0, 1, 1]], [[0, 1, 1]], SEX), r"shape \(1, 3\)"),
        (_report_of([0, 1, 1], [0, 1, 1], {}), "at least one"),
        (_report_of([], [], {"sex": []}), "no rows"),
    ],
)
def test_bad_input_is_refused_naming_the_bad_value(call, named):
    with pytest.raises(ValueError, match=named):
        call()


def test_a_chunk_with_other_features_is_refused_naming_them():
    counts = ConfusionCounts(["sex", "age"])

    with pytest.raises(ValueError, match=r"\['sex', 'age'\], got \['sex'\]"):
        counts.update([0, 1], [1, 1], {"sex": ["f", "m"]})


def test_a_third_label_value_across_chunks_is_refused_and_counts_nothing():
    counts = ConfusionCounts(["sex"], pos_label="yes")
    counts.update(["no", "no"], ["no", "yes"], {"sex": ["f", "m"]})
    before = counts.copy()

    with pytest.raises(ValueError, match="'no', 'yes', 'maybe'"):
        counts.update(["maybe"], ["no"], {"sex": ["f"]})
    assert counts == before


@pytest.mark.parametrize(
    ("features", "cells", "named"),
    [
        (["g"], {("a",): (1, 2, 3)}, r"\(1, 2, 3\)"),
        (["g"], {("a",): (1, 2, 3, -4)}, "-4"),
        (["g"], {("a", "b"): (1, 2, 3, 4)}, r"\('a', 'b'\)"),
        ("g", {}, "the string 'g'"),
        (["g", "g"], {}, r"\['g', 'g'\]"),
        ([""], {}, "''"),
    ],
)
def test_impossible_counts_are_refused_naming_them(features, cells, named):
    with pytest.raises(ValueError, match=named):
        ConfusionCounts.from_cells(features, cells)


# The report as an evidence document.


def test_report_with_intervals_makes_a_valid_computed_fairness_document():
    y_true, y_pred, features = _random_data(17)

    document = _document(fairness_report(y_true, y_pred, sensitive_features=features))

    assert validate_document(document, computed=True) == []
    metrics = document["metrics"]
    assert metrics["sensitive_features"] == ["sex", "region"]
    assert (metrics["positive_label"], metrics["min_group_size"]) == (1, 30)
    assert metrics["overall"]["accuracy"]["interval"]["method"] == "wilson"
    assert {"group", "insufficient"}.isdisjoint(metrics["overall"])
    assert set(AGGREGATES) <= set(metrics["breakdowns"][2])
    json.dumps(document, allow_nan=False)


def test_report_without_intervals_gives_plain_numbers_in_a_valid_document():
    y_true, y_pred, features = _random_data(18)

    document = _document(
        fairness_report(y_true, y_pred, sensitive_features=features, intervals=False)
    )

    assert validate_document(document, computed=True) == []
    group = document["metrics"]["breakdowns"][0]["groups"][0]
    assert isinstance(group["selection_rate"], float)
    assert isinstance(document["metrics"]["breakdowns"][0]["demographic_parity_ratio"], float)


def test_report_with_nulls_and_insufficient_groups_makes_a_valid_document():
    y_true, y_pred, features = _rows(
        [("a", 40, 20, 10, 30), ("b", 25, 15, 0, 0), ("c", 1, 8, 0, 1), ("d", 0, 0, 10, 30)]
    )

    for intervals in (True, False):
        report = fairness_report(
            y_true, y_pred, sensitive_features=features, pos_label=1, intervals=intervals
        )
        assert validate_document(_document(report), computed=True) == []
