"""The report renderer: snapshot in, reproducible PDF/A-3b with its manifest out.

No database: render_report is a pure function of the snapshot and the approval. Each kind is
rendered once per module (about 0.15 s a page on two cores) and the tests read those PDFs.
"""

import difflib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reports import charts
from reports.rendering import (
    STATIC_DIR,
    TEMPLATE_VERSION,
    Rendered,
    StaticOnlyFetcher,
    manifest_bytes,
    pdf_from_html,
    render_report,
)
from tests.unit.report_samples import (
    APPROVAL,
    EVIDENCE_IDS,
    LONG_WORD,
    SNAPSHOT_SHA256,
    hostile_snapshot,
    sample_snapshot,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "reports" / "snapshot_schema.json").read_text(encoding="utf-8"))
ARTIFACTS = ROOT / "artifacts" / "reports"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class Render:
    """One render and what was observed while it ran."""

    rendered: Rendered
    fetcher: StaticOnlyFetcher
    log: list[logging.LogRecord] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    connected: list[Any] = field(default_factory=list)

    @property
    def pdf(self) -> bytes:
        return self.rendered.pdf


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# Audit hooks cannot be removed: this one records only while a render is being watched.
_WATCH: dict[str, list[Any]] = {}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _WATCH:
        return
    if event == "open" and args and isinstance(args[0], str | bytes | Path):
        _WATCH["opened"].append(str(args[0]))
    elif event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
        _WATCH["connected"].append((event, args[:2]))


sys.addaudithook(_audit)


def _render(snapshot: dict[str, Any], approval: dict[str, Any] | None = None) -> Render:
    fetcher = StaticOnlyFetcher()
    capture = _Capture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(capture)
    _WATCH.update(opened=[], connected=[])
    try:
        rendered = render_report(
            snapshot, snapshot_sha256=SNAPSHOT_SHA256, approval=approval, fetcher=fetcher
        )
        watched = dict(_WATCH)
    finally:
        _WATCH.clear()
        logger.removeHandler(capture)
    return Render(rendered, fetcher, capture.records, watched["opened"], watched["connected"])


@pytest.fixture(scope="module")
def renders() -> dict[str, Render]:
    return {
        "system": _render(sample_snapshot("system")),
        "system-final": _render(sample_snapshot("system"), APPROVAL),
        "register": _render(sample_snapshot("register")),
        "annex-iv": _render(sample_snapshot("annex-iv")),
        "no-evidence": _render(sample_snapshot("system", evidence=False)),
        "hostile": _render(hostile_snapshot("system")),
    }


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def _text(pdf: bytes, *options: str) -> str:
    result = subprocess.run(
        [_tool("pdftotext"), *options, "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def _pages(pdf: bytes, *options: str) -> list[str]:
    return _text(pdf, *options).split("\f")[:-1]  # pdftotext ends every page with a form feed


def _streams(pdf: bytes) -> Iterator[bytes]:
    """Every stream's content, inflated where it is compressed."""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            yield zlib.decompress(match[1])
        except zlib.error:
            yield match[1]


def _inspectable(pdf: bytes) -> bytes:
    return pdf + b"\n".join(_streams(pdf))


# --- the snapshot schema ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "snapshot",
    [
        sample_snapshot("system"),
        sample_snapshot("register"),
        sample_snapshot("annex-iv"),
        sample_snapshot("system", evidence=False),
        hostile_snapshot("system"),
    ],
    ids=["system", "register", "annex-iv", "no-evidence", "hostile"],
)
def test_sample_snapshots_follow_the_schema(snapshot: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(SCHEMA)
    validator = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [error.message for error in validator.iter_errors(snapshot)] == []


def test_schema_refuses_a_register_snapshot_that_names_a_system() -> None:
    snapshot = sample_snapshot("register")
    snapshot["system"] = sample_snapshot("system")["system"]
    assert not Draft202012Validator(SCHEMA).is_valid(snapshot)


def test_schema_refuses_unknown_fields_and_naive_datetimes() -> None:
    extra = sample_snapshot("system")
    extra["risks"][0]["colour"] = "red"
    naive = sample_snapshot("system")
    naive["report"]["generated_at"] = "2026-11-20T09:30:00"
    validator = Draft202012Validator(SCHEMA)
    assert not validator.is_valid(extra)
    assert not validator.is_valid(naive)


# --- every kind renders as PDF/A-3b ----------------------------------------------------------


@pytest.mark.parametrize("name", ["system", "register", "annex-iv", "no-evidence"])
def test_each_kind_renders_a_pdf_a3b_with_its_manifest_embedded(
    renders: dict[str, Render], name: str
) -> None:
    render = renders[name]
    pdf, manifest = render.pdf, render.rendered.manifest
    inspectable = _inspectable(pdf)
    assert pdf.startswith(b"%PDF-1.7")
    assert b'pdfaid:part="3"' in inspectable
    assert b'pdfaid:conformance="B"' in inspectable
    assert b"/GTS_PDFA1" in inspectable
    assert b"/OutputIntent" in inspectable
    assert b"/AFRelationship /Data" in inspectable
    assert b"(manifest.json)" in inspectable
    embedded = manifest_bytes(manifest)
    assert embedded in set(_streams(pdf))
    assert hashlib.sha256(embedded).hexdigest() == render.rendered.manifest_sha256
    assert manifest["template_version"] == TEMPLATE_VERSION
    assert manifest["snapshot_sha256"] == SNAPSHOT_SHA256
    text = _text(pdf)
    assert text.count(render.rendered.manifest_sha256) >= 2  # cover and approval page
    assert render.fetcher.refused == []
    assert render.fetcher.served == [STATIC_DIR / "report.css"]
    assert [r.getMessage() for r in render.log] == []


@pytest.mark.parametrize("name", ["system", "register", "annex-iv"])
def test_every_font_in_a_report_is_embedded(renders: dict[str, Render], name: str) -> None:
    result = subprocess.run(
        [_tool("pdffonts"), "-"], input=renders[name].pdf, capture_output=True, check=True
    )
    rows = result.stdout.decode().splitlines()[2:]
    assert rows, "no fonts found"
    assert all(row.split()[-5] == "yes" for row in rows), rows


def test_manifest_names_the_scope_period_chain_head_and_approver(
    renders: dict[str, Render],
) -> None:
    draft = renders["system"].rendered.manifest
    final = renders["system-final"].rendered.manifest
    register = renders["register"].rendered.manifest
    assert draft["scope"] == {"system": "credit-scoring"}
    assert register["scope"] == {"organisation": "acme"}
    assert draft["period"] == {"from": "2026-01-01", "to": "2026-11-20"}
    assert draft["audit_chain_head"] == sample_snapshot()["audit"]["head"]
    assert draft["approver"] is None
    assert final["approver"] == APPROVAL
    assert {k: v for k, v in final.items() if k != "approver"} == {
        k: v for k, v in draft.items() if k != "approver"
    }


def test_rendering_the_same_snapshot_twice_gives_identical_bytes(
    renders: dict[str, Render],
) -> None:
    again = _render(sample_snapshot("system"))
    assert again.pdf == renders["system"].pdf
    assert again.rendered.manifest_sha256 == renders["system"].rendered.manifest_sha256


RENDER_ELSEWHERE = """
import hashlib, os, sys
import django
django.setup()
from reports.rendering import render_report
from tests.unit.report_samples import APPROVAL, SNAPSHOT_SHA256, sample_snapshot
pdf = render_report(sample_snapshot(), snapshot_sha256=SNAPSHOT_SHA256, approval=APPROVAL).pdf
sys.stdout.write(hashlib.sha256(pdf).hexdigest())
"""


def test_another_process_renders_the_same_bytes(renders: dict[str, Render]) -> None:
    """A worker re-rendering the final (other process, other hash seed) gets the same file."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "-c", RENDER_ELSEWHERE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.decode() == hashlib.sha256(renders["system-final"].pdf).hexdigest()


def test_pdf_dates_are_the_snapshot_generation_time(renders: dict[str, Render]) -> None:
    result = subprocess.run(
        [_tool("pdfinfo"), "-isodates", "-"],
        input=renders["system"].pdf,
        capture_output=True,
        check=True,
    )
    info = result.stdout.decode()
    # generated_at is 2026-11-20T09:30:00+01:00; the PDF states it in UTC.
    assert re.search(r"CreationDate:\s+2026-11-20T08:30:00", info)
    assert re.search(r"ModDate:\s+2026-11-20T08:30:00", info)


# --- draft and final ---------------------------------------------------------------------------


def test_draft_is_watermarked_on_every_page_and_says_not_approved(
    renders: dict[str, Render],
) -> None:
    pages = _pages(renders["system"].pdf, "-raw")
    assert len(pages) > 10
    # The rotated watermark and the footer each say it on every page.
    assert all(page.count("DRAFT") >= 2 for page in pages)
    assert "Not approved — draft" in pages[-1]


def test_final_differs_from_draft_only_by_watermark_and_approval(
    renders: dict[str, Render],
) -> None:
    draft = _text(renders["system"].pdf, "-raw").splitlines()
    final = _text(renders["system-final"].pdf, "-raw").splitlines()
    removed, added = _changed_lines(draft, final)
    draft_only = re.compile(
        r"^(DRAFT|—|not|approved)$|DRAFT — not approved|^Status draft, not approved$"
        r"|^Manifest SHA-256 |^Not approved — draft$|^This draft has not been approved|signed\.$"
    )
    final_only = re.compile(
        rf"^Approved by {APPROVAL['by']}|^Status approved$|^Manifest SHA-256 "
        rf"|^Role {APPROVAL['role']}$|^Approved at |^Note {APPROVAL['note']}$"
    )
    assert removed
    assert added
    assert [line for line in removed if not draft_only.search(line)] == []
    assert [line for line in added if not final_only.search(line)] == []
    final_text = "\n".join(final)
    assert "DRAFT" not in final_text
    for uid in EVIDENCE_IDS.values():
        assert uid in final_text


def _changed_lines(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    removed: list[str] = []
    added: list[str] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += before[i1:i2]
            added += after[j1:j2]
    return removed, added


def _subcategory_lines(text: str) -> list[str]:
    flat = " ".join(text.split())
    return re.findall(r"NIST AI 100-1 (?:GOVERN|MAP|MEASURE|MANAGE) \d+\.\d+, p\. \d+", flat)


# --- what each kind shows ---------------------------------------------------------------------


def test_system_report_lists_all_72_subcategories_with_their_nist_citation(
    renders: dict[str, Render],
) -> None:
    text = _text(renders["system"].pdf)
    cited = set(_subcategory_lines(text))
    assert len(cited) == 72
    assert "NIST AI 100-1 MEASURE 2.11, p. 30" in cited
    for heading in (
        "Executive summary",
        "Risk extract",
        "Evaluation results",
        "Data governance",
        "Incidents",
        "Regressions since the previous report",
        "Evidence index",
        "Audit trail excerpt",
        "Approval",
        "Contents",
    ):
        assert heading in text
    assert "INC-001" in text
    assert "train / test: 3 (0.0015)" in text  # overlap from the data-quality evidence
    assert "ECE 0.0273" in text  # the reliability diagram's text stays text


def test_system_without_evidence_renders_and_says_it_holds_none(
    renders: dict[str, Render],
) -> None:
    text = " ".join(_text(renders["no-evidence"].pdf).split())
    assert "riskreg holds no evidence for this report's scope and period." in text
    assert "riskreg holds no fairness evidence for this system." in text
    assert "riskreg holds no rationale for this system." in text
    assert len(set(_subcategory_lines(text))) == 72


def test_register_report_prints_the_full_risk_table(renders: dict[str, Render]) -> None:
    text = " ".join(_text(renders["register"].pdf).split())
    for reference in ("RSK-001", "RSK-002", "RSK-003", "RSK-004", "RSK-005"):
        assert reference in text
    assert "accepted by Olivia Officer until 2027-03-31" in text
    assert "Inherent risk" in text
    assert "Residual risk" in text


def test_annex_iv_report_has_its_nine_sections_and_names_what_is_missing(
    renders: dict[str, Render],
) -> None:
    text = " ".join(_text(renders["annex-iv"].pdf).split())
    for number, title in enumerate(
        (
            "General description and intended purpose",
            "Development process and data",
            "Monitoring, functioning and human oversight",
            "Performance metrics and their appropriateness",
            "Risk management system",
            "Changes through the lifecycle",
            "Harmonised standards and other standards applied",
            "EU declaration of conformity",
            "Post-market monitoring plan",
        ),
        start=1,
    ):
        assert f"{number}. {title}" in text
    assert "NIST AI RMF 1.0 mapping" in text
    assert "Not recorded in riskreg." in text
    assert "riskreg holds no monitoring plan for this system." in text


# --- hostile text and the fetcher ------------------------------------------------------------


def test_hostile_text_is_printed_as_text_and_nothing_outside_static_is_read(
    renders: dict[str, Render],
) -> None:
    render = renders["hostile"]
    text = _text(render.pdf)
    flat = " ".join(text.split())
    assert '<img src="file:///etc/passwd">' in flat
    assert "<script>alert(1)</script>" in flat
    assert "url(http://10.0.0.1/x)" in flat
    assert '<script>alert("x")</script>' in flat  # a group name, inside the fairness chart
    # Each 3,000-character word is printed whole (cover title, risk tables, root cause), and
    # wraps: no line of the page holds more than a few dozen of its letters.
    assert text.count("W") >= 4 * len(LONG_WORD)
    assert max(len(run) for run in re.findall(r"W+", text)) < 100
    assert render.fetcher.refused == []
    assert render.fetcher.served == [STATIC_DIR / "report.css"]
    assert not [p for p in render.opened if "passwd" in p or "shadow" in p]
    assert render.connected == []
    assert [r.getMessage() for r in render.log] == []


def test_weasyprint_leaves_refused_resources_out_and_still_renders(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }", encoding="utf-8")
    html = f"""<!doctype html><html><head>
    <link rel="stylesheet" href="report.css">
    <link rel="stylesheet" href="{secret.as_uri()}">
    <link rel="stylesheet" href="http://10.0.0.1/x.css">
    </head><body>
    <img src="file:///etc/passwd"><img src="data:image/png;base64,iVBORw0KGgo=">
    <div style="background: url(http://169.254.169.254/latest)">text</div>
    </body></html>"""
    fetcher = StaticOnlyFetcher()
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        pdf = pdf_from_html(html, fetcher=fetcher, manifest=b"{}", when=WHEN, identifier=b"x")
    assert pdf.startswith(b"%PDF-")
    assert set(fetcher.refused) == {
        secret.as_uri(),
        "http://10.0.0.1/x.css",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "http://169.254.169.254/latest",
    }
    assert fetcher.served == [STATIC_DIR / "report.css"]
    # WeasyPrint saw each refusal as a failed load, logged it and carried on.
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "ResourceRefusedError" in logged
    assert "/etc/passwd" in logged


def test_fetcher_serves_the_report_stylesheet() -> None:
    fetcher = StaticOnlyFetcher()
    response = fetcher.fetch((STATIC_DIR / "report.css").as_uri())
    assert response.content_type == "text/css"
    assert b"@page" in response.read()
    assert fetcher.refused == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        (STATIC_DIR / ".." / ".." / "rendering.py").as_uri(),
        (STATIC_DIR.as_uri() + "/%2e%2e/%2e%2e/rendering.py"),
        (STATIC_DIR.as_uri() + "/missing.css"),
        (STATIC_DIR.as_uri() + "/report.css%00.png"),
        "file://evil.example/etc/passwd",
        "http://10.0.0.1/x",
        "https://example.com/report.css",
        "data:text/css,body{}",
        "ftp://10.0.0.1/x",
    ],
)
def test_fetcher_refuses_anything_but_its_static_files(url: str) -> None:
    fetcher = StaticOnlyFetcher()
    with pytest.raises(ValueError, match="not one of the report's static files"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]
    assert fetcher.served == []


def test_fetcher_refuses_a_symlink_inside_static_that_points_outside(tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "ok.css").write_text("p {}", encoding="utf-8")
    outside = tmp_path / "outside.css"
    outside.write_text("p { color: red }", encoding="utf-8")
    (static / "link.css").symlink_to(outside)
    fetcher = StaticOnlyFetcher(root=static)
    assert fetcher.fetch((static / "ok.css").as_uri()).read() == b"p {}"
    with pytest.raises(ValueError, match="static files"):
        fetcher.fetch((static / "link.css").as_uri())
    assert fetcher.refused == [(static / "link.css").as_uri()]


# --- charts ----------------------------------------------------------------------------------


def test_charts_are_deterministic_svg_without_style_attributes() -> None:
    fairness = json.loads((ROOT / "fixtures/evidence/fairness.json").read_text(encoding="utf-8"))
    breakdowns = fairness["metrics"]["breakdowns"]
    breakdowns[0]["groups"][0]["group"] = {"sex": "<b>$x$</b> & co"}
    first = charts.fairness_chart(breakdowns, id_prefix="a")
    assert first == charts.fairness_chart(breakdowns, id_prefix="a")
    assert first.startswith("<svg ")
    assert "style=" not in first
    assert "<style" not in first
    assert "<metadata" not in first
    assert "&lt;b&gt;$x$&lt;/b&gt; &amp; co" in first
    assert re.findall(r'\bid="([^"]+)"', first)
    assert all(i.startswith("a-") for i in re.findall(r'\bid="([^"]+)"', first))


# --- previews for people ----------------------------------------------------------------------


def test_png_previews_of_each_kind_are_written(renders: dict[str, Render]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdftoppm = _tool("pdftoppm")
    jobs = {name: (renders[name].pdf, 1) for name in ("system", "register", "annex-iv")}
    pages = _pages(renders["system"].pdf)
    chart_page = next(n for n, page in enumerate(pages, 1) if "mean confidence" in page)
    jobs["system-charts"] = (renders["system"].pdf, chart_page)
    for name, (pdf, page) in jobs.items():
        target = ARTIFACTS / name
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                "60",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                "-",
                str(target),
            ],
            input=pdf,
            check=True,
        )
        png = target.with_suffix(".png")
        assert png.stat().st_size > 1000
        assert png.read_bytes().startswith(b"\x89PNG")
