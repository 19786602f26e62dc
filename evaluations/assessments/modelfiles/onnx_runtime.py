"""onnxruntime for checked graphs the interpreter does not run (scikit-learn exports, ...).

No gradients here: such a model gets scores, not attacks that need a gradient.

The session is built from the checked proto's bytes, never from a path. `check_onnx` has
already refused external data, the one feature that makes onnxruntime read a file while
loading. The options keep it that way and keep it small: one intra-op and one inter-op
thread, sequential execution, no profiling file, no optimised-model file, no EP-context
cache, the CPU provider only (the Azure provider, which calls out over the network, is never
listed), and no custom-operator library is ever registered.

Node names are replaced by positional ones (`node0`, `node1`, ...) in the copy onnxruntime
gets: they mean nothing to the computation, onnxruntime refuses duplicates the ONNX checker
allows, and the file's text then never reaches onnxruntime's logs or messages.
"""

import numpy as np
import onnx  # noqa: TID251 - modelfiles is where uploaded ONNX is parsed and run
import onnxruntime as ort  # type: ignore[import-untyped]  # noqa: TID251 - runs checked graphs only
from numpy.typing import NDArray
from onnxruntime.capi import (  # type: ignore[import-untyped]  # noqa: TID251 - its errors
    onnxruntime_pybind11_state as ort_state,
)

from evaluations.assessments.modelfiles.errors import ModelRefusedError
from evaluations.assessments.modelfiles.onnx_check import graph_input, score_output, walk_graphs

# onnxruntime's own exceptions derive from Exception directly; its Python layer adds
# ValueError and RuntimeError.
RUNTIME_ERRORS: tuple[type[Exception], ...] = (
    ort_state.EPFail,
    ort_state.EngineError,
    ort_state.Fail,
    ort_state.InvalidArgument,
    ort_state.InvalidGraph,
    ort_state.InvalidProtobuf,
    ort_state.NoModel,
    ort_state.NoSuchFile,
    ort_state.NotFound,
    ort_state.NotImplemented,
    ort_state.RuntimeException,
    RuntimeError,
    ValueError,
)


def session_options() -> "ort.SessionOptions":
    """One thread each, nothing written or read besides the model bytes."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_profiling = False
    options.optimized_model_filepath = ""
    options.log_severity_level = 3  # errors only: warnings would go to the worker's stderr
    options.add_session_config_entry("session.load_model_format", "ONNX")
    options.add_session_config_entry("ep.context_enable", "0")
    return options


class OnnxRuntimeModel:
    """A checked ONNX model run by onnxruntime; `predict` returns its score output."""

    def __init__(self, model: onnx.ModelProto) -> None:
        source = graph_input(model)
        self._input = source.name
        self._output = score_output(model).name
        self._dtype = onnx.helper.tensor_dtype_to_np_dtype(source.type.tensor_type.elem_type)
        try:
            self._session = ort.InferenceSession(
                _renamed(model),
                sess_options=session_options(),
                providers=["CPUExecutionProvider"],
            )
        except RUNTIME_ERRORS as error:
            raise ModelRefusedError(
                "model_invalid", f"onnxruntime refused the model: {error}"[:500]
            ) from None

    def predict(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """Scores for a batch: logits, probabilities (skl2onnx's `probabilities`) or values.

        Raises:
            ModelRefusedError: `model_invalid` when the model fails on this batch.
        """
        try:
            outputs = self._session.run([self._output], {self._input: x.astype(self._dtype)})
        except RUNTIME_ERRORS as error:
            raise ModelRefusedError(
                "model_invalid", f"The model failed on the evaluation data: {error}"[:500]
            ) from None
        return np.asarray(outputs[0], dtype=np.float32)


def _renamed(model: onnx.ModelProto) -> bytes:
    """`model`'s bytes with every node, subgraphs included, named by its position."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    count = 0
    for graph, _ in walk_graphs(copy):
        for node in graph.node:
            node.name = f"node{count}"
            count += 1
    data: bytes = copy.SerializeToString()
    return data
