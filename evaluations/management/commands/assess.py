"""`manage.py assess {fairness,calibration,data-quality,robustness,efficiency} ...`: the
workers' engines on local files; prints the evidence document as JSON, exits 2 on invalid
input or a refused model file (printing the refusal's code and message)."""

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from evaluations.assessments.modelfiles.errors import ModelRefusedError
from evaluations.validation import CURRENT_VERSION, validate_document

if TYPE_CHECKING:
    from evaluations.assessments.modelfiles import LoadedModel

KINDS = {
    "fairness": "fairness",
    "calibration": "calibration",
    "data-quality": "data_quality",
    "robustness": "robustness",
    "efficiency": "efficiency",
}
# Command-line options of the model kinds → the engines' keywords. An option left out is
# not passed, so the engine's own default applies.
ROBUSTNESS_OPTIONS = {
    "linf": "linf_budgets",
    "l2": "l2_budgets",
    "pgd_steps": "pgd_steps",
    "pgd_step_size": "pgd_step_size",
    "pgd_random_start": "pgd_random_start",
    "noise": "noise_severities",
    "dropout": "dropout_severities",
    "bounds": "input_bounds",
    "immutable": "immutable_features",
    "batch_size": "batch_size",
    "seed": "seed",
}
EFFICIENCY_OPTIONS = {
    "batch_sizes": "batch_sizes",
    "repeats": "repeats",
    "warmup": "warmup",
    "power_watts": "power_watts",
    "grid_intensity": "grid_gco2e_per_kwh",
}


def _envelope(parser: ArgumentParser) -> None:
    parser.add_argument("--input", required=True, type=Path, help="CSV or Parquet file")
    parser.add_argument("--system", default="local", help="AI system slug for the envelope")
    parser.add_argument("--model-version", default=None, help="model version for the envelope")
    parser.add_argument("--context", default="evaluation", choices=["evaluation", "monitoring"])


def _common(parser: ArgumentParser) -> None:
    _envelope(parser)
    parser.add_argument("--sensitive", action="append", default=[], help="repeatable")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-group-size", type=int, default=30)


def _fairness(parser: ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--label", required=True)
    parser.add_argument("--prediction", required=True)
    parser.add_argument("--score", default=None, help="accepted, not needed for fairness")
    parser.add_argument("--pos-label", default=None)
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples; 0: no intervals")


def _calibration(parser: ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--label", required=True)
    parser.add_argument("--score", required=True)
    parser.add_argument("--pos-label", default=None)
    parser.add_argument("--bins", type=int, default=10)
    parser.add_argument("--strategy", default="uniform", choices=["uniform", "quantile"])
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples; 0: no intervals")


def _data_quality(parser: ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--dataset", default="local", help="inventory slug of the input")
    parser.add_argument("--reference", type=Path, default=None, help="drift against this file")
    parser.add_argument("--reference-dataset", default="reference")
    parser.add_argument("--split", default=None, help="column naming each row's split")
    parser.add_argument("--label", default=None)


def _model(parser: ArgumentParser) -> None:
    _envelope(parser)
    parser.add_argument("--model", required=True, type=Path, help="ONNX, or safetensors weights")
    parser.add_argument(
        "--architecture", type=Path, default=None, help="architecture JSON of safetensors weights"
    )
    parser.add_argument(
        "--features", nargs="+", default=None, help="feature columns, in the model's order"
    )


def _robustness(parser: ArgumentParser) -> None:
    _model(parser)
    parser.add_argument("--label", required=True, help="column of class indices 0..k-1")
    parser.add_argument("--linf", nargs="*", type=float, help="L-infinity budgets; none: skip")
    parser.add_argument("--l2", nargs="*", type=float, help="L2 budgets; none: skip")
    parser.add_argument("--pgd-steps", type=int)
    parser.add_argument("--pgd-step-size", type=float, help="default 2.5 * budget / steps")
    parser.add_argument("--pgd-random-start", action="store_true", default=None)
    parser.add_argument("--noise", nargs="*", type=float, help="Gaussian noise severities")
    parser.add_argument("--dropout", nargs="*", type=float, help="feature dropout severities")
    parser.add_argument("--bounds", nargs=2, type=float, metavar=("LOW", "HIGH"))
    parser.add_argument("--immutable", nargs="+", type=int, help="flattened feature indices")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--seed", type=int)


def _efficiency(parser: ArgumentParser) -> None:
    _model(parser)
    parser.add_argument("--label", default=None, help="a column to leave out of the features")
    parser.add_argument("--batch-sizes", nargs="+", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--power-watts", type=float, help="measured or rated power draw")
    parser.add_argument("--grid-intensity", type=float, help="grams CO2e per kWh")


def _read_limited(path: Path, limit: int, option: str) -> bytes:
    """At most `limit` + 1 bytes of the file: one more than allowed is enough for the
    loader to refuse it as too large, without reading the rest."""
    if not path.is_file():
        raise CommandError(f"{option} {path}: no such file", returncode=2)
    with path.open("rb") as file:
        return file.read(limit + 1)


def _load(options: dict[str, Any]) -> "LoadedModel":
    """The model file (and its architecture), checked and loaded; nothing in it is run."""
    from evaluations.assessments.modelfiles import LIMITS, load_model
    from evaluations.assessments.modelfiles.architecture import MAX_ARCHITECTURE_BYTES

    data = _read_limited(options["model"], LIMITS.max_bytes, "--model")
    given = options.get("architecture")
    architecture = (
        None if given is None else _read_limited(given, MAX_ARCHITECTURE_BYTES, "--architecture")
    )
    return load_model(data, architecture=architecture)


def _model_metrics(kind: str, path: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Robustness or efficiency of the model file on the evaluation file's rows."""
    from evaluations.assessments.model_inputs import read_model_inputs

    model = _load(options)
    inputs = read_model_inputs(
        path,
        input_shape=model.input_shape,
        label=options.get("label"),
        features=options.get("features"),
    )
    if kind == "efficiency":
        from evaluations.assessments.efficiency import efficiency_metrics

        return efficiency_metrics(model, inputs.x, **_given(options, EFFICIENCY_OPTIONS))
    from evaluations.assessments.robustness import robustness_metrics

    assert inputs.y is not None  # --label is required for robustness
    return robustness_metrics(model, inputs.x, inputs.y, **_given(options, ROBUSTNESS_OPTIONS))


def _given(options: dict[str, Any], keywords: dict[str, str]) -> dict[str, Any]:
    """The engine keywords of the options given on the command line."""
    given = {keywords[name]: options[name] for name in keywords if options.get(name) is not None}
    if "input_bounds" in given:
        given["input_bounds"] = tuple(given["input_bounds"])
    return given


def _table_metrics(kind: str, path: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Fairness, calibration or data quality of a predictions file, one streaming pass."""
    from evaluations.assessments.pipeline import compute

    mapping = {
        "label": options.get("label"),
        "prediction": options.get("prediction"),
        "score": options.get("score"),
        "split": options.get("split"),
        "sensitive": options["sensitive"],
        "pos_label": options.get("pos_label"),
    }
    engine_options = {
        "bins": options.get("bins", 10),
        "strategy": options.get("strategy", "uniform"),
        "n_boot": options.get("bootstrap", 0),
        "seed": options["seed"],
        "min_group_size": options["min_group_size"],
        "dataset": options.get("dataset"),
        "reference_dataset": options.get("reference_dataset") if options.get("reference") else None,
    }
    file_format = "parquet" if path.suffix.lower() in (".parquet", ".pq", ".parq") else "csv"
    metrics: dict[str, Any] = compute(
        path,
        format=file_format,
        kinds=[kind],
        mapping=mapping,
        options=engine_options,
        reference=options.get("reference"),
    )[kind]
    return metrics


class Command(BaseCommand):
    help = "Run an assessment engine on a local CSV or Parquet file; print the evidence JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True)
        for name, build in (
            ("fairness", _fairness),
            ("calibration", _calibration),
            ("data-quality", _data_quality),
            ("robustness", _robustness),
            ("efficiency", _efficiency),
        ):
            build(kinds.add_parser(name, help=f"{name} assessment"))

    def handle(self, *args: Any, **options: Any) -> None:
        kind = KINDS[options["kind"]]
        path: Path = options["input"]
        if not path.is_file():
            raise CommandError(f"--input {path}: no such file", returncode=2)
        try:
            if kind in ("robustness", "efficiency"):
                metrics = _model_metrics(kind, path, options)
            else:
                metrics = _table_metrics(kind, path, options)
        except ModelRefusedError as exc:
            raise CommandError(f"{exc.code}: {exc.message}", returncode=2) from exc
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from exc
        document = {
            "kind": kind,
            "schema_version": CURRENT_VERSION[kind],
            "system": options["system"],
            "model_version": options["model_version"],
            "context": options["context"],
            "effective_date": timezone.localdate().isoformat(),
            "metrics": metrics,
        }
        issues = validate_document(document, computed=True)
        if issues:
            raise CommandError(f"the {kind} document does not validate: {issues[:3]}")
        self.stdout.write(json.dumps(document, indent=2, sort_keys=True))
