"""Evidence and incidents in the browser: the inbox, a withdrawal, an incident closed.

The demo data is shared by the whole browser session and what the live server writes
is committed, so a test that changes something uses an item no other test reads: the
officer withdraws the shelf classifier's only performance item (kept in the demo for
this test) and moves the demo's investigating incident along.
"""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from evaluations.models import Evidence, Incident
from tests.browser.conftest import DemoSite, screenshot
from tests.browser.test_pages import nav_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def open_inbox(page: Page, system: str, kind: str) -> None:
    """From anywhere: AI systems, the system, its evidence inbox filtered by kind."""
    nav_link(page, "AI systems").click()
    page.get_by_role("link", name=system, exact=True).click()
    page.get_by_role("link", name=f"Evidence inbox of {system}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Evidence of {system}")
    page.get_by_label("Kind").select_option(kind)
    page.get_by_role("button", name="Filter").click()


def test_engineer_finds_the_fairness_report_in_the_inbox_and_reads_its_hash(
    sign_in: Callable[[str], Page],
) -> None:
    page = sign_in("engineer")
    open_inbox(page, "Retail credit scoring", "fairness")
    # The CI pipeline's report; riskreg's own assessments add computed ones beside it.
    rows = page.get_by_role("table").locator("tbody tr").filter(has_text="service:ci")
    expect(rows).to_have_count(1)
    expect(rows.locator(".status")).to_have_text("Current")
    screenshot(page, "engineer-evidence-inbox")
    item = Evidence.objects.get(
        organization__slug="demo", kind="fairness", submitter_label="service:ci"
    )
    expect(rows.locator("code")).to_have_text(item.document_sha256[:12])
    rows.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fairness evidence")
    expect(page.locator("#document-hash")).to_have_text(item.document_sha256)
    expect(page.get_by_text("fairlearn", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw")).to_have_count(0)
    screenshot(page, "engineer-evidence-detail")


def test_auditor_reads_the_organisation_wide_policy_and_its_attachment(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("auditor")
    nav_link(page, "Evidence").click()
    page.get_by_label("Kind").select_option("document")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row", name="Document: Responsible use of AI systems")
    expect(row).to_contain_text("organisation")
    screenshot(page, "auditor-evidence-list")
    row.get_by_role("link").click()
    expect(page.get_by_text("Organisation-wide")).to_be_visible()
    link = page.get_by_role("link", name="ai-use-policy.md")
    href = link.get_attribute("href")
    assert href is not None
    response = page.request.get(f"{demo_site.url}{href}")
    assert response.status == 200
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.text().startswith("# Responsible use of AI systems")
    screenshot(page, "auditor-evidence-policy")


def test_officer_withdraws_an_item_with_a_reason_and_sees_it_withdrawn(
    sign_in: Callable[[str], Page],
) -> None:
    page = sign_in("officer")
    open_inbox(page, "Shelf product classifier", "performance")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Performance evidence")
    reason = "Measured on the float model's export, not on the int8 build."
    page.get_by_label("Reason").fill(reason)
    screenshot(page, "officer-evidence-withdraw")
    page.get_by_role("button", name="Withdraw").click()
    expect(page.get_by_role("status")).to_contain_text("withdrawn")
    expect(page.locator("main .status").first).to_have_text("Withdrawn")
    expect(page.locator("#withdrawal-reason")).to_have_text(reason)
    expect(page.get_by_role("button", name="Withdraw")).to_have_count(0)
    screenshot(page, "officer-evidence-withdrawn")


def test_engineer_opens_the_incident_report_form_with_date_and_time_pickers(
    sign_in: Callable[[str], Page],
) -> None:
    page = sign_in("engineer")
    nav_link(page, "Incidents").click()
    page.get_by_role("link", name="Report an incident").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report an incident")
    for label in ("Occurred at", "Detected at", "Regulator notification deadline"):
        expect(page.get_by_label(label)).to_have_attribute("type", "datetime-local")
    expect(page.get_by_label("Customer support assistant")).to_have_attribute("type", "checkbox")
    screenshot(page, "engineer-incident-report")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def move_to(page: Page, status: str, note: str) -> None:
    page.get_by_label("Move to").select_option(status)
    page.get_by_label("Note (optional)").fill(note)
    page.get_by_role("button", name="Change status").click()


def test_officer_closes_the_investigating_incident_step_by_step_and_the_engineer_cannot(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    incident = Incident.objects.get(organization__slug="demo", status="investigating")
    path = f"{demo_site.url}/incidents/{incident.reference}/"
    page = sign_in("officer")
    nav_link(page, "Incidents").click()
    screenshot(page, "officer-incidents")
    page.get_by_role("link", name=incident.reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(incident.title)
    timeline = page.get_by_role("table", name=f"Timeline of {incident.reference}")

    page.get_by_label("Root cause", exact=True).fill("Old transcripts kept real names.")
    page.get_by_label("Corrective actions", exact=True).fill("Re-exported, pseudonymised.")
    page.get_by_role("button", name="Save root cause and actions").click()
    expect(page.get_by_role("status")).to_contain_text("recorded")
    expect(page.locator("#root-cause")).to_contain_text("kept real names")
    move_to(page, "mitigated", "Corpus replaced; retrieval back on.")
    expect(page.locator("#incident-status")).to_have_text("Mitigated")
    expect(timeline).to_contain_text("investigating → mitigated")
    screenshot(page, "officer-incident-mitigated")

    log_out(page)
    sign_in("engineer")
    page.goto(path)
    options = page.get_by_label("Move to").locator("option")
    expect(options).to_have_text(["Investigating"])  # closing is the officer's call
    screenshot(page, "engineer-incident-no-close")

    log_out(page)
    sign_in("officer")
    page.goto(path)
    move_to(page, "closed", "Regulator notified; no further exposure found.")
    expect(page.locator("#incident-status")).to_have_text("Closed")
    for step in ("open → investigating", "investigating → mitigated", "mitigated → closed"):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("Changed corrective_actions, root_cause")
    expect(timeline).to_contain_text("Regulator notified")
    screenshot(page, "officer-incident-closed")
