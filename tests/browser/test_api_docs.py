"""The API docs run under the strict CSP: no inline script, no inline style."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_engineer_reads_the_api_docs_without_csp_violations(
    sign_in: Callable[[str], Page],
) -> None:
    page = sign_in("engineer")
    response = page.goto(page.url + "api/docs/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # Swagger UI renders the operations from /api/schema/ with its bundled scripts.
    expect(page.get_by_text("/api/v1/risks/", exact=True).first).to_be_visible(timeout=15_000)
    screenshot(page, "api-docs-engineer")
