"""`manage.py assess robustness|efficiency`: model files and evaluation files from disk.

The models are written here as files, exactly as a user would hand them over: a tiny MLP
and the demo digits CNN, each as ONNX and as safetensors weights with their architecture.
"""

import json
import pickle  # noqa: TID251 - builds the malicious payload; never loads one
import subprocess
import sys
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import torch  # noqa: TID251 - tests build the networks they write to files
from django.conf import settings
from django.core.management import CommandError, call_command

from evaluations.assessments.digits import evaluation_frame, train_digits_cnn
from evaluations.assessments.model_inputs import read_model_inputs
from evaluations.assessments.modelfiles import ModelRefusedError
from evaluations.assessments.modelfiles.architecture import architecture_of, weights_of
from evaluations.assessments.modelfiles.export import to_onnx
from evaluations.validation import validate_document

DIGITS_ROWS = 60
MLP_ROWS = 80


@dataclass(frozen=True)
class ModelFiles:
    """One network written as ONNX and as safetensors + architecture, and its test data."""

    onnx: Path
    weights: Path
    architecture: Path
    data: Path

    def as_onnx(self) -> list[str]:
        return ["--model", str(self.onnx), "--input", str(self.data)]

    def as_safetensors(self) -> list[str]:
        return [
            "--model",
            str(self.weights),
            "--architecture",
            str(self.architecture),
            "--input",
            str(self.data),
        ]


def write_files(folder: Path, module: torch.nn.Sequential, shape: tuple[int, ...]) -> ModelFiles:
    architecture = architecture_of(module, shape)
    files = ModelFiles(
        folder / "model.onnx", folder / "model.safetensors", folder / "model.json", folder / "x.csv"
    )
    files.onnx.write_bytes(to_onnx(architecture, module.state_dict()))
    files.weights.write_bytes(weights_of(module))
    files.architecture.write_text(json.dumps(architecture))
    return files


def write_csv(path: Path, table: pa.Table) -> Path:
    pa_csv.write_csv(table, path)
    return path


@pytest.fixture(scope="module")
def mlp(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    """4 features, 3 classes; labels are the untrained net's own predictions, so that the
    clean accuracy is 1 and every attack has something to flip."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        module = torch.nn.Sequential(
            torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
        ).eval()
    x = np.random.default_rng(3).uniform(0, 1, size=(MLP_ROWS, 4)).astype(np.float32)
    with torch.no_grad():
        y = module(torch.from_numpy(x)).argmax(1).numpy()
    files = write_files(tmp_path_factory.mktemp("mlp"), module, (4,))
    table = pa.table({"f0": x[:, 0], "y": y, **{f"f{i}": x[:, i] for i in range(1, 4)}})
    write_csv(files.data, table)
    return files


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    demo = train_digits_cnn(seed=0)
    folder = tmp_path_factory.mktemp("digits")
    files = write_files(folder, demo.module, (1, 8, 8))
    table = evaluation_frame(demo.x_test[:DIGITS_ROWS], demo.y_test[:DIGITS_ROWS])
    write_csv(files.data, table)
    pq.write_table(table, folder / "x.parquet")
    return files


def assess(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("assess", *args, stdout=out)
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def refusal(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        assess(*args)
    assert error.value.returncode == 2
    return str(error.value)


def curves(document: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(p["name"], p["norm"]) for p in document["metrics"]["perturbations"]]


# Robustness.


def test_robustness_of_an_onnx_mlp_prints_every_curve_in_a_valid_document(mlp: ModelFiles) -> None:
    document = assess(
        "robustness", *mlp.as_onnx(), "--label", "y", "--system", "credit", "--model-version", "2"
    )
    assert validate_document(document, computed=True) == []
    assert (document["kind"], document["system"], document["model_version"]) == (
        "robustness",
        "credit",
        "2",
    )
    metrics = document["metrics"]
    assert metrics["size"] == MLP_ROWS
    assert metrics["clean_accuracy"]["value"] == 1.0
    assert curves(document) == [
        ("fgsm", "linf"),
        ("fgsm", "l2"),
        ("pgd", "linf"),
        ("pgd", "l2"),
        ("gaussian_noise", None),
        ("feature_dropout", None),
    ]
    pgd_l2 = metrics["perturbations"][3]["points"]
    assert [p["budget"] for p in pgd_l2] == [0.25, 0.5, 1.0]
    assert pgd_l2[-1]["accuracy"] < 1.0


@pytest.mark.parametrize("network", ["mlp", "digits"])
def test_onnx_and_safetensors_give_the_same_robustness_numbers(
    network: str, request: pytest.FixtureRequest
) -> None:
    files: ModelFiles = request.getfixturevalue(network)
    label = "y" if network == "mlp" else "label"
    options = ["--label", label, "--bounds", "0", "1", "--pgd-steps", "5"]
    through_onnx = assess("robustness", *files.as_onnx(), *options)
    through_safetensors = assess("robustness", *files.as_safetensors(), *options)
    assert through_onnx["metrics"] == through_safetensors["metrics"]
    assert validate_document(through_safetensors, computed=True) == []


def test_the_options_choose_the_curves_and_reach_the_document(digits: ModelFiles) -> None:
    document = assess(
        "robustness",
        *digits.as_safetensors(),
        "--label",
        "label",
        "--linf",
        "0.05",
        "--l2",
        "--noise",
        "--dropout",
        "0.2",
        "--pgd-steps",
        "3",
        "--pgd-random-start",
        "--bounds",
        "0",
        "1",
        "--immutable",
        "0",
        "63",
        "--batch-size",
        "16",
        "--seed",
        "4",
    )
    assert curves(document) == [("fgsm", "linf"), ("pgd", "linf"), ("feature_dropout", None)]
    fgsm, pgd, dropout = document["metrics"]["perturbations"]
    assert [p["budget"] for p in fgsm["points"]] == [0.05]
    assert pgd["parameters"]["steps"] == 3
    assert pgd["parameters"]["random_start"] is True
    assert pgd["parameters"]["seed"] == 4
    assert pgd["parameters"]["immutable_features"] == [0, 63]
    assert pgd["input_bounds"] == {"low": 0.0, "high": 1.0}
    assert [p["severity"] for p in dropout["points"]] == [0.2]


def test_features_named_on_the_command_line_are_read_in_that_order(mlp: ModelFiles) -> None:
    # The file's order is f0, y, f1, f2, f3; the model was built for f0..f3.
    in_order = assess("robustness", *mlp.as_onnx(), "--label", "y")
    named = assess(
        "robustness", *mlp.as_onnx(), "--label", "y", "--features", "f0", "f1", "f2", "f3"
    )
    shuffled = assess(
        "robustness", *mlp.as_onnx(), "--label", "y", "--features", "f3", "f2", "f1", "f0"
    )
    assert named["metrics"] == in_order["metrics"]
    assert shuffled["metrics"]["clean_accuracy"]["value"] < 1.0


# Efficiency.


def test_efficiency_of_the_digits_cnn_prints_a_valid_document(digits: ModelFiles) -> None:
    document = assess(
        "efficiency",
        "--model",
        str(digits.onnx),
        "--input",
        str(digits.data.with_suffix(".parquet")),
        "--label",
        "label",
        "--batch-sizes",
        "1",
        "8",
        "--repeats",
        "3",
        "--warmup",
        "1",
        "--power-watts",
        "30",
        "--grid-intensity",
        "400",
    )
    assert validate_document(document, computed=True) == []
    metrics = document["metrics"]
    assert [entry["batch_size"] for entry in metrics["latency"]] == [1, 8]
    assert metrics["parameter_count"] == 8 * 9 + 8 + 16 * 8 * 9 + 16 + 64 * 10 + 10
    assert metrics["model_size_bytes"] == digits.onnx.stat().st_size
    expected_kwh = 30 * (1000 / metrics["throughput_per_s"]) / 3.6e6
    assert metrics["energy_kwh"] == pytest.approx(expected_kwh)
    assert metrics["co2e_kg"] == pytest.approx(expected_kwh * 400 / 1000)


def test_efficiency_without_a_label_reads_every_column_as_a_feature(mlp: ModelFiles) -> None:
    message = refusal("efficiency", *mlp.as_onnx(), "--repeats", "1")
    assert "input_mismatch" in message
    assert "5 feature columns" in message
    document = assess(
        "efficiency", *mlp.as_safetensors(), "--features", "f0", "f1", "f2", "f3", "--repeats", "2"
    )
    assert validate_document(document) == []
    assert "energy_kwh" not in document["metrics"]


# Refusals.


class WritesCanary:
    """Unpickling this opens `path` for writing: the file appearing would prove it ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (self.path, "w"))


def test_a_pickle_given_as_the_model_exits_2_naming_model_format_and_never_runs(
    mlp: ModelFiles, tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    model = tmp_path / "model.onnx"  # the name does not matter: the content does
    model.write_bytes(pickle.dumps(WritesCanary(canary), protocol=4))
    for kind, label in (("robustness", ["--label", "y"]), ("efficiency", [])):
        message = refusal(kind, "--model", str(model), "--input", str(mlp.data), *label)
        assert message.startswith("model_format: "), message
        assert "pickle" in message
    with_architecture = refusal(
        "robustness",
        *mlp.as_safetensors()[:1],
        str(model),
        *mlp.as_safetensors()[2:],
        "--label",
        "y",
    )
    assert with_architecture.startswith("model_format: ")
    assert not canary.exists()


def test_the_command_line_exits_2_with_one_line_for_a_refused_model(
    mlp: ModelFiles, tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    model = tmp_path / "model.pt"
    model.write_bytes(pickle.dumps(WritesCanary(canary), protocol=2))
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "assess",
            "robustness",
            "--model",
            str(model),
            "--input",
            str(mlp.data),
            "--label",
            "y",
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "model_format" in line
    assert not canary.exists()


def test_an_evaluation_file_that_does_not_fit_the_model_exits_2_naming_input_mismatch(
    digits: ModelFiles, tmp_path: Path
) -> None:
    narrow = write_csv(tmp_path / "narrow.csv", pa.table({"label": [0, 1], "px_0": [0.1, 0.2]}))
    message = refusal(
        "robustness", "--model", str(digits.onnx), "--input", str(narrow), "--label", "label"
    )
    assert message.startswith("input_mismatch: ")
    assert "(1, 8, 8)" in message
    assert "1 feature columns" in message


def test_safetensors_without_an_architecture_exit_2(mlp: ModelFiles) -> None:
    message = refusal(
        "robustness", *mlp.as_safetensors()[:2], "--input", str(mlp.data), "--label", "y"
    )
    assert message.startswith("architecture_invalid: ")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"y": [0, 1.5]}, "label column 'y' has 1.5 at row 1"),
        ({"y": [0, None]}, "label column 'y' has a missing value at row 1"),
        ({"y": ["a", "b"]}, "label column 'y' has 'a' at row 0; labels must be whole numbers"),
        ({"f2": [0.5, None]}, "feature column 'f2' has a missing value"),
        ({"f3": [None, "y"]}, "feature column 'f3' is not numeric: 'y' at row 1"),
        ({"f1": [None, None]}, "feature column 'f1' has a missing value at row 0"),
    ],
)
def test_invalid_evaluation_values_exit_2_naming_the_column_and_row(
    mlp: ModelFiles, tmp_path: Path, cells: dict[str, list[Any]], expected: str
) -> None:
    columns: dict[str, list[Any]] = {"y": [0, 1], **{f"f{i}": [0.1, 0.2] for i in range(4)}}
    path = write_csv(tmp_path / "bad.csv", pa.table({**columns, **cells}))
    message = refusal("robustness", *mlp.as_onnx()[:2], "--input", str(path), "--label", "y")
    assert expected in message


def test_labels_outside_the_models_classes_exit_2(mlp: ModelFiles, tmp_path: Path) -> None:
    columns = {"y": [0, 7], **{f"f{i}": [0.1, 0.2] for i in range(4)}}
    path = write_csv(tmp_path / "labels.csv", pa.table(columns))
    message = refusal("robustness", *mlp.as_onnx()[:2], "--input", str(path), "--label", "y")
    assert "label 7 (row 1) is outside the model's classes 0..2" in message


# The reader on its own.


def test_more_rows_than_the_limit_are_refused(mlp: ModelFiles) -> None:
    with pytest.raises(ValueError, match="more than 50 rows"):
        read_model_inputs(mlp.data, input_shape=(4,), label="y", max_rows=50)
    inputs = read_model_inputs(mlp.data, input_shape=(2, 2), label="y", max_rows=MLP_ROWS)
    assert inputs.x.shape == (MLP_ROWS, 2, 2)
    assert inputs.features == ["f0", "f1", "f2", "f3"]


def test_a_label_that_is_also_a_feature_or_missing_is_refused(mlp: ModelFiles) -> None:
    with pytest.raises(ValueError, match="cannot also be a feature"):
        read_model_inputs(mlp.data, input_shape=(2,), label="y", features=["y", "f0"])
    with pytest.raises(ValueError, match="no label column 'outcome'"):
        read_model_inputs(mlp.data, input_shape=(4,), label="outcome")
    with pytest.raises(ValueError, match="no feature column 'f9'"):
        read_model_inputs(mlp.data, input_shape=(1,), label="y", features=["f9"])
    with pytest.raises(ModelRefusedError, match="shape \\(5,\\)") as refused:
        read_model_inputs(mlp.data, input_shape=(5,), label="y")
    assert refused.value.code == "input_mismatch"


def test_whole_number_float_labels_and_boolean_features_are_read_as_numbers(
    tmp_path: Path,
) -> None:
    table = pa.table({"a": [True, False], "y": [1.0, 0.0], "b": [3, 4]})
    path = write_csv(tmp_path / "mixed.csv", table)
    inputs = read_model_inputs(path, input_shape=(2,), label="y")
    assert inputs.x.tolist() == [[1.0, 3.0], [0.0, 4.0]]
    assert inputs.y is not None
    assert inputs.y.tolist() == [1, 0]
    assert inputs.y.dtype == np.int64
