"""The report pages, through Django's test client (no browser).

One world for the whole module, built once and rolled back at its end (as the shared
world of tests/api/conftest.py is): acme's credit-scoring with a not-met fairness verdict,
one system report taken through the whole pipeline in-process (requested, draft rendered,
approved, signed: what the worker does, about 4 s), one register report whose draft waits
for approval, and a queued register report of globex. Each test runs in a savepoint, so
what it writes is undone.

The checks are what the pages add to the services: every reader opens every page, a
foreign or missing report answers 404, only officers and admins see and use the request
and approve forms (anyone else gets 403 posting directly, and nothing is written), bad
input comes back on the page (400, or 409 for an approval of what is no longer a draft),
verification says valid or not valid with a reason and never answers 500, and the
downloads are files, never pages.
"""

import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.models import Report, SigningCertificate
from reports.services.pipeline import report_render_draft, report_sign
from reports.services.requests import report_approve, report_request
from reports.services.verification import MAX_VERIFY_BYTES
from reports.storage import pdf_read
from riskreg.audit.models import AuditEvent
from riskreg.inventory import services as inventory
from riskreg.organisations.roles import Role
from tests.api.helpers import db_snapshot
from tests.api.posture_support import fairness, set_up, submit
from tests.api.test_evidence_pages import signed_in
from tests.conftest import Tenant, make_tenant, module_transaction

pytestmark = pytest.mark.django_db

READERS = [Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.ENGINEER, Role.AUDITOR]
DECIDERS = [Role.ADMIN, Role.COMPLIANCE_OFFICER]
BYSTANDERS = [Role.ENGINEER, Role.AUDITOR]
MISSING = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Reports:
    acme: Tenant
    globex: Tenant
    signed: Report  # acme's system report of credit-scoring, signed
    draft: Report  # acme's register report, draft rendered, waiting for approval
    foreign: Report  # globex's register report, queued
    pdf: bytes  # the signed PDF's bytes


@pytest.fixture(scope="module")
def reports(django_db_setup: None, django_db_blocker: Any) -> Iterator[Reports]:
    with module_transaction(django_db_blocker), django_db_blocker.unblock():
        acme, globex = make_tenant("acme"), make_tenant("globex", prefix="globex-")
        system = set_up(acme)
        submit(acme, fairness(ratio=0.6))
        inventory.system_create(actor=globex.actor, slug="turnstile", name="Turnstile")
        officer = acme.actor_for(Role.COMPLIANCE_OFFICER)
        signed = report_request(actor=officer, kind="system", system=system)
        report_render_draft(report_id=signed.pk)
        signed.refresh_from_db()
        report_approve(actor=officer, report=signed, note="Checked against the register.")
        report_sign(report_id=signed.pk)
        draft = report_request(actor=officer, kind="register", system=None)
        report_render_draft(report_id=draft.pk)
        foreign = report_request(actor=globex.actor, kind="register", system=None)
        signed.refresh_from_db()
        draft.refresh_from_db()
        assert (signed.status, draft.status, foreign.status) == ("signed", "draft", "queued")
        pdf = pdf_read(signed.organization_id, signed.pdf_sha256)
        yield Reports(acme, globex, signed, draft, foreign, pdf)


def _body(response: Any) -> str:
    return str(response.content.decode())


def _main(response: Any) -> str:
    body = _body(response)
    return body[body.index("<main") :]


def _field(response: Any, name: str) -> str:
    """The form field `name` of a page, from its label to the end of its block."""
    body = _body(response)
    field = body[body.index(f'for="id_{name}"') :]
    return field[: field.index("</div>")]


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every table a request or an approval could touch, the reports' own included."""
    rows = db_snapshot()
    for model in (Report, SigningCertificate):
        rows[model._meta.label] = list(model.objects.order_by("pk").values())
    return rows


def _upload(data: bytes, name: str = "report.pdf") -> dict[str, Any]:
    return {"file": SimpleUploadedFile(name, data, content_type="application/pdf")}


def _flipped(pdf: bytes) -> bytes:
    middle = len(pdf) // 2
    return pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]


# --- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_reader_opens_the_reports_list_and_each_report(reports: Reports, role: Role) -> None:
    client = signed_in(reports.acme, role)
    for path in (
        "/reports/",
        "/reports/?page=9",
        f"/reports/{reports.signed.uid}/",
        f"/reports/{reports.draft.uid}/",
        f"/reports/{reports.signed.uid}/?refresh=off",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    listing = _body(client.get("/reports/"))
    assert listing.count('<tr id="report-') == 2
    assert reports.signed.pdf_sha256 in listing
    assert 'href="/reports/"' in listing
    assert 'aria-current="page">Reports</a>' in listing
    # Signing made the organisation's CA: both fingerprints are listed, with the download.
    certificate = SigningCertificate.objects.get(organization=reports.acme.org)
    table = listing[listing.index('id="certificate-table"') :]
    assert certificate.fingerprint in table
    assert certificate.ca_fingerprint in table
    assert 'href="/reports/ca.pem"' in listing


def test_a_signed_report_shows_its_hashes_approval_and_both_downloads(reports: Reports) -> None:
    signed = reports.signed
    body = _body(signed_in(reports.acme, Role.AUDITOR).get(f"/reports/{signed.uid}/"))
    status = body[body.index('id="report-status"') :]
    assert ">Signed</span>" in status[: status.index("</p>")]
    assert f'id="snapshot-hash">{signed.snapshot_sha256}<' in body
    assert f'id="manifest-hash">{signed.manifest_sha256}<' in body
    assert f'id="pdf-hash">{signed.pdf_sha256}<' in body
    assert f'href="/reports/{signed.uid}/report.pdf"' in body
    assert f'href="/reports/{signed.uid}/draft.pdf"' in body
    approval = body[body.index('id="approval-record"') :]
    assert "officer (Compliance officer)" in approval
    assert "Checked against the register." in approval
    assert 'http-equiv="refresh"' not in body  # nothing left for a worker to do
    assert "/approve/" not in body


def test_a_queued_report_page_reloads_itself_until_the_draft_is_rendered(
    reports: Reports,
) -> None:
    officer = reports.acme.actor_for(Role.COMPLIANCE_OFFICER)
    queued = report_request(actor=officer, kind="register", system=None)
    client = signed_in(reports.acme, Role.ENGINEER)
    body = _body(client.get(f"/reports/{queued.uid}/"))
    assert '<meta http-equiv="refresh" content="2">' in body
    assert ">Queued</span>" in body
    assert f'/reports/{queued.uid}/draft.pdf"' not in body
    off = _body(client.get(f"/reports/{queued.uid}/?refresh=off"))
    assert 'http-equiv="refresh"' not in off
    assert "Automatic reloading is off." in off


def test_foreign_and_missing_reports_answer_404_and_posting_to_them_writes_nothing(
    reports: Reports,
) -> None:
    client = signed_in(reports.acme, Role.COMPLIANCE_OFFICER)
    for uid in (reports.foreign.uid, MISSING):
        for suffix in ("", "report.pdf", "draft.pdf"):
            assert client.get(f"/reports/{uid}/{suffix}").status_code == 404, (uid, suffix)
    assert client.get("/reports/not-a-uuid/").status_code == 404
    before = _snapshot()
    for uid in (reports.foreign.uid, MISSING):
        assert client.post(f"/reports/{uid}/approve/", {}).status_code == 404
    assert _snapshot() == before
    assert str(reports.foreign.uid) not in _body(client.get("/reports/"))


# --- requesting and approving ----------------------------------------------------------


@pytest.mark.parametrize("role", BYSTANDERS)
def test_engineer_and_auditor_see_no_form_and_are_refused_403_writing_nothing(
    reports: Reports, role: Role
) -> None:
    client = signed_in(reports.acme, role)
    assert 'action="/reports/request/"' not in _body(client.get("/reports/"))
    assert 'action="/reports/verify/"' in _body(client.get("/reports/"))
    assert "/approve/" not in _main(client.get(f"/reports/{reports.draft.uid}/"))
    before = _snapshot()
    for path, data in (
        ("/reports/request/", {"kind": "system", "system": "credit-scoring"}),
        ("/reports/request/", {"kind": "register"}),
        (f"/reports/{reports.draft.uid}/approve/", {"note": "Fine by me."}),
    ):
        assert client.post(path, data).status_code == 403, path
    assert _snapshot() == before


@pytest.mark.parametrize("role", DECIDERS)
def test_officer_and_admin_see_the_request_form_and_the_approve_form_of_a_draft(
    reports: Reports, role: Role
) -> None:
    client = signed_in(reports.acme, role)
    listing = _body(client.get("/reports/"))
    assert 'action="/reports/request/"' in listing
    assert '<option value="credit-scoring">Credit scoring</option>' in listing
    assert "Turnstile" not in listing
    assert f'action="/reports/{reports.draft.uid}/approve/"' in _body(
        client.get(f"/reports/{reports.draft.uid}/")
    )


def test_officer_requests_a_system_report_and_lands_on_its_queued_page(reports: Reports) -> None:
    client = signed_in(reports.acme, Role.COMPLIANCE_OFFICER)
    data = {"kind": "annex-iv", "system": "credit-scoring", "period_from": "2026-01-01"}
    response = client.post("/reports/request/", data)
    made = Report.objects.filter(organization=reports.acme.org).order_by("-pk").first()
    assert made is not None
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{made.uid}/"
    assert (made.kind, made.status, made.system.slug if made.system else None) == (
        "annex-iv",
        "queued",
        "credit-scoring",
    )
    assert str(made.period_from) == "2026-01-01"
    assert AuditEvent.objects.filter(action="report.request", object_id=str(made.uid)).exists()
    body = _body(client.get(response["Location"]))
    assert "The report is requested; its draft is being rendered." in body
    assert ">Queued</span>" in body


def test_officer_request_with_bad_input_is_refused_400_naming_the_field(
    reports: Reports,
) -> None:
    client = signed_in(reports.acme, Role.COMPLIANCE_OFFICER)
    before = _snapshot()
    for kind in ("system", "annex-iv"):
        response = client.post("/reports/request/", {"kind": kind, "system": ""})
        assert response.status_code == 400, kind
        assert "Name a system." in _field(response, "system")
    response = client.post("/reports/request/", {"kind": "register", "system": "credit-scoring"})
    assert response.status_code == 400
    assert "A register report covers the organisation." in _field(response, "system")
    response = client.post(
        "/reports/request/",
        {"kind": "register", "period_from": "2026-06-01", "period_to": "2026-01-01"},
    )
    assert response.status_code == 400
    assert "Must not be after period_to." in _field(response, "period_from")
    for data in (
        {"kind": "system", "system": "turnstile"},  # globex's: not one of the choices
        {"kind": "quarterly"},
        {"kind": "register", "period_to": "yesterday"},
        {},
    ):
        assert client.post("/reports/request/", data).status_code == 400, data
    assert _snapshot() == before


def test_officer_approves_the_draft_and_approving_again_is_refused_409(reports: Reports) -> None:
    client = signed_in(reports.acme, Role.COMPLIANCE_OFFICER)
    path = f"/reports/{reports.draft.uid}/approve/"
    response = client.post(path, {"note": "Matches the board pack."})
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{reports.draft.uid}/"
    approved = Report.objects.get(pk=reports.draft.pk)
    assert (approved.status, approved.approved_by_label) == ("approved", "officer")
    assert approved.approval_note == "Matches the board pack."
    body = _body(client.get(response["Location"]))
    assert "The report is approved; its final version is being signed." in body
    assert '<meta http-equiv="refresh"' in body  # the signature is a worker's to make
    before = _snapshot()
    for uid in (reports.draft.uid, reports.signed.uid):
        again = client.post(f"/reports/{uid}/approve/", {})
        assert again.status_code == 409, uid
        refusal = _body(again)[_body(again).index('id="approve-refusal"') :]
        assert f"Report {uid} is" in refusal
        assert "not a draft." in refusal
    assert _snapshot() == before


def test_officer_approval_with_an_overlong_note_is_refused_400(reports: Reports) -> None:
    client = signed_in(reports.acme, Role.ADMIN)
    before = _snapshot()
    response = client.post(f"/reports/{reports.draft.uid}/approve/", {"note": "x" * 2001})
    assert response.status_code == 400
    assert "at most 2000 characters" in _field(response, "note")
    assert _snapshot() == before


# --- verifying ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_reader_verifies_the_signed_pdf_as_valid(reports: Reports, role: Role) -> None:
    client = signed_in(reports.acme, role)
    before = _snapshot()
    response = client.post("/reports/verify/", _upload(reports.pdf))
    assert response.status_code == 200
    body = _body(response)
    assert '<strong id="verify-verdict">Valid</strong>' in body
    checks = body[body.index('id="verify-checks"') :]
    checks = checks[: checks.index("</table>")]
    for name in ("signature", "issued here", "evidence unchanged"):
        assert f'<th scope="row">{name}</th>' in checks
    assert "Failed</span>" not in checks
    assert f'href="/reports/{reports.signed.uid}/"' in body[body.index('id="verify-result"') :]
    assert _snapshot() == before


@pytest.mark.parametrize(
    "damage",
    ["flip a byte", "truncate", "random bytes", "empty", "the draft"],
)
def test_a_damaged_or_unsigned_pdf_is_not_valid_with_a_reason(
    reports: Reports, damage: str
) -> None:
    pdf = reports.pdf
    data = {
        "flip a byte": _flipped(pdf),
        "truncate": pdf[: len(pdf) // 3],
        "random bytes": hashlib.sha256(pdf).digest() * 100,
        "empty": b"",
        "the draft": pdf_read(reports.signed.organization_id, reports.signed.draft_sha256),
    }[damage]
    response = signed_in(reports.acme, Role.AUDITOR).post("/reports/verify/", _upload(data))
    assert response.status_code == 200
    body = _body(response)
    assert '<strong id="verify-verdict">Not valid</strong>' in body
    reason = re.search(r'<span id="verify-reason">([^<]+)</span>', body)
    assert reason is not None
    assert reason.group(1).strip()
    assert "Failed</span>" in body[body.index('id="verify-checks"') :]


def test_verify_without_a_file_or_with_one_too_large_is_refused_400(reports: Reports) -> None:
    client = signed_in(reports.acme, Role.ENGINEER)
    response = client.post("/reports/verify/", {})
    assert response.status_code == 400
    assert "This field is required." in _field(response, "file")
    assert 'id="verify-result"' not in _body(response)
    too_large = b"%PDF-" + b"0" * (MAX_VERIFY_BYTES - 4)
    response = client.post("/reports/verify/", _upload(too_large))
    assert response.status_code == 400
    assert "The file is larger than 50.0" in _field(response, "file")
    assert 'id="verify-result"' not in _body(response)


# --- downloads ---------------------------------------------------------------------------


def _assert_attachment(response: Any, content_type: str, name: str) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_downloads_are_pdf_attachments_with_the_stored_bytes(reports: Reports) -> None:
    signed = reports.signed
    client = signed_in(reports.acme, Role.AUDITOR)
    final = client.get(f"/reports/{signed.uid}/report.pdf")
    _assert_attachment(final, "application/pdf", f"riskreg-report-{signed.uid}.pdf")
    assert hashlib.sha256(final.content).hexdigest() == signed.pdf_sha256
    draft = client.get(f"/reports/{signed.uid}/draft.pdf")
    _assert_attachment(draft, "application/pdf", f"riskreg-report-{signed.uid}-draft.pdf")
    assert hashlib.sha256(draft.content).hexdigest() == signed.draft_sha256
    # A draft has no signed PDF yet: no file, a 404 page.
    assert client.get(f"/reports/{reports.draft.uid}/report.pdf").status_code == 404
    assert client.get(f"/reports/{reports.draft.uid}/draft.pdf").status_code == 200


def test_ca_certificate_downloads_as_pem_and_is_404_before_any_signature(
    reports: Reports,
) -> None:
    response = signed_in(reports.acme, Role.ENGINEER).get("/reports/ca.pem")
    _assert_attachment(response, "application/x-pem-file", "riskreg-report-ca.pem")
    certificate = SigningCertificate.objects.get(organization=reports.acme.org)
    assert response.content.decode() == certificate.ca_certificate_pem
    assert response.content.startswith(b"-----BEGIN CERTIFICATE-----")
    # globex has signed nothing, so it has no CA yet.
    globex = signed_in(reports.globex, Role.ADMIN)
    assert globex.get("/reports/ca.pem").status_code == 404
    assert 'id="no-certificates"' in _body(globex.get("/reports/"))


# --- queries -----------------------------------------------------------------------------


def test_the_reports_page_issues_the_same_queries_with_2_and_with_22_reports(
    reports: Reports,
) -> None:
    client = signed_in(reports.acme, Role.AUDITOR)
    client.get("/reports/")  # the session settles on a first request

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/reports/").status_code == 200
        return len(queries.captured_queries)

    small = count()
    # Test-only shortcut: copies of the signed report straight into the table.
    row = Report.objects.get(pk=reports.signed.pk)
    copies = []
    for n in range(20):
        copy = Report.objects.get(pk=row.pk)
        copy.pk = None
        copy.uid = uuid.uuid4()
        copy.pdf_sha256 = f"{n:064x}"
        copies.append(copy)
    Report.objects.bulk_create(copies)
    assert count() == small
