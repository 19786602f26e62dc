"""Load an uploaded model file into something riskreg can evaluate, executing none of it.

`load_model` refuses files over `limits.max_bytes` before reading them, tells the format
from the content (`sniff`), then:

* ONNX: `check_onnx`, then riskreg's interpreter (`OnnxModule`, differentiable) when it runs
  every node the score output needs, else onnxruntime (`OnnxRuntimeModel`, scores only);
* safetensors: the declarative architecture is required and `build_network` builds the
  network and fills it from the weights.

The per-example input shape comes from the ONNX graph input (the first dimension is the
batch; any other symbolic or unknown dimension is refused) or from the architecture.
`predict` checks the batch against that shape, runs it in chunks of at most CHUNK_ROWS rows
(exactly the file's batch size when the file fixes one, the last chunk padded with zeros)
without gradients, and returns float32 scores. Torch modules run on CUDA when it is there.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch  # noqa: TID251 - loaded networks are torch modules
from numpy.typing import NDArray

from evaluations.assessments.modelfiles.errors import ModelRefusedError
from evaluations.assessments.modelfiles.onnx_check import (
    LIMITS,
    Limits,
    check_onnx,
    graph_input,
    onnx_input_shape,
)
from evaluations.assessments.modelfiles.onnx_runtime import OnnxRuntimeModel
from evaluations.assessments.modelfiles.onnx_torch import OnnxModule, UnsupportedError
from evaluations.assessments.modelfiles.sniff import Format, sniff

Predict = Callable[[NDArray[np.float32]], NDArray[np.float32]]

CHUNK_ROWS = 1024
# What a torch module may raise on data it cannot take (a shape its Reshape does not fit...).
TORCH_ERRORS = (RuntimeError, IndexError, KeyError, TypeError, ValueError)


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to evaluate.

    `module` is the differentiable path (eval mode, float32), None when only onnxruntime
    runs the file; `predict` gives scores for a batch either way. `input_shape` is per
    example (no batch dimension); `batch_size` is the batch the file fixes, None when any
    batch size fits. `parameters` counts weight elements; `size_bytes` is the file's size.
    """

    module: torch.nn.Module | None
    predict: Predict
    input_shape: tuple[int, ...]
    format: Format
    parameters: int
    size_bytes: int
    batch_size: int | None = None

    @property
    def differentiable(self) -> bool:
        """Whether gradients reach the input (attacks that need them can run)."""
        return self.module is not None


def load_model(
    data: bytes, *, architecture: bytes | None = None, limits: Limits = LIMITS
) -> LoadedModel:
    """Check and load an uploaded model file (ONNX, or safetensors with `architecture`).

    Raises:
        ModelRefusedError: with the stable code of the rule the file breaks (errors.py).
    """
    if len(data) > limits.max_bytes:
        raise ModelRefusedError(
            "model_too_large",
            f"The model file has {len(data):,} bytes; the limit is {limits.max_bytes:,}.",
        )
    if sniff(data) == "onnx":
        return _load_onnx(data, limits)
    if architecture is None:
        raise ModelRefusedError(
            "architecture_invalid",
            "safetensors weights need an architecture: upload its JSON description too.",
        )
    return _load_safetensors(data, architecture, limits)


def check_input(model: LoadedModel, x: NDArray[np.generic]) -> None:
    """Refuse a batch whose examples do not have the model's input shape.

    Raises:
        ModelRefusedError: `input_mismatch`, naming the expected and the given shape.
    """
    _check_shape(model.input_shape, x)


def limit_threads(threads: int) -> None:
    """Run torch's CPU kernels on at most `threads` threads in this process.

    Worker processes share the machine's cores; torch's default (one thread per core) in
    each of them makes their threads wait on each other, which on a busy 2-core machine
    turned a 0.3 s robustness run into 29 s.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads!r}")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def device() -> torch.device:
    """CUDA when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _load_onnx(data: bytes, limits: Limits) -> LoadedModel:
    model = check_onnx(data, limits=limits)
    batch_size, shape = onnx_input_shape(graph_input(model))
    parameters = sum(math.prod(tensor.dims) for tensor in model.graph.initializer)
    try:
        module: torch.nn.Module | None = OnnxModule(model).to(device())
    except UnsupportedError:
        module = None
    run = _torch_scores(module) if module is not None else OnnxRuntimeModel(model).predict
    return LoadedModel(
        module=module,
        predict=_chunked(run, shape, batch_size),
        input_shape=shape,
        format="onnx",
        parameters=parameters,
        size_bytes=len(data),
        batch_size=batch_size,
    )


def _load_safetensors(data: bytes, architecture: bytes, limits: Limits) -> LoadedModel:
    # Written beside this module; imported here so the ONNX path does not need safetensors.
    from evaluations.assessments.modelfiles.architecture import build_network

    network, shape = build_network(architecture, data)
    parameters = sum(tensor.numel() for tensor in network.state_dict().values())
    if parameters > limits.max_elements:
        raise ModelRefusedError(
            "model_too_large",
            f"The model has {parameters:,} weight elements; the limit is {limits.max_elements:,}.",
        )
    module = network.to(device()).eval()
    # An Embedding first takes int64 indices (architecture.py); everything else floats.
    first = next(iter(module.children()), None)
    dtype = torch.int64 if isinstance(first, torch.nn.Embedding) else torch.float32
    return LoadedModel(
        module=module,
        predict=_chunked(_torch_scores(module, dtype), shape, None),
        input_shape=shape,
        format="safetensors",
        parameters=parameters,
        size_bytes=len(data),
    )


def _torch_scores(module: torch.nn.Module, dtype: torch.dtype = torch.float32) -> Predict:
    def run(chunk: NDArray[np.float32]) -> NDArray[np.float32]:
        where = next(iter(module.parameters()), torch.empty(0)).device
        inputs = torch.from_numpy(np.ascontiguousarray(chunk)).to(where, dtype)
        try:
            with torch.no_grad():
                scores = module(inputs)
        except ModelRefusedError:
            raise
        except TORCH_ERRORS as error:
            raise ModelRefusedError(
                "model_invalid", f"The model failed on the evaluation data: {error}"[:500]
            ) from None
        return np.asarray(scores.detach().cpu().numpy(), dtype=np.float32)

    return run


def _chunked(run: Predict, shape: tuple[int, ...], batch_size: int | None) -> Predict:
    def predict(x: NDArray[np.float32]) -> NDArray[np.float32]:
        _check_shape(shape, x)
        rows = batch_size or CHUNK_ROWS
        parts = []
        for start in range(0, len(x), rows):
            chunk = np.asarray(x[start : start + rows], dtype=np.float32)
            filled = len(chunk)
            if batch_size is not None and filled < batch_size:
                padding = np.zeros((batch_size - filled, *shape), dtype=np.float32)
                chunk = np.concatenate([chunk, padding])
            parts.append(run(chunk)[:filled])
        return np.concatenate(parts)

    return predict


def _check_shape(shape: tuple[int, ...], x: NDArray[np.generic]) -> None:
    given = tuple(x.shape[1:])
    if x.ndim != len(shape) + 1 or given != shape:
        raise ModelRefusedError(
            "input_mismatch",
            f"The model takes examples of shape {shape}; the data has examples of shape "
            f"{given} (array shape {tuple(x.shape)}).",
        )
    if x.dtype.kind not in "biuf":
        raise ModelRefusedError("input_mismatch", f"The data are {x.dtype}, not numbers.")
    if len(x) == 0:
        raise ModelRefusedError("input_mismatch", "The data have no examples.")
