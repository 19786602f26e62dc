"""FGSM and PGD under L∞ and L2, on batches already on the device.

Every function takes a module in eval mode with frozen parameters (`models.prepared`),
inputs x of shape (b, ...) and labels y of shape (b,). `mask` (shape (1, ...), 1.0 for a
mutable feature, 0.0 for an immutable one) zeroes the gradient of immutable features, so
no step, start or projection ever moves them; None when every feature is mutable.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

import torch  # noqa: TID251 - torch's home: the robustness engine

from evaluations.assessments.robustness.inputs import Bounds
from evaluations.assessments.robustness.models import columns, loss, predictions

Norm = Literal["linf", "l2"]
NORMS: tuple[Norm, ...] = ("linf", "l2")
# One curve point: (attack, norm, budget).
Key = tuple[str, Norm, float]


@dataclass(frozen=True)
class PGD:
    """PGD settings: steps, step size alpha (None: 2.5·ε/steps) and a seeded random start."""

    steps: int
    step_size: float | None
    random_start: bool
    seed: int

    def alpha(self, eps: float) -> float:
        """The step size at budget ε."""
        return self.step_size if self.step_size is not None else 2.5 * eps / self.steps


@dataclass(frozen=True)
class Batch:
    """One batch on the device: inputs, labels and the clean predictions."""

    x: torch.Tensor
    y: torch.Tensor
    clean: torch.Tensor


def input_gradient(
    module: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """∇ₓ L(f(x), y) of the summed loss, zero on immutable features."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        scores = columns(cast(torch.Tensor, module(x)), x.shape[0])
        (grad,) = torch.autograd.grad(loss(scores, y), x)
    return grad if mask is None else grad.mul_(mask)


def steepest(grad: torch.Tensor, norm: Norm) -> torch.Tensor:
    """The unit step that raises the loss most: sign(g) for L∞, g/‖g‖₂ per example for L2.

    An example whose gradient is zero gets a zero step.
    """
    if norm == "linf":
        return grad.sign()
    norms = _norms(grad)
    return grad / torch.where(norms > 0, norms, 1.0)


def pgd(
    module: torch.nn.Module,
    batch: Batch,
    eps: float,
    norm: Norm,
    *,
    settings: PGD,
    mask: torch.Tensor | None,
    bounds: Bounds | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Projected gradient ascent x ← clip(Π_ε(x + alpha·steepest(∇L))), from x or a random start."""
    x, alpha = batch.x, settings.alpha(eps)
    adv = x if generator is None else _random_start(x, eps, norm, mask, bounds, generator)
    for _ in range(settings.steps):
        with torch.no_grad():
            # In place on the fresh step tensor: adv + alpha·step - x, projected, plus x, clipped.
            delta = steepest(input_gradient(module, adv, batch.y, mask), norm)
            delta.mul_(alpha).add_(adv).sub_(x)
            adv = _project(delta, eps, norm).add_(x)
            if bounds is not None:
                adv.clamp_(*bounds)
    return adv


def attack_counts(
    module: torch.nn.Module,
    batches: Iterable[Batch],
    budgets: Mapping[Norm, Sequence[float]],
    *,
    settings: PGD,
    mask: torch.Tensor | None,
    bounds: Bounds | None,
    advance: Callable[[float], None],
) -> dict[Key, tuple[int, int]]:
    """(correct predictions, decision flips) under every attack, norm and budget.

    Each PGD curve point draws its random starts from its own generator seeded with `seed`,
    so a point does not depend on which other budgets are measured.
    """
    tally = _Tally()
    generators: dict[tuple[Norm, float], torch.Generator] = {}
    for batch in batches:
        fgsm_batch(module, batch, budgets, mask=mask, bounds=bounds, tally=tally)
        advance(1)
        for norm, values in budgets.items():
            for eps in values:
                generator = _generator(generators, (norm, eps), batch.x.device, settings)
                adv = pgd(
                    module,
                    batch,
                    eps,
                    norm,
                    settings=settings,
                    mask=mask,
                    bounds=bounds,
                    generator=generator,
                )
                tally.add(module, adv, batch, ("pgd", norm, eps))
                advance(settings.steps)
    return tally.counts()


def fgsm_batch(
    module: torch.nn.Module,
    batch: Batch,
    budgets: Mapping[Norm, Sequence[float]],
    *,
    mask: torch.Tensor | None,
    bounds: Bounds | None,
    tally: "_Tally",
) -> None:
    """x' = clip(x + ε·steepest(∇ₓL)) at every budget: one gradient serves every ε and norm."""
    grad = input_gradient(module, batch.x, batch.y, mask)
    for norm, values in budgets.items():
        direction = steepest(grad, norm)
        for eps in values:
            adv = batch.x + eps * direction
            tally.add(
                module, adv if bounds is None else adv.clamp_(*bounds), batch, ("fgsm", norm, eps)
            )


class _Tally:
    """Correct predictions and decision flips per curve point, summed on the device."""

    def __init__(self) -> None:
        self._sums: dict[Key, torch.Tensor] = {}

    def add(self, module: torch.nn.Module, adv: torch.Tensor, batch: Batch, key: Key) -> None:
        with torch.no_grad():
            predicted = predictions(columns(cast(torch.Tensor, module(adv)), adv.shape[0]))
            counts = torch.stack(((predicted == batch.y).sum(), (predicted != batch.clean).sum()))
        self._sums[key] = counts if key not in self._sums else self._sums[key] + counts

    def counts(self) -> dict[Key, tuple[int, int]]:
        """As Python integers: one device synchronisation per point."""
        return {key: (int(sums[0]), int(sums[1])) for key, sums in self._sums.items()}


def _norms(values: torch.Tensor) -> torch.Tensor:
    """Per-example L2 norms, shaped to broadcast against `values`."""
    norms: torch.Tensor = torch.linalg.vector_norm(values.flatten(1), dim=1)
    return norms.view(-1, *([1] * (values.dim() - 1)))


def _project(delta: torch.Tensor, eps: float, norm: Norm) -> torch.Tensor:
    """δ projected onto the ε-ball, in place: clamped (L∞) or rescaled when ‖δ‖₂ > ε (L2)."""
    if norm == "linf":
        return delta.clamp_(-eps, eps)
    norms = _norms(delta)
    return delta.mul_(torch.where(norms > eps, eps / norms, 1.0))


def _random_start(
    x: torch.Tensor,
    eps: float,
    norm: Norm,
    mask: torch.Tensor | None,
    bounds: Bounds | None,
    generator: torch.Generator,
) -> torch.Tensor:
    """x plus a random point of the ε-ball: uniform per feature (L∞); for L2 a uniform
    direction (a normalised Gaussian) at a radius uniform in [0, ε], as torchattacks draws."""
    if norm == "linf":
        delta = torch.rand(x.shape, generator=generator, device=x.device).mul_(2 * eps).sub_(eps)
        if mask is not None:
            delta.mul_(mask)
    else:
        delta = torch.randn(x.shape, generator=generator, device=x.device)
        if mask is not None:
            delta.mul_(mask)
        norms = _norms(delta)
        radius = torch.rand(norms.shape, generator=generator, device=x.device).mul_(eps)
        delta.mul_(radius / torch.where(norms > 0, norms, 1.0))
    adv = delta.add_(x)
    return adv if bounds is None else adv.clamp_(*bounds)


def _generator(
    generators: dict[tuple[Norm, float], torch.Generator],
    point: tuple[Norm, float],
    device: torch.device,
    settings: PGD,
) -> torch.Generator | None:
    if not settings.random_start:
        return None
    if point not in generators:
        generators[point] = torch.Generator(device=device).manual_seed(settings.seed)
    return generators[point]
