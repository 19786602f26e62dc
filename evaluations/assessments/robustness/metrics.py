"""`robustness_metrics`: every curve of the robustness document, from a classifier and data."""

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import torch  # noqa: TID251 - torch's home: the robustness engine
from numpy.typing import NDArray

from evaluations.assessments.robustness import corruptions, report
from evaluations.assessments.robustness.attacks import NORMS, PGD, Batch, Norm, attack_counts
from evaluations.assessments.robustness.inputs import (
    Data,
    check_options,
    checked_data,
    checked_labels,
    checked_levels,
)
from evaluations.assessments.robustness.models import (
    Classifier,
    Labels,
    class_predictions,
    pick_device,
    prepared,
)

Progress = Callable[[float], None]
# Each corruption's draws and how its parameters describe them (see corruptions.py).
_CORRUPTIONS: dict[str, tuple[Callable[..., corruptions.Corrupted], dict[str, str]]] = {
    "gaussian_noise": (corruptions.gaussian_noise, {"scale": "feature_std"}),
    "feature_dropout": (corruptions.feature_dropout, {"fill": "feature_mean"}),
}


def robustness_metrics(
    model: Classifier,
    x: NDArray[np.float32],
    y: NDArray[np.int64],
    *,
    linf_budgets: Sequence[float] = (0.01, 0.03, 0.1),
    l2_budgets: Sequence[float] = (0.25, 0.5, 1.0),
    pgd_steps: int = 10,
    pgd_step_size: float | None = None,
    pgd_random_start: bool = False,
    noise_severities: Sequence[float] = (0.1, 0.25, 0.5, 1.0),
    dropout_severities: Sequence[float] = (0.1, 0.25, 0.5),
    input_bounds: tuple[float, float] | None = None,
    immutable_features: Sequence[int] = (),
    batch_size: int = 256,
    seed: int = 0,
    device: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The `metrics` object of a robustness document: clean accuracy and one curve per
    attack (FGSM, PGD; L∞ and L2) and corruption (Gaussian noise, feature dropout).

    See the package docstring for the formulas and conventions.

    Raises
    ------
    ValueError
        Naming the bad value: empty data, x and y of different lengths, NaN in x, labels
        outside the model's classes, a negative budget or severity, a dropout probability
        above 1, bounds with low > high or not containing x, an immutable feature index out
        of range, or nothing to measure.
    """
    data = checked_data(x, y, input_bounds=input_bounds, immutable_features=immutable_features)
    check_options(
        pgd_steps=pgd_steps, pgd_step_size=pgd_step_size, batch_size=batch_size, seed=seed
    )
    budgets = {
        "linf": checked_levels("linf_budgets", linf_budgets),
        "l2": checked_levels("l2_budgets", l2_budgets),
    }
    severities = {
        "gaussian_noise": checked_levels("noise_severities", noise_severities),
        "feature_dropout": checked_levels("dropout_severities", dropout_severities, at_most=1),
    }
    module = model.module
    attacked: dict[Norm, list[float]] = {
        norm: budgets[norm] for norm in NORMS if budgets[norm] and module is not None
    }
    if not attacked and not any(severities.values()):
        raise ValueError("nothing to measure: no attack budget applies and no severity is given")
    target = pick_device(device)
    settings = PGD(pgd_steps, pgd_step_size, pgd_random_start, seed)
    meter = _Meter(progress, math.ceil(data.size / batch_size), attacked, severities, settings)
    frozen: AbstractContextManager[Any] = (
        nullcontext() if module is None else prepared(module, target)
    )
    with frozen:
        clean, width = class_predictions(model, data.x, batch_size=batch_size, device=target)
        checked_labels(data.y, width)
        meter.advance(meter.batches)
        curves = [
            *_attack_curves(module, data, clean, attacked, settings, target, batch_size, meter),
            *_corruption_curves(model, data, clean, severities, seed, target, batch_size, meter),
        ]
    meter.finish()
    correct = int((clean == data.y).sum())
    return {
        "size": data.size,
        "clean_accuracy": report.clean_accuracy(correct, data.size),
        "perturbations": curves,
    }


def _attack_curves(
    module: torch.nn.Module | None,
    data: Data,
    clean: Labels,
    budgets: dict[Norm, list[float]],
    settings: PGD,
    device: torch.device,
    batch_size: int,
    meter: "_Meter",
) -> list[dict[str, Any]]:
    """FGSM and PGD curves, one per norm with budgets; none for a gradient-free model."""
    if module is None or not budgets:
        return []
    mask = None
    if not data.mutable.all():
        mask = torch.from_numpy(data.mutable.astype(np.float32)).view(1, *data.x.shape[1:])
        mask = mask.to(device)
    batches = _batches(data, clean, batch_size, device)
    counts = attack_counts(
        module,
        batches,
        budgets,
        settings=settings,
        mask=mask,
        bounds=data.bounds,
        advance=meter.advance,
    )
    fgsm = {"targeted": False, **_constraints(data)}
    pgd = {**_pgd_parameters(settings), **fgsm}
    return [
        report.perturbation(
            attack,
            norm=norm,
            parameters=parameters,
            points=[
                report.point("budget", eps, counts[attack, norm, eps], data.size) for eps in values
            ],
            bounds=data.bounds,
        )
        for attack, parameters in (("fgsm", fgsm), ("pgd", pgd))
        for norm, values in budgets.items()
    ]


def _corruption_curves(
    model: Classifier,
    data: Data,
    clean: Labels,
    severities: dict[str, list[float]],
    seed: int,
    device: torch.device,
    batch_size: int,
    meter: "_Meter",
) -> list[dict[str, Any]]:
    """Gaussian-noise and feature-dropout curves, for every corruption with severities."""
    curves = []
    for name, levels in severities.items():
        if not levels:
            continue
        points = []
        draw, setting = _CORRUPTIONS[name]
        for severity, corrupted in draw(data, levels, seed=seed):
            found, _ = class_predictions(model, corrupted, batch_size=batch_size, device=device)
            counts = (int((found == data.y).sum()), int((found != clean).sum()))
            points.append(report.point("severity", severity, counts, data.size))
            meter.advance(meter.batches)
        parameters = {**setting, "seed": seed, **_constraints(data)}
        curves.append(
            report.perturbation(
                name, norm=None, parameters=parameters, points=points, bounds=data.bounds
            )
        )
    return curves


def _batches(data: Data, clean: Labels, batch_size: int, device: torch.device) -> Iterator[Batch]:
    """The data in batches on the device, each moved once for all attacks."""
    on_device = torch.from_numpy(clean).to(device)
    for start in range(0, data.size, batch_size):
        stop = start + batch_size
        x = torch.from_numpy(data.x[start:stop]).to(device)
        y = torch.from_numpy(data.y[start:stop]).to(device)
        yield Batch(x, y, on_device[start:stop])


def _pgd_parameters(settings: PGD) -> dict[str, Any]:
    step = (
        {"step_size": settings.step_size}
        if settings.step_size is not None
        else {"step_size_per_budget": 2.5 / settings.steps}
    )
    return {
        "steps": settings.steps,
        **step,
        "random_start": settings.random_start,
        "seed": settings.seed,
    }


def _constraints(data: Data) -> dict[str, Any]:
    """The immutable features (flattened indices), when there are any."""
    fixed = np.flatnonzero(~data.mutable)
    return {"immutable_features": fixed.tolist()} if fixed.size else {}


class _Meter:
    """Reports the share of work done: one unit per batch forward pass or gradient step."""

    def __init__(
        self,
        callback: Progress | None,
        batches: int,
        budgets: dict[Norm, list[float]],
        severities: dict[str, list[float]],
        settings: PGD,
    ) -> None:
        self.callback = callback
        self.batches = batches
        attack_units = (1 + settings.steps * sum(map(len, budgets.values()))) if budgets else 0
        corruption_units = sum(map(len, severities.values()))
        self.total = batches * (1 + attack_units + corruption_units)
        self.done = 0.0

    def advance(self, units: float) -> None:
        """Count `units` more done, and report the share (never 1.0 before `finish`)."""
        self.done += units
        if self.callback is not None and self.done < self.total:
            self.callback(self.done / self.total)

    def finish(self) -> None:
        """Report that everything is done."""
        if self.callback is not None:
            self.callback(1.0)
