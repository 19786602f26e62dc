"""PAdES signing of rendered reports, with the manifest's SHA-256 in the signed XMP.

pyHanko's one home on the server (the client's verifier is the other). ``sign_pdf`` appends one
incremental update that (a) rewrites the XMP packet with everything WeasyPrint wrote (PDF/A-3b
identification included), plus ``riskreg:ManifestSHA256`` and the PDF/A extension schema that
declares it, (b) sets the same Producer in XMP and in the Info dictionary, and (c) holds the
signature, which therefore covers (a) and (b).

Verification is ``riskreg_client.verify`` (installed into the server's environment with the
``verify`` extra): one algorithm for the server and for auditors' offline ``riskreg verify``.
"""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

from cryptography.hazmat.primitives import serialization
from lxml import etree  # type: ignore[import-untyped]  # pyHanko's XMP is lxml; no stubs
from pyhanko import keys as pyhanko_keys  # noqa: TID251 - pyHanko's one home
from pyhanko.pdf_utils import generic, misc  # noqa: TID251 - pyHanko's one home
from pyhanko.pdf_utils.incremental_writer import (  # noqa: TID251 - pyHanko's one home
    IncrementalPdfFileWriter,
)
from pyhanko.pdf_utils.metadata import model as xmp  # noqa: TID251 - pyHanko's one home
from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream  # noqa: TID251 - pyHanko's one home
from pyhanko.sign import fields, signers, timestamps  # noqa: TID251 - pyHanko's one home
from pyhanko.sign.general import SigningError  # noqa: TID251 - pyHanko's one home
from pyhanko_certvalidator.registry import SimpleCertificateStore
from riskreg_client.verify import (
    MANIFEST_PROPERTY,
    RISKREG_XMP_NS,
    RISKREG_XMP_PREFIX,
    ReportInvalidError,
    Verdict,
    read_manifest,
    verify_pdf,
    xmp_manifest_sha256,
)

from reports.keys import SigningMaterial

__all__ = [
    "ReportInvalidError",
    "ReportSigningError",
    "Verdict",
    "read_manifest",
    "sign_pdf",
    "verify_pdf",
    "xmp_manifest_sha256",
]

SIGNATURE_FIELD = "riskreg-report"
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
_PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"
_PDFA_EXTENSION = "http://www.aiim.org/pdfa/ns/extension/"
_SCHEMAS = xmp.ExpandedName(_PDFA_EXTENSION, "schemas")
_MANIFEST = xmp.ExpandedName(RISKREG_XMP_NS, MANIFEST_PROPERTY)

# Without a registered prefix lxml writes "ns0:"; PDF/A wants the prefix its schema declares.
etree.register_namespace(RISKREG_XMP_PREFIX, RISKREG_XMP_NS)


class ReportSigningError(Exception):
    """The PDF cannot be signed as a report (not PDF/A, already signed, TSA unreachable)."""


class _ReportWriter(IncrementalPdfFileWriter):
    """An incremental writer that writes the metadata exactly as ``sign_pdf`` set it.

    pyHanko 0.38 rewrites metadata on every write (``BasePdfFileWriter._update_meta``): XMP
    ``pdf:Producer`` becomes "pyHanko 0.38.0" and ``xmp:ModifyDate`` "now", while Info's
    ``/Producer`` becomes "<old>; pyHanko 0.38.0" and ``/ModDate`` (if present) a second "now":
    Info and XMP disagree, which PDF/A forbids. ``sign_pdf`` writes both consistently instead.
    The method is private pyHanko API: the Producer test in tests/unit/test_report_signing.py
    fails if an upgrade renames it.
    """

    def _update_meta(self) -> None:
        return None


def sign_pdf(
    pdf: bytes,
    *,
    signer: SigningMaterial,
    manifest_sha256: str,
    reason: str,
    timestamp_url: str | None = None,
    timestamper: Any = None,
) -> bytes:
    """Sign a rendered PDF/A-3b report (PAdES B-B, or B-T with a timestamp authority).

    ``timestamper`` (a pyHanko ``TimeStamper``) wins over ``timestamp_url``; with neither, B-B.

    Raises:
        ReportSigningError: not a PDF with XMP metadata, already signed, a bad hash, the
            timestamp authority failed, or pyHanko refused the key (e.g. no nonRepudiation).
    """
    if not _SHA256_HEX.fullmatch(manifest_sha256):
        raise ReportSigningError("manifest_sha256 must be 64 lowercase hex digits")
    try:
        writer = _ReportWriter(BytesIO(pdf))
    except misc.PdfReadError as exc:
        raise ReportSigningError(f"not a readable PDF: {exc}") from exc
    if writer.prev.embedded_signatures:
        raise ReportSigningError("the PDF is already signed")
    producer = _write_metadata(writer, manifest_sha256)
    _set_info_producer(writer, producer)
    if timestamper is None and timestamp_url:
        timestamper = timestamps.HTTPTimeStamper(timestamp_url, timeout=10)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        reason=reason,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        # A certification signature that allows no change: viewers flag any later edit.
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    pdf_signer = signers.PdfSigner(metadata, _pyhanko_signer(signer), timestamper=timestamper)
    try:
        output = pdf_signer.sign_pdf(writer)
    except timestamps.TimestampRequestError as exc:
        raise ReportSigningError(f"the timestamp authority failed: {exc}") from exc
    except SigningError as exc:
        raise ReportSigningError(f"pyHanko could not sign: {exc}") from exc
    signed: bytes = output.getvalue()
    return signed


def _write_metadata(writer: IncrementalPdfFileWriter, manifest_sha256: str) -> str:
    """Replace the XMP packet with WeasyPrint's fields plus ours; return the Producer it names."""
    try:
        current = writer.root["/Metadata"]
    except KeyError:
        current = None
    if not isinstance(current, MetadataStream):
        raise ReportSigningError("the PDF has no XMP metadata; render it as PDF/A-3b")
    roots = [dict(root) for root in current.xmp]
    producer = _combined_producer(roots)
    schemas: xmp.XmpValue | None = None
    for fields_ in roots:
        fields_.pop(_MANIFEST, None)
        if xmp.PDF_PRODUCER in fields_:
            fields_[xmp.PDF_PRODUCER] = xmp.XmpValue(producer)
        schemas = fields_.get(_SCHEMAS, schemas)
    ours: dict[xmp.ExpandedName, xmp.XmpValue] = {_MANIFEST: xmp.XmpValue(manifest_sha256)}
    if not any(xmp.PDF_PRODUCER in fields_ for fields_ in roots):
        ours[xmp.PDF_PRODUCER] = xmp.XmpValue(producer)
    if schemas is None:
        ours[_SCHEMAS] = xmp.XmpValue(xmp.XmpArray.unordered([_riskreg_schema()]))
    elif isinstance(schemas.value, xmp.XmpArray) and _riskreg_schema() not in schemas.value.entries:
        schemas.value.entries.append(_riskreg_schema())
    structures = [xmp.XmpStructure(fields_) for fields_ in roots if fields_]
    stream = MetadataStream.from_xmp([*structures, xmp.XmpStructure(ours)])
    writer.root["/Metadata"] = writer.add_object(stream)
    writer.mark_update(writer.root_ref)
    return producer


def _combined_producer(roots: list[dict[xmp.ExpandedName, xmp.XmpValue]]) -> str:
    """The renderer's Producer followed by pyHanko's, as pyHanko itself chains them."""
    found = [f[xmp.PDF_PRODUCER].value for f in roots if xmp.PDF_PRODUCER in f]
    base = found[0] if found and isinstance(found[0], str) else ""
    if xmp.VENDOR in base:
        return base
    return f"{base}; {xmp.VENDOR}" if base else xmp.VENDOR


def _riskreg_schema() -> xmp.XmpValue:
    """The PDF/A extension schema entry that declares ``riskreg:ManifestSHA256``."""
    prop = xmp.XmpStructure.of(
        (xmp.ExpandedName(_PDFA_PROPERTY, "name"), xmp.XmpValue(MANIFEST_PROPERTY)),
        (xmp.ExpandedName(_PDFA_PROPERTY, "valueType"), xmp.XmpValue("Text")),
        (xmp.ExpandedName(_PDFA_PROPERTY, "category"), xmp.XmpValue("external")),
        (
            xmp.ExpandedName(_PDFA_PROPERTY, "description"),
            xmp.XmpValue("SHA-256 (lowercase hex) of the embedded manifest.json"),
        ),
    )
    schema = xmp.XmpStructure.of(
        (xmp.ExpandedName(_PDFA_SCHEMA, "schema"), xmp.XmpValue("riskreg report properties")),
        (xmp.ExpandedName(_PDFA_SCHEMA, "namespaceURI"), xmp.XmpValue(RISKREG_XMP_NS)),
        (xmp.ExpandedName(_PDFA_SCHEMA, "prefix"), xmp.XmpValue(RISKREG_XMP_PREFIX)),
        (
            xmp.ExpandedName(_PDFA_SCHEMA, "property"),
            xmp.XmpValue(xmp.XmpArray.ordered([xmp.XmpValue(prop)])),
        ),
    )
    return xmp.XmpValue(schema)


def _set_info_producer(writer: IncrementalPdfFileWriter, producer: str) -> None:
    """Give Info the XMP's Producer (PDF/A: Info entries must equal their XMP twins)."""
    try:
        info_ref = writer.trailer_view.raw_get("/Info")
    except KeyError:
        return  # no Info dictionary: nothing to keep consistent
    info = info_ref.get_object()
    info["/Producer"] = generic.TextStringObject(producer)
    writer.mark_update(info_ref)


def _pyhanko_signer(material: SigningMaterial) -> signers.SimpleSigner:
    der = serialization.Encoding.DER
    key_der = material.key.private_bytes(
        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (cert,) = pyhanko_keys.load_certs_from_pemder_data(material.cert.public_bytes(der))
    chain = [
        c
        for ca in material.chain
        for c in pyhanko_keys.load_certs_from_pemder_data(ca.public_bytes(der))
    ]
    return signers.SimpleSigner(
        signing_cert=cert,
        signing_key=pyhanko_keys.load_private_key_from_pemder_data(key_der, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
    )
