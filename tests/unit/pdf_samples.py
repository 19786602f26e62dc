"""Small PDF/A-3b samples with an embedded manifest.json, built the way reports/rendering.py does.

Dates are fixed, so a sample renders byte-identically every time.
"""

import datetime as dt
import hashlib
import json
import warnings
from typing import Any

from weasyprint import HTML, Attachment  # noqa: TID251 - test sample

SAMPLE_DATE = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
SAMPLE_MANIFEST: dict[str, Any] = {
    "report": "RPT-0001",
    "organisation": "acme",
    "evidence": [{"id": "EV-1", "sha256": "ab" * 32}],
    "audit_head": "cd" * 32,
}
_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="author" content="riskreg"></head>
<body><h1>{title}</h1><p>Posture of the sample system: MEASURE 2.11 met.</p>
<p>Page content that a tamperer would like to change.</p></body></html>"""


def manifest_bytes(manifest: dict[str, Any] | None = None) -> bytes:
    """The manifest as reports/rendering.py embeds it: compact, sorted JSON (UTF-8)."""
    data = SAMPLE_MANIFEST if manifest is None else manifest
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sample_pdf(manifest: dict[str, Any] | None = None, *, title: str = "AI risk report") -> bytes:
    """An unsigned PDF/A-3b report with manifest.json attached (AFRelationship /Data)."""
    attachment = Attachment(
        string=manifest_bytes(manifest).decode(),
        name="manifest.json",
        relationship="Data",
        created=SAMPLE_DATE,
        modified=SAMPLE_DATE,
    )
    document = HTML(string=_HTML.format(title=title))
    with warnings.catch_warnings():
        # WeasyPrint 70 never closes its bundled sRGB profile (as in reports/rendering.py).
        warnings.filterwarnings(
            "ignore", message=r"unclosed file .*sRGB2014\.icc", category=ResourceWarning
        )
        pdf: bytes = document.write_pdf(pdf_variant="pdf/a-3b", attachments=[attachment])
    return pdf


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
