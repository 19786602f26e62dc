"""`manage.py assess`: the engines on local files, printing a document that validates."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from evaluations.validation import validate_document

ROWS = 300


def predictions(tmp_path: Path, name: str = "p.csv") -> Path:
    table = pa.table(
        {
            "y": [i % 2 for i in range(ROWS)],
            "yhat": [(i // 3) % 2 for i in range(ROWS)],
            "p": [((i * 7) % 100) / 100 for i in range(ROWS)],
            "sex": ["f" if i % 3 else "m" for i in range(ROWS)],
            "age": ["young" if i % 5 else "old" for i in range(ROWS)],
            "split": ["train" if i % 4 else "test" for i in range(ROWS)],
        }
    )
    path = tmp_path / name
    if name.endswith(".parquet"):
        pq.write_table(table, path)
    else:
        pa_csv.write_csv(table, path)
    return path


def assess(*args: str) -> dict:  # type: ignore[type-arg]
    out = StringIO()
    call_command("assess", *args, stdout=out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def test_fairness_prints_a_fairness_document_that_validates(tmp_path: Path) -> None:
    path = predictions(tmp_path)
    document = assess(
        "fairness",
        "--input",
        str(path),
        "--label",
        "y",
        "--prediction",
        "yhat",
        "--sensitive",
        "sex",
        "--sensitive",
        "age",
        "--bootstrap",
        "50",
    )
    assert document["kind"] == "fairness"
    assert validate_document(document, computed=True) == []
    features = [b["features"] for b in document["metrics"]["breakdowns"]]
    assert ["sex", "age"] in features


def test_calibration_with_quantile_bins_from_parquet(tmp_path: Path) -> None:
    path = predictions(tmp_path, "p.parquet")
    document = assess(
        "calibration",
        "--input",
        str(path),
        "--label",
        "y",
        "--score",
        "p",
        "--bins",
        "5",
        "--strategy",
        "quantile",
        "--sensitive",
        "sex",
        "--bootstrap",
        "0",
    )
    assert (document["metrics"]["n_bins"], document["metrics"]["bin_strategy"]) == (5, "quantile")
    assert validate_document(document) == []


def test_data_quality_against_a_reference_file(tmp_path: Path) -> None:
    path = predictions(tmp_path)
    reference = predictions(tmp_path, "ref.csv")
    document = assess(
        "data-quality",
        "--input",
        str(path),
        "--reference",
        str(reference),
        "--split",
        "split",
        "--label",
        "y",
        "--sensitive",
        "sex",
        "--dataset",
        "applicants",
    )
    assert validate_document(document) == []
    assert document["metrics"]["drift"], document["metrics"]


def test_a_missing_column_is_an_error_naming_it(tmp_path: Path) -> None:
    path = predictions(tmp_path)
    with pytest.raises(CommandError, match="outcome") as error:
        assess(
            "fairness",
            "--input",
            str(path),
            "--label",
            "outcome",
            "--prediction",
            "yhat",
            "--sensitive",
            "sex",
        )
    assert error.value.returncode == 2


def test_invalid_input_exits_non_zero_from_the_command_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("y,p\n1,1.5\n0,0.2\n")
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "assess",
            "calibration",
            "--input",
            str(bad),
            "--label",
            "y",
            "--score",
            "p",
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "1.5" in result.stderr or "[0, 1]" in result.stderr
