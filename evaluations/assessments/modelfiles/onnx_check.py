"""Check an uploaded ONNX model before anything reads its tensors or runs it.

`check_onnx` refuses, in this order, each with a stable `ModelRefusedError` code:

1. more than `limits.max_bytes`, before parsing → `model_too_large`;
2. bytes that do not parse (`onnx.load_model_from_string`, never a path, so no external
   data is resolved) or a model without a graph → `model_invalid`;
3. model-local functions → `model_op_refused` (riskreg runs none);
4. any tensor stored outside the file: initializers, sparse initializers and tensor
   attributes, in the main graph, every subgraph (If, Loop and Scan bodies, any GRAPH or
   GRAPHS attribute) and training graphs → `model_external_data`. onnx's `numpy_helper`,
   its reference evaluator and onnxruntime would read such data relative to the current
   directory, following symlinks;
5. more than `limits.max_nodes` nodes or `limits.max_elements` weight elements (tensor
   elements plus the lengths of list attributes, such as a tree ensemble's), subgraphs
   included → `model_too_large`;
6. a node whose (domain, op_type) is not in the allow-list, subgraphs included →
   `model_op_refused`, naming the operator and the node's position; likewise a node whose
   padding exceeds MAX_PAD (a `pads` attribute, or a Pad's pads input), or a Pad whose pads
   are not fixed in the file (an initializer or Constant of its graph): output sizes grow
   with those values;
7. `onnx.checker.check_model` on the bytes in memory fails → `model_invalid`;
8. an interface riskreg cannot feed: other than one graph input that is not an
   initializer, an input that is not a numeric tensor, or no float tensor output →
   `model_invalid`.

Names in a file are user text: they reach messages only truncated and escaped, and are
never used for anything else.

The allow-list is the interpreter's operators, standard operators with outputs no larger
than their inputs (onnxruntime runs them), and the ai.onnx.ml tree, linear and SVM
operators scikit-learn exports use. Operators whose output size is read from tensor values
(Expand, Tile, ConstantOfShape, Range, Resize, OneHot) and loops are left out; Pad stays,
with its pads bounded as above.
"""

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import onnx  # noqa: TID251 - modelfiles is where uploaded ONNX is parsed and checked
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from evaluations.assessments.modelfiles.errors import ModelRefusedError


@dataclass(frozen=True)
class Limits:
    """Upper bounds on an uploaded model, checked before it runs."""

    max_bytes: int = 256 * 2**20
    max_nodes: int = 20_000
    max_elements: int = 64 * 2**20


LIMITS = Limits()
MAX_PAD = 256

# The operators riskreg's interpreter runs (onnx_torch.SUPPORTED_OPS equals this set).
INTERPRETER_OPS = frozenset(
    {
        "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant",
        "Conv", "Div", "Dropout", "Erf", "Flatten", "Gather", "Gelu", "Gemm",
        "GlobalAveragePool", "Identity", "LayerNormalization", "LeakyRelu", "LogSoftmax",
        "MatMul", "MaxPool", "Mul", "Pad", "Relu", "Reshape", "Shape", "Sigmoid", "Softmax",
        "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    }
)  # fmt: skip
# Standard operators only onnxruntime runs; each output is bounded by its inputs' sizes.
RUNTIME_OPS = frozenset(
    {
        "Abs", "And", "ArgMax", "ArgMin", "Ceil", "Elu", "Equal", "Exp", "Floor", "Greater",
        "GreaterOrEqual", "HardSigmoid", "HardSwish", "If", "Less", "LessOrEqual", "Log", "Max",
        "Mean", "Min", "Neg", "Not", "Or", "Pow", "Reciprocal", "ReduceL2", "ReduceLogSumExp",
        "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum", "Round", "Selu", "Sign", "Slice",
        "Softplus", "Split", "Sqrt", "Sum", "Where",
    }
)  # fmt: skip
ML_OPS = frozenset(
    {
        "ArrayFeatureExtractor", "Binarizer", "FeatureVectorizer", "Imputer",
        "LinearClassifier", "LinearRegressor", "Normalizer", "SVMClassifier", "SVMRegressor",
        "Scaler", "TreeEnsemble", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap",
    }
)  # fmt: skip
ALLOWED_OPS: Mapping[str, frozenset[str]] = {
    "": INTERPRETER_OPS | RUNTIME_OPS,
    "ai.onnx.ml": ML_OPS,
}

INPUT_TYPES = frozenset(
    {
        onnx.TensorProto.FLOAT,
        onnx.TensorProto.DOUBLE,
        onnx.TensorProto.INT64,
        onnx.TensorProto.INT32,
    }
)
SCORE_TYPES = frozenset({onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE})


def check_onnx(
    data: bytes,
    *,
    limits: Limits = LIMITS,
    allowed_ops: Mapping[str, frozenset[str]] = ALLOWED_OPS,
) -> onnx.ModelProto:
    """Parse `data` as ONNX and refuse anything riskreg will not run (see the module doc).

    Raises:
        ModelRefusedError: with the code of the first rule broken.
    """
    if len(data) > limits.max_bytes:
        raise ModelRefusedError(
            "model_too_large",
            f"The model file has {len(data):,} bytes; the limit is {limits.max_bytes:,}.",
        )
    try:
        model = onnx.load_model_from_string(data)
    except DecodeError:
        raise ModelRefusedError(
            "model_invalid", "The file does not parse as an ONNX model (truncated or corrupt)."
        ) from None
    if not model.HasField("graph"):
        raise ModelRefusedError("model_invalid", "The ONNX model has no graph.")
    if model.functions:
        raise ModelRefusedError(
            "model_op_refused",
            f"The model defines {len(model.functions)} local function(s); riskreg runs none.",
        )
    _refuse_external_data(model)
    _refuse_oversize(model, limits)
    _refuse_operators(model, allowed_ops)
    try:
        onnx.checker.check_model(data)
    except (onnx.checker.ValidationError, ValueError) as error:
        message = f"The ONNX checker refused the model: {error}"[:500]
        raise ModelRefusedError("model_invalid", message) from None
    graph_input(model)
    score_output(model)
    return model


def differentiable(model: onnx.ModelProto) -> bool:
    """Whether riskreg's interpreter runs the nodes `model`'s score output depends on."""
    # torch is heavy: imported only when a checked model is about to run.
    from evaluations.assessments.modelfiles.onnx_torch import unsupported_reason

    return unsupported_reason(model) is None


def graph_input(model: onnx.ModelProto) -> onnx.ValueInfoProto:
    """The one graph input that is not an initializer: where the examples go."""
    graph = model.graph
    initialized = {tensor.name for tensor in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initialized]
    if len(inputs) != 1:
        raise ModelRefusedError(
            "model_invalid",
            f"The model takes {len(inputs)} inputs; riskreg feeds one tensor of examples.",
        )
    value: onnx.ValueInfoProto = inputs[0]
    if value.type.WhichOneof("value") != "tensor_type" or (
        value.type.tensor_type.elem_type not in INPUT_TYPES
    ):
        raise ModelRefusedError(
            "model_invalid", "The model's input is not a float or integer tensor."
        )
    return value


def score_output(model: onnx.ModelProto) -> onnx.ValueInfoProto:
    """The first float tensor output: logits, scores or probabilities.

    scikit-learn classifiers exported by skl2onnx put an integer `label` first and the
    `probabilities` after it; with a ZipMap the probabilities are maps, not a tensor.
    """
    output: onnx.ValueInfoProto
    for output in model.graph.output:
        kind = output.type.WhichOneof("value")
        if kind == "tensor_type" and output.type.tensor_type.elem_type in SCORE_TYPES:
            return output
    raise ModelRefusedError(
        "model_invalid",
        "The model has no float tensor output (a scikit-learn export with a ZipMap? "
        "export with options={'zipmap': False}).",
    )


def printable(text: str, limit: int = 40) -> str:
    """A name from the file, truncated and escaped, for a message."""
    return ascii(text[:limit]) + ("..." if len(text) > limit else "")


def node_label(index: int, node: onnx.NodeProto) -> str:
    """'node 3 (Conv, named 'conv1')': a node by position, its names escaped."""
    return f"node {index} ({printable(node.op_type)}, named {printable(node.name)})"


def walk_graphs(model: onnx.ModelProto) -> Iterator[tuple[onnx.GraphProto, str]]:
    """Every graph in `model` with where it sits: main, subgraphs, training graphs."""
    yield from _subgraphs(model.graph, "the main graph")
    for index, info in enumerate(model.training_info):
        for field in ("initialization", "algorithm"):
            if info.HasField(field):
                yield from _subgraphs(getattr(info, field), f"training graph {index} {field}")


def _subgraphs(graph: onnx.GraphProto, where: str) -> Iterator[tuple[onnx.GraphProto, str]]:
    yield graph, where
    for index, node in enumerate(graph.node):
        for attribute in node.attribute:
            inner = f"{where}, {node_label(index, node)}, attribute {printable(attribute.name)}"
            # Both fields are read whatever the attribute's declared type says.
            graphs = [attribute.g] if attribute.HasField("g") else []
            for subgraph in [*graphs, *attribute.graphs]:
                yield from _subgraphs(subgraph, inner)


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield from (sparse.values, sparse.indices)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            sparses = [attribute.sparse_tensor] if attribute.HasField("sparse_tensor") else []
            for sparse in [*sparses, *attribute.sparse_tensors]:
                yield from (sparse.values, sparse.indices)


def is_external(tensor: onnx.TensorProto) -> bool:
    """Whether `tensor`'s data would be read from outside the file."""
    return tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data) > 0


def _refuse_external_data(model: onnx.ModelProto) -> None:
    for graph, where in walk_graphs(model):
        for tensor in _tensors(graph):
            if is_external(tensor):
                raise ModelRefusedError(
                    "model_external_data",
                    f"Tensor {printable(tensor.name)} in {where} is stored outside the "
                    "file; riskreg reads only tensors inside the uploaded model.",
                )


def _refuse_oversize(model: onnx.ModelProto, limits: Limits) -> None:
    nodes = elements = 0
    for graph, _ in walk_graphs(model):
        nodes += len(graph.node)
        elements += sum(_elements(tensor) for tensor in _tensors(graph))
        for node in graph.node:
            for attribute in node.attribute:
                elements += len(attribute.floats) + len(attribute.ints) + len(attribute.strings)
    if nodes > limits.max_nodes:
        raise ModelRefusedError(
            "model_too_large", f"The model has {nodes:,} nodes; the limit is {limits.max_nodes:,}."
        )
    if elements > limits.max_elements:
        raise ModelRefusedError(
            "model_too_large",
            f"The model has {elements:,} weight elements; the limit is {limits.max_elements:,}.",
        )


def _elements(tensor: onnx.TensorProto) -> int:
    if any(dim < 0 for dim in tensor.dims):
        raise ModelRefusedError(
            "model_invalid", f"Tensor {printable(tensor.name)} has a negative dimension."
        )
    return math.prod(tensor.dims)


def _refuse_operators(model: onnx.ModelProto, allowed_ops: Mapping[str, frozenset[str]]) -> None:
    for graph, where in walk_graphs(model):
        for index, node in enumerate(graph.node):
            domain = "" if node.domain == "ai.onnx" else node.domain
            if node.op_type not in allowed_ops.get(domain, frozenset()):
                qualified = f"{domain}::{node.op_type}" if domain else node.op_type
                raise ModelRefusedError(
                    "model_op_refused",
                    f"Operator {printable(qualified)} at {node_label(index, node)} in {where} "
                    "is not on riskreg's allow-list.",
                )
            if not _bounded_pads(graph, node):
                raise ModelRefusedError(
                    "model_op_refused",
                    f"Padding at {node_label(index, node)} in {where} must be fixed in the "
                    f"file and at most {MAX_PAD} on each side.",
                )


def _bounded_pads(graph: onnx.GraphProto, node: onnx.NodeProto) -> bool:
    # Conv and the pools, and Pad before opset 11, pad by attribute.
    pads: list[int] | None = [p for a in node.attribute if a.name == "pads" for p in a.ints]
    if node.op_type == "Pad" and not pads:
        pads = _constant_ints(graph, node.input[1]) if len(node.input) > 1 else None
    return pads is not None and all(abs(pad) <= MAX_PAD for pad in pads)


def _constant_ints(graph: onnx.GraphProto, name: str) -> list[int] | None:
    """The integers `graph` fixes under `name` (an initializer or a Constant), else None."""
    for tensor in graph.initializer:
        if tensor.name == name:
            return _tensor_ints(tensor)
    for node in graph.node:
        if node.op_type == "Constant" and name in node.output:
            for attribute in node.attribute:
                if attribute.name == "value_ints":
                    return list(attribute.ints)
                if attribute.name == "value":
                    return _tensor_ints(attribute.t)
    return None


def _tensor_ints(tensor: onnx.TensorProto) -> list[int] | None:
    try:  # external data was refused before this runs
        return [int(value) for value in onnx.numpy_helper.to_array(tensor).reshape(-1)]
    except (ValueError, TypeError):
        return None


def onnx_input_shape(value: onnx.ValueInfoProto) -> tuple[int | None, tuple[int, ...]]:
    """(the batch size the graph input fixes or None, the per-example shape).

    Raises:
        ModelRefusedError: `model_invalid` when a dimension after the batch is not a fixed size.
    """
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape") or not tensor_type.shape.dim:
        raise ModelRefusedError("model_invalid", "The model's input declares no shape.")
    first, *rest = tensor_type.shape.dim
    shape: list[int] = []
    for index, dim in enumerate(rest, start=1):
        if dim.WhichOneof("value") != "dim_value" or dim.dim_value <= 0:
            raise ModelRefusedError(
                "model_invalid",
                f"Input dimension {index} is not a fixed size ({printable(dim.dim_param)}); "
                "only the batch dimension may vary.",
            )
        shape.append(dim.dim_value)
    fixed = first.WhichOneof("value") == "dim_value" and first.dim_value > 0
    return (first.dim_value if fixed else None), tuple(shape)
