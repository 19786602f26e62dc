"""Report keys, PAdES signing with the manifest hash in XMP, and verification (no database).

An auditor holds a signed report and the organisation's CA certificate; the server's
verify_pdf, the client's `riskreg verify` and poppler's pdfsig are asked about the same files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic  # noqa: TID251 - tests build tampered files
from pyhanko.pdf_utils.incremental_writer import (  # noqa: TID251 - tests build tampered files
    IncrementalPdfFileWriter,
)
from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream  # noqa: TID251 - tests tamper
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: TID251 - tests inspect signed files
from pyhanko.sign.timestamps import DummyTimeStamper  # noqa: TID251 - B-T without a TSA

from reports import keys
from reports.signing import (
    ReportSigningError,
    read_manifest,
    sign_pdf,
    verify_pdf,
    xmp_manifest_sha256,
)
from tests.unit.pdf_samples import SAMPLE_MANIFEST, manifest_bytes, sample_pdf, sha256_hex

NOW = dt.datetime.now(dt.UTC)
MANIFEST_SHA = sha256_hex(manifest_bytes())
PDFSIG = shutil.which("pdfsig")
CERTUTIL = shutil.which("certutil")
needs_poppler = pytest.mark.skipif(
    PDFSIG is None or CERTUTIL is None, reason="poppler-utils and libnss3-tools not installed"
)


@dataclass(frozen=True)
class Tsa:
    """A stand-in timestamp authority under its own root, as a public TSA would be."""

    root_pem: bytes
    stamper: DummyTimeStamper


@pytest.fixture(scope="module")
def acme() -> keys.CaBundle:
    return keys.create_organisation_ca("Acme Corp", now=NOW)


@pytest.fixture(scope="module")
def globex() -> keys.CaBundle:
    return keys.create_organisation_ca("Globex", now=NOW, key_size=2048)


@pytest.fixture(scope="module")
def tsa() -> Tsa:
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _cert(_name("Test TSA root"), _name("Test TSA root"), root_key, root_key, ca=True)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = _cert(_name("Test TSA"), root.subject, tsa_key, root_key, ca=False)
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )
    return Tsa(root_pem=root.public_bytes(serialization.Encoding.PEM), stamper=stamper)


@pytest.fixture(scope="module")
def tsa_url(tsa: Tsa) -> Iterator[str]:
    """A local RFC 3161 timestamp authority over HTTP (no TSA is reachable from CI)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            reply = tsa.stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    server.server_close()
    thread.join()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return sample_pdf()


@pytest.fixture(scope="module")
def signed(unsigned: bytes, acme: keys.CaBundle) -> bytes:
    return sign_pdf(unsigned, signer=acme.signing, manifest_sha256=MANIFEST_SHA, reason="approved")


@pytest.fixture(scope="module")
def signed_bt(unsigned: bytes, acme: keys.CaBundle, tsa: Tsa) -> bytes:
    return sign_pdf(
        unsigned,
        signer=acme.signing,
        manifest_sha256=MANIFEST_SHA,
        reason="approved",
        timestamper=tsa.stamper,
    )


@pytest.fixture(scope="module")
def ca_file(acme: keys.CaBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "acme-ca.pem"
    path.write_bytes(acme.ca_cert_pem)
    return path


@pytest.fixture(scope="module")
def nss_dir(ca_file: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database that trusts the organisation CA, as an auditor using pdfsig sets up."""
    if CERTUTIL is None:
        pytest.skip("certutil not installed")
    directory = tmp_path_factory.mktemp("nss")
    db = f"sql:{directory}"
    subprocess.run([CERTUTIL, "-N", "-d", db, "--empty-password"], check=True)
    subprocess.run(
        [CERTUTIL, "-A", "-d", db, "-n", "orgca", "-t", "CT,C,C", "-i", str(ca_file)], check=True
    )
    return db


def _riskreg_verify(
    pdf: bytes, tmp_path: Path, *certs: Path, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the client's `riskreg verify` as an auditor would, in its own process."""
    file = tmp_path / "report.pdf"
    file.write_bytes(pdf)
    args = [sys.executable, "-m", "riskreg_client.cli", "verify", str(file)]
    for cert in certs:
        args += ["--cert", str(cert)]
    return subprocess.run([*args, *extra], capture_output=True, text=True, timeout=60, check=False)


def _pdfsig(pdf: bytes, tmp_path: Path, nss: str) -> str:
    """pdfsig's report; it exits 0 even on a digest mismatch, so only its text counts."""
    assert PDFSIG is not None
    file = tmp_path / "pdfsig.pdf"
    file.write_bytes(pdf)
    done = subprocess.run(
        [PDFSIG, "-nssdir", nss, str(file)], capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


# -- signing and verifying ---------------------------------------------------------------------


def test_auditor_verifies_a_b_b_report_with_the_organisation_ca(signed: bytes, acme: keys.CaBundle):
    verdict = verify_pdf(signed, trust_roots=[acme.ca_cert_pem])

    assert verdict.valid, verdict.reason
    assert verdict.level == "B-B"
    assert verdict.signer is not None
    assert verdict.signer.startswith("Acme Corp report signing")
    assert verdict.manifest == SAMPLE_MANIFEST
    assert verdict.manifest_sha256 == MANIFEST_SHA
    assert verdict.signed_at is not None
    assert abs(verdict.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=10)


def test_auditor_verifies_a_b_t_report_trusting_the_tsa_root_for_timestamps_only(
    signed_bt: bytes, acme: keys.CaBundle, tsa: Tsa
):
    verdict = verify_pdf(signed_bt, trust_roots=[acme.ca_cert_pem], tsa_roots=[tsa.root_pem])

    assert verdict.valid, verdict.reason
    assert verdict.level == "B-T"
    assert verdict.manifest_sha256 == MANIFEST_SHA


def test_b_t_report_with_an_untrusted_tsa_is_refused(signed_bt: bytes, acme: keys.CaBundle):
    verdict = verify_pdf(signed_bt, trust_roots=[acme.ca_cert_pem])

    assert not verdict.valid
    assert "timestamp" in verdict.reason


def test_tsa_root_never_makes_a_report_signer_trusted(signed: bytes, tsa: Tsa):
    verdict = verify_pdf(signed, trust_roots=[tsa.root_pem], tsa_roots=[tsa.root_pem])

    assert not verdict.valid
    assert "does not chain" in verdict.reason


def test_officer_signs_b_t_through_a_timestamp_authority_url(
    unsigned: bytes, acme: keys.CaBundle, tsa: Tsa, tsa_url: str
):
    pdf = sign_pdf(
        unsigned,
        signer=acme.signing,
        manifest_sha256=MANIFEST_SHA,
        reason="approved",
        timestamp_url=tsa_url,
    )

    verdict = verify_pdf(pdf, trust_roots=[acme.ca_cert_pem], tsa_roots=[tsa.root_pem])

    assert verdict.valid, verdict.reason
    assert verdict.level == "B-T"


def test_unreachable_timestamp_authority_is_a_signing_error(unsigned: bytes, acme: keys.CaBundle):
    with pytest.raises(ReportSigningError, match="timestamp authority"):
        sign_pdf(
            unsigned,
            signer=acme.signing,
            manifest_sha256=MANIFEST_SHA,
            reason="approved",
            timestamp_url="http://127.0.0.1:9/tsa",  # the discard port: nothing listens
        )


def test_client_cli_accepts_b_b_and_b_t_reports(
    signed: bytes, signed_bt: bytes, ca_file: Path, tsa: Tsa, tmp_path: Path
):
    tsa_file = tmp_path / "tsa.pem"
    tsa_file.write_bytes(tsa.root_pem)

    plain = _riskreg_verify(signed, tmp_path, ca_file)
    stamped = _riskreg_verify(
        signed_bt, tmp_path, ca_file, extra=("--tsa-cert", str(tsa_file), "--json")
    )

    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith("valid: signed by Acme Corp report signing")
    assert stamped.returncode == 0, stamped.stderr
    answer = json.loads(stamped.stdout)
    assert answer["valid"] is True
    assert answer["level"] == "B-T"
    assert answer["manifest"] == SAMPLE_MANIFEST


def test_client_cli_answers_2_for_a_missing_file_or_a_bad_certificate(
    signed: bytes, ca_file: Path, tmp_path: Path
):
    not_a_cert = tmp_path / "not-a-cert.pem"
    not_a_cert.write_bytes(b"hello")

    bad_cert = _riskreg_verify(signed, tmp_path, not_a_cert)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "riskreg_client.cli",
            "verify",
            str(tmp_path / "missing.pdf"),
            "--cert",
            str(ca_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert bad_cert.returncode == 2
    assert "certificate" in bad_cert.stderr
    assert done.returncode == 2
    assert "missing.pdf" in done.stderr


@needs_poppler
def test_pdfsig_finds_the_signature_valid_and_the_organisation_ca_trusted(
    signed: bytes, signed_bt: bytes, nss_dir: str, tmp_path: Path
):
    for pdf in (signed, signed_bt):
        text = _pdfsig(pdf, tmp_path, nss_dir)

        assert "Signature is Valid." in text
        assert "Certificate is Trusted." in text
        assert "Total document signed" in text
        assert "ETSI.CAdES.detached" in text


def test_read_manifest_and_xmp_hash_agree_on_a_signed_report(signed: bytes):
    data, manifest = read_manifest(signed)

    assert data == manifest_bytes()
    assert manifest == SAMPLE_MANIFEST
    assert xmp_manifest_sha256(signed) == MANIFEST_SHA


def test_read_manifest_walks_a_name_tree_with_kids(unsigned: bytes):
    writer = IncrementalPdfFileWriter(BytesIO(unsigned))
    tree = writer.root["/Names"]["/EmbeddedFiles"]
    leaf = generic.DictionaryObject({generic.pdf_name("/Names"): tree["/Names"]})
    leaf["/Limits"] = generic.ArrayObject([tree["/Names"][0], tree["/Names"][0]])
    del tree["/Names"]
    tree["/Kids"] = generic.ArrayObject([writer.add_object(leaf)])
    writer.update_container(tree)
    out = BytesIO()
    writer.write(out)

    data, manifest = read_manifest(out.getvalue())

    assert data == manifest_bytes()
    assert manifest == SAMPLE_MANIFEST


def test_signing_refuses_a_bad_hash_junk_and_an_already_signed_pdf(
    signed: bytes, acme: keys.CaBundle
):
    with pytest.raises(ReportSigningError, match="64 lowercase hex"):
        sign_pdf(signed, signer=acme.signing, manifest_sha256="ABC", reason="approved")
    with pytest.raises(ReportSigningError, match="not a readable PDF"):
        sign_pdf(b"%PDF-1.7 junk", signer=acme.signing, manifest_sha256=MANIFEST_SHA, reason="x")
    with pytest.raises(ReportSigningError, match="already signed"):
        sign_pdf(signed, signer=acme.signing, manifest_sha256=MANIFEST_SHA, reason="approved")


# -- PDF/A-3b survives signing -------------------------------------------------------------------


def test_pdfa_identification_producer_and_attachment_survive_signing(
    signed: bytes, unsigned: bytes
):
    reader = PdfFileReader(BytesIO(signed))
    xmp_fields = {
        f"{name.ns}{name.local_name}": value.value
        for root in reader.root["/Metadata"].xmp
        for name, value in root
    }
    info_producer = str(reader.trailer["/Info"]["/Producer"])
    spec = reader.root["/Names"]["/EmbeddedFiles"]["/Names"][1]

    before = {
        (str(name), str(value.value))
        for root in PdfFileReader(BytesIO(unsigned)).root["/Metadata"].xmp
        for name, value in root
        if name.local_name != "Producer"
    }
    after = {
        (str(name), str(value.value))
        for root in reader.root["/Metadata"].xmp
        for name, value in root
    }
    assert before <= after  # everything WeasyPrint wrote is still there

    assert xmp_fields["http://www.aiim.org/pdfa/ns/id/part"] == "3"
    assert xmp_fields["http://www.aiim.org/pdfa/ns/id/conformance"] == "B"
    assert xmp_fields["http://ns.adobe.com/pdf/1.3/Producer"] == info_producer
    assert info_producer == "WeasyPrint 70.0; pyHanko 0.38.0"
    assert xmp_fields["urn:riskreg:report:1.0#ManifestSHA256"] == MANIFEST_SHA
    assert "/Filter" not in reader.root["/Metadata"]  # PDF/A: XMP stays uncompressed
    assert reader.root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    assert str(spec["/UF"]) == "manifest.json"
    assert spec["/AFRelationship"] == "/Data"
    assert spec in [ref.get_object() for ref in reader.root["/AF"]]


def test_signed_xmp_declares_the_riskreg_property_as_a_pdfa_extension(signed: bytes):
    xmp = PdfFileReader(BytesIO(signed)).root["/Metadata"].data

    assert b'pdfaSchema:namespaceURI="urn:riskreg:report:1.0#"' in xmp
    assert b'pdfaSchema:prefix="riskreg"' in xmp
    assert b'pdfaProperty:name="ManifestSHA256"' in xmp
    assert b"riskreg:ManifestSHA256=" in xmp


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_fonts_stay_embedded_after_signing(signed: bytes, tmp_path: Path):
    file = tmp_path / "fonts.pdf"
    file.write_bytes(signed)
    lines = subprocess.run(
        ["pdffonts", str(file)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]

    assert lines
    assert all(line.split()[-5] == "yes" for line in lines)  # the "emb" column


def test_the_signature_covers_the_xmp_with_the_manifest_hash(signed: bytes, acme: keys.CaBundle):
    reader = PdfFileReader(BytesIO(signed))
    (signature,) = reader.embedded_signatures
    _, len1, start2, len2 = signature.byte_range
    xmp_at = signed.index(b"riskreg:ManifestSHA256=")

    assert start2 + len2 == len(signed)
    assert xmp_at < len1  # inside the first signed range
    flipped = _flip(signed, xmp_at + len('riskreg:ManifestSHA256="'))
    assert not verify_pdf(flipped, trust_roots=[acme.ca_cert_pem]).valid


# -- the tamper corpus -------------------------------------------------------------------------


def _flip(pdf: bytes, offset: int) -> bytes:
    data = bytearray(pdf)
    data[offset] ^= 0x01
    return bytes(data)


def _stream_offset(pdf: bytes, ref: generic.Reference) -> int:
    """An offset in the middle of an indirect stream object's data."""
    header = pdf.index(f"\n{ref.idnum} {ref.generation} obj".encode()) + 1
    start = pdf.index(b"stream", header) + len(b"stream\n")
    end = pdf.index(b"endstream", start)
    return (start + end) // 2


def _page_content_flip(pdf: bytes) -> bytes:
    page = PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Kids"][0].get_object()
    return _flip(pdf, _stream_offset(pdf, page.raw_get("/Contents").reference))


def _manifest_flip(pdf: bytes) -> bytes:
    spec = PdfFileReader(BytesIO(pdf)).root["/Names"]["/EmbeddedFiles"]["/Names"][1]
    return _flip(pdf, _stream_offset(pdf, spec["/EF"].raw_get("/F").reference))


def _page_update(pdf: bytes) -> bytes:
    """An incremental update that draws on the signed page."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    content = generic.StreamObject(stream_data=b"q 1 0 0 rg 50 50 200 40 re f Q")
    writer.add_stream_to_page(0, writer.add_object(content))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _manifest_swap(pdf: bytes) -> bytes:
    """An incremental update that swaps manifest.json and, to be thorough, the XMP hash too."""
    forged = manifest_bytes({**SAMPLE_MANIFEST, "report": "RPT-FORGED"})
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec_ref = names.raw_get(1)
    spec = spec_ref.get_object()
    new_file = generic.StreamObject(
        {"/Type": generic.pdf_name("/EmbeddedFile")}, stream_data=forged
    )
    spec["/EF"] = generic.DictionaryObject({generic.pdf_name("/F"): writer.add_object(new_file)})
    writer.mark_update(spec_ref)
    xmp = writer.root["/Metadata"].data.replace(MANIFEST_SHA.encode(), sha256_hex(forged).encode())
    writer.root["/Metadata"] = writer.add_object(MetadataStream(stream_data=xmp))
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


TAMPERS = {
    "page content byte flipped": (_page_content_flip, "digest mismatch"),
    "manifest byte flipped": (_manifest_flip, "digest mismatch"),
    "page changed in an incremental update": (_page_update, "changed after signing"),
    "manifest and XMP hash swapped in an update": (_manifest_swap, "changed after signing"),
}


@pytest.mark.parametrize("tamper", TAMPERS, ids=list(TAMPERS))
def test_tampered_report_is_refused_by_the_server_and_the_client(
    tamper: str, signed: bytes, acme: keys.CaBundle, ca_file: Path, tmp_path: Path
):
    make, why = TAMPERS[tamper]
    forged = make(signed)

    verdict = verify_pdf(forged, trust_roots=[acme.ca_cert_pem])
    cli = _riskreg_verify(forged, tmp_path, ca_file)

    assert not verdict.valid
    assert why in verdict.reason
    assert cli.returncode == 1
    assert cli.stderr.startswith("invalid: ")
    assert why in cli.stderr


def test_the_swapped_manifest_really_is_what_the_latest_revision_shows(signed: bytes):
    forged = _manifest_swap(signed)

    _, manifest = read_manifest(forged)

    assert manifest["report"] == "RPT-FORGED"
    assert xmp_manifest_sha256(forged) == sha256_hex(manifest_bytes(manifest))


@needs_poppler
@pytest.mark.parametrize("tamper", ["page content byte flipped", "manifest byte flipped"])
def test_pdfsig_reports_a_digest_mismatch_for_byte_flips(
    tamper: str, signed: bytes, nss_dir: str, tmp_path: Path
):
    text = _pdfsig(TAMPERS[tamper][0](signed), tmp_path, nss_dir)

    assert "Digest Mismatch." in text
    assert "Signature is Valid." not in text


@needs_poppler
def test_pdfsig_calls_a_page_changing_update_valid_which_is_why_riskreg_verify_exists(
    signed: bytes, nss_dir: str, tmp_path: Path
):
    text = _pdfsig(_page_update(signed), tmp_path, nss_dir)

    assert "Signature is Valid." in text
    assert "Not total document signed" in text


def test_broken_files_are_invalid_never_an_exception(
    signed: bytes,
    unsigned: bytes,
    acme: keys.CaBundle,
    globex: keys.CaBundle,
    ca_file: Path,
    tmp_path: Path,
):
    other_ca = sign_pdf(
        unsigned, signer=globex.signing, manifest_sha256=MANIFEST_SHA, reason="forged"
    )
    contents = signed.index(b"/Contents <") + len(b"/Contents <")
    corpus = {
        "truncated": (signed[: len(signed) // 2], "unreadable"),
        "CMS corrupted": (
            signed[: contents + 8] + b"0" * 64 + signed[contents + 72 :],
            "corrupt signature",
        ),
        "random bytes": (os.urandom(4096), "not a PDF"),
        "empty": (b"", "not a PDF"),
        "unsigned": (unsigned, "not signed"),
        "signed by another CA": (other_ca, "does not chain"),
    }

    for name, (pdf, why) in corpus.items():
        verdict = verify_pdf(pdf, trust_roots=[acme.ca_cert_pem])
        assert not verdict.valid, name
        assert why in verdict.reason, (name, verdict.reason)

    cli = _riskreg_verify(other_ca, tmp_path, ca_file)
    assert cli.returncode == 1
    assert "does not chain" in cli.stderr


def test_manifest_hash_must_match_the_embedded_manifest(unsigned: bytes, acme: keys.CaBundle):
    wrong = sign_pdf(unsigned, signer=acme.signing, manifest_sha256="0" * 64, reason="approved")

    verdict = verify_pdf(wrong, trust_roots=[acme.ca_cert_pem])

    assert not verdict.valid
    assert "does not match the signed hash" in verdict.reason


# -- keys --------------------------------------------------------------------------------------


def test_organisation_ca_and_signing_certificate_have_the_right_extensions(acme: keys.CaBundle):
    ca, leaf = acme.ca_cert, acme.signing.cert
    ca_usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    leaf_usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value

    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca_usage.key_cert_sign
    assert ca_usage.crl_sign
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf_usage.digital_signature
    assert leaf_usage.content_commitment
    assert leaf.issuer == ca.subject
    assert isinstance(acme.signing.key, rsa.RSAPrivateKey)
    assert acme.signing.key.key_size == 3072
    assert ca.not_valid_after_utc - NOW > dt.timedelta(days=3650)
    assert dt.timedelta(days=700) < leaf.not_valid_after_utc - NOW < dt.timedelta(days=740)


def test_ca_fingerprint_reads_as_sha256_colon_hex(acme: keys.CaBundle):
    plain = keys.ca_fingerprint_hex(acme.ca_cert_pem)
    colon = keys.ca_fingerprint(acme.ca_cert_pem)

    assert plain == acme.ca_cert.fingerprint(hashes.SHA256()).hex()
    assert colon.startswith("SHA256:")
    assert (
        colon.removeprefix("SHA256:") == ":".join(plain[i : i + 2] for i in range(0, 64, 2)).upper()
    )


def test_key_directory_is_private_and_keeps_retired_certificates(
    acme: keys.CaBundle, unsigned: bytes, tmp_path: Path
):
    directory = tmp_path / "keys" / "acme"
    keys.write_key_dir(directory, acme, passphrase=b"s3cret")
    rotated = keys.rotate_signing_key(directory, now=NOW, passphrase=b"s3cret", key_size=2048)

    loaded = keys.load_signer(directory, passphrase=b"s3cret")
    files = [p for p in directory.rglob("*") if p.is_file()]
    folders = [directory, *(p for p in directory.rglob("*") if p.is_dir())]

    assert loaded.cert == rotated.cert
    assert [c.serial_number for c in keys.signing_certificates(directory)] == [
        acme.signing.cert.serial_number,
        rotated.cert.serial_number,
    ]
    assert {p.name for p in files} >= {"ca.pem", "ca.key.pem", "cert.pem", "key.pem"}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)
    assert all(p.stat().st_mode & 0o777 == 0o700 for p in folders)
    assert b"ENCRYPTED PRIVATE KEY" in (directory / "ca.key.pem").read_bytes()
    roots = keys.trust_roots(directory)
    pdf = sign_pdf(unsigned, signer=loaded, manifest_sha256=MANIFEST_SHA, reason="rotated")
    assert verify_pdf(pdf, trust_roots=roots).valid


def test_wrong_or_missing_passphrase_is_a_clear_value_error(acme: keys.CaBundle, tmp_path: Path):
    keys.write_key_dir(tmp_path / "acme", acme, passphrase=b"s3cret")

    with pytest.raises(ValueError, match="wrong passphrase"):
        keys.load_signer(tmp_path / "acme", passphrase=b"guess")
    with pytest.raises(ValueError, match="passphrase required"):
        keys.load_signer(tmp_path / "acme")


def test_organisation_imports_its_own_pkcs12_and_signs_with_it(
    unsigned: bytes, acme: keys.CaBundle, tmp_path: Path
):
    own = keys.create_organisation_ca("Initech", now=NOW, key_size=2048)
    data = pkcs12.serialize_key_and_certificates(
        b"initech signing",
        own.signing.key,
        own.signing.cert,
        [own.ca_cert],
        serialization.BestAvailableEncryption(b"p12-pass"),
    )

    imported = keys.load_pkcs12(data, b"p12-pass")
    pdf = sign_pdf(
        unsigned, signer=imported.signing, manifest_sha256=MANIFEST_SHA, reason="approved"
    )

    assert imported.ca_key is None
    assert imported.ca_cert == own.ca_cert
    assert verify_pdf(pdf, trust_roots=[imported.ca_cert_pem]).valid
    with pytest.raises(ValueError, match="wrong passphrase"):
        keys.load_pkcs12(data, b"nope")


def test_importing_a_pkcs12_from_another_ca_replaces_the_ca_only_when_asked(
    acme: keys.CaBundle, unsigned: bytes, tmp_path: Path
):
    directory = tmp_path / "acme"
    keys.write_key_dir(directory, acme, passphrase=None)
    before = sign_pdf(
        unsigned, signer=keys.load_signer(directory), manifest_sha256=MANIFEST_SHA, reason="a"
    )
    own = keys.create_organisation_ca("Acme Corp", now=NOW, key_size=2048)
    data = pkcs12.serialize_key_and_certificates(
        None, own.signing.key, own.signing.cert, [own.ca_cert], serialization.NoEncryption()
    )
    imported = keys.load_pkcs12(data, b"")

    with pytest.raises(ValueError, match="another organisation CA"):
        keys.write_key_dir(directory, imported, passphrase=None)
    keys.write_key_dir(directory, imported, passphrase=None, replace_ca=True)
    after = sign_pdf(
        unsigned, signer=keys.load_signer(directory), manifest_sha256=MANIFEST_SHA, reason="b"
    )

    roots = keys.trust_roots(directory)
    assert roots[0] == own.ca_cert_pem
    assert not (directory / "ca.key.pem").exists()
    with pytest.raises(ValueError, match="no CA key"):
        keys.rotate_signing_key(directory, now=NOW, passphrase=None)
    assert verify_pdf(before, trust_roots=roots).valid
    assert verify_pdf(after, trust_roots=roots).valid
    assert not verify_pdf(before, trust_roots=[own.ca_cert_pem]).valid


def test_key_directory_and_passphrase_come_from_settings(settings, tmp_path: Path):
    settings.RISKREG_KEYS_DIR = tmp_path
    settings.RISKREG_KEY_PASSPHRASE = ""

    assert keys.settings_key_dir("acme") == tmp_path / "acme"
    assert keys.settings_passphrase() is None
    settings.RISKREG_KEY_PASSPHRASE = "s3cret"
    assert keys.settings_passphrase() == b"s3cret"
    for bad in ("..", "../acme", "acme/x", "acme\n", ""):
        with pytest.raises(ValueError, match="slug"):
            keys.settings_key_dir(bad)
