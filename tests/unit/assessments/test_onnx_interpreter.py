"""riskreg's ONNX interpreter against onnxruntime, operator by operator, and its gradients.

Every operator the interpreter supports has at least one case here (a test checks the set),
each a tiny graph built with onnx.helper, run by `OnnxModule` and by onnxruntime.
"""

import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import onnx  # noqa: TID251 - tests build ONNX graphs for the interpreter
import onnxruntime as ort  # noqa: TID251 - the reference every operator is compared with
import pytest
import torch  # noqa: TID251 - the interpreter's output is a torch tensor
from onnx import TensorProto, helper, numpy_helper  # noqa: TID251 - builds test graphs

from evaluations.assessments.modelfiles.loading import load_model
from evaluations.assessments.modelfiles.onnx_check import (
    INTERPRETER_OPS,
    check_onnx,
    differentiable,
)
from evaluations.assessments.modelfiles.onnx_runtime import OnnxRuntimeModel
from evaluations.assessments.modelfiles.onnx_torch import SUPPORTED_OPS, OnnxModule

RNG = np.random.default_rng(20240611)


def floats(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def positive(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape).astype(np.float32)


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


@dataclass(frozen=True)
class Case:
    """One operator under test: `nodes` read `x` and initializers and write `y`."""

    op: str
    variant: str
    nodes: list[onnx.NodeProto]
    x: np.ndarray
    initializers: dict[str, np.ndarray] = field(default_factory=dict)
    opset: int = 17

    @property
    def id(self) -> str:
        return f"{self.op}-{self.variant}"


def single(op: str, variant: str, x: np.ndarray, inputs=("x",), opset=17, init=None, **attrs):
    node = helper.make_node(op, list(inputs), ["y"], **attrs)
    return Case(op, variant, [node], x, init or {}, opset)


def chain(op: str, variant: str, x: np.ndarray, *nodes, opset=17, init=None):
    return Case(op, variant, list(nodes), x, init or {}, opset)


def node(op: str, inputs, output: str, **attrs) -> onnx.NodeProto:
    return helper.make_node(op, list(inputs), [output], **attrs)


CASES = [
    single(
        "Gemm",
        "transB-alpha-beta",
        floats(4, 3),
        ("x", "w", "c"),
        init={"w": floats(5, 3), "c": floats(5)},
        transB=1,
        alpha=0.5,
        beta=2.0,
    ),
    single("Gemm", "transA-no-bias", floats(3, 4), ("x", "w"), init={"w": floats(3, 5)}, transA=1),
    single(
        "Gemm",
        "matrix-bias",
        floats(4, 3),
        ("x", "w", "c"),
        init={"w": floats(3, 5), "c": floats(4, 5)},
    ),
    single("MatMul", "batched", floats(2, 4, 3), ("x", "w"), init={"w": floats(3, 5)}),
    single("Add", "broadcast", floats(4, 3), ("x", "b"), init={"b": floats(3)}),
    single("Sub", "broadcast", floats(4, 3), ("b", "x"), init={"b": floats(4, 1)}),
    single("Mul", "broadcast", floats(2, 4, 3), ("x", "b"), init={"b": floats(4, 3)}),
    single("Div", "broadcast", floats(4, 3), ("x", "b"), init={"b": positive(3)}),
    single("Relu", "plain", floats(4, 5)),
    single("LeakyRelu", "alpha", floats(4, 5), alpha=0.2),
    single("LeakyRelu", "default", floats(4, 5)),
    single("Sigmoid", "plain", floats(4, 5)),
    single("Tanh", "plain", floats(4, 5)),
    single("Softmax", "axis-1", floats(2, 3, 4), axis=1),
    single("Softmax", "default-axis", floats(2, 3, 4)),
    single("Softmax", "opset-11-coerced-2d", floats(2, 3, 4), opset=11, axis=1),
    single("LogSoftmax", "default-axis", floats(4, 6)),
    single("LogSoftmax", "opset-11-default", floats(2, 3, 4), opset=11),
    single("Gelu", "exact", floats(4, 5), opset=20),
    single("Gelu", "tanh", floats(4, 5), opset=20, approximate="tanh"),
    single("Erf", "plain", floats(4, 5)),
    single(
        "Conv",
        "3d-pads",
        floats(1, 2, 5, 4, 6),
        ("x", "w"),
        init={"w": floats(3, 2, 2, 3, 3)},
        pads=[1, 1, 0, 0, 1, 2],
    ),
    single(
        "Conv",
        "2d-pads-strides-bias",
        floats(2, 4, 7, 7),
        ("x", "w", "b"),
        init={"w": floats(6, 4, 3, 3), "b": floats(6)},
        pads=[1, 1, 1, 1],
        strides=[2, 2],
    ),
    single(
        "Conv",
        "2d-group-dilation",
        floats(2, 4, 9, 9),
        ("x", "w"),
        init={"w": floats(6, 2, 3, 3)},
        group=2,
        dilations=[2, 2],
    ),
    single(
        "Conv",
        "2d-asymmetric-pads",
        floats(1, 2, 6, 5),
        ("x", "w"),
        init={"w": floats(3, 2, 3, 2)},
        pads=[0, 1, 2, 0],
    ),
    single(
        "Conv",
        "2d-same-upper-stride",
        floats(2, 3, 8, 7),
        ("x", "w", "b"),
        init={"w": floats(4, 3, 4, 4), "b": floats(4)},
        auto_pad="SAME_UPPER",
        strides=[2, 2],
    ),
    single(
        "Conv",
        "2d-same-lower",
        floats(1, 3, 5, 5),
        ("x", "w"),
        init={"w": floats(2, 3, 2, 2)},
        auto_pad="SAME_LOWER",
    ),
    single(
        "Conv",
        "1d-pads-kernel-shape",
        floats(2, 3, 9),
        ("x", "w", "b"),
        init={"w": floats(4, 3, 3), "b": floats(4)},
        pads=[2, 1],
        kernel_shape=[3],
    ),
    single(
        "MaxPool",
        "2d-pads-strides",
        floats(2, 3, 7, 7),
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
        strides=[2, 2],
    ),
    single("MaxPool", "1d", floats(2, 3, 10), kernel_shape=[2], strides=[2]),
    single("MaxPool", "3d", floats(1, 2, 5, 4, 6), kernel_shape=[2, 2, 3], pads=[1, 0, 1, 0, 1, 1]),
    single(
        "MaxPool", "ceil-mode", floats(1, 2, 6, 6), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1
    ),
    single("MaxPool", "same-upper", floats(1, 2, 5, 5), kernel_shape=[2, 2], auto_pad="SAME_UPPER"),
    single("MaxPool", "dilations", floats(1, 2, 8, 8), kernel_shape=[2, 2], dilations=[2, 2]),
    single(
        "AveragePool",
        "pads-excluded",
        floats(2, 3, 6, 6),
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
        strides=[2, 2],
    ),
    single(
        "AveragePool",
        "pads-included",
        floats(2, 3, 6, 6),
        kernel_shape=[3, 3],
        pads=[1, 0, 1, 2],
        count_include_pad=1,
    ),
    single("AveragePool", "1d", floats(2, 3, 9), kernel_shape=[3], strides=[3]),
    single("AveragePool", "3d", floats(1, 2, 4, 4, 4), kernel_shape=[2, 2, 2], pads=[1] * 6),
    single(
        "AveragePool", "same-lower", floats(1, 2, 5, 5), kernel_shape=[2, 2], auto_pad="SAME_LOWER"
    ),
    single("GlobalAveragePool", "2d", floats(2, 3, 4, 5)),
    single("Flatten", "default", floats(2, 3, 4)),
    single("Flatten", "axis-2", floats(2, 3, 4, 5), axis=2),
    single("Flatten", "axis-0", floats(2, 3, 4), axis=0),
    single("Flatten", "axis-negative", floats(2, 3, 4), axis=-1),
    single("Reshape", "zero-and-minus-one", floats(4, 3, 2), ("x", "s"), init={"s": ints(0, -1)}),
    single(
        "Reshape", "zero-in-the-middle", floats(4, 6, 2), ("x", "s"), init={"s": ints(2, 0, -1)}
    ),
    chain(
        "Constant",
        "value-ints-shape-for-reshape",
        floats(4, 6),
        node("Constant", [], "s", value_ints=[-1, 3, 2]),
        node("Reshape", ["x", "s"], "y"),
    ),
    chain(
        "Constant",
        "tensor-added",
        floats(4, 3),
        node("Constant", [], "c", value=numpy_helper.from_array(floats(3), "c")),
        node("Add", ["x", "c"], "y"),
    ),
    chain(
        "Constant",
        "value-float",
        floats(4, 3),
        node("Constant", [], "c", value_float=2.5),
        node("Mul", ["x", "c"], "y"),
    ),
    chain(
        "Constant",
        "value-floats",
        floats(4, 3),
        node("Constant", [], "c", value_floats=[1.0, -2.0, 0.5]),
        node("Sub", ["x", "c"], "y"),
    ),
    single("Transpose", "perm", floats(2, 3, 4), perm=[0, 2, 1]),
    single("Transpose", "default-reverses", floats(2, 3, 4)),
    single(
        "BatchNormalization",
        "inference",
        floats(2, 3, 4, 4),
        ("x", "s", "b", "m", "v"),
        init={"s": floats(3), "b": floats(3), "m": floats(3), "v": positive(3)},
        epsilon=1e-3,
    ),
    single(
        "BatchNormalization",
        "2d-input",
        floats(5, 3),
        ("x", "s", "b", "m", "v"),
        init={"s": floats(3), "b": floats(3), "m": floats(3), "v": positive(3)},
    ),
    single(
        "LayerNormalization",
        "last-axis-bias",
        floats(4, 6),
        ("x", "s", "b"),
        init={"s": floats(6), "b": floats(6)},
    ),
    single(
        "LayerNormalization",
        "axis-1-no-bias",
        floats(2, 3, 4),
        ("x", "s"),
        init={"s": floats(3, 4)},
        axis=1,
        epsilon=1e-3,
    ),
    single(
        "Dropout", "ratio-input", floats(4, 5), ("x", "r"), init={"r": np.array(0.5, np.float32)}
    ),
    single("Dropout", "plain", floats(4, 5)),
    single("Identity", "plain", floats(4, 5)),
    chain(
        "Gather",
        "embedding-lookup",
        np.array([[0, 3, 1], [4, 4, 2]], np.float32),
        node("Cast", ["x"], "ids", to=TensorProto.INT64),
        node("Gather", ["table", "ids"], "y"),
        init={"table": floats(5, 4)},
    ),
    single(
        "Gather",
        "axis-1-negative-indices",
        floats(4, 5),
        ("x", "i"),
        init={"i": ints(0, -1, 2, 3).reshape(2, 2)},
        axis=1,
    ),
    single(
        "Gather",
        "scalar-index",
        floats(4, 5),
        ("x", "i"),
        init={"i": np.array(2, np.int64)},
        axis=1,
    ),
    single("Concat", "axis-1", floats(4, 3), ("x", "c"), init={"c": floats(4, 2)}, axis=1),
    single(
        "Concat", "axis-negative", floats(2, 3, 2), ("c", "x"), init={"c": floats(2, 3, 1)}, axis=-1
    ),
    single("Squeeze", "axes-input", floats(4, 1, 3, 1), ("x", "a"), init={"a": ints(1, -1)}),
    single("Squeeze", "no-axes", floats(4, 1, 3, 1)),
    single("Squeeze", "opset-11-attribute", floats(4, 1, 3), opset=11, axes=[1]),
    single("Unsqueeze", "axes-input", floats(4, 3), ("x", "a"), init={"a": ints(1, -1)}),
    single("Unsqueeze", "opset-11-attribute", floats(4, 3), opset=11, axes=[0, 3]),
    single(
        "Clip",
        "min-max",
        floats(4, 5),
        ("x", "lo", "hi"),
        init={"lo": np.array(-0.5, np.float32), "hi": np.array(0.7, np.float32)},
    ),
    single("Clip", "min-only", floats(4, 5), ("x", "lo"), init={"lo": np.array(0.1, np.float32)}),
    single(
        "Clip", "max-only", floats(4, 5), ("x", "", "hi"), init={"hi": np.array(0.1, np.float32)}
    ),
    chain(
        "Cast",
        "truncates-through-int64-and-double",
        floats(4, 5) * 4,
        node("Cast", ["x"], "i", to=TensorProto.INT64),
        node("Cast", ["i"], "d", to=TensorProto.DOUBLE),
        node("Cast", ["d"], "y", to=TensorProto.FLOAT),
    ),
    chain(
        "Shape",
        "cast-to-float",
        floats(2, 3, 4),
        node("Shape", ["x"], "s"),
        node("Cast", ["s"], "y", to=TensorProto.FLOAT),
    ),
    chain(
        "Shape",
        "start-end",
        floats(2, 3, 4, 5),
        node("Shape", ["x"], "s", start=1, end=-1),
        node("Cast", ["s"], "y", to=TensorProto.FLOAT),
    ),
    chain(
        "Shape",
        "exporter-flatten-chain",
        floats(3, 2, 4),
        node("Shape", ["x"], "s"),
        node("Gather", ["s", "zero"], "n", axis=0),
        node("Unsqueeze", ["n", "axes"], "n1"),
        node("Concat", ["n1", "minus_one"], "shape", axis=0),
        node("Reshape", ["x", "shape"], "y"),
        init={"zero": np.array(0, np.int64), "axes": ints(0), "minus_one": ints(-1)},
    ),
    single(
        "Pad",
        "constant-value",
        floats(2, 3, 4),
        ("x", "p", "v"),
        init={"p": ints(0, 1, 2, 0, 2, 1), "v": np.array(1.5, np.float32)},
    ),
    single(
        "Pad",
        "crop-with-negative-pads",
        floats(2, 3, 4),
        ("x", "p"),
        init={"p": ints(0, -1, 1, 0, 0, -1)},
    ),
    single(
        "Pad",
        "axes-input-opset-18",
        floats(2, 3, 4),
        ("x", "p", "", "a"),
        opset=18,
        init={"p": ints(1, 2, 0, 1), "a": ints(-1, 1)},
    ),
]


def make_model(case: Case) -> onnx.ModelProto:
    """The case as a model; the output's shape (the checker wants one) from shape inference,
    else its rank from onnxruntime's result."""
    source = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *case.x.shape[1:]])
    target = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    initializers = [numpy_helper.from_array(v, name) for name, v in case.initializers.items()]
    graph = helper.make_graph(case.nodes, case.id, [source], [target], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", case.opset)])
    model = onnx.shape_inference.infer_shapes(model)
    output = model.graph.output[0].type.tensor_type
    if not output.HasField("shape"):
        rank = reference(model, case.x).ndim
        output.shape.dim.extend(
            onnx.TensorShapeProto.Dimension(dim_param=f"d{i}") for i in range(rank)
        )
    return model


def reference(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x}
    return session.run([session.get_outputs()[0].name], feed)[0]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_interpreter_matches_onnxruntime_for_every_supported_operator(case):
    checked = check_onnx(make_model(case).SerializeToString())
    module = OnnxModule(checked)

    with torch.no_grad():
        ours = module(torch.from_numpy(case.x)).numpy()

    expected = reference(checked, case.x)
    assert differentiable(checked)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=1e-5, rtol=1e-5)


def test_every_supported_operator_has_a_case_and_the_allow_list_names_exactly_them():
    assert {case.op for case in CASES} == SUPPORTED_OPS
    assert SUPPORTED_OPS == INTERPRETER_OPS


def mlp_onnx(net: torch.nn.Sequential, names: dict[str, str] | None = None) -> onnx.ModelProto:
    """The two-layer perceptron `net` written as Gemm nodes (transB=1, as torch stores it)."""
    n = {"x": "x", "w1": "w1", "b1": "b1", "h": "h", "r": "r", "w2": "w2", "b2": "b2", "y": "y"}
    n.update(names or {})
    first, last = net[0], net[2]
    initializers = [
        numpy_helper.from_array(t.detach().numpy(), n[key])
        for key, t in (
            ("w1", first.weight),
            ("b1", first.bias),
            ("w2", last.weight),
            ("b2", last.bias),
        )
    ]
    nodes = [
        helper.make_node(
            "Gemm", [n["x"], n["w1"], n["b1"]], [n["h"]], transB=1, name=n.get("node1", "")
        ),
        helper.make_node("Relu", [n["h"]], [n["r"]], name=n.get("node2", "")),
        helper.make_node(
            "Gemm", [n["r"], n["w2"], n["b2"]], [n["y"]], transB=1, name=n.get("node3", "")
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info(n["x"], TensorProto.FLOAT, ["N", first.in_features])],
        [helper.make_tensor_value_info(n["y"], TensorProto.FLOAT, ["N", last.out_features])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def small_mlp() -> torch.nn.Sequential:
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def test_gradients_reach_the_input_and_equal_torchs_own_for_the_same_perceptron():
    net = small_mlp()
    module = OnnxModule(check_onnx(mlp_onnx(net).SerializeToString()))
    x = torch.from_numpy(floats(5, 6))
    ours, theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)

    torch.nn.functional.cross_entropy(module(ours), torch.tensor([0, 1, 2, 0, 1])).backward()
    torch.nn.functional.cross_entropy(net(theirs), torch.tensor([0, 1, 2, 0, 1])).backward()

    assert ours.grad is not None
    assert theirs.grad is not None
    assert ours.grad.abs().sum() > 0
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-6, rtol=1e-5)
    assert not any(p.requires_grad for p in module.parameters())


def test_gradients_flow_through_convolution_pooling_and_normalisation():
    case = Case(
        "Conv",
        "stack",
        [
            node("Conv", ["x", "w"], "c", pads=[1, 1, 1, 1]),
            node("BatchNormalization", ["c", "s", "b", "m", "v"], "n"),
            node("Relu", ["n"], "r"),
            node("MaxPool", ["r"], "p", kernel_shape=[2, 2], strides=[2, 2]),
            node("GlobalAveragePool", ["p"], "g"),
            node("Flatten", ["g"], "y"),
        ],
        floats(2, 3, 8, 8),
        {"w": floats(4, 3, 3, 3), "s": floats(4), "b": floats(4), "m": floats(4), "v": positive(4)},
    )
    module = OnnxModule(check_onnx(make_model(case).SerializeToString()))
    x = torch.from_numpy(case.x).requires_grad_(True)

    module(x).sum().backward()

    assert x.grad is not None
    assert torch.count_nonzero(x.grad) > 0


HOSTILE_NAMES = {
    "x": "__import__('os').system('touch {canary}')",
    "w1": "../../etc/passwd",
    "b1": "/proc/self/environ",
    "h": "forward",
    "r": "tensors",
    "w2": "__class__",
    "b2": "_parameters",
    "y": "exec(open('{canary}', 'w'))",
    "node1": "",
    "node2": "same",
    "node3": "same",
}


def test_names_that_are_code_paths_or_attributes_are_only_dictionary_keys(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    canary = tmp_path / "canary"
    names = {key: value.format(canary=canary) for key, value in HOSTILE_NAMES.items()}
    net = small_mlp()
    model = check_onnx(mlp_onnx(net, names).SerializeToString())
    x = floats(7, 6)

    module = OnnxModule(model)
    with torch.no_grad():
        ours = module(torch.from_numpy(x)).numpy()
    loaded = load_model(model.SerializeToString())

    # onnxruntime refuses duplicate node names; OnnxRuntimeModel renames nodes by position.
    np.testing.assert_allclose(ours, OnnxRuntimeModel(model).predict(x), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(loaded.predict(x), ours, atol=1e-6)
    assert loaded.differentiable
    assert module.forward.__func__ is OnnxModule.forward  # "forward" stayed the method
    assert [name for name, _ in module.named_parameters()] == [f"tensors.{i}" for i in range(4)]
    assert not canary.exists()
    assert os.listdir(work) == []


def test_a_scikit_learn_perceptron_export_runs_in_the_interpreter_without_its_label_branch():
    from skl2onnx import to_onnx
    from sklearn.datasets import load_digits  # noqa: TID251 - builds a real exported model
    from sklearn.exceptions import ConvergenceWarning  # noqa: TID251 - builds a real model
    from sklearn.neural_network import MLPClassifier  # noqa: TID251 - builds a real model

    x, y = load_digits(return_X_y=True)
    x = (x[:300] / 16).astype(np.float32)
    classifier = MLPClassifier(hidden_layer_sizes=(16,), max_iter=50, random_state=0)
    with warnings.catch_warnings():
        # A few epochs are enough to compare two runtimes; convergence is beside the point.
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(x, y[:300] % 3)
    exported = to_onnx(classifier, x[:1], options={"zipmap": False})
    assert {"ArgMax", "ArrayFeatureExtractor"} <= {n.op_type for n in exported.graph.node}

    loaded = load_model(exported.SerializeToString())

    assert loaded.differentiable
    assert loaded.input_shape == (64,)
    np.testing.assert_allclose(loaded.predict(x), classifier.predict_proba(x), atol=1e-5)


def test_an_operator_outside_the_interpreter_sends_the_model_to_onnxruntime():
    case = single("Sqrt", "runtime-only", positive(4, 3))
    model = check_onnx(make_model(case).SerializeToString())

    loaded = load_model(model.SerializeToString())

    assert not differentiable(model)
    assert loaded.module is None
    assert not loaded.differentiable
    np.testing.assert_allclose(loaded.predict(case.x), np.sqrt(case.x), rtol=1e-6)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (
            single(
                "AveragePool",
                "ceil",
                floats(1, 2, 6, 6),
                kernel_shape=[3, 3],
                strides=[2, 2],
                ceil_mode=1,
            ),
            "ceil_mode",
        ),
        (
            single(
                "Pad",
                "reflect",
                floats(2, 3, 4),
                ("x", "p"),
                init={"p": ints(0, 1, 1, 0, 1, 1)},
                mode="reflect",
            ),
            "constant",
        ),
        (single("Softmax", "opset-10", floats(2, 3), opset=10), "opset"),
    ],
    ids=["average-pool-ceil-mode", "pad-reflect", "opset-below-11"],
)
def test_attribute_values_the_interpreter_lacks_fall_back_to_onnxruntime(case, reason):
    from evaluations.assessments.modelfiles.onnx_torch import unsupported_reason

    model = check_onnx(make_model(case).SerializeToString())

    assert reason in (unsupported_reason(model) or "")
    loaded = load_model(model.SerializeToString())
    assert loaded.module is None
    np.testing.assert_allclose(loaded.predict(case.x), reference(model, case.x), atol=1e-6)
