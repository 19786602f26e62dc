"""The `riskreg` command and `Client` against a live server (embedded default, demo data,
real web, worker and beat processes): what a CI job and a notebook do."""

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pytest
from riskreg_client import Client
from riskreg_client.errors import (
    EXIT_AUTH,
    EXIT_CONFLICT,
    EXIT_GATE,
    EXIT_INVALID,
    EXIT_OK,
    ConflictError,
)

from tests.client.live import Server, live_server

pytestmark = pytest.mark.integration
RISKREG = [sys.executable, "-m", "riskreg_client.cli"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from live_server(tmp_path_factory.mktemp("live"))


def riskreg(
    server: Server, *args: str, user: str = "engineer", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RISKREG, *args], env={**server.cli_env(user), **env}, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def demo_document(server: Server, version: str, kind: str = "fairness") -> dict[str, Any]:
    """The demo's current item of this kind for shelf-vision `version`, as a new document."""
    with Client(server.url, server.tokens["engineer"]) as client:
        listed = client.transport.request(
            "GET", "evidence/", params={"system": "shelf-vision", "model_version": version,
                                        "kind": kind, "state": "current"}, what="list",
        )  # fmt: skip
        detail = client.status(listed["results"][0]["url"])
    document: dict[str, Any] = detail["document"]
    document.pop("attachments", None)
    document["effective_date"] = datetime.now(UTC).date().isoformat()  # a new claim, so a new item
    return document


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def predictions(path: Path, rows: int = 2000) -> Path:
    rng = np.random.default_rng(11)
    lighting = rng.choice(["day", "night"], size=rows)
    label = rng.integers(0, 2, size=rows)
    flip = rng.random(rows) < np.where(lighting == "night", 0.15, 0.05)
    prediction = np.where(flip, 1 - label, label)
    lines = ["lighting,y,yhat"] + [
        f"{g},{y},{p}" for g, y, p in zip(lighting, label, prediction, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_engineer_registers_a_version_and_registering_it_again_is_harmless(
    server: Server, tmp_path: Path
) -> None:
    artifact = tmp_path / "model.onnx"
    artifact.write_bytes(b"weights of 3.0")
    args = ["model-version", "register", "--system", "shelf-vision", "--version", "3.0",
            "--parent", "2.0", "--artifact", str(artifact)]  # fmt: skip

    first = riskreg(server, *args)
    again = riskreg(server, *args)
    artifact.write_bytes(b"other weights")
    clash = riskreg(server, *args)

    assert first.returncode == EXIT_OK, first.stderr
    assert first.stdout.startswith("registered: shelf-vision 3.0 (")
    assert again.returncode == EXIT_OK, again.stderr
    assert again.stdout.startswith("already registered: shelf-vision 3.0")
    assert clash.returncode == EXIT_CONFLICT
    assert clash.stderr.count("\n") == 1
    assert "already registered with artifact_sha256" in clash.stderr


def test_a_rerun_submission_gets_its_original_item_back(server: Server, tmp_path: Path) -> None:
    document = demo_document(server, "2.0")
    document["effective_date"] = "2026-11-02"
    path = write_json(tmp_path / "fairness.json", document)
    args = ["submit", str(path), "--json"]

    first = riskreg(server, *args, GITHUB_ACTIONS="true", GITHUB_SHA="a" * 40,
                    GITHUB_SERVER_URL="https://github.example", GITHUB_REPOSITORY="shop/vision",
                    GITHUB_RUN_ID="77")  # fmt: skip
    second = riskreg(server, *args)

    assert first.returncode == EXIT_OK, first.stderr
    assert second.returncode == EXIT_OK, second.stderr
    created, replayed = json.loads(first.stdout), json.loads(second.stdout)
    assert created["replayed"] is False
    assert replayed["replayed"] is True
    assert [i["id"] for i in replayed["items"]] == [i["id"] for i in created["items"]]
    provenance = created["items"][0]["provenance"]
    assert provenance["commit_sha"] == "a" * 40
    assert provenance["ci_run_url"] == "https://github.example/shop/vision/actions/runs/77"
    assert provenance["tool_name"] == "riskreg-client"


def test_assess_waits_for_the_job_and_its_verdicts_and_a_rerun_finds_the_same_job(
    server: Server, tmp_path: Path
) -> None:
    path = predictions(tmp_path / "preds.csv")
    args = ["assess", str(path), "--system", "shelf-vision", "--model-version", "2.0",
            "--label", "y", "--prediction", "yhat", "--sensitive", "lighting",
            "--n-boot", "200", "--wait", "--interval", "0.5", "--json"]  # fmt: skip

    first = riskreg(server, *args)
    again = riskreg(server, *args)

    assert first.returncode == EXIT_OK, first.stderr
    done = json.loads(first.stdout)
    assert done["job"]["status"] == "succeeded"
    assert done["job"]["verdict_update"]["state"] == "done"
    assert [item["kind"] for item in done["items"]] == ["fairness"]
    assert again.returncode == EXIT_OK, again.stderr
    rerun = json.loads(again.stdout)
    assert rerun["replayed"] is True
    assert rerun["job"]["id"] == done["job"]["id"]


def test_the_gate_fails_the_quantised_build_on_its_regression_and_passes_the_full_build(
    server: Server, tmp_path: Path
) -> None:
    int8 = write_json(tmp_path / "int8.json", demo_document(server, "2.0-int8"))
    full = write_json(tmp_path / "full.json", demo_document(server, "2.0"))
    summary, report = tmp_path / "summary.md", tmp_path / "junit.xml"
    gate = ["--fail-on", "regression", "--interval", "0.5"]

    failed = riskreg(server, "submit", str(int8), *gate, "--junit", str(report),
                     GITHUB_STEP_SUMMARY=str(summary))  # fmt: skip
    passed = riskreg(server, "submit", str(full), *gate)

    assert failed.returncode == EXIT_GATE, failed.stdout + failed.stderr
    assert "FAIL MEASURE 4.3" in " ".join(failed.stdout.split())
    assert "gate failed (--fail-on regression)" in failed.stdout
    assert "| MEASURE 4.3 | not_met |" in summary.read_text(encoding="utf-8")
    suite = ElementTree.parse(report).getroot()  # noqa: S314 - the file this test had written
    failures = {
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    }
    assert {"MEASURE 4.3", "MEASURE 2.4", "MANAGE 4.1"} <= failures
    assert passed.returncode == EXIT_OK, passed.stdout + passed.stderr
    assert "gate passed (--fail-on regression)" in passed.stdout


def test_log_metricframe_submits_a_fairness_document_the_server_accepts(server: Server) -> None:
    from fairlearn.metrics import (  # noqa: TID251 - a notebook's MetricFrame
        MetricFrame,
        count,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 600)
    yhat = np.where(rng.random(600) < 0.1, 1 - y, y)
    lighting = rng.choice(["day", "night"], 600)
    metrics = {f.__name__: f for f in (count, selection_rate, true_positive_rate,
                                        false_positive_rate)}  # fmt: skip
    mf = MetricFrame(metrics=metrics, y_true=y, y_pred=yhat,
                     sensitive_features={"lighting": lighting})  # fmt: skip
    with Client(server.url, server.tokens["engineer"]) as client:
        done = client.wait(client.log_metricframe(mf, system="shelf-vision", model_version="2.0"))
        item = client.status(done.items[0]["url"])

    assert len(done.items) == 1
    assert item["kind"] == "fairness"
    assert item["verdict_update"]["state"] == "done"
    groups = item["document"]["metrics"]["breakdowns"][0]["groups"]
    assert sorted(g["group"]["lighting"] for g in groups) == ["day", "night"]
    assert sum(g["size"] for g in groups) == 600


def test_a_schema_violation_is_refused_locally_in_one_line(server: Server, tmp_path: Path) -> None:
    document = demo_document(server, "2.0")
    document["metrics"]["overall"]["selection_rate"] = 1.7
    path = write_json(tmp_path / "bad.json", document)

    local = riskreg(server, "submit", str(path))
    remote = riskreg(server, "submit", str(path), "--no-validate")

    assert local.returncode == EXIT_INVALID
    assert local.stderr.count("\n") == 1
    assert "/metrics/overall/selection_rate" in local.stderr
    assert remote.returncode == EXIT_INVALID
    assert remote.stderr.count("\n") == 1
    assert "evidence_invalid" in remote.stderr
    assert "/metrics/overall/selection_rate" in remote.stderr


def test_a_wrong_token_and_a_role_that_may_not_are_told_apart_from_other_errors(
    server: Server, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "doc.json", demo_document(server, "2.0"))

    wrong = riskreg(server, "schemas", RISKREG_TOKEN="rr_notatoken")
    auditor = riskreg(server, "submit", str(path), user="auditor")

    assert wrong.returncode == EXIT_AUTH
    assert wrong.stderr.count("\n") == 1
    assert "authentication_failed" in wrong.stderr
    assert auditor.returncode == EXIT_AUTH
    assert "permission_denied" in auditor.stderr


def test_a_foreign_system_is_not_found_and_changes_nothing(server: Server, tmp_path: Path) -> None:
    document = demo_document(server, "2.0")
    document["system"], document["model_version"] = "triage-assistant", None
    path = write_json(tmp_path / "foreign.json", document)

    refused = riskreg(server, "submit", str(path), "--no-validate")

    assert refused.returncode == EXIT_INVALID
    assert "not_found" in refused.stderr


def test_an_idempotency_key_reused_for_another_document_is_a_conflict(server: Server) -> None:
    first = demo_document(server, "2.0")
    first["effective_date"] = "2026-11-03"
    other = dict(first, effective_date="2026-11-04")
    headers = {"Idempotency-Key": "rr-reused-by-hand"}

    with Client(server.url, server.tokens["engineer"]) as client:
        client.transport.request(
            "POST", "evidence/", json={"document": first}, headers=headers, what="submit"
        )
        with pytest.raises(ConflictError, match=r"\(idempotency_conflict, HTTP 409\)"):
            client.transport.request(
                "POST", "evidence/", json={"document": other}, headers=headers, what="submit"
            )


def test_schemas_lists_every_kind(server: Server) -> None:
    listed = riskreg(server, "schemas")

    assert listed.returncode == EXIT_OK, listed.stderr
    kinds = {line.split()[0] for line in listed.stdout.splitlines()}
    assert kinds == {"fairness", "calibration", "robustness", "performance", "efficiency",
                     "data_quality", "document"}  # fmt: skip


def test_status_follows_an_item_until_its_verdicts_are_done(server: Server, tmp_path: Path) -> None:
    document = demo_document(server, "2.0")
    document["effective_date"] = "2026-11-05"
    created = json.loads(riskreg(server, "submit", str(write_json(tmp_path / "d.json", document)),
                                 "--json").stdout)  # fmt: skip
    url = server.url.rstrip("/") + created["items"][0]["url"]

    followed = riskreg(server, "status", url, "--wait", "--interval", "0.5", "--json")

    assert followed.returncode == EXIT_OK, followed.stderr
    assert json.loads(followed.stdout)["items"][0]["verdict_update"]["state"] == "done"
