"""The demo classifier: a small CNN trained on scikit-learn's bundled 8-by-8 digits.

riskreg's demo, tests and benchmarks need a real image classifier without downloading
anything: `sklearn.datasets.load_digits` ships 1,797 grey 8-by-8 digits with the library.
Pixels (0..16) are scaled to [0, 1]; a fixed permutation (seed SPLIT_SEED, the same for
every training seed) holds out TEST_ROWS digits as the test set.

The network uses only layers of the declarative architecture's allow-list, so it travels
as safetensors + architecture JSON or as ONNX, like any upload::

    Conv2d(1, 8, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d(8, 16, 3, padding=1) → ReLU
    → MaxPool2d(2) → Flatten → Linear(16·2·2, 10)

Training is mini-batch Adam on the cross-entropy, on the CPU (a network this small trains
in well under a second there, and CPU arithmetic is reproducible). Initial weights come
from `torch.manual_seed(seed)` inside `torch.random.fork_rng` (the caller's random state is
left as it was), the order of the examples from a `torch.Generator` seeded with `seed`:
one seed gives the same weights on one machine and thread count.

`quantised` is the demo's "int8 build": each weight tensor rounded to 255 symmetric levels,
stored as float32, so it runs the same code path as the original::

    scale = max|w| / 127,   w_q = round(w / scale) · scale
"""

import copy
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import torch  # noqa: TID251 - the demo classifier is trained here, beside the engines
from numpy.typing import NDArray
from sklearn.datasets import load_digits  # type: ignore[import-untyped]  # noqa: TID251 - bundled data, no download
from torch import nn  # noqa: TID251 - the demo classifier is trained here, beside the engines

from evaluations.assessments.modelfiles.architecture import architecture_of, weights_of
from evaluations.assessments.modelfiles.export import to_onnx

INPUT_SHAPE = (1, 8, 8)
CLASSES = 10
SPLIT_SEED = 20261129
TEST_ROWS = 360
BATCH_ROWS = 64
LEARNING_RATE = 1e-2
LEVELS = 127  # symmetric 8-bit: -127..127, 255 levels
LABEL = "label"

Images = NDArray[np.float32]
Digits = NDArray[np.int64]


@dataclass(frozen=True)
class DigitsModel:
    """The trained demo classifier in every form riskreg reads, and its held-out test set.

    `module` is the torch network (eval mode, CPU); `architecture` its declarative
    description, `weights` its safetensors bytes, `onnx` its ONNX bytes; `x_test` float32
    of shape (n, 1, 8, 8) in [0, 1], `y_test` int64 digits 0..9.
    """

    module: nn.Sequential
    architecture: dict[str, object]
    weights: bytes
    onnx: bytes
    x_test: Images
    y_test: Digits

    @property
    def accuracy(self) -> float:
        """Accuracy on the test set: #{i : argmax f(xᵢ) = yᵢ} / n."""
        return float((predicted_digits(self.module, self.x_test) == self.y_test).mean())


def digits_split() -> tuple[Images, Digits, Images, Digits]:
    """(x_train, y_train, x_test, y_test): the bundled digits scaled to [0, 1], fixed split."""
    bunch = load_digits()
    x = (np.asarray(bunch.data) / 16).astype(np.float32).reshape(-1, *INPUT_SHAPE)
    y = np.asarray(bunch.target, dtype=np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    test, train = order[:TEST_ROWS], order[TEST_ROWS:]
    return x[train], y[train], x[test], y[test]


def digits_network() -> nn.Sequential:
    """The untrained CNN (torch's default initialisation, from the global random state)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 2 * 2, CLASSES),
    )


def train_digits_cnn(*, seed: int = 0, epochs: int = 10) -> DigitsModel:
    """Train the demo CNN on the digits' training part; about 97% test accuracy.

    Raises
    ------
    ValueError
        When `seed` is negative or `epochs` is below 1.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0, got {seed!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number ≥ 1, got {epochs!r}")
    x_train, y_train, x_test, y_test = digits_split()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = digits_network()
    _fit(module, torch.from_numpy(x_train), torch.from_numpy(y_train), seed=seed, epochs=epochs)
    module.eval()
    architecture = architecture_of(module, INPUT_SHAPE)
    return DigitsModel(
        module=module,
        architecture=architecture,
        weights=weights_of(module),
        onnx=to_onnx(architecture, module.state_dict()),
        x_test=x_test,
        y_test=y_test,
    )


def _fit(module: nn.Module, x: torch.Tensor, y: torch.Tensor, *, seed: int, epochs: int) -> None:
    """Mini-batch Adam on the mean cross-entropy, examples shuffled by a seeded generator."""
    optimiser = torch.optim.Adam(module.parameters(), lr=LEARNING_RATE)
    order = torch.Generator().manual_seed(seed)
    module.train()
    for _ in range(epochs):
        permutation = torch.randperm(len(y), generator=order)
        for start in range(0, len(y), BATCH_ROWS):
            rows = permutation[start : start + BATCH_ROWS]
            optimiser.zero_grad()
            torch.autograd.backward(nn.functional.cross_entropy(module(x[rows]), y[rows]))
            optimiser.step()


def predicted_digits(module: nn.Module, x: NDArray[np.float32]) -> NDArray[np.int64]:
    """argmax of the module's logits for each example of x (on the CPU, no gradients)."""
    with torch.no_grad():
        logits = module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
    return np.asarray(logits.argmax(dim=1).numpy(), dtype=np.int64)


def quantised(module: nn.Module) -> nn.Module:
    """A copy of `module` whose weight tensors take 8-bit symmetric levels, kept as float32.

    Per tensor: scale = max|w| / 127 and w_q = round(w / scale) · scale, so each weight
    tensor holds at most 255 distinct values. Biases stay in float32, as int8 builds keep
    them at 32 bits; an all-zero tensor is left as it is.
    """
    copied = copy.deepcopy(module)
    with torch.no_grad():
        for name, parameter in copied.named_parameters():
            if not name.endswith("weight"):
                continue
            scale = parameter.abs().max() / LEVELS
            if scale > 0:
                parameter.copy_(torch.round(parameter / scale) * scale)
    return copied


def evaluation_frame(x: NDArray[Any], y: NDArray[Any]) -> pa.Table:
    """The evaluation file's table: `label` (int64), then px_0..px_{m-1} (float32), where
    m is the number of features of one example, flattened in C order.

    Raises
    ------
    ValueError
        When x is not (n, ...) with n = len(y).
    """
    features = np.asarray(x, dtype=np.float32)
    labels = np.asarray(y, dtype=np.int64)
    if features.ndim < 2 or labels.shape != (features.shape[0],):
        raise ValueError(f"x must be (n, ...) and y (n,), got {features.shape} and {labels.shape}")
    flat = features.reshape(len(labels), math.prod(features.shape[1:]))
    columns = {LABEL: pa.array(labels)}
    columns.update({f"px_{i}": pa.array(flat[:, i]) for i in range(flat.shape[1])})
    return pa.table(columns)


def evaluation_csv(x: NDArray[Any], y: NDArray[Any]) -> bytes:
    """`evaluation_frame(x, y)` as CSV bytes (header line, comma-separated)."""
    buffer = io.BytesIO()
    pa_csv.write_csv(evaluation_frame(x, y), buffer)
    return buffer.getvalue()
