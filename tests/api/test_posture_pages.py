"""The posture, a subcategory's rationale, findings, policies and the dashboard's coverage,
through Django's test client (no browser).

The pages read the verdicts the worker stored; here the worker's verdict work runs
in-process after each evidence submission. The checks are what the pages add: every
reader opens every page, a foreign system answers 404, only officers and admins see and
use the override and policy forms (anyone else gets 403 when posting directly), a bad form
or a service's refusal answers 400 with the error beside its field, and none of those
writes anything. The posture issues as many queries with 20 evidence items as with 2.
"""

import json
import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controls.models import (
    Finding,
    Override,
    Policy,
    Subcategory,
    Verdict,
    VerdictChange,
    VerdictUpdate,
)
from controls.selectors.posture import posture_get
from controls.services import catalog_load
from evaluations.models import Evidence
from riskreg.audit.models import AuditEvent
from riskreg.inventory import services as inventory
from riskreg.inventory.models import AISystem
from riskreg.organisations.roles import Role
from tests.api import posture_support as support
from tests.api.helpers import db_snapshot
from tests.api.posture_support import drain, submit
from tests.api.test_evidence_pages import signed_in
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

READERS = [Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.ENGINEER, Role.AUDITOR]
DECIDERS = [Role.ADMIN, Role.COMPLIANCE_OFFICER]
FAIRNESS = json.loads((settings.BASE_DIR / "fixtures" / "evidence" / "fairness.json").read_text())
SUB = "/systems/credit-scoring/posture/MEASURE-2.11/"
PARITY = "fairness.demographic-parity-ratio"
CONTROLS_MODELS = (Override, Verdict, VerdictChange, VerdictUpdate, Finding, Policy)


# --- the world ---------------------------------------------------------------------------


def fairness(ratio: float, *, feature: str = "sex") -> Any:
    """A fairness document of credit-scoring 1.0 with one breakdown, by `feature`, whose
    demographic parity ratio is `ratio`, given without an interval. Each feature is a
    series of its own: documents by different features all count (docs/posture.md)."""
    return support.fairness(ratio=ratio, features=(feature,))


@pytest.fixture
def system(acme: Tenant, globex: Tenant) -> AISystem:
    """The full catalog; acme's credit-scoring 1.0 and a generative assistant; globex's
    turnstile. No evidence yet."""
    catalog_load()
    actor = acme.actor
    inventory.dataset_create(actor=actor, slug="credit-holdout-2025", name="Holdout")
    found = inventory.system_create(
        actor=actor, slug="credit-scoring", name="Credit scoring", owner="engineer"
    )
    inventory.model_version_create(actor=actor, system=found, version="1.0", status="production")
    inventory.system_create(
        actor=actor, slug="support-assistant", name="Support assistant", is_generative=True
    )
    inventory.system_create(actor=globex.actor, slug="turnstile", name="Turnstile")
    drain()
    return found


@pytest.fixture
def not_met(acme: Tenant, system: AISystem) -> Evidence:
    """MEASURE 2.11 of credit-scoring is not met: a parity ratio of 0.6 (threshold 0.8)."""
    item = submit(acme, fairness(0.6))
    assert Verdict.objects.get(scope=f"sys:{system.pk}", subcategory_id="MEASURE 2.11").status == (
        "not_met"
    )
    return item


def _body(response: Any) -> str:
    return str(response.content.decode())


def _main(response: Any) -> str:
    body = _body(response)
    return body[body.index("<main") :]


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every table an override or a policy could touch, the controls app's included."""
    rows = db_snapshot()
    for model in CONTROLS_MODELS:
        rows[model._meta.label] = list(model.objects.order_by("pk").values())
    rows["audit"] = list(AuditEvent.objects.order_by("pk").values("pk"))
    return rows


def _override(**fields: str) -> dict[str, str]:
    soon = (timezone.localdate() + timedelta(days=30)).isoformat()
    return {"status": "met", "justification": "Reviewed by hand.", "expires_at": soon} | fields


# --- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_reader_opens_the_posture_rationale_findings_policies_and_dashboard(
    acme: Tenant, not_met: Evidence, role: Role
) -> None:
    client = signed_in(acme, role)
    for path in (
        "/systems/credit-scoring/",
        "/systems/credit-scoring/posture/",
        SUB,
        "/systems/credit-scoring/posture/GOVERN-1.1/",
        "/systems/credit-scoring/findings/",
        "/systems/credit-scoring/findings/?page=9",
        "/systems/support-assistant/posture/",
        "/systems/support-assistant/posture/MEASURE-2.5/",
        "/policies/",
        "/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path


def test_foreign_and_missing_systems_and_subcategories_answer_404(
    acme: Tenant, system: AISystem
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    for path in (
        "/systems/turnstile/posture/",
        "/systems/turnstile/posture/MEASURE-2.11/",
        "/systems/turnstile/findings/",
        "/systems/no-such-system/posture/",
        "/systems/credit-scoring/posture/MEASURE-9.99/",
        "/systems/credit-scoring/posture/MEASURE%202.11/",
        "/systems/credit-scoring/posture/nonsense/",
    ):
        assert client.get(path).status_code == 404, path
    before = _snapshot()
    for path in (
        "/systems/turnstile/posture/MEASURE-2.11/override/",
        "/systems/credit-scoring/posture/MEASURE-9.99/override/",
    ):
        assert client.post(path, _override()).status_code == 404, path
    assert _snapshot() == before
    assert "Turnstile" not in _body(client.get("/"))


def test_posture_shows_72_subcategories_grouped_with_status_words_and_coverage(
    acme: Tenant, not_met: Evidence
) -> None:
    body = _body(signed_in(acme, Role.AUDITOR).get("/systems/credit-scoring/posture/"))
    assert len(re.findall(r'<tr id="sub-', body)) == 72
    for function in ("GOVERN", "MAP", "MEASURE", "MANAGE"):
        assert f'id="fn-{function.lower()}"' in body
    row = body[body.index('id="sub-MEASURE-2.11"') :]
    row = row[: row.index("</tr>")]
    assert "Not met" in row
    assert "/systems/credit-scoring/posture/MEASURE-2.11/" in row
    # The coverage row counts what the matrix shows.
    section = body[body.index('id="fn-measure"') : body.index('id="fn-manage"')]
    shown = sum(">Not met</span>" in row for row in section.split('<tr id="sub-')[1:])
    assert shown >= 1
    coverage = body[body.index('id="coverage-table-measure"') :]
    cell = f'<td class="num" data-status="not_met">{shown}</td>'
    assert cell in coverage[: coverage.index("</tr>")]
    assert "Generative AI risks" not in body


def test_generative_system_lists_the_12_genai_risks_with_their_subcategories(
    acme: Tenant, system: AISystem
) -> None:
    body = _body(signed_in(acme, Role.ENGINEER).get("/systems/support-assistant/posture/"))
    assert "Generative AI risks" in body
    table = body[body.index('id="genai-table"') :]
    table = table[: table.index("</table>")]
    assert len(re.findall(r'<tr id="genai-', table)) == 12
    assert "/systems/support-assistant/posture/" in table
    assert "Not assessed" in table


def test_auditor_reads_the_rationale_value_rule_and_evidence_link(
    acme: Tenant, not_met: Evidence
) -> None:
    body = _body(signed_in(acme, Role.AUDITOR).get(SUB))
    page = Subcategory.objects.get(pk="MEASURE 2.11").page
    assert f"NIST AI 100-1 p. {page}</p>" in body[body.index('id="outcome"') :]
    rationale = body[body.index('id="rationale-table"') :]
    assert PARITY in rationale
    assert '<td class="num">0.6</td>' in rationale
    assert "≥ 0.8 (band 0.05)" in rationale
    assert f'href="/evidence/{not_met.uid}/"' in body
    assert str(not_met.uid) in body[body.index('id="evidence-list"') :]


def test_findings_page_lists_the_not_met_finding_with_its_risk(
    acme: Tenant, not_met: Evidence
) -> None:
    finding = Finding.objects.get(organization=acme.org, subcategory_id="MEASURE 2.11")
    assert finding.risk is not None
    body = _body(signed_in(acme, Role.ENGINEER).get("/systems/credit-scoring/findings/"))
    assert f'href="/risks/{finding.risk.reference}/"' in body
    assert 'href="/systems/credit-scoring/posture/MEASURE-2.11/"' in body
    assert f'href="/evidence/{not_met.uid}/"' in body


def test_dashboard_sums_coverage_over_the_systems(acme: Tenant, not_met: Evidence) -> None:
    expected: Counter[str] = Counter()
    for system in AISystem.objects.filter(organization=acme.org):
        rows = posture_get(system=system)["subcategories"]
        expected.update(r["status"] for r in rows if r["function"] == "MEASURE")
    assert expected["not_met"] >= 2  # MEASURE 2.11 of credit-scoring among them
    body = _body(signed_in(acme, Role.AUDITOR).get("/"))
    measure = body[body.index('id="coverage-table-measure"') :]
    measure = measure[: measure.index("</tr>")]
    for status, count in expected.items():
        assert f'data-status="{status}">{count}</td>' in measure, status
    # Two systems of acme: each of the 22 MEASURE subcategories counts once per system.
    assert "of 44</td>" in measure


# --- overriding ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineer_and_auditor_see_no_form_and_are_refused_403_writing_nothing(
    acme: Tenant, not_met: Evidence, role: Role
) -> None:
    client = signed_in(acme, role)
    main = _main(client.get(SUB))
    assert 'method="post"' not in main
    assert "/override/" not in main
    before = _snapshot()
    for path, data in (
        (f"{SUB}override/", _override()),
        (f"{SUB}not-applicable/", {"na-justification": "No.", "na-expires_at": "2030-01-01"}),
        ("/policies/thresholds/", {"rule": PARITY, "threshold": "0.5"}),
    ):
        assert client.post(path, data).status_code == 403, path
    assert _snapshot() == before
    assert 'method="post"' not in _main(client.get("/policies/"))


@pytest.mark.parametrize("role", DECIDERS)
def test_officer_and_admin_see_the_override_and_policy_forms(
    acme: Tenant, not_met: Evidence, role: Role
) -> None:
    client = signed_in(acme, role)
    body = _body(client.get(SUB))
    assert f'action="{SUB}override/"' in body
    assert f'action="{SUB}not-applicable/"' in body
    assert 'action="/policies/thresholds/"' in _body(client.get("/policies/"))


def test_officer_override_without_justification_is_refused_400_naming_the_field(
    acme: Tenant, not_met: Evidence
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    before = _snapshot()
    response = client.post(f"{SUB}override/", _override(justification="  "))
    assert response.status_code == 400
    field = _body(response)[_body(response).index('for="id_justification"') :]
    assert "This field is required." in field[: field.index("</div>")]
    # The service's own refusals land on their field too: an expiry beyond a year.
    far = (timezone.localdate() + timedelta(days=800)).isoformat()
    response = client.post(f"{SUB}override/", _override(expires_at=far))
    assert response.status_code == 400
    field = _body(response)[_body(response).index('for="id_expires_at"') :]
    assert "Must lie within 366 days." in field[: field.index("</div>")]
    response = client.post(f"{SUB}override/", _override(status="not_applicable"))
    assert response.status_code == 400
    assert _snapshot() == before


def test_officer_overrides_a_not_met_subcategory_and_the_page_shows_it(
    acme: Tenant, system: AISystem, not_met: Evidence
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    response = client.post(f"{SUB}override/", _override(justification="Retrained; see ticket 7."))
    assert response.status_code == 302
    assert response["Location"] == SUB
    body = _body(client.get(SUB))
    assert "MEASURE 2.11 is overridden: met until" in body
    status = body[body.index('id="verdict-status"') :]
    assert "Met</span>" in status[: status.index("</dd>")]
    assert "overridden" in status[: status.index("</dd>")]
    assert "Not met" in body[body.index('id="computed-status"') :]
    assert "Retrained; see ticket 7." in body[body.index('id="override-in-force"') :]
    override = Override.objects.get(organization=acme.org)
    assert (override.kind, override.status, override.system_id) == ("override", "met", system.pk)
    assert AuditEvent.objects.filter(action="verdict.override").count() == 1
    posture = _body(client.get("/systems/credit-scoring/posture/"))
    row = posture[posture.index('id="sub-MEASURE-2.11"') :]
    assert "overridden" in row[: row.index("</tr>")]


def test_admin_marks_an_organisation_wide_subcategory_not_applicable(
    acme: Tenant, system: AISystem
) -> None:
    client = signed_in(acme, Role.ADMIN)
    path = "/systems/credit-scoring/posture/GOVERN-1.1/"
    assert "applies to every system" in _body(client.get(path))
    soon = (timezone.localdate() + timedelta(days=90)).isoformat()
    data = {"na-justification": "Not a regulated activity.", "na-expires_at": soon}
    response = client.post(f"{path}not-applicable/", data)
    assert response.status_code == 302
    body = _body(client.get(path))
    assert "Not applicable</span>" in body[body.index('id="verdict-status"') :]
    override = Override.objects.get(organization=acme.org)
    assert (override.kind, override.system_id) == ("not_applicable", None)


# --- policies ------------------------------------------------------------------------------


def test_officer_policy_with_a_bad_threshold_is_refused_400_and_nothing_written(
    acme: Tenant, system: AISystem
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    before = _snapshot()
    response = client.post("/policies/thresholds/", {"rule": PARITY, "threshold": "1.5"})
    assert response.status_code == 400
    field = _body(response)[_body(response).index('for="id_threshold"') :]
    assert "Threshold 1.5 lies outside [0, 1]." in field[: field.index("</div>")]
    for data in (
        {"rule": PARITY, "threshold": "lots"},
        {"rule": PARITY},
        {"rule": "no.such-rule", "threshold": "0.5"},
        {"rule": PARITY, "band": "-1"},
    ):
        assert client.post("/policies/thresholds/", data).status_code == 400, data
    assert _snapshot() == before


def test_officer_lowers_a_threshold_and_the_verdict_is_decided_again(
    acme: Tenant, system: AISystem, not_met: Evidence
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    data = {"rule": PARITY, "threshold": "0.55", "note": "Pilot region."}
    response = client.post("/policies/thresholds/", data)
    assert response.status_code == 302
    policy = Policy.objects.get(organization=acme.org)
    assert policy.thresholds == {PARITY: {"threshold": 0.55}}
    body = _body(client.get("/policies/"))
    row = body[body.index(f'id="rule-{PARITY}"') :]
    assert "≥ 0.55" in row[: row.index("</tr>")]
    drain()
    page = _body(client.get(SUB))
    assert "≥ 0.55" in page[page.index('id="rationale-table"') :]
    # A second rule keeps the first one's value.
    client.post("/policies/thresholds/", {"rule": PARITY, "band": "0.1"})
    latest = Policy.objects.filter(organization=acme.org).order_by("-version").first()
    assert latest is not None
    assert latest.thresholds == {PARITY: {"threshold": 0.55, "band": 0.1}}


# --- queries -------------------------------------------------------------------------------


def _queries(client: Client) -> dict[str, int]:
    found = {}
    for path in ("/systems/credit-scoring/posture/", SUB, "/systems/credit-scoring/findings/", "/"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, path
        found[path] = len(queries.captured_queries)
    return found


def test_posture_pages_issue_the_same_queries_with_2_and_with_20_evidence_items(
    acme: Tenant, system: AISystem
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    for n in range(2):
        submit(acme, fairness(0.6, feature=f"attribute_{n}"), run=False)
    drain()
    client.get("/")  # the session and the matrix settle on a first request
    small = _queries(client)
    for n in range(2, 20):
        submit(acme, fairness(0.6, feature=f"attribute_{n}"), run=False)
    drain()
    assert Evidence.objects.filter(organization=acme.org, kind="fairness").count() == 20
    row = Verdict.objects.get(scope=f"sys:{system.pk}", subcategory_id="MEASURE 2.11")
    assert len(row.evidence) == 20
    assert _queries(client) == small
