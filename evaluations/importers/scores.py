"""Score directions and score objects for `performance` items.

docs/evidence.md fixes the direction of a few well-known score names; other tools use many
more. For a name outside that table the direction comes from the tool when it states one,
else from `higher_is_better(name)`:

* lower is better when the name contains `loss`, `error`, `perplexity`, `latency` or
  `brier` anywhere (`val_loss`, `logloss`, `mean_absolute_error`), or has a word `mae`, `mse`,
  `rmse`, `wer` or `cer` (words are separated by anything but letters and digits, so
  `answer_f1` is not a `wer`);
* higher is better otherwise.
"""

import re
from typing import Any

from evaluations.importers.base import expect_number, expect_rate

KNOWN_DIRECTIONS: dict[str, bool] = {
    **dict.fromkeys(
        [
            "accuracy",
            "f1",
            "roc_auc",
            "precision",
            "recall",
            "balanced_accuracy",
            "average_precision",
            "exact_match",
            "bleu",
            "rouge_l",
            "r2",
        ],
        True,
    ),
    **dict.fromkeys(
        [
            "log_loss",
            "mae",
            "mse",
            "rmse",
            "perplexity",
            "word_perplexity",
            "bits_per_byte",
            "wer",
            "cer",
        ],
        False,
    ),
}

# The known names that are proportions: the evidence schema holds them to [0, 1].
KNOWN_RATES = frozenset(
    {
        "accuracy",
        "f1",
        "roc_auc",
        "precision",
        "recall",
        "balanced_accuracy",
        "average_precision",
        "exact_match",
        "rouge_l",
    }
)

_LOWER_SUBSTRINGS = ("loss", "error", "perplexity", "latency", "brier")
# Short abbreviations match only as whole words: "wer" hides inside "answer" and "power".
_LOWER_WORDS = frozenset({"mae", "mse", "rmse", "wer", "cer"})


def higher_is_better(name: str) -> bool:
    """Whether a larger value of the score `name` is better (see the module docstring)."""
    if name in KNOWN_DIRECTIONS:
        return KNOWN_DIRECTIONS[name]
    lowered = name.lower()
    if any(part in lowered for part in _LOWER_SUBSTRINGS):
        return False
    words = set(re.split(r"[^a-z0-9]+", lowered))
    return not words & _LOWER_WORDS


def score_value(name: str, value: Any, pointer: str) -> float | int:
    """value as a finite number, held to [0, 1] when `name` is a known proportion."""
    if name in KNOWN_RATES:
        return expect_rate(value, pointer)
    return expect_number(value, pointer)


def score(
    value: float | int, *, higher: bool, interval: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A score object `{"value", "higher_is_better", "interval"?}`."""
    entry: dict[str, Any] = {"value": value, "higher_is_better": higher}
    if interval is not None:
        entry["interval"] = interval
    return entry
