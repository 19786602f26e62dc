"""The classifier under test: a differentiable torch module, or only a predict function."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, cast

import numpy as np
import torch  # noqa: TID251 - torch's home: the robustness engine
from numpy.typing import NDArray
from torch.nn import functional  # noqa: TID251 - torch's home: the robustness engine

Labels = NDArray[np.int64]


class Classifier(Protocol):
    """What the engine needs of a model: scores for a batch, and a gradient path if it has one."""

    @property
    def module(self) -> torch.nn.Module | None:
        """The differentiable path (float32), or None for a gradient-free model."""
        ...

    def predict(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """Scores or logits of shape (n, k), or (n, 1) for one logit of class 1; no gradient."""
        ...


class TorchClassifier:
    """A plain `torch.nn.Module` as a Classifier: its outputs are the scores.

    `predict` runs the module as it is (call `.eval()` first for dropout or batch norm);
    `robustness_metrics` puts it in eval mode itself.
    """

    def __init__(self, module: torch.nn.Module) -> None:
        self._module = module

    @property
    def module(self) -> torch.nn.Module:
        """The wrapped module."""
        return self._module

    def predict(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """The module's outputs for `x`, on the module's device, without gradients."""
        # torch.tensor copies: `x` may be read-only, which torch.from_numpy warns about.
        inputs = torch.tensor(x, dtype=torch.float32, device=module_device(self._module))
        with torch.no_grad():
            scores = cast(torch.Tensor, self._module(inputs))
        return scores.cpu().numpy().astype(np.float32, copy=False)


def pick_device(device: str | None) -> torch.device:
    """`device` when given; otherwise cuda when torch sees a GPU, else cpu."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def module_device(module: torch.nn.Module) -> torch.device:
    """Where the module's first parameter or buffer lives; cpu for a module without any."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextmanager
def prepared(module: torch.nn.Module, device: torch.device) -> Iterator[torch.nn.Module]:
    """The module on `device`, in eval mode, parameters frozen; all three restored afterwards.

    Frozen parameters accumulate no gradients while the attacks differentiate the inputs.
    """
    modes = [(part, part.training) for part in module.modules()]
    frozen = [(parameter, parameter.requires_grad) for parameter in module.parameters()]
    home = module_device(module)
    if home != device:
        module.to(device)
    module.eval()
    for parameter, _ in frozen:
        parameter.requires_grad_(False)
    try:
        yield module
    finally:
        for parameter, flag in frozen:
            parameter.requires_grad_(flag)
        for part, training in modes:
            part.training = training
        if home != device:
            module.to(home)


def columns(scores: torch.Tensor, rows: int) -> torch.Tensor:
    """Scores as an (n, k) matrix; a vector of n scores is one logit column."""
    if scores.dim() == 1:
        scores = scores.unsqueeze(1)
    if scores.dim() != 2 or scores.shape[0] != rows or scores.shape[1] < 1:
        raise ValueError(f"the model must return ({rows}, k) scores, got {tuple(scores.shape)}")
    return scores


def predictions(scores: torch.Tensor) -> torch.Tensor:
    """The predicted class: argmax (first on ties); one column is class 1's logit, 1 when > 0."""
    if scores.shape[1] == 1:
        return (scores[:, 0] > 0).long()
    return scores.argmax(dim=1)


def loss(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of the logits; binary cross-entropy for one logit column.

    Summed rather than averaged, so an example's gradient does not depend on its batch.
    """
    if scores.shape[1] == 1:
        target = y.to(scores.dtype)
        return functional.binary_cross_entropy_with_logits(scores[:, 0], target, reduction="sum")
    return functional.cross_entropy(scores, y, reduction="sum")


def class_predictions(
    model: Classifier, x: NDArray[np.float32], *, batch_size: int, device: torch.device
) -> tuple[Labels, int]:
    """The predicted classes of x, batch by batch, and the number of score columns.

    Through the module on `device` when the model has one, so clean, attacked and corrupted
    predictions all come from one function; otherwise through `predict`.
    """
    module = model.module
    found, widths = [], set()
    for start in range(0, x.shape[0], batch_size):
        batch = x[start : start + batch_size]
        if module is None:
            scores = columns(
                torch.from_numpy(np.array(model.predict(batch), np.float32)), len(batch)
            )
        else:
            with torch.no_grad():
                outputs = module(torch.from_numpy(batch).to(device))
            scores = columns(cast(torch.Tensor, outputs), len(batch))
        widths.add(int(scores.shape[1]))
        found.append(predictions(scores).cpu().numpy())
    if len(widths) != 1:
        raise ValueError(f"the model returned different numbers of score columns: {sorted(widths)}")
    return np.concatenate(found).astype(np.int64, copy=False), widths.pop()
