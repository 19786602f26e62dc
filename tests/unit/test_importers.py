"""Importers: fairlearn, lm-eval, MLflow and model-card results → typed evidence items.

Expected numbers are recomputed here from the fixtures with plain Python, not taken from
the importer.
"""

import copy
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from evaluations.importers import FORMATS, ImportedItem, ImportFormatError, import_items
from evaluations.importers.scores import higher_is_better

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "importers"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def refusal(format: str, payload: Any) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as caught:
        import_items(format, payload)
    return caught.value


def spread(values: list[float]) -> tuple[float, float]:
    return max(values) - min(values), min(values) / max(values)


# --- fairlearn MetricFrame ---------------------------------------------------------------


def test_fairlearn_one_feature_becomes_one_fairness_item_with_both_groups():
    payload = load("fairlearn-one-feature.json")

    [item] = import_items("fairlearn-metricframe", payload)

    assert (item.kind, item.label, item.tool_name, item.tool_version) == (
        "fairness",
        "sex",
        "fairlearn",
        "0.15.0",
    )
    metrics = item.metrics
    assert metrics["sensitive_features"] == ["sex"]
    assert metrics["positive_label"] == 1
    assert metrics["min_group_size"] == 30
    assert metrics["overall"]["size"] == 2000
    assert metrics["overall"]["positive_predictive_value"] == payload["overall"]["precision_score"]
    [breakdown] = metrics["breakdowns"]
    assert breakdown["features"] == ["sex"]
    assert [g["group"] for g in breakdown["groups"]] == [{"sex": "female"}, {"sex": "male"}]
    assert [g["size"] for g in breakdown["groups"]] == [812, 1188]
    assert all(isinstance(g["size"], int) for g in breakdown["groups"])
    assert not any(g["insufficient"] for g in breakdown["groups"])
    female = breakdown["groups"][0]
    assert female["accuracy"] == payload["by_group"]["accuracy_score"]["female"]
    assert female["true_positive_rate"] == payload["by_group"]["true_positive_rate"]["female"]


def test_fairlearn_one_feature_aggregates_are_max_minus_min_and_min_over_max():
    payload = load("fairlearn-one-feature.json")
    by_group = payload["by_group"]
    selection = spread(list(by_group["selection_rate"].values()))
    tpr = spread(list(by_group["true_positive_rate"].values()))
    fpr = spread(list(by_group["false_positive_rate"].values()))

    [item] = import_items("fairlearn-metricframe", payload)

    breakdown = item.metrics["breakdowns"][0]
    assert breakdown["demographic_parity_difference"] == pytest.approx(selection[0])
    assert breakdown["demographic_parity_ratio"] == pytest.approx(selection[1])
    assert breakdown["equal_opportunity_difference"] == pytest.approx(tpr[0])
    assert breakdown["equal_opportunity_ratio"] == pytest.approx(tpr[1])
    assert breakdown["equalized_odds_difference"] == pytest.approx(max(tpr[0], fpr[0]))
    assert breakdown["equalized_odds_ratio"] == pytest.approx(min(tpr[1], fpr[1]))


def test_fairlearn_intersection_flags_small_group_and_leaves_it_out_of_aggregates():
    payload = load("fairlearn-intersection.json")
    records = payload["by_group"]
    kept = [r for r in records if r["count"] >= 30]
    assert len(records) == 6
    assert len(kept) == 5
    selection = spread([r["selection_rate"] for r in kept])
    tpr = spread([r["true_positive_rate"] for r in kept])
    fpr = spread([r["false_positive_rate"] for r in kept])

    [item] = import_items("fairlearn-metricframe", payload)

    [breakdown] = item.metrics["breakdowns"]
    assert breakdown["features"] == ["sex", "age_band"]
    assert item.label == "sex, age_band"
    flagged = [g["group"] for g in breakdown["groups"] if g["insufficient"]]
    assert flagged == [{"sex": "female", "age_band": "60+"}]
    assert breakdown["demographic_parity_difference"] == pytest.approx(selection[0])
    assert breakdown["demographic_parity_ratio"] == pytest.approx(selection[1])
    assert breakdown["equal_opportunity_difference"] == pytest.approx(tpr[0])
    assert breakdown["equal_opportunity_ratio"] == pytest.approx(tpr[1])
    assert breakdown["equalized_odds_difference"] == pytest.approx(max(tpr[0], fpr[0]))
    assert breakdown["equalized_odds_ratio"] == pytest.approx(min(tpr[1], fpr[1]))
    # The small group's perfect FPR of 0 would have driven the ratio to 0.
    assert breakdown["equalized_odds_ratio"] > 0


def test_fairlearn_larger_min_group_size_flags_more_groups():
    payload = load("fairlearn-intersection.json")

    [item] = import_items("fairlearn-metricframe", payload, min_group_size=100)

    groups = item.metrics["breakdowns"][0]["groups"]
    assert item.metrics["min_group_size"] == 100
    assert [g["size"] for g in groups if g["insufficient"]] == [96, 24]


def test_fairlearn_aggregates_are_left_out_with_fewer_than_two_sufficient_groups():
    payload = load("fairlearn-one-feature.json")

    [item] = import_items("fairlearn-metricframe", payload, min_group_size=1000)

    breakdown = item.metrics["breakdowns"][0]
    assert [g["insufficient"] for g in breakdown["groups"]] == [True, False]
    assert not any(name.startswith(("demographic", "equal")) for name in breakdown)


def test_fairlearn_ratio_of_rates_that_are_all_zero_is_one():
    payload = {
        "sensitive_features": ["region"],
        "overall": {"count": 400, "selection_rate": 0.0},
        "by_group": {
            "count": {"north": 200, "south": 200},
            "selection_rate": {"north": 0, "south": 0},
        },
    }

    [item] = import_items("fairlearn-metricframe", payload)

    breakdown = item.metrics["breakdowns"][0]
    assert breakdown["demographic_parity_difference"] == 0
    assert breakdown["demographic_parity_ratio"] == 1.0
    assert "equal_opportunity_ratio" not in breakdown


def test_fairlearn_null_rate_is_kept_and_left_out_of_the_aggregate():
    payload = {
        "sensitive_features": ["branch"],
        "overall": {"count": 150, "true_positive_rate": 0.8},
        "by_group": [
            {"branch": 1, "count": 50, "true_positive_rate": 0.9},
            {"branch": 2, "count": 50, "true_positive_rate": None},
            {"branch": 3, "count": 50, "true_positive_rate": 0.6},
        ],
    }

    [item] = import_items("fairlearn-metricframe", payload)

    breakdown = item.metrics["breakdowns"][0]
    assert breakdown["groups"][1]["true_positive_rate"] is None
    assert breakdown["groups"][1]["group"] == {"branch": "2"}
    assert breakdown["equal_opportunity_difference"] == pytest.approx(0.3)
    assert breakdown["equal_opportunity_ratio"] == pytest.approx(0.6 / 0.9)
    assert "equalized_odds_difference" not in breakdown


def test_fairlearn_scikit_learn_scores_map_to_group_metrics():
    payload = {
        "sensitive_features": ["sex"],
        "overall": {"count": 100, "recall_score": 0.7, "precision_score": 0.8},
        "by_group": {
            "count": {"F": 40, "M": 60},
            "recall_score": {"F": 0.6, "M": 0.75},
            "precision_score": {"F": 0.85, "M": 0.78},
        },
    }

    [item] = import_items("fairlearn-metricframe", payload)

    assert item.metrics["overall"] == {
        "size": 100,
        "true_positive_rate": 0.7,
        "positive_predictive_value": 0.8,
    }
    assert item.metrics["breakdowns"][0]["equal_opportunity_difference"] == pytest.approx(0.15)


def _records_payload() -> dict[str, Any]:
    return copy.deepcopy(load("fairlearn-intersection.json"))


def _columns_payload() -> dict[str, Any]:
    return copy.deepcopy(load("fairlearn-one-feature.json"))


def _without(payload: dict[str, Any], *path: str | int) -> dict[str, Any]:
    target: Any = payload
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return payload


def _setting(payload: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    target: Any = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "pointer", "says"),
    [
        (_without(_columns_payload(), "by_group", "count"), "/by_group/count", "required"),
        (_without(_columns_payload(), "overall", "count"), "/overall/count", "required"),
        (_without(_records_payload(), "by_group", 3, "count"), "/by_group/3/count", "required"),
        (
            _setting(_columns_payload(), {"female": 0.8}, "by_group", "f1_score"),
            "/by_group/f1_score",
            "accepted: accuracy_score, count",
        ),
        (_setting(_records_payload(), 0.8, "overall", "tpr"), "/overall/tpr", "unknown metric"),
        (
            _setting(_columns_payload(), "0.51", "by_group", "selection_rate", "female"),
            "/by_group/selection_rate/female",
            "expected a number",
        ),
        (
            _setting(_records_payload(), True, "by_group", 0, "selection_rate"),
            "/by_group/0/selection_rate",
            "expected a number",
        ),
        (
            _setting(_records_payload(), math.nan, "by_group", 1, "true_positive_rate"),
            "/by_group/1/true_positive_rate",
            "finite",
        ),
        (
            _setting(_columns_payload(), math.inf, "overall", "accuracy_score"),
            "/overall/accuracy_score",
            "finite",
        ),
        (_setting(_records_payload(), -5, "by_group", 2, "count"), "/by_group/2/count", "negative"),
        (_setting(_records_payload(), 24.5, "by_group", 2, "count"), "/by_group/2/count", "whole"),
        (
            _setting(_columns_payload(), 1.2, "by_group", "false_positive_rate", "male"),
            "/by_group/false_positive_rate/male",
            "[0, 1]",
        ),
        (
            _setting(_records_payload(), -0.1, "overall", "selection_rate"),
            "/overall/selection_rate",
            "[0, 1]",
        ),
        (
            _without(_records_payload(), "by_group", 2, "age_band"),
            "/by_group/2/age_band",
            "required",
        ),
        (
            _setting(_records_payload(), None, "by_group", 2, "sex"),
            "/by_group/2/sex",
            "group value",
        ),
        (
            _setting(_records_payload(), {"sex": "female"}, "by_group"),
            "/by_group",
            "list of records",
        ),
        (
            _setting(_columns_payload(), {"other": 0.5}, "by_group", "selection_rate"),
            "/by_group/selection_rate/other",
            "no count",
        ),
        (
            _setting(_records_payload(), 0.7, "by_group", 0, "recall_score"),
            "/by_group/0/recall_score",
            "second time",
        ),
        (
            _setting(
                _records_payload(),
                copy.deepcopy(load("fairlearn-intersection.json")["by_group"][:2] * 2),
                "by_group",
            ),
            "/by_group/2",
            "appears twice",
        ),
        (_without(_columns_payload(), "sensitive_features"), "/sensitive_features", "required"),
        (
            _setting(_columns_payload(), [], "sensitive_features"),
            "/sensitive_features",
            "at least one",
        ),
        (
            _setting(_columns_payload(), ["sex", "sex"], "sensitive_features"),
            "/sensitive_features/1",
            "repeated",
        ),
        (_without(_columns_payload(), "overall"), "/overall", "required"),
        (_setting(_records_payload(), [], "by_group"), "/by_group", "no groups"),
        (_setting(_columns_payload(), "sex", "by_group"), "/by_group", "expected an object"),
        ([1, 2], "", "expected an object"),
    ],
)
def test_fairlearn_payload_that_departs_from_the_shape_is_refused_with_a_pointer(
    payload, pointer, says
):
    error = refusal("fairlearn-metricframe", payload)

    assert error.pointer == pointer
    assert says in error.message


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_fairlearn_unusable_min_group_size_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match=repr(bad)) as caught:
        import_items(
            "fairlearn-metricframe", load("fairlearn-one-feature.json"), min_group_size=bad
        )
    assert not isinstance(caught.value, ImportFormatError)


# --- lm-evaluation-harness ---------------------------------------------------------------


def _lm_items() -> dict[str, ImportedItem]:
    return {
        item.label: item for item in import_items("lm-eval-harness", load("lm-eval-results.json"))
    }


def test_lm_eval_results_become_one_performance_item_per_task():
    items = _lm_items()

    assert sorted(items) == ["arc_easy", "gsm8k", "hellaswag"]
    assert {item.kind for item in items.values()} == {"performance"}
    gsm8k = items["gsm8k"].metrics
    assert gsm8k["task"] == "language-modeling"
    assert gsm8k["benchmark"] == {"name": "gsm8k", "config": "5-shot", "split": "test"}
    assert gsm8k["size"] == 1319
    # hellaswag has no test split: lm-eval scores its validation split.
    assert items["hellaswag"].metrics["benchmark"] == {
        "name": "hellaswag",
        "config": "0-shot",
        "split": "validation",
    }
    assert items["hellaswag"].metrics["size"] == 10042


def test_lm_eval_score_names_drop_the_none_filter_and_keep_any_other():
    items = _lm_items()

    assert sorted(items["hellaswag"].metrics["scores"]) == ["acc", "acc_norm"]
    assert sorted(items["gsm8k"].metrics["scores"]) == [
        "exact_match,flexible-extract",
        "exact_match,strict-match",
    ]


def test_lm_eval_scores_carry_value_direction_and_a_normal_interval_from_the_stderr():
    payload = load("lm-eval-results.json")
    raw = payload["results"]["gsm8k"]
    value, stderr = raw["exact_match,strict-match"], raw["exact_match_stderr,strict-match"]

    score = _lm_items()["gsm8k"].metrics["scores"]["exact_match,strict-match"]

    assert score["value"] == value
    assert score["higher_is_better"] is True
    assert score["interval"]["low"] == pytest.approx(value - 1.96 * stderr)
    assert score["interval"]["high"] == pytest.approx(value + 1.96 * stderr)
    assert score["interval"]["level"] == 0.95
    assert score["interval"]["method"] == "normal (stderr)"


def test_lm_eval_interval_of_a_proportion_is_clipped_to_zero_and_one():
    payload = {
        "results": {"tiny_task": {"acc,none": 0.98, "acc_stderr,none": 0.03}},
        "n-samples": {"tiny_task": {"original": 50, "effective": 20}},
    }

    [item] = import_items("lm-eval-harness", payload)

    interval = item.metrics["scores"]["acc"]["interval"]
    assert interval["low"] == pytest.approx(0.98 - 1.96 * 0.03)
    assert interval["high"] == 1.0
    assert item.metrics["size"] == 20


def test_lm_eval_stderr_given_as_na_gives_a_score_without_interval():
    payload = {
        "results": {
            "wikitext": {"word_perplexity,none": 11.2, "word_perplexity_stderr,none": "N/A"}
        }
    }

    [item] = import_items("lm-eval-harness", payload)

    assert item.metrics["scores"] == {"word_perplexity": {"value": 11.2, "higher_is_better": False}}
    assert "size" not in item.metrics
    assert item.metrics["benchmark"] == {"name": "wikitext", "config": "", "split": ""}


def test_lm_eval_direction_falls_back_to_the_name_rule_when_lm_eval_gives_none():
    payload = {
        "results": {"task": {"bits_per_byte,none": 0.61, "brier_loss,none": 0.2, "mcc,none": 0.4}},
        "higher_is_better": {"task": {"mcc": None}},
    }

    [item] = import_items("lm-eval-harness", payload)

    directions = {name: s["higher_is_better"] for name, s in item.metrics["scores"].items()}
    assert directions == {"bits_per_byte": False, "brier_loss": False, "mcc": True}


def test_lm_eval_provenance_comes_from_version_git_hash_and_date():
    payload = load("lm-eval-results.json")
    expected_date = datetime.fromtimestamp(payload["date"], tz=UTC).date().isoformat()

    item = _lm_items()["arc_easy"]

    assert (item.tool_name, item.tool_version) == ("lm-evaluation-harness", "0.4.11")
    assert item.commit_sha == payload["git_hash"]
    assert item.effective_date == expected_date == "2026-10-28"


def test_lm_eval_git_describe_name_is_not_taken_for_a_commit():
    payload = load("lm-eval-results.json")
    payload["git_hash"] = "v0.4.11-3-g8f1c2e7"
    del payload["date"], payload["lm_eval_version"]

    items = import_items("lm-eval-harness", payload)

    assert {(i.commit_sha, i.tool_version, i.effective_date) for i in items} == {("", "", None)}


def test_lm_eval_entry_without_scores_is_skipped():
    payload = load("lm-eval-results.json")
    payload["results"]["mmlu"] = {"alias": "mmlu", "name": "mmlu", "sample_len": 14042}

    assert len(import_items("lm-eval-harness", payload)) == 3


@pytest.mark.parametrize(
    ("change", "pointer", "says"),
    [
        (lambda p: p.pop("results"), "/results", "required"),
        (lambda p: p.update(results={}), "/results", "no task has a score"),
        (
            lambda p: p["results"]["hellaswag"].update({"acc,none": "0.57"}),
            "/results/hellaswag/acc,none",
            "number",
        ),
        (
            lambda p: p["results"]["arc_easy"].update({"acc,none": 80.9}),
            "/results/arc_easy/acc,none",
            "[0, 1]",
        ),
        (
            lambda p: p["results"]["gsm8k"].update({"exact_match_stderr,strict-match": -0.01}),
            "/results/gsm8k/exact_match_stderr,strict-match",
            "negative",
        ),
        (
            lambda p: p["higher_is_better"]["gsm8k"].update(exact_match="yes"),
            "/higher_is_better/gsm8k/exact_match",
            "true or false",
        ),
        (
            lambda p: p["n-samples"]["gsm8k"].pop("effective"),
            "/n-samples/gsm8k/effective",
            "required",
        ),
        (lambda p: p.update(date="yesterday"), "/date", "number"),
    ],
)
def test_lm_eval_results_that_depart_from_the_shape_are_refused_with_a_pointer(
    change, pointer, says
):
    payload = load("lm-eval-results.json")
    change(payload)

    error = refusal("lm-eval-harness", payload)

    assert error.pointer == pointer
    assert says in error.message


# --- MLflow ------------------------------------------------------------------------------


def test_mlflow_run_becomes_one_performance_item_with_every_metric():
    payload = load("mlflow-run.json")
    logged = {m["key"]: m["value"] for m in payload["run"]["data"]["metrics"]}

    [item] = import_items("mlflow-run", payload)

    assert (item.kind, item.label, item.tool_name) == ("performance", "xgb-credit-4.3.0", "mlflow")
    assert item.commit_sha == "3f9d2c1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"
    # The run started on the 27th and ended after midnight UTC: the end counts.
    assert item.effective_date == "2026-10-28"
    metrics = item.metrics
    assert metrics["task"] == "binary_classification"
    assert metrics["benchmark"] == {
        "name": "credit-applications-holdout",
        "config": "a7c3e9f1",
        "split": "eval",
    }
    assert {name: s["value"] for name, s in metrics["scores"].items()} == logged


def test_mlflow_directions_come_from_the_known_names_then_the_name_rule():
    [item] = import_items("mlflow-run", load("mlflow-run.json"))

    lower = {name for name, s in item.metrics["scores"].items() if not s["higher_is_better"]}
    assert lower == {"log_loss", "validation_0-logloss", "brier_score", "scoring_latency_p95_ms"}


def _run(metrics: list[dict[str, Any]], **info: Any) -> dict[str, Any]:
    return {"run": {"info": info, "data": {"metrics": metrics}}}


def test_mlflow_value_at_the_highest_step_then_the_latest_timestamp_wins():
    history = [
        {"key": "val_loss", "value": 0.52, "timestamp": 1_700_000_300_000, "step": 9},
        {"key": "val_loss", "value": 0.41, "timestamp": 1_700_000_100_000, "step": 20},
        {"key": "val_loss", "value": 0.44, "timestamp": 1_700_000_400_000, "step": 19},
        {"key": "val_loss", "value": 0.39, "timestamp": 1_700_000_200_000, "step": 20},
        {"key": "auc", "value": 0.70, "timestamp": "1700000000000"},
        {"key": "auc", "value": 0.71, "timestamp": "1700000000500", "step": "0"},
    ]

    [item] = import_items("mlflow-run", _run(history, run_id="abc123"))

    assert item.metrics["scores"]["val_loss"] == {"value": 0.39, "higher_is_better": False}
    assert item.metrics["scores"]["auc"]["value"] == 0.71
    assert item.metrics["task"] == "unspecified"
    assert "benchmark" not in item.metrics
    assert item.label == "abc123"
    assert (item.commit_sha, item.effective_date) == ("", None)


def test_mlflow_task_comes_from_the_param_and_the_date_from_the_start_of_a_running_run():
    payload = _run(
        [{"key": "rmse", "value": 1250.0, "timestamp": 1, "step": 0}],
        status="RUNNING",
        start_time="1793144885311",
    )
    payload["run"]["data"]["params"] = [{"key": "task", "value": "regression"}]

    [item] = import_items("mlflow-run", payload)

    assert item.metrics["task"] == "regression"
    assert item.effective_date == "2026-10-27"
    assert item.metrics["scores"]["rmse"]["higher_is_better"] is False


@pytest.mark.parametrize(
    ("payload", "pointer", "says"),
    [
        ({"info": {}}, "/run", "required"),
        ({"run": {"info": {}}}, "/run/data", "required"),
        ({"run": {"data": {"params": []}}}, "/run/data/metrics", "required"),
        (_run([]), "/run/data/metrics", "no metrics"),
        (
            _run([{"key": "auc", "value": "NaN", "timestamp": 1}]),
            "/run/data/metrics/0/value",
            "number",
        ),
        (_run([{"key": "auc", "value": math.inf}]), "/run/data/metrics/0/value", "finite"),
        (_run([{"value": 0.7}]), "/run/data/metrics/0/key", "required"),
        (_run([{"key": "auc", "value": 0.7, "step": 1.5}]), "/run/data/metrics/0/step", "whole"),
        (_run([{"key": "accuracy", "value": 78.35}]), "/run/data/metrics/0/value", "[0, 1]"),
    ],
)
def test_mlflow_payload_that_departs_from_the_shape_is_refused_with_a_pointer(
    payload, pointer, says
):
    error = refusal("mlflow-run", payload)

    assert error.pointer == pointer
    assert says in error.message


# --- Hugging Face model card -------------------------------------------------------------


def _card_text() -> str:
    return (FIXTURES / "hf-model-card.md").read_text()


def test_model_card_results_become_one_performance_item_each():
    items = import_items("hf-model-index", _card_text())

    assert [(i.kind, i.label, i.tool_name) for i in items] == [
        ("performance", "text-classification on Acme Complaints 2026-Q3", "huggingface-model-card"),
        ("performance", "text-classification on GLUE SST-2", "huggingface-model-card"),
    ]
    first, second = (i.metrics for i in items)
    assert first == {
        "task": "text-classification",
        "benchmark": {"name": "Acme Complaints 2026-Q3", "config": "default", "split": "test"},
        "scores": {
            "accuracy": {"value": 0.9127, "higher_is_better": True},
            "f1": {"value": 0.8741, "higher_is_better": True},
            "expected_calibration_error": {"value": 0.0312, "higher_is_better": False},
        },
    }
    assert second["benchmark"] == {"name": "GLUE SST-2", "config": "sst2", "split": "validation"}
    assert second["scores"] == {"accuracy": {"value": 0.9186, "higher_is_better": True}}


def test_model_card_given_as_parsed_front_matter_or_bare_yaml_gives_the_same_items():
    front_matter = _card_text().split("---\n")[1]

    from_text = import_items("hf-model-index", _card_text())

    assert import_items("hf-model-index", yaml.safe_load(front_matter)) == from_text
    assert import_items("hf-model-index", front_matter) == from_text


def test_model_card_repeated_metric_type_is_keyed_by_its_config_and_dataset_type_names_it():
    card = """model-index:
- name: asr
  results:
  - task: {type: automatic-speech-recognition}
    dataset: {type: librispeech_asr, config: clean, split: test}
    metrics:
    - {type: wer, value: 0.041, config: greedy}
    - {type: wer, value: 0.036, config: beam-5}
    - {type: rtf, value: 0.12}
"""

    [item] = import_items("hf-model-index", card)

    assert item.metrics["benchmark"] == {
        "name": "librispeech_asr",
        "config": "clean",
        "split": "test",
    }
    assert item.metrics["scores"] == {
        "wer,greedy": {"value": 0.041, "higher_is_better": False},
        "wer,beam-5": {"value": 0.036, "higher_is_better": False},
        "rtf": {"value": 0.12, "higher_is_better": True},
    }


@pytest.mark.parametrize(
    ("card", "pointer", "says"),
    [
        ("---\nlicense: mit\ntags: [credit]\n---\n# A card\n", "/model-index", "required"),
        ("---\nlicense: mit\nmodel-index: []\n---\n", "/model-index", "no results"),
        ("---\nlicense: mit\n# never closed\n", "", "never closed"),
        ("---\nlicense: [mit\n---\n", "", "not valid YAML"),
        ("# Just a README\n\nNo metadata here.\n", "", "mapping"),
        ("---\n!!python/object/apply:os.system [echo hi]\n---\n", "", "not valid YAML"),
        (
            "model-index:\n- results:\n  - task: {type: t}\n    dataset: {name: d}\n"
            "    metrics: [{type: accuracy, value: '91%'}]\n",
            "/model-index/0/results/0/metrics/0/value",
            "number",
        ),
        (
            "model-index:\n- results:\n  - task: {type: t}\n    dataset: {name: d}\n"
            "    metrics: [{type: accuracy, value: 91.3}]\n",
            "/model-index/0/results/0/metrics/0/value",
            "[0, 1]",
        ),
        (
            "model-index:\n- results:\n  - dataset: {name: d}\n"
            "    metrics: [{type: f1, value: 0.5}]\n",
            "/model-index/0/results/0/task",
            "required",
        ),
        (
            "model-index:\n- results:\n  - task: {type: t}\n    dataset: {name: d}\n"
            "    metrics: [{type: f1, value: 0.5}, {type: f1, value: 0.6}]\n",
            "/model-index/0/results/0/metrics/0/config",
            "required",
        ),
    ],
)
def test_model_card_that_departs_from_the_shape_is_refused_with_a_pointer(card, pointer, says):
    error = refusal("hf-model-index", card)

    assert error.pointer == pointer
    assert says in error.message


# --- registry and shared rules -----------------------------------------------------------


def test_registry_offers_exactly_the_four_formats():
    assert sorted(FORMATS) == [
        "fairlearn-metricframe",
        "hf-model-index",
        "lm-eval-harness",
        "mlflow-run",
    ]


def test_unknown_format_is_refused_naming_the_known_ones():
    error = refusal("weights-and-biases", {})

    assert error.pointer == ""
    assert "'weights-and-biases'" in error.message
    assert "mlflow-run" in error.message
    assert isinstance(error, ValueError)


def test_error_text_is_the_pointer_then_the_message():
    error = refusal("mlflow-run", _run([]))

    assert str(error) == "/run/data/metrics: the run has no metrics"


@pytest.mark.parametrize(
    ("name", "higher"),
    [
        ("accuracy", True),
        ("log_loss", False),
        ("val_loss", False),
        ("mean_absolute_error", False),
        ("eval/rmse", False),
        ("test-wer", False),
        ("answer_f1", True),
        ("power_usage_ratio", True),
        ("p95_latency_ms", False),
        ("ks_statistic", True),
    ],
)
def test_score_direction_follows_known_names_then_the_name_rule(name, higher):
    assert higher_is_better(name) is higher


# --- the evidence schema accepts what the importers produce ------------------------------


# Inline payloads whose output exercises the optional and null parts of the shapes.
EDGE_CASES: list[tuple[str, Any]] = [
    (
        "fairlearn-metricframe",
        {
            "sensitive_features": ["branch"],
            "overall": {"count": 70, "true_positive_rate": None, "selection_rate": 0.0},
            "by_group": [
                {"branch": 1, "count": 40, "true_positive_rate": None, "selection_rate": 0.0},
                {"branch": 2, "count": 30, "true_positive_rate": 0.5, "selection_rate": 0.0},
            ],
        },
    ),
    (
        "lm-eval-harness",
        {
            "results": {
                "wikitext": {"word_perplexity,none": 11.2, "word_perplexity_stderr,none": "N/A"},
                "boolq": {"acc,none": 0.99, "acc_stderr,none": 0.02, "exact_match,none": 0.98},
            }
        },
    ),
    ("mlflow-run", _run([{"key": "eval/rmse", "value": 1250.5}, {"key": "r2", "value": -0.2}])),
    (
        "hf-model-index",
        "model-index:\n- results:\n  - task: {type: automatic-speech-recognition}\n"
        "    dataset: {type: librispeech_asr}\n"
        "    metrics: [{type: wer, value: 0.04, config: a}, {type: wer, value: 0.03, config: b}]\n",
    ),
]


def _all_items() -> list[ImportedItem]:
    items = [item for format, payload in EDGE_CASES for item in import_items(format, payload)]
    for format, name in [
        ("fairlearn-metricframe", "fairlearn-one-feature.json"),
        ("fairlearn-metricframe", "fairlearn-intersection.json"),
        ("lm-eval-harness", "lm-eval-results.json"),
        ("mlflow-run", "mlflow-run.json"),
    ]:
        items += import_items(format, load(name))
    return items + import_items("hf-model-index", _card_text())


def test_every_imported_item_is_a_valid_evidence_document():
    validation = pytest.importorskip("evaluations.validation")

    for item in _all_items():
        document = {
            "kind": item.kind,
            "schema_version": "1.0",
            "system": "credit-scoring",
            "model_version": "4.3.0",
            "context": "evaluation",
            "datasets": [],
            "effective_date": "2026-11-01",
            "metrics": item.metrics,
        }
        assert validation.validate_document(document) == [], item.label
