"""Wilson, Newcombe and the multinomial bootstrap against published examples and brute force."""

import numpy as np
import pytest

from evaluations.assessments.intervals import (
    bootstrap,
    newcombe,
    normal_quantile,
    percentile_interval,
    resample_counts,
    wilson,
)

# Newcombe RG (1998a), Two-sided confidence intervals for the single proportion, Stat Med
# 17:857-872, Table I, method 3 (Wilson score, no continuity correction). Each was also
# checked by hand from the formula in `wilson`'s docstring with z = 1.959964.
WILSON_PUBLISHED = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
]

# Newcombe RG (1998b), Interval estimation for the difference between independent
# proportions, Stat Med 17:873-890, Table II, method 10 (hybrid score, no continuity
# correction); recomputed from the formula in `newcombe`'s docstring.
NEWCOMBE_PUBLISHED = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
]


@pytest.mark.parametrize(("successes", "trials", "low", "high"), WILSON_PUBLISHED)
def test_wilson_reproduces_newcombes_published_intervals(successes, trials, low, high):
    interval = wilson(successes, trials)

    assert interval == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "low", "high"), NEWCOMBE_PUBLISHED)
def test_newcombe_reproduces_the_published_hybrid_score_intervals(x1, n1, x2, n2, low, high):
    interval = newcombe(x1, n1, x2, n2)

    assert interval == pytest.approx((low, high), abs=5e-5)


def test_normal_quantile_of_95_percent_is_1_96():
    assert normal_quantile(0.95) == pytest.approx(1.959964, abs=1e-6)


def test_wilson_stays_in_zero_one_and_reaches_the_end_a_rate_sits_on():
    assert wilson(0, 50)[0] == 0.0
    assert wilson(50, 50)[1] == 1.0
    for successes in range(0, 51, 5):
        low, high = wilson(successes, 50)
        assert 0.0 <= low <= successes / 50 <= high <= 1.0


def test_wilson_of_failures_mirrors_wilson_of_successes():
    low, high = wilson(7, 40)
    mirrored = wilson(33, 40)

    assert mirrored == pytest.approx((1 - high, 1 - low), abs=1e-15)


def test_wilson_narrows_with_a_lower_level():
    wide, narrow = wilson(30, 100, level=0.99), wilson(30, 100, level=0.8)

    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_newcombe_of_swapped_groups_is_the_negated_interval():
    low, high = newcombe(12, 40, 25, 60)

    assert newcombe(25, 60, 12, 40) == pytest.approx((-high, -low), abs=1e-15)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: wilson(5, 0), "0"),
        (lambda: wilson(-1, 10), "-1"),
        (lambda: wilson(11, 10), "11"),
        (lambda: wilson(1, 10, level=1.0), "1.0"),
        (lambda: wilson(1, 10, level=0), "0"),
        (lambda: wilson(1.5, 10), "1.5"),
        (lambda: newcombe(1, 10, 3, 0), "0"),
    ],
)
def test_impossible_counts_and_levels_are_refused_naming_the_value(call, named):
    with pytest.raises(ValueError, match=named):
        call()


def test_resamples_keep_the_total_and_repeat_with_the_same_seed():
    counts = np.array([120, 30, 0, 50])

    first = resample_counts(counts, n_boot=500, seed=7)
    again = resample_counts(counts, n_boot=500, seed=7)
    other = resample_counts(counts, n_boot=500, seed=8)

    assert first.shape == (500, 4)
    assert (first.sum(axis=1) == 200).all()
    assert (first[:, 2] == 0).all()  # a cell no row fell in stays empty, as in a row bootstrap
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    ("counts", "named"),
    [([0, 0, 0], "0"), ([3, -1], "-1"), ([1.5, 2.0], "float64"), ([], "float64")],
)
def test_counts_that_cannot_be_resampled_are_refused(counts, named):
    with pytest.raises(ValueError, match=named):
        resample_counts(np.array(counts))


def test_percentile_interval_leaves_out_undefined_draws_up_to_the_tail_mass():
    draws = np.arange(1000, dtype=float)
    some_undefined = draws.copy()
    some_undefined[:40] = np.nan  # 4 %: fewer than the 5 % outside a 95 % interval
    too_many = draws.copy()
    too_many[:60] = np.nan

    assert percentile_interval(draws) == pytest.approx((24.975, 974.025))
    assert percentile_interval(some_undefined) is not None
    assert percentile_interval(too_many) is None


def test_bootstrap_gives_one_interval_per_statistic_and_repeats_with_the_same_seed():
    counts = np.array([40, 10, 15, 35])

    def statistic(resamples):
        total = resamples.sum(axis=1)
        return np.stack([resamples[:, 3] / total, (resamples[:, 0] + resamples[:, 3]) / total], 1)

    first = bootstrap(counts, statistic, n_boot=300, seed=3)

    assert len(first) == 2
    assert first == bootstrap(counts, statistic, n_boot=300, seed=3)
    assert all(low < high for low, high in first)


def test_a_statistic_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="one row per resample"):
        bootstrap([5, 5], lambda resamples: np.zeros(3), n_boot=10)


# The multinomial bootstrap against the row bootstrap it stands for.

ROWS = 2000
RESAMPLES = 2000


def _rows():
    """2,000 rows of two groups (1,200 and 800) with different selection rates."""
    rng = np.random.default_rng(2024)
    group = np.repeat([0, 1], [1200, 800])
    label = rng.random(ROWS) < np.where(group == 0, 0.45, 0.35)
    prediction = rng.random(ROWS) < np.where(label, 0.7, 0.2)
    # Cell index of each row: group * 4 + 2 * label + prediction (tn, fp, fn, tp per group).
    return group * 4 + 2 * label.astype(int) + prediction.astype(int)


def _statistics(cells):
    """Selection rate of group 0, the difference between the groups, and their ratio."""
    counts = cells.reshape(len(cells), 2, 4).astype(float)
    selection = (counts[:, :, 1] + counts[:, :, 3]) / counts.sum(axis=2)
    difference = np.abs(selection[:, 0] - selection[:, 1])
    ratio = selection.min(axis=1) / selection.max(axis=1)
    return np.stack([selection[:, 0], difference, ratio], axis=1)


def test_multinomial_bootstrap_matches_a_brute_force_row_bootstrap():
    cell_of_row = _rows()
    rng = np.random.default_rng(99)
    picked = cell_of_row[rng.integers(0, ROWS, size=(RESAMPLES, ROWS))]
    offsets = 8 * np.arange(RESAMPLES)[:, np.newaxis]
    by_rows = np.bincount((picked + offsets).ravel(), minlength=8 * RESAMPLES).reshape(-1, 8)
    by_cells = resample_counts(np.bincount(cell_of_row, minlength=8), n_boot=RESAMPLES, seed=5)

    rows_stats, cells_stats = _statistics(by_rows), _statistics(by_cells)

    # Both are RESAMPLES draws from the same distribution, so they differ only by Monte
    # Carlo error. With B = 2000 draws, the standard error of an estimated 2.5 % quantile
    # is sqrt(0.025 * 0.975 / B) / phi(1.96) ≈ 0.06 sd of the statistic (for a roughly
    # normal statistic), so the difference of two independent estimates has a standard
    # error of about 0.085 sd; 0.3 sd is 3.5 standard errors. The standard deviations
    # themselves have a relative standard error of 1 / sqrt(2B) ≈ 1.6 % each: 10 % is over
    # 4 standard errors of their difference.
    for column in range(3):
        spread = rows_stats[:, column].std()
        rows_q = np.quantile(rows_stats[:, column], [0.025, 0.5, 0.975])
        cells_q = np.quantile(cells_stats[:, column], [0.025, 0.5, 0.975])
        np.testing.assert_allclose(cells_q, rows_q, atol=0.3 * spread)
        assert cells_stats[:, column].std() == pytest.approx(spread, rel=0.1)
