"""A fairlearn MetricFrame becomes the `fairness` document the server's importer would make."""

import functools
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (  # noqa: TID251 - reference data for the client test
    MetricFrame,
    count,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from riskreg_client.hashing import canonical_hash
from riskreg_client.metricframe import metricframe_document
from sklearn.metrics import (  # noqa: TID251 - reference data for the client test
    accuracy_score,
    precision_score,
    recall_score,
)

from evaluations.importers.fairlearn import import_metricframe
from evaluations.validation import validate_document

METRICS = {
    f.__name__: f
    for f in [count, selection_rate, true_positive_rate, false_positive_rate, accuracy_score]
}


def _credit_data(n: int = 400) -> dict[str, Any]:
    """Synthetic credit decisions; the `65+` age band is small (below 30 people)."""
    rng = np.random.default_rng(7)
    age = rng.choice(["<25", "25-64", "65+"], size=n, p=[0.3, 0.65, 0.05])
    return {
        "y_true": rng.integers(0, 2, size=n),
        "y_pred": rng.integers(0, 2, size=n),
        "sex": rng.choice(["female", "male"], size=n),
        "age_band": age,
    }


def _frame(features: list[str], metrics: dict[str, Any] = METRICS) -> MetricFrame:
    data = _credit_data()
    return MetricFrame(
        metrics=metrics,
        y_true=data["y_true"],
        y_pred=data["y_pred"],
        sensitive_features=pd.DataFrame({name: data[name] for name in features}),
    )


def _server_metrics(mf: MetricFrame, min_group_size: int = 30) -> dict[str, Any]:
    """What the server's importer makes of the MetricFrame exported as docs/evidence.md says."""
    payload = {
        "sensitive_features": list(mf.by_group.index.names),
        "overall": mf.overall.to_dict(),
        "by_group": mf.by_group.reset_index().to_dict(orient="records"),
    }
    [item] = import_metricframe(payload, min_group_size=min_group_size)
    return item.metrics


@pytest.mark.parametrize("features", [["sex"], ["sex", "age_band"]])
def test_engineer_converts_a_metricframe_into_a_valid_fairness_document(
    features: list[str],
) -> None:
    mf = _frame(features)
    doc = metricframe_document(
        mf,
        system="credit-scoring",
        model_version="1.0",
        effective_date=date(2026, 3, 1),
        datasets=[{"slug": "credit-holdout-2025", "split": "test"}],
    )
    assert validate_document(doc) == []
    assert doc["metrics"] == _server_metrics(mf)
    assert doc["effective_date"] == "2026-03-01"
    assert doc["metrics"]["breakdowns"][0]["features"] == features


def test_small_groups_are_insufficient_and_left_out_of_aggregates() -> None:
    doc = metricframe_document(
        _frame(["age_band"]), system="credit-scoring", model_version=None, min_group_size=30
    )
    breakdown = doc["metrics"]["breakdowns"][0]
    flagged = {row["group"]["age_band"]: row["insufficient"] for row in breakdown["groups"]}
    assert flagged == {"<25": False, "25-64": False, "65+": True}
    sufficient = [r["selection_rate"] for r in breakdown["groups"] if not r["insufficient"]]
    assert breakdown["demographic_parity_difference"] == max(sufficient) - min(sufficient)
    assert validate_document(doc) == []


def test_a_group_without_positives_has_a_null_true_positive_rate() -> None:
    undefined_as_nan = functools.partial(recall_score, zero_division=np.nan)
    mf = MetricFrame(
        metrics={"count": count, "recall_score": undefined_as_nan},
        y_true=np.array([0, 0, 0, 1, 1, 0]),
        y_pred=np.array([0, 1, 0, 1, 0, 0]),
        sensitive_features=pd.Series(["a", "a", "a", "b", "b", "b"], name="group"),
    )
    doc = metricframe_document(mf, system="credit-scoring", model_version="1.0", min_group_size=0)
    rows = {row["group"]["group"]: row for row in doc["metrics"]["breakdowns"][0]["groups"]}
    assert rows["a"]["true_positive_rate"] is None
    assert "equal_opportunity_difference" not in doc["metrics"]["breakdowns"][0]
    assert validate_document(doc) == []
    canonical_hash(doc)  # no NaN left: the document can be hashed and submitted


def test_sklearn_scores_are_renamed_as_the_importer_does() -> None:
    metrics = {f.__name__: f for f in [count, precision_score, recall_score]}
    mf = _frame(["sex"], metrics)
    doc = metricframe_document(mf, system="credit-scoring", model_version="1.0")
    assert set(doc["metrics"]["overall"]) == {
        "size",
        "positive_predictive_value",
        "true_positive_rate",
    }
    assert doc["metrics"] == _server_metrics(mf)
    assert validate_document(doc) == []


def test_a_metricframe_without_count_is_refused() -> None:
    mf = _frame(["sex"], {"selection_rate": selection_rate})
    with pytest.raises(ValueError, match="count is required"):
        metricframe_document(mf, system="credit-scoring", model_version="1.0")


def test_an_unknown_metric_is_refused_with_the_accepted_names() -> None:
    mf = _frame(["sex"], {"count": count, "my_metric": selection_rate})
    with pytest.raises(ValueError, match="unknown metric 'my_metric'; accepted: accuracy_score"):
        metricframe_document(mf, system="credit-scoring", model_version="1.0")


def test_the_same_quantity_twice_is_refused() -> None:
    mf = _frame(["sex"], {"count": count, "recall_score": recall_score, **METRICS})
    with pytest.raises(ValueError, match="a second time"):
        metricframe_document(mf, system="credit-scoring", model_version="1.0")
