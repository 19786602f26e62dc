from typing import Any

from django.core.management.base import BaseCommand, CommandError

from riskreg.audit.services import audit_verify
from riskreg.organisations.selectors import organization_get, organization_list


class Command(BaseCommand):
    help = "Verify the audit hash chains; exit 0 only when every chain is intact."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organisation", help="slug of one organisation (default: all)")
        parser.add_argument(
            "--expect-head", help="hash the chain must end at (needs --organisation)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug, expect = options["organisation"], options["expect_head"]
        if expect and not slug:
            raise CommandError("--expect-head needs --organisation")
        if slug:
            org = organization_get(slug=slug)
            if org is None:
                raise CommandError(f"no organisation {slug!r}")
            orgs = [org]
        else:
            orgs = list(organization_list())
        failed = 0
        for org in orgs:
            report = audit_verify(organization=org, expect_head=expect)
            state = "ok" if report.ok else "BROKEN"
            self.stdout.write(f"{org.slug}: {state}, {report.events} events, head {report.head}")
            for problem in report.problems:
                self.stdout.write(f"  - {problem}")
            failed += not report.ok
        if failed:
            raise CommandError(f"{failed} audit chain(s) failed verification")
