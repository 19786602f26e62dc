"""Reports: a system report with 500 evidence items and 200 risks rendered (PDF/A-3b with its
manifest) and signed, against a bare WeasyPrint render of the same HTML (embedded SQLite)."""

import uuid
from datetime import date

import django

from bench.timing import Result, compare

EVIDENCE = 500
RISKS = 200


def _organisation() -> tuple[int, int]:
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from controls.services import catalog_load
    from evaluations.services.evidence import Provenance, evidence_submit
    from riskreg.inventory.services import model_version_create, system_create
    from riskreg.organisations.actor import Actor
    from riskreg.organisations.services import organization_create
    from riskreg.risks.services.register import risk_create
    from riskreg.risks.services.scoring import risk_score

    catalog_load()
    org = organization_create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    actor = Actor.system(org.pk)
    system = system_create(actor=actor, slug="bench", name="Bench system")
    model_version_create(actor=actor, system=system, version="1", status="production")
    for n in range(EVIDENCE):
        document = {
            "kind": "performance",
            "system": "bench",
            "model_version": "1",
            "context": "evaluation",
            "effective_date": date(2026, 1 + n % 12, 1 + n % 28).isoformat(),
            "datasets": [],
            "metrics": {
                "task": "binary_classification",
                "scores": {"accuracy": 0.8 + (n % 10) / 100},
            },
        }
        evidence_submit(actor=actor, document=document, provenance=Provenance(tool_name="bench"))
    for n in range(RISKS):
        risk = risk_create(
            actor=actor,
            title=f"Risk {n}: drift in segment {n % 17}",
            statement="Scores drift after retraining in one customer segment.",
            category="validity_reliability",
            systems=["bench"],
        )
        risk_score(actor=actor, risk=risk, kind="inherent", likelihood=1 + n % 5, impact=1 + n % 4)
    return org.pk, system.pk


def run() -> list[Result]:
    organization_id, system_id = _organisation()
    from django.template.loader import render_to_string
    from django.utils import timezone
    from weasyprint import HTML  # type: ignore[import-untyped]  # noqa: TID251 - the bare reference

    from reports.context import report_context
    from reports.formatting import printable
    from reports.keys import create_organisation_ca
    from reports.rendering import STATIC_DIR, TEMPLATES, render_report
    from reports.signing import sign_pdf
    from reports.snapshot import snapshot_build
    from riskreg.inventory.models import AISystem
    from riskreg.lib.hashing import canonical_hash
    from riskreg.organisations.models import Organization

    system = AISystem.objects.get(pk=system_id)
    snapshot = snapshot_build(
        report_id=str(uuid.uuid4()),
        organization=Organization.objects.get(pk=organization_id),
        kind="system",
        system=system,
        period=(None, None),
        requested_by="bench",
        previous=None,
    )
    digest = canonical_hash(snapshot)
    approval = {
        "by": "officer",
        "role": "compliance_officer",
        "at": "2026-11-29T12:00:00+00:00",
        "note": "",
    }
    signer = create_organisation_ca("Bench", now=timezone.now()).signing
    html = render_to_string(
        TEMPLATES["system"],
        report_context(
            printable(snapshot),
            snapshot_sha256=digest,
            manifest_sha256="0" * 64,
            approval=approval,
        ),
    )

    def ours() -> None:
        rendered = render_report(snapshot, snapshot_sha256=digest, approval=approval)
        sign_pdf(
            rendered.pdf, signer=signer, manifest_sha256=rendered.manifest_sha256, reason="bench"
        )

    def bare() -> None:
        HTML(string=html, base_url=STATIC_DIR.as_uri() + "/").write_pdf()

    # Ours adds the template rendering, the PDF/A-3b variant with its embedded manifest and
    # output intent, and the PAdES signature: budget 1.3x the bare render of the same HTML.
    return [
        compare(
            f"system report, {EVIDENCE} evidence items and {RISKS} risks, rendered and signed",
            ours,
            "bare WeasyPrint render of the same HTML",
            bare,
            goal=1.3,
            rounds=3,
        )
    ]
