"""Declarative networks: JSON + safetensors built from the allow-list, refusals, ONNX export."""

import json
import pickle  # noqa: TID251 - builds the malicious payload; never loads

import numpy as np
import onnx  # noqa: TID251 - tests inspect exported graphs
import onnxruntime  # noqa: TID251 - tests run exported graphs as the reference
import pytest
import safetensors.torch  # noqa: TID251 - tests write crafted weight files
import torch  # noqa: TID251 - tests build the reference networks
from torch import nn  # noqa: TID251 - tests build the reference networks

from evaluations.assessments.modelfiles.architecture import (
    Limits,
    architecture_of,
    build_network,
    plan_network,
    weights_of,
)
from evaluations.assessments.modelfiles.errors import ModelRefusedError
from evaluations.assessments.modelfiles.export import to_onnx

BRIEF_EXAMPLE = {
    "format": "riskreg-architecture",
    "version": 1,
    "input_shape": [1, 8, 8],
    "layers": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 128, "out_features": 10},
    ],
}
LINEAR = {"type": "Linear", "in_features": 4, "out_features": 3}


def _document(*layers, input_shape=(4,)):
    return {
        "format": "riskreg-architecture",
        "version": 1,
        "input_shape": list(input_shape),
        "layers": list(layers),
    }


def _encoded(document):
    return json.dumps(document).encode()


def _settled(module):
    """A module in eval mode whose BatchNorm running statistics are not the defaults."""
    generator = torch.Generator().manual_seed(1)
    for layer in module.modules():
        if isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d):
            layer.running_mean.copy_(torch.rand(layer.num_features, generator=generator) - 0.5)
            layer.running_var.copy_(torch.rand(layer.num_features, generator=generator) + 0.5)
    return module.eval()


def _refusal(architecture, weights=b"", **limits):
    with pytest.raises(ModelRefusedError) as caught:
        build_network(architecture, weights, limits=Limits(**limits))
    return caught.value


def _small_cnn():
    torch.manual_seed(0)
    return _settled(
        nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64, 10),
        )
    )


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).eval()


# Round trips


def test_a_cnn_written_by_architecture_of_and_weights_of_is_rebuilt_with_identical_outputs():
    original = _small_cnn()
    rebuilt, input_shape = build_network(
        _encoded(architecture_of(original, (1, 8, 8))), weights_of(original)
    )
    inputs = torch.randn(6, 1, 8, 8)
    assert input_shape == (1, 8, 8)
    assert torch.equal(rebuilt(inputs), original(inputs))
    assert not rebuilt.training
    assert {tensor.dtype for tensor in rebuilt.state_dict().values()} == {
        torch.float32,
        torch.int64,
    }
    assert not any(parameter.requires_grad for parameter in rebuilt.parameters())


def test_the_documented_example_takes_exactly_the_sequential_state_dict_names():
    torch.manual_seed(0)
    state = {
        "0.weight": torch.randn(8, 1, 3, 3),
        "0.bias": torch.randn(8),
        "4.weight": torch.randn(10, 128),
        "4.bias": torch.randn(10),
    }
    network, input_shape = build_network(_encoded(BRIEF_EXAMPLE), safetensors.torch.save(state))
    assert input_shape == (1, 8, 8)
    assert network(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert torch.equal(network[4].weight, state["4.weight"])


def test_an_embedding_network_takes_integer_indices_and_round_trips():
    torch.manual_seed(0)
    original = nn.Sequential(
        nn.Embedding(10, 4, padding_idx=0), nn.Flatten(), nn.Linear(12, 2)
    ).eval()
    document = architecture_of(original, (3,))
    rebuilt, _ = build_network(_encoded(document), weights_of(original))
    indices = torch.tensor([[0, 1, 9], [4, 4, 2]])
    assert document["layers"][0] == {
        "type": "Embedding",
        "num_embeddings": 10,
        "embedding_dim": 4,
        "padding_idx": 0,
    }
    assert plan_network(document).takes_indices
    assert torch.equal(rebuilt(indices), original(indices))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_weights_are_loaded_as_float32_with_the_same_values(dtype):
    original = _mlp()
    half = {name: tensor.to(dtype) for name, tensor in original.state_dict().items()}
    network, _ = build_network(
        _encoded(architecture_of(original, (4,))), safetensors.torch.save(half)
    )
    assert network[0].weight.dtype == torch.float32
    assert torch.equal(network[0].weight, half["0.weight"].float())


def test_num_batches_tracked_may_be_given_though_weights_of_leaves_it_out():
    original = _small_cnn()
    with_counter = dict(original.state_dict())
    assert "1.num_batches_tracked" in with_counter
    assert "1.num_batches_tracked" not in safetensors.torch.load(weights_of(original))
    network, _ = build_network(
        _encoded(architecture_of(original, (1, 8, 8))), safetensors.torch.save(with_counter)
    )
    inputs = torch.randn(2, 1, 8, 8)
    assert torch.equal(network(inputs), original(inputs))


def test_architecture_of_refuses_a_module_outside_the_allow_list_by_index():
    with pytest.raises(ValueError, match=r"layers\[1\]: Hardswish is not an allowed layer"):
        architecture_of(nn.Sequential(nn.Linear(2, 2), nn.Hardswish()), (2,))
    with pytest.raises(ValueError, match=r"layers\[0\] \(Conv1d\): padding_mode must be 'zeros'"):
        architecture_of(nn.Sequential(nn.Conv1d(1, 1, 3, padding_mode="circular")), (1, 5))


# Architecture refusals: each names its place


@pytest.mark.parametrize(
    ("layer", "place", "detail"),
    [
        ({"type": "Lambda"}, "layers[1].type", "unknown layer type 'Lambda'"),
        ({"type": "__import__"}, "layers[1].type", "unknown layer type '__import__'"),
        ({"type": ["Linear"]}, "layers[1].type", "unknown layer type ['Linear']"),
        ({"type": "ReLU", "inplace": True}, "layers[1]", "unknown parameter 'inplace' for ReLU"),
        ({"type": "MaxPool1d", "kernel_size": "3"}, "layers[1].kernel_size", "got '3'"),
        ({"type": "MaxPool1d", "kernel_size": True}, "layers[1].kernel_size", "got True"),
        ({"type": "MaxPool1d", "kernel_size": -2}, "layers[1].kernel_size", "got -2"),
        ({"type": "MaxPool1d", "kernel_size": 2.0}, "layers[1].kernel_size", "got 2.0"),
        ({"type": "MaxPool1d", "kernel_size": [2, 2]}, "layers[1].kernel_size", "got [2, 2]"),
        (
            {"type": "Linear", "in_features": 3, "out_features": 2, "bias": 1},
            "layers[1].bias",
            "expected true or false, got 1",
        ),
        ({"type": "Linear", "in_features": 3}, "layers[1].out_features", "required for Linear"),
        ({"type": "Dropout", "p": 1.5}, "layers[1].p", "a number in [0.0, 1.0], got 1.5"),
        ({"type": "GELU", "approximate": "erf"}, "layers[1].approximate", "'none' or 'tanh'"),
        ("ReLU", "layers[1]", "expected an object, got 'ReLU'"),
    ],
)
def test_a_malformed_layer_is_refused_naming_its_index_and_field(layer, place, detail):
    document = _document(LINEAR, layer, input_shape=(1, 4))
    refused = _refusal(_encoded(document))
    assert refused.code == "architecture_invalid"
    assert refused.message.startswith(place + ":")
    assert detail in refused.message


@pytest.mark.parametrize(
    ("layers", "input_shape", "detail"),
    [
        (
            [LINEAR, {"type": "Linear", "in_features": 5, "out_features": 2}],
            (4,),
            "layers[1] (Linear): in_features is 5 but its input has 3; input shape [1, 3]",
        ),
        (
            [{"type": "Conv2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3}],
            (1, 8, 8),
            "layers[0] (Conv2d): in_channels is 3 but its input has 1 channels",
        ),
        (
            [{"type": "Conv1d", "in_channels": 1, "out_channels": 2, "kernel_size": 3}],
            (8,),
            "layers[0] (Conv1d): takes an input of rank 3 (batch included)",
        ),
        (
            [{"type": "MaxPool2d", "kernel_size": 5}],
            (1, 3, 3),
            "layers[0] (MaxPool2d): input shape [1, 1, 3, 3] does not fit",
        ),
        (
            [{"type": "Softmax", "dim": 0}],
            (4,),
            "layers[0] (Softmax): dim 0 is the batch axis",
        ),
        (
            [{"type": "Softmax", "dim": 3}],
            (4,),
            "layers[0] (Softmax): dim 3 is outside the input's rank 2",
        ),
        (
            [LINEAR, {"type": "Embedding", "num_embeddings": 3, "embedding_dim": 2}],
            (4,),
            "layers[1]: Embedding must be the first layer",
        ),
        (
            [
                {
                    "type": "Conv1d",
                    "in_channels": 4,
                    "out_channels": 2,
                    "kernel_size": 1,
                    "groups": 3,
                }
            ],
            (4, 5),
            "layers[0]: Conv1d refuses these parameters (in_channels must be divisible by groups)",
        ),
    ],
)
def test_a_layer_whose_input_does_not_fit_is_refused_before_any_weight_is_read(
    layers, input_shape, detail
):
    refused = _refusal(_encoded(_document(*layers, input_shape=input_shape)), b"never read")
    assert refused.code == "architecture_invalid"
    assert detail in refused.message


@pytest.mark.parametrize(
    ("architecture", "place", "detail"),
    [
        (b'{"format": "riskreg-architecture", "version": 1,', "architecture", "not valid JSON"),
        (b'{"format": NaN}', "architecture", "a finite number, not NaN"),
        (b'{"format": -Infinity}', "architecture", "a finite number, not -Infinity"),
        (b'{"version": 1e999}', "architecture", "a finite number, not 1e999"),
        (b'{"version": 1, "version": 1}', "architecture", "keys each appear once"),
        (b"[" * 100_000, "architecture", "not valid JSON"),
        (b"\xff\xfe", "architecture", "not valid JSON ('utf-8' codec"),
        (b"[1, 2]", "architecture", "expected a JSON object, got list"),
        (_encoded({**_document(LINEAR), "format": "keras"}), "format", "got 'keras'"),
        (_encoded({**_document(LINEAR), "version": 2}), "version", "expected 1, got 2"),
        (_encoded({**_document(LINEAR), "version": True}), "version", "expected 1, got True"),
        (_encoded({**_document(LINEAR), "code": "x"}), "architecture", "unknown field 'code'"),
        (_encoded(_document(LINEAR, input_shape=(4.0,))), "input_shape[0]", "from 1 to"),
        (_encoded(_document(input_shape=(4,))), "layers", "a non-empty list"),
    ],
)
def test_a_malformed_document_is_refused_naming_the_field(architecture, place, detail):
    refused = _refusal(architecture)
    assert refused.code == "architecture_invalid"
    assert refused.message.startswith(place + ":")
    assert detail in refused.message


def test_networks_over_the_limits_are_refused_as_too_large_before_allocating():
    huge = {"type": "Linear", "in_features": 65_536, "out_features": 65_536}
    assert _refusal(_encoded(_document(huge, input_shape=(65_536,)))).message == (
        "layers: 4295032832 parameters, over the 50000000 limit"
    )
    many = _encoded(_document(*[{"type": "ReLU"}] * 4))
    assert _refusal(many, layers=3).message == "layers: 4 layers, over the 3 limit"
    assert _refusal(_encoded(_document(LINEAR)), parameters=14).code == "model_too_large"
    wide = _encoded(_document({"type": "Linear", "in_features": 4, "out_features": 100}))
    assert _refusal(wide, activation=99).message.startswith("layers[0] (Linear): output of 100")
    assert _refusal(_encoded(_document(LINEAR)), activation=3).message == (
        "input_shape: 4 elements per example, over the 3 limit"
    )
    assert _refusal(b" " * (1 << 20) + b"{}").code == "model_too_large"
    refused = _refusal(wide, dimension=64)
    assert refused.code == "architecture_invalid"
    assert refused.message == ("layers[0].out_features: expected an integer from 1 to 64, got 100")


# Weight refusals


def _mlp_files(state_change):
    module = _mlp()
    state = dict(module.state_dict())
    state_change(state)
    return _encoded(architecture_of(module, (4,))), safetensors.torch.save(state)


@pytest.mark.parametrize(
    ("state_change", "detail"),
    [
        (lambda state: state.pop("2.bias"), "weights: missing '2.bias'"),
        (
            lambda state: state.update({"3.weight": torch.ones(2)}),
            "weights: unexpected '3.weight'",
        ),
        (
            lambda state: state.update({"0.weight": torch.ones(4, 3)}),
            "weights: '0.weight' has shape [4, 3], expected [3, 4]",
        ),
        (
            lambda state: state.update({"0.bias": torch.ones(3, dtype=torch.int32)}),
            "weights: '0.bias' has dtype int32, expected one of float32, float16, bfloat16",
        ),
        (
            lambda state: state.update({"0.bias": torch.ones(3, dtype=torch.float64)}),
            "weights: '0.bias' has dtype float64",
        ),
        (
            lambda state: state.update({"0.num_batches_tracked": torch.tensor(0)}),
            "weights: unexpected '0.num_batches_tracked'",
        ),
    ],
)
def test_weights_that_do_not_match_the_architecture_are_refused_naming_the_tensor(
    state_change, detail
):
    refused = _refusal(*_mlp_files(state_change))
    assert refused.code == "weights_mismatch"
    assert refused.message.startswith(detail)


def test_missing_and_extra_tensors_are_listed_together():
    def rename(state):
        state["0.kernel"] = state.pop("0.weight")

    refused = _refusal(*_mlp_files(rename))
    assert refused.message == "weights: missing '0.weight'; unexpected '0.kernel'"


def test_truncated_safetensors_are_refused_as_invalid():
    architecture, weights = _mlp_files(lambda state: None)
    header_end = 8 + int.from_bytes(weights[:8], "little")
    for cut in (weights[:-3], weights[: header_end - 5]):
        refused = _refusal(architecture, cut)
        assert refused.code == "model_invalid"
        assert refused.message.startswith("weights: safetensors does not parse")
    assert _refusal(architecture, weights[:6]).code == "model_format"


class _WritesCanary:
    """Unpickling this creates the canary file: proof that the pickle was executed."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_given_as_weights_is_refused_without_being_run(tmp_path, protocol):
    canary = tmp_path / "canary"
    payload = pickle.dumps(_WritesCanary(canary), protocol=protocol)
    architecture, _ = _mlp_files(lambda state: None)
    refused = _refusal(architecture, payload)
    assert refused.code == "model_format"
    assert refused.message == "weights: not a safetensors file"
    assert not canary.exists()


# ONNX export, checked against onnxruntime


def _onnx_outputs(model_bytes, inputs):
    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"input": inputs.numpy()})[0]


def _exported_matches(module, input_shape, inputs, *, opset=17):
    module = _settled(module)
    model_bytes = to_onnx(architecture_of(module, input_shape), module.state_dict(), opset=opset)
    expected = module(inputs).detach().numpy()
    np.testing.assert_allclose(_onnx_outputs(model_bytes, inputs), expected, rtol=0, atol=1e-5)
    return onnx.load_model_from_string(model_bytes)


EXPORTED = {
    "mlp": (
        lambda: nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)),
        (6,),
    ),
    "mlp with batch norm": (
        lambda: nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Linear(5, 2, bias=False)),
        (6,),
    ),
    "cnn": (_small_cnn, (1, 8, 8)),
    "conv1d and pools": (
        lambda: nn.Sequential(
            nn.Conv1d(2, 4, 3, stride=2, padding=1, groups=2),
            nn.AvgPool1d(2, padding=1),
            nn.MaxPool1d(2, stride=1, dilation=2),
            nn.AdaptiveAvgPool1d(2),
            nn.BatchNorm1d(4, affine=False),
            nn.Flatten(),
            nn.Linear(8, 3),
        ),
        (2, 20),
    ),
    "avg pool 2d and global pool": (
        lambda: nn.Sequential(
            nn.Conv2d(1, 2, 3, dilation=2),
            nn.AvgPool2d(2, padding=1, count_include_pad=False),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        ),
        (1, 11, 11),
    ),
    "gelu": (
        lambda: nn.Sequential(
            nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 8), nn.GELU(approximate="tanh")
        ),
        (4,),
    ),
    "layer norm and squashing": (
        lambda: nn.Sequential(
            nn.Linear(4, 8),
            nn.LayerNorm(8),
            nn.Tanh(),
            nn.Linear(8, 5),
            nn.Sigmoid(),
            nn.Softmax(dim=-1),
        ),
        (4,),
    ),
    "linear on 3-d input": (
        lambda: nn.Sequential(
            nn.Linear(4, 8), nn.LayerNorm([3, 8], elementwise_affine=False), nn.Softmax(dim=1)
        ),
        (3, 4),
    ),
}


@pytest.mark.parametrize("name", EXPORTED)
def test_the_onnx_export_computes_what_torch_computes(name):
    build, input_shape = EXPORTED[name]
    torch.manual_seed(0)
    module = build()
    model = _exported_matches(module, input_shape, torch.randn(5, *input_shape))
    assert [node.op_type for node in model.graph.node if node.op_type == "Identity"] == (
        ["Identity"] if name == "mlp" else []
    )


def test_gelu_is_exported_as_erf_at_opset_17_and_as_gelu_at_opset_20():
    build, input_shape = EXPORTED["gelu"]
    torch.manual_seed(0)
    module = build()
    inputs = torch.randn(5, *input_shape) * 3
    at_17 = _exported_matches(module, input_shape, inputs, opset=17)
    at_20 = _exported_matches(module, input_shape, inputs, opset=20)
    assert {"Erf", "Tanh"} <= {node.op_type for node in at_17.graph.node}
    assert [node.op_type for node in at_20.graph.node] == ["Gemm", "Gelu", "Gemm", "Gelu"]


def test_the_exported_cnn_is_self_contained_with_a_batch_dimension():
    model = _exported_matches(_small_cnn(), (1, 8, 8), torch.randn(3, 1, 8, 8))
    onnx.checker.check_model(model, full_check=True)
    (graph_input,) = model.graph.input
    (graph_output,) = model.graph.output
    dims = [dim.dim_param or dim.dim_value for dim in graph_input.type.tensor_type.shape.dim]
    assert (graph_input.name, dims) == ("input", ["batch", 1, 8, 8])
    assert graph_output.name == "logits"
    assert [node.op_type for node in model.graph.node] == [
        "Conv",
        "BatchNormalization",
        "Relu",
        "MaxPool",
        "Flatten",
        "Gemm",
    ]
    assert all(not tensor.external_data for tensor in model.graph.initializer)
    assert {tensor.name for tensor in model.graph.initializer} == {
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "5.weight",
        "5.bias",
    }


def test_an_exported_embedding_takes_int64_indices():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    model = _exported_matches(module, (3,), torch.randint(0, 10, (5, 3)))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64


def test_export_refuses_an_opset_without_layer_normalization_and_bad_weights():
    module = _mlp()
    document = architecture_of(module, (4,))
    with pytest.raises(ValueError, match="opset must be from 17 to"):
        to_onnx(document, module.state_dict(), opset=16)
    state = dict(module.state_dict())
    del state["0.bias"]
    with pytest.raises(ModelRefusedError, match=r"weights: missing '0.bias'"):
        to_onnx(document, state)
