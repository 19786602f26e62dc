"""Verifying a PDF sent back to the server: the offline checks (signature, trust, manifest)
plus what only the server knows: that it issued this exact file, and that every evidence
item the report cites still has the hash recorded in its snapshot."""

import hashlib
from typing import Any

from riskreg_client.verify import verify_pdf

from evaluations.selectors.evidence import evidence_hashes
from reports.models import Report, ReportStatus
from reports.services.keys import trust_roots_for

MAX_VERIFY_BYTES = 50 * 1024 * 1024


def _check(name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": passed, "detail": detail}


def report_verify(*, organization_id: int, pdf: bytes) -> dict[str, Any]:
    """{valid, reason, report, checks}: valid only when every check passes; never raises."""
    roots = trust_roots_for(organization_id=organization_id)
    if not roots:
        return _answer([_check("signature", False, "this organisation has signed no report")])
    verdict = verify_pdf(pdf, trust_roots=roots)
    checks = [_check("signature", verdict.valid, verdict.reason)]
    if not verdict.valid:
        return _answer(checks)
    sha256 = hashlib.sha256(pdf).hexdigest()
    report = Report.objects.filter(
        organization_id=organization_id, pdf_sha256=sha256, status=ReportStatus.SIGNED
    ).first()
    if report is None:
        checks.append(_check("issued here", False, "this server stored no report with this hash"))
        return _answer(checks)
    manifest = verdict.manifest or {}
    same = (
        manifest.get("report_id") == str(report.uid)
        and manifest.get("snapshot_sha256") == report.snapshot_sha256
    )
    checks.append(
        _check("issued here", same, f"report {report.uid}" if same else "manifest differs")
    )
    checks.append(_evidence_check(organization_id, report))
    return _answer(checks, report=str(report.uid))


def _evidence_check(organization_id: int, report: Report) -> dict[str, Any]:
    cited = {e["uid"]: e["sha256"] for e in report.snapshot.get("evidence", [])}
    stored = evidence_hashes(organization_id=organization_id, uids=list(cited))
    changed = sorted(uid for uid, sha in cited.items() if stored.get(uid) != sha)
    if changed:
        return _check("evidence unchanged", False, f"changed or missing: {', '.join(changed[:10])}")
    return _check("evidence unchanged", True, f"{len(cited)} cited items hold their hashes")


def _answer(checks: list[dict[str, Any]], *, report: str | None = None) -> dict[str, Any]:
    failed = next((c for c in checks if not c["passed"]), None)
    return {
        "valid": failed is None,
        "reason": failed["detail"]
        if failed
        else "signed by this organisation, issued here, and every cited item is unchanged",
        "report": report,
        "checks": checks,
    }
