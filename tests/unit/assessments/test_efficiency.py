"""The efficiency engine: latency math on a scripted clock, energy, memory, hardware, errors."""

import platform
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch  # noqa: TID251 - the efficiency engine's models are torch modules

from evaluations.assessments import efficiency
from evaluations.assessments.efficiency import PER_INFERENCES, efficiency_metrics
from evaluations.validation import validate_document

ENVELOPE = {"kind": "efficiency", "schema_version": "1.0", "system": "x", "context": "evaluation"}
ROWS = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
MIB = 1 << 20


class TorchModel:
    """A Runnable around a torch module, as the model loaders build one."""

    def __init__(self, net):
        self.net = net

    @property
    def module(self):
        return self.net

    def predict(self, x):
        with torch.inference_mode():
            return self.net(torch.from_numpy(x)).numpy()

    @property
    def parameters(self):
        return sum(p.numel() for p in self.net.parameters())

    @property
    def size_bytes(self):
        return sum(p.numel() * p.element_size() for p in self.net.parameters())


class NumpyModel:
    """A predict-only Runnable (as onnxruntime gives): a linear map that records its batches."""

    module = None
    parameters = 8
    size_bytes = 32

    def __init__(self):
        self.weights = np.arange(8, dtype=np.float32).reshape(4, 2)
        self.batches = []

    def predict(self, x):
        self.batches.append(x.copy())
        return x @ self.weights


class Probe(torch.nn.Module):
    """A module that records, on each forward pass, its mode, inference mode and input."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 2)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, torch.is_inference_mode_enabled(), x.shape, x.dtype))
        return self.linear(x)


def _mlp():
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))


def _scripted_clock(durations_per_batch_size):
    """A clock that reads start and end times giving exactly these durations, in order."""
    times, now = [], 10.0
    for durations in durations_per_batch_size:
        for duration in durations:
            times += [now, now + duration]
            now += duration + 0.125
    readings = iter(times)

    def clock():
        return next(readings)

    clock.unread = lambda: list(readings)
    return clock, times


def test_percentiles_and_throughput_equal_numpy_on_a_scripted_clock():
    clock, times = _scripted_clock([[0.004, 0.001, 0.003, 0.010, 0.002, 0.007, 0.005]])
    metrics = efficiency_metrics(
        NumpyModel(), ROWS, batch_sizes=(3,), repeats=7, warmup=2, clock=clock
    )
    seconds = np.array(times[1::2]) - np.array(times[0::2])
    milliseconds = seconds * 1000.0
    assert metrics["latency"] == [
        {
            "batch_size": 3,
            "p50_ms": np.percentile(milliseconds, 50),
            "p95_ms": np.percentile(milliseconds, 95),
            "p99_ms": np.percentile(milliseconds, 99),
            "throughput_per_s": 3 / seconds.mean(),
        }
    ]
    assert metrics["throughput_per_s"] == 3 / seconds.mean()
    # Read twice per timed run, never during warm-up.
    assert clock.unread() == []


def test_every_batch_size_gets_its_own_percentiles_and_throughput():
    durations = [[0.004, 0.001, 0.003, 0.010], [0.020, 0.035, 0.021, 0.050]]
    clock, times = _scripted_clock(durations)
    metrics = efficiency_metrics(
        NumpyModel(), ROWS, batch_sizes=(1, 8), repeats=4, warmup=1, clock=clock
    )
    seconds = np.array(times[1::2]) - np.array(times[0::2])
    timed = (seconds[:4], seconds[4:])
    for entry, size, measured in zip(metrics["latency"], (1, 8), timed, strict=True):
        milliseconds = measured * 1000.0
        assert entry == {
            "batch_size": size,
            "p50_ms": np.percentile(milliseconds, 50),
            "p95_ms": np.percentile(milliseconds, 95),
            "p99_ms": np.percentile(milliseconds, 99),
            "throughput_per_s": size / measured.mean(),
        }
    assert metrics["throughput_per_s"] == metrics["latency"][1]["throughput_per_s"]


def test_percentiles_interpolate_linearly_between_the_sorted_timings():
    clock, _ = _scripted_clock([[0.004, 0.001, 0.010, 0.003, 0.002]])
    entry = efficiency_metrics(NumpyModel(), ROWS, batch_sizes=(1,), repeats=5, clock=clock)[
        "latency"
    ][0]
    # Sorted: 1, 2, 3, 4, 10 ms; percentile q sits at position q/100 * 4 of them.
    assert entry["p50_ms"] == pytest.approx(3.0)
    assert entry["p95_ms"] == pytest.approx(4 + 0.8 * 6)
    assert entry["p99_ms"] == pytest.approx(4 + 0.96 * 6)
    assert entry["throughput_per_s"] == pytest.approx(1 / 0.004)


def test_overall_throughput_is_the_best_batch_size_even_when_it_is_not_the_largest():
    clock, _ = _scripted_clock([[0.5, 0.5], [0.25, 0.25], [4.0, 4.0]])
    metrics = efficiency_metrics(
        NumpyModel(), ROWS, batch_sizes=(1, 4, 8), repeats=2, warmup=0, clock=clock
    )
    assert [entry["throughput_per_s"] for entry in metrics["latency"]] == [2.0, 16.0, 2.0]
    assert metrics["throughput_per_s"] == 16.0


def test_energy_emissions_and_cost_are_per_thousand_inferences_at_the_best_batch_size():
    # Batch 1 at 4 rows/s, batch 4 at 8 rows/s: 1,000 inferences take 125 s at 100 W.
    clock, _ = _scripted_clock([[0.25, 0.25], [0.5, 0.5]])
    metrics = efficiency_metrics(
        NumpyModel(),
        ROWS,
        batch_sizes=(1, 4),
        repeats=2,
        power_watts=100.0,
        grid_gco2e_per_kwh=400.0,
        price_per_kwh=(0.30, "EUR"),
        clock=clock,
    )
    assert PER_INFERENCES == 1000
    assert metrics["energy_kwh"] == pytest.approx(100 * 125 / 3.6e6, rel=1e-12)
    assert metrics["energy_kwh"] == pytest.approx(0.0034722222, rel=1e-8)
    assert metrics["co2e_kg"] == pytest.approx(0.0034722222 * 400 / 1000, rel=1e-8)
    assert metrics["cost_per_1000_inferences"] == {
        "amount": pytest.approx(0.0034722222 * 0.30, rel=1e-8),
        "currency": "EUR",
    }


def test_only_what_the_caller_gave_figures_is_reported():
    clock, _ = _scripted_clock([[0.5]])
    plain = efficiency_metrics(NumpyModel(), ROWS, batch_sizes=(1,), repeats=1, clock=clock)
    assert not {"energy_kwh", "co2e_kg", "cost_per_1000_inferences"} & plain.keys()
    clock, _ = _scripted_clock([[0.5]])
    power_only = efficiency_metrics(
        NumpyModel(), ROWS, batch_sizes=(1,), repeats=1, power_watts=36.0, clock=clock
    )
    assert power_only["energy_kwh"] == pytest.approx(36 * 500 / 3.6e6, rel=1e-12)
    assert not {"co2e_kg", "cost_per_1000_inferences"} & power_only.keys()


def test_a_torch_model_with_every_figure_validates_against_the_efficiency_schema():
    metrics = efficiency_metrics(
        TorchModel(_mlp()),
        ROWS,
        batch_sizes=(1, 32),
        repeats=5,
        power_watts=65.0,
        grid_gco2e_per_kwh=300.0,
        price_per_kwh=(0.25, "USD"),
    )
    assert validate_document({**ENVELOPE, "metrics": metrics}) == []
    assert set(metrics) == {
        "hardware",
        "latency",
        "throughput_per_s",
        "parameter_count",
        "model_size_bytes",
        "peak_memory_bytes",
        "energy_kwh",
        "co2e_kg",
        "cost_per_1000_inferences",
    }


def test_a_predict_only_model_validates_against_the_efficiency_schema():
    model = NumpyModel()
    metrics = efficiency_metrics(model, ROWS, batch_sizes=(2, 3), repeats=3, warmup=1)
    assert validate_document({**ENVELOPE, "metrics": metrics}) == []
    assert [entry["batch_size"] for entry in metrics["latency"]] == [2, 3]
    assert (metrics["parameter_count"], metrics["model_size_bytes"]) == (8, 32)


def test_parameter_count_and_size_are_the_models_own():
    net = _mlp()
    metrics = efficiency_metrics(TorchModel(net), ROWS, batch_sizes=(1,), repeats=1, warmup=0)
    assert metrics["parameter_count"] == sum(p.numel() for p in net.parameters()) == 114
    assert metrics["model_size_bytes"] == 114 * 4


def test_a_torch_module_runs_in_eval_and_inference_mode_and_gets_its_modes_back():
    net = Probe()
    net.train()
    net.linear.eval()
    efficiency_metrics(TorchModel(net), ROWS, batch_sizes=(3,), repeats=2, warmup=1)
    assert net.seen == [(False, True, torch.Size([3, 4]), torch.float32)] * 3
    assert (net.training, net.linear.training) == (True, False)
    assert next(net.parameters()).device.type == "cpu"


def test_a_double_precision_module_gets_double_precision_batches():
    net = Probe().double()
    efficiency_metrics(TorchModel(net), ROWS, batch_sizes=(2,), repeats=1, warmup=0)
    assert net.seen[0][3] == torch.float64


def test_batches_cycle_through_the_rows_when_x_has_fewer():
    model = NumpyModel()
    efficiency_metrics(model, ROWS[:3], batch_sizes=(8,), repeats=1, warmup=0)
    np.testing.assert_array_equal(model.batches[0], ROWS[[0, 1, 2, 0, 1, 2, 0, 1]])


def test_batches_take_the_first_rows_when_x_has_more():
    model = NumpyModel()
    efficiency_metrics(model, ROWS, batch_sizes=(4,), repeats=1, warmup=0)
    np.testing.assert_array_equal(model.batches[0], ROWS[:4])


def test_each_batch_size_runs_warmup_then_the_timed_repeats():
    model = NumpyModel()
    efficiency_metrics(model, ROWS, batch_sizes=(1, 5), repeats=4, warmup=3)
    assert [len(batch) for batch in model.batches] == [1] * 7 + [5] * 7


def test_progress_is_reported_after_each_batch_size():
    fractions = []
    efficiency_metrics(
        NumpyModel(), ROWS, batch_sizes=(1, 2, 4, 8), repeats=1, progress=fractions.append
    )
    assert fractions == [0.25, 0.5, 0.75, 1.0]


def test_the_default_device_is_cuda_when_available_and_otherwise_the_cpu():
    metrics = efficiency_metrics(TorchModel(_mlp()), ROWS, batch_sizes=(1,), repeats=1)
    assert metrics["hardware"]["device"] == ("gpu" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize(
    ("x", "options", "message"),
    [
        (ROWS, {"batch_sizes": (1, 0)}, "batch size must be a whole number ≥ 1, got 0"),
        (ROWS, {"batch_sizes": (1.5,)}, "batch size must be a whole number ≥ 1, got 1.5"),
        (ROWS, {"batch_sizes": ()}, "batch_sizes must name at least one batch size"),
        (ROWS, {"batch_sizes": (2, 4, 2)}, "got 2 twice"),
        (ROWS, {"repeats": 0}, "repeats must be a whole number ≥ 1, got 0"),
        (ROWS, {"warmup": -1}, "warmup must be a whole number ≥ 0, got -1"),
        (ROWS[:0], {}, r"x must hold at least one row, got shape \(0, 4\)"),
        (np.float32(1.0), {}, r"x must hold at least one row, got shape \(\)"),
        (np.where(np.arange(40).reshape(10, 4) == 9, np.nan, ROWS), {}, "NaN .* at row 2"),
        (np.where(np.arange(40).reshape(10, 4) == 5, np.inf, ROWS), {}, "infinite .* at row 1"),
        (ROWS, {"power_watts": -5.0}, "power_watts must be a finite number > 0, got -5.0"),
        (ROWS, {"power_watts": 0}, "power_watts must be a finite number > 0, got 0"),
        (ROWS, {"power_watts": float("nan")}, "power_watts must be a finite number > 0, got nan"),
        (ROWS, {"power_watts": "65"}, "power_watts must be a finite number > 0, got '65'"),
        (ROWS, {"grid_gco2e_per_kwh": 300.0}, "grid_gco2e_per_kwh needs power_watts"),
        (
            ROWS,
            {"power_watts": 65.0, "grid_gco2e_per_kwh": -1.0},
            "grid_gco2e_per_kwh must be a finite number ≥ 0, got -1.0",
        ),
        (ROWS, {"price_per_kwh": (0.3, "EUR")}, "price_per_kwh needs power_watts"),
        (
            ROWS,
            {"power_watts": 65.0, "price_per_kwh": (0.3, "eur")},
            "currency must be an ISO 4217 code, got 'eur'",
        ),
        (
            ROWS,
            {"power_watts": 65.0, "price_per_kwh": (-0.3, "EUR")},
            "price_per_kwh amount must be a finite number ≥ 0, got -0.3",
        ),
        (ROWS, {"power_watts": 65.0, "price_per_kwh": 0.3}, "must be \\(amount, currency\\)"),
        (ROWS, {"device": "tpu"}, "device must be cpu or cuda, got 'tpu'"),
        (ROWS, {"device": "no such device"}, "device must be cpu or cuda, got 'no such device'"),
        (ROWS, {"device": "cuda"}, "device 'cuda' needs a torch module"),
    ],
)
def test_bad_inputs_and_options_raise_value_errors_naming_the_value(x, options, message):
    with pytest.raises(ValueError, match=message):
        efficiency_metrics(NumpyModel(), x, **options)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_is_refused_where_torch_sees_no_gpu():
    with pytest.raises(ValueError, match="device 'cuda:0' is not available"):
        efficiency_metrics(TorchModel(_mlp()), ROWS, device="cuda:0")


def test_a_clock_that_does_not_advance_is_refused():
    with pytest.raises(ValueError, match="clock must advance during each run; at batch size 1"):
        efficiency_metrics(NumpyModel(), ROWS, batch_sizes=(1,), repeats=3, clock=lambda: 7.0)


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="peak resident set reset is Linux's"
)
def test_peak_memory_grows_with_a_model_that_allocates_a_big_intermediate():
    small = efficiency_metrics(TorchModel(_mlp()), ROWS, batch_sizes=(256,), repeats=2)
    # Its output alone, 256 x 65,536 float32 values, is 64 MiB.
    wide = torch.nn.Linear(4, 65_536)
    big = efficiency_metrics(TorchModel(wide), ROWS, batch_sizes=(256,), repeats=2)
    assert type(small["peak_memory_bytes"]) is int
    assert small["peak_memory_bytes"] >= 0
    # Growth over what was resident when the runs began: pages the allocator already held
    # count as resident, so the figure can fall a little short of the output's 64 MiB.
    assert big["peak_memory_bytes"] >= 56 * MIB
    assert big["peak_memory_bytes"] - small["peak_memory_bytes"] >= 48 * MIB


def test_peak_memory_falls_back_to_the_rise_of_the_lifetime_peak(monkeypatch, tmp_path):
    monkeypatch.setattr(efficiency, "_CLEAR_REFS", tmp_path / "no-proc" / "clear_refs")
    readings = iter([100 * MIB, 164 * MIB])
    monkeypatch.setattr(efficiency, "_max_rss_bytes", lambda: next(readings))
    metrics = efficiency_metrics(NumpyModel(), ROWS, batch_sizes=(1,), repeats=1)
    assert metrics["peak_memory_bytes"] == 64 * MIB


def test_peak_memory_is_left_out_when_the_lifetime_peak_did_not_rise(monkeypatch, tmp_path):
    monkeypatch.setattr(efficiency, "_CLEAR_REFS", tmp_path / "no-proc" / "clear_refs")
    monkeypatch.setattr(efficiency, "_max_rss_bytes", lambda: 100 * MIB)
    metrics = efficiency_metrics(NumpyModel(), ROWS, batch_sizes=(1,), repeats=1)
    assert "peak_memory_bytes" not in metrics
    assert validate_document({**ENVELOPE, "metrics": metrics}) == []


def test_cpu_hardware_names_the_processor_and_the_machines_memory():
    hardware = efficiency_metrics(NumpyModel(), ROWS, batch_sizes=(1,), repeats=1)["hardware"]
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    if models:
        assert hardware["name"] == models[0]
    pages = efficiency.os.sysconf("SC_PHYS_PAGES") * efficiency.os.sysconf("SC_PAGE_SIZE")
    assert hardware == {
        "device": "cpu",
        "name": hardware["name"],
        "memory_bytes": pages,
        "edge_device": False,
    }


def test_the_cpu_name_falls_back_to_platform_without_cpuinfo(monkeypatch, tmp_path):
    monkeypatch.setattr(efficiency, "_CPUINFO", tmp_path / "cpuinfo")
    monkeypatch.setattr(platform, "processor", lambda: "")
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    assert efficiency._cpu_name() == "riscv64"
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nmodel name\t: Test CPU 9000\n")
    assert efficiency._cpu_name() == "Test CPU 9000"


def test_a_gpu_is_recorded_with_its_name_capability_and_memory(monkeypatch):
    # No GPU here: torch's answers are stood in for, to check the record's shape.
    properties = SimpleNamespace(
        major=9, minor=0, multi_processor_count=132, total_memory=150_000_000_000
    )
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: properties)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "NVIDIA H200")
    hardware = efficiency._hardware(torch.device("cuda", 0))
    assert hardware == {
        "device": "gpu",
        "name": "NVIDIA H200",
        "accelerator": "compute capability 9.0, 132 multiprocessors",
        "memory_bytes": 150_000_000_000,
        "edge_device": False,
    }
    latency = [{"batch_size": 1, "p50_ms": 1, "p95_ms": 1, "p99_ms": 1, "throughput_per_s": 1}]
    document = {**ENVELOPE, "metrics": {"hardware": hardware, "latency": latency}}
    assert validate_document(document) == []
