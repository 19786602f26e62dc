"""Silent regressions: harmful metric moves between two versions, tested and FDR-corrected.

A model version is compared metric by metric (and group by group) with its parent version,
and a monitoring item with the one before it. For each metric the move in its harmful
direction (down when higher is better, up when lower is better) is tested one-sided:

* a rate with counts on both sides (selection rate, true positive rate, ...) by the pooled
  two-proportion z-test;
* a metric whose documents carry confidence intervals on both sides by a z-test whose
  standard errors come from the interval half-widths;
* anything else is untestable and never significant.

The p-values of one comparison (all its metrics and groups) go through one
Benjamini-Hochberg correction, which keeps the expected share of false alarms among the
flagged regressions at the false discovery rate `fdr` (5% by default). A significant harmful
move is a regression even when the new value still passes its threshold.

Pure Python, numpy-free on purpose: web processes may import this module. scipy is imported
only where the correction runs.

References
----------
Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. J R Stat Soc B 57:289-300.
Agresti A (2013). Categorical Data Analysis, 3rd ed., section 3.1 (pooled z for two
    proportions, equal to the square root of Pearson's chi-square for a 2x2 table).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

TWO_PROPORTION = "two-proportion z-test"
FROM_INTERVALS = "z-test from interval half-widths"
UNTESTABLE = "untestable"


@dataclass(frozen=True)
class Measurement:
    """One metric value of one side of a comparison.

    `successes` / `trials` are given for a rate computed from counts (selection rate =
    (tp + fp) / size, true positive rate = tp / (tp + fn)); `low`, `high` and `level`
    (0.95) for a confidence interval the document carried. Either pair may be absent.
    `trials` = 0 (an empty group) is allowed and makes the counts unusable for a test.

    Raises
    ------
    ValueError
        When only one of successes / trials is given, a count is impossible, only part of
        the interval is given, low > high, or the level lies outside (0, 1).
    """

    value: float
    successes: int | None = None
    trials: int | None = None
    low: float | None = None
    high: float | None = None
    level: float | None = None

    def __post_init__(self) -> None:
        if (self.successes is None) != (self.trials is None):
            raise ValueError(
                f"successes and trials come together, got successes={self.successes!r} "
                f"and trials={self.trials!r}"
            )
        if self.successes is not None and self.trials is not None:
            _check_counts(self.successes, self.trials, allow_empty=True)
        bounds = (self.low, self.high, self.level)
        if any(b is None for b in bounds) and any(b is not None for b in bounds):
            raise ValueError(
                f"low, high and level come together, got low={self.low!r}, "
                f"high={self.high!r}, level={self.level!r}"
            )
        if self.low is not None and self.high is not None and self.level is not None:
            if not self.low <= self.high:
                raise ValueError(f"low must not exceed high, got {self.low!r} > {self.high!r}")
            if not 0 < self.level < 1:
                raise ValueError(f"level must lie strictly between 0 and 1, got {self.level!r}")


@dataclass(frozen=True)
class Comparison:
    """One metric (or one group's metric) before and after, and which way is better."""

    key: str
    before: Measurement
    after: Measurement
    higher_is_better: bool


@dataclass(frozen=True)
class TestedChange:
    """The outcome of testing one comparison for a harmful move.

    `statistic` is z for (after - before); `p_value` the one-sided p-value for a move in
    the harmful direction and `adjusted_p_value` its Benjamini-Hochberg adjustment, all
    three None when the comparison is untestable.
    """

    # The name starts with "Test": keep pytest from collecting it where tests import it
    # (with warnings as errors, the collection warning would fail the run).
    __test__ = False

    key: str
    before: float
    after: float
    harmful: bool
    statistic: float | None
    p_value: float | None
    adjusted_p_value: float | None
    significant: bool
    method: str


def two_proportion_z(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> float:
    """Pooled two-proportion z statistic for p_b - p_a.

    With p_a = x_a / n_a, p_b = x_b / n_b and the pooled rate p = (x_a + x_b) / (n_a + n_b)::

        z = (p_b - p_a) / sqrt(p (1 - p) (1 / n_a + 1 / n_b))

    z² equals Pearson's chi-square (no continuity correction) of the 2x2 table. When p is
    0 or 1 both rates are equal and have no variance; z is then 0.0.

    Raises
    ------
    ValueError
        When a number of trials is below 1 or successes lie outside 0..trials.
    """
    _check_counts(successes_a, trials_a)
    _check_counts(successes_b, trials_b)
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    if pooled in (0.0, 1.0):
        return 0.0
    variance = pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b)
    return (successes_b / trials_b - successes_a / trials_a) / math.sqrt(variance)


def z_from_intervals(before: Measurement, after: Measurement) -> float | None:
    """z statistic for after - before from the two confidence intervals' widths.

    Each side's standard error is read off its interval as if the interval were normal,
    with q the normal quantile (1 + level) / 2 (1.96 for 0.95)::

        se = (high - low) / (2 q)
        z  = (after - before) / sqrt(se_before² + se_after²)

    The sides must be independent samples. For an asymmetric interval (Wilson's near 0
    or 1) the half-width is an approximation of the standard error.

    Returns
    -------
    float or None
        None when either side has no interval, or both standard errors are 0.
    """
    se_before = _standard_error(before)
    se_after = _standard_error(after)
    if se_before is None or se_after is None or se_before == se_after == 0.0:
        return None
    return (after.value - before.value) / math.hypot(se_before, se_after)


def benjamini_hochberg(
    p_values: Sequence[float], *, fdr: float = 0.05
) -> tuple[list[float], list[bool]]:
    """Benjamini-Hochberg adjusted p-values and rejections at false discovery rate `fdr`.

    With m p-values sorted ascending p_(1) <= ... <= p_(m)::

        adjusted_(i) = min(1, min over j >= i of m p_(j) / j)

    and a hypothesis is rejected when its adjusted p-value is at most `fdr` (the step-up
    rule: reject the k smallest, k the largest i with p_(i) <= i fdr / m). Adjusted values
    are returned in input order. The adjustment is scipy's `false_discovery_control`.

    Raises
    ------
    ValueError
        When `fdr` lies outside (0, 1) or a p-value outside [0, 1].
    """
    _check_fdr(fdr)
    for p in p_values:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values must lie in [0, 1], got {p!r}")
    if not p_values:
        return [], []
    # Imported here: scipy.stats costs most of a second, and web processes import this
    # module without running the correction.
    from scipy.stats import false_discovery_control

    adjusted = [float(a) for a in false_discovery_control(list(p_values), method="bh")]
    return adjusted, [a <= fdr for a in adjusted]


def compare(comparisons: Sequence[Comparison], *, fdr: float = 0.05) -> list[TestedChange]:
    """Test each comparison for a harmful move; correct all testable ones together.

    One call is one family: all metrics and groups of one version-to-parent (or
    item-to-item) comparison. Counts on both sides give the two-proportion z-test, else
    intervals on both sides the z-test from half-widths, else the comparison is untestable.
    With z for after - before and Phi the standard normal distribution function, the
    one-sided p-value of a harmful move is::

        p = Phi(z)      when higher is better (harmful: after < before)
        p = 1 - Phi(z)  when lower is better  (harmful: after > before)

    A change is significant when it is harmful and its Benjamini-Hochberg adjusted
    p-value is at most `fdr`.

    Raises
    ------
    ValueError
        When `fdr` lies outside (0, 1).
    """
    _check_fdr(fdr)
    tested = [_test_one(c) for c in comparisons]
    p_values = [p for _, _, p in tested if p is not None]
    adjusted, _ = benjamini_hochberg(p_values, fdr=fdr)
    adjusted_iter = iter(adjusted)
    changes = []
    for comparison, (method, z, p) in zip(comparisons, tested, strict=True):
        p_adjusted = None if p is None else next(adjusted_iter)
        harmful = _moved_harmfully(comparison)
        changes.append(
            TestedChange(
                key=comparison.key,
                before=comparison.before.value,
                after=comparison.after.value,
                harmful=harmful,
                statistic=z,
                p_value=p,
                adjusted_p_value=p_adjusted,
                significant=harmful and p_adjusted is not None and p_adjusted <= fdr,
                method=method,
            )
        )
    return changes


def _test_one(comparison: Comparison) -> tuple[str, float | None, float | None]:
    """(method, z, one-sided harmful p) for one comparison; z and p None when untestable."""
    before, after = comparison.before, comparison.after
    if math.isnan(before.value) or math.isnan(after.value):
        # An undefined metric (an empty group's rate) has nothing to test.
        return UNTESTABLE, None, None
    counts_before, counts_after = _counts(before), _counts(after)
    z: float | None
    if counts_before is not None and counts_after is not None:
        z, method = two_proportion_z(*counts_before, *counts_after), TWO_PROPORTION
    else:
        z, method = z_from_intervals(before, after), FROM_INTERVALS
    if z is None:
        return UNTESTABLE, None, None
    p = _normal_cdf(z) if comparison.higher_is_better else _normal_cdf(-z)
    return method, z, p


def _moved_harmfully(comparison: Comparison) -> bool:
    """Whether the value moved the wrong way (False when either value is NaN)."""
    before, after = comparison.before.value, comparison.after.value
    return after < before if comparison.higher_is_better else after > before


def _normal_cdf(z: float) -> float:
    """Phi(z) through erfc, which keeps its precision far into the lower tail."""
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _counts(measurement: Measurement) -> tuple[int, int] | None:
    """(successes, trials) when the measurement has counts with at least one trial."""
    if measurement.successes is None or measurement.trials is None or measurement.trials == 0:
        return None
    return measurement.successes, measurement.trials


def _standard_error(measurement: Measurement) -> float | None:
    """Standard error read off the measurement's interval; None without one."""
    if measurement.low is None or measurement.high is None or measurement.level is None:
        return None
    quantile = NormalDist().inv_cdf((1 + measurement.level) / 2)
    return (measurement.high - measurement.low) / (2 * quantile)


def _check_counts(successes: int, trials: int, *, allow_empty: bool = False) -> None:
    """Raise ValueError for an impossible count (trials 0 allowed only with allow_empty)."""
    if trials < (0 if allow_empty else 1):
        raise ValueError(f"trials must be at least {0 if allow_empty else 1}, got {trials!r}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must lie in 0..{trials}, got {successes!r}")


def _check_fdr(fdr: float) -> None:
    """Raise ValueError unless 0 < fdr < 1."""
    if isinstance(fdr, bool) or not 0 < fdr < 1:
        raise ValueError(f"fdr must lie strictly between 0 and 1, got {fdr!r}")
