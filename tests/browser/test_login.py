"""Signing in and out, by mouse and by keyboard alone."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DemoSite

pytestmark = pytest.mark.browser


def test_visitor_is_sent_to_the_login_page_and_back(page: Page, demo_site: DemoSite) -> None:
    page.goto(f"{demo_site.url}/risks/")
    expect(page).to_have_url(f"{demo_site.url}/login/?next=/risks/")
    page.get_by_label("Username").fill("auditor")
    page.get_by_label("Password").fill(demo_site.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{demo_site.url}/risks/")


def test_officer_logs_in_with_the_keyboard_alone(page: Page, demo_site: DemoSite) -> None:
    page.goto(f"{demo_site.url}/login/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    for _ in range(5):
        if page.evaluate("document.activeElement.id") == "id_username":
            break
        page.keyboard.press("Tab")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("officer")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(demo_site.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{demo_site.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")


def test_keyboard_focus_is_visible_on_the_skip_link(page: Page, demo_site: DemoSite) -> None:
    page.goto(f"{demo_site.url}/login/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert skip.evaluate("el => getComputedStyle(el).outlineStyle") != "none"


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
