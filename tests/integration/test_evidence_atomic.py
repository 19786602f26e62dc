"""Evidence, its attachments and its audit event are written together or not at all.

These run outside any test transaction (committed_db), so the service's own transaction
really commits or rolls back, as in production.
"""

import uuid
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError

from evaluations import attachments
from evaluations.models import Blob, Evidence, EvidenceAttachment, Submission
from evaluations.services import evidence as services
from riskreg.audit.models import AuditEvent
from riskreg.organisations.actor import Actor
from riskreg.organisations.services import organization_create

pytestmark = pytest.mark.integration


@pytest.fixture
def actor(committed_db: None) -> Actor:
    org = organization_create(name="Atomic", slug=f"atomic-{uuid.uuid4().hex[:8]}")
    return Actor.system(org.pk)


def policy_upload(text: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("policy.md", text, content_type="text/markdown")


def submit(actor: Actor, text: bytes) -> services.Submitted:
    document = {
        "kind": "document",
        "system": None,
        "context": "evaluation",
        "document": {
            "document_type": "policy",
            "title": "Use of AI",
            "summary": "Rules.",
            "reviewed_by": "Board",
            "reviewed_on": "2026-11-01",
        },
    }
    return services.evidence_submit(
        actor=actor,
        document=document,
        provenance=services.Provenance(),
        uploads=[policy_upload(text)],
    )


def rows(actor: Actor) -> dict[str, int]:
    org = actor.organization_id
    return {
        "submissions": Submission.objects.filter(organization_id=org).count(),
        "blobs": Blob.objects.filter(organization_id=org).count(),
        "evidence": Evidence.objects.filter(organization_id=org).count(),
        "attachments": EvidenceAttachment.objects.filter(evidence__organization_id=org).count(),
        "audit": AuditEvent.objects.filter(organization_id=org).count(),
    }


def files_of(actor: Actor) -> list[str]:
    folder = settings.RISKREG_ATTACHMENTS_DIR / str(actor.organization_id)
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_fault_after_the_attachment_is_written_leaves_no_row_and_no_file(
    actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = b"# Policy written just before the fault\n"
    stored: list[str] = []
    real_store = attachments.store

    def store_then_note(org: int, sha256: str, chunks: Any) -> Any:
        path = real_store(org, sha256, chunks)
        stored.append(sha256)
        return path

    def fault(**kwargs: Any) -> None:
        assert files_of(actor) == stored  # the file is on disk at the moment of the fault
        raise RuntimeError("injected fault before commit")

    before = rows(actor)
    monkeypatch.setattr(attachments, "store", store_then_note)
    monkeypatch.setattr(services, "audit_append", fault)

    with pytest.raises(RuntimeError, match="injected"):
        submit(actor, text)

    assert stored, "the fault must come after the attachment was written"
    assert rows(actor) == before
    assert files_of(actor) == []


def test_a_database_error_while_linking_the_attachment_leaves_no_row_and_no_file(
    actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("injected: connection lost")

    before = rows(actor)
    monkeypatch.setattr(EvidenceAttachment.objects, "create", broken)

    with pytest.raises(DatabaseError):
        submit(actor, b"# Another policy\n")

    assert rows(actor) == before
    assert files_of(actor) == []


def test_without_a_fault_everything_is_committed_together(actor: Actor) -> None:
    before = rows(actor)

    result = submit(actor, b"# The policy that lands\n")

    after = rows(actor)
    assert {name: after[name] - before[name] for name in after} == {
        "submissions": 1,
        "blobs": 1,
        "evidence": 1,
        "attachments": 1,
        "audit": 1,
    }
    [item] = result.items
    sha256 = item.document["attachments"][0]["sha256"]
    assert files_of(actor) == [sha256]


def test_a_failed_submission_keeps_a_file_that_an_earlier_item_already_owns(
    actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = b"# Shared text\n"
    submit(actor, text)
    kept = files_of(actor)

    def fault(**kwargs: Any) -> None:
        raise RuntimeError("injected fault before commit")

    monkeypatch.setattr(services, "audit_append", fault)
    with pytest.raises(RuntimeError):
        submit(actor, text)

    assert files_of(actor) == kept
