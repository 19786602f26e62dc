from typing import Any

from django.core.management.base import BaseCommand

from controls.services import catalog_load


class Command(BaseCommand):
    help = "Load the NIST AI RMF 1.0 catalog from fixtures/ (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = catalog_load()
        self.stdout.write(f"catalog: {count} subcategories loaded")
