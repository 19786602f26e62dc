"""Writes of evidence: submit (one document or an import), withdraw.

Nothing here updates or deletes a row: the tables are append-only. A submission is
checked completely (attachments, schema, references, idempotency) before its
transaction starts writing; files written inside it are removed again if it fails.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

import riskreg
from evaluations import attachments as files
from evaluations import importers
from evaluations.errors import (
    EvidenceInvalidError,
    EvidenceNotCurrentError,
    IdempotencyConflictError,
    ImportFailedError,
)
from evaluations.models import (
    Blob,
    Evidence,
    EvidenceAttachment,
    Submission,
    Withdrawal,
)
from evaluations.paths import select
from evaluations.selectors import evidence as selectors
from evaluations.services.storage import blob_store
from evaluations.validation import CURRENT_VERSION, validate_document
from riskreg.audit.services import audit_append
from riskreg.inventory import selectors as inventory
from riskreg.lib.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from riskreg.lib.hashing import canonical_hash, normalise
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization


@dataclass(frozen=True)
class Provenance:
    """How an item arrived; stored beside the document and never hashed."""

    tool_name: str = ""
    tool_version: str = ""
    commit_sha: str = ""
    ci_run_url: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Submitted:
    items: list[Evidence]
    created: bool  # False: an earlier submission with the same Idempotency-Key


@dataclass
class _Prepared:
    document: dict[str, Any]
    sha256: str
    refs: dict[str, Any]
    provenance: Provenance
    assessment_job: Any = None


def _invalid(issues: list[tuple[str, str]]) -> EvidenceInvalidError:
    errors = [{"pointer": pointer, "message": message} for pointer, message in issues]
    fields: dict[str, list[str]] = {}
    for pointer, message in issues:
        fields.setdefault(pointer or "/", []).append(message)
    first = issues[0]
    return EvidenceInvalidError(
        f"{first[0] or '/'}: {first[1]}", extra={"errors": errors, "fields": fields}
    )


def _with_defaults(
    document: dict[str, Any], uploads: Sequence[files.CheckedUpload]
) -> dict[str, Any]:
    """Fill in what the server knows: schema version, effective date, attachment hashes."""
    doc = dict(document)
    kind = doc.get("kind")
    if isinstance(kind, str) and kind in CURRENT_VERSION:
        doc.setdefault("schema_version", CURRENT_VERSION[kind])
    doc.setdefault("effective_date", timezone.localdate().isoformat())
    doc.setdefault("context", "evaluation")
    sent = [
        {"name": u.name, "sha256": u.sha256, "size": u.size, "media_type": u.media_type}
        for u in uploads
    ]
    if "attachments" not in doc:
        doc["attachments"] = sent
    elif _attachment_keys(doc["attachments"]) != _attachment_keys(sent):
        raise _invalid([("/attachments", "must list exactly the uploaded files (name and sha256)")])
    else:
        doc["attachments"] = sent
    return doc


def _attachment_keys(entries: Any) -> list[tuple[Any, Any]] | None:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return None
    return sorted((e.get("name"), e.get("sha256")) for e in entries)


def _validate(document: dict[str, Any], *, prefix: str = "") -> None:
    issues = validate_document(document)
    if issues:
        raise _invalid([(prefix + i.pointer, i.message) for i in issues])


def _resolve(actor: Actor, doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Look up what the document names; foreign systems are 404, other references 400."""
    refs: dict[str, Any] = {"system": None, "model_version": None, "supersedes": None}
    if doc.get("system") is None:
        if actor.system_ids is not None:
            raise PermissionDeniedError(
                "A service account limited to some AI systems cannot submit "
                "organisation-wide evidence."
            )
    else:
        refs["system"] = _system(actor, doc["system"])
    if doc.get("model_version") is not None:
        if refs["system"] is None:
            raise _invalid([(prefix + "/model_version", "needs a system")])
        found = inventory.model_version_list(actor=actor, system=refs["system"]).filter(
            version=doc["model_version"]
        )
        refs["model_version"] = found.first()
        if refs["model_version"] is None:
            raise _invalid(
                [(prefix + "/model_version", f"{doc['system']!r} has no such model version")]
            )
    refs["datasets"] = _datasets(actor, doc, prefix)
    if doc.get("supersedes"):
        refs["supersedes"] = _superseded(actor, doc, refs["system"], prefix)
    return refs


# Where a document names inventory datasets by slug.
DATASET_PATHS = (
    "/datasets/*/slug",
    "/metrics/datasets/*/slug",
    "/metrics/drift/*/slug",
    "/metrics/drift/*/reference/slug",
)


def _datasets(actor: Actor, doc: dict[str, Any], prefix: str) -> list[Any]:
    """Every dataset the document names; an unknown slug is a 400 at its pointer."""
    found: dict[str, Any] = {}
    for path in DATASET_PATHS:
        for pointer, slug in select(doc, path):
            if slug not in found:
                [found[slug]] = inventory.datasets_by_slugs(
                    actor=actor, slugs=[slug], field=prefix + pointer
                )
    return list(found.values())


def _system(actor: Actor, slug: str) -> Any:
    """The named system; another organisation's answers 404, exactly like a missing one."""
    try:
        return inventory.system_get(actor=actor, slug=slug)
    except NotFoundError as exc:
        raise NotFoundError(
            f"system: no AI system {slug!r} in your organisation", extra={"field": "system"}
        ) from exc


def _superseded(actor: Actor, doc: dict[str, Any], system: Any, prefix: str) -> Evidence:
    old = selectors.evidence_list(actor=actor).filter(uid=doc["supersedes"]).first()
    pointer = prefix + "/supersedes"
    if old is None:
        raise _invalid([(pointer, "no such evidence item in your organisation")])
    if old.kind != doc["kind"] or old.system_id != (system.pk if system else None):
        raise _invalid([(pointer, "must name an item of the same kind and system")])
    state = selectors.evidence_state(old)
    if state in ("withdrawn", "superseded"):
        raise EvidenceNotCurrentError(
            f"supersedes: evidence {old.uid} is already {state}",
            extra={"evidence": str(old.uid), "state": state},
        )
    return old


def _replay(actor: Actor, key: str | None, request_sha256: str) -> Submitted | None:
    if key is None:
        return None
    earlier = Submission.objects.filter(
        organization_id=actor.organization_id, idempotency_key=key
    ).first()
    if earlier is None:
        return None
    if earlier.request_sha256 != request_sha256:
        raise IdempotencyConflictError(
            "Idempotency-Key: already used for a different document or attachment",
            extra={"idempotency_key": key},
        )
    return Submitted(
        items=list(selectors.evidence_of_submission(actor=actor, submission=earlier)), created=False
    )


def evidence_submit(
    *,
    actor: Actor,
    document: dict[str, Any],
    provenance: Provenance,
    uploads: Sequence[files.Upload] = (),
    idempotency_key: str | None = None,
) -> Submitted:
    """Record one evidence document with its attachments."""
    checked = _check_uploads(uploads)
    doc = _with_defaults(document, checked)
    _validate(doc)
    request_sha256 = canonical_hash(
        {"document": document, "attachments": sorted((u.name, u.sha256) for u in checked)}
    )
    if (found := _replay(actor, idempotency_key, request_sha256)) is not None:
        return found
    prepared = _Prepared(normalise(doc), canonical_hash(doc), _resolve(actor, doc), provenance)
    return _write(actor, [prepared], checked, idempotency_key, request_sha256)


def evidence_import(
    *,
    actor: Actor,
    format: str,
    payload: Any,
    envelope: dict[str, Any],
    provenance: Provenance,
    min_group_size: int = 30,
    idempotency_key: str | None = None,
) -> Submitted:
    """Turn another tool's results file into typed evidence items, all or none."""
    try:
        items = importers.import_items(format, payload, min_group_size=min_group_size)
        request_sha256 = canonical_hash(
            {"format": format, "payload": payload, "envelope": envelope, "min": min_group_size}
        )
    except importers.ImportFormatError as exc:
        raise ImportFailedError(
            f"payload{exc.pointer}: {exc.message}", extra={"pointer": "/payload" + exc.pointer}
        ) from exc
    except ValueError as exc:  # a number JSON cannot carry, somewhere the importer skipped
        raise ImportFailedError(f"payload: {exc}", extra={"pointer": "/payload"}) from exc
    if (found := _replay(actor, idempotency_key, request_sha256)) is not None:
        return found
    prepared = []
    for index, item in enumerate(items):
        doc = {**envelope, "kind": item.kind, "metrics": item.metrics}
        if item.effective_date and "effective_date" not in envelope:
            doc["effective_date"] = item.effective_date
        doc = _with_defaults(doc, [])
        prefix = f"/items/{index}"
        _validate(doc, prefix=prefix)
        refs = _resolve(actor, doc, prefix)
        prepared.append(
            _Prepared(normalise(doc), canonical_hash(doc), refs, _hints(provenance, item))
        )
    return _write(actor, prepared, [], idempotency_key, request_sha256)


def _hints(provenance: Provenance, item: importers.ImportedItem) -> Provenance:
    """The caller's provenance, completed with what the imported file says about itself."""
    labels = {**provenance.labels, "import": item.label} if item.label else provenance.labels
    return Provenance(
        tool_name=provenance.tool_name or item.tool_name,
        tool_version=provenance.tool_version or item.tool_version,
        commit_sha=provenance.commit_sha or item.commit_sha,
        ci_run_url=provenance.ci_run_url,
        labels=labels,
    )


def _check_uploads(uploads: Sequence[files.Upload]) -> list[files.CheckedUpload]:
    checked = [files.check_upload(u) for u in uploads]
    names = [c.name for c in checked]
    if len(set(names)) != len(names):
        raise ValidationFailedError.for_field("attachments", "file names must be unique")
    return checked


def _write(
    actor: Actor,
    prepared: list[_Prepared],
    checked: list[files.CheckedUpload],
    key: str | None,
    request_sha256: str,
) -> Submitted:
    written: list[str] = []
    try:
        with transaction.atomic():
            # Serialises submissions per organisation: the idempotency check below and
            # the blob rows cannot race another request's.
            Organization.objects.select_for_update().get(pk=actor.organization_id)
            if (found := _replay(actor, key, request_sha256)) is not None:
                return found
            submission = Submission.objects.create(
                organization_id=actor.organization_id,
                idempotency_key=key,
                request_sha256=request_sha256,
            )
            blobs = [
                blob_store(
                    organization_id=actor.organization_id,
                    sha256=upload.sha256,
                    size=upload.size,
                    media_type=upload.media_type,
                    upload=upload.upload,
                    written=written,
                )
                for upload in checked
            ]
            items = [_item(actor, submission, p, blobs, checked) for p in prepared]
    except BaseException:
        for sha256 in written:
            files.remove(actor.organization_id, sha256)
        raise
    return Submitted(items=items, created=True)


def _item(
    actor: Actor,
    submission: Submission,
    prepared: _Prepared,
    blobs: list[Blob],
    checked: list[files.CheckedUpload],
) -> Evidence:
    doc, refs, prov = prepared.document, prepared.refs, prepared.provenance
    ref = actor.audit_ref()
    item = Evidence(
        organization_id=actor.organization_id,
        submission=submission,
        kind=doc["kind"],
        schema_version=doc["schema_version"],
        system=refs["system"],
        model_version=refs["model_version"],
        context=doc["context"],
        effective_date=doc["effective_date"],
        expiry_date=doc.get("expiry_date"),
        supersedes=refs["supersedes"],
        document=doc,
        document_sha256=prepared.sha256,
        submitter_type=ref["type"],
        submitter_id=ref["id"],
        submitter_label=ref["label"],
        tool_name=prov.tool_name,
        tool_version=prov.tool_version,
        commit_sha=prov.commit_sha,
        ci_run_url=prov.ci_run_url,
        labels=prov.labels,
        assessment_job=prepared.assessment_job,
    )
    item.full_clean(exclude=["supersedes"])  # a one-to-one is checked by the constraint
    item.save()
    item.datasets.set(refs["datasets"])
    for blob, upload in zip(blobs, checked, strict=True):
        EvidenceAttachment.objects.create(evidence=item, blob=blob, name=upload.name)
    audit_append(
        actor=actor,
        action="evidence.submit",
        object_type="evidence",
        object_id=item.uid,
        changes={
            "kind": {"before": None, "after": item.kind},
            "system": {"before": None, "after": doc.get("system")},
            "model_version": {"before": None, "after": doc.get("model_version")},
            "document_sha256": {"before": None, "after": item.document_sha256},
            "attachments": {"before": None, "after": sorted(b.sha256 for b in blobs)},
            "supersedes": {"before": None, "after": doc.get("supersedes")},
        },
    )
    if item.assessment_job is None:  # a job's items are decided together when it finishes
        _request_verdicts(actor.organization_id, item.system_id, "evidence", evidence=item)
    return item


def _request_verdicts(organization_id: int, system_id: int | None, cause: str, **refs: Any) -> None:
    # Imported here: controls reads evidence through this app's selectors.
    from controls.services.updates import verdicts_request

    verdicts_request(organization_id=organization_id, system_id=system_id, cause=cause, **refs)


def evidence_record_computed(*, job: Any, kind: str, metrics: dict[str, Any]) -> Evidence:
    """Record what riskreg's own assessment computed, once per job and kind.

    Runs inside the caller's transaction (the job's finish); a second delivery of the
    same job finds the item already there and returns it.
    """
    found = Evidence.objects.filter(assessment_job=job, kind=kind).first()
    if found is not None:
        return found
    actor = Actor.system(job.organization_id)
    doc = {
        "kind": kind,
        "schema_version": CURRENT_VERSION[kind],
        "system": job.system.slug,
        "model_version": job.model_version.version,
        "context": job.context,
        "effective_date": timezone.localdate().isoformat(),
        "attachments": [],
        "metrics": metrics,
    }
    issues = validate_document(doc, computed=True)
    if issues:  # the engines' output not matching the schema is our bug, not the user's
        raise ValueError(f"computed {kind} document is invalid: {issues[:3]}")
    provenance = Provenance(
        tool_name="riskreg",
        tool_version=riskreg.__version__,
        labels={"assessment_job": str(job.uid), "input": job.input_name[:500]},
    )
    refs = _resolve(actor, doc)
    prepared = _Prepared(normalise(doc), canonical_hash(doc), refs, provenance, job)
    submission = Submission.objects.create(
        organization_id=job.organization_id, request_sha256=prepared.sha256
    )
    return _item(actor, submission, prepared, [], [])


@transaction.atomic
def evidence_withdraw(*, actor: Actor, evidence: Evidence, reason: str) -> Withdrawal:
    """Record that an item no longer counts, and why; the item itself stays as it was."""
    if not reason.strip():
        raise ValidationFailedError.for_field("reason", "a withdrawal needs a reason")
    Organization.objects.select_for_update().get(pk=actor.organization_id)
    if Withdrawal.objects.filter(evidence=evidence).exists():
        raise EvidenceNotCurrentError(
            f"evidence {evidence.uid} is already withdrawn", extra={"evidence": str(evidence.uid)}
        )
    ref = actor.audit_ref()
    withdrawal = Withdrawal(
        evidence=evidence,
        reason=reason,
        actor_type=ref["type"],
        actor_id=ref["id"],
        actor_label=ref["label"],
    )
    withdrawal.full_clean()
    withdrawal.save()
    audit_append(
        actor=actor,
        action="evidence.withdraw",
        object_type="evidence",
        object_id=evidence.uid,
        changes={
            "withdrawn": {"before": False, "after": True},
            "reason": {"before": None, "after": reason},
        },
    )
    _request_verdicts(evidence.organization_id, evidence.system_id, "withdrawal", evidence=evidence)
    return withdrawal
