"""Every response carries nosniff and the strict CSP: API, pages, errors, static files."""

from typing import Any

import pytest

from riskreg.lib.security import POLICY


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/login/",
        "/api/v1/systems/",  # 401 without credentials
        "/api/v1/no-such-endpoint/",  # JSON 404
        "/no-such-page/",  # HTML 404
        "/api/schema/",
        "/api/docs/",
        "/static/riskreg/app.css",
    ],
)
def test_visitor_gets_nosniff_and_the_strict_csp_everywhere(
    client: Any, db: None, path: str
) -> None:
    response = client.get(path)
    response.close()  # static files stream from an open file
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == POLICY
    assert "'unsafe-inline'" not in POLICY
    assert "script-src 'self'" in POLICY
