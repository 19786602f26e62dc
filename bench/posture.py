"""Posture: deciding a system's verdicts against reading the evidence they rest on, and
reading a posture against reading its stored rows (embedded SQLite)."""

import uuid
from datetime import date

import django

from bench.timing import Result, compare

ITEMS = 1000


def _organisation() -> tuple[int, int]:
    """An organisation with one system and ITEMS current performance items in 50 series."""
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from controls.services import catalog_load
    from evaluations.models import Evidence, Submission
    from riskreg.inventory.services import model_version_create, system_create
    from riskreg.organisations.actor import Actor
    from riskreg.organisations.services import organization_create

    catalog_load()
    org = organization_create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    actor = Actor.system(org.pk)
    system = system_create(actor=actor, slug="bench", name="Bench")
    version = model_version_create(actor=actor, system=system, version="1", status="production")
    submission = Submission.objects.create(organization_id=org.pk, request_sha256="0" * 64)
    Evidence.objects.bulk_create(
        Evidence(
            organization_id=org.pk,
            submission=submission,
            kind="performance",
            schema_version="1.0",
            system=system,
            model_version=version,
            context="evaluation",
            effective_date=date(2026, 1, 1 + n % 28),
            document={
                "kind": "performance",
                "context": "evaluation",
                "datasets": [{"slug": f"set-{n % 50}", "split": "test"}],
                "metrics": {"task": "binary_classification", "scores": {"accuracy": 0.9}},
            },
            document_sha256=f"{n:064x}",
            submitter_type="system",
            submitter_label="bench",
            received_at=timezone.now(),
        )
        for n in range(ITEMS)
    )
    return org.pk, system.pk


def run() -> list[Result]:
    organization_id, system_id = _organisation()
    from controls.models import Verdict
    from controls.selectors.posture import posture_get
    from controls.services.verdicts import verdicts_refresh
    from evaluations.models import Evidence
    from riskreg.inventory.models import AISystem

    def decide() -> None:
        verdicts_refresh(organization_id=organization_id, system_id=system_id, cause="bench")

    def read_inputs() -> None:
        list(Evidence.objects.filter(organization_id=organization_id).values("document"))

    system = AISystem.objects.get(pk=system_id)

    def read_posture() -> None:
        posture_get(system=system)

    def read_rows() -> None:
        list(Verdict.objects.filter(organization_id=organization_id).values())

    # Deciding reads every current item with its relations, keeps the newest of each
    # series, judges 30 rules and compares 72 stored verdicts: budget 10x the bare read.
    return [
        compare(
            f"verdicts_refresh ({ITEMS} items, 50 series)",
            decide,
            "bare read of the items' documents",
            read_inputs,
            goal=10.0,
            rounds=7,
        ),
        # The posture adds the catalog, coverage and overrides to the stored rows.
        compare("posture_get", read_posture, "bare read of the verdict rows", read_rows, goal=5.0),
    ]
