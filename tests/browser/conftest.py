"""Browser tests: Debian's Chromium, driven by Playwright, against a live server.

pytest-django's `live_server` needs `transactional_db`, whose flush at teardown fails:
the database itself refuses DELETE and TRUNCATE on the audit trail. So the demo data
is committed once per session (`seed_demo`, as `make run` does) and `demo_site` starts
Django's `LiveServerThread` itself; the data goes away with the test database.

- SQLite: the test database lives in memory, in the main thread's connection. As
  Django's LiveServerTestCase does, the server thread and each request thread are
  handed that very connection (`connections_override`), marked shareable between
  threads; closing it in a request thread is a no-op for in-memory databases.
- PostgreSQL: every request thread opens its own connection, as the runtime role
  that tests/conftest.py switched to, and sees the committed data.

Browser tests carry `django_db` (plain, not transactional): pytest-django creates the
test database only when some collected test asks for it, and without one `seed_demo`
would write to the development database. Each test then runs inside a transaction
that is rolled back (no flush); on SQLite the server threads share it, on PostgreSQL
they do not need it. `demo_site` refuses to seed anything but a test database.

The seeded users share usernames with the `acme` personas of tests/conftest.py, so
committed demo data must not meet tests that create those personas: the hook below
moves browser tests to the very end of the session.

Playwright's sync API keeps an event loop running in the main thread while the browser
is open. Django then (1) refuses ORM calls there, the per-test transaction included, and
(2) keeps that thread's connections per async context, so the main thread would open a
second connection: on SQLite one that cannot see, and locks out, the shared one. So while
the browser runs, DJANGO_ALLOW_ASYNC_UNSAFE is set (as Playwright's documentation advises
for Django; browser tests run last) and the thread's own connections are re-installed in
that context. The server threads never see a running loop.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connection, connections
from django.test.testcases import LiveServerThread
from django.test.utils import modify_settings
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from controls.services import catalog_load
from riskreg.web.demo import PASSWORD, seed_demo

HOST = "127.0.0.1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# A page that answers 403 or 404 on purpose makes Chromium log this; nothing else may.
HTTP_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """After pytest-django's ordering, run browser tests last (sort is stable)."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@dataclass(frozen=True)
class DemoSite:
    url: str
    password: str


@pytest.fixture(scope="session")
def demo_site(django_db_setup: None, django_db_blocker: Any) -> Iterator[DemoSite]:
    """The demo organisations, committed, served by a live server thread."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = str(connection.settings_dict["NAME"])
    in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
    assert in_memory or name.startswith("test_"), f"refusing to seed {name}: not a test database"
    with django_db_blocker.unblock():
        catalog_load()
        seed_demo()
    shared = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    thread = LiveServerThread(HOST, StaticFilesHandler, connections_override=shared)
    thread.daemon = True
    with modify_settings(ALLOWED_HOSTS={"append": HOST}):
        thread.start()
        thread.is_ready.wait()
        try:
            if thread.error:
                raise thread.error
            yield DemoSite(url=f"http://{HOST}:{thread.port}", password=PASSWORD)
        finally:
            thread.terminate()
            for conn in shared.values():
                conn.dec_thread_sharing()


@pytest.fixture(scope="session")
def browser(demo_site: DemoSite) -> Iterator[Browser]:
    """Chromium for the whole session; the main thread keeps its database connections."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)"
        )
    own = list(connections.all())
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        for conn in own:
            connections[conn.alias] = conn
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Console:
    """Console errors of a page; tests name the HTTP error statuses they expect."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.expected_statuses: set[int] = set()

    def record(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def expect_status(self, status: int) -> None:
        self.expected_statuses.add(status)

    def unexpected(self) -> list[str]:
        return [
            text
            for text in self.errors
            if not (
                (match := HTTP_ERROR.search(text)) and int(match.group(1)) in self.expected_statuses
            )
        ]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh browser context (no cookies); fails the test on any console error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.on("console", console.record)
    tab.on("pageerror", lambda exc: console.errors.append(f"page error: {exc}"))
    yield tab
    context.close()
    csp = [text for text in console.errors if "Content Security Policy" in text]
    assert not csp, f"CSP violations: {csp}"
    assert not console.unexpected(), f"console errors: {console.unexpected()}"


PERSONAS = ["admin", "officer", "engineer", "auditor"]


@pytest.fixture
def sign_in(page: Page, demo_site: DemoSite) -> Callable[[str], Page]:
    """sign_in(username) -> the page, on the dashboard of the user's first organisation."""

    def login(username: str) -> Page:
        page.goto(f"{demo_site.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(demo_site.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{demo_site.url}/")
        return page

    return login


def screenshot(page: Page, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
