"""Robustness: the engine's FGSM and PGD curves against a bare torch loop of the same attacks.

The model is the demo classifier (`digits.train_digits_cnn`, trained here at start, nothing
cached on disk); the data are its 360 test digits repeated REPEATS times (3,600 examples).
Ours: `robustness_metrics` through the native torch path (`TorchClassifier`), L∞ only
(BUDGETS, PGD_STEPS steps, no random start), no corruptions, inputs clipped to [0, 1],
batches of BATCH. Reference: a hand-written loop doing the same: per batch the clean
predictions, one input gradient of the summed cross-entropy for FGSM at every budget, and
PGD_STEPS projected sign steps per budget, counting correct predictions and decision flips.
Both run on the device the engine picks (CUDA when there is one). Before timing, the
reference's counts must equal the engine's curve points, else the benchmark fails.
"""

from typing import Any

import numpy as np
import torch  # noqa: TID251 - the reference is a bare torch loop
from torch.nn import functional  # noqa: TID251 - the reference is a bare torch loop

from bench.timing import Result, compare
from evaluations.assessments.digits import train_digits_cnn
from evaluations.assessments.robustness import TorchClassifier, robustness_metrics

BUDGETS = (0.01, 0.03, 0.1)
PGD_STEPS = 10
BATCH = 256
REPEATS = 10
BOUNDS = (0.0, 1.0)

Counts = dict[tuple[str, float], tuple[int, int]]


def _ours(module: torch.nn.Module, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> Counts:
    metrics = robustness_metrics(
        TorchClassifier(module),
        x,
        y,
        linf_budgets=BUDGETS,
        l2_budgets=(),
        pgd_steps=PGD_STEPS,
        noise_severities=(),
        dropout_severities=(),
        input_bounds=BOUNDS,
        batch_size=BATCH,
    )
    size = metrics["size"]
    return {
        (curve["name"], point["budget"]): (
            round(point["accuracy"] * size),
            round(point["decision_flip_rate"] * size),
        )
        for curve in metrics["perturbations"]
        for point in curve["points"]
    }


def _loss_gradient(module: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(functional.cross_entropy(module(x), y, reduction="sum"), x)
    return grad


def _bare_loop(module: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> Counts:
    sums: dict[tuple[str, float], torch.Tensor] = {}

    def count(
        key: tuple[str, float], adv: torch.Tensor, yb: torch.Tensor, clean: torch.Tensor
    ) -> None:
        with torch.no_grad():
            found = module(adv).argmax(1)
        counts = torch.stack(((found == yb).sum(), (found != clean).sum()))
        sums[key] = sums[key] + counts if key in sums else counts

    for start in range(0, len(x), BATCH):
        xb, yb = x[start : start + BATCH], y[start : start + BATCH]
        with torch.no_grad():
            clean = module(xb).argmax(1)
        step = _loss_gradient(module, xb, yb).sign()
        for eps in BUDGETS:
            count(("fgsm", eps), (xb + eps * step).clamp(*BOUNDS), yb, clean)
        for eps in BUDGETS:
            alpha, adv = 2.5 * eps / PGD_STEPS, xb
            for _ in range(PGD_STEPS):
                step = _loss_gradient(module, adv, yb).sign()
                adv = (xb + (adv + alpha * step - xb).clamp(-eps, eps)).clamp(*BOUNDS)
            count(("pgd", eps), adv, yb, clean)
    return {key: (int(total[0]), int(total[1])) for key, total in sums.items()}


def run() -> list[Result]:
    demo = train_digits_cnn(seed=0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    module = demo.module.eval().requires_grad_(False).to(device)
    x = np.concatenate([demo.x_test] * REPEATS)
    y = np.concatenate([demo.y_test] * REPEATS)
    x_on, y_on = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    ours, reference = _ours(module, x, y), _bare_loop(module, x_on, y_on)
    if ours != reference:
        raise RuntimeError(f"robustness: the engine's counts {ours} differ from {reference}")
    threads = torch.get_num_threads()
    results = []
    # On a CPU, also with one intra-op thread: with two, another process on the same cores
    # makes torch's threads wait for each other, and single calls vary tenfold.
    for count in [threads] if device.type == "cuda" or threads == 1 else [threads, 1]:
        torch.set_num_threads(count)
        name = (
            f"robustness_metrics FGSM + PGD L∞ ({len(BUDGETS)} budgets, {PGD_STEPS} steps, "
            f"{len(y):,} digits, batch {BATCH}, {device.type}, "
            f"{count} thread{'s' if count > 1 else ''})"
        )
        try:
            results.append(
                compare(
                    name,
                    lambda: _ours(module, x, y),
                    "bare torch loop of the same attacks",
                    lambda: _bare_loop(module, x_on, y_on),
                    goal=1.1,
                    rounds=9,
                )
            )
        finally:
            torch.set_num_threads(threads)
    return results
