"""Offline verification of a signed riskreg report: the PDF and the organisation's CA, nothing else.

A report is valid only when all of these hold:

1. it parses as a PDF and carries exactly one signature, a ``/Sig`` (not a document timestamp);
2. pyHanko's ``bottom_line`` is True: the signed bytes are intact, the signature value
   verifies, the signing certificate chains to one of the given CA certificates, a signature
   timestamp (if any) is intact and chains to a given TSA root, and nothing disallowed was
   appended after signing;
3. the modification level is NONE or LTA_UPDATES: the signature covers the whole file, or later
   revisions only add validation data or document timestamps. ``bottom_line`` alone accepts
   form filling after an approval signature; a report has nothing to fill in;
4. in the signed revision (the bytes the signature covers), the XMP metadata holds
   ``riskreg:ManifestSHA256`` and exactly one embedded file is named ``manifest.json``, and the
   SHA-256 of that file's bytes equals the XMP value; the manifest is a JSON object.

Any exception (corrupt CMS, truncated file, random bytes) makes the report invalid with a short
reason: ``verify_pdf`` never raises. This module is the one implementation: the server's
``reports.signing.verify_pdf`` calls it. It imports pyHanko (the ``verify`` extra) and nothing
from the server.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from pyhanko.keys import load_certs_from_pemder_data  # noqa: TID251 - pyHanko's home in the client
from pyhanko.pdf_utils import generic  # noqa: TID251 - pyHanko's home in the client
from pyhanko.pdf_utils.metadata.model import (  # noqa: TID251 - pyHanko's home in the client
    ExpandedName,
    XmpValue,
)
from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream  # noqa: TID251 - see above
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: TID251 - pyHanko's home in the client
from pyhanko.sign.diff_analysis import ModificationLevel  # noqa: TID251 - see above
from pyhanko.sign.validation import (  # noqa: TID251 - pyHanko's home in the client
    EmbeddedPdfSignature,
    PdfSignatureStatus,
    validate_pdf_signature,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel  # noqa: TID251 - see above
from pyhanko_certvalidator import ValidationContext

# The XMP namespace of riskreg's own report properties (declared as a PDF/A extension schema).
RISKREG_XMP_NS = "urn:riskreg:report:1.0#"
RISKREG_XMP_PREFIX = "riskreg"
MANIFEST_PROPERTY = "ManifestSHA256"
MANIFEST_NAME = "manifest.json"
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# Name trees deeper or wider than this are not something riskreg writes.
_MAX_TREE_DEPTH = 8
_MAX_TREE_NODES = 1000
_ACCEPTED_LEVELS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
# asn1crypto.x509.Certificate; asn1crypto ships no type information.
_Certificate = Any


@dataclass(frozen=True)
class Verdict:
    """The answer for one report: valid or not, why, and what was signed."""

    valid: bool
    reason: str
    signer: str | None = None
    signed_at: datetime | None = None
    manifest: dict[str, Any] | None = None
    manifest_sha256: str | None = None
    level: str | None = None  # "B-B" or "B-T"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["signed_at"] = self.signed_at.isoformat() if self.signed_at else None
        return data


class ReportInvalidError(ValueError):
    """A rule failed; the message is the verdict's reason."""


def verify_pdf(
    pdf: bytes,
    *,
    trust_roots: Sequence[bytes],
    tsa_roots: Sequence[bytes] | None = None,
) -> Verdict:
    """Check a signed report against the organisation CA (PEM or DER); never raises.

    ``tsa_roots`` are trusted for signature timestamps only (default: ``trust_roots``), so
    trusting a public TSA's root never makes that root's other certificates report signers.
    """
    try:
        roots = _certificates(trust_roots)
        ts_roots = roots if tsa_roots is None else _certificates(tsa_roots)
    except Exception as exc:  # noqa: BLE001 - asn1crypto raises many types on garbage
        return Verdict(valid=False, reason=f"a trust root is not a certificate ({_short(exc)})")
    try:
        return _verify(pdf, roots, ts_roots)
    except ReportInvalidError as refused:
        return Verdict(valid=False, reason=str(refused))
    except Exception as exc:  # noqa: BLE001 - whatever else breaks makes the report invalid, never a crash
        return Verdict(valid=False, reason=f"cannot verify ({_short(exc)})")


def _verify(pdf: bytes, roots: list[_Certificate], ts_roots: list[_Certificate]) -> Verdict:
    if not roots:
        raise ReportInvalidError("no trust root given")
    if not pdf.startswith(b"%PDF-"):
        raise ReportInvalidError("not a PDF file")
    try:
        reader = PdfFileReader(BytesIO(pdf))
    except Exception as exc:
        raise ReportInvalidError(f"unreadable PDF ({_short(exc)})") from exc
    try:
        signatures = reader.embedded_signatures  # parses each signature's CMS
    except Exception as exc:
        raise ReportInvalidError(f"corrupt signature ({_short(exc)})") from exc
    if not signatures:
        raise ReportInvalidError("the PDF is not signed")
    if len(signatures) != 1:
        raise ReportInvalidError(f"{len(signatures)} signatures; a report carries exactly one")
    signature = signatures[0]
    if signature.sig_object_type != "/Sig":
        raise ReportInvalidError("the only signature is a document timestamp")
    try:
        # pyHanko raises, rather than reports, on a corrupt CMS blob (docs pitfalls).
        status = validate_pdf_signature(
            signature,
            signer_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False),
            ts_validation_context=ValidationContext(trust_roots=ts_roots, allow_fetching=False),
        )
    except Exception as exc:
        raise ReportInvalidError(f"corrupt signature ({_short(exc)})") from exc
    _check_status(status)
    signed = _signed_revision(pdf, signature)
    xmp_sha = xmp_manifest_sha256(signed)
    if xmp_sha is None:
        raise ReportInvalidError("the signed XMP metadata has no riskreg:ManifestSHA256")
    manifest_bytes, manifest = read_manifest(signed)
    actual = hashlib.sha256(manifest_bytes).hexdigest()
    if actual != xmp_sha:
        raise ReportInvalidError("the embedded manifest.json does not match the signed hash")
    signer = _common_name(status.signing_cert)
    timestamp = status.timestamp_validity
    level = "B-T" if timestamp is not None else "B-B"
    return Verdict(
        valid=True,
        reason=f"signed by {signer} ({level}); manifest sha256 {actual[:16]}... matches",
        signer=signer,
        signed_at=timestamp.timestamp if timestamp is not None else status.signer_reported_dt,
        manifest=manifest,
        manifest_sha256=actual,
        level=level,
    )


def _check_status(status: PdfSignatureStatus) -> None:
    """Name the first failed check, most specific first; pass only on bottom_line."""
    if not status.intact:
        raise ReportInvalidError("the signed bytes were changed (digest mismatch)")
    if not status.valid:
        raise ReportInvalidError("the signature value does not verify")
    if not status.trusted:
        raise ReportInvalidError("the signing certificate does not chain to the given CA")
    ts = status.timestamp_validity
    if ts is not None and not (ts.intact and ts.valid and ts.trusted):
        raise ReportInvalidError("the signature timestamp is not valid or not from a trusted TSA")
    if status.coverage is None or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        raise ReportInvalidError("the signature does not cover a whole revision of the file")
    level = status.modification_level
    if not status.docmdp_ok or level not in _ACCEPTED_LEVELS:
        name = level.name.lower() if level is not None else "unknown"
        raise ReportInvalidError(f"the document was changed after signing (level {name})")
    if not status.bottom_line:
        raise ReportInvalidError("pyHanko judges the signature invalid")


def _signed_revision(pdf: bytes, signature: EmbeddedPdfSignature) -> bytes:
    """The bytes of the revision the signature covers (a whole PDF on its own)."""
    _, _, start2, len2 = (int(x) for x in signature.byte_range)
    return pdf[: start2 + len2]


def xmp_manifest_sha256(pdf: bytes) -> str | None:
    """The ``riskreg:ManifestSHA256`` XMP value of the PDF's newest revision, lowercase hex."""
    reader = PdfFileReader(BytesIO(pdf))
    try:
        metadata = reader.root["/Metadata"]
    except KeyError:
        return None
    if not isinstance(metadata, MetadataStream):
        return None
    wanted = ExpandedName(ns=RISKREG_XMP_NS, local_name=MANIFEST_PROPERTY)
    values = [value for root in metadata.xmp for name, value in root if name == wanted]
    if len(values) != 1 or not isinstance(values[0], XmpValue):
        return None
    text = values[0].value
    if not isinstance(text, str) or not _SHA256_HEX.fullmatch(text.strip().lower()):
        return None
    return text.strip().lower()


def read_manifest(pdf: bytes) -> tuple[bytes, dict[str, Any]]:
    """The embedded ``manifest.json`` of the PDF's newest revision: its bytes and its JSON.

    Raises:
        ReportInvalidError: no such file, more than one, or not a JSON object (a ValueError).
    """
    reader = PdfFileReader(BytesIO(pdf))
    specs = [spec for name, spec in _embedded_files(reader) if name == MANIFEST_NAME]
    if len(specs) != 1:
        raise ReportInvalidError(f"expected one embedded {MANIFEST_NAME}, found {len(specs)}")
    stream = specs[0]["/EF"]["/F"]
    if not isinstance(stream, generic.StreamObject):
        raise ReportInvalidError(f"{MANIFEST_NAME} is not an embedded file stream")
    data: bytes = stream.data
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise ReportInvalidError(f"{MANIFEST_NAME} is not valid JSON") from exc
    if not isinstance(manifest, dict):
        raise ReportInvalidError(f"{MANIFEST_NAME} is not a JSON object")
    return data, manifest


def _embedded_files(reader: PdfFileReader) -> Iterator[tuple[str, generic.DictionaryObject]]:
    """(name, file specification) pairs of the catalog's /EmbeddedFiles name tree."""
    try:
        tree = reader.root["/Names"]["/EmbeddedFiles"]
    except KeyError:
        return
    pending: list[tuple[generic.DictionaryObject, int]] = [(tree, 0)]
    visited = 0
    while pending:
        node, depth = pending.pop()
        visited += 1
        if depth > _MAX_TREE_DEPTH or visited > _MAX_TREE_NODES:
            raise ReportInvalidError("the embedded-files name tree is malformed")
        names = _array(node, "/Names")
        for i in range(0, len(names) - 1, 2):
            spec = names[i + 1]  # indexing resolves indirect objects; iterating would not
            if isinstance(spec, generic.DictionaryObject):
                yield str(names[i]), spec
        kids = _array(node, "/Kids")
        pending.extend((kids[i], depth + 1) for i in range(len(kids)))


def _array(node: generic.DictionaryObject, key: str) -> generic.ArrayObject:
    try:
        value = node[key]
    except KeyError:
        return generic.ArrayObject()
    if not isinstance(value, generic.ArrayObject):
        raise ReportInvalidError("the embedded-files name tree is malformed")
    return value


def _certificates(data: Sequence[bytes]) -> list[_Certificate]:
    """Certificates from PEM (one or several per item) or DER; raises on anything else."""
    certs = [cert for item in data for cert in load_certs_from_pemder_data(item)]
    for cert in certs:
        _ = cert.subject  # asn1crypto parses lazily: find a bad certificate now
    return certs


def load_trust_roots(data: bytes) -> list[bytes]:
    """Split a PEM bundle into certificates (DER); raises ValueError when there is none."""
    try:
        certs = _certificates([data])
    except Exception as exc:
        raise ValueError(f"not a PEM or DER certificate ({_short(exc)})") from exc
    if not certs:
        raise ValueError("no certificate found")
    return [cert.dump() for cert in certs]


def _common_name(cert: _Certificate) -> str:
    native = cert.subject.native
    name = native.get("common_name") if isinstance(native, dict) else None
    return str(name) if name else str(cert.subject.human_friendly)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = text[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
