"""The robustness engine: closed forms, torchattacks, corruptions, constraints, documents."""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch  # noqa: TID251 - the robustness engine's tests build torch models
import torchattacks
from numpy.typing import NDArray
from sklearn.datasets import load_digits  # noqa: TID251 - bundled test data, no download

from evaluations.assessments.robustness import TorchClassifier, robustness_metrics
from evaluations.validation import validate_document

NO_CORRUPTIONS: dict[str, Any] = {"noise_severities": (), "dropout_severities": ()}
NO_ATTACKS: dict[str, Any] = {"linf_budgets": (), "l2_budgets": ()}
LINF_BUDGETS = (0.02, 0.05, 0.1)
L2_BUDGETS = (0.25, 0.5, 1.0)
# Flattened feature indices of an 8-by-8 digit that attacks and corruptions must leave alone.
IMMUTABLE = (0, 9, 27, 36, 63)


# Models and data.


@dataclass
class Digits:
    """Digits scaled to [0, 1] as (n, 1, 8, 8) images: a training and a test part."""

    x_train: NDArray[np.float32]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.float32]
    y_test: NDArray[np.int64]


@pytest.fixture(scope="module")
def digits() -> Digits:
    bunch = load_digits()
    x = (bunch.data / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    y = bunch.target.astype(np.int64)
    return Digits(x[:700], y[:700], x[1500:1700], y[1500:1700])


def mlp() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)
    )


def cnn() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 16, 10),
    )


def trained(net: torch.nn.Module, data: Digits) -> torch.nn.Module:
    """A few full-batch Adam steps: about 90% test accuracy, in about a second."""
    torch.manual_seed(0)
    for parameter in net.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-2)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    for _ in range(60):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimiser.step()
    return net.eval()


@pytest.fixture(scope="module")
def nets(digits: Digits) -> dict[str, torch.nn.Module]:
    return {"mlp": trained(mlp(), digits), "cnn": trained(cnn(), digits)}


class Recorder(torch.nn.Module):
    """A module that keeps a copy of every input it is given."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.seen: list[NDArray[np.float32]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().numpy().copy())
        return self.inner(x)


@dataclass
class Blackbox:
    """A gradient-free classifier (no module) that keeps a copy of every input it scores."""

    net: torch.nn.Module
    seen: list[NDArray[np.float32]] = field(default_factory=list)
    module: None = None

    def predict(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        self.seen.append(x.copy())
        return TorchClassifier(self.net).predict(x)


def curve(metrics: dict[str, Any], name: str, norm: str | None = None) -> dict[str, Any]:
    (found,) = [p for p in metrics["perturbations"] if p["name"] == name and p["norm"] == norm]
    return found


def accuracies(perturbation: dict[str, Any]) -> list[float]:
    return [point["accuracy"] for point in perturbation["points"]]


# Closed form: a linear classifier.


def linear(w: NDArray[np.float32], b: float, *, logits: int) -> torch.nn.Module:
    """f(x) = w·x + b as one logit, or as two logits whose difference is w·x + b."""
    layer = torch.nn.Linear(len(w), logits)
    with torch.no_grad():
        if logits == 1:
            layer.weight.copy_(torch.from_numpy(w)[None])
            layer.bias.fill_(b)
        else:
            layer.weight.copy_(torch.from_numpy(np.stack([-w / 2, w / 2])))
            layer.bias.copy_(torch.tensor([-b / 2, b / 2]))
    return layer


@pytest.mark.parametrize("logits", [1, 2])
def test_fgsm_and_pgd_flip_exactly_the_correct_points_within_the_margin(logits):
    w = np.array([1.0, -2.0, 0.5, 1.5], dtype=np.float32)
    b = 0.25
    thresholds = {  # a correct point flips when its margin |w·x + b| is below ε·‖w‖_dual
        "linf": {eps: eps * np.abs(w).sum() for eps in (0.1, 0.3)},
        "l2": {eps: eps * np.sqrt((w.astype(np.float64) ** 2).sum()) for eps in (0.3, 0.8)},
    }
    rng = np.random.default_rng(3)
    x = rng.standard_normal((600, 4)).astype(np.float32)
    margin = x.astype(np.float64) @ w + b
    cut = np.array([0.0, *thresholds["linf"].values(), *thresholds["l2"].values()])
    # No point within 1e-3 of the boundary or of a threshold, where float32 rounding decides.
    keep = np.abs(np.abs(margin)[:, None] - cut).min(axis=1) > 1e-3
    x, margin = x[keep], margin[keep]
    y = ((margin > 0) ^ (rng.random(len(x)) < 0.2)).astype(np.int64)
    correct = (margin > 0) == y

    metrics = robustness_metrics(
        TorchClassifier(linear(w, b, logits=logits)),
        x,
        y,
        linf_budgets=tuple(thresholds["linf"]),
        l2_budgets=tuple(thresholds["l2"]),
        **NO_CORRUPTIONS,
    )

    assert metrics["clean_accuracy"]["value"] == correct.sum() / len(x)
    for norm, by_budget in thresholds.items():
        flipped = [correct & (np.abs(margin) < limit) for limit in by_budget.values()]
        expected = [
            {
                "budget": eps,
                "accuracy": (correct & ~f).sum() / len(x),
                "decision_flip_rate": f.sum() / len(x),
            }
            for eps, f in zip(by_budget, flipped, strict=True)
        ]
        # For a linear model every PGD step points the same way: it ends where FGSM lands.
        assert curve(metrics, "fgsm", norm)["points"] == expected
        assert curve(metrics, "pgd", norm)["points"] == expected


# torchattacks as the reference.


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_attack_accuracy_equals_torchattacks_at_every_budget(name, nets, digits):
    net = nets[name]
    x, y = torch.from_numpy(digits.x_test), torch.from_numpy(digits.y_test)

    def attacked_accuracy(attack: Any) -> float:
        adversarial = attack(x, y)
        with torch.no_grad():
            return float((net(adversarial).argmax(dim=1) == y).double().mean())

    metrics = robustness_metrics(
        TorchClassifier(net),
        digits.x_test,
        digits.y_test,
        linf_budgets=LINF_BUDGETS,
        l2_budgets=L2_BUDGETS,
        pgd_steps=5,
        input_bounds=(0.0, 1.0),
        batch_size=64,
        **NO_CORRUPTIONS,
    )

    steps = {"steps": 5, "random_start": False}
    assert accuracies(curve(metrics, "fgsm", "linf")) == [
        attacked_accuracy(torchattacks.FGSM(net, eps=eps)) for eps in LINF_BUDGETS
    ]
    assert accuracies(curve(metrics, "pgd", "linf")) == [
        attacked_accuracy(torchattacks.PGD(net, eps=eps, alpha=eps / 2, **steps))
        for eps in LINF_BUDGETS
    ]
    assert accuracies(curve(metrics, "pgd", "l2")) == [
        attacked_accuracy(torchattacks.PGDL2(net, eps=eps, alpha=eps / 2, **steps))
        for eps in L2_BUDGETS
    ]
    # The attacks find errors: accuracy falls from the clean one as the budget grows.
    clean = metrics["clean_accuracy"]["value"]
    assert clean > 0.85
    assert accuracies(curve(metrics, "pgd", "linf"))[-1] < clean - 0.3


# Corruptions.


def test_a_zero_severity_or_budget_keeps_clean_accuracy_and_flips_nothing(nets, digits):
    metrics = robustness_metrics(
        TorchClassifier(nets["mlp"]),
        digits.x_test,
        digits.y_test,
        linf_budgets=(0.0, 0.1),
        l2_budgets=(0, 1.0),
        noise_severities=(0.0, 0.5),
        dropout_severities=(0.0, 0.5),
        input_bounds=(0.0, 1.0),
    )

    clean = metrics["clean_accuracy"]["value"]
    for perturbation in metrics["perturbations"]:
        first, second = perturbation["points"]
        assert first == {
            "budget" if perturbation["type"] == "attack" else "severity": 0.0,
            "accuracy": clean,
            "decision_flip_rate": 0.0,
        }
        assert second["decision_flip_rate"] > 0.0


def test_feature_dropout_at_probability_one_sets_every_mutable_feature_to_its_mean(nets, digits):
    blackbox = Blackbox(nets["mlp"])

    robustness_metrics(
        blackbox,
        digits.x_test,
        digits.y_test,
        noise_severities=(),
        dropout_severities=(1.0,),
        immutable_features=IMMUTABLE,
    )

    clean, dropped = (seen.reshape(len(seen), -1) for seen in blackbox.seen)
    x = digits.x_test.reshape(len(digits.x_test), -1)
    assert np.array_equal(clean, x)
    mutable = np.setdiff1d(np.arange(64), IMMUTABLE)
    means = x.mean(axis=0, dtype=np.float64).astype(np.float32)
    assert np.array_equal(
        dropped[:, mutable], np.broadcast_to(means[mutable], (len(x), len(mutable)))
    )
    assert np.array_equal(dropped[:, IMMUTABLE], x[:, IMMUTABLE])


def test_gaussian_noise_is_scaled_by_each_features_standard_deviation(nets, digits):
    blackbox = Blackbox(nets["mlp"])

    robustness_metrics(
        blackbox, digits.x_test, digits.y_test, noise_severities=(0.5,), dropout_severities=()
    )

    x = digits.x_test.reshape(len(digits.x_test), -1)
    noise = blackbox.seen[1].reshape(len(x), -1) - x
    spread = x.std(axis=0)
    constant = spread == 0
    assert constant.any()
    assert np.array_equal(noise[:, constant], np.zeros_like(noise[:, constant]))
    ratio = noise[:, ~constant].std(axis=0) / spread[~constant]
    assert np.allclose(ratio.mean(), 0.5, atol=0.02)


# Constraints: immutable features and input bounds.


def test_attacks_and_corruptions_never_change_immutable_features(nets, digits):
    recorder = Recorder(nets["cnn"])

    robustness_metrics(
        TorchClassifier(recorder),
        digits.x_test,
        digits.y_test,
        linf_budgets=(0.3,),
        l2_budgets=(2.0,),
        pgd_steps=3,
        pgd_random_start=True,
        noise_severities=(1.0,),
        dropout_severities=(1.0,),
        immutable_features=IMMUTABLE,
        batch_size=500,
    )

    x = digits.x_test.reshape(len(digits.x_test), -1)
    seen = np.stack([inputs.reshape(len(x), -1) for inputs in recorder.seen])
    assert np.array_equal(
        seen[:, :, IMMUTABLE], np.broadcast_to(x[:, IMMUTABLE], (len(seen), len(x), len(IMMUTABLE)))
    )
    # All but two inputs were perturbed: the clean pass and FGSM's gradient see x itself.
    assert sum(np.array_equal(inputs, x) for inputs in seen) == 2


@pytest.mark.parametrize(("norm", "eps"), [("linf", 0.2), ("l2", 1.5)])
def test_attacked_inputs_stay_within_the_budget_and_the_bounds(norm, eps, nets, digits):
    recorder = Recorder(nets["mlp"])

    robustness_metrics(
        TorchClassifier(recorder),
        digits.x_test,
        digits.y_test,
        linf_budgets=(eps,) if norm == "linf" else (),
        l2_budgets=(eps,) if norm == "l2" else (),
        pgd_steps=4,
        pgd_random_start=True,
        input_bounds=(0.0, 1.0),
        **NO_CORRUPTIONS,
    )

    x = digits.x_test.reshape(len(digits.x_test), -1)
    deltas = np.stack([inputs.reshape(len(x), -1) for inputs in recorder.seen]) - x
    sizes = np.abs(deltas).max(axis=2) if norm == "linf" else np.sqrt((deltas**2).sum(axis=2))
    assert sizes.max() <= eps * (1 + 1e-5)
    assert sizes.max() > eps * 0.9
    inputs = deltas + x
    assert inputs.min() >= 0.0
    assert inputs.max() <= 1.0


def test_corrupted_inputs_are_clipped_to_the_bounds(nets, digits):
    recorder = Recorder(nets["mlp"])

    robustness_metrics(
        TorchClassifier(recorder),
        digits.x_test,
        digits.y_test,
        noise_severities=(3.0,),
        input_bounds=(0.0, 1.0),
        **NO_ATTACKS,
    )

    seen = np.stack(recorder.seen)
    assert seen.min() == 0.0
    assert seen.max() == 1.0


# Determinism, gradient-free models, the module's state, progress and the document.


def test_the_same_seed_gives_the_same_document(nets, digits):
    def run(seed: int) -> dict[str, Any]:
        return robustness_metrics(
            TorchClassifier(nets["cnn"]),
            digits.x_test,
            digits.y_test,
            pgd_steps=3,
            pgd_random_start=True,
            input_bounds=(0.0, 1.0),
            seed=seed,
        )

    first = run(5)
    assert run(5) == first
    assert curve(first, "pgd", "linf")["parameters"] == {
        "steps": 3,
        "step_size_per_budget": 2.5 / 3,
        "random_start": True,
        "seed": 5,
        "targeted": False,
    }


def test_budgets_and_severities_are_reported_in_ascending_order_without_repeats(nets, digits):
    metrics = robustness_metrics(
        TorchClassifier(nets["mlp"]),
        digits.x_test,
        digits.y_test,
        linf_budgets=(0.1, 0.01, 0.1),
        l2_budgets=(),
        pgd_steps=1,
        noise_severities=(1, 0.5),
        dropout_severities=(),
    )

    assert [(p["name"], p["norm"]) for p in metrics["perturbations"]] == [
        ("fgsm", "linf"),
        ("pgd", "linf"),
        ("gaussian_noise", None),
    ]
    assert [p["budget"] for p in curve(metrics, "pgd", "linf")["points"]] == [0.01, 0.1]
    assert [p["severity"] for p in curve(metrics, "gaussian_noise")["points"]] == [0.5, 1.0]


def test_a_gradient_free_model_gets_only_corruption_curves(nets, digits):
    metrics = robustness_metrics(Blackbox(nets["mlp"]), digits.x_test, digits.y_test)

    assert [(p["name"], p["type"], p["norm"]) for p in metrics["perturbations"]] == [
        ("gaussian_noise", "corruption", None),
        ("feature_dropout", "corruption", None),
    ]
    # The same predictions as through the module: the clean accuracies agree.
    through_module = robustness_metrics(
        TorchClassifier(nets["mlp"]), digits.x_test, digits.y_test, **NO_ATTACKS
    )
    assert metrics == through_module


def test_the_module_gets_back_its_mode_and_trainable_parameters(digits):
    net = mlp().train()
    net[1].requires_grad_(False)

    robustness_metrics(TorchClassifier(net), digits.x_test, digits.y_test, pgd_steps=2)

    assert net.training
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]
    assert all(p.grad is None for p in net.parameters())


def test_progress_rises_to_one(nets, digits):
    reported: list[float] = []

    robustness_metrics(
        TorchClassifier(nets["mlp"]),
        digits.x_test,
        digits.y_test,
        pgd_steps=2,
        batch_size=64,
        progress=reported.append,
    )

    assert len(reported) > 10
    assert reported == sorted(reported)
    assert reported[0] > 0
    assert reported[-1] == 1.0
    assert reported.count(1.0) == 1


@pytest.mark.parametrize("logits", [1, 10])
def test_the_metrics_make_a_valid_robustness_document(logits, digits):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, logits))
    y = digits.y_test % 2 if logits == 1 else digits.y_test

    metrics = robustness_metrics(
        TorchClassifier(net),
        digits.x_test,
        y,
        pgd_steps=2,
        input_bounds=(0.0, 1.0),
        immutable_features=IMMUTABLE,
    )

    document = {
        "kind": "robustness",
        "schema_version": "1.0",
        "system": "x",
        "context": "evaluation",
        "metrics": metrics,
    }
    assert validate_document(document) == []
    assert len(metrics["perturbations"]) == 6
    assert metrics["size"] == len(y)
    assert curve(metrics, "feature_dropout")["parameters"] == {
        "fill": "feature_mean",
        "seed": 0,
        "immutable_features": list(IMMUTABLE),
    }
    assert curve(metrics, "fgsm", "l2")["input_bounds"] == {"low": 0.0, "high": 1.0}


# Refused arguments.


def with_nan(x: NDArray[np.float32]) -> NDArray[np.float32]:
    x = x.copy()
    x[3, 0, 2, 2] = np.nan
    return x


def relabelled(y: NDArray[np.int64], first: int) -> NDArray[np.int64]:
    return np.concatenate([[first], y[1:]])


# Per case: what replaces x, y or an option of a valid call, and the message expected.
BAD_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "empty data": (lambda x, y: {"x": x[:0], "y": y[:0]}, "x is empty"),
    "one-dimensional x": (
        lambda x, y: {"x": x[0, 0, 0], "y": y[:8]},
        r"x must have shape \(n, features...\), got \(8,\)",
    ),
    "x and y of different lengths": (
        lambda x, y: {"y": y[:-1]},
        r"y must have shape \(200,\) like x, got \(199,\)",
    ),
    "float labels": (lambda x, y: {"y": y.astype(float)}, "y must hold integer class indices"),
    "label past the classes": (
        lambda x, y: {"y": relabelled(y, 10)},
        r"label 10 \(row 0\) is outside the model's classes 0..9",
    ),
    "negative label": (lambda x, y: {"y": relabelled(y, -1)}, r"label -1 \(row 0\) is outside"),
    "nan in x": (
        lambda x, y: {"x": with_nan(x)},
        r"x holds NaN or infinite values \(first in row 3\)",
    ),
    "negative linf budget": (
        lambda x, y: {"linf_budgets": (0.1, -0.1)},
        "linf_budgets must be finite, ≥ 0; got -0.1",
    ),
    "nan l2 budget": (
        lambda x, y: {"l2_budgets": (float("nan"),)},
        "l2_budgets must be finite, ≥ 0; got nan",
    ),
    "negative noise severity": (
        lambda x, y: {"noise_severities": (-1,)},
        "noise_severities must be finite, ≥ 0; got -1",
    ),
    "dropout probability above one": (
        lambda x, y: {"dropout_severities": (1.5,)},
        "dropout_severities must be finite, ≥ 0 and ≤ 1; got 1.5",
    ),
    "immutable index past the end": (
        lambda x, y: {"immutable_features": (64,)},
        "immutable feature index 64 is outside 0..63",
    ),
    "negative immutable index": (
        lambda x, y: {"immutable_features": (-1,)},
        "immutable feature index -1 is outside 0..63",
    ),
    "bounds with low above high": (
        lambda x, y: {"input_bounds": (1.0, 0.0)},
        r"input_bounds must be finite with low ≤ high, got \(1.0, 0.0\)",
    ),
    "bounds that are not a pair": (
        lambda x, y: {"input_bounds": (0.0,)},
        r"input_bounds must be a pair \(low, high\), got \(0.0,\)",
    ),
    "x outside the bounds": (
        lambda x, y: {"input_bounds": (0.0, 0.5)},
        r"x lies outside input_bounds \(0.0, 0.5\): its values span \[0.0, 1.0\]",
    ),
    "no pgd steps": (lambda x, y: {"pgd_steps": 0}, "pgd_steps must be a whole number ≥ 1, got 0"),
    "negative step size": (
        lambda x, y: {"pgd_step_size": -0.1},
        "pgd_step_size must be a finite number > 0, got -0.1",
    ),
    "empty batches": (lambda x, y: {"batch_size": 0}, "batch_size must be a whole number ≥ 1"),
    "negative seed": (lambda x, y: {"seed": -1}, "seed must be a whole number ≥ 0, got -1"),
    "nothing to measure": (lambda x, y: {**NO_ATTACKS, **NO_CORRUPTIONS}, "nothing to measure"),
}


@pytest.mark.parametrize(("change", "message"), BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_a_bad_argument_is_refused_by_name(change, message, nets, digits):
    arguments = {"x": digits.x_test, "y": digits.y_test, **change(digits.x_test, digits.y_test)}

    with pytest.raises(ValueError, match=message):
        robustness_metrics(TorchClassifier(nets["mlp"]), **arguments)


def test_a_gradient_free_model_without_severities_has_nothing_to_measure(nets, digits):
    with pytest.raises(ValueError, match="nothing to measure"):
        robustness_metrics(Blackbox(nets["mlp"]), digits.x_test, digits.y_test, **NO_CORRUPTIONS)


def test_a_single_logit_model_has_two_classes(digits):
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 1))

    with pytest.raises(
        ValueError, match=r"label 2 \(row \d+\) is outside the model's classes 0\.\.1"
    ):
        robustness_metrics(TorchClassifier(net), digits.x_test, digits.y_test % 3)
