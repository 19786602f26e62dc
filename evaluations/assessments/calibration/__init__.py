"""Calibration: reliability bins, ECE, MCE, Brier score and log loss, overall and per group.

What is measured
----------------
Each row gives a *confidence* c and an *outcome* o ∈ {0, 1}:

* task="binary": c is the score of the positive class (`y_score`, shape (n,)) and
  o = (y_true == pos_label);
* task="multiclass": `y_score` is an (n, k) probability matrix whose columns are the
  classes 0..k-1, `y_true` holds those column indices, c = max_j p_j and
  o = (argmax_j p_j == y_true) — the top-label calibration (ties go to the first column,
  as `numpy.argmax` breaks them).

The rows fall into bins b with n_b rows, mean confidence conf_b = Σc / n_b and observed
frequency acc_b = Σo / n_b. With n rows in all::

    expected_calibration_error = Σ_b (n_b / n) · |acc_b - conf_b|
    maximum_calibration_error  = max_b |acc_b - conf_b|       over the bins with n_b > 0

The two scoring rules are scikit-learn's (1.9), computed on float64::

    binary      brier_score_loss = (1/n) Σ_i (p_i - y_i)²                  y_i = o_i
    multiclass  brier_score_loss = (1/n) Σ_i Σ_j (p_ij - [y_i = j])²      halved when k = 2
    log_loss    = -(1/n) Σ_i log(clip(q_i, ε, 1 - ε))

where q_i is the probability given to the true class (p_i or 1 - p_i in the binary task,
p_{i,y_i} in the multiclass one) and ε = 2.22e-16, the float64 machine epsilon.
`sklearn.metrics.brier_score_loss` with `scale_by_half="auto"` (its default) halves the
multiclass sum only for two columns, and `sklearn.metrics.log_loss` clips to
[eps, 1 - eps] of the input's dtype: scores are cast to float64 here, so a float32 input
is clipped at the float64 epsilon, not float32's.

Bins
----
strategy="uniform": n_bins equal-width bins with the edges of `numpy.linspace(0, 1,
n_bins + 1)`. A confidence on an edge belongs to the lower bin, (lo, hi]; 0.0 belongs to
the first bin and 1.0 to the last. This is exactly `sklearn.calibration.calibration_curve`
(`searchsorted(edges[1:-1], c)`); here it is reproduced by arithmetic (ceil(c · n_bins) - 1
corrected against the true edges), without a search or a sort.

strategy="quantile": the edges are `numpy.percentile(c, linspace(0, 100, n_bins + 1))`,
as `calibration_curve(strategy="quantile")` computes them, and rows are binned against
them the same way. In memory (`calibration_report`) the percentiles are those of every
row. When streaming, the edges must be fixed before the bins are filled: a first pass
through `ConfidenceSample` keeps a seeded uniform sample of at most `max_rows`
confidences (every one of them when the data are no larger) and its percentiles are the
edges — an approximation once the data outgrow the sample. A confidence below the first
edge falls into the first bin, one above the last edge into the last.

`calibration_curve` leaves out empty bins; the bins here keep them, with count 0 and null
mean_confidence / observed_frequency.

Streaming: additive sufficient statistics
-----------------------------------------
`CalibrationStats` keeps, overall and for every group, per-bin counts, Σo (integers,
exact), Σc per bin and the totals Σ brier-term and Σ log-loss-term. The float sums are
exact too: every term (all lie in [0, 64)) is cut into integer limbs on a fixed grid of
2**-90 (bits below it are dropped, alike for every row) and the limbs are added as
integers, which no order of addition changes. Chunked, merged and split-across-workers
accumulation therefore gives the same numbers as one pass, bit for bit; each sum is
rounded to float64 once, when a metric is read, and equals scikit-learn's to about 1e-15.
Rows are processed in blocks of at most 65,536.

Groups
------
Sensitive features are named columns. Their values become strings (`1` → "1"); a group
is the tuple of its values, one breakdown per feature and, with several features, one for
their intersection. Every group gets ECE, MCE, Brier and log loss over the overall bin
edges; a group with fewer than `min_group_size` rows is `insufficient`, and each
breakdown's `largest_gap` is max - min of each metric over its sufficient groups (null with
fewer than two).

Intervals
---------
Percentile bootstrap intervals over rows (Efron & Tibshirani 1993, ch. 13) for ECE, MCE,
Brier and log loss. The resampled rows are a seeded uniform sample of at most
`sample_rows` (default 1,000,000) rows, kept while streaming by bottom-k sampling on
random keys (each row draws a key; the rows with the smallest keys are kept), so memory
is bounded and the sample does not depend on how the rows were chunked. Every row of
smaller data is kept. A resample of the m sampled rows draws the counts of the cells
(bin, outcome) from Multinomial(m, cell proportions) and then, within each cell, its rows
uniformly with replacement — the same distribution as drawing m rows with replacement.
Resamples are drawn in blocks of bounded size (about 32 MiB of indices), and the same seed
and rows give the same intervals, however the rows were chunked. The cost is about 15 ns
per sampled row and resample: some 15 s for 1,000 resamples of a full 1,000,000-row sample.
The interval is `intervals.percentile_interval` of the draws (linear interpolation). ECE
is biased upward in small samples, so its percentile interval may lie above the point
estimate (the evidence schema allows it).

Merging: partial accumulators whose samples are merged must not draw the same keys. Either
they are seeded differently (e.g. seed=(base, part)), or they share a seed and each starts
at its own place in one stream of rows: `first_row` advances the key generator to that row,
so a part draws exactly the keys one pass would draw for its rows, and merged parts hold
the very sample of one pass. `merge` refuses two samples whose (seed, rows) overlap (with
sample_rows=0 there is no sample and anything merges). `sample_key_bound(rows, seed=...)`
gives, before any row is read, the key below which exactly the rows one pass over `rows`
rows would keep lie; parts given it as `sample_key_bound` keep only those rows, so the
samples of all parts together hold at most `sample_rows` rows instead of that many each.

References
----------
Naeini MP, Cooper G, Hauskrecht M (2015). Obtaining well calibrated probabilities using
    Bayesian binning. AAAI. (ECE and MCE)
Guo C, Pleiss G, Sun Y, Weinberger KQ (2017). On calibration of modern neural networks.
    ICML. (top-label confidence)
Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall.
"""

from evaluations.assessments.calibration.binning import quantile_edges, uniform_edges
from evaluations.assessments.calibration.inputs import (
    DEFAULT_SAMPLE_ROWS,
    METRICS,
    STRATEGIES,
    TASKS,
    Floats,
    Ints,
    Seed,
    Strategy,
    Task,
)
from evaluations.assessments.calibration.report import calibration_report
from evaluations.assessments.calibration.results import (
    CalibrationBreakdown,
    CalibrationReport,
    Estimate,
    GroupCalibration,
    ReliabilityBin,
)
from evaluations.assessments.calibration.sampling import ConfidenceSample, sample_key_bound
from evaluations.assessments.calibration.stats import CalibrationStats

__all__ = [
    "DEFAULT_SAMPLE_ROWS",
    "METRICS",
    "STRATEGIES",
    "TASKS",
    "CalibrationBreakdown",
    "CalibrationReport",
    "CalibrationStats",
    "ConfidenceSample",
    "Estimate",
    "Floats",
    "GroupCalibration",
    "Ints",
    "ReliabilityBin",
    "Seed",
    "Strategy",
    "Task",
    "calibration_report",
    "quantile_edges",
    "sample_key_bound",
    "uniform_edges",
]
