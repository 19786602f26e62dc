"""Evidence: schema validation against bare jsonschema, and a whole submission against a
bare row insert (embedded SQLite)."""

import json
import uuid
from pathlib import Path

import django

from bench.timing import Result, compare

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "evidence"


def validation() -> Result:
    from jsonschema import Draft202012Validator

    from evaluations.validation import schema_for, validate_document

    document = json.loads((EXAMPLES / "fairness.json").read_text())
    bare = Draft202012Validator(schema_for("fairness"))

    def ours() -> None:
        for _ in range(20):
            assert not validate_document(document)

    def reference() -> None:
        for _ in range(20):
            assert not list(bare.iter_errors(document))

    # Ours adds the walks jsonschema cannot express (finite numbers, low <= high, NFC keys).
    return compare(
        "validate_document (fairness example)", ours, "bare jsonschema", reference, goal=3.0
    )


def submission() -> Result:
    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from evaluations.models import Evidence, Submission
    from evaluations.services.evidence import Provenance, evidence_submit
    from riskreg.inventory.services import model_version_create, system_create
    from riskreg.organisations.actor import Actor
    from riskreg.organisations.services import organization_create

    org = organization_create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    actor = Actor.system(org.pk)
    system = system_create(actor=actor, slug="bench", name="Bench")
    model_version_create(actor=actor, system=system, version="1")
    document = {
        "kind": "performance",
        "system": "bench",
        "model_version": "1",
        "context": "evaluation",
        "metrics": {"task": "binary_classification", "scores": {"accuracy": 0.9, "f1": 0.8}},
    }

    def ours() -> None:
        for _ in range(20):
            evidence_submit(actor=actor, document=document, provenance=Provenance())

    def reference() -> None:
        for _ in range(20):
            with transaction.atomic():
                submission = Submission.objects.create(organization_id=org.pk, request_sha256="0")
                Evidence.objects.create(
                    organization_id=org.pk,
                    submission=submission,
                    kind="performance",
                    schema_version="1.0",
                    system=system,
                    context="evaluation",
                    effective_date="2026-11-01",
                    document=document,
                    document_sha256="0" * 64,
                    submitter_type="system",
                    submitter_label="bench",
                )

    # A submission validates, hashes twice (request and document), resolves system and
    # model version, runs full_clean and appends an audit event: budget 25x bare inserts.
    return compare(
        "evidence_submit", ours, "bare submission+evidence insert", reference, goal=25.0, rounds=7
    )


def run() -> list[Result]:
    return [validation(), submission()]
