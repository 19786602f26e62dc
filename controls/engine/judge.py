"""One metric value against one threshold (docs/posture.md, "Judging a value").

For `at_least` with threshold t and partially-met band b >= 0:

    value v:        v >= t -> met;  t - b <= v < t -> partially met;  v < t - b -> not met
    interval [l,h]: l >= t -> met;  l < t <= h -> inconclusive (it straddles t);
                    h < t and l >= t - b -> partially met;  otherwise not met

`at_most` is the mirror image: values and the threshold are negated and the interval's
ends swap. Only 95% intervals are read; at other levels the value decides.
"""

import math
from dataclasses import dataclass
from typing import Any

from controls.engine.status import Status

AT_LEAST = "at_least"
AT_MOST = "at_most"
COMPARISONS = (AT_LEAST, AT_MOST)
INTERVAL_LEVEL = 0.95


@dataclass(frozen=True)
class Reading:
    """A metric as the document gives it: a value and, perhaps, its 95% interval."""

    value: float
    low: float | None = None
    high: float | None = None


def reading(raw: Any) -> Reading | None:
    """Parse a metric (a number, or {"value", "interval"}); None when it is null."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return Reading(float(raw))
    if not isinstance(raw, dict) or not isinstance(raw.get("value"), int | float):
        return None
    interval = raw.get("interval")
    if isinstance(interval, dict) and math.isclose(
        float(interval.get("level", 0)), INTERVAL_LEVEL, abs_tol=1e-9
    ):
        return Reading(float(raw["value"]), float(interval["low"]), float(interval["high"]))
    return Reading(float(raw["value"]))


def judge(found: Reading, *, compare: str, threshold: float, band: float = 0.0) -> Status:
    """The status of one reading against `threshold` (see the module docstring)."""
    if compare not in COMPARISONS:
        raise ValueError(f"compare must be one of {COMPARISONS}, got {compare!r}")
    if band < 0:
        raise ValueError(f"band must be >= 0, got {band!r}")
    sign = 1.0 if compare == AT_LEAST else -1.0
    t = sign * threshold
    if found.low is None or found.high is None:
        v = sign * found.value
        if v >= t:
            return Status.MET
        return Status.PARTIALLY_MET if v >= t - band else Status.NOT_MET
    low, high = sorted((sign * found.low, sign * found.high))
    if low >= t:
        return Status.MET
    if high >= t:
        return Status.INCONCLUSIVE
    return Status.PARTIALLY_MET if low >= t - band else Status.NOT_MET
