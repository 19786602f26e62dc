"""Tell an uploaded model file's format from its content, never from its name.

Two formats are accepted:

* safetensors: an 8-byte little-endian header length n, then n bytes of JSON starting with
  `{`, then the raw tensor bytes;
* ONNX: a protobuf `ModelProto` with a graph. A cheap pre-check (the first byte is the tag
  of a `ModelProto` field) comes before the parse, which executes nothing.

Everything else is refused with `model_format`, and the message names what was found:
pickles (protocol 2+ start with 0x80; protocols 0-1 with a GLOBAL opcode such as
`cos\\nsystem`), zip archives (`torch.save`, TorchScript, joblib), NumPy `.npy`, gzip,
HDF5, text or JSON. Those descriptions are only for the message: a file is accepted
because it positively is one of the two formats, and nothing here unpickles or unzips.
"""

import re
from typing import Literal

import onnx  # noqa: TID251 - modelfiles is where uploaded ONNX is parsed
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from evaluations.assessments.modelfiles.errors import ModelRefusedError

Format = Literal["onnx", "safetensors"]

ACCEPTED = (
    "riskreg accepts an ONNX model, or safetensors weights with a declarative architecture; "
    "pickles and archives are refused because loading them can run code"
)

# The first byte of a serialised ModelProto is the tag of one of its fields:
# (field number << 3) | wire type, for ir_version, producer_name, producer_version, domain,
# model_version, doc_string, graph, opset_import and metadata_props; training_info,
# functions and configuration have two-byte tags starting 0xa2, 0xca and 0xd2.
ONNX_FIRST_BYTES = frozenset(b"\x08\x12\x1a\x22\x28\x32\x3a\x42\x72\xa2\xca\xd2")

MAGIC = (
    (b"PK\x03\x04", "a zip archive (PyTorch or TorchScript save)"),
    (b"PK\x05\x06", "a zip archive (PyTorch or TorchScript save)"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (Keras)"),
)

# Protocol 0-1 pickles open with one of these opcodes (MARK, GLOBAL, EMPTY_DICT,
# EMPTY_LIST, EMPTY_TUPLE) and import callables by GLOBAL, "c<module>\n<name>\n".
PICKLE_OPENERS = frozenset(b"(c}])")
# A GLOBAL opcode after at most a few MARK / EMPTY_* opcodes: "c<module>\n<name>\n".
GLOBAL_FIRST = re.compile(rb"[(}\])]{0,4}c[A-Za-z_][\w.]*\n[A-Za-z_][\w.]*\n")
PICKLE_GLOBALS = (
    b"c__builtin__\n",
    b"cbuiltins\n",
    b"cos\n",
    b"cposix\n",
    b"cnt\n",
    b"csubprocess\n",
    b"ccopy_reg\n",
    b"c__main__\n",
)


def sniff(data: bytes) -> Format:
    """The format of `data`, read from its bytes.

    Raises:
        ModelRefusedError: `model_format` when it is neither format, `model_invalid` when it
            starts like an ONNX model but does not parse (a truncated upload).
    """
    if not data:
        raise _refused("an empty file")
    if is_safetensors(data):
        return "safetensors"
    if data[0] == 0x80:
        raise _refused("a Python pickle")
    for magic, found in MAGIC:
        if data.startswith(magic):
            raise _refused(found)
    if _is_old_pickle(data):
        raise _refused("a Python pickle")
    if data[0] in ONNX_FIRST_BYTES and _parses_as_onnx(data):
        return "onnx"
    raise _refused(_describe(data))


def is_safetensors(data: bytes) -> bool:
    """Whether `data` has safetensors' layout: a header length that fits, then `{`."""
    if len(data) < 10:
        return False
    length = int.from_bytes(data[:8], "little")
    return 2 <= length <= len(data) - 8 and data[8:9] == b"{"


def _is_old_pickle(data: bytes) -> bool:
    head = data[:4096]
    if GLOBAL_FIRST.match(head):
        return True
    return data[0] in PICKLE_OPENERS and any(marker in head for marker in PICKLE_GLOBALS)


def _parses_as_onnx(data: bytes) -> bool:
    try:
        model = onnx.load_model_from_string(data)
    except DecodeError:
        if _starts_like_onnx(data):
            raise ModelRefusedError(
                "model_invalid",
                "The file starts like an ONNX model but does not parse: it may be truncated "
                "or corrupt.",
            ) from None
        return False
    if model.HasField("graph"):
        return True
    if _starts_like_onnx(data):
        raise ModelRefusedError("model_invalid", "The ONNX model has no graph.")
    return False


def _starts_like_onnx(data: bytes) -> bool:
    # Serialisers write fields in number order, so ir_version (field 1, a small number)
    # comes first.
    return len(data) >= 2 and data[0] == 0x08 and 1 <= data[1] < 0x80


def _describe(data: bytes) -> str:
    head = data[:4096]
    if b"\0" in head:
        return "an unrecognised binary file"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 3:
            return "an unrecognised binary file"
        text = head[: error.start].decode("utf-8")
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return "JSON text (an architecture goes beside its safetensors weights, not alone)"
    return "text"


def _refused(found: str) -> ModelRefusedError:
    return ModelRefusedError("model_format", f"The file is {found}; {ACCEPTED}.")
