"""Silent-regression statistics: the z-tests, Benjamini-Hochberg, and simulated FDR control.

Expected numbers are worked out by hand from the formulas in the docstrings of
controls/regression.py, or come from scipy itself.
"""

import math

import numpy as np
import pytest
from scipy import stats

from controls.regression import (
    Comparison,
    Measurement,
    TestedChange,
    benjamini_hochberg,
    compare,
    two_proportion_z,
    z_from_intervals,
)


def rate(successes: int, trials: int) -> Measurement:
    """A rate measured from counts."""
    return Measurement(successes / trials, successes=successes, trials=trials)


def rate_comparison(
    before: tuple[int, int], after: tuple[int, int], *, higher_is_better: bool = True
) -> Comparison:
    """A comparison of two rates given as (successes, trials)."""
    return Comparison(
        key="/metrics/true_positive_rate",
        before=rate(*before),
        after=rate(*after),
        higher_is_better=higher_is_better,
    )


# ---- the two-proportion z-test ----


def test_two_proportion_z_of_450_of_500_against_400_of_500_matches_the_formula_by_hand() -> None:
    # p_a = 0.9, p_b = 0.8, pooled p = 850 / 1000 = 0.85.
    expected = (0.8 - 0.9) / math.sqrt(0.85 * 0.15 * (1 / 500 + 1 / 500))

    z = two_proportion_z(450, 500, 400, 500)

    assert z == pytest.approx(expected, rel=1e-12)
    assert z == pytest.approx(-4.4281, abs=1e-4)


def test_two_proportion_z_squared_equals_pearsons_chi_square_of_the_2x2_table() -> None:
    table = np.array([[450, 50], [380, 120]])

    chi2 = stats.chi2_contingency(table, correction=False).statistic

    assert two_proportion_z(450, 500, 380, 500) ** 2 == pytest.approx(chi2, rel=1e-12)


def test_two_proportion_z_without_variance_is_zero() -> None:
    assert two_proportion_z(0, 40, 0, 60) == 0.0
    assert two_proportion_z(40, 40, 60, 60) == 0.0


# ---- compare: direction, significance, methods ----


def test_a_large_drop_in_one_group_is_a_significant_regression() -> None:
    changes: list[TestedChange] = compare([rate_comparison((1800, 2000), (1600, 2000))])
    (change,) = changes

    assert change.harmful
    assert change.significant
    assert change.method == "two-proportion z-test"
    assert change.statistic == pytest.approx(two_proportion_z(1800, 2000, 1600, 2000))
    assert change.p_value == pytest.approx(stats.norm.cdf(change.statistic), rel=1e-9)
    assert change.p_value is not None
    assert change.p_value < 1e-15


def test_an_improvement_of_the_same_size_is_neither_harmful_nor_significant() -> None:
    (change,) = compare([rate_comparison((1600, 2000), (1800, 2000))])

    assert not change.harmful
    assert not change.significant
    assert change.p_value == pytest.approx(1.0)


def test_a_tiny_drop_at_small_n_is_harmful_but_not_significant() -> None:
    (change,) = compare([rate_comparison((45, 50), (44, 50))])

    assert change.harmful
    assert not change.significant
    assert change.p_value is not None
    assert change.p_value > 0.3


def test_a_rising_false_positive_rate_is_a_harmful_significant_move() -> None:
    rising = rate_comparison((100, 2000), (180, 2000), higher_is_better=False)
    falling = rate_comparison((180, 2000), (100, 2000), higher_is_better=False)

    up, down = compare([rising, falling])

    assert up.harmful
    assert up.significant
    assert up.p_value == pytest.approx(stats.norm.sf(up.statistic), rel=1e-9)
    assert not down.harmful
    assert not down.significant


def test_without_counts_the_z_comes_from_the_interval_half_widths() -> None:
    before = Measurement(0.80, low=0.78, high=0.82, level=0.95)
    after = Measurement(0.74, low=0.72, high=0.76, level=0.95)
    se = 0.04 / (2 * 1.959963984540054)
    expected = (0.74 - 0.80) / math.sqrt(se**2 + se**2)

    (change,) = compare([Comparison("/metrics/auc", before, after, higher_is_better=True)])

    assert z_from_intervals(before, after) == pytest.approx(expected, rel=1e-12)
    assert change.statistic == pytest.approx(expected, rel=1e-12)
    assert change.method == "z-test from interval half-widths"
    assert change.significant


def test_counts_are_preferred_to_intervals_when_both_sides_have_both() -> None:
    before = Measurement(0.9, successes=450, trials=500, low=0.5, high=1.0, level=0.95)
    after = Measurement(0.8, successes=400, trials=500, low=0.5, high=1.0, level=0.95)

    (change,) = compare([Comparison("/metrics/tpr", before, after, higher_is_better=True)])

    assert change.method == "two-proportion z-test"
    assert change.statistic == pytest.approx(two_proportion_z(450, 500, 400, 500))


def test_a_metric_without_counts_or_intervals_is_untestable_and_never_significant() -> None:
    bare = Comparison("/metrics/f1", Measurement(0.9), Measurement(0.1), higher_is_better=True)
    empty_group = Comparison(
        "/metrics/groups/3/true_positive_rate",
        Measurement(math.nan, successes=0, trials=0),
        Measurement(0.5, successes=1, trials=2),
        higher_is_better=True,
    )

    first, second = compare([bare, empty_group])

    assert first.harmful
    assert not second.harmful
    for change in (first, second):
        assert change.method == "untestable"
        assert change.statistic is None
        assert change.p_value is None
        assert change.adjusted_p_value is None
        assert not change.significant


def test_z_from_intervals_is_none_without_an_interval_or_without_any_width() -> None:
    point = Measurement(0.8, low=0.8, high=0.8, level=0.95)

    assert (
        z_from_intervals(Measurement(0.8), Measurement(0.7, low=0.6, high=0.8, level=0.9)) is None
    )
    assert z_from_intervals(point, point) is None


def test_compare_corrects_only_the_testable_comparisons_together() -> None:
    testable = [rate_comparison((450, 500), (430 - i, 500)) for i in range(3)]
    untestable = Comparison(
        "/metrics/f1", Measurement(0.9), Measurement(0.8), higher_is_better=True
    )

    changes = compare([testable[0], untestable, testable[1], testable[2]])

    p_values = [c.p_value for c in changes if c.p_value is not None]
    adjusted, _ = benjamini_hochberg(p_values)
    assert [c.adjusted_p_value for c in changes] == [adjusted[0], None, adjusted[1], adjusted[2]]


# ---- Benjamini-Hochberg ----

# Sorted: 0.005, 0.010, 0.012, 0.030, 0.040, 0.300; m p / rank: 0.030, 0.030, 0.024, 0.045,
# 0.048, 0.300; running minimum from the top: 0.024, 0.024, 0.024, 0.045, 0.048, 0.300.
BH_P_VALUES = [0.010, 0.040, 0.030, 0.005, 0.300, 0.012]
BH_ADJUSTED = [0.024, 0.048, 0.045, 0.024, 0.300, 0.024]


def test_benjamini_hochberg_adjusts_a_hand_worked_example_in_input_order() -> None:
    adjusted, rejected = benjamini_hochberg(BH_P_VALUES)

    assert adjusted == pytest.approx(BH_ADJUSTED, abs=1e-12)
    assert rejected == [True, True, True, True, False, True]


def test_benjamini_hochberg_steps_up_so_a_raw_p_below_fdr_can_stay_unrejected() -> None:
    # At fdr 0.046 the step-up rule stops at rank 4 (0.030 <= 4 x 0.046 / 6 = 0.0307);
    # 0.040 is below 0.046 but above 5 x 0.046 / 6 = 0.0383.
    _, rejected = benjamini_hochberg(BH_P_VALUES, fdr=0.046)

    assert rejected == [True, False, True, True, False, True]


def test_benjamini_hochberg_equals_scipys_false_discovery_control() -> None:
    rng = np.random.default_rng(20240611)
    p_values = np.concatenate([rng.uniform(size=60), rng.uniform(0, 0.01, size=20)]).tolist()

    adjusted, rejected = benjamini_hochberg(p_values, fdr=0.1)

    expected = stats.false_discovery_control(p_values, method="bh")
    assert adjusted == pytest.approx(expected.tolist(), abs=1e-15)
    assert rejected == (expected <= 0.1).tolist()
    assert all(0.0 <= a <= 1.0 for a in adjusted)


def test_benjamini_hochberg_of_nothing_is_nothing() -> None:
    assert benjamini_hochberg([]) == ([], [])


# ---- invalid input ----


@pytest.mark.parametrize("fdr", [0.0, 1.5])
def test_an_fdr_outside_zero_one_is_refused_by_name(fdr: float) -> None:
    with pytest.raises(ValueError, match=rf"fdr .* got {fdr}"):
        benjamini_hochberg([0.01], fdr=fdr)
    with pytest.raises(ValueError, match=rf"fdr .* got {fdr}"):
        compare([], fdr=fdr)


def test_a_p_value_above_one_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"p-values .* got 1\.2"):
        benjamini_hochberg([0.01, 1.2])


def test_zero_trials_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"trials .* got 0"):
        two_proportion_z(0, 0, 5, 10)


def test_more_successes_than_trials_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"successes .* got 11"):
        two_proportion_z(5, 10, 11, 10)
    with pytest.raises(ValueError, match=r"successes .* got 11"):
        Measurement(1.1, successes=11, trials=10)


def test_a_measurement_with_half_its_counts_or_interval_is_refused() -> None:
    with pytest.raises(ValueError, match=r"successes=3 and trials=None"):
        Measurement(0.3, successes=3)
    with pytest.raises(ValueError, match=r"level=None"):
        Measurement(0.3, low=0.2, high=0.4)
    with pytest.raises(ValueError, match=r"low must not exceed high"):
        Measurement(0.3, low=0.4, high=0.2, level=0.95)
    with pytest.raises(ValueError, match=r"level .* got 95"):
        Measurement(0.3, low=0.2, high=0.4, level=95)


# ---- simulated false discovery rate ----

REPETITIONS = 200
METRICS = 40
REAL_CHANGES = 4  # 10% of the metrics truly get worse
TRIALS = 2000
DROP = 0.05


def simulate_family(
    rng: np.random.Generator, *, real_changes: int
) -> tuple[list[Comparison], list[bool]]:
    """One comparison's metrics: (comparisons, truly worse) with binomial counts.

    Each metric has its own true rate in [0.6, 0.9] and direction; the first
    `real_changes` move by DROP in their harmful direction, the rest keep their rate.
    """
    base = rng.uniform(0.6, 0.9, size=METRICS)
    higher_is_better = rng.uniform(size=METRICS) < 0.5
    truly_worse = np.arange(METRICS) < real_changes
    shift = np.where(higher_is_better, -DROP, DROP) * truly_worse
    before = rng.binomial(TRIALS, base)
    after = rng.binomial(TRIALS, base + shift)
    comparisons = [
        Comparison(
            key=f"/metrics/{i}",
            before=rate(int(before[i]), TRIALS),
            after=rate(int(after[i]), TRIALS),
            higher_is_better=bool(higher_is_better[i]),
        )
        for i in range(METRICS)
    ]
    return comparisons, truly_worse.tolist()


def test_flagged_regressions_keep_the_false_discovery_rate_near_five_percent() -> None:
    rng = np.random.default_rng(7)
    proportions, detected = [], 0
    for _ in range(REPETITIONS):
        comparisons, truly_worse = simulate_family(rng, real_changes=REAL_CHANGES)
        flags = [c.significant for c in compare(comparisons)]
        false = sum(f and not t for f, t in zip(flags, truly_worse, strict=True))
        detected += sum(f and t for f, t in zip(flags, truly_worse, strict=True))
        proportions.append(false / max(1, sum(flags)))

    mean_fdp = float(np.mean(proportions))
    power = detected / (REPETITIONS * REAL_CHANGES)
    # BH keeps the FDR at (36 / 40) x 5% = 4.5% for independent tests. One false alarm
    # among about 5 flags is an FDP near 0.2, so the FDP has a standard deviation near 0.1
    # and its mean over 200 repetitions a standard error near 0.007: 0.02 is 3 standard
    # errors above the 5% target.
    assert mean_fdp <= 0.05 + 0.02
    # A 5-point move at n = 2000 is z of 3.2 (rates near 0.6) to 6 (rates near 0.95); with
    # about 4 flags among 40, BH's cutoff is p <= 4 x 5% / 40 = 0.005, one-sided z 2.58.
    # Averaged over the rates, Phi(z - 2.58) gives an expected power of about 0.86.
    assert power >= 0.8


def test_correction_keeps_family_wise_false_alarms_far_below_uncorrected_tests() -> None:
    rng = np.random.default_rng(11)
    corrected, uncorrected = 0, 0
    for _ in range(REPETITIONS):
        comparisons, _ = simulate_family(rng, real_changes=0)
        changes = compare(comparisons)
        corrected += any(c.significant for c in changes)
        uncorrected += any(c.harmful and (c.p_value or 1.0) <= 0.05 for c in changes)

    # With no real change anywhere, BH's FDR is the family-wise rate: at most 5%, here
    # allowed 2 standard errors (sqrt(0.05 x 0.95 / 200) = 0.015) above. 40 uncorrected
    # tests at 5% raise at least one alarm in 1 - 0.95^40 = 87% of families.
    assert corrected / REPETITIONS <= 0.05 + 0.03
    assert uncorrected / REPETITIONS >= 0.75
