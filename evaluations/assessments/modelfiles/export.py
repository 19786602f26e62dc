"""The ONNX graph of a declarative network, written node by node with `onnx.helper`.

`torch.onnx.export` is not used: it traces Python, needs onnxscript and may write external
data. Each layer maps to standard operators (opset 17 or later), weights become embedded
initializers named as in the state_dict, and the input `input` has shape
`["batch", *input_shape]` (int64 indices when the first layer is an Embedding, else float32);
the output is `logits`.

    Linear          Gemm(transB=1) on 2-d inputs, else MatMul by the transposed weight + Add
    Conv1d/2d       Conv                    MaxPool1d/2d, AvgPool1d/2d  MaxPool, AveragePool
    AdaptiveAvgPool GlobalAveragePool for output size 1, else AveragePool (even division only)
    Flatten         Flatten(axis=1)         ReLU, Tanh, Sigmoid         Relu, Tanh, Sigmoid
    GELU            Gelu at opset 20+, else 0.5 * x * (1 + erf(x / sqrt 2)), or for
                    approximate="tanh" 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))
    Softmax         Softmax(axis=dim)       Dropout                     Identity
    BatchNorm1d/2d  BatchNormalization      LayerNorm                   LayerNormalization
    Embedding       Gather(weight, indices, axis=0)
"""

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx  # noqa: TID251 - modelfiles is ONNX's home
import torch  # noqa: TID251 - modelfiles builds the networks it exports
from onnx import TensorProto, helper, numpy_helper  # noqa: TID251 - modelfiles is ONNX's home
from torch import nn  # noqa: TID251 - modelfiles builds the networks it exports

from evaluations.assessments.modelfiles.architecture import check_state, plan_network

MIN_OPSET = 17  # LayerNormalization, and Softmax over one axis (13+)


def _sizes(value: object, rank: int) -> list[int]:
    """Per-axis sizes from torch's int-or-tuple attributes."""
    if isinstance(value, int):
        return [value] * rank
    if isinstance(value, tuple) and all(isinstance(item, int) for item in value):
        return list(value)
    raise ValueError(f"{value!r} cannot be exported as sizes")


class _Graph:
    """Nodes and initializers under construction; `value` is the latest layer's output name."""

    def __init__(self, state: Mapping[str, torch.Tensor], opset: int) -> None:
        self.state = state
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self.value = "input"

    def tensor(self, name: str, array: np.typing.ArrayLike | None = None) -> str:
        """Embed a weight of the state (or a constant array) once, under `name`."""
        if name not in self.initializers:
            values = self.state[name].detach().cpu().numpy() if array is None else array
            self.initializers[name] = numpy_helper.from_array(
                np.asarray(values, dtype=np.float32), name
            )
        return name

    def constant(self, value: float) -> str:
        return self.tensor(f"const.{value!r}", np.float32(value))

    def add(self, where: str, op: str, inputs: list[str], **attributes: Any) -> str:
        output = f"{where}.{op}.{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def layer(self, where: str, op: str, inputs: list[str], **attributes: Any) -> None:
        self.value = self.add(where, op, [self.value, *inputs], **attributes)


def _linear(graph: _Graph, where: str, layer: nn.Linear, shape: tuple[int, ...]) -> None:
    bias = [graph.tensor(f"{where}.bias")] if layer.bias is not None else []
    if len(shape) == 2:
        graph.layer(where, "Gemm", [graph.tensor(f"{where}.weight"), *bias], transB=1)
        return
    transposed = graph.state[f"{where}.weight"].numpy().T
    graph.layer(where, "MatMul", [graph.tensor(f"{where}.weight_t", transposed)])
    if bias:
        graph.layer(where, "Add", bias)


def _conv(graph: _Graph, where: str, layer: nn.Conv1d | nn.Conv2d) -> None:
    rank = len(layer.kernel_size)
    bias = [graph.tensor(f"{where}.bias")] if layer.bias is not None else []
    graph.layer(
        where,
        "Conv",
        [graph.tensor(f"{where}.weight"), *bias],
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.stride),
        pads=_sizes(layer.padding, rank) * 2,
        dilations=list(layer.dilation),
        group=layer.groups,
    )


_Pool = nn.MaxPool1d | nn.MaxPool2d | nn.AvgPool1d | nn.AvgPool2d


def _pool(graph: _Graph, where: str, layer: _Pool, rank: int) -> None:
    kernel = _sizes(layer.kernel_size, rank)
    attributes: dict[str, object] = {
        "kernel_shape": kernel,
        "strides": _sizes(layer.stride or layer.kernel_size, rank),
        "pads": _sizes(layer.padding, rank) * 2,
    }
    if isinstance(layer, nn.MaxPool1d | nn.MaxPool2d):
        graph.layer(where, "MaxPool", [], dilations=_sizes(layer.dilation, rank), **attributes)
    else:
        count = int(layer.count_include_pad)
        graph.layer(where, "AveragePool", [], count_include_pad=count, **attributes)


def _adaptive(
    graph: _Graph,
    where: str,
    layer: nn.AdaptiveAvgPool1d | nn.AdaptiveAvgPool2d,
    shape: tuple[int, ...],
) -> None:
    spatial = shape[2:]
    wanted = _sizes(layer.output_size, len(spatial))
    if all(size == 1 for size in wanted):
        graph.layer(where, "GlobalAveragePool", [])
        return
    if any(size % out for size, out in zip(spatial, wanted, strict=True)):
        raise ValueError(f"{where}: adaptive pooling {spatial} to {wanted} is not an even division")
    kernel = [size // out for size, out in zip(spatial, wanted, strict=True)]
    graph.layer(where, "AveragePool", [], kernel_shape=kernel, strides=kernel)


def _gelu(graph: _Graph, where: str, approximate: str) -> None:
    if graph.opset >= 20:
        graph.layer(where, "Gelu", [], approximate=approximate)
        return
    x = graph.value
    if approximate == "tanh":
        cube = graph.add(where, "Mul", [graph.add(where, "Mul", [x, x]), x])
        inner = graph.add(
            where, "Add", [x, graph.add(where, "Mul", [cube, graph.constant(0.044715)])]
        )
        scaled = graph.add(where, "Mul", [inner, graph.constant(math.sqrt(2 / math.pi))])
        curve = graph.add(where, "Tanh", [scaled])
    else:
        curve = graph.add(
            where, "Erf", [graph.add(where, "Div", [x, graph.constant(math.sqrt(2))])]
        )
    gate = graph.add(where, "Add", [curve, graph.constant(1.0)])
    graph.value = graph.add(where, "Mul", [graph.add(where, "Mul", [x, gate]), graph.constant(0.5)])


def _batch_norm(graph: _Graph, where: str, layer: nn.BatchNorm1d | nn.BatchNorm2d) -> None:
    channels = layer.num_features
    scale = (
        graph.tensor(f"{where}.weight")
        if layer.affine
        else graph.tensor(f"{where}.ones", np.ones(channels))
    )
    shift = (
        graph.tensor(f"{where}.bias")
        if layer.affine
        else graph.tensor(f"{where}.zeros", np.zeros(channels))
    )
    mean, var = graph.tensor(f"{where}.running_mean"), graph.tensor(f"{where}.running_var")
    graph.layer(where, "BatchNormalization", [scale, shift, mean, var], epsilon=layer.eps)


def _layer_norm(graph: _Graph, where: str, layer: nn.LayerNorm) -> None:
    shape = tuple(layer.normalized_shape)
    affine = layer.elementwise_affine
    scale = (
        graph.tensor(f"{where}.weight") if affine else graph.tensor(f"{where}.ones", np.ones(shape))
    )
    shift = [graph.tensor(f"{where}.bias")] if affine and layer.bias is not None else []
    graph.layer(where, "LayerNormalization", [scale, *shift], axis=-len(shape), epsilon=layer.eps)


_PLAIN = {nn.ReLU: "Relu", nn.Tanh: "Tanh", nn.Sigmoid: "Sigmoid", nn.Dropout: "Identity"}


def _add_layer(graph: _Graph, position: int, layer: nn.Module, shape: tuple[int, ...]) -> None:
    where = str(position)
    if type(layer) in _PLAIN:
        graph.layer(where, _PLAIN[type(layer)], [])
    elif isinstance(layer, nn.Linear):
        _linear(graph, where, layer, shape)
    elif isinstance(layer, nn.Conv1d | nn.Conv2d):
        _conv(graph, where, layer)
    elif isinstance(layer, nn.MaxPool1d | nn.AvgPool1d | nn.MaxPool2d | nn.AvgPool2d):
        _pool(graph, where, layer, len(shape) - 2)
    elif isinstance(layer, nn.AdaptiveAvgPool1d | nn.AdaptiveAvgPool2d):
        _adaptive(graph, where, layer, shape)
    elif isinstance(layer, nn.Flatten):
        graph.layer(where, "Flatten", [], axis=1)
    elif isinstance(layer, nn.GELU):
        _gelu(graph, where, layer.approximate)
    elif isinstance(layer, nn.Softmax):
        graph.layer(where, "Softmax", [], axis=layer.dim)
    elif isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d):
        _batch_norm(graph, where, layer)
    elif isinstance(layer, nn.LayerNorm):
        _layer_norm(graph, where, layer)
    elif isinstance(layer, nn.Embedding):
        graph.value = graph.add(
            where, "Gather", [graph.tensor(f"{where}.weight"), graph.value], axis=0
        )
    else:
        raise ValueError(f"layers[{position}]: {type(layer).__name__} has no ONNX mapping")


def _graph_io(name: str, shape: tuple[int, ...], dtype: int) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, ["batch", *shape[1:]])


def to_onnx(
    architecture: Mapping[str, object], state: Mapping[str, torch.Tensor], *, opset: int = 17
) -> bytes:
    """The ONNX ModelProto (serialised) computing the same function as the torch network.

    `architecture` is a document as `architecture_of` writes it, `state` its state_dict.
    Raises `ModelRefusedError` when either breaks the format's rules, and `ValueError` for an
    opset outside 17 to onnx's newest, or a layer setting ONNX cannot express.
    """
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(
            f"opset must be from {MIN_OPSET} to {onnx.defs.onnx_opset_version()}, got {opset}"
        )
    network = plan_network(dict(architecture))
    graph = _Graph(check_state(state, network), opset)
    for position, (layer, shape) in enumerate(zip(network.module, network.shapes, strict=False)):
        _add_layer(graph, position, layer, shape)
    # Every layer's last node writes graph.value: renamed, it is the graph's output.
    graph.nodes[-1].output[0] = "logits"
    input_type = TensorProto.INT64 if network.takes_indices else TensorProto.FLOAT
    proto = helper.make_graph(
        graph.nodes,
        "riskreg-network",
        [_graph_io("input", network.shapes[0], input_type)],
        [_graph_io("logits", network.shapes[-1], TensorProto.FLOAT)],
        list(graph.initializers.values()),
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        proto,
        opset_imports=opsets,
        producer_name="riskreg",
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    onnx.checker.check_model(model, full_check=True)
    return bytes(model.SerializeToString())
