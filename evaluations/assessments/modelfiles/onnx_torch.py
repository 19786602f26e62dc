"""riskreg's own ONNX interpreter: a checked graph run as torch operations, so gradients
reach the input (robustness attacks need them).

Why not onnx2torch: it writes Python source from node names, so a crafted name runs as
code. Here no name from the file is ever code, an attribute or a path: initializers are
registered as `tensors[0]`, `tensors[1]`, ... by position, and `forward` keeps the values in
a `dict[str, Tensor]` keyed by ONNX value name, a dictionary key and nothing else.

What runs: the nodes the score output (`onnx_check.score_output`, the first float tensor
output) depends on, in the file's order (the checker requires a topological order); other
nodes, such as a scikit-learn export's `label` branch, are never built. Each node becomes a
kernel, a closure over its decoded attributes calling torch functions. The default-domain
opset is read from `model.opset_import` and must lie in [MIN_OPSET, MAX_OPSET]; what
changed between those opsets follows it: Squeeze and Unsqueeze take axes as an attribute
before 13 and as an input from 13, Softmax and LogSoftmax flatten to 2-D around axis 1
before 13 and work along axis -1 from 13, Pad takes an axes input from 18.

`unsupported_reason` says why a model does not fit (an operator, attribute value, input or
output type outside what is implemented); such a model runs in onnxruntime instead, without
gradients. Floating weights are float32 whatever their stored precision.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import onnx  # noqa: TID251 - modelfiles is where uploaded ONNX is parsed and run
import torch  # noqa: TID251 - the interpreter runs ONNX graphs as torch operations
from torch.nn import functional  # noqa: TID251 - the interpreter's operators

from evaluations.assessments.modelfiles.errors import ModelRefusedError
from evaluations.assessments.modelfiles.onnx_check import (
    graph_input,
    is_external,
    node_label,
    printable,
    score_output,
)

Tensor = torch.Tensor
Inputs = Sequence[Tensor | None]
Kernel = Callable[[Inputs], Tensor]

MIN_OPSET = 11
MAX_OPSET = 22
AUTO_PADS = frozenset({"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"})
T = onnx.TensorProto
FLOAT_TYPES = frozenset({T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16})
INT_TYPES = frozenset({T.INT8, T.INT16, T.INT32, T.INT64, T.UINT8, T.UINT16, T.UINT32, T.UINT64})
CAST_TYPES: dict[int, torch.dtype] = {
    T.FLOAT: torch.float32,
    T.DOUBLE: torch.float64,
    T.INT32: torch.int32,
    T.INT64: torch.int64,
    T.BOOL: torch.bool,
}
CONVS = {1: functional.conv1d, 2: functional.conv2d, 3: functional.conv3d}
MAX_POOLS = {1: functional.max_pool1d, 2: functional.max_pool2d, 3: functional.max_pool3d}
AVG_POOLS = {1: functional.avg_pool1d, 2: functional.avg_pool2d, 3: functional.avg_pool3d}


class UnsupportedError(Exception):
    """A graph the interpreter does not run; it goes to onnxruntime instead."""


class Attrs:
    """A node's attributes, read by name with the type the operator defines."""

    def __init__(self, node: onnx.NodeProto) -> None:
        self._by_name = {attribute.name: attribute for attribute in node.attribute}

    def only(self, *names: str) -> None:
        """Refuse attributes the kernel does not implement."""
        extra = sorted(set(self._by_name) - set(names))
        if extra:
            raise UnsupportedError(f"attribute {printable(extra[0])}")

    def integer(self, name: str, default: int) -> int:
        attribute = self._get(name, onnx.AttributeProto.INT)
        return default if attribute is None else attribute.i

    def maybe_integer(self, name: str) -> int | None:
        attribute = self._get(name, onnx.AttributeProto.INT)
        return None if attribute is None else attribute.i

    def integers(self, name: str) -> list[int] | None:
        attribute = self._get(name, onnx.AttributeProto.INTS)
        return None if attribute is None else list(attribute.ints)

    def number(self, name: str, default: float) -> float:
        attribute = self._get(name, onnx.AttributeProto.FLOAT)
        return default if attribute is None else attribute.f

    def maybe_number(self, name: str) -> float | None:
        attribute = self._get(name, onnx.AttributeProto.FLOAT)
        return None if attribute is None else attribute.f

    def numbers(self, name: str) -> list[float] | None:
        attribute = self._get(name, onnx.AttributeProto.FLOATS)
        return None if attribute is None else list(attribute.floats)

    def text(self, name: str, default: str) -> str:
        attribute = self._get(name, onnx.AttributeProto.STRING)
        return default if attribute is None else attribute.s.decode("utf-8", "replace")

    def tensor(self, name: str) -> onnx.TensorProto | None:
        attribute = self._get(name, onnx.AttributeProto.TENSOR)
        return None if attribute is None else attribute.t

    def _get(self, name: str, kind: int) -> onnx.AttributeProto | None:
        attribute = self._by_name.get(name)
        if attribute is not None and attribute.type != kind:
            raise UnsupportedError(f"attribute {printable(name)} of an unexpected type")
        return attribute


Builder = Callable[[Attrs, int], Kernel]


def tensor_to_torch(tensor: onnx.TensorProto) -> Tensor:
    """A tensor stored in the file as a torch tensor: floats as float32, integers as int64."""
    if is_external(tensor):  # check_onnx refused these; never resolve a path here
        raise ModelRefusedError("model_external_data", "A tensor is stored outside the file.")
    if tensor.data_type in FLOAT_TYPES:
        dtype: type[np.generic] = np.float32
    elif tensor.data_type in INT_TYPES:
        dtype = np.int64
    elif tensor.data_type == T.BOOL:
        dtype = np.bool_
    else:
        raise UnsupportedError(f"tensor {printable(tensor.name)} of data type {tensor.data_type}")
    try:
        # A C-ordered copy: writable for torch, and a 0-d scalar stays 0-d.
        array = onnx.numpy_helper.to_array(tensor).astype(dtype, order="C")
    except (ValueError, TypeError):
        raise ModelRefusedError(
            "model_invalid", f"Tensor {printable(tensor.name)} does not hold its declared shape."
        ) from None
    return torch.from_numpy(array)


# --- Kernels -----------------------------------------------------------------------------


def _need(inputs: Inputs, index: int) -> Tensor:
    value = inputs[index] if index < len(inputs) else None
    if value is None:
        raise ValueError(f"required input {index} is missing")
    return value


def _optional(inputs: Inputs, index: int) -> Tensor | None:
    return inputs[index] if index < len(inputs) else None


def _ints(value: Tensor) -> list[int]:
    return [int(item) for item in value.reshape(-1).tolist()]


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def _elementwise(function: Callable[[Tensor], Tensor]) -> Builder:
    def build(attrs: Attrs, opset: int) -> Kernel:
        attrs.only()
        return lambda inputs: function(_need(inputs, 0))

    return build


def _binary(function: Callable[[Tensor, Tensor], Tensor]) -> Builder:
    def build(attrs: Attrs, opset: int) -> Kernel:
        attrs.only()
        return lambda inputs: function(_need(inputs, 0), _need(inputs, 1))

    return build


def _divide(a: Tensor, b: Tensor) -> Tensor:
    # ONNX divides integers with truncation, as C does.
    if a.is_floating_point() or b.is_floating_point():
        return torch.div(a, b)
    return torch.div(a, b, rounding_mode="trunc")


def _gemm(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("alpha", "beta", "transA", "transB")
    alpha, beta = attrs.number("alpha", 1.0), attrs.number("beta", 1.0)
    trans_a, trans_b = attrs.integer("transA", 0), attrs.integer("transB", 0)

    def run(inputs: Inputs) -> Tensor:
        a, b, c = _need(inputs, 0), _need(inputs, 1), _optional(inputs, 2)
        product = (a.T if trans_a else a) @ (b.T if trans_b else b)
        product = product if alpha == 1.0 else alpha * product
        return product if c is None else product + (c if beta == 1.0 else beta * c)

    return run


def _leaky_relu(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("alpha")
    alpha = attrs.number("alpha", 0.01)
    return lambda inputs: functional.leaky_relu(_need(inputs, 0), alpha)


def _gelu(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("approximate")
    approximate = attrs.text("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise UnsupportedError(f"Gelu approximate={printable(approximate)}")
    return lambda inputs: functional.gelu(_need(inputs, 0), approximate=approximate)


def _softmax(log: bool) -> Builder:
    function = functional.log_softmax if log else functional.softmax

    def build(attrs: Attrs, opset: int) -> Kernel:
        attrs.only("axis")
        axis = attrs.integer("axis", -1 if opset >= 13 else 1)

        def run(inputs: Inputs) -> Tensor:
            value = _need(inputs, 0)
            if opset >= 13:
                return function(value, dim=axis)
            # Before opset 13 the input is seen as 2-D: dims before `axis` by dims after.
            flat = value.reshape(math.prod(value.shape[: _axis(axis, value.dim())]), -1)
            return function(flat, dim=1).reshape(value.shape)

        return run

    return build


def _window_pads(
    auto_pad: str,
    explicit: list[int] | None,
    spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> list[int]:
    """Pads as ONNX lists them, [begin_1, ..., begin_n, end_1, ..., end_n].

    SAME_* pads so that output = ceil(input / stride): the total is
    max(0, (output - 1) · stride + (kernel - 1) · dilation + 1 - input), its odd unit at the
    end (SAME_UPPER) or the beginning (SAME_LOWER).
    """
    dims = len(spatial)
    if auto_pad == "NOTSET":
        return explicit or [0] * 2 * dims
    if auto_pad == "VALID":
        return [0] * 2 * dims
    begins, ends = [], []
    for size, k, s, d in zip(spatial, kernel, strides, dilations, strict=True):
        total = max(0, (math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        begins.append(small if auto_pad == "SAME_UPPER" else large)
        ends.append(large if auto_pad == "SAME_UPPER" else small)
    return begins + ends


def _pad(value: Tensor, pads: Sequence[int], fill: float) -> Tensor:
    """Pad the last len(pads) / 2 dimensions, `pads` in ONNX order."""
    dims = len(pads) // 2
    if not any(pads):
        return value
    spec: list[int] = []
    for index in reversed(range(dims)):  # torch lists the last dimension first
        spec += [pads[index], pads[index + dims]]
    return functional.pad(value, spec, value=fill)


@dataclass(frozen=True)
class _Window:
    """The geometry attributes Conv and the pooling operators share."""

    auto_pad: str
    kernel: list[int] | None
    strides: list[int] | None
    dilations: list[int] | None
    pads: list[int] | None

    @classmethod
    def read(cls, attrs: Attrs) -> "_Window":
        auto_pad = attrs.text("auto_pad", "NOTSET")
        if auto_pad not in AUTO_PADS:
            raise UnsupportedError(f"auto_pad={printable(auto_pad)}")
        return cls(
            auto_pad,
            attrs.integers("kernel_shape"),
            attrs.integers("strides"),
            attrs.integers("dilations"),
            attrs.integers("pads"),
        )

    def resolve(
        self, value: Tensor, kernel: Sequence[int]
    ) -> tuple[list[int], list[int], list[int]]:
        """Strides, dilations and pads for `value` (batch, channels, spatial...)."""
        dims = value.dim() - 2
        if dims not in CONVS or len(kernel) != dims:
            raise ValueError(f"a window over {dims} spatial dimensions")
        strides = self.strides or [1] * dims
        dilations = self.dilations or [1] * dims
        spatial = list(value.shape[2:])
        pads = _window_pads(self.auto_pad, self.pads, spatial, kernel, strides, dilations)
        if len(pads) != 2 * dims or len(strides) != dims or len(dilations) != dims:
            raise ValueError(f"window attributes that do not fit {dims} spatial dimensions")
        return strides, dilations, pads


def _conv(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides")
    window, groups = _Window.read(attrs), attrs.integer("group", 1)

    def run(inputs: Inputs) -> Tensor:
        data, weight, bias = _need(inputs, 0), _need(inputs, 1), _optional(inputs, 2)
        strides, dilations, pads = window.resolve(data, list(weight.shape[2:]))
        convolve = CONVS[data.dim() - 2]
        padded = _pad(data, pads, 0.0)
        return convolve(padded, weight, bias, stride=strides, dilation=dilations, groups=groups)

    return run


def _max_pool(attrs: Attrs, opset: int) -> Kernel:
    attrs.only(
        "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"
    )
    window, ceil_mode = _Window.read(attrs), bool(attrs.integer("ceil_mode", 0))
    kernel = window.kernel
    if kernel is None:
        raise UnsupportedError("MaxPool without kernel_shape")

    def run(inputs: Inputs) -> Tensor:
        data = _need(inputs, 0)
        strides, dilations, pads = window.resolve(data, kernel)
        padded = _pad(data, pads, -math.inf)  # padding never wins a maximum
        pool = MAX_POOLS[data.dim() - 2]
        return pool(padded, kernel, strides, 0, dilations, ceil_mode=ceil_mode)

    return run


def _average_pool(attrs: Attrs, opset: int) -> Kernel:
    attrs.only(
        "auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"
    )
    window, include_pad = _Window.read(attrs), bool(attrs.integer("count_include_pad", 0))
    kernel = window.kernel
    if (
        kernel is None
        or attrs.integer("ceil_mode", 0)
        or any(d != 1 for d in window.dilations or [])
    ):
        raise UnsupportedError("AveragePool with ceil_mode, dilations or no kernel_shape")

    def run(inputs: Inputs) -> Tensor:
        data = _need(inputs, 0)
        strides, _, pads = window.resolve(data, kernel)
        pool = AVG_POOLS[data.dim() - 2]
        mean = pool(_pad(data, pads, 0.0), kernel, strides)
        if include_pad or not any(pads):
            return mean
        # Divide by the cells inside the input: the mean of a padded indicator.
        ones = torch.ones((1, 1, *data.shape[2:]), dtype=data.dtype, device=data.device)
        return mean / pool(_pad(ones, pads, 0.0), kernel, strides)

    return run


def _global_average_pool(attrs: Attrs, opset: int) -> Kernel:
    attrs.only()

    def run(inputs: Inputs) -> Tensor:
        data = _need(inputs, 0)
        return data.mean(dim=tuple(range(2, data.dim())), keepdim=True)

    return run


def _flatten(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("axis")
    axis = attrs.integer("axis", 1)

    def run(inputs: Inputs) -> Tensor:
        value = _need(inputs, 0)
        split = _axis(axis, value.dim())
        return value.reshape(math.prod(value.shape[:split]), math.prod(value.shape[split:]))

    return run


def _reshape(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("allowzero")
    allow_zero = bool(attrs.integer("allowzero", 0))

    def run(inputs: Inputs) -> Tensor:
        value, shape = _need(inputs, 0), _ints(_need(inputs, 1))
        if not allow_zero:  # 0 copies the input's dimension at that position
            shape = [value.shape[i] if size == 0 else size for i, size in enumerate(shape)]
        return value.reshape(shape)

    return run


def _transpose(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("perm")
    perm = attrs.integers("perm")

    def run(inputs: Inputs) -> Tensor:
        value = _need(inputs, 0)
        return value.permute(perm if perm is not None else list(reversed(range(value.dim()))))

    return run


def _batch_norm(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("epsilon", "momentum", "training_mode")
    if attrs.integer("training_mode", 0):
        raise UnsupportedError("BatchNormalization in training mode")
    epsilon = attrs.number("epsilon", 1e-5)

    def run(inputs: Inputs) -> Tensor:
        data, scale, bias, mean, var = (_need(inputs, i) for i in range(5))
        return functional.batch_norm(data, mean, var, scale, bias, training=False, eps=epsilon)

    return run


def _layer_norm(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("axis", "epsilon", "stash_type")
    axis, epsilon = attrs.integer("axis", -1), attrs.number("epsilon", 1e-5)
    if attrs.integer("stash_type", 1) != 1:
        raise UnsupportedError("LayerNormalization stash_type other than float")

    def run(inputs: Inputs) -> Tensor:
        data, scale, bias = _need(inputs, 0), _need(inputs, 1), _optional(inputs, 2)
        dims = tuple(range(_axis(axis, data.dim()), data.dim()))
        mean = data.mean(dim=dims, keepdim=True)
        var = ((data - mean) ** 2).mean(dim=dims, keepdim=True)
        normed = (data - mean) / torch.sqrt(var + epsilon) * scale
        return normed if bias is None else normed + bias

    return run


def _dropout(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("ratio", "seed")

    def run(inputs: Inputs) -> Tensor:
        training = _optional(inputs, 2)
        if training is not None and bool(training.reshape(-1)[0]):
            raise ValueError("Dropout in training mode")
        return _need(inputs, 0)

    return run


def _identity(attrs: Attrs, opset: int) -> Kernel:
    attrs.only()
    return lambda inputs: _need(inputs, 0)


def _gather(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("axis")
    axis = attrs.integer("axis", 0)

    def run(inputs: Inputs) -> Tensor:
        data, indices = _need(inputs, 0), _need(inputs, 1).long()
        dim = _axis(axis, data.dim())
        indices = torch.where(indices < 0, indices + data.shape[dim], indices)
        picked = data.index_select(dim, indices.reshape(-1))
        return picked.reshape([*data.shape[:dim], *indices.shape, *data.shape[dim + 1 :]])

    return run


def _concat(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("axis")
    axis = attrs.integer("axis", 0)
    return lambda inputs: torch.cat([v for v in inputs if v is not None], dim=axis)


def _axes_of(attrs: Attrs, opset: int, inputs: Inputs) -> list[int] | None:
    if opset < 13:
        return attrs.integers("axes")
    axes = _optional(inputs, 1)
    return None if axes is None else _ints(axes)


def _squeeze(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("axes")
    attrs.integers("axes")  # validates the type now, not on the first batch

    def run(inputs: Inputs) -> Tensor:
        value, axes = _need(inputs, 0), _axes_of(attrs, opset, inputs)
        if axes is None:
            return value.squeeze()
        return value.squeeze(tuple(_axis(axis, value.dim()) for axis in axes))

    return run


def _unsqueeze(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("axes")
    attrs.integers("axes")

    def run(inputs: Inputs) -> Tensor:
        value, axes = _need(inputs, 0), _axes_of(attrs, opset, inputs)
        rank = value.dim() + len(axes or [])
        for axis in sorted(_axis(axis, rank) for axis in axes or []):
            value = value.unsqueeze(axis)
        return value

    return run


def _clip(attrs: Attrs, opset: int) -> Kernel:
    attrs.only()

    def run(inputs: Inputs) -> Tensor:
        value, lower, upper = _need(inputs, 0), _optional(inputs, 1), _optional(inputs, 2)
        if lower is None and upper is None:
            return value
        return torch.clamp(value, min=lower, max=upper)

    return run


def _cast(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("to", "saturate")
    target = CAST_TYPES.get(attrs.integer("to", 0))
    if target is None:
        raise UnsupportedError("Cast to a type other than float, double, int32, int64 or bool")
    return lambda inputs: _need(inputs, 0).to(target)


def _shape(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("start", "end")
    start, end = attrs.integer("start", 0), attrs.maybe_integer("end")

    def run(inputs: Inputs) -> Tensor:
        value = _need(inputs, 0)
        # Python's slice clamps out-of-range ends as ONNX does.
        dims = list(value.shape)[start:end]
        return torch.tensor(dims, dtype=torch.int64, device=value.device)

    return run


def _pad_op(attrs: Attrs, opset: int) -> Kernel:
    attrs.only("mode")
    if attrs.text("mode", "constant") != "constant":
        raise UnsupportedError("Pad in a mode other than constant")

    def run(inputs: Inputs) -> Tensor:
        value, pads = _need(inputs, 0), _ints(_need(inputs, 1))
        fill, axes = _optional(inputs, 2), _optional(inputs, 3)
        rank = value.dim()
        chosen = list(range(rank)) if axes is None else [_axis(a, rank) for a in _ints(axes)]
        full = [0] * 2 * rank  # every axis, in ONNX order: all begins, then all ends
        for i, axis in enumerate(chosen):
            full[axis], full[axis + rank] = pads[i], pads[i + len(chosen)]
        return _pad(value, full, 0.0 if fill is None else float(fill.reshape(-1)[0]))

    return run


OPS: dict[str, Builder] = {
    "Add": _binary(torch.add),
    "AveragePool": _average_pool,
    "BatchNormalization": _batch_norm,
    "Cast": _cast,
    "Clip": _clip,
    "Concat": _concat,
    "Conv": _conv,
    "Div": _binary(_divide),
    "Dropout": _dropout,
    "Erf": _elementwise(torch.erf),
    "Flatten": _flatten,
    "Gather": _gather,
    "Gelu": _gelu,
    "Gemm": _gemm,
    "GlobalAveragePool": _global_average_pool,
    "Identity": _identity,
    "LayerNormalization": _layer_norm,
    "LeakyRelu": _leaky_relu,
    "LogSoftmax": _softmax(log=True),
    "MatMul": _binary(torch.matmul),
    "MaxPool": _max_pool,
    "Mul": _binary(torch.mul),
    "Pad": _pad_op,
    "Relu": _elementwise(torch.relu),
    "Reshape": _reshape,
    "Shape": _shape,
    "Sigmoid": _elementwise(torch.sigmoid),
    "Softmax": _softmax(log=False),
    "Squeeze": _squeeze,
    "Sub": _binary(torch.sub),
    "Tanh": _elementwise(torch.tanh),
    "Transpose": _transpose,
    "Unsqueeze": _unsqueeze,
}
# Constant nodes are folded into the module's tensors when it is built.
SUPPORTED_OPS = frozenset(OPS) | {"Constant"}


def _constant(node: onnx.NodeProto) -> Tensor:
    attrs = Attrs(node)
    attrs.only("value", "value_float", "value_floats", "value_int", "value_ints")
    if len(node.attribute) != 1:
        raise UnsupportedError("Constant without exactly one value")
    tensor, number = attrs.tensor("value"), attrs.maybe_number("value_float")
    if tensor is not None:
        return tensor_to_torch(tensor)
    if number is not None:
        return torch.tensor(number, dtype=torch.float32)
    numbers = attrs.numbers("value_floats")
    if numbers is not None:
        return torch.tensor(numbers, dtype=torch.float32)
    integer = attrs.maybe_integer("value_int")
    if integer is not None:
        return torch.tensor(integer, dtype=torch.int64)
    return torch.tensor(attrs.integers("value_ints"), dtype=torch.int64)


# --- The module ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    kernel: Kernel
    inputs: tuple[str, ...]
    output: str


@dataclass(frozen=True)
class _Plan:
    input_name: str
    output_name: str
    steps: list[_Step]
    constants: list[tuple[str, Tensor]]
    initializers: list[onnx.TensorProto]


def unsupported_reason(model: onnx.ModelProto) -> str | None:
    """Why the interpreter cannot run `model` (checked by `check_onnx`), or None if it can."""
    try:
        _plan(model)
    except UnsupportedError as error:
        return str(error)
    return None


class OnnxModule(torch.nn.Module):
    """A checked ONNX model as a torch module: `forward(x)` returns the score output.

    Raises (on construction):
        UnsupportedError: the graph needs something the interpreter does not implement.
    """

    def __init__(self, model: onnx.ModelProto) -> None:
        super().__init__()
        plan = _plan(model)
        tensors = [tensor_to_torch(t) for t in plan.initializers]
        tensors += [tensor for _, tensor in plan.constants]
        # Registered by position: the file's names never become attribute names.
        self.tensors = torch.nn.ParameterList(
            torch.nn.Parameter(tensor, requires_grad=False) for tensor in tensors
        )
        self._names = [t.name for t in plan.initializers] + [name for name, _ in plan.constants]
        self._steps = plan.steps
        self._input = plan.input_name
        self._output = plan.output_name
        self.eval()

    def forward(self, x: Tensor) -> Tensor:
        values: dict[str, Tensor] = dict(zip(self._names, self.tensors, strict=True))
        values[self._input] = x
        for step in self._steps:
            inputs = [values[name] if name else None for name in step.inputs]
            values[step.output] = step.kernel(inputs)
        scores = values[self._output]
        return scores if scores.dtype == torch.float32 else scores.float()


def _plan(model: onnx.ModelProto) -> _Plan:
    opset = _default_opset(model)
    source, target = graph_input(model), score_output(model)
    if {source.type.tensor_type.elem_type, target.type.tensor_type.elem_type} != {T.FLOAT}:
        raise UnsupportedError("an input or score output that is not float32")
    nodes, needed = _needed_nodes(model.graph, target.name)
    steps: list[_Step] = []
    constants: list[tuple[str, Tensor]] = []
    for index, node in nodes:
        try:
            if any(name in needed for name in node.output[1:]):
                raise UnsupportedError("a second output is used")
            if node.domain not in ("", "ai.onnx"):
                raise UnsupportedError("an operator outside the default domain")
            if node.op_type == "Constant":
                constants.append((node.output[0], _constant(node)))
                continue
            build = OPS.get(node.op_type)
            if build is None:
                raise UnsupportedError("an operator the interpreter does not implement")
            steps.append(_Step(build(Attrs(node), opset), tuple(node.input), node.output[0]))
        except UnsupportedError as error:
            raise UnsupportedError(f"{node_label(index, node)}: {error}") from None
    initializers = [t for t in model.graph.initializer if t.name in needed]
    for tensor in initializers:
        if tensor.data_type not in FLOAT_TYPES | INT_TYPES | {T.BOOL}:
            raise UnsupportedError(f"initializer {printable(tensor.name)} of an unusual type")
    return _Plan(source.name, target.name, steps, constants, initializers)


def _default_opset(model: onnx.ModelProto) -> int:
    versions: list[int] = [
        entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")
    ]
    if not versions or not MIN_OPSET <= max(versions) <= MAX_OPSET:
        raise UnsupportedError(f"default-domain opset {versions} outside {MIN_OPSET}-{MAX_OPSET}")
    return max(versions)


def _needed_nodes(
    graph: onnx.GraphProto, output: str
) -> tuple[list[tuple[int, onnx.NodeProto]], set[str]]:
    """The nodes `output` depends on, in graph order, and every value name they read."""
    producers = {name: i for i, node in enumerate(graph.node) for name in node.output if name}
    needed: set[str] = set()
    chosen: set[int] = set()
    pending = [output]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        index = producers.get(name)
        if index is not None and index not in chosen:
            chosen.add(index)
            pending.extend(value for value in graph.node[index].input if value)
    return [(i, graph.node[i]) for i in sorted(chosen)], needed
