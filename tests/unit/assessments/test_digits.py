"""The demo classifier: reproducible training, its int8 build, its ONNX export, its data."""

from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pytest
import torch  # noqa: TID251 - the demo classifier is a torch module

from evaluations.assessments.digits import (
    DigitsModel,
    evaluation_csv,
    evaluation_frame,
    predicted_digits,
    quantised,
    train_digits_cnn,
)
from evaluations.assessments.model_inputs import read_model_inputs
from evaluations.assessments.modelfiles import load_model
from evaluations.assessments.robustness import TorchClassifier, robustness_metrics

ROBUSTNESS_ROWS = 200


@pytest.fixture(scope="module")
def demo() -> DigitsModel:
    return train_digits_cnn(seed=0)


def test_training_twice_with_one_seed_gives_identical_weights(demo: DigitsModel) -> None:
    again = train_digits_cnn(seed=0)
    assert again.weights == demo.weights
    assert again.onnx == demo.onnx
    assert np.array_equal(again.x_test, demo.x_test)


def test_another_seed_gives_other_weights_and_the_same_test_set(demo: DigitsModel) -> None:
    other = train_digits_cnn(seed=1, epochs=1)
    assert other.weights != demo.weights
    assert np.array_equal(other.y_test, demo.y_test)


def test_training_leaves_the_callers_random_state_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_digits_cnn(seed=5, epochs=1)
    assert torch.equal(torch.rand(3), expected)


def test_the_trained_classifier_reads_at_least_nine_digits_in_ten(demo: DigitsModel) -> None:
    assert demo.x_test.shape == (360, 1, 8, 8)
    assert demo.x_test.dtype == np.float32
    assert demo.y_test.dtype == np.int64
    assert demo.x_test.min() == 0.0
    assert demo.x_test.max() == 1.0
    assert set(demo.y_test.tolist()) == set(range(10))
    assert demo.accuracy >= 0.9


@pytest.mark.parametrize(("seed", "epochs"), [(-1, 10), (0, 0), (True, 10)])
def test_bad_training_settings_are_refused_naming_the_value(seed: int, epochs: int) -> None:
    with pytest.raises(ValueError, match="seed" if epochs else "epochs"):
        train_digits_cnn(seed=seed, epochs=epochs)


def test_the_int8_build_takes_at_most_255_levels_per_weight_tensor(demo: DigitsModel) -> None:
    original = {name: p.detach().clone() for name, p in demo.module.named_parameters()}
    build = quantised(demo.module)
    for name, parameter in build.named_parameters():
        if name.endswith("bias"):
            assert torch.equal(parameter, original[name])
            continue
        scale = original[name].abs().max() / 127
        levels = parameter / scale
        assert len(torch.unique(parameter)) <= 255
        assert torch.allclose(levels, levels.round(), atol=1e-3)
        assert levels.abs().max().round().item() == 127
        assert not torch.equal(parameter, original[name])
        assert (parameter - original[name]).abs().max() <= scale / 2 + 1e-7
    # The original is left as it was, and the build still reads digits.
    for name, parameter in demo.module.named_parameters():
        assert torch.equal(parameter, original[name])
    assert (predicted_digits(build, demo.x_test) == demo.y_test).mean() >= 0.9


def test_the_onnx_export_gives_the_native_logits(demo: DigitsModel) -> None:
    loaded = load_model(demo.onnx)
    assert loaded.input_shape == (1, 8, 8)
    assert loaded.differentiable
    with torch.no_grad():
        native = demo.module(torch.from_numpy(demo.x_test)).numpy()
    np.testing.assert_allclose(loaded.predict(demo.x_test), native, rtol=0, atol=1e-5)


def test_robustness_through_the_onnx_path_equals_the_native_torch_path(demo: DigitsModel) -> None:
    x, y = demo.x_test[:ROBUSTNESS_ROWS], demo.y_test[:ROBUSTNESS_ROWS]
    # Every default curve: FGSM and 10-step PGD under L∞ and L2, noise and dropout.
    through_onnx = robustness_metrics(load_model(demo.onnx), x, y, input_bounds=(0.0, 1.0))
    native = robustness_metrics(TorchClassifier(demo.module), x, y, input_bounds=(0.0, 1.0))
    assert through_onnx == native
    curves = [(p["name"], p["norm"]) for p in through_onnx["perturbations"]]
    assert curves[:4] == [("fgsm", "linf"), ("fgsm", "l2"), ("pgd", "linf"), ("pgd", "l2")]
    fgsm = through_onnx["perturbations"][0]
    assert fgsm["points"][-1]["accuracy"] < through_onnx["clean_accuracy"]["value"]


def test_the_evaluation_frame_is_read_back_exactly_as_model_inputs(
    demo: DigitsModel, tmp_path: Path
) -> None:
    x, y = demo.x_test[:50], demo.y_test[:50]
    table = evaluation_frame(x, y)
    assert table.column_names == ["label", *(f"px_{i}" for i in range(64))]
    path = tmp_path / "digits.csv"
    path.write_bytes(evaluation_csv(x, y))
    assert pa_csv.read_csv(path).num_rows == 50
    inputs = read_model_inputs(path, input_shape=(1, 8, 8), label="label")
    assert np.array_equal(inputs.x, x)
    assert inputs.y is not None
    assert np.array_equal(inputs.y, y)


def test_an_evaluation_frame_refuses_x_and_y_of_different_lengths() -> None:
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(2,\)"):
        evaluation_frame(np.zeros((3, 4)), np.zeros(2))
