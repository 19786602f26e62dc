"""The AI RMF posture in the browser: an officer finds a not-met outcome, reads why and
overrides it with a justification.

The demo data is shared by the whole browser session and what the live server writes is
committed. The test submits a fairness report of its own first, as a CI pipeline would:
credit scoring 4.2.0 (the version in production) with a demographic parity ratio of 0.6
between the sexes, given without an interval, which leaves MEASURE 2.11 not met under the
four-fifths rule. Its finding attaches to the demo's open fairness risk of the system, so
the register keeps its risks. As in test_assessments, the writes happen in a thread of
their own (committed on PostgreSQL, on the one shared connection on SQLite), followed by
the verdict work a worker would do.
"""

import copy
import json
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Page, expect

from controls.models import VerdictUpdate
from controls.services.updates import verdict_update_run
from evaluations.services import evidence as evidence_services
from riskreg.organisations.actor import Actor
from riskreg.organisations.selectors import organization_get
from tests.browser.conftest import DemoSite, screenshot
from tests.browser.test_pages import nav_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SYSTEM = "Retail credit scoring"
PARITY = "fairness.demographic-parity-ratio"
FAIRNESS = settings.BASE_DIR / "fixtures" / "evidence" / "fairness.json"


def unfair_report() -> dict[str, object]:
    """The demo CI's fairness report, for 4.2.0, with one breakdown: parity ratio 0.6."""
    doc = json.loads(FAIRNESS.read_text())
    doc.pop("schema_version")
    breakdown = copy.deepcopy(doc["metrics"]["breakdowns"][0])  # by sex
    breakdown["demographic_parity_ratio"] = 0.6
    doc["metrics"]["breakdowns"] = [breakdown]
    doc["metrics"]["sensitive_features"] = ["sex"]
    doc["model_version"] = "4.2.0"
    doc["effective_date"] = timezone.localdate().isoformat()
    return doc


def submit_and_decide() -> str:
    """Submit the report and run every pending verdict update, in a thread of their own,
    as the API and a worker would; returns the evidence id."""
    own = connections["default"]
    shared = own if own.vendor == "sqlite" and own.is_in_memory_db() else None
    found: list[str] = []
    failures: list[BaseException] = []

    def work() -> None:
        if shared is not None:
            connections["default"] = shared
        try:
            demo = organization_get(slug="demo")
            assert demo is not None
            result = evidence_services.evidence_submit(
                actor=Actor.system(demo.pk),
                document=unfair_report(),
                provenance=evidence_services.Provenance(tool_name="pytest"),
            )
            found.append(str(result.items[0].uid))
            pending = VerdictUpdate.objects.filter(state="pending").order_by("pk")
            for pk in pending.values_list("pk", flat=True):
                verdict_update_run(update_id=pk)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            if shared is None:
                connections.close_all()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the verdicts were not decided within 60 s"
    assert not failures, failures
    return found[0]


def test_officer_drills_into_a_not_met_subcategory_reads_why_and_overrides_it(
    sign_in: Callable[[str], Page], demo_site: DemoSite
) -> None:
    uid = submit_and_decide()
    page = sign_in("officer")
    nav_link(page, "AI systems").click()
    page.get_by_role("link", name=SYSTEM, exact=True).click()
    page.get_by_role("link", name=f"Posture of {SYSTEM}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Posture of {SYSTEM}")
    row = page.locator('[id="sub-MEASURE-2.11"]')
    expect(row.locator(".status")).to_have_text("Not met")
    expect(page.locator("#coverage-table-measure")).to_be_visible()
    screenshot(page, "officer-posture")

    row.get_by_role("link", name="MEASURE 2.11").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"MEASURE 2.11 of {SYSTEM}")
    expect(page.locator("#outcome")).to_contain_text("NIST AI 100-1 p.")
    expect(page.locator("#verdict-status .status")).to_have_text("Not met")
    rationale = page.get_by_role("table", name="What each rule found for MEASURE 2.11")
    ours = rationale.get_by_role("row").filter(has_text=PARITY).filter(has_text=uid)
    expect(ours.get_by_role("cell", name="0.6", exact=True)).to_be_visible()
    expect(ours.get_by_role("cell", name="4.2.0", exact=True)).to_be_visible()
    expect(ours.locator(".status")).to_have_text("Not met")
    expect(page.get_by_role("link", name=uid, exact=True)).to_be_visible()
    expect(page.locator("#override-in-force")).to_have_count(0)
    screenshot(page, "officer-posture-rationale")

    page.get_by_label("Status", exact=True).select_option("met")
    page.get_by_label("Justification").fill("Retrained on balanced data; re-run due next week.")
    page.get_by_label("Expires on").fill(f"{timezone.localdate() + timedelta(days=60)}")
    page.get_by_role("button", name="Override status").click()
    expect(page.get_by_role("status")).to_contain_text("MEASURE 2.11 is overridden: met until")
    expect(page.locator("#verdict-status .status")).to_have_text("Met")
    expect(page.locator("#verdict-status")).to_contain_text("overridden")
    expect(page.locator("#computed-status")).to_contain_text("Not met")
    override = page.locator("#override-in-force")
    expect(override).to_contain_text("Retrained on balanced data")
    expect(override).to_contain_text("officer")
    screenshot(page, "officer-posture-overridden")

    page.get_by_role("link", name="Posture", exact=True).click()
    expect(page.locator('[id="sub-MEASURE-2.11"]')).to_contain_text("overridden")
