"""Data quality of tabular datasets: the `data_quality` evidence metrics, computed in chunks.

For every split of a dataset (and for a reference dataset, when one is given):

- ``rows``: the number of rows.
- ``missing[column]``: for every column but the split column, the count of missing values
  and rate = count / rows. Missing means
  None, NaN, ``pandas.NA``, NaT, or text that is empty once normalised (below), so an empty
  CSV field, ``""`` and ``"  "`` are all missing. Text such as "NA" is a value.
- ``duplicate_rows``: count = rows - distinct rows (every row that repeats an earlier one),
  rate = count / rows.
- ``label_balance[value]`` and ``group_representation[feature][value]``: rows holding the
  value, and rate = count / rows. Rows whose label or feature is missing are counted in
  ``missing`` only, so these rates add up to 1 - the column's missing rate.

Across splits, ``overlap`` gives for every ordered pair of splits (a, b) the rows of b
that also occur in a, and rate = those rows / rows of b (a row of b repeated three times
counts three times). With a reference dataset, its split takes part like any other.

Against the reference, ``drift`` gives per column of each split:

- ``psi`` (population stability index), PSI = Σ_i (p_i - q_i) · ln(p_i / q_i), where p_i
  and q_i are the shares of the split's and of the reference's rows that fall in bin i.
  Numbers: `PSI_BINS` (10) bins cut at the reference's deciles (numpy's linear
  quantiles; equal cut points merged, so a column with few values gets fewer bins); a
  bin is (lower, upper], the first open below and the last open above. Text and booleans:
  one bin per value seen on either side. Missing values are one more bin in both cases,
  so a rise in missing values is drift too. A share of 0 is replaced by `PSI_EPSILON`
  (1e-4) on both sides before the formula, which keeps every term finite and ≥ 0. Text
  columns with more than `MAX_CATEGORIES` distinct values (identifiers, free text) get no
  PSI; nor do dates and times, and columns that hold numbers in some places and text in
  others (in one dataset, or one in each).
- ``ks_statistic`` and ``ks_p_value`` for numeric columns: the two-sample
  Kolmogorov-Smirnov test, ``scipy.stats.ks_2samp(split_values, reference_values)`` with
  its defaults (two-sided, exact p-value for small samples), on the non-missing values.

Normalisation (what "the same value" means, for duplicates, overlap and counting):
text is NFC-normalised and stripped of leading and trailing whitespace (case is kept);
numbers are compared by value whatever their type (1 == 1.0 == True, -0.0 == 0.0; an
integer beyond 2**53 that no double holds stays exact); a number never equals text
("1" ≠ 1); all missing values are one marker; dates and times compare as instants.
Value keys in the metrics are the normalised text, or the number written shortest
(``1`` for 1.0, ``0.5``; booleans are ``1`` and ``0``).

How the work is split: `DataQualityAccumulator.update` takes one chunk at a time, and
`merge` adds another accumulator's chunks (another worker, another file part). Counts are
additive. Duplicates and overlap need the distinct rows: each row is kept as one 64-bit
hash with its count (16 bytes per distinct row and split, and about three times that for a
moment while they are sorted), never as values. Numeric drift needs the values: each
numeric column keeps a bounded sample of at most `sample_size` (1,000,000) non-missing
values per split (16 bytes each), chosen by the smallest keys, where a row's key
is a seeded hash of its content. While a column has no more values than that, the sample
is every value and PSI and KS are exact (equal to ``ks_2samp`` on the whole data);
beyond it they are computed on the sample, an approximation whose result does not depend
on chunk size, chunk order or how the data was split across workers (identical rows are
sampled together). `ColumnDrift.exact` says which case applies.
"""

from evaluations.assessments.data_quality.common import (
    F64,
    MAX_CATEGORIES,
    PSI_BINS,
    PSI_EPSILON,
    SAMPLE_SIZE,
    U64,
    Frame,
    Kind,
)
from evaluations.assessments.data_quality.drift import population_stability_index
from evaluations.assessments.data_quality.report import DataQualityAccumulator, data_quality_report
from evaluations.assessments.data_quality.results import (
    ColumnDrift,
    CountRate,
    DataQualityReport,
    DatasetQuality,
    Drift,
    Overlap,
)

__all__ = [
    "F64",
    "MAX_CATEGORIES",
    "PSI_BINS",
    "PSI_EPSILON",
    "SAMPLE_SIZE",
    "U64",
    "ColumnDrift",
    "CountRate",
    "DataQualityAccumulator",
    "DataQualityReport",
    "DatasetQuality",
    "Drift",
    "Frame",
    "Kind",
    "Overlap",
    "data_quality_report",
    "population_stability_index",
]
