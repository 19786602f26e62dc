"""Robustness and efficiency jobs over the API: an uploaded model and its evaluation data.

Refusals the web process can see (a pickle under any name, external data, a disallowed op,
a truncated protobuf, weights that do not fit the architecture, an unknown layer, an
evaluation file the model cannot take) answer 400 `model_refused` before anything is
stored; a worker refuses what only running shows with the same reason as the job's code.
"""

import hashlib
import json
import pickle  # noqa: TID251 - builds the malicious payloads this test must see refused
from pathlib import Path
from typing import Any

import numpy as np
import onnx  # noqa: TID251 - builds hostile ONNX files for the tests
import pytest
import torch  # noqa: TID251 - the reference network of the tests
from django.core.files.uploadedfile import SimpleUploadedFile
from onnx import helper  # noqa: TID251 - builds hostile ONNX files for the tests
from rest_framework.test import APIClient

from evaluations.assessments.modelfiles.architecture import architecture_of, weights_of
from evaluations.assessments.modelfiles.export import to_onnx
from evaluations.models import AssessmentJob, Evidence
from evaluations.services import assessments as services
from evaluations.validation import validate_document
from riskreg.organisations.roles import Role
from tests.api.conftest import World
from tests.api.helpers import assert_envelope, assert_nothing_written, attachment_files, db_snapshot

FEATURES = 6
CLASSES = 3


def network() -> tuple[torch.nn.Sequential, dict[str, Any]]:
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, 8), torch.nn.ReLU(), torch.nn.Linear(8, CLASSES)
    ).eval()
    return module, architecture_of(module, (FEATURES,))


def onnx_bytes() -> bytes:
    module, architecture = network()
    return to_onnx(architecture, module.state_dict())


def evaluation_csv(rows: int = 120, features: int = FEATURES) -> bytes:
    rng = np.random.default_rng(1)
    x = rng.random((rows, FEATURES))
    module, _ = network()
    with torch.no_grad():
        y = module(torch.tensor(x, dtype=torch.float32)).argmax(1).numpy()
    y[::5] = (y[::5] + 1) % CLASSES  # some wrong, so accuracy is not trivially 1
    header = ",".join([*(f"f{i}" for i in range(features)), "label"])
    lines = [
        ",".join([*(f"{v:.6f}" for v in row), str(label)]) for row, label in zip(x, y, strict=True)
    ]
    return ("\n".join([header, *lines]) + "\n").encode()


def form(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "file": SimpleUploadedFile("eval.csv", evaluation_csv(), content_type="text/csv"),
        "model": SimpleUploadedFile("model.onnx", onnx_bytes(), "application/octet-stream"),
        "system": "credit-scoring",
        "model_version": "1.0",
        "kinds": ["robustness"],
        "mapping": json.dumps({"label": "label"}),
        "options": json.dumps(
            {
                "linf_budgets": [0.05, 0.1],
                "l2_budgets": [0.1],
                "pgd_steps": 3,
                "noise_severities": [0.5],
                "dropout_severities": [0.5],
                "input_bounds": [0, 1],
            }
        ),
    }
    body.update(changes)
    return body


def post(client: APIClient, key: str | None = None, **changes: Any) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/assessments/", form(**changes), format="multipart", **headers)


@pytest.fixture
def engineer(world: World, api_for: Any) -> APIClient:
    return api_for(Role.ENGINEER)


def run(uid: str) -> AssessmentJob:
    job = AssessmentJob.objects.get(uid=uid)
    services.assessment_run(job_id=job.pk, worker="w1")
    job.refresh_from_db()
    return job


def test_engineer_uploads_an_onnx_model_and_gets_a_robustness_item(engineer: APIClient) -> None:
    answer = post(engineer, key="robust-1")

    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert (body["model_name"], body["model_format"], body["kinds"]) == (
        "model.onnx", "onnx", ["robustness"],
    )  # fmt: skip
    job = run(body["id"])
    assert (job.status, job.error_code) == ("succeeded", ""), job.message
    item = Evidence.objects.get(assessment_job=job)
    assert item.kind == "robustness"
    metrics = item.document["metrics"]
    assert metrics["size"] == 120
    names = {(p["name"], p["norm"]) for p in metrics["perturbations"]}
    assert names == {("fgsm", "linf"), ("fgsm", "l2"), ("pgd", "linf"), ("pgd", "l2"),
                     ("gaussian_noise", None), ("feature_dropout", None)}  # fmt: skip
    assert validate_document(item.document, computed=True) == []
    assert post(engineer, key="robust-1").status_code == 200  # the same job again


def test_safetensors_with_an_architecture_gives_the_same_numbers_as_onnx(
    engineer: APIClient,
) -> None:
    module, architecture = network()
    from_onnx = run(post(engineer).json()["id"])
    answer = post(
        engineer,
        model=SimpleUploadedFile("weights.safetensors", weights_of(module)),
        architecture=SimpleUploadedFile("arch.json", json.dumps(architecture).encode()),
    )
    from_weights = run(answer.json()["id"])

    assert answer.json()["model_format"] == "safetensors"
    first, second = (Evidence.objects.get(assessment_job=j) for j in (from_onnx, from_weights))
    assert first.document["metrics"] == second.document["metrics"]


def test_an_efficiency_job_reports_latency_per_batch_size(engineer: APIClient) -> None:
    options = {"batch_sizes": [1, 16], "repeats": 3, "warmup": 1, "power_watts": 30,
               "grid_gco2e_per_kwh": 400}  # fmt: skip
    job = run(post(engineer, kinds=["efficiency"], options=json.dumps(options)).json()["id"])

    assert job.status == "succeeded", job.message
    metrics = Evidence.objects.get(assessment_job=job).document["metrics"]
    assert [row["batch_size"] for row in metrics["latency"]] == [1, 16]
    assert metrics["parameter_count"] == FEATURES * 8 + 8 + 8 * CLASSES + CLASSES
    assert metrics["co2e_kg"] == pytest.approx(metrics["energy_kwh"] * 400 / 1000)


class _Canary:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("name", ["model.onnx", "weights.safetensors", "model.pt", "model.pkl",
                                  "model.joblib", "model.bin", "model"])  # fmt: skip
@pytest.mark.parametrize("content_type", ["application/octet-stream", "application/x-protobuf",
                                          "application/json"])  # fmt: skip
def test_a_pickle_is_refused_under_any_name_and_type_and_never_runs(
    engineer: APIClient, tmp_path: Path, name: str, content_type: str
) -> None:
    canary = tmp_path / "canary"
    payload = pickle.dumps(_Canary(canary))
    before, stored = db_snapshot(), attachment_files()

    answer = post(engineer, model=SimpleUploadedFile(name, payload, content_type))

    found = assert_envelope(answer, 400, "model_refused")
    assert found["extra"] == {"reason": "model_format", "field": "model"}
    assert not canary.exists()
    assert_nothing_written(before)
    assert attachment_files() == stored


def external_data_model() -> bytes:
    model = onnx.load_model_from_string(onnx_bytes())
    tensor = model.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.data_location = onnx.TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="weights.bin")
    return model.SerializeToString()


def nested_op_model() -> bytes:
    """A graph whose If branch runs an op outside the allow-list."""
    inner = helper.make_graph(
        [helper.make_node("RandomNormalLike", ["x"], ["y"])], "inner", [],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )  # fmt: skip
    cond = helper.make_tensor("cond", onnx.TensorProto.BOOL, [], [True])
    graph = helper.make_graph(
        [helper.make_node("If", ["cond"], ["logits"], then_branch=inner, else_branch=inner)],
        "outer",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", FEATURES])],
        [helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, None)],
        initializer=[cond],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def architecture_json(**change: Any) -> bytes:
    _, architecture = network()
    architecture = {**architecture, **change}
    return json.dumps(architecture).encode()


def refused_cases() -> list[Any]:
    module, _ = network()
    weights = weights_of(module)
    wider = torch.nn.Sequential(torch.nn.Linear(FEATURES, 9), torch.nn.ReLU(),
                                torch.nn.Linear(9, CLASSES))  # fmt: skip
    unknown = architecture_json(layers=[{"type": "Lambda", "code": "__import__('os')"}])
    return [
        pytest.param({"model": SimpleUploadedFile("m.onnx", external_data_model())},
                     "model_external_data", "model", id="external data"),
        pytest.param({"model": SimpleUploadedFile("m.onnx", nested_op_model())},
                     "model_op_refused", "model", id="disallowed op nested in an If"),
        pytest.param({"model": SimpleUploadedFile("m.onnx", onnx_bytes()[:200])},
                     "model_invalid", "model", id="truncated protobuf"),
        pytest.param({"model": SimpleUploadedFile("w.safetensors", weights_of(wider)),
                      "architecture": SimpleUploadedFile("a.json", architecture_json())},
                     "weights_mismatch", "model", id="weights that do not fit"),
        pytest.param({"model": SimpleUploadedFile("w.safetensors", weights),
                      "architecture": SimpleUploadedFile("a.json", unknown)},
                     "architecture_invalid", "architecture", id="unknown layer"),
        pytest.param({"model": SimpleUploadedFile("w.safetensors", weights)},
                     "architecture_invalid", "model", id="weights without architecture"),
        pytest.param({"file": SimpleUploadedFile("eval.csv", evaluation_csv(features=5))},
                     "input_mismatch", "file", id="evaluation file of another width"),
    ]  # fmt: skip


@pytest.mark.parametrize(("changes", "reason", "field"), refused_cases())
def test_a_model_the_web_process_can_see_is_wrong_is_refused_before_anything_is_stored(
    engineer: APIClient, changes: dict[str, Any], reason: str, field: str
) -> None:
    before, stored = db_snapshot(), attachment_files()

    found = assert_envelope(post(engineer, **changes), 400, "model_refused")

    assert found["extra"] == {"reason": reason, "field": field}
    assert_nothing_written(before)
    assert attachment_files() == stored


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kinds": ["robustness", "fairness"]}, "kinds"),
        ({"model": None}, "model"),
        ({"options": json.dumps({"input_bounds": [1, 0]})}, "options.input_bounds"),
        ({"options": json.dumps({"pgd_steps": 0})}, "options.pgd_steps"),
        ({"mapping": json.dumps({"label": "nope"})}, "mapping"),
    ],
    ids=["mixed kinds", "no model", "bounds reversed", "zero steps", "unknown label column"],
)
def test_malformed_model_job_requests_are_400_and_write_nothing(
    engineer: APIClient, changes: dict[str, Any], field: str
) -> None:
    body = form(**changes)
    body = {k: v for k, v in body.items() if v is not None}
    before = db_snapshot()

    answer = engineer.post("/api/v1/assessments/", body, format="multipart")

    found = assert_envelope(answer, 400, "validation_error")
    assert field in json.dumps(found), found
    assert_nothing_written(before)


def test_a_label_outside_the_models_classes_fails_the_job_with_a_reason(
    engineer: APIClient,
) -> None:
    bad = evaluation_csv().replace(b",0\n", b",7\n")

    job = run(post(engineer, file=SimpleUploadedFile("eval.csv", bad)).json()["id"])

    assert (job.status, job.error_code) == ("failed", "invalid_input")
    assert "7" in job.message
    assert not Evidence.objects.filter(assessment_job=job).exists()


def test_a_reshape_that_only_running_shows_fails_the_job_with_the_models_reason(
    engineer: APIClient,
) -> None:
    """The graph declares 6 inputs but reshapes them to 4: only running it shows that."""
    shape = helper.make_tensor("shape", onnx.TensorProto.INT64, [2], [-1, 4])
    weight = helper.make_tensor("w", onnx.TensorProto.FLOAT, [4, CLASSES], [0.1] * 4 * CLASSES)
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["r"]),
         helper.make_node("MatMul", ["r", "w"], ["logits"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", FEATURES])],
        [helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, ["batch", CLASSES])],
        initializer=[shape, weight],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    job = run(post(engineer, model=SimpleUploadedFile("m.onnx", model.SerializeToString()))
              .json()["id"])  # fmt: skip

    assert job.status == "failed"
    assert job.error_code in {"input_mismatch", "invalid_input"}
    assert job.message


def test_an_auditor_may_not_upload_a_model(world: World, api_for: Any) -> None:
    assert_envelope(post(api_for(Role.AUDITOR)), 403, "permission_denied")


def test_a_foreign_system_is_not_found(engineer: APIClient) -> None:
    assert_envelope(post(engineer, system="turnstile"), 404, "not_found")


def test_the_job_page_of_the_api_names_the_stored_model(engineer: APIClient) -> None:
    body = post(engineer).json()
    detail = engineer.get(body["url"]).json()

    assert detail["model_sha256"] == hashlib.sha256(onnx_bytes()).hexdigest()
    assert detail["architecture_sha256"] is None
