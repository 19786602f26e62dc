"""An audited service write vs the same row inserted without audit (embedded SQLite)."""

import uuid

import django

from bench.timing import Result, compare


def run() -> list[Result]:
    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from riskreg.inventory.models import Dataset
    from riskreg.inventory.services import dataset_create
    from riskreg.organisations.actor import Actor
    from riskreg.organisations.services import organization_create

    org = organization_create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    actor = Actor.system(org.pk)

    def ours() -> None:
        for _ in range(20):
            dataset_create(actor=actor, slug=uuid.uuid4().hex, name="d")

    def reference() -> None:
        for _ in range(20):
            with transaction.atomic():
                Dataset.objects.create(organization_id=org.pk, slug=uuid.uuid4().hex, name="d")

    # An audited write also runs full_clean (constraint queries, ~40% of its time in a
    # profile) and the locked head read + event insert (~30%): budget 15x a bare insert.
    return [compare("audited dataset_create", ours, "bare insert", reference, goal=15.0, rounds=7)]
