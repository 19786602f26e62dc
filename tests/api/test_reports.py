"""Reports end to end through the API: request, draft, approval, signature, download,
verification; the worker's steps run in-process here (tests/integration has real workers)."""

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient
from riskreg_client.verify import verify_pdf

from reports.models import Report
from reports.services.pipeline import report_render_draft, report_sign
from riskreg.audit.models import AuditEvent
from riskreg.organisations.roles import Role
from tests.api.helpers import assert_envelope
from tests.api.posture_support import fairness, set_up, submit
from tests.conftest import Tenant


@pytest.fixture
def officer(acme: Tenant, api_for: Any) -> APIClient:
    set_up(acme)
    submit(acme, fairness(ratio=0.6))
    client: APIClient = api_for(Role.COMPLIANCE_OFFICER)
    return client


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"{hashlib.sha256(pdf).hexdigest()[:12]}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def request_and_sign(officer: APIClient) -> dict[str, Any]:
    response = officer.post(
        "/api/v1/reports/", {"kind": "system", "system": "credit-scoring"}, format="json"
    )
    assert response.status_code == 202, response.content
    report = Report.objects.get(uid=response.json()["id"])
    report_render_draft(report_id=report.pk)
    approved = officer.post(
        f"/api/v1/reports/{report.uid}/approve/", {"note": "Checked."}, format="json"
    )
    assert approved.status_code == 202, approved.content
    report_sign(report_id=report.pk)
    body: dict[str, Any] = officer.get(f"/api/v1/reports/{report.uid}/").json()
    return body


def test_officer_requests_a_report_that_is_drafted_approved_signed_and_verifies(
    officer: APIClient, tmp_path: Path
) -> None:
    report = request_and_sign(officer)
    signed = officer.get(f"/api/v1/reports/{report['id']}/download/")
    draft = officer.get(f"/api/v1/reports/{report['id']}/download/", {"version": "draft"})
    roots = [
        c["ca_certificate_pem"].encode()
        for c in officer.get("/api/v1/reports/certificates/").json()
    ]
    online = officer.post(
        "/api/v1/reports/verify/",
        {"file": SimpleUploadedFile("r.pdf", signed.content, "application/pdf")},
        format="multipart",
    ).json()

    assert report["status"] == "signed"
    assert hashlib.sha256(signed.content).hexdigest() == report["pdf_sha256"]
    assert signed["Content-Type"] == "application/pdf"
    offline = verify_pdf(signed.content, trust_roots=roots)
    assert offline.valid, offline.reason
    assert offline.manifest_sha256 == report["manifest_sha256"]
    assert online["valid"], online
    assert online["report"] == report["id"]
    final_text, draft_text = text_of(signed.content, tmp_path), text_of(draft.content, tmp_path)
    evidence_ids = [line for line in draft_text.split() if len(line) == 36 and line.count("-") == 4]
    assert evidence_ids
    assert all(uid in final_text for uid in evidence_ids)  # the same snapshot, the same data
    assert "DRAFT" in draft_text
    actions = list(AuditEvent.objects.filter(object_type="report").values_list("action", flat=True))
    assert actions == ["report.request", "report.approve", "report.sign"]


@pytest.mark.parametrize(
    "damage",
    ["flip a byte", "truncate", "random bytes", "empty"],
)
def test_a_damaged_pdf_sent_to_verification_is_not_valid_and_never_a_500(
    damage: str, officer: APIClient
) -> None:
    report = request_and_sign(officer)
    pdf = officer.get(f"/api/v1/reports/{report['id']}/download/").content
    broken = {
        "flip a byte": pdf[: len(pdf) // 2]
        + bytes([pdf[len(pdf) // 2] ^ 0x01])
        + pdf[len(pdf) // 2 + 1 :],
        "truncate": pdf[: len(pdf) // 3],
        "random bytes": hashlib.sha256(pdf).digest() * 100,
        "empty": b"",
    }[damage]

    response = officer.post(
        "/api/v1/reports/verify/",
        {"file": SimpleUploadedFile("r.pdf", broken, "application/pdf")},
        format="multipart",
    )

    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        assert response.json()["valid"] is False
        assert response.json()["reason"]


def test_verification_names_a_cited_item_whose_hash_no_longer_matches(
    officer: APIClient,
) -> None:
    report = request_and_sign(officer)
    pdf = officer.get(f"/api/v1/reports/{report['id']}/download/").content
    row = Report.objects.get(uid=report["id"])
    snapshot = row.snapshot
    snapshot["evidence"][0]["sha256"] = "0" * 64  # as if the stored item had changed
    Report.objects.filter(pk=row.pk).update(snapshot=snapshot)

    answer = officer.post(
        "/api/v1/reports/verify/",
        {"file": SimpleUploadedFile("r.pdf", pdf, "application/pdf")},
        format="multipart",
    ).json()

    assert answer["valid"] is False
    assert "changed or missing" in answer["reason"]


def test_approving_twice_is_a_409_and_changes_nothing(officer: APIClient) -> None:
    report = request_and_sign(officer)

    again = officer.post(f"/api/v1/reports/{report['id']}/approve/", {}, format="json")

    assert_envelope(again, 409, "report_not_draft")


def test_download_before_signing_is_a_409(officer: APIClient) -> None:
    made = officer.post("/api/v1/reports/", {"kind": "register"}, format="json").json()

    assert_envelope(
        officer.get(f"/api/v1/reports/{made['id']}/download/"), 409, "report_not_signed"
    )


def test_outsider_gets_404_for_a_foreign_report(
    officer: APIClient, globex: Tenant, api_for: Any
) -> None:
    made = officer.post("/api/v1/reports/", {"kind": "register"}, format="json").json()

    response = api_for(Role.ADMIN, globex).get(f"/api/v1/reports/{made['id']}/")

    assert_envelope(response, 404, "not_found")


def test_generate_report_writes_a_draft_and_with_approve_as_a_signed_report(
    officer: APIClient, tmp_path: Path
) -> None:
    draft, signed = tmp_path / "draft.pdf", tmp_path / "signed.pdf"

    call_command("generate_report", "--system", "credit-scoring", "--out", str(draft))
    call_command(
        "generate_report",
        "--system",
        "credit-scoring",
        "--kind",
        "annex-iv",
        "--out",
        str(signed),
        "--approve-as",
        "officer",
    )

    assert draft.read_bytes().startswith(b"%PDF")
    assert "DRAFT" in text_of(draft.read_bytes(), tmp_path)
    approval = AuditEvent.objects.get(action="report.approve")
    assert approval.actor_label == "officer"
    call_command("verify_report", str(signed))  # exits normally only when valid


def test_verify_report_refuses_an_unsigned_pdf(officer: APIClient, tmp_path: Path) -> None:
    draft = tmp_path / "draft.pdf"
    call_command("generate_report", "--system", "credit-scoring", "--out", str(draft))

    with pytest.raises(CommandError, match="not valid"):
        call_command("verify_report", str(draft), "--organisation", "acme")


def test_generate_report_refuses_an_engineer_as_approver(
    officer: APIClient, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="may not approve"):
        call_command(
            "generate_report",
            "--system",
            "credit-scoring",
            "--out",
            str(tmp_path / "x.pdf"),
            "--approve-as",
            "engineer",
        )


def test_an_organisation_signs_with_a_pkcs12_its_own_ca_issued(
    officer: APIClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from django.utils import timezone

    from reports.keys import create_organisation_ca
    from reports.models import SigningCertificate

    own = create_organisation_ca("Acme Corp", now=timezone.now(), key_size=2048)
    p12 = tmp_path / "acme.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"acme signing",
            own.signing.key,
            own.signing.cert,
            [own.ca_cert],
            serialization.BestAvailableEncryption(b"from-the-vault"),
        )
    )
    monkeypatch.setenv("RISKREG_PKCS12_PASSPHRASE", "from-the-vault")

    call_command("import_signing_key", str(p12), "--organisation", "acme")
    report = request_and_sign(officer)
    pdf = officer.get(f"/api/v1/reports/{report['id']}/download/").content

    verdict = verify_pdf(pdf, trust_roots=[own.ca_cert_pem])
    assert verdict.valid, verdict.reason
    assert SigningCertificate.objects.get(retired_at__isnull=True).source == "imported"
    assert AuditEvent.objects.filter(action="signing_key.import").count() == 1


def test_importing_with_a_wrong_passphrase_is_refused(
    officer: APIClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = tmp_path / "bogus.p12"
    bogus.write_bytes(b"not a pkcs12")
    monkeypatch.setenv("RISKREG_PKCS12_PASSPHRASE", "x")

    with pytest.raises(CommandError, match="PKCS#12"):
        call_command("import_signing_key", str(bogus), "--organisation", "acme")


def test_an_auditor_checks_the_signed_report_with_pdfsig_and_the_offline_client(
    officer: APIClient, api_for: Any, tmp_path: Path
) -> None:
    import sys

    report = request_and_sign(officer)
    auditor = api_for(Role.AUDITOR)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(auditor.get(f"/api/v1/reports/{report['id']}/download/").content)
    ca = tmp_path / "org-ca.pem"
    ca.write_text(auditor.get("/api/v1/reports/certificates/").json()[0]["ca_certificate_pem"])
    nss = f"sql:{tmp_path}"
    subprocess.run(["certutil", "-N", "-d", nss, "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", nss, "-n", "orgca", "-t", "CT,C,C", "-i", str(ca)], check=True
    )

    pdfsig = subprocess.run(["pdfsig", "-nssdir", nss, str(pdf)], capture_output=True, text=True)
    client = subprocess.run(
        [sys.executable, "-m", "riskreg_client.cli", "verify", str(pdf), "--cert", str(ca)],
        capture_output=True,
        text=True,
    )

    # pdfsig exits 0 whatever it finds: its words are the verdict.
    assert "Signature is Valid." in pdfsig.stdout, pdfsig.stdout
    assert "Certificate is Trusted." in pdfsig.stdout, pdfsig.stdout
    assert "Total document signed" in pdfsig.stdout, pdfsig.stdout
    assert client.returncode == 0, client.stderr
    assert client.stdout.startswith("valid:")


@pytest.mark.parametrize(
    "tamper",
    [
        "page content byte flipped",
        "manifest byte flipped",
        "page changed in an incremental update",
        "manifest and XMP hash swapped in an update",
    ],
)
def test_the_server_refuses_each_tampered_copy_of_a_signed_report(
    tamper: str, officer: APIClient
) -> None:
    from tests.unit.test_report_signing import TAMPERS

    report = request_and_sign(officer)
    pdf = officer.get(f"/api/v1/reports/{report['id']}/download/").content
    make, why = TAMPERS[tamper]

    answer = officer.post(
        "/api/v1/reports/verify/",
        {"file": SimpleUploadedFile("r.pdf", make(pdf), "application/pdf")},
        format="multipart",
    ).json()

    assert answer["valid"] is False
    assert why in answer["reason"]
