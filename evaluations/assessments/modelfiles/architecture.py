"""Networks described in JSON, with weights in safetensors: built from an allow-list, never run.

An uploaded network is two files. The architecture is a JSON document::

    {"format": "riskreg-architecture", "version": 1, "input_shape": [1, 8, 8],
     "layers": [{"type": "Conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 3,
                 "padding": 1},
                {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2}, {"type": "Flatten"},
                {"type": "Linear", "in_features": 128, "out_features": 10}]}

`input_shape` is one example's shape, without the batch dimension. Each layer's `type` is
looked up in `LAYERS` (an explicit table: no name reaches `getattr`), and each of its
parameters is checked against that layer's table of types and ranges. The weights are a
safetensors file read from bytes, whose tensors are named as `torch.nn.Sequential`'s
state_dict names them (`0.weight`, `0.bias`, `3.running_mean`, ...).

Before any weight is read, the network is built on torch's meta device (which allocates
nothing): its size is counted and an example of batch 1 is passed through it layer by layer, so
a layer whose input does not fit is refused by index. Only then are the weights loaded, each
tensor checked by name, shape and dtype.

Refusals raise `ModelRefusedError` with these codes: `architecture_invalid` (the JSON breaks a
rule), `model_too_large` (over `Limits`), `model_format` (the weights are not safetensors, a
pickle for instance), `model_invalid` (safetensors that do not parse, truncated ones included),
`weights_mismatch` (tensors missing, extra, of another shape or of a non-float dtype).
"""

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import safetensors  # noqa: TID251 - modelfiles is safetensors' home
import safetensors.torch  # noqa: TID251 - modelfiles is safetensors' home
import torch  # noqa: TID251 - modelfiles builds the networks it checks
from torch import nn  # noqa: TID251 - modelfiles builds the networks it checks

from evaluations.assessments.modelfiles.errors import ModelRefusedError

FORMAT = "riskreg-architecture"
VERSION = 1
MAX_ARCHITECTURE_BYTES = 1 << 20
FLOAT_DTYPES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
_OPTIONAL_BUFFER = ".num_batches_tracked"


@dataclass(frozen=True)
class Limits:
    """Bounds on an uploaded network; each can be lowered (tests) or raised by keyword."""

    layers: int = 256
    parameters: int = 50_000_000  # elements of all weights and buffers together
    dimension: int = 65_536  # any size parameter and any input dimension
    activation: int = 1 << 24  # elements of one example's output at any layer


DEFAULT_LIMITS = Limits()


class _RuleError(Exception):
    """A value outside its rule; `expected` says what the rule wants."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


Check = Callable[[object, Limits], object]


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ints(low: int, rank: int) -> Check:
    """An integer from `low` to the dimension limit, or a list of `rank` of them (a tuple)."""

    def check(value: object, limits: Limits) -> object:
        def fits(item: object) -> bool:
            return _is_int(item) and low <= item <= limits.dimension

        if fits(value):
            return value
        if isinstance(value, list) and len(value) == rank and all(fits(item) for item in value):
            return tuple(value)
        many = f" or a list of {rank} of them" if rank > 1 else ""
        raise _RuleError(f"an integer from {low} to {limits.dimension}{many}")

    return check


def _size(value: object, limits: Limits) -> object:
    if _is_int(value) and 1 <= value <= limits.dimension:
        return value
    raise _RuleError(f"an integer from 1 to {limits.dimension}")


def _index(value: object, limits: Limits) -> object:
    if _is_int(value) and 0 <= value < limits.dimension:
        return value
    raise _RuleError(f"an integer from 0 to {limits.dimension - 1}")


def _axis(value: object, limits: Limits) -> object:
    # The exact range depends on the input's rank, checked when the shapes flow.
    if _is_int(value) and -5 <= value <= 4:
        return value
    raise _RuleError("an integer from -5 to 4")


def _number(low: float, high: float, *, open_low: bool = False) -> Check:
    def check(value: object, limits: Limits) -> object:
        if _is_number(value) and (low < value if open_low else low <= value) and value <= high:
            return float(value)
        raise _RuleError(f"a number in {'(' if open_low else '['}{low}, {high}]")

    return check


def _boolean(value: object, limits: Limits) -> object:
    if isinstance(value, bool):
        return value
    raise _RuleError("true or false")


def _choice(*allowed: str) -> Check:
    def check(value: object, limits: Limits) -> object:
        if isinstance(value, str) and value in allowed:
            return value
        raise _RuleError(" or ".join(repr(item) for item in allowed))

    return check


def _normalized_shape(value: object, limits: Limits) -> object:
    items = value if isinstance(value, list) and 1 <= len(value) <= 4 else [value]
    if all(_is_int(item) and 1 <= item <= limits.dimension for item in items):
        return tuple(items)
    raise _RuleError(f"an integer from 1 to {limits.dimension} or a list of 1 to 4 of them")


@dataclass(frozen=True)
class LayerType:
    """One allowed layer: its torch class and its parameters' rules.

    `fixed` names attributes a torch module must have for `architecture_of` to describe it
    (settings the JSON cannot express, such as a Conv's padding_mode).
    """

    module: type[nn.Module]
    required: Mapping[str, Check]
    optional: Mapping[str, Check]
    fixed: Mapping[str, object]


def _layer(
    module: type[nn.Module],
    required: Mapping[str, Check] | None = None,
    optional: Mapping[str, Check] | None = None,
    fixed: Mapping[str, object] | None = None,
) -> LayerType:
    return LayerType(module, required or {}, optional or {}, fixed or {})


def _conv(module: type[nn.Module], rank: int) -> LayerType:
    sizes = _ints(1, rank)
    return _layer(
        module,
        {"in_channels": _size, "out_channels": _size, "kernel_size": sizes},
        {"stride": sizes, "padding": _ints(0, rank), "dilation": sizes, "groups": _size}
        | {"bias": _boolean},
        {"padding_mode": "zeros"},
    )


def _max_pool(module: type[nn.Module], rank: int) -> LayerType:
    sizes = _ints(1, rank)
    optional = {"stride": sizes, "padding": _ints(0, rank), "dilation": sizes}
    return _layer(
        module, {"kernel_size": sizes}, optional, {"ceil_mode": False, "return_indices": False}
    )


def _avg_pool(module: type[nn.Module], rank: int) -> LayerType:
    sizes = _ints(1, rank)
    optional = {"stride": sizes, "padding": _ints(0, rank), "count_include_pad": _boolean}
    fixed = {"ceil_mode": False} | ({"divisor_override": None} if rank == 2 else {})
    return _layer(module, {"kernel_size": sizes}, optional, fixed)


def _batch_norm(module: type[nn.Module]) -> LayerType:
    optional = {"eps": _number(0.0, 1.0, open_low=True), "momentum": _number(0.0, 1.0)}
    return _layer(
        module,
        {"num_features": _size},
        optional | {"affine": _boolean},
        {"track_running_stats": True},
    )


LAYERS: dict[str, LayerType] = {
    "Linear": _layer(nn.Linear, {"in_features": _size, "out_features": _size}, {"bias": _boolean}),
    "Conv1d": _conv(nn.Conv1d, 1),
    "Conv2d": _conv(nn.Conv2d, 2),
    "MaxPool1d": _max_pool(nn.MaxPool1d, 1),
    "MaxPool2d": _max_pool(nn.MaxPool2d, 2),
    "AvgPool1d": _avg_pool(nn.AvgPool1d, 1),
    "AvgPool2d": _avg_pool(nn.AvgPool2d, 2),
    "AdaptiveAvgPool1d": _layer(nn.AdaptiveAvgPool1d, {"output_size": _ints(1, 1)}),
    "AdaptiveAvgPool2d": _layer(nn.AdaptiveAvgPool2d, {"output_size": _ints(1, 2)}),
    "Flatten": _layer(nn.Flatten, fixed={"start_dim": 1, "end_dim": -1}),
    "ReLU": _layer(nn.ReLU),
    "GELU": _layer(nn.GELU, optional={"approximate": _choice("none", "tanh")}),
    "Tanh": _layer(nn.Tanh),
    "Sigmoid": _layer(nn.Sigmoid),
    "Softmax": _layer(nn.Softmax, {"dim": _axis}),
    "Dropout": _layer(nn.Dropout, optional={"p": _number(0.0, 1.0)}),
    "BatchNorm1d": _batch_norm(nn.BatchNorm1d),
    "BatchNorm2d": _batch_norm(nn.BatchNorm2d),
    "LayerNorm": _layer(
        nn.LayerNorm,
        {"normalized_shape": _normalized_shape},
        {"eps": _number(0.0, 1.0, open_low=True), "elementwise_affine": _boolean}
        | {"bias": _boolean},
    ),
    "Embedding": _layer(
        nn.Embedding,
        {"num_embeddings": _size, "embedding_dim": _size},
        {"padding_idx": _index},
        {"max_norm": None},
    ),
}
# The rank each layer's input must have, batch included (torch would also take unbatched
# inputs, and then read the batch as channels).
_INPUT_RANKS: dict[type[nn.Module], tuple[int, ...]] = {
    nn.Conv1d: (3,),
    nn.Conv2d: (4,),
    nn.MaxPool1d: (3,),
    nn.MaxPool2d: (4,),
    nn.AvgPool1d: (3,),
    nn.AvgPool2d: (4,),
    nn.AdaptiveAvgPool1d: (3,),
    nn.AdaptiveAvgPool2d: (4,),
    nn.BatchNorm1d: (2, 3),
    nn.BatchNorm2d: (4,),
    nn.Flatten: (2, 3, 4, 5),
}


@dataclass(frozen=True)
class Network:
    """A checked architecture: its layers built on the meta device, and the shapes between.

    `shapes[i]` is the input shape of layer i for a batch of 1; `shapes[-1]` the output's.
    """

    input_shape: tuple[int, ...]
    kinds: tuple[str, ...]
    module: nn.Sequential
    shapes: tuple[tuple[int, ...], ...]

    @property
    def takes_indices(self) -> bool:
        """Whether the input is integer indices (the first layer is an Embedding)."""
        return self.kinds[0] == "Embedding"


def _invalid(where: str, message: str) -> ModelRefusedError:
    return ModelRefusedError("architecture_invalid", f"{where}: {message}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse_constant(name: str) -> object:
    raise _RuleError(f"a finite number, not {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _RuleError(f"a finite number, not {text}")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _RuleError("an object whose keys each appear once")
    return document


def parse_architecture(architecture: bytes) -> object:
    """The JSON document in `architecture`: UTF-8, at most 1 MiB, finite numbers, unique keys."""
    if len(architecture) > MAX_ARCHITECTURE_BYTES:
        raise ModelRefusedError(
            "model_too_large",
            f"architecture: {len(architecture)} bytes, over the {MAX_ARCHITECTURE_BYTES} limit",
        )
    try:
        text = architecture.decode("utf-8")
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except _RuleError as error:
        raise _invalid("architecture", f"expected {error.expected}") from None
    except (ValueError, RecursionError) as error:
        raise _invalid("architecture", f"not valid JSON ({error})") from None


def _check_header(document: object, limits: Limits) -> tuple[tuple[int, ...], list[object]]:
    if not isinstance(document, dict):
        raise _invalid("architecture", f"expected a JSON object, got {type(document).__name__}")
    unknown = sorted(document.keys() - {"format", "version", "input_shape", "layers"})
    if unknown:
        raise _invalid("architecture", f"unknown field {unknown[0]!r}")
    if document.get("format") != FORMAT:
        raise _invalid("format", f"expected {FORMAT!r}, got {_show(document.get('format'))}")
    version = document.get("version")
    if type(version) is not int or version != VERSION:
        raise _invalid("version", f"expected {VERSION}, got {_show(version)}")
    shape, layers = document.get("input_shape"), document.get("layers")
    if not isinstance(shape, list) or not 1 <= len(shape) <= 4:
        raise _invalid("input_shape", f"expected a list of 1 to 4 sizes, got {_show(shape)}")
    for position, size in enumerate(shape):
        try:
            _size(size, limits)
        except _RuleError as error:
            raise _invalid(f"input_shape[{position}]", f"expected {error.expected}") from None
    if math.prod(shape) > limits.activation:
        raise ModelRefusedError(
            "model_too_large",
            f"input_shape: {math.prod(shape)} elements per example, over the "
            f"{limits.activation} limit",
        )
    if not isinstance(layers, list) or not layers:
        raise _invalid("layers", f"expected a non-empty list, got {_show(layers)}")
    if len(layers) > limits.layers:
        raise ModelRefusedError(
            "model_too_large", f"layers: {len(layers)} layers, over the {limits.layers} limit"
        )
    return tuple(shape), layers


def _layer_arguments(where: str, layer: object, limits: Limits) -> tuple[str, dict[str, object]]:
    if not isinstance(layer, dict):
        raise _invalid(where, f"expected an object, got {_show(layer)}")
    kind = layer.get("type")
    spec = LAYERS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        allowed = ", ".join(sorted(LAYERS))
        raise _invalid(f"{where}.type", f"unknown layer type {_show(kind)}; allowed: {allowed}")
    assert isinstance(kind, str)
    rules = {**spec.required, **spec.optional}
    for name in layer:
        if name != "type" and name not in rules:
            allowed = ", ".join(rules) or "none"
            raise _invalid(where, f"unknown parameter {_show(name)} for {kind}; allowed: {allowed}")
    arguments: dict[str, object] = {}
    for name, check in rules.items():
        if name not in layer:
            if name in spec.required:
                raise _invalid(f"{where}.{name}", f"required for {kind}")
            continue
        try:
            arguments[name] = check(layer[name], limits)
        except _RuleError as error:
            raise _invalid(
                f"{where}.{name}", f"expected {error.expected}, got {_show(layer[name])}"
            ) from None
    return kind, arguments


def _build_layer(where: str, kind: str, arguments: dict[str, object]) -> nn.Module:
    # torch checks what the table cannot (groups dividing channels, padding_idx in range).
    try:
        with torch.device("meta"):
            return LAYERS[kind].module(**arguments)
    except (ValueError, TypeError, RuntimeError, AssertionError) as error:
        raise _invalid(where, f"{kind} refuses these parameters ({error})") from None


def _input_problem(layer: nn.Module, shape: tuple[int, ...]) -> str | None:
    ranks = _INPUT_RANKS.get(type(layer))
    if ranks is not None and len(shape) not in ranks:
        return f"takes an input of rank {' or '.join(map(str, ranks))} (batch included)"
    if isinstance(layer, nn.Linear) and shape[-1] != layer.in_features:
        return f"in_features is {layer.in_features} but its input has {shape[-1]}"
    if isinstance(layer, nn.Conv1d | nn.Conv2d) and shape[1] != layer.in_channels:
        return f"in_channels is {layer.in_channels} but its input has {shape[1]} channels"
    if isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d) and shape[1] != layer.num_features:
        return f"num_features is {layer.num_features} but its input has {shape[1]} channels"
    if isinstance(layer, nn.LayerNorm):
        normalized = tuple(layer.normalized_shape)
        if shape[len(shape) - len(normalized) :] != normalized:
            return f"normalized_shape is {list(normalized)}, which does not end the input shape"
    if isinstance(layer, nn.Softmax):
        return _softmax_problem(layer.dim if layer.dim is not None else 0, len(shape))
    return None


def _softmax_problem(dim: int, rank: int) -> str | None:
    if not -rank <= dim < rank:
        return f"dim {dim} is outside the input's rank {rank}"
    if dim % rank == 0:
        # Across the batch, one example's output would depend on the others.
        return f"dim {dim} is the batch axis"
    return None


def _flow(
    module: nn.Sequential, kinds: list[str], input_shape: tuple[int, ...], limits: Limits
) -> tuple[tuple[int, ...], ...]:
    """Pass a batch of 1 through the meta-device layers, refusing the first that does not fit."""
    dtype = torch.int64 if kinds[0] == "Embedding" else torch.float32
    example = torch.zeros((1, *input_shape), dtype=dtype, device="meta")
    shapes = [tuple(example.shape)]
    for position, (kind, layer) in enumerate(zip(kinds, module, strict=True)):
        where = f"layers[{position}] ({kind})"
        problem = _input_problem(layer, shapes[-1])
        if problem is not None:
            raise _invalid(where, f"{problem}; input shape {list(shapes[-1])}")
        try:
            example = layer(example)
        except (RuntimeError, ValueError, IndexError, TypeError) as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise _invalid(
                where, f"input shape {list(shapes[-1])} does not fit: {message}"
            ) from None
        shapes.append(tuple(example.shape))
        if math.prod(shapes[-1]) > limits.activation:
            raise ModelRefusedError(
                "model_too_large",
                f"{where}: output of {math.prod(shapes[-1])} elements per example, over the "
                f"{limits.activation} limit",
            )
    return tuple(shapes)


def plan_network(document: object, *, limits: Limits = DEFAULT_LIMITS) -> Network:
    """Check a parsed architecture and build it on the meta device, allocating no weights.

    Raises `ModelRefusedError` (`architecture_invalid` naming the field, or `model_too_large`).
    """
    input_shape, layers = _check_header(document, limits)
    kinds: list[str] = []
    built: list[nn.Module] = []
    for position, layer in enumerate(layers):
        where = f"layers[{position}]"
        kind, arguments = _layer_arguments(where, layer, limits)
        if kind == "Embedding" and position > 0:
            raise _invalid(where, "Embedding must be the first layer: it takes integer indices")
        kinds.append(kind)
        built.append(_build_layer(where, kind, arguments))
    module = nn.Sequential(*built).eval()
    size = sum(tensor.numel() for tensor in _expected_tensors(module).values())
    if size > limits.parameters:
        raise ModelRefusedError(
            "model_too_large", f"layers: {size} parameters, over the {limits.parameters} limit"
        )
    shapes = _flow(module, kinds, input_shape, limits)
    return Network(input_shape, tuple(kinds), module, shapes)


def _expected_tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {
        name: tensor
        for name, tensor in module.state_dict().items()
        if not name.endswith(_OPTIONAL_BUFFER)
    }


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def check_state(state: Mapping[str, torch.Tensor], network: Network) -> dict[str, torch.Tensor]:
    """The weights as float32 copies, once every name, shape and dtype matches the network.

    Names must be exactly the network's state_dict names; `*.num_batches_tracked` may be
    given (an integer scalar, ignored) or left out. Raises `ModelRefusedError("weights_mismatch")`.
    """
    expected = _expected_tensors(network.module)
    optional = {name for name in state if name.endswith(_OPTIONAL_BUFFER)}
    optional &= set(network.module.state_dict())
    missing = sorted(expected.keys() - state.keys())
    extra = sorted(state.keys() - expected.keys() - optional)
    if missing or extra:
        parts = ([f"missing {_listed(missing)}"] if missing else []) + (
            [f"unexpected {_listed(extra)}"] if extra else []
        )
        raise ModelRefusedError("weights_mismatch", f"weights: {'; '.join(parts)}")
    for name in optional:
        if state[name].dtype != torch.int64 or state[name].dim() != 0:
            raise ModelRefusedError(
                "weights_mismatch", f"weights: {name!r} must be an int64 scalar"
            )
    for name, wanted in expected.items():
        given = state[name]
        if given.shape != wanted.shape:
            raise ModelRefusedError(
                "weights_mismatch",
                f"weights: {name!r} has shape {list(given.shape)}, expected {list(wanted.shape)}",
            )
        if given.dtype not in FLOAT_DTYPES:
            raise ModelRefusedError(
                "weights_mismatch",
                f"weights: {name!r} has dtype {str(given.dtype).removeprefix('torch.')}, "
                f"expected one of {', '.join(FLOAT_DTYPES.values())}",
            )
    # A copy: safetensors' tensors may share the uploaded bytes' memory.
    return {name: state[name].to(torch.float32, copy=True) for name in expected}


def read_weights(weights: bytes) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file, read from bytes; nothing else is ever parsed.

    A safetensors file starts with the header's length (8 bytes, little-endian) and the JSON
    header's `{`; anything else (a pickle, a zip) is `model_format`. A file that starts right
    but does not parse, a truncated one included, is `model_invalid`.
    """
    if len(weights) < 10 or weights[8:9] != b"{":
        raise ModelRefusedError("model_format", "weights: not a safetensors file")
    try:
        return safetensors.torch.load(weights)
    except safetensors.SafetensorError as error:
        raise ModelRefusedError(
            "model_invalid", f"weights: safetensors does not parse ({error})"
        ) from None


def build_network(
    architecture: bytes, weights: bytes, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[nn.Module, tuple[int, ...]]:
    """The network an architecture JSON and its safetensors weights describe, ready to run.

    Returns the `torch.nn.Sequential` in eval mode, float32, on the CPU, its parameters frozen
    (evaluations take gradients with respect to inputs only), and one example's input shape.
    A network whose first layer is an Embedding takes int64 indices.

    Raises `ModelRefusedError` (see the module's docstring for the codes).
    """
    network = plan_network(parse_architecture(architecture), limits=limits)
    state = check_state(read_weights(weights), network)
    for name, buffer in network.module.state_dict().items():
        if name.endswith(_OPTIONAL_BUFFER):
            state[name] = torch.zeros((), dtype=buffer.dtype)
    module = network.module
    module.load_state_dict(state, strict=True, assign=True)
    module.requires_grad_(False)
    return module.eval(), network.input_shape


def _read_parameter(module: nn.Module, name: str) -> object:
    value = getattr(module, name)
    if name == "bias" and not isinstance(value, bool):
        return value is not None
    if isinstance(value, tuple | torch.Size):
        return list(value)
    return value


def _describe_layer(position: int, module: nn.Module) -> dict[str, object]:
    kind = next((name for name, spec in LAYERS.items() if type(module) is spec.module), None)
    if kind is None:
        raise ValueError(f"layers[{position}]: {type(module).__name__} is not an allowed layer")
    spec = LAYERS[kind]
    for attribute, wanted in spec.fixed.items():
        if getattr(module, attribute) != wanted:
            raise ValueError(f"layers[{position}] ({kind}): {attribute} must be {wanted!r}")
    layer: dict[str, object] = {"type": kind}
    for name in (*spec.required, *spec.optional):
        value = _read_parameter(module, name)
        if value is not None:
            layer[name] = value
    return layer


def architecture_of(module: nn.Sequential, input_shape: tuple[int, ...]) -> dict[str, object]:
    """The architecture document describing `module` (the inverse of `plan_network`).

    Raises `ValueError` naming the first layer the format cannot describe.
    """
    return {
        "format": FORMAT,
        "version": VERSION,
        "input_shape": list(input_shape),
        "layers": [_describe_layer(position, layer) for position, layer in enumerate(module)],
    }


def weights_of(module: nn.Module) -> bytes:
    """The module's state_dict as safetensors bytes, `num_batches_tracked` left out."""
    state = {
        name: tensor.detach().to("cpu").contiguous()
        for name, tensor in module.state_dict().items()
        if not name.endswith(_OPTIONAL_BUFFER)
    }
    return safetensors.torch.save(state)
