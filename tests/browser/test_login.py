"""Signing in and out, by mouse and by keyboard alone."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DemoSite

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_visitor_is_sent_to_the_login_page_and_back(page: Page, demo_site: DemoSite) -> None:
    page.goto(f"{demo_site.url}/risks/")
    expect(page).to_have_url(f"{demo_site.url}/login/?next=/risks/")
    page.get_by_label("Username").fill("auditor")
    page.get_by_label("Password").fill(demo_site.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{demo_site.url}/risks/")


def test_officer_logs_in_with_the_keyboard_alone(page: Page, demo_site: DemoSite) -> None:
    page.goto(f"{demo_site.url}/login/")
    expect(page.get_by_label("Username")).to_be_focused()  # autofocus
    # The tab order from the top: skip link, home link, then the form.
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="riskreg")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("officer")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(demo_site.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{demo_site.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")


def test_auditor_skips_to_the_content_with_a_visible_focus(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("auditor")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert skip.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    focused = page.locator("main :focus")
    expect(focused).to_have_count(1)
    assert focused.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"


def test_wrong_password_is_announced_and_keeps_the_visitor_out(
    page: Page, demo_site: DemoSite
) -> None:
    page.goto(f"{demo_site.url}/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("did not match")
    expect(page.get_by_label("Username")).to_have_value("admin")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_admin_logs_out(sign_in: Callable[[str], Page], demo_site: DemoSite) -> None:
    page = sign_in("admin")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{demo_site.url}/login/")
    page.goto(f"{demo_site.url}/")
    expect(page).to_have_url(f"{demo_site.url}/login/?next=/")
