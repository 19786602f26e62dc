"""Hugging Face model card `model-index` → one `performance` item per result.

The payload is the card's README.md as text (YAML front matter between `---` lines, then
Markdown), bare YAML text, or the front matter already parsed into a dict. Text is read
with `yaml.safe_load` only, which builds plain data and never runs code. Pointers in errors
point into the parsed front matter. The part read::

    model-index:
      - name: credit-risk-distilroberta
        results:
          - task: {type: text-classification, name: Text Classification}
            dataset: {type: glue, name: GLUE SST-2, config: sst2, split: validation}
            metrics:
              - {type: accuracy, value: 0.912, name: Accuracy}

`model-index` is required. Each entry of each model's `results` becomes an item:

* `task` is `task.type`;
* `benchmark` is `{"name": dataset.name, else dataset.type, "config": dataset.config or "",
  "split": dataset.split or ""}`;
* `scores` are keyed by `metrics[].type`; when a type appears more than once in one result
  each occurrence is keyed `<type>,<config>` and needs its own `config`. Each score is
  `{"value", "higher_is_better"}`, the direction from `evaluations.importers.scores` (the
  known names of docs/evidence.md, then the loss/error/wer/cer/perplexity rule). A known
  proportion (`accuracy`, `f1`, ...) must lie in [0, 1]: a percentage is refused.

Provenance: tool "huggingface-model-card"; a card states no date, commit or tool version.
The label is "<task.type> on <benchmark name>".
"""

from collections import Counter
from typing import Any

import yaml

from evaluations.importers.base import (
    ImportedItem,
    ImportFormatError,
    expect_list,
    expect_object,
    expect_string,
    member,
)
from evaluations.importers.scores import higher_is_better, score, score_value

TOOL_NAME = "huggingface-model-card"


def import_model_card(payload: Any, *, min_group_size: int = 30) -> list[ImportedItem]:
    """Read a model card's `model-index` into one `performance` item per result.

    `min_group_size` is accepted for a uniform importer signature; there are no groups here.

    Raises
    ------
    ImportFormatError
        When the card is not YAML, or departs from the model-index shape.
    """
    card = _card(payload)
    models = expect_list(member(card, "model-index", ""), "/model-index")
    items = []
    for m, model in enumerate(models):
        pointer = f"/model-index/{m}"
        results = expect_list(
            member(expect_object(model, pointer), "results", pointer), f"{pointer}/results"
        )
        items += [_item(result, f"{pointer}/results/{r}") for r, result in enumerate(results)]
    if not items:
        raise ImportFormatError("/model-index", "lists no results")
    return items


def _card(payload: Any) -> dict[str, Any]:
    """The card's metadata as a dict, from text or an already-parsed dict."""
    if isinstance(payload, str):
        try:
            payload = yaml.safe_load(_front_matter(payload))
        except yaml.YAMLError as exc:
            raise ImportFormatError("", f"the card's metadata is not valid YAML: {exc}") from exc
    if not isinstance(payload, dict):
        raise ImportFormatError("", "expected a model card (YAML front matter holding a mapping)")
    return payload


def _front_matter(text: str) -> str:
    """The YAML between the opening and closing `---` lines, or the whole text without them."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return text
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return "\n".join(lines[1:end])
    raise ImportFormatError("", "the YAML front matter opened by `---` is never closed")


def _item(result: Any, pointer: str) -> ImportedItem:
    entry = expect_object(result, pointer)
    task = expect_object(member(entry, "task", pointer), f"{pointer}/task")
    task_type = expect_string(member(task, "type", f"{pointer}/task"), f"{pointer}/task/type")
    benchmark = _benchmark(member(entry, "dataset", pointer), f"{pointer}/dataset")
    scores = _scores(member(entry, "metrics", pointer), f"{pointer}/metrics")
    return ImportedItem(
        kind="performance",
        metrics={"task": task_type, "benchmark": benchmark, "scores": scores},
        label=f"{task_type} on {benchmark['name']}",
        tool_name=TOOL_NAME,
    )


def _benchmark(value: Any, pointer: str) -> dict[str, str]:
    dataset = expect_object(value, pointer)
    name = dataset.get("name") or member(dataset, "type", pointer)
    return {
        "name": _text(name, f"{pointer}/name" if dataset.get("name") else f"{pointer}/type"),
        "config": _text(dataset.get("config"), f"{pointer}/config"),
        "split": _text(dataset.get("split"), f"{pointer}/split"),
    }


def _scores(value: Any, pointer: str) -> dict[str, Any]:
    entries = [
        expect_object(entry, f"{pointer}/{i}")
        for i, entry in enumerate(expect_list(value, pointer))
    ]
    if not entries:
        raise ImportFormatError(pointer, "lists no metrics")
    types = [
        expect_string(member(e, "type", f"{pointer}/{i}"), f"{pointer}/{i}/type")
        for i, e in enumerate(entries)
    ]
    repeated = {name for name, times in Counter(types).items() if times > 1}
    scores: dict[str, Any] = {}
    for i, (entry, metric_type) in enumerate(zip(entries, types, strict=True)):
        at = f"{pointer}/{i}"
        key = metric_type
        if metric_type in repeated:
            # Two f1 scores (say macro and weighted) stay apart only by their config.
            config = _text(member(entry, "config", at), f"{at}/config")
            key = f"{metric_type},{config}"
        if key in scores:
            raise ImportFormatError(at, f"metric {key!r} appears twice")
        value = score_value(metric_type, member(entry, "value", at), f"{at}/value")
        scores[key] = score(value, higher=higher_is_better(metric_type))
    return scores


def _text(value: Any, pointer: str) -> str:
    """A YAML scalar as text (YAML reads `config: 2019` as a number); null → ""."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ImportFormatError(pointer, "expected a string")
    return str(value)
