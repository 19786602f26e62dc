"""Interleaved timing of a candidate against its reference."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    name: str
    reference_name: str
    ours_ms: float
    reference_ms: float
    goal: float

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.reference_ms


def compare(
    name: str,
    ours: Callable[[], object],
    reference_name: str,
    reference: Callable[[], object],
    *,
    goal: float,
    rounds: int = 15,
) -> Result:
    """Median per-call time of ours and reference, alternating rounds so drift hits both."""
    ours_t: list[float] = []
    ref_t: list[float] = []
    for _ in range(rounds):
        for fn, out in ((ours, ours_t), (reference, ref_t)):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    return Result(name, reference_name, statistics.median(ours_t), statistics.median(ref_t), goal)
