"""The demo's model assessments: robustness and efficiency of the edge classifier's builds.

riskreg's demo classifier (evaluations/assessments/digits.py: a small CNN on scikit-learn's
bundled 8-by-8 digits, nothing downloaded) stands in for shelf-vision, trained here at seed
time with seed 0. The engineer uploads each build as its inventory entry says it ships:
2.0 (framework pytorch) as safetensors weights with their architecture JSON, 2.0-int8
(framework onnx) as the ONNX export of the quantised build, so both upload paths appear.
Each comes with the digits' test set as its evaluation data, and gets one robustness job
and one efficiency job, run in-process as a worker would (like demo_assessments).

The efficiency jobs time the model on the machine that seeds the demo; the energy figures
rest on two demo assumptions, the draw of an edge box running the model (15 W) and a grid
intensity of 250 gCO2e/kWh, passed as options like any caller's measured figures.

Idempotent: each job is found by its Idempotency-Key first; the classifier is trained only
when a job is missing, and a job is run only while it has not finished.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations.models import AssessmentJob
from evaluations.selectors import assessments as assessment_selectors
from evaluations.services import assessments as assessment_services
from evaluations.services import model_jobs
from riskreg.inventory import selectors as inventory
from riskreg.organisations import selectors as org_selectors
from riskreg.organisations.actor import Actor

SYSTEM = "shelf-vision"
FULL, INT8 = "2.0", "2.0-int8"
MAPPING = {"label": "label"}
# Small budgets keep seeding fast. The smallest of each curve is the one the rules judge
# (fixtures/controls/rules.yaml); the larger ones chart how the classifier breaks.
OPTIONS: dict[str, dict[str, Any]] = {
    "robustness": {
        "input_bounds": [0.0, 1.0],
        "linf_budgets": [0.05, 0.1, 0.2],
        "l2_budgets": [0.25, 0.5, 1.0],
        "pgd_steps": 10,
        "noise_severities": [0.1, 0.5, 1.0],
        "dropout_severities": [0.1, 0.25, 0.5],
        "seed": 0,
    },
    "efficiency": {
        "batch_sizes": [1, 32, 256],
        "repeats": 20,
        "power_watts": 15.0,  # demo assumption: an edge box's draw while it classifies
        "grid_gco2e_per_kwh": 250.0,  # demo assumption: a European grid's average
    },
}
EVALUATION_NAME = "shelf-digits-test.csv"


@dataclass(frozen=True)
class Build:
    """What the engineer uploads for one model version: the model file(s) and the data."""

    model_name: str
    model: bytes
    architecture: bytes | None
    evaluation: bytes

    def upload(self) -> model_jobs.ModelUpload:
        model = SimpleUploadedFile(self.model_name, self.model, model_jobs.MODEL_MEDIA_TYPE)
        if self.architecture is None:
            return model_jobs.ModelUpload(model)
        architecture = SimpleUploadedFile(
            self.model_name.replace(".safetensors", ".architecture.json"),
            self.architecture,
            model_jobs.ARCHITECTURE_MEDIA_TYPE,
        )
        return model_jobs.ModelUpload(model, architecture)


def job_key(kind: str, version: str) -> str:
    """The Idempotency-Key of the demo's `kind` job on shelf-vision `version`."""
    return f"demo-assessment-{kind}-shelf-{version}"


def _builds() -> dict[str, Build]:
    """Train the demo classifier (a few seconds on a CPU) and package both builds."""
    # Imported here: torch stays out of processes that only import the demo's names.
    from evaluations.assessments.digits import evaluation_csv, quantised, train_digits_cnn
    from evaluations.assessments.modelfiles.export import to_onnx

    trained = train_digits_cnn(seed=0)
    evaluation = evaluation_csv(trained.x_test, trained.y_test)
    int8 = to_onnx(trained.architecture, quantised(trained.module).state_dict())
    architecture = json.dumps(trained.architecture).encode()
    return {
        FULL: Build("shelf-vision-2.0.safetensors", trained.weights, architecture, evaluation),
        INT8: Build("shelf-vision-2.0-int8.onnx", int8, None, evaluation),
    }


def _engineer(actor: Actor) -> Actor:
    membership = org_selectors.membership_get(
        organization_id=actor.organization_id, username="engineer"
    )
    assert membership is not None  # the demo added its members first
    return org_selectors.actor_for_membership(membership)


def _queued(engineer: Actor, version: str, kind: str, build: Build) -> AssessmentJob:
    system = inventory.system_get(actor=engineer, slug=SYSTEM)
    found = inventory.model_version_get(actor=engineer, system=system, version=version)
    created = model_jobs.model_job_create(
        actor=engineer,
        system=system,
        model_version=found,
        model=build.upload(),
        upload=SimpleUploadedFile(EVALUATION_NAME, build.evaluation, "text/csv"),
        kind=kind,
        mapping=MAPPING,
        options=OPTIONS[kind],
        idempotency_key=job_key(kind, version),
    )
    return created.job


def seed_models(actor: Actor) -> None:
    """Queue robustness and efficiency jobs of both shelf-vision builds once; run them."""
    engineer = _engineer(actor)
    jobs = assessment_selectors.assessment_job_list(actor=engineer)
    builds: dict[str, Build] | None = None
    for version in (FULL, INT8):
        for kind in OPTIONS:
            job = jobs.filter(idempotency_key=job_key(kind, version)).first()
            if job is None:
                builds = builds or _builds()
                job = _queued(engineer, version, kind, builds[version])
            if not job.done:
                assessment_services.assessment_run(job_id=job.pk, worker="seed_demo")
