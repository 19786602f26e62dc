"""import_signing_key: sign an organisation's reports with a key its own CA issued."""

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from reports.services.keys import signing_key_import
from riskreg.organisations.actor import Actor
from riskreg.organisations.selectors import organization_get

PASSPHRASE_VARIABLE = "RISKREG_PKCS12_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret


class Command(BaseCommand):
    help = (
        "Import a PKCS#12 (key, certificate and chain to the organisation's CA) as the "
        f"organisation's report-signing key; its passphrase comes from ${PASSPHRASE_VARIABLE}."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--organisation", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        org = organization_get(slug=options["organisation"])
        if org is None:
            raise CommandError(f"no organisation {options['organisation']!r}")
        passphrase = os.environ.get(PASSPHRASE_VARIABLE)
        if passphrase is None:
            raise CommandError(f"set {PASSPHRASE_VARIABLE} to the file's passphrase")
        try:
            data = options["file"].read_bytes()
            row = signing_key_import(
                actor=Actor.system(org.pk), pkcs12=data, passphrase=passphrase.encode()
            )
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{org.slug} now signs with {row.fingerprint} (CA {row.ca_fingerprint})")
