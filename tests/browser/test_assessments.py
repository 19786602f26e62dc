"""Assessments in the browser: an engineer uploads predictions and watches the job finish.

The live server of `demo_site` runs no Celery worker. What a worker would do, the test
does: once the browser shows the queued job, it calls `assessment_run` (the worker's own
code path) in a thread of its own, so that its writes commit on a connection of their own
(PostgreSQL) or land on the one in-memory SQLite connection the server threads share,
exactly as the server's own writes do. The browser is never told to reload: the job page
must notice the end by itself, through its `<meta http-equiv="refresh">`, which the strict
Content-Security-Policy must leave alone (the `page` fixture fails on any CSP report).

The demo data is shared by the whole browser session: the upload goes to credit scoring
4.2.0, whose page no other browser test reads.
"""

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from evaluations.models import AssessmentJob, Evidence
from evaluations.services.assessments import assessment_run
from tests.browser.conftest import DemoSite, screenshot
from tests.browser.test_pages import nav_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

REFRESH = 'meta[http-equiv="refresh"]'


def predictions(folder: Path) -> Path:
    """A small predictions file: two sensitive columns, scores in [0, 1]."""
    rows = [
        f"{i % 2},{(i // 3) % 2},{(i % 10) / 10:.1f},{'female' if i % 3 else 'male'},"
        f"{'18-24' if i % 4 == 0 else '25-39'}"
        for i in range(300)
    ]
    path = folder / "holdout-predictions.csv"
    path.write_text("\n".join(["label,prediction,score,sex,age_band", *rows]) + "\n")
    return path


def run_like_a_worker(job_id: int) -> None:
    """assessment_run in another thread, on the connection a server thread would use."""
    own = connections["default"]  # the wrapper itself; `connection` is a per-thread proxy
    shared = own if own.vendor == "sqlite" and own.is_in_memory_db() else None
    failures: list[BaseException] = []

    def work() -> None:
        if shared is not None:
            connections["default"] = shared
        try:
            assessment_run(job_id=job_id, worker="browser-test")
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            if shared is None:
                connections.close_all()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the job did not finish within 60 s"
    assert not failures, failures


def test_engineer_uploads_predictions_watches_the_job_finish_and_opens_its_evidence(
    sign_in: Callable[[str], Page], demo_site: DemoSite, tmp_path: Path
) -> None:
    page = sign_in("engineer")
    nav_link(page, "AI systems").click()
    page.get_by_role("link", name="Retail credit scoring", exact=True).click()
    page.get_by_role("link", name="4.2.0", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retail credit scoring 4.2.0")
    expect(
        page.get_by_role("table", name="Assessments of Retail credit scoring 4.2.0")
    ).to_contain_text("No predictions file uploaded")

    # The page has a second upload form (a model's), with a label column of its own.
    upload = page.get_by_role("form", name="Assess a predictions file")
    upload.get_by_label("Predictions file", exact=True).set_input_files(predictions(tmp_path))
    upload.get_by_label("Label column").fill("label")
    upload.get_by_label("Prediction column").fill("prediction")
    upload.get_by_label("Score column").fill("score")
    upload.get_by_label("Sensitive columns").fill("sex, age_band")
    expect(upload.get_by_label("Fairness", exact=True)).to_be_checked()
    expect(upload.get_by_label("Calibration", exact=True)).to_be_checked()
    upload.get_by_label("Bootstrap resamples").fill("200")
    screenshot(page, "engineer-assessment-upload")
    upload.get_by_role("button", name="Upload and assess").click()

    page.wait_for_url(f"{demo_site.url}/assessments/*/")
    expect(page.get_by_role("status")).to_contain_text("its assessment is queued")
    expect(page.locator("#job-status")).to_have_text("Queued")
    expect(page.locator(REFRESH)).to_have_attribute("content", "2")
    screenshot(page, "engineer-assessment-queued")
    uid = page.url.rstrip("/").rsplit("/", 1)[-1]
    job = AssessmentJob.objects.get(uid=uid)
    assert (job.status, job.input_name) == ("queued", "holdout-predictions.csv")

    run_like_a_worker(job.pk)

    # No reload from the test: the page's own refresh must bring the news.
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=20_000)
    expect(page.locator(REFRESH)).to_have_count(0)
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")
    expect(page.locator("#job-message")).to_have_text("2 evidence item(s) written")
    screenshot(page, "engineer-assessment-succeeded")

    fairness = Evidence.objects.get(assessment_job=job, kind="fairness")
    link = page.get_by_role("link", name="Fairness evidence")
    expect(link).to_have_attribute("href", f"/evidence/{fairness.uid}/")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fairness evidence")
    expect(page.locator("#document-hash")).to_have_text(fairness.document_sha256)
    expect(page.locator("dt:text-is('Tool') + dd")).to_have_text("riskreg")
    expect(page.locator("dt:text-is('Model version') + dd")).to_have_text("4.2.0")
    screenshot(page, "engineer-assessment-evidence")

    nav_link(page, "Assessments").click()
    row = page.get_by_role("row", name="holdout-predictions.csv")
    expect(row.locator(".status")).to_have_text("Succeeded")
    screenshot(page, "engineer-assessments")


def test_auditor_reads_the_demo_assessment_but_can_neither_cancel_nor_upload(
    sign_in: Callable[[str], Page],
) -> None:
    page = sign_in("auditor")
    nav_link(page, "Assessments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessments")
    screenshot(page, "auditor-assessments")
    page.get_by_role("link", name="credit-predictions.csv").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Assessment of Retail credit scoring 4.3.0"
    )
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    expect(page.locator(REFRESH)).to_have_count(0)
    expect(page.locator("#job-evidence a")).to_have_text(
        ["Calibration evidence", "Data Quality evidence", "Fairness evidence"]
    )
    expect(page.get_by_role("button", name="Cancel assessment")).to_have_count(0)
    screenshot(page, "auditor-assessment-demo")
    page.get_by_role("link", name="4.3.0", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retail credit scoring 4.3.0")
    expect(
        page.get_by_role("table", name="Assessments of Retail credit scoring 4.3.0")
    ).to_contain_text("credit-predictions.csv")
    expect(page.get_by_role("button", name="Upload and assess")).to_have_count(0)
    screenshot(page, "auditor-model-version")
