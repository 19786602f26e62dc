"""Reports in the browser: an officer requests a system report, reviews its draft and
approves it; an auditor downloads the signed PDF and has the server verify it.

The live server of `demo_site` runs no Celery worker. What the worker would do, the test
does: once the browser shows the queued report, it runs `report_render_draft` (and after
the approval `report_sign`), the worker's own code, in a thread of its own, so that its
writes commit on a connection of their own (PostgreSQL) or land on the one in-memory
SQLite connection the server threads share, exactly as the server's own writes do. The
browser is never told to reload: the report's page notices by itself, through its
`<meta http-equiv="refresh">`.

The demo data is shared by the whole browser session: the test requests a report of its
own, and finds it by the id in its page's URL, not by its place in the list.
"""

import hashlib
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from reports.models import Report
from reports.services.pipeline import report_render_draft, report_sign
from tests.browser.conftest import DemoSite, screenshot
from tests.browser.test_pages import nav_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SYSTEM = "Retail credit scoring"
REPORT_URL = re.compile(r"/reports/([0-9a-f-]{36})/$")


def run_like_a_worker(step: Callable[..., None], uid: str) -> None:
    """A pipeline step in another thread, on the connection a server thread would use."""
    own = connections["default"]  # the wrapper itself; `connection` is a per-thread proxy
    shared = own if own.vendor == "sqlite" and own.is_in_memory_db() else None
    failures: list[BaseException] = []

    def work() -> None:
        if shared is not None:
            connections["default"] = shared
        try:
            step(report_id=Report.objects.get(uid=uid).pk)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            if shared is None:
                connections.close_all()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), f"{step.__name__} did not finish within 60 s"
    assert not failures, failures


def download(page: Page, link_name: str, folder: Path) -> bytes:
    """Click a download link and return the file's bytes."""
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes()


def officer_requests_reviews_and_approves(page: Page, folder: Path) -> str:
    """The officer's half; returns the report's id."""
    nav_link(page, "Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    page.get_by_label("Kind of report").select_option(label="System report")
    page.get_by_label("AI system").select_option(label=SYSTEM)
    screenshot(page, "officer-reports")
    page.get_by_role("button", name="Request report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"System report of {SYSTEM}")
    expect(page.locator(".messages")).to_contain_text("The report is requested")
    expect(page.locator("#report-status .status")).to_have_text("Queued")
    found = REPORT_URL.search(page.url)
    assert found is not None, page.url
    uid = found.group(1)

    run_like_a_worker(report_render_draft, uid)
    expect(page.locator("#report-status .status")).to_have_text("Draft", timeout=15_000)
    expect(page.get_by_role("link", name="Download the draft (PDF)")).to_be_visible()
    expect(page.get_by_role("link", name="Download the signed report (PDF)")).to_have_count(0)
    screenshot(page, "officer-report-draft")
    draft = download(page, "Download the draft (PDF)", folder)
    assert draft.startswith(b"%PDF-")
    assert hashlib.sha256(draft).hexdigest() == Report.objects.get(uid=uid).draft_sha256

    page.get_by_label("Note (optional)").fill("Reviewed against the register; fit for the board.")
    page.get_by_role("button", name="Approve report").click()
    expect(page.locator(".messages")).to_contain_text("The report is approved")
    expect(page.locator("#report-status .status")).to_have_text("Approved")
    expect(page.locator("#approval-record")).to_contain_text("officer (Compliance officer)")
    expect(page.get_by_role("button", name="Approve report")).to_have_count(0)
    screenshot(page, "officer-report-approved")
    return uid


def test_officer_requests_reviews_and_approves_a_report_and_an_auditor_verifies_it(
    sign_in: Callable[[str], Page], demo_site: DemoSite, tmp_path: Path
) -> None:
    page = sign_in("officer")
    uid = officer_requests_reviews_and_approves(page, tmp_path)

    run_like_a_worker(report_sign, uid)
    expect(page.locator("#report-status .status")).to_have_text("Signed", timeout=15_000)
    signed = Report.objects.get(uid=uid)
    expect(page.locator("#pdf-hash")).to_have_text(signed.pdf_sha256)
    page.get_by_role("button", name="Log out").click()

    page = sign_in("auditor")
    nav_link(page, "Reports").click()
    row = page.locator(f'[id="report-{uid}"]')
    expect(row.locator(".status")).to_have_text("Signed")
    expect(row).to_contain_text(signed.pdf_sha256)
    expect(page.get_by_role("button", name="Request report")).to_have_count(0)
    row.get_by_role("link", name="System report", exact=True).click()
    expect(page.locator("#approval-record")).to_contain_text("Reviewed against the register")
    expect(page.get_by_role("button", name="Approve report")).to_have_count(0)
    screenshot(page, "auditor-report-signed")
    pdf = download(page, "Download the signed report (PDF)", tmp_path)
    assert hashlib.sha256(pdf).hexdigest() == signed.pdf_sha256

    nav_link(page, "Reports").click()
    page.get_by_label("Report PDF").set_input_files(tmp_path / f"riskreg-report-{uid}.pdf")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verify-verdict")).to_have_text("Valid")
    checks = page.get_by_role("table", name="What was checked")
    expect(checks.locator(".status")).to_have_text(["Passed", "Passed", "Passed"])
    result = page.locator("#verify-result")
    expect(result).to_contain_text("issued here")
    expect(result.get_by_role("link", name="the report it is")).to_have_attribute(
        "href", f"/reports/{uid}/"
    )
    screenshot(page, "auditor-report-verified")
