"""Settings pages: tokens issued and revoked in the browser, members and service accounts.

On PostgreSQL what the live server writes is committed and outlives the test, so every
name written here is new (a random suffix), and nothing the other tests rely on changes.
"""

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Console, DemoSite, screenshot
from tests.browser.test_pages import nav_link, switch_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def call_api(demo_site: DemoSite, key: str, path: str = "/api/v1/me/") -> tuple[int, Any]:
    """GET path with the bearer key, outside the browser (no session cookie)."""
    request = urllib.request.Request(  # noqa: S310 - the test's own live server
        f"{demo_site.url}{path}", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_engineer_issues_a_token_sees_the_key_once_uses_it_and_revokes_it(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("engineer")
    nav_link(page, "Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    expect(page.get_by_role("table")).to_contain_text("old laptop")
    screenshot(page, "engineer-settings-tokens")
    name = f"notebook-{secrets.token_hex(3)}"

    page.get_by_label("Name").fill(name)
    page.get_by_label("Valid for (days)").fill("7")
    page.get_by_role("button", name="Issue token").click()

    expect(page.get_by_role("alert")).to_contain_text("Copy the key now")
    key = page.get_by_label("Key").input_value()
    assert key.startswith("rr_")
    screenshot(page, "engineer-settings-token-issued")
    status, me = call_api(demo_site, key)
    assert (status, me["actor"], me["organisation"]) == (200, "engineer", "demo")

    page.get_by_role("link", name="I have copied the key").click()
    row = page.get_by_role("row", name=name)
    expect(row).to_contain_text("Active")
    assert key not in page.content()
    assert key[10:] not in page.content()
    row.get_by_role("link", name=f"Revoke {name}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    screenshot(page, "engineer-settings-token-revoke")
    page.get_by_label("Reason (optional)").fill("done with the notebook")
    page.get_by_role("button", name="Revoke token").click()

    expect(page.get_by_role("status")).to_contain_text("is revoked")
    expect(page.get_by_role("row", name=name)).to_contain_text("Revoked")
    status, body = call_api(demo_site, key)
    assert (status, body["code"]) == (401, "token_expired")


def test_engineer_sees_no_members_page_and_no_settings_tab_for_it(
    sign_in: Callable[[str], Page], demo_site: DemoSite, console: Console
) -> None:
    page = sign_in("engineer")
    nav_link(page, "Settings").click()
    tabs = page.get_by_role("navigation", name="Settings")
    # Engineers have tabs of their own (tokens, the risk matrix, notifications), never these.
    expect(tabs.get_by_role("link", name="Members")).to_have_count(0)
    expect(tabs.get_by_role("link", name="Service accounts")).to_have_count(0)
    console.expect_status(403)
    response = page.goto(f"{demo_site.url}/settings/members/")
    assert response is not None
    assert response.status == 403


def test_admin_adds_a_member_in_northwind_and_changes_their_role(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("admin")
    switch_to(page, "northwind")
    nav_link(page, "Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Members").click()
    username = f"nurse-{secrets.token_hex(3)}"

    page.get_by_label("Username").fill(username)
    page.get_by_label("Role", exact=True).select_option("engineer")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status")).to_contain_text(f"{username} is now a member")
    page.get_by_label(f"Role of {username}").select_option("auditor")
    page.get_by_role("button", name=f"Change role of {username}").click()

    expect(page.get_by_role("status")).to_contain_text(f"{username} is now Auditor")
    expect(page.get_by_label(f"Role of {username}")).to_have_value("auditor")
    screenshot(page, "admin-settings-members-northwind")
    switch_to(page, "demo")
    page.goto(f"{demo_site.url}/settings/members/")
    expect(page.get_by_role("table")).not_to_contain_text(username)


def test_admin_cannot_demote_the_last_admin_of_northwind(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("admin")
    switch_to(page, "northwind")
    page.goto(f"{demo_site.url}/settings/members/")

    page.get_by_label("Role of admin").select_option("engineer")
    page.get_by_role("button", name="Change role of admin").click()

    expect(page.get_by_role("status")).to_contain_text("last admin")
    expect(page.get_by_label("Role of admin")).to_have_value("admin")


def test_admin_issues_a_token_for_the_ci_service_account(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("admin")
    page.goto(f"{demo_site.url}/settings/service-accounts/")
    ci = page.get_by_role("region", name="CI pipeline (credit scoring) ci")
    expect(ci).to_contain_text("Retail credit scoring")
    expect(ci.get_by_role("row", name="github-actions")).to_contain_text("Active")
    screenshot(page, "admin-settings-service-accounts")
    name = f"release-{secrets.token_hex(3)}"

    ci.get_by_label("Token name").fill(name)
    ci.get_by_role("button", name="Issue token for ci").click()

    key = page.get_by_label("Key").input_value()
    status, me = call_api(demo_site, key)
    assert (status, me["kind"], me["actor"]) == (200, "service_account", "service:ci")
    status, systems = call_api(demo_site, key, "/api/v1/systems/")
    assert [s["slug"] for s in systems["results"]] == ["credit-scoring"]


def test_auditor_reads_members_and_service_accounts_without_forms(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("auditor")
    for path, heading in (
        ("/settings/members/", "Members"),
        ("/settings/service-accounts/", "Service accounts"),
    ):
        page.goto(f"{demo_site.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_role("button", name="Change role")).to_have_count(0)
        expect(page.locator("main form")).to_have_count(0)
    screenshot(page, "auditor-settings-service-accounts")
