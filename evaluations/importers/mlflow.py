"""MLflow run → one `performance` item.

Reads the response of the tracking server's `GET /api/2.0/mlflow/runs/get`::

    {"run": {"info": {"run_id", "run_name", "status", "start_time", "end_time", ...},
             "data": {"metrics": [{"key", "value", "timestamp", "step"}, ...],
                      "params": [{"key", "value"}, ...], "tags": [{"key", "value"}, ...]},
             "inputs": {"dataset_inputs": [{"dataset": {"name", "digest", ...},
                                            "tags": [{"key", "value"}, ...]}, ...]}}}

`run.data.metrics` is required and must not be empty; everything else is optional. The
run's status is not checked (a KILLED run's metrics are still what was measured).

* `scores`: one per metric key, the value logged at the highest step, among those the
  latest timestamp (then the largest value, as MLflow itself breaks that tie). Missing
  steps and timestamps count as 0; int64 fields may be numbers or digit strings. Each score
  is `{"value", "higher_is_better"}`, the direction from `evaluations.importers.scores`
  (the known names of docs/evidence.md, then the loss/error/... rule). A known proportion
  (`accuracy`, `f1`, ...) must lie in [0, 1].
* `task`: the tag `task`, else the param `task`, else "unspecified".
* `benchmark`: from the first dataset input, `{"name": dataset.name, "config":
  dataset.digest, "split": its `mlflow.data.context` tag ("train", "eval", ...) or ""}`.

Provenance: tool "mlflow", commit from the tag `mlflow.source.git.commit`, effective date
from `end_time` (milliseconds, UTC), or `start_time` while the run has not ended; the label
is the run name, else the run id.
"""

from typing import Any

from evaluations.importers.base import (
    ImportedItem,
    ImportFormatError,
    commit_or_empty,
    date_from_epoch,
    expect_integer_like,
    expect_list,
    expect_object,
    expect_string,
    member,
)
from evaluations.importers.scores import higher_is_better, score, score_value

TOOL_NAME = "mlflow"


def import_run(payload: Any, *, min_group_size: int = 30) -> list[ImportedItem]:
    """Read a `runs/get` response into one `performance` item.

    `min_group_size` is accepted for a uniform importer signature; there are no groups here.

    Raises
    ------
    ImportFormatError
        When the payload departs from the shape; `pointer` says where.
    """
    run = expect_object(member(expect_object(payload, ""), "run", ""), "/run")
    info = expect_object(run.get("info", {}), "/run/info")
    data = expect_object(member(run, "data", "/run"), "/run/data")
    latest = _latest_values(expect_list(member(data, "metrics", "/run/data"), "/run/data/metrics"))
    tags = _pairs(data.get("tags", []), "/run/data/tags")
    params = _pairs(data.get("params", []), "/run/data/params")
    metrics: dict[str, Any] = {"task": tags.get("task") or params.get("task") or "unspecified"}
    benchmark = _benchmark(run.get("inputs", {}))
    if benchmark is not None:
        metrics["benchmark"] = benchmark
    metrics["scores"] = {
        key: score(value, higher=higher_is_better(key)) for key, value in latest.items()
    }
    return [
        ImportedItem(
            kind="performance",
            metrics=metrics,
            label=_label(info, tags),
            tool_name=TOOL_NAME,
            commit_sha=commit_or_empty(tags.get("mlflow.source.git.commit")),
            effective_date=_effective_date(info),
        )
    ]


def _latest_values(entries: list[Any]) -> dict[str, float | int]:
    """The value of each metric key at the highest (step, timestamp, value)."""
    if not entries:
        raise ImportFormatError("/run/data/metrics", "the run has no metrics")
    best: dict[str, tuple[int, int, float | int]] = {}
    for index, entry in enumerate(entries):
        pointer = f"/run/data/metrics/{index}"
        metric = expect_object(entry, pointer)
        key = expect_string(member(metric, "key", pointer), f"{pointer}/key")
        if not key:
            raise ImportFormatError(f"{pointer}/key", "a metric key cannot be empty")
        candidate = (
            expect_integer_like(metric.get("step", 0), f"{pointer}/step"),
            expect_integer_like(metric.get("timestamp", 0), f"{pointer}/timestamp"),
            score_value(key, member(metric, "value", pointer), f"{pointer}/value"),
        )
        if key not in best or candidate > best[key]:
            best[key] = candidate
    return {key: position[2] for key, position in best.items()}


def _pairs(value: Any, pointer: str) -> dict[str, str]:
    """`[{"key", "value"}, ...]` (MLflow's tags, params, input tags) as a dict."""
    pairs: dict[str, str] = {}
    for index, entry in enumerate(expect_list(value, pointer)):
        at = f"{pointer}/{index}"
        pair = expect_object(entry, at)
        key = expect_string(member(pair, "key", at), f"{at}/key")
        pairs[key] = expect_string(pair.get("value", ""), f"{at}/value")
    return pairs


def _benchmark(inputs: Any) -> dict[str, str] | None:
    dataset_inputs = expect_list(
        expect_object(inputs, "/run/inputs").get("dataset_inputs", []), "/run/inputs/dataset_inputs"
    )
    if not dataset_inputs:
        return None
    pointer = "/run/inputs/dataset_inputs/0"
    first = expect_object(dataset_inputs[0], pointer)
    dataset = expect_object(member(first, "dataset", pointer), f"{pointer}/dataset")
    tags = _pairs(first.get("tags", []), f"{pointer}/tags")
    return {
        "name": expect_string(
            member(dataset, "name", f"{pointer}/dataset"), f"{pointer}/dataset/name"
        ),
        "config": expect_string(dataset.get("digest", ""), f"{pointer}/dataset/digest"),
        "split": tags.get("mlflow.data.context", ""),
    }


def _label(info: dict[str, Any], tags: dict[str, str]) -> str:
    for candidate in (info.get("run_name"), tags.get("mlflow.runName"), info.get("run_id")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return "mlflow run"


def _effective_date(info: dict[str, Any]) -> str | None:
    for field in ("end_time", "start_time"):
        if info.get(field) is None:
            continue
        pointer = f"/run/info/{field}"
        milliseconds = expect_integer_like(info[field], pointer)
        if milliseconds > 0:
            return date_from_epoch(milliseconds / 1000, pointer)
    return None
