"""Uploaded model files: formats told by content, hostile files refused before anything runs.

Pickles are built here with `pickle.dumps` and never loaded: each carries a `__reduce__`
that would create a canary file, and every test asserts the canary never appears. External
data points at a real file in the working directory, watched with inotify (C++ readers
included), so "nothing was read" is observed, not assumed.
"""

import ctypes
import gzip
import io
import os
import pickle  # noqa: TID251 - builds the malicious payloads; never loads one
import struct
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import onnx  # noqa: TID251 - tests build hostile ONNX files
import pytest
import safetensors.numpy  # noqa: TID251 - tests build safetensors bytes to sniff
from onnx import TensorProto, helper, numpy_helper  # noqa: TID251 - builds test graphs

from evaluations.assessments.modelfiles.errors import ModelRefusedError
from evaluations.assessments.modelfiles.loading import check_input, load_model
from evaluations.assessments.modelfiles.onnx_check import ALLOWED_OPS, Limits, check_onnx
from evaluations.assessments.modelfiles.sniff import sniff

RNG = np.random.default_rng(11)


class WritesCanary:
    """Unpickling this opens `path` for writing: the file appearing would prove it ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def weights(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def linear_model(*, batch="N", features=3, extra_nodes=(), opset=17) -> onnx.ModelProto:
    """y = x · w + b, then any extra nodes reading y."""
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["y0"]),
        *extra_nodes,
    ]
    last = nodes[-1].output[0]
    graph = helper.make_graph(
        nodes,
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, features])],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, [batch, 2])],
        [
            numpy_helper.from_array(weights(features, 2), "w"),
            numpy_helper.from_array(weights(2), "b"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def refused(code, call, *args, **kwargs) -> ModelRefusedError:
    with pytest.raises(ModelRefusedError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


# --- Formats -------------------------------------------------------------------------------


def npy_bytes() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(4))
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


NOT_MODELS = {
    "empty": (b"", "an empty file"),
    "pickle-protocol-2": (pickle.dumps({"w": [1.0]}, protocol=2), "a Python pickle"),
    "pickle-protocol-5": (pickle.dumps({"w": [1.0]}, protocol=5), "a Python pickle"),
    "pickle-protocol-0-builtin": (b"c__builtin__\neval\n(S'1'\ntR.", "a Python pickle"),
    "pickle-protocol-0-os-system": (b"cos\nsystem\n(S'true'\ntR.", "a Python pickle"),
    "pickle-protocol-0-any-class": (b"cevil.module\nPayload\n)R.", "a Python pickle"),
    "zip": (zip_bytes({"archive/data.pkl": b"\x80\x02}q\x00."}), "a zip archive"),
    "npy": (npy_bytes(), "a NumPy .npy array"),
    "gzip": (gzip.compress(b"weights"), "a gzip archive"),
    "hdf5": (b"\x89HDF\r\n\x1a\n" + bytes(64), "an HDF5 file"),
    "json": (b'{"input_shape": [3], "layers": []}', "JSON text"),
    "text": (b"layer 1: linear 3 -> 2\n", "text"),
    "binary": (bytes([0xFF, 0xFE, 0x00, 0x10]) * 16, "an unrecognised binary file"),
}


@pytest.mark.parametrize(("data", "found"), NOT_MODELS.values(), ids=NOT_MODELS.keys())
def test_sniff_names_what_it_found_and_what_riskreg_accepts(data, found):
    error = refused("model_format", sniff, data)

    assert f"The file is {found}" in error.message
    assert "ONNX" in error.message
    assert "safetensors" in error.message


def test_sniff_recognises_onnx_and_safetensors_by_content():
    tensors = safetensors.numpy.save({"layer.weight": weights(2, 3)})

    assert sniff(linear_model().SerializeToString()) == "onnx"
    assert sniff(tensors) == "safetensors"


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_pickle_that_would_write_a_file_is_refused_and_never_runs(tmp_path, protocol):
    canary = tmp_path / "canary"
    payload = pickle.dumps(WritesCanary(canary), protocol=protocol)
    assert str(canary).encode() in payload

    refused("model_format", load_model, payload)
    refused("model_format", load_model, payload, architecture=b'{"layers": []}')
    refused("model_invalid", check_onnx, payload)

    assert not canary.exists()


def test_a_pickle_inside_a_torch_save_like_zip_is_refused_and_never_runs(tmp_path):
    canary = tmp_path / "canary"
    payload = zip_bytes(
        {
            "archive/data.pkl": pickle.dumps(WritesCanary(canary), protocol=2),
            "archive/version": b"3\n",
        }
    )

    error = refused("model_format", load_model, payload, architecture=b'{"layers": []}')

    assert "zip archive (PyTorch or TorchScript save)" in error.message
    assert not canary.exists()


def test_safetensors_weights_without_an_architecture_are_refused():
    tensors = safetensors.numpy.save({"0.weight": weights(2, 3), "0.bias": weights(2)})

    error = refused("architecture_invalid", load_model, tensors)

    assert "architecture" in error.message


def test_a_truncated_onnx_file_is_refused_as_invalid_not_as_another_format():
    data = linear_model().SerializeToString()

    refused("model_invalid", load_model, data[: len(data) // 2])
    refused("model_invalid", check_onnx, data[: len(data) // 2])


# --- External data -------------------------------------------------------------------------


IN_ACCESS, IN_OPEN = 0x1, 0x20  # inotify(7)


@pytest.fixture
def files_opened(tmp_path, monkeypatch):
    """A fresh working directory holding a real weights.bin, watched with inotify.

    Returns a function giving the names of the files opened or read there so far, by this
    process or any library it calls (onnx's and onnxruntime's C++ included).
    """
    monkeypatch.chdir(tmp_path)
    (tmp_path / "weights.bin").write_bytes(np.zeros((3, 2), np.float32).tobytes())
    libc = ctypes.CDLL(None, use_errno=True)
    watch = libc.inotify_init1(os.O_NONBLOCK)
    assert watch >= 0
    assert libc.inotify_add_watch(watch, bytes(tmp_path), IN_ACCESS | IN_OPEN) >= 0
    seen: set[str] = set()

    def names() -> set[str]:
        while True:
            try:
                events = os.read(watch, 65536)
            except BlockingIOError:
                return seen
            while events:  # struct inotify_event: wd, mask, cookie, len, name[len]
                length = struct.unpack_from("iIII", events)[3]
                seen.add(events[16 : 16 + length].rstrip(b"\0").decode())
                events = events[16 + length :]

    yield names
    os.close(watch)


def external(tensor: onnx.TensorProto) -> onnx.TensorProto:
    """`tensor` pointing at weights.bin instead of holding its data."""
    onnx.external_data_helper.set_external_data(tensor, location="weights.bin")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")
    return tensor


def test_the_watch_sees_onnx_itself_read_external_data_from_the_working_directory(
    files_opened,
):
    tensor = external(numpy_helper.from_array(weights(3, 2), "w"))

    loaded = numpy_helper.to_array(tensor)  # what riskreg never does with an upload

    assert "weights.bin" in files_opened()
    assert loaded.shape == (3, 2)


def test_an_initializer_stored_outside_the_file_is_refused_without_reading_it(files_opened):
    model = linear_model()
    external(model.graph.initializer[0])

    error = refused("model_external_data", load_model, model.SerializeToString())

    assert "'w'" in error.message
    assert "the main graph" in error.message
    assert "weights.bin" not in files_opened()


def if_model(then_nodes, then_initializers=(), cond=True) -> onnx.ModelProto:
    """y = If(cond) then <then_nodes writing t> else x + 0; both branches read x."""
    then_branch = helper.make_graph(
        then_nodes,
        "then",
        [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)],
        list(then_initializers),
    )
    else_branch = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["e"])],
        "else",
        [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)],
    )
    graph = helper.make_graph(
        [helper.make_node("If", ["cond"], ["y"], then_branch=then_branch, else_branch=else_branch)],
        "branching",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(np.array(cond), "cond")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_external_data_inside_an_if_branch_is_refused_without_reading_it(files_opened):
    inner = external(numpy_helper.from_array(weights(3, 2)[0], "inner_w"))
    model = if_model([helper.make_node("Add", ["x", "inner_w"], ["t"])], [inner])

    error = refused("model_external_data", load_model, model.SerializeToString())

    assert "then_branch" in error.message
    assert "weights.bin" not in files_opened()


def test_an_external_constant_attribute_in_a_branch_is_refused_without_reading_it(files_opened):
    value = external(numpy_helper.from_array(weights(2), "c"))
    nodes = [
        helper.make_node("Constant", [], ["c"], value=value),
        helper.make_node("Add", ["x", "c"], ["t"]),
    ]

    refused("model_external_data", load_model, if_model(nodes).SerializeToString())

    assert "weights.bin" not in files_opened()


def test_an_if_model_with_allowed_branches_runs_in_onnxruntime():
    model = if_model(
        [helper.make_node("Add", ["x", "b"], ["t"])],
        [numpy_helper.from_array(np.ones(2, np.float32), "b")],
    )
    x = weights(4, 2)

    loaded = load_model(model.SerializeToString())

    assert not loaded.differentiable
    np.testing.assert_allclose(loaded.predict(x), x + 1, rtol=1e-6)


# --- Operators -----------------------------------------------------------------------------


def test_an_operator_off_the_allow_list_is_refused_naming_it_and_its_position():
    shape = numpy_helper.from_array(np.array([1_000_000, 2], np.int64), "shape")
    model = linear_model(extra_nodes=[helper.make_node("Expand", ["y0", "shape"], ["y"])])
    model.graph.initializer.append(shape)

    error = refused("model_op_refused", load_model, model.SerializeToString())

    assert "'Expand'" in error.message
    assert "node 2" in error.message


def test_an_operator_from_a_custom_domain_is_refused():
    node = helper.make_node("Exec", ["y0"], ["y"], domain="com.attacker", name="run\nme")
    model = linear_model(extra_nodes=[node])
    model.opset_import.append(helper.make_opsetid("com.attacker", 1))

    error = refused("model_op_refused", check_onnx, model.SerializeToString())

    assert "'com.attacker::Exec'" in error.message
    assert "'run\\nme'" in error.message
    assert "\n" not in error.message


def test_a_refused_operator_nested_in_an_if_branch_is_found():
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("ConstantOfShape", ["s"], ["t"]),
    ]

    error = refused("model_op_refused", load_model, if_model(nodes).SerializeToString())

    assert "'ConstantOfShape'" in error.message
    assert "then_branch" in error.message


def loop_model(body_nodes) -> onnx.ModelProto:
    """y = Loop(3 times) over a carried value starting at x."""
    body = helper.make_graph(
        body_nodes,
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("carried", TensorProto.FLOAT, None),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("next", TensorProto.FLOAT, None),
        ],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "", "x"], ["y"], body=body)],
        "looping",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(np.array(3, np.int64), "trips")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_loops_are_refused_and_a_refused_operator_in_a_loop_body_is_found():
    body = [
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("Shape", ["carried"], ["s"]),
        helper.make_node("Expand", ["carried", "s"], ["next"]),
    ]
    data = loop_model(body).SerializeToString()
    with_loops = {**ALLOWED_OPS, "": ALLOWED_OPS[""] | {"Loop"}}

    top = refused("model_op_refused", check_onnx, data)
    nested = refused("model_op_refused", check_onnx, data, allowed_ops=with_loops)

    assert "'Loop'" in top.message
    assert "'Expand'" in nested.message
    assert "attribute 'body'" in nested.message


def test_padding_read_from_data_or_huge_is_refused():
    from_data = linear_model(
        extra_nodes=[
            helper.make_node("Shape", ["y0"], ["pads"]),
            helper.make_node("Pad", ["y0", "pads"], ["y"]),
        ]
    )
    huge = linear_model(extra_nodes=[helper.make_node("Pad", ["y0", "pads"], ["y"])])
    huge.graph.initializer.append(numpy_helper.from_array(np.array([0, 0, 0, 10**6]), "pads"))

    pooled = linear_model(
        extra_nodes=[
            helper.make_node("Unsqueeze", ["y0", "axes"], ["y3"]),
            helper.make_node("MaxPool", ["y3"], ["y"], kernel_shape=[1], pads=[0, 100_000]),
        ]
    )
    pooled.graph.initializer.append(numpy_helper.from_array(np.array([0]), "axes"))

    for model, label in (
        (from_data, "node 3 ('Pad'"),
        (huge, "node 2 ('Pad'"),
        (pooled, "node 3 ('MaxPool'"),
    ):
        error = refused("model_op_refused", check_onnx, model.SerializeToString())
        assert f"Padding at {label}" in error.message


def test_model_local_functions_are_refused():
    model = linear_model()
    model.functions.append(
        helper.make_function(
            "local",
            "Double",
            ["a"],
            ["b"],
            [helper.make_node("Add", ["a", "a"], ["b"])],
            [helper.make_opsetid("", 17)],
        )
    )

    refused("model_op_refused", check_onnx, model.SerializeToString())


# --- Limits --------------------------------------------------------------------------------


def test_files_over_the_byte_node_or_element_limits_are_refused_as_too_large():
    data = linear_model(extra_nodes=[helper.make_node("Relu", ["y0"], ["y"])]).SerializeToString()

    refused("model_too_large", load_model, data, limits=Limits(max_bytes=len(data) - 1))
    refused("model_too_large", load_model, data, limits=Limits(max_nodes=2))
    refused("model_too_large", load_model, data, limits=Limits(max_elements=7))
    assert load_model(data, limits=Limits(max_bytes=len(data), max_nodes=3, max_elements=8))


def test_an_inconsistent_graph_is_refused_by_the_checker():
    model = linear_model()
    model.graph.node[1].input[0] = "never_defined"

    error = refused("model_invalid", load_model, model.SerializeToString())

    assert "checker" in error.message


# --- scikit-learn through onnxruntime --------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits  # noqa: TID251 - real models to export

    x, y = load_digits(return_X_y=True)
    return (x[:400] / 16).astype(np.float32), y[:400] % 3


def test_scikit_learn_tree_ensembles_run_in_onnxruntime_and_match_predict_proba(digits):
    from skl2onnx import to_onnx
    from sklearn.ensemble import (  # noqa: TID251 - real models to export
        GradientBoostingClassifier,
        RandomForestClassifier,
    )

    x, y = digits
    for classifier in (
        GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0),
        RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0),
    ):
        classifier.fit(x, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exported = to_onnx(classifier, x[:1], options={"zipmap": False})

        loaded = load_model(exported.SerializeToString())

        assert not loaded.differentiable
        assert loaded.module is None
        assert loaded.input_shape == (64,)
        assert loaded.format == "onnx"
        np.testing.assert_allclose(loaded.predict(x), classifier.predict_proba(x), atol=1e-5)


def test_a_zipmap_export_is_refused_with_a_hint(digits):
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression  # noqa: TID251 - a real model

    x, y = digits
    exported = to_onnx(LogisticRegression(max_iter=1000).fit(x, y), x[:1])

    error = refused("model_invalid", load_model, exported.SerializeToString())

    assert "zipmap" in error.message


# --- Inputs --------------------------------------------------------------------------------


def test_evaluation_data_of_the_wrong_shape_is_refused_naming_both_shapes():
    loaded = load_model(linear_model(features=3).SerializeToString())

    error = refused("input_mismatch", check_input, loaded, np.zeros((5, 4), np.float32))

    assert "(3,)" in error.message
    assert "(4,)" in error.message
    refused("input_mismatch", loaded.predict, np.zeros((5, 3, 1), np.float32))
    check_input(loaded, np.zeros((5, 3), np.float32))


def test_a_symbolic_dimension_after_the_batch_is_refused():
    model = linear_model()
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_param = "features"

    error = refused("model_invalid", load_model, model.SerializeToString())

    assert "'features'" in error.message


def test_a_fixed_batch_size_is_honoured_by_running_in_padded_chunks():
    model = linear_model(batch=4)
    x = weights(10, 3)
    w, b = (numpy_helper.to_array(t) for t in model.graph.initializer)

    loaded = load_model(model.SerializeToString())

    assert loaded.batch_size == 4
    assert loaded.input_shape == (3,)
    assert loaded.parameters == 8
    assert loaded.size_bytes == len(model.SerializeToString())
    np.testing.assert_allclose(loaded.predict(x), x @ w + b, rtol=1e-5, atol=1e-6)


def test_importing_the_errors_does_not_load_torch_or_onnxruntime():
    code = (
        "import sys; from evaluations.assessments.modelfiles import ModelRefusedError; "
        "from evaluations.assessments.modelfiles.errors import ModelRefusedError as same; "
        "assert ModelRefusedError is same; "
        "print(sorted({'torch', 'onnxruntime'} & set(sys.modules)))"
    )

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)

    assert result.stdout.decode().strip() == "[]"
