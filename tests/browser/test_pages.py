"""Each persona signs in, switches organisation and opens the pages its role allows."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from riskreg.audit.selectors import audit_head
from riskreg.organisations.roles import allows
from riskreg.organisations.selectors import organization_get
from riskreg.web.demo import USERS
from tests.browser.conftest import PERSONAS, Console, DemoSite, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# (path, what the page's h1 says, screenshot name)
PAGES = [
    ("/", "Dashboard", "dashboard"),
    ("/systems/", "AI systems", "systems"),
    ("/systems/credit-scoring/", "Retail credit scoring", "system-detail"),
    ("/datasets/", "Datasets", "datasets"),
    ("/datasets/credit-applications-2024/", "Credit applications 2024", "dataset-detail"),
    ("/risks/", "Risk register", "risks"),
    ("/catalog/", "AI RMF 1.0 catalog", "catalog"),
]


def switch_to(page: Page, slug: str) -> None:
    """Pick the organisation and press the button: the switch needs no JavaScript."""
    page.get_by_label("Organisation").select_option(slug)
    page.get_by_role("button", name="Switch").click()


def nav_link(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


@pytest.mark.parametrize("username", PERSONAS)
def test_persona_opens_every_page_its_role_allows(
    sign_in: Callable[[str], Page], demo_site: DemoSite, console: Console, username: str
) -> None:
    page = sign_in(username)
    for path, heading, name in PAGES:
        response = page.goto(f"{demo_site.url}{path}")
        assert response is not None
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        screenshot(page, f"{username}-{name}")
    may_audit = allows(USERS[username], "audit.read")
    expect(nav_link(page, "Audit trail")).to_have_count(1 if may_audit else 0)
    console.expect_status(403)
    response = page.goto(f"{demo_site.url}/audit/")
    assert response is not None
    assert response.status == (200 if may_audit else 403)
    screenshot(page, f"{username}-audit")


@pytest.mark.parametrize("username", PERSONAS)
def test_persona_switches_organisation_and_back(
    sign_in: Callable[[str], Page], username: str
) -> None:
    page = sign_in(username)
    systems = page.get_by_role("table", name=re.compile(r"^AI systems in"))
    expect(systems).to_contain_text("Retail credit scoring")
    switch_to(page, "northwind")
    expect(page.get_by_role("status")).to_contain_text("now working in Northwind Health")
    expect(systems).to_contain_text("Patient triage assistant")
    expect(systems).not_to_contain_text("Retail credit scoring")
    screenshot(page, f"{username}-dashboard-northwind")
    switch_to(page, "demo")
    expect(systems).to_contain_text("Retail credit scoring")
    expect(systems).not_to_contain_text("Patient triage assistant")


def test_engineer_cannot_open_the_audit_trail(
    sign_in: Callable[[str], Page], demo_site: DemoSite, console: Console
) -> None:
    page = sign_in("engineer")
    console.expect_status(403)
    response = page.goto(f"{demo_site.url}/audit/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_text("Head hash")).to_have_count(0)


@pytest.mark.parametrize("username", ["admin", "officer", "auditor"])
def test_persona_sees_the_chain_head_on_the_audit_trail(
    sign_in: Callable[[str], Page], demo_site: DemoSite, username: str
) -> None:
    page = sign_in(username)
    nav_link(page, "Audit trail").click()
    demo = organization_get(slug="demo")
    assert demo is not None
    expected = audit_head(organization_id=demo.pk)
    expect(page.locator("#head-hash")).to_have_text(str(expected["hash"]))
    expect(page.locator("#head-seq")).to_have_text(str(expected["seq"]))
    first_row = page.get_by_role("table").locator("tbody tr").first
    expect(first_row.get_by_role("rowheader")).to_have_text(str(expected["seq"]))


def test_engineer_gets_404_for_a_foreign_system(
    sign_in: Callable[[str], Page], demo_site: DemoSite, console: Console
) -> None:
    page = sign_in("engineer")
    console.expect_status(404)
    # triage-assistant belongs to Northwind; the engineer is working in Demo Bank.
    response = page.goto(f"{demo_site.url}/systems/triage-assistant/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    switch_to(page, "northwind")
    for path in (
        "/systems/credit-scoring/",
        "/datasets/credit-applications-2024/",
        "/risks/?system=credit-scoring",
    ):
        response = page.goto(f"{demo_site.url}{path}")
        assert response is not None
        assert response.status == 404, path


def test_officer_reads_risk_status_as_words(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("officer")
    page.goto(f"{demo_site.url}/risks/")
    table = page.get_by_role("table")
    for status in ("Proposed", "Open", "Treating"):
        expect(table.locator(".status", has_text=status).first).to_be_visible()
    page.get_by_label("Status").select_option("treating")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Unequal approval rates across age groups")


def test_auditor_finds_72_subcategories_in_four_functions_in_the_catalog(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("auditor")
    nav_link(page, "AI RMF catalog").click()
    expect(page.get_by_role("heading", level=2)).to_have_count(4)
    expect(page.locator("table tbody tr")).to_have_count(72)


def test_officer_follows_a_dashboard_count_to_the_matching_risks(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("officer")
    page.get_by_role("link", name="2 open risks of Customer support assistant").click()
    expect(page).to_have_url(f"{demo_site.url}/risks/?system=support-assistant&status=open")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator(".status")).to_have_text(["Open", "Open"])
