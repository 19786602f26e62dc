"""Data quality results: the report's dataclasses and their evidence JSON."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CountRate:
    """How many rows, and which share of the rows they were counted among."""

    count: int
    rate: float

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "rate": self.rate}


@dataclass(frozen=True)
class DatasetQuality:
    """The quality of one split of one dataset."""

    slug: str
    split: str
    rows: int
    missing: Mapping[str, CountRate]
    duplicate_rows: CountRate
    label_balance: Mapping[str, CountRate] | None = None
    group_representation: Mapping[str, Mapping[str, CountRate]] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "slug": self.slug,
            "split": self.split,
            "rows": self.rows,
            "missing": {name: value.to_json() for name, value in self.missing.items()},
            "duplicate_rows": self.duplicate_rows.to_json(),
        }
        if self.label_balance is not None:
            out["label_balance"] = {k: v.to_json() for k, v in self.label_balance.items()}
        if self.group_representation is not None:
            out["group_representation"] = {
                feature: {k: v.to_json() for k, v in values.items()}
                for feature, values in self.group_representation.items()
            }
        return out


@dataclass(frozen=True)
class Overlap:
    """Rows of split `between[1]` that also occur in split `between[0]`."""

    between: tuple[str, str]
    rows: int
    rate: float

    def to_json(self) -> dict[str, Any]:
        return {"between": list(self.between), "rows": self.rows, "rate": self.rate}


@dataclass(frozen=True)
class ColumnDrift:
    """Drift statistics of one column; `exact` is False when computed on a sample."""

    psi: float
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    exact: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"psi": self.psi}
        if self.ks_statistic is not None and self.ks_p_value is not None:
            out["ks_statistic"] = self.ks_statistic
            out["ks_p_value"] = self.ks_p_value
        return out


@dataclass(frozen=True)
class Drift:
    """Drift of one split against the reference split."""

    slug: str
    split: str
    reference_slug: str
    reference_split: str
    columns: Mapping[str, ColumnDrift]

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "split": self.split,
            "reference": {"slug": self.reference_slug, "split": self.reference_split},
            "columns": {name: value.to_json() for name, value in self.columns.items()},
        }


@dataclass(frozen=True)
class DataQualityReport:
    """Everything measured; `to_metrics()` gives the `data_quality` evidence metrics."""

    datasets: tuple[DatasetQuality, ...]
    overlap: tuple[Overlap, ...]
    drift: tuple[Drift, ...]

    def to_metrics(self) -> dict[str, Any]:
        """The `metrics` object of a `data_quality` evidence document (schema 1.0)."""
        return {
            "datasets": [item.to_json() for item in self.datasets],
            "overlap": [item.to_json() for item in self.overlap],
            "drift": [item.to_json() for item in self.drift],
        }
