"""Bootstrap resamples of the sampled rows (Efron and Tibshirani 1993)."""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from evaluations.assessments.calibration.inputs import _BOOT_BLOCK_ROWS, Floats, Ints
from evaluations.assessments.calibration.tables import _errors


def _bootstrap(
    sample: dict[str, NDArray[Any]], n_bins: int, *, n_boot: int, rng: np.random.Generator
) -> tuple[Floats, Floats, Floats, Floats]:
    """n_boot resampled ECE, MCE, Brier and log loss of the sampled rows.

    Rows are sorted by cell (bin, outcome); a resample draws the cell counts from
    Multinomial(m, cell proportions), then the rows of each cell uniformly with replacement.
    """
    cell = sample["bins"].astype(np.int64) * 2 + sample["correct"]
    order = np.argsort(cell, kind="stable")
    columns = [sample[name][order] for name in ("confidence", "brier", "log_loss")]
    m = cell.size
    cells = 2 * n_bins
    counts = np.bincount(cell, minlength=cells)
    starts = np.concatenate([[0], np.cumsum(counts)])
    block = max(1, min(n_boot, _BOOT_BLOCK_ROWS // m))
    results: list[tuple[Floats, Floats, Floats, Floats]] = []
    for first in range(0, n_boot, block):
        drawn = rng.multinomial(m, counts / m, size=min(block, n_boot - first))
        sums = _cell_sums(drawn, columns, starts, rng)
        count = drawn[:, 0::2] + drawn[:, 1::2]
        confidence = sums[0][:, 0::2] + sums[0][:, 1::2]
        ece, mce = _errors(count, drawn[:, 1::2], confidence)
        results.append((ece, mce, sums[1].sum(axis=1) / m, sums[2].sum(axis=1) / m))
    ece_all, mce_all, brier_all, log_all = (
        np.concatenate(parts) for parts in zip(*results, strict=True)
    )
    return ece_all, mce_all, brier_all, log_all


def _cell_sums(
    drawn: Ints, columns: list[Floats], starts: Ints, rng: np.random.Generator
) -> list[Floats]:
    """For each column, the sum per (resample, cell) of the drawn rows' values."""
    resamples, cells = drawn.shape
    sums = [np.zeros((resamples, cells)) for _ in columns]
    for c in range(cells):
        per_resample = drawn[:, c]
        total = int(per_resample.sum())
        if total == 0:
            continue
        picked = rng.integers(starts[c], starts[c + 1], size=total)
        present = per_resample > 0
        offsets = (np.cumsum(per_resample) - per_resample)[present]
        for values, out in zip(columns, sums, strict=True):
            out[present, c] = np.add.reduceat(values[picked], offsets)
    return sums
