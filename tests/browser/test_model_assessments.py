"""Model assessments in the browser: an engineer uploads an ONNX model and reads its
robustness curves.

As in test_assessments.py, the live server runs no worker: once the browser shows the
queued job, the test runs it as a worker would (`run_like_a_worker`), and the job page
must notice the end through its own refresh. The model is a tiny MLP written to ONNX here
(`architecture_of` + `to_onnx`, the way riskreg's own tests and demo write models); its
evaluation file's labels are the MLP's own predictions, so its clean accuracy is exactly 1.

The demo data is shared by the whole browser session: the upload goes to support
assistant 0.9, whose page and verdicts no other browser test reads.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch  # noqa: TID251 - the test builds the small model it uploads
from playwright.sync_api import Page, expect
from torch import nn  # noqa: TID251 - the test builds the small model it uploads

from evaluations.assessments.modelfiles.architecture import architecture_of
from evaluations.assessments.modelfiles.export import to_onnx
from evaluations.models import AssessmentJob, Evidence
from tests.browser.conftest import DemoSite, screenshot
from tests.browser.test_assessments import REFRESH, run_like_a_worker
from tests.browser.test_pages import nav_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

FEATURES = 4
ROWS = 200
SYSTEM = "Customer support assistant"
TABLE = "Accuracy under each perturbation, by budget (attacks) or severity (corruptions)"


def tiny_model(folder: Path) -> tuple[Path, Path]:
    """An untrained 4-8-3 MLP as ONNX, and a CSV of 200 rows in [0, 1] labelled by it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = nn.Sequential(nn.Linear(FEATURES, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    x = np.random.default_rng(0).random((ROWS, FEATURES), dtype=np.float32)
    with torch.no_grad():
        labels = module(torch.from_numpy(x)).argmax(dim=1).numpy()
    model = folder / "tiny-mlp.onnx"
    model.write_bytes(to_onnx(architecture_of(module, (FEATURES,)), module.state_dict()))
    header = ",".join(["label", *(f"x{i}" for i in range(FEATURES))])
    lines = [
        ",".join([str(y), *(f"{v:.6f}" for v in row)]) for y, row in zip(labels, x, strict=True)
    ]
    data = folder / "tiny-mlp-eval.csv"
    data.write_text("\n".join([header, *lines]) + "\n")
    return model, data


def open_version(page: Page, system: str, version: str) -> None:
    nav_link(page, "AI systems").click()
    page.get_by_role("link", name=system, exact=True).click()
    page.get_by_role("link", name=version, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{system} {version}")


def test_engineer_uploads_an_onnx_model_and_reads_its_robustness_curves(
    sign_in: Callable[[str], Page], demo_site: DemoSite, tmp_path: Path
) -> None:
    model, data = tiny_model(tmp_path)
    page = sign_in("engineer")
    open_version(page, SYSTEM, "0.9")

    form = page.get_by_role("form", name="Assess the model itself")
    form.get_by_label("Model file").set_input_files(model)
    # The predictions form above has fields named file and label too; each label must
    # point at its own form's input (ids of their own), so they are found by label.
    form.get_by_label("Evaluation data").set_input_files(data)
    expect(form.get_by_label("Robustness: attacks and corruptions")).to_be_checked()
    form.get_by_label("Label column").fill("label")
    form.get_by_label("Inputs at least (optional)").fill("0")
    form.get_by_label("Inputs at most (optional)").fill("1")
    screenshot(page, "engineer-model-upload")
    form.get_by_role("button", name="Upload model and assess").click()

    page.wait_for_url(f"{demo_site.url}/assessments/*/")
    expect(page.get_by_role("status")).to_contain_text("its assessment is queued")
    expect(page.locator("#job-status")).to_have_text("Queued")
    expect(page.locator(REFRESH)).to_have_attribute("content", "2")
    expect(page.locator("dt:text-is('Model') + dd")).to_have_text("tiny-mlp.onnx (onnx)")
    uid = page.url.rstrip("/").rsplit("/", 1)[-1]
    job = AssessmentJob.objects.get(uid=uid)
    assert (job.status, job.kinds, job.model_format) == ("queued", ["robustness"], "onnx")
    assert job.options == {"input_bounds": [0.0, 1.0]}

    run_like_a_worker(job.pk)

    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=20_000)
    expect(page.locator(REFRESH)).to_have_count(0)
    expect(page.locator("#job-message")).to_have_text("1 evidence item(s) written")
    screenshot(page, "engineer-model-assessment-succeeded")

    item = Evidence.objects.get(assessment_job=job, kind="robustness")
    page.get_by_role("link", name="Robustness evidence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Robustness evidence")
    expect(page.locator("dt:text-is('Tool') + dd")).to_have_text("riskreg")
    expect(page.locator("dt:text-is('Model version') + dd")).to_have_text("0.9")
    expect(page.locator("#clean-accuracy")).to_have_text("1.0000")
    expect(page.locator("#robustness-clean")).to_contain_text(f"on {ROWS} examples")

    curves = item.document["metrics"]["perturbations"]
    table = page.get_by_role("table", name=TABLE)
    expect(table.locator("tbody tr")).to_have_count(sum(len(c["points"]) for c in curves))
    pgd = next(c for c in curves if (c["name"], c["norm"]) == ("pgd", "linf"))
    rows = table.locator("tbody tr").filter(has=page.get_by_role("rowheader", name="PGD L∞"))
    expect(rows).to_have_count(len(pgd["points"]))
    for row, point in zip(rows.all(), pgd["points"], strict=True):
        expect(row.locator("td")).to_have_text(
            [
                "attack",
                str(point["budget"]),
                f"{point['accuracy']:.4f}",
                f"{point['decision_flip_rate']:.4f}",
            ]
        )
    # The attacks bite: at its largest budget PGD leaves fewer right than at its smallest.
    assert pgd["points"][-1]["accuracy"] < pgd["points"][0]["accuracy"]
    noise = table.locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name="Gaussian noise")
    )
    expect(noise.first.locator("td").first).to_have_text("corruption")
    screenshot(page, "engineer-model-robustness-evidence")
