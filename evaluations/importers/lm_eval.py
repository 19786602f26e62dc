"""EleutherAI lm-evaluation-harness results → one `performance` item per task.

Reads the `results_<time>.json` that `lm_eval --output_path` writes (the v0.4 shape)::

    {
      "results": {"gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.41,
                            "exact_match_stderr,strict-match": 0.0135, ...}, ...},
      "higher_is_better": {"gsm8k": {"exact_match": true}, ...},
      "n-samples": {"gsm8k": {"original": 1319, "effective": 1319}, ...},
      "n-shot": {"gsm8k": 5, ...},
      "configs": {"gsm8k": {"test_split": "test", ...}, ...},
      "git_hash": "4600d6bf", "date": 1793606400.5, "lm_eval_version": "0.4.9", ...
    }

Only `results` is required. Each entry of `results` (a task, or a group's aggregate) with
at least one score becomes an item labelled with the task name:

* `task` is "language-modeling"; the task itself is the benchmark;
* `benchmark` is `{"name": task, "config": "<n>-shot" (from n-shot, else ""), "split": the
  task config's test_split, else its validation_split, else ""}`;
* `size` is `n-samples[task].effective` when given;
* `scores`: every `"<metric>,<filter>"` member except the `<metric>_stderr` ones. The score
  is named `<metric>` when the filter is `none` and keeps lm-eval's own `<metric>,<filter>`
  spelling otherwise (`exact_match,strict-match`), so one metric under two filters gives two
  scores and the name still splits back unambiguously. Each score is
  `{"value", "higher_is_better", "interval"?}`. The direction is lm-eval's
  `higher_is_better[task][metric]`; when that is missing or null, the rule of
  `evaluations.importers.scores`. The interval is value ± 1.96 · stderr (level 0.95, method
  "normal (stderr)") when `<metric>_stderr,<filter>` is a number; a stderr of "N/A" or null
  gives no interval. For proportions (`acc`, `acc_norm`, `acc_mutual_info`, `em`, `mc1`,
  `mc2` and the known proportions of docs/evidence.md: `exact_match`, `f1`, `accuracy`, ...)
  the value must lie in [0, 1] and the interval is clipped to it.

Provenance: tool "lm-evaluation-harness", version from `lm_eval_version`, commit from
`git_hash` when it is a hex commit (lm-eval records the commit of the directory it ran in,
usually the harness checkout; a `git describe` name such as `v0.4.9-3-g4600d6b` is left out),
effective date from `date` (Unix seconds, UTC).
"""

from typing import Any

from evaluations.importers.base import (
    ImportedItem,
    ImportFormatError,
    child,
    commit_or_empty,
    date_from_epoch,
    expect_count,
    expect_number,
    expect_object,
    expect_rate,
    expect_string,
    member,
)
from evaluations.importers.scores import KNOWN_RATES, higher_is_better, score

TOOL_NAME = "lm-evaluation-harness"
RATE_METRICS = KNOWN_RATES | {"acc", "acc_norm", "acc_mutual_info", "em", "mc1", "mc2"}
_Z_95 = 1.96


def import_results(payload: Any, *, min_group_size: int = 30) -> list[ImportedItem]:
    """Read an lm-eval results file into one `performance` item per task with scores.

    `min_group_size` is accepted for a uniform importer signature; there are no groups here.

    Raises
    ------
    ImportFormatError
        When the payload departs from the shape; `pointer` says where.
    """
    root = expect_object(payload, "")
    results = expect_object(member(root, "results", ""), "/results")
    items = []
    for task, raw in results.items():
        scores = _scores(task, expect_object(raw, child("/results", task)), root)
        if scores:
            items.append(_item(task, scores, root))
    if not items:
        raise ImportFormatError("/results", "no task has a score")
    return items


def _item(task: str, scores: dict[str, Any], root: dict[str, Any]) -> ImportedItem:
    metrics: dict[str, Any] = {
        "task": "language-modeling",
        "benchmark": _benchmark(task, root),
    }
    size = _size(task, root)
    if size is not None:
        metrics["size"] = size
    metrics["scores"] = scores
    return ImportedItem(
        kind="performance",
        metrics=metrics,
        label=task,
        tool_name=TOOL_NAME,
        tool_version=expect_string(root.get("lm_eval_version", ""), "/lm_eval_version"),
        commit_sha=commit_or_empty(root.get("git_hash")),
        effective_date=_effective_date(root),
    )


def _effective_date(root: dict[str, Any]) -> str | None:
    """The UTC date of `date`, when lm-eval started the run (Unix seconds)."""
    if root.get("date") is None:
        return None
    return date_from_epoch(expect_number(root["date"], "/date"), "/date")


def _section(root: dict[str, Any], name: str, task: str) -> Any:
    """root[name][task], or None when either is missing."""
    section = expect_object(root.get(name, {}), child("", name))
    return section.get(task)


def _benchmark(task: str, root: dict[str, Any]) -> dict[str, str]:
    shots = _section(root, "n-shot", task)
    config = "" if shots is None else f"{expect_count(shots, child('/n-shot', task))}-shot"
    task_config = expect_object(_section(root, "configs", task) or {}, child("/configs", task))
    split = task_config.get("test_split") or task_config.get("validation_split") or ""
    return {"name": task, "config": config, "split": str(split)}


def _size(task: str, root: dict[str, Any]) -> int | None:
    counts = _section(root, "n-samples", task)
    if counts is None:
        return None
    pointer = child("/n-samples", task)
    return expect_count(
        member(expect_object(counts, pointer), "effective", pointer), child(pointer, "effective")
    )


def _scores(task: str, raw: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    pointer = child("/results", task)
    scores: dict[str, Any] = {}
    for key, value in raw.items():
        metric, comma, filter_name = key.partition(",")
        if not comma or metric.endswith("_stderr"):
            continue  # alias, name, sample_len, ... and the standard errors themselves
        checked = _value(metric, value, child(pointer, key))
        stderr = raw.get(f"{metric}_stderr,{filter_name}")
        stderr_pointer = child(pointer, f"{metric}_stderr,{filter_name}")
        interval = _interval(checked, stderr, metric in RATE_METRICS, stderr_pointer)
        name = metric if filter_name == "none" else key
        scores[name] = score(checked, higher=_direction(task, metric, root), interval=interval)
    return scores


def _value(metric: str, value: Any, pointer: str) -> float | int:
    if metric in RATE_METRICS:
        return expect_rate(value, pointer)
    return expect_number(value, pointer)


def _direction(task: str, metric: str, root: dict[str, Any]) -> bool:
    stated = expect_object(
        _section(root, "higher_is_better", task) or {}, child("/higher_is_better", task)
    )
    direction = stated.get(metric)
    if direction is None:
        return higher_is_better(metric)
    if not isinstance(direction, bool):
        raise ImportFormatError(
            child(child("/higher_is_better", task), metric), "expected true or false"
        )
    return direction


def _interval(
    value: float | int, stderr: Any, is_rate: bool, pointer: str
) -> dict[str, Any] | None:
    """value ± 1.96 · stderr, clipped to [0, 1] for proportions; None without a stderr."""
    if stderr is None or stderr == "N/A":
        return None
    spread = _Z_95 * expect_number(stderr, pointer)
    if spread < 0:
        raise ImportFormatError(pointer, f"a standard error cannot be negative, got {stderr}")
    low, high = value - spread, value + spread
    if is_rate:
        low, high = max(0.0, low), min(1.0, high)
    return {"low": low, "high": high, "level": 0.95, "method": "normal (stderr)"}
