"""Notification settings in the browser: the officer switches a kind of e-mail off and sees
it saved; the admin registers a webhook and sees its secret this once.

The demo data is committed for the whole browser session, so the officer changes a kind
no other browser test reads (treatment.overdue), and the webhook is new (the demo has none).
"""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from riskreg.notifications.models import NotificationKind
from tests.browser.conftest import DemoSite, screenshot
from tests.browser.test_evidence import log_out
from tests.browser.test_pages import nav_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

HOOK_URL = "https://93.184.216.34/hook"
OVERDUE = NotificationKind.TREATMENT_OVERDUE.label


def _open_notifications(page: Page) -> None:
    nav_link(page, "Settings").click()
    tabs = page.get_by_role("navigation", name="Settings")
    tabs.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")


def test_officer_switches_an_email_off_and_admin_registers_a_webhook(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    page = sign_in("officer")
    _open_notifications(page)
    expect(page.locator("#email-address")).to_contain_text("officer@example.com")
    row = page.locator("#preference-treatment_overdue")
    expect(row).to_contain_text("On")
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    expect(page.get_by_role("button", name="Register webhook")).to_have_count(0)
    page.get_by_label(OVERDUE).select_option("off")
    page.get_by_role("button", name="Save e-mail choices").click()
    expect(page.get_by_role("status")).to_contain_text("Your e-mail choices are saved.")
    expect(row).to_contain_text("Off your choice")
    expect(page.get_by_label(OVERDUE)).to_have_value("off")
    screenshot(page, "officer-settings-notifications")
    log_out(page)

    page = sign_in("admin")
    _open_notifications(page)
    page.get_by_label("URL", exact=True).fill(HOOK_URL)
    page.get_by_label("risk.proposed", exact=True).check()
    page.get_by_label("Description (optional)").fill("Ticketing")
    page.get_by_role("button", name="Register webhook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhook registered")
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    screenshot(page, "admin-webhook-registered")
    page.get_by_role("link", name="I have copied the secret").click()
    hook = page.get_by_role("row", name=HOOK_URL)
    expect(hook).to_contain_text("Active")
    expect(hook.get_by_role("button", name=f"Deactivate the webhook to {HOOK_URL}")).to_be_visible()
    assert secret not in page.content()
