"""Render a report snapshot to a PDF/A-3b with its manifest embedded: a pure function.

No database and no models: `render_report` reads the snapshot (reports/snapshot_schema.json)
and the approval, and nothing else. The only module that imports WeasyPrint.

Safety: user text reaches WeasyPrint only inside HTML produced by Django's template engine
with autoescape on; the one resource loader WeasyPrint gets is `StaticOnlyFetcher`, which
serves files from reports/static/reports/ and refuses everything else.

Reproducibility: document and attachment dates are the snapshot's `generated_at`, the PDF
identifier derives from the snapshot hash, and the charts are deterministic SVG, so the same
snapshot and approval always give the same bytes.
"""

import hashlib
import json
import logging
import mimetypes
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.template.loader import render_to_string
from weasyprint import HTML, Attachment  # type: ignore[import-untyped]  # noqa: TID251 - WeasyPrint's one home
from weasyprint.urls import (  # type: ignore[import-untyped]  # noqa: TID251 - WeasyPrint's one home
    URLFetcher,
    URLFetcherResponse,
)

from reports.context import TEMPLATE_VERSION, report_context
from reports.formatting import printable, utc

STATIC_DIR = Path(__file__).resolve().parent / "static" / "reports"
TEMPLATES = {
    "system": "reports/system.html",
    "register": "reports/register.html",
    "annex-iv": "reports/annex_iv.html",
}
MIME_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf", ".woff2": "font/woff2"}

# WeasyPrint logs every layout step of every page at INFO; a worker's log needs none of it.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    manifest: dict[str, Any]
    manifest_sha256: str  # SHA-256 of the manifest.json bytes embedded in the PDF


class ResourceRefusedError(ValueError):
    """A URL outside the report's static files; WeasyPrint logs it and leaves the resource out."""


class StaticOnlyFetcher(URLFetcher):
    """Serve `file://` URLs inside the reports static directory; refuse everything else.

    Paths are resolved (symlinks followed) before the check, so a link inside the directory
    pointing outside it is refused. `refused` and `served` record every decision.
    """

    def __init__(self, root: Path = STATIC_DIR) -> None:
        super().__init__(allowed_protocols=("file",), timeout=1, allow_redirects=False)
        self.root = root.resolve()
        self.refused: list[str] = []
        self.served: list[Path] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = self.allowed_path(url)
        if path is None:
            self.refused.append(url)
            raise ResourceRefusedError(f"not one of the report's static files: {url[:200]}")
        self.served.append(path)
        content_type = MIME_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        headers = {"Content-Type": content_type or "application/octet-stream"}
        return URLFetcherResponse(url, body=path.read_bytes(), headers=headers)

    def allowed_path(self, url: str) -> Path | None:
        """The file `url` names when it lies inside the static directory, else None."""
        try:
            parts = urlsplit(url)
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
                return None
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, ValueError):  # unparsable, a NUL byte, missing, a symlink loop
            return None
        if not path.is_file() or not path.is_relative_to(self.root):
            return None
        return path


def render_report(
    snapshot: dict[str, Any],
    *,
    snapshot_sha256: str,
    approval: dict[str, Any] | None,
    fetcher: StaticOnlyFetcher | None = None,
) -> Rendered:
    """Render a snapshot as a PDF/A-3b report; `approval` None gives the watermarked draft.

    `fetcher` is for tests that inspect what was served and refused; by default a fresh
    StaticOnlyFetcher.

    Raises:
        ValueError: the snapshot's report kind is unknown.
    """
    kind = snapshot["report"]["kind"]
    if kind not in TEMPLATES:
        raise ValueError(f"unknown report kind {kind!r}")
    manifest = build_manifest(snapshot, snapshot_sha256=snapshot_sha256, approval=approval)
    data = manifest_bytes(manifest)
    digest = hashlib.sha256(data).hexdigest()
    cleaned = printable(snapshot)
    context = report_context(
        cleaned,
        snapshot_sha256=snapshot_sha256,
        manifest_sha256=digest,
        approval=printable(approval),
    )
    html = render_to_string(TEMPLATES[kind], context)
    generated = utc(snapshot["report"]["generated_at"])
    pdf = pdf_from_html(
        html,
        fetcher=fetcher or StaticOnlyFetcher(),
        manifest=data,
        when=generated,
        identifier=snapshot_sha256[:32].encode("ascii"),
    )
    return Rendered(pdf=pdf, manifest=manifest, manifest_sha256=digest)


def build_manifest(
    snapshot: Mapping[str, Any], *, snapshot_sha256: str, approval: dict[str, Any] | None
) -> dict[str, Any]:
    """What the PDF carries as manifest.json: enough to find and check everything it cites."""
    report = snapshot["report"]
    system = snapshot.get("system")
    scope = (
        {"system": system["slug"]} if system else {"organisation": report["organisation"]["slug"]}
    )
    return {
        "report_id": report["id"],
        "kind": report["kind"],
        "scope": scope,
        "period": {"from": report["period"]["from"], "to": report["period"]["to"]},
        "snapshot_sha256": snapshot_sha256,
        "audit_chain_head": snapshot["audit"]["head"],
        "template_version": TEMPLATE_VERSION,
        "generator_version": report["generator_version"],
        "approver": dict(approval) if approval is not None else None,
    }


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The embedded manifest.json: compact JSON with sorted keys, UTF-8."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pdf_from_html(
    html: str, *, fetcher: StaticOnlyFetcher, manifest: bytes, when: datetime, identifier: bytes
) -> bytes:
    """PDF/A-3b of `html` with `manifest` attached as manifest.json, dated `when` (aware).

    `html` must come from the report templates (user text escaped); every resource it names
    goes through `fetcher`.
    """
    document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher)
    attachment = Attachment(
        string=manifest,
        name="manifest.json",
        description="riskreg report manifest",
        relationship="Data",
        created=when,
        modified=when,
        url_fetcher=fetcher,
    )
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its bundled sRGB profile for the PDF/A output intent and
        # never closes it; the file is its own package data, not anything we read.
        warnings.filterwarnings(
            "ignore", message=r"unclosed file .*sRGB2014\.icc", category=ResourceWarning
        )
        pdf: bytes = document.write_pdf(
            pdf_variant="pdf/a-3b", attachments=[attachment], pdf_identifier=identifier
        )
    return pdf
