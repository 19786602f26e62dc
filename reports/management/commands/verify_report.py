"""verify_report: the server's verification of a PDF (exit 0 only when valid)."""

import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from reports.models import Report
from reports.services.verification import report_verify
from riskreg.organisations.selectors import organization_get


class Command(BaseCommand):
    help = (
        "Check a report PDF: signature and trust, embedded manifest, issued by this server, "
        "cited evidence unchanged. Prints the result as JSON; exits 1 when it is not valid."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--organisation", help="whose certificates to trust")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            pdf = options["file"].read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from exc
        organization_id = self._organisation(options["organisation"], pdf)
        if organization_id is None:
            result: dict[str, Any] = {
                "valid": False,
                "reason": "this server issued no report with this hash",
                "report": None,
                "checks": [],
            }
        else:
            result = report_verify(organization_id=organization_id, pdf=pdf)
        self.stdout.write(json.dumps(result, indent=2))
        if not result["valid"]:
            raise CommandError(f"not valid: {result['reason']}")

    def _organisation(self, slug: str | None, pdf: bytes) -> int | None:
        if slug:
            org = organization_get(slug=slug)
            if org is None:
                raise CommandError(f"no organisation {slug!r}")
            return org.pk
        sha256 = hashlib.sha256(pdf).hexdigest()
        found = Report.objects.filter(pdf_sha256=sha256).values_list("organization_id", flat=True)
        return next(iter(found), None)
