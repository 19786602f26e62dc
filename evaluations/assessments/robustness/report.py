"""The pieces of the robustness document's `metrics`: rates, points and perturbations."""

from typing import Any

from evaluations.assessments.intervals import Interval, wilson
from evaluations.assessments.robustness.inputs import Bounds

LEVEL = 0.95


def clean_accuracy(correct: int, size: int) -> dict[str, Any]:
    """Accuracy on the unperturbed data, with Wilson's score interval at LEVEL."""
    low, high = wilson(correct, size, level=LEVEL)
    return {"value": correct / size, "interval": Interval(low, high, LEVEL, "wilson").to_dict()}


def point(level: str, value: float, counts: tuple[int, int], size: int) -> dict[str, Any]:
    """One curve point; `level` is "budget" (attacks) or "severity" (corruptions).

    accuracy = correct / size and decision_flip_rate = flipped / size, where flipped counts
    the examples whose predicted class differs from their clean prediction.
    """
    correct, flipped = counts
    return {level: value, "accuracy": correct / size, "decision_flip_rate": flipped / size}


def perturbation(
    name: str,
    *,
    norm: str | None,
    parameters: dict[str, Any],
    points: list[dict[str, Any]],
    bounds: Bounds | None,
) -> dict[str, Any]:
    """One curve: an attack when it has a norm, a corruption when it has none."""
    entry: dict[str, Any] = {
        "name": name,
        "type": "corruption" if norm is None else "attack",
        "norm": norm,
        "parameters": parameters,
    }
    if bounds is not None:
        entry["input_bounds"] = {"low": bounds[0], "high": bounds[1]}
    return {**entry, "points": points}
