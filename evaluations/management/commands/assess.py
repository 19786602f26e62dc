"""`manage.py assess {fairness,calibration,data-quality} ...`: the workers' engines on
local files; prints the evidence document as JSON, exits 2 on invalid input."""

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from evaluations.validation import CURRENT_VERSION, validate_document

KINDS = {"fairness": "fairness", "calibration": "calibration", "data-quality": "data_quality"}


def _common(parser: ArgumentParser) -> None:
    parser.add_argument("--input", required=True, type=Path, help="CSV or Parquet file")
    parser.add_argument("--system", default="local", help="AI system slug for the envelope")
    parser.add_argument("--model-version", default=None, help="model version for the envelope")
    parser.add_argument("--context", default="evaluation", choices=["evaluation", "monitoring"])
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


class Command(BaseCommand):
    help = "Run an assessment engine on a local CSV or Parquet file; print the evidence JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True)
        for name, build in (
            ("fairness", _fairness),
            ("calibration", _calibration),
            ("data-quality", _data_quality),
        ):
            build(kinds.add_parser(name, help=f"{name} assessment"))

    def handle(self, *args: Any, **options: Any) -> None:
        from evaluations.assessments.pipeline import compute

        kind = KINDS[options["kind"]]
        path: Path = options["input"]
        if not path.is_file():
            raise CommandError(f"--input {path}: no such file", returncode=2)
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
            "reference_dataset": options.get("reference_dataset")
            if options.get("reference")
            else None,
        }
        file_format = "parquet" if path.suffix.lower() in (".parquet", ".pq", ".parq") else "csv"
        try:
            metrics = compute(
                path,
                format=file_format,
                kinds=[kind],
                mapping=mapping,
                options=engine_options,
                reference=options.get("reference"),
            )[kind]
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
