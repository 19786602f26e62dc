"""Efficiency of a model: latency, throughput, memory, energy, emissions and cost.

`efficiency_metrics` times a model on batches built from sample rows and returns the
`metrics` object of an `efficiency` evidence document. For each batch size b it makes one
batch of b rows (the rows of x in order, starting again from the first when x has fewer
than b), runs it `warmup` times untimed, then `repeats` times timed::

    t_i              = clock() after run i - clock() before run i      (seconds)
    pXX_ms           = numpy.percentile(1000 * t, XX)                  (XX = 50, 95, 99)
    throughput_per_s = b / mean(t)                                     (for that batch size)

numpy's default percentile method is linear interpolation between the two nearest of the
sorted timings (Hyndman and Fan's definition 7), so with the default 50 repeats p99 lies
between the two slowest runs. The overall `throughput_per_s` is the best of the batch
sizes' throughputs: what the hardware sustains when the caller batches well.

A model with a torch `module` is timed through `module(batch)` on a tensor already on the
device (no host transfers), under `torch.inference_mode()`, in eval mode, with
`torch.cuda.synchronize` before each clock reading on a GPU; the module's device and
train/eval modes are restored afterwards. A predict-only model (onnxruntime, numpy) is
timed through `predict(batch)`, conversions included, on the CPU. CPU timings depend on
torch's intra-op threads (`torch.get_num_threads()`) and on the runtime's own settings,
which the schema has no field for: the caller fixes them before measuring.

`peak_memory_bytes` is the working memory the runs needed on top of what was already held
(the loaded model and the sample rows), measured over every batch size, warm-up included:

* GPU: `torch.cuda.max_memory_allocated` after `reset_peak_memory_stats`, less the memory
  allocated when the runs began. It sees torch's allocations only.
* CPU (Linux): writing "5" to /proc/self/clear_refs resets the process's peak resident set
  (VmHWM) to its current one (VmRSS); the value is VmHWM after the runs less VmRSS before
  them. It counts the whole process, so other threads' allocations meanwhile are counted
  too, and the first runs' one-time costs (thread pools, kernel caches) are included.
* CPU, where clear_refs cannot be written: `resource.getrusage` gives only the peak over
  the process's life, so the value is how much that peak rose during the runs (a lower
  bound), and is left out when it did not rise (the runs' peak is then unknown).

Energy, emissions and cost are per 1,000 inferences at the best batch size, so that runs
with different repeats or sample sizes compare, and match `cost_per_1000_inferences`::

    energy_kwh = power_watts * (1000 / throughput_per_s) / 3.6e6
    co2e_kg    = energy_kwh * grid_gco2e_per_kwh / 1000
    cost       = energy_kwh * price per kWh

`power_watts` is the draw the caller measured or rated for the hardware while it runs
the model; without it no energy, emissions or cost are reported: riskreg never guesses a
power figure.
"""

import contextlib
import itertools
import math
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch  # noqa: TID251 - torch's home: the efficiency engine
from numpy.typing import NDArray

Progress = Callable[[float], None]
Clock = Callable[[], float]
Call = Callable[[], object]

# Energy, emissions and cost are reported per this many inferences.
PER_INFERENCES = 1000
_JOULES_PER_KWH = 3.6e6
_GRAMS_PER_KG = 1000.0
_PERCENTILES = (50, 95, 99)
# The schema's free-text fields hold at most 300 characters.
_TEXT_LIMIT = 300
_CPUINFO = Path("/proc/cpuinfo")
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


class Runnable(Protocol):
    """A loaded model: a torch module (or None for onnxruntime), predict, and its size."""

    @property
    def module(self) -> torch.nn.Module | None: ...

    def predict(self, x: NDArray[np.float32]) -> NDArray[np.float32]: ...

    @property
    def parameters(self) -> int: ...

    @property
    def size_bytes(self) -> int: ...


def efficiency_metrics(
    model: Runnable,
    x: NDArray[np.float32],
    *,
    batch_sizes: Sequence[int] = (1, 32, 256),
    repeats: int = 50,
    warmup: int = 5,
    power_watts: float | None = None,
    grid_gco2e_per_kwh: float | None = None,
    price_per_kwh: tuple[float, str] | None = None,
    device: str | None = None,
    clock: Clock = time.perf_counter,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Latency per batch size, throughput, size, memory and energy of `model` on rows of `x`.

    Parameters
    ----------
    x : array of shape (n, ...)
        Sample input rows (n >= 1), as `model.predict` takes them; converted to float32.
    batch_sizes : sequence of int
        The batch sizes to time, each >= 1, without repeats.
    repeats, warmup : int
        Timed runs (>= 1) and untimed runs before them (>= 0), per batch size.
    power_watts : float, optional
        Power drawn while the model runs (> 0), for energy, emissions and cost.
    grid_gco2e_per_kwh : float, optional
        Carbon intensity of the electricity (>= 0), in grams CO2e per kWh; needs power.
    price_per_kwh : (amount, currency), optional
        Price of a kWh (>= 0) and its ISO 4217 code ("EUR"); needs power.
    device : str, optional
        "cpu" or "cuda[:index]" for a torch module; by default cuda when available. A
        predict-only model runs on the CPU.
    clock : callable
        Seconds, read right before and right after each timed run and nowhere else.
    progress : callable, optional
        Called with the fraction of batch sizes done after each one.

    Raises
    ------
    ValueError
        On bad input or options; the message names the value.
    """
    rows = _rows(x)
    sizes = _batch_sizes(batch_sizes)
    _check_whole("repeats", repeats, 1)
    _check_whole("warmup", warmup, 0)
    _check_energy_options(power_watts, grid_gco2e_per_kwh, price_per_kwh)
    module = model.module
    target = _device(module, device)
    latency = []
    with _placed(module, target), _inference(module):
        baseline = _memory_start(target)
        for done, size in enumerate(sizes, start=1):
            call = _call(model, module, _batch(rows, size), target)
            latency.append(_latency(call, size, repeats=repeats, warmup=warmup, clock=clock))
            if progress is not None:
                progress(done / len(sizes))
        peak = _memory_peak(target, baseline)
    best = max(entry["throughput_per_s"] for entry in latency)
    metrics: dict[str, Any] = {
        "hardware": _hardware(target),
        "latency": latency,
        "throughput_per_s": best,
        "parameter_count": int(model.parameters),
        "model_size_bytes": int(model.size_bytes),
    }
    if peak is not None:
        metrics["peak_memory_bytes"] = peak
    metrics.update(_energy(best, power_watts, grid_gco2e_per_kwh, price_per_kwh))
    return metrics


def _latency(call: Call, size: int, *, repeats: int, warmup: int, clock: Clock) -> dict[str, Any]:
    """One batch size's percentiles (ms) and throughput (rows per second)."""
    for _ in range(warmup):
        call()
    seconds = np.empty(repeats, dtype=np.float64)
    for i in range(repeats):
        start = clock()
        call()
        seconds[i] = clock() - start
    shortest, mean = float(seconds.min()), float(seconds.mean())
    if not (shortest >= 0 and mean > 0 and math.isfinite(mean)):
        raise ValueError(
            f"clock must advance during each run; at batch size {size} it measured "
            f"{shortest!r} s at least and {mean!r} s on average"
        )
    milliseconds = seconds * 1000.0
    p50, p95, p99 = (float(np.percentile(milliseconds, q)) for q in _PERCENTILES)
    return {
        "batch_size": size,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "throughput_per_s": size / mean,
    }


def _energy(
    throughput: float,
    power_watts: float | None,
    grid_gco2e_per_kwh: float | None,
    price_per_kwh: tuple[float, str] | None,
) -> dict[str, Any]:
    """Energy, emissions and cost of PER_INFERENCES inferences at `throughput` per second."""
    if power_watts is None:
        return {}
    energy = power_watts * (PER_INFERENCES / throughput) / _JOULES_PER_KWH
    result: dict[str, Any] = {"energy_kwh": energy}
    if grid_gco2e_per_kwh is not None:
        result["co2e_kg"] = energy * grid_gco2e_per_kwh / _GRAMS_PER_KG
    if price_per_kwh is not None:
        amount, currency = price_per_kwh
        result["cost_per_1000_inferences"] = {"amount": energy * amount, "currency": currency}
    return result


# Inputs and options.


def _rows(x: NDArray[np.float32]) -> NDArray[np.float32]:
    rows = np.asarray(x, dtype=np.float32)
    if rows.ndim == 0 or rows.shape[0] == 0:
        raise ValueError(f"x must hold at least one row, got shape {rows.shape}")
    bad = ~np.isfinite(rows)
    if bad.any():
        row = int(np.unravel_index(int(np.flatnonzero(bad)[0]), rows.shape)[0])
        raise ValueError(f"x has NaN or an infinite value at row {row}")
    return rows


def _batch_sizes(batch_sizes: Sequence[int]) -> list[int]:
    sizes = list(batch_sizes)
    if not sizes:
        raise ValueError("batch_sizes must name at least one batch size, got none")
    for size in sizes:
        _check_whole("batch size", size, 1)
    repeated = [size for size in sizes if sizes.count(size) > 1]
    if repeated:
        raise ValueError(f"batch_sizes must not repeat a size, got {repeated[0]!r} twice")
    return [int(size) for size in sizes]


def _check_whole(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")


def _check_number(name: str, value: object, *, positive: bool) -> None:
    bound = "> 0" if positive else "≥ 0"
    problem = ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise problem
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise problem


def _check_energy_options(
    power_watts: float | None,
    grid_gco2e_per_kwh: float | None,
    price_per_kwh: tuple[float, str] | None,
) -> None:
    if power_watts is not None:
        _check_number("power_watts", power_watts, positive=True)
    if grid_gco2e_per_kwh is not None:
        _check_number("grid_gco2e_per_kwh", grid_gco2e_per_kwh, positive=False)
        if power_watts is None:
            raise ValueError(
                "grid_gco2e_per_kwh needs power_watts: emissions follow from the energy, "
                "which needs the power drawn"
            )
    if price_per_kwh is not None:
        if not isinstance(price_per_kwh, tuple) or len(price_per_kwh) != 2:
            raise ValueError(f"price_per_kwh must be (amount, currency), got {price_per_kwh!r}")
        amount, currency = price_per_kwh
        _check_number("price_per_kwh amount", amount, positive=False)
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValueError(f"price_per_kwh currency must be an ISO 4217 code, got {currency!r}")
        if power_watts is None:
            raise ValueError(
                "price_per_kwh needs power_watts: the cost follows from the energy, "
                "which needs the power drawn"
            )


def _device(module: torch.nn.Module | None, device: str | None) -> torch.device:
    """The device to run on: `device`, else cuda for a module when available, else cpu."""
    if device is None:
        device = "cuda" if module is not None and torch.cuda.is_available() else "cpu"
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be cpu or cuda, got {device!r}") from error
    if chosen.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be cpu or cuda, got {device!r}")
    if chosen.type == "cpu":
        return chosen
    if module is None:
        raise ValueError(
            f"device {device!r} needs a torch module: a predict-only model runs on cpu"
        )
    if not torch.cuda.is_available():
        raise ValueError(f"device {device!r} is not available: torch sees no CUDA device")
    index = chosen.index if chosen.index is not None else torch.cuda.current_device()
    return torch.device("cuda", index)


# Running.


def _batch(rows: NDArray[np.float32], size: int) -> NDArray[np.float32]:
    """`size` rows of `rows` in order, starting again from the first when they run out."""
    batch: NDArray[np.float32] = rows[np.arange(size) % rows.shape[0]]
    return batch


def _call(
    model: Runnable,
    module: torch.nn.Module | None,
    batch: NDArray[np.float32],
    device: torch.device,
) -> Call:
    """What one timed run does: the module's forward pass, or predict."""
    if module is None:
        return lambda: model.predict(batch)
    tensor = torch.from_numpy(batch).to(device=device, dtype=_input_dtype(module))
    if device.type != "cuda":
        return lambda: module(tensor)

    def forward_and_wait() -> None:
        module(tensor)
        # CUDA runs asynchronously: wait for the kernels before the clock is read.
        torch.cuda.synchronize(device)

    return forward_and_wait


def _input_dtype(module: torch.nn.Module) -> torch.dtype:
    """The module's floating-point type (its first floating parameter's), else float32."""
    for parameter in itertools.chain(module.parameters(), module.buffers()):
        if parameter.is_floating_point():
            return parameter.dtype
    return torch.float32


@contextlib.contextmanager
def _placed(module: torch.nn.Module | None, device: torch.device) -> Iterator[None]:
    """The module on `device` in eval mode; its device and modes restored on leaving."""
    if module is None:
        yield
        return
    tensors = itertools.chain(module.parameters(), module.buffers())
    home = next((tensor.device for tensor in tensors), torch.device("cpu"))
    modes = [(part, part.training) for part in module.modules()]
    module.to(device)
    module.eval()
    try:
        yield
    finally:
        for part, training in modes:
            part.training = training
        module.to(home)


def _inference(module: torch.nn.Module | None) -> contextlib.AbstractContextManager[Any]:
    if module is None:
        return contextlib.nullcontext()
    return torch.inference_mode()


# Memory.


@dataclass(frozen=True)
class _Baseline:
    """Memory held when the runs began, and how the peak is to be read."""

    method: Literal["cuda", "hwm", "maxrss"]
    bytes: int


def _memory_start(device: torch.device) -> _Baseline | None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return _Baseline("cuda", torch.cuda.memory_allocated(device))
    try:
        # "5" resets the peak resident set (VmHWM) to the current one (Linux ≥ 4.0).
        _CLEAR_REFS.write_text("5")
        return _Baseline("hwm", _status_bytes("VmRSS"))
    except (OSError, ValueError):
        pass
    lifetime_peak = _max_rss_bytes()
    return None if lifetime_peak is None else _Baseline("maxrss", lifetime_peak)


def _memory_peak(device: torch.device, baseline: _Baseline | None) -> int | None:
    """Bytes the runs needed beyond the baseline; None where that cannot be known."""
    if baseline is None:
        return None
    if baseline.method == "cuda":
        return max(torch.cuda.max_memory_allocated(device) - baseline.bytes, 0)
    if baseline.method == "hwm":
        try:
            return max(_status_bytes("VmHWM") - baseline.bytes, 0)
        except (OSError, ValueError):
            return None
    lifetime_peak = _max_rss_bytes()
    if lifetime_peak is None or lifetime_peak <= baseline.bytes:
        return None
    return lifetime_peak - baseline.bytes


def _status_bytes(field: str) -> int:
    """A kB field of /proc/self/status, in bytes."""
    for line in _STATUS.read_text("ascii").splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0]) * 1024
    raise ValueError(f"{_STATUS} has no {field}")


def _max_rss_bytes() -> int | None:
    """The process's lifetime peak resident set, or None where the platform lacks it."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * scale


# Hardware.


def _hardware(device: torch.device) -> dict[str, Any]:
    """The hardware record: the GPU when running on one, else the CPU and the machine's RAM."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return {
            "device": "gpu",
            "name": _text(torch.cuda.get_device_name(device), "unknown GPU"),
            "accelerator": _text(
                f"compute capability {props.major}.{props.minor}, "
                f"{props.multi_processor_count} multiprocessors",
                "unknown",
            ),
            "memory_bytes": int(props.total_memory),
            "edge_device": False,
        }
    hardware: dict[str, Any] = {"device": "cpu", "name": _cpu_name()}
    memory = _ram_bytes()
    if memory is not None:
        hardware["memory_bytes"] = memory
    hardware["edge_device"] = False
    return hardware


def _cpu_name() -> str:
    """/proc/cpuinfo's model name, else platform.processor(), else platform.machine()."""
    try:
        for line in _CPUINFO.read_text("utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return _text(value, "unknown CPU")
    except OSError:
        pass
    return _text(platform.processor() or platform.machine(), "unknown CPU")


def _ram_bytes() -> int | None:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # no sysconf, or no such name here
        return None
    return total if total > 0 else None


def _text(value: str, fallback: str) -> str:
    return value.strip()[:_TEXT_LIMIT].strip() or fallback
