"""Per-split metrics from the state: rows, missing, duplicates, labels, overlap."""

from evaluations.assessments.data_quality.inputs import _check_name
from evaluations.assessments.data_quality.results import CountRate, DatasetQuality, Overlap
from evaluations.assessments.data_quality.state import _Config, _SplitState, _ValueCounts


def _dataset_quality(slug: str, split: str, state: _SplitState, config: _Config) -> DatasetQuality:
    state.hashes.compact()
    rows = state.rows
    duplicates = rows - len(state.hashes.hashes)
    label = None
    if config.label is not None:
        label = _count_rates(state.label, rows, "label value")
    groups = None
    if config.sensitive:
        groups = {
            feature: _count_rates(state.groups.get(feature, _ValueCounts()), rows, "group value")
            for feature in config.sensitive
        }
    return DatasetQuality(
        slug=slug,
        split=split,
        rows=rows,
        missing={name: CountRate(count, count / rows) for name, count in state.missing.items()},
        duplicate_rows=CountRate(duplicates, duplicates / rows),
        label_balance=label,
        group_representation=groups,
    )


def _count_rates(counts: _ValueCounts, rows: int, what: str) -> dict[str, CountRate]:
    out = {}
    for key, count in counts.by_key().items():
        _check_name(key, what)
        out[key] = CountRate(count, count / rows)
    return out


def _overlap(a_name: str, a: _SplitState, b_name: str, b: _SplitState) -> Overlap:
    shared = b.hashes.rows_in(a.hashes)
    return Overlap((a_name, b_name), shared, shared / b.rows)
