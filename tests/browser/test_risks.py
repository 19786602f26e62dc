"""The risk register in the browser: an officer confirms, scores and accepts a risk and sees
the heat map move; an engineer cannot accept; an auditor finds nothing to edit.

The demo data is shared by the whole browser session and what the live server writes is
committed, so the officer works on the one proposed risk no other browser test reads:
"Accuracy loss in the quantised edge build" (shelf-vision, owned by the engineer). Its
residual score goes into a heat-map cell the demo leaves empty (likelihood 1, impact 2).
"""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from riskreg.risks.models import Risk
from tests.browser.conftest import Console, DemoSite, screenshot
from tests.browser.test_pages import nav_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

EDGE_RISK = "Accuracy loss in the quantised edge build"
X = "\N{MULTIPLICATION SIGN}"  # as the pages write scores
CELL = "#residual-1-2 .heat-count"  # residual likelihood 1 (Rare), impact 2 (Minor)


def _reference(title: str) -> str:
    return Risk.objects.get(organization__slug="demo", title=title).reference


def _score(page: Page, kind: str, likelihood: str, impact: str) -> None:
    page.get_by_label("Kind of score").select_option(kind)
    page.get_by_label("Likelihood").select_option(likelihood)
    page.get_by_label("Impact").select_option(impact)
    page.get_by_role("button", name="Record score").click()
    expect(page.get_by_role("status")).to_contain_text("score recorded")


def test_officer_confirms_scores_and_accepts_a_risk_and_the_heat_map_changes(
    sign_in: Callable[[str], Page], demo_site: DemoSite, console: Console
) -> None:
    console.expect_status(400)  # the refused acceptance comes back as its form, with 400
    reference = _reference(EDGE_RISK)
    page = sign_in("officer")
    cell = page.locator(CELL)
    before = int(cell.inner_text())
    screenshot(page, "officer-dashboard-heat-maps")

    nav_link(page, "Risk register").click()
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{reference}: {EDGE_RISK}")
    expect(page.locator("#risk-status")).to_have_text("Proposed")
    expect(page.get_by_role("button", name="Accept risk")).to_have_count(0)
    page.get_by_role("button", name="Confirm risk").click()
    expect(page.get_by_role("status")).to_contain_text(f"{reference} is confirmed")
    expect(page.locator("#risk-status")).to_have_text("Open")

    _score(page, "inherent", "3", "4")
    _score(page, "residual", "1", "2")
    expect(page.locator("#score-residual")).to_contain_text(f"1{X}2 = 2")
    expect(page.locator("#risk-level")).to_have_text("High")  # the inherent score rates it
    page.get_by_label("Justification").fill("The int8 build only raises stock alerts.")
    page.get_by_label("Conditions").fill("Staff confirm every alert on the shelf.")
    page.get_by_label("Valid until").fill("2099-01-01")  # too far: the service refuses
    page.get_by_role("button", name="Accept risk").click()
    expect(page.get_by_text("Must lie at most")).to_be_visible()
    screenshot(page, "officer-risk-accept-refused")
    page.get_by_label("Valid until").fill(f"{timezone.localdate() + timedelta(days=90)}")
    page.get_by_role("button", name="Accept risk").click()
    expect(page.get_by_role("status")).to_contain_text(f"{reference} is accepted until")
    expect(page.locator("#risk-status")).to_have_text("Accepted")
    expect(page.locator("#acceptance-in-force")).to_contain_text("officer")
    expect(page.get_by_role("table", name=f"Every change to {reference}")).to_contain_text(
        "risk.accept"
    )
    screenshot(page, "officer-risk-accepted")

    nav_link(page, "Dashboard").click()
    expect(page.locator(CELL)).to_have_text(str(before + 1))
    page.locator("#residual-1-2 a").click()
    expect(page.locator("#cell-filter")).to_contain_text("residual score")
    expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()


def test_officer_owning_a_risk_is_told_someone_else_must_accept_it(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    reference = _reference("Unequal approval rates across age groups")  # the officer's own
    page = sign_in("officer")
    page.goto(f"{demo_site.url}/risks/{reference}/")
    expect(page.locator("#accept-why")).to_contain_text("segregation of duties")
    expect(page.get_by_role("button", name="Accept risk")).to_have_count(0)
    expect(page.get_by_role("button", name="Record score")).to_have_count(1)


def test_engineer_sees_no_accept_form_and_the_server_refuses_a_direct_post(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    reference = _reference("Invented policy details in drafted replies")
    page = sign_in("engineer")
    page.goto(f"{demo_site.url}/risks/{reference}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    for button in ("Accept risk", "Record score", "Save treatment", "Change status"):
        expect(page.get_by_role("button", name=button)).to_have_count(0)
    expect(page.get_by_role("button", name="Add comment")).to_have_count(1)
    screenshot(page, "engineer-risk-detail")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{demo_site.url}/risks/{reference}/accept/",
        form={"justification": "x", "conditions": "y", "valid_until": "2030-01-01"},
        headers={"X-CSRFToken": token},
    )
    assert response.status == 403
    assert "Not allowed" in response.text()


def test_auditor_sees_no_edit_control_anywhere_in_the_register(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("auditor")
    expect(page.locator("#heatmap-inherent")).to_be_visible()
    reference = _reference("Unequal approval rates across age groups")
    for path in ("/", "/risks/", f"/risks/{reference}/", "/settings/risk-matrix/"):
        page.goto(f"{demo_site.url}{path}")
        expect(page.locator("main form[method=post]")).to_have_count(0)
        expect(page.locator("main button")).to_have_count(
            1 if path == "/risks/" else 0  # the register's Filter button, a GET
        )
    expect(page.locator("#matrix-tolerance")).to_have_text("medium")
    screenshot(page, "auditor-risk-matrix")
    page.goto(f"{demo_site.url}/risks/{reference}/")
    expect(page.get_by_role("table", name=f"Treatment actions of {reference}")).to_contain_text(
        "overdue"
    )
    screenshot(page, "auditor-risk-detail")


def test_admin_finds_the_matrix_form_in_the_settings_tabs(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("admin")
    nav_link(page, "Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Risk matrix").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk matrix")
    expect(page.get_by_label("Likelihood 5")).to_have_value("Almost certain")
    expect(page.get_by_label("Highest high score")).to_have_value("16")
    expect(page.get_by_role("button", name="Save new version")).to_be_visible()
    # Version 1 came with the demo officer's first score.
    versions = page.get_by_role("table", name="Every version of the risk matrix")
    expect(versions.locator("tbody tr").first).to_contain_text("officer")
    screenshot(page, "admin-risk-matrix")
