import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from riskreg.ops import selectors, services
from riskreg.ops.tasks import probe_answer_task


class Command(BaseCommand):
    help = "Send a probe task through the broker and wait for a worker to answer it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        with transaction.atomic():
            probe = services.probe_create()
            transaction.on_commit(lambda: probe_answer_task.delay(probe.pk))
        while time.monotonic() - started < options["timeout"]:
            row = selectors.probe_get(probe_id=probe.pk)
            if row and row.answered_at:
                took = time.monotonic() - started
                self.stdout.write(f"probe {probe.pk} answered by {row.answered_by} in {took:.2f}s")
                return
            time.sleep(0.1)
        raise CommandError(f"no worker answered probe {probe.pk} within {options['timeout']}s")
