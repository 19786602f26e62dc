"""generate_report: the report pipeline of the API, run here; a draft, or approved and signed."""

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from reports.models import ReportKind, ReportStatus
from reports.services.pipeline import report_render_draft, report_sign
from reports.services.requests import report_approve, report_request
from reports.storage import pdf_read
from riskreg.inventory.models import AISystem
from riskreg.lib.errors import ApplicationError
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import MATRIX
from riskreg.organisations.selectors import (
    actor_for_membership,
    membership_get,
    organization_get,
)


class Command(BaseCommand):
    help = (
        "Render a report: a watermarked draft, or with --approve-as, approved by that "
        "member (audited as theirs) and signed. Writes the PDF to --out."
    )

    def add_arguments(self, parser: Any) -> None:
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--system", help="an AI system's slug")
        scope.add_argument("--organisation", help="an organisation's slug (register report)")
        parser.add_argument("--in-organisation", help="the system's organisation, when needed")
        parser.add_argument("--kind", choices=ReportKind.values)
        parser.add_argument("--from", dest="period_from", type=date.fromisoformat)
        parser.add_argument("--to", dest="period_to", type=date.fromisoformat)
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--approve-as", help="username of an officer or admin")

    def handle(self, *args: Any, **options: Any) -> None:
        system, organization_id = self._scope(options)
        kind = options["kind"] or ("register" if system is None else "system")
        actor = Actor.system(organization_id)
        try:
            report = report_request(
                actor=actor,
                kind=kind,
                system=system,
                period_from=options["period_from"],
                period_to=options["period_to"],
            )
            report_render_draft(report_id=report.pk)
            report.refresh_from_db()
            if options["approve_as"]:
                approver = self._approver(organization_id, options["approve_as"])
                report_approve(actor=approver, report=report)
                report_sign(report_id=report.pk)
                report.refresh_from_db()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        signed = report.status == ReportStatus.SIGNED
        if report.status not in (ReportStatus.DRAFT, ReportStatus.SIGNED):
            raise CommandError(f"report {report.uid} ended {report.status}: {report.message}")
        sha256 = report.pdf_sha256 if signed else report.draft_sha256
        options["out"].write_bytes(pdf_read(organization_id, sha256))
        what = "signed report" if signed else "draft"
        self.stdout.write(f"{what} {report.uid} written to {options['out']} (SHA-256 {sha256})")

    def _scope(self, options: dict[str, Any]) -> tuple[AISystem | None, int]:
        if options["organisation"]:
            org = organization_get(slug=options["organisation"])
            if org is None:
                raise CommandError(f"no organisation {options['organisation']!r}")
            return None, org.pk
        systems = AISystem.objects.filter(slug=options["system"])
        if options["in_organisation"]:
            systems = systems.filter(organization__slug=options["in_organisation"])
        found = list(systems[:2])
        if not found:
            raise CommandError(f"no AI system {options['system']!r}")
        if len(found) > 1:
            raise CommandError("several organisations have this system: add --in-organisation")
        return found[0], found[0].organization_id

    def _approver(self, organization_id: int, username: str) -> Actor:
        membership = membership_get(organization_id=organization_id, username=username)
        if membership is None:
            raise CommandError(f"{username!r} is not a member of the report's organisation")
        actor = actor_for_membership(membership)
        if actor.role not in MATRIX["report.approve"]:
            raise CommandError(f"{username!r} ({actor.role}) may not approve reports")
        return actor
