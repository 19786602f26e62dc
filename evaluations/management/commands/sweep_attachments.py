from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from evaluations.services.storage import attachment_sweep


class Command(BaseCommand):
    help = "Remove attachment files that no evidence row owns (left by interrupted writes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=60,
            help="Only files at least this old: younger ones may belong to a write in flight.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = attachment_sweep(older_than=timedelta(minutes=options["older_than_minutes"]))
        for name in report.removed:
            self.stdout.write(f"removed {name}")
        self.stdout.write(f"{len(report.removed)} removed, {report.kept} kept")
