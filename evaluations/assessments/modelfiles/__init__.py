"""Uploaded model files: read, checked and run without executing anything they contain.

Models arrive as ONNX (parsed from bytes, external data refused, operators from an
allow-list, run by riskreg's interpreter `onnx_torch` or by onnxruntime) or as safetensors
weights with a declarative architecture (`architecture`). Pickles, zip archives, TorchScript
and every other format are refused by content (`sniff`), never by file name. Every refusal
is a `ModelRefusedError` with a stable code (errors.py).

The names below are imported on first use (PEP 562), so importing `errors` or `sniff` does
not load torch or onnxruntime.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evaluations.assessments.modelfiles.errors import ModelRefusedError
    from evaluations.assessments.modelfiles.loading import LoadedModel, check_input, load_model
    from evaluations.assessments.modelfiles.onnx_check import (
        LIMITS,
        Limits,
        check_onnx,
        differentiable,
    )
    from evaluations.assessments.modelfiles.onnx_runtime import OnnxRuntimeModel
    from evaluations.assessments.modelfiles.onnx_torch import OnnxModule
    from evaluations.assessments.modelfiles.sniff import Format, sniff

_HOMES = {
    "ModelRefusedError": "errors",
    "LoadedModel": "loading",
    "check_input": "loading",
    "load_model": "loading",
    "LIMITS": "onnx_check",
    "Limits": "onnx_check",
    "check_onnx": "onnx_check",
    "differentiable": "onnx_check",
    "OnnxRuntimeModel": "onnx_runtime",
    "OnnxModule": "onnx_torch",
    "Format": "sniff",
    "sniff": "sniff",
}

__all__ = [
    "LIMITS",
    "Format",
    "Limits",
    "LoadedModel",
    "ModelRefusedError",
    "OnnxModule",
    "OnnxRuntimeModel",
    "check_input",
    "check_onnx",
    "differentiable",
    "load_model",
    "sniff",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
