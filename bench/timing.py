"""Interleaved timing of a candidate against its reference, and peak memory of one call."""

import ctypes
import ctypes.util
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


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


# Peak memory of one call.
#
# What is measured: the process's resident set size (RSS, what the kernel holds in RAM for
# it: Python objects, numpy and Arrow buffers, every thread's allocations) at its highest
# during the call, minus the RSS when the call began. Inputs built before the call are
# therefore not counted; everything the call allocates and holds at once is, including
# what it returns. Linux only: the kernel's high-water mark (VmHWM in /proc/self/status)
# is reset to the current RSS by writing "5" to /proc/self/clear_refs just before the call.
#
# Memory a previous call freed but the allocators kept would be reused without raising
# RSS and hide part of the peak, so the process is first settled: a full garbage
# collection, Arrow's memory pool asked to return unused memory, and glibc's
# `malloc_trim(0)` returning free heap pages. Page granularity and allocator slack leave
# the figure a few MiB approximate.


@dataclass(frozen=True)
class Call:
    """One call: its wall time, and its peak RSS above the start (None where unmeasurable)."""

    ms: float
    peak_bytes: int | None


def measured_call(fn: Callable[[], T]) -> tuple[Call, T]:
    """Call fn once, timing it and measuring its peak resident memory (see above); the
    measurement and what fn returned."""
    _settle()
    peak_reset = _reset_peak()
    start_kib = _status_kib("VmRSS") if peak_reset else None
    start = time.perf_counter()
    value = fn()
    ms = (time.perf_counter() - start) * 1000
    high_kib = _status_kib("VmHWM") if start_kib is not None else None
    if start_kib is None or high_kib is None:
        return Call(ms, None), value
    return Call(ms, max(0, high_kib - start_kib) * 1024), value


def _settle() -> None:
    gc.collect()
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _load_libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - glibc only: fail here, not at the first call
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _load_libc()
