"""Reads of evidence, scoped to the actor's organisation (and, for a limited service
account, its systems plus organisation-wide items)."""

from datetime import date, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from evaluations.models import Evidence, EvidenceAttachment, EvidenceState, Submission
from riskreg.inventory.models import AISystem
from riskreg.lib.errors import NotFoundError
from riskreg.organisations.actor import Actor


def evidence_list(
    *,
    actor: Actor,
    system: AISystem | None = None,
    model_version: str | None = None,
    kind: str | None = None,
    context: str | None = None,
    state: str | None = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
) -> QuerySet[Evidence]:
    """Evidence the actor may see, newest first, with what the list and detail show."""
    rows = Evidence.objects.filter(organization_id=actor.organization_id)
    if actor.system_ids is not None:
        rows = rows.filter(Q(system_id__in=actor.system_ids) | Q(system__isnull=True))
    if system is not None:
        rows = rows.filter(system=system)
    if model_version is not None:
        rows = rows.filter(model_version__version=model_version)
    if kind is not None:
        rows = rows.filter(kind=kind)
    if context is not None:
        rows = rows.filter(context=context)
    if effective_from is not None:
        rows = rows.filter(effective_date__gte=effective_from)
    if effective_to is not None:
        rows = rows.filter(effective_date__lte=effective_to)
    if state is not None:
        rows = rows.filter(_state_filter(state))
    return (
        rows.select_related("system", "model_version", "supersedes", "superseded_by", "withdrawal")
        .prefetch_related("datasets", "attachments__blob", "verdict_updates")
        .order_by("-id")
    )


def _state_filter(state: str) -> Q:
    today = timezone.localdate()
    live = Q(withdrawal__isnull=True)
    unsuperseded = live & Q(superseded_by__isnull=True)
    if state == EvidenceState.WITHDRAWN:
        return ~live
    if state == EvidenceState.SUPERSEDED:
        return live & Q(superseded_by__isnull=False)
    if state == EvidenceState.EXPIRED:
        return unsuperseded & Q(expiry_date__lt=today)
    return unsuperseded & (Q(expiry_date__isnull=True) | Q(expiry_date__gte=today))


def evidence_expiring(*, actor: Actor, within_days: int) -> QuerySet[Evidence]:
    """Current items whose expiry date falls within the next within_days days, soonest first."""
    soon = timezone.localdate() + timedelta(days=within_days)
    return (
        evidence_list(actor=actor, state=EvidenceState.CURRENT)
        .filter(expiry_date__lte=soon)
        .order_by("expiry_date", "id")
    )


def evidence_newest_by_system(
    *, actor: Actor, systems: list[AISystem], per_system: int
) -> list[Evidence]:
    """The newest per_system items of each system, in one query (a window per system)."""
    if not systems:
        return []
    newest = Window(RowNumber(), partition_by=F("system_id"), order_by=F("id").desc())
    rows = (
        evidence_list(actor=actor)
        .filter(system__in=systems)
        .annotate(newest=newest)
        .filter(newest__lte=per_system)
    )
    return list(rows.order_by("system_id", "-id"))


def evidence_state(item: Evidence, today: date | None = None) -> str:
    """Withdrawn beats superseded beats expired; uses the rows evidence_list loaded."""
    today = today or timezone.localdate()
    if hasattr(item, "withdrawal"):
        return EvidenceState.WITHDRAWN
    if hasattr(item, "superseded_by"):
        return EvidenceState.SUPERSEDED
    if item.expiry_date is not None and item.expiry_date < today:
        return EvidenceState.EXPIRED
    return EvidenceState.CURRENT


def evidence_get(*, actor: Actor, uid: str) -> Evidence:
    found = evidence_list(actor=actor).filter(uid=uid).first()
    if found is None:
        raise NotFoundError(f"No evidence item {uid!r} in your organisation.")
    return found


def evidence_of_submission(*, actor: Actor, submission: Submission) -> QuerySet[Evidence]:
    return evidence_list(actor=actor).filter(submission=submission).order_by("id")


def attachment_get(*, actor: Actor, evidence: Evidence, sha256: str) -> EvidenceAttachment:
    """One attachment of an item the actor may see."""
    found = (
        EvidenceAttachment.objects.filter(evidence=evidence, blob__sha256=sha256)
        .select_related("blob")
        .first()
    )
    if found is None or found.blob.organization_id != actor.organization_id:
        raise NotFoundError(f"Evidence {evidence.uid} has no attachment {sha256!r}.")
    return found


def evidence_current_documents(
    *, organization_id: int, system: AISystem | None = None
) -> QuerySet[Evidence, Any]:
    """Current items as plain rows (documents included, nothing else loaded), for the
    verdict engine: organisation-wide items plus, when given, one system's."""
    rows = Evidence.objects.filter(organization_id=organization_id).filter(
        _state_filter(EvidenceState.CURRENT)
    )
    if system is not None:
        rows = rows.filter(Q(system__isnull=True) | Q(system=system))
    return rows.values(
        "uid",
        "kind",
        "context",
        "effective_date",
        "expiry_date",
        "received_at",
        "document",
        "system_id",
        "model_version_id",
        "model_version__version",
    ).order_by("id")


def evidence_hashes(*, organization_id: int, uids: list[str]) -> dict[str, str]:
    """uid -> document SHA-256 of the organisation's items among `uids`."""
    rows = Evidence.objects.filter(organization_id=organization_id, uid__in=uids)
    return {str(uid): sha for uid, sha in rows.values_list("uid", "document_sha256")}
