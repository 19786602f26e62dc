"""Requesting and approving reports; the rendering itself happens in a worker."""

import uuid
from datetime import date

from django.db import transaction
from django.utils import timezone

import riskreg
from reports.errors import ReportNotDraftError
from reports.models import Report, ReportKind, ReportStatus
from reports.snapshot import snapshot_build
from riskreg.audit.services import audit_append
from riskreg.inventory.models import AISystem
from riskreg.lib.errors import ValidationFailedError
from riskreg.lib.hashing import canonical_hash
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization


def _previous(actor: Actor, kind: str, system: AISystem | None) -> dict[str, str] | None:
    """The newest signed report of the same kind and scope, for "regressions since"."""
    found = (
        Report.objects.filter(
            organization_id=actor.organization_id,
            kind=kind,
            system=system,
            status=ReportStatus.SIGNED,
        )
        .order_by("-created_at")
        .first()
    )
    if found is None:
        return None
    return {"id": str(found.uid), "generated_at": found.snapshot["report"]["generated_at"]}


@transaction.atomic
def report_request(
    *,
    actor: Actor,
    kind: str,
    system: AISystem | None,
    period_from: date | None = None,
    period_to: date | None = None,
) -> Report:
    """Take the snapshot once, record the report as queued, and have a worker render the
    draft after the transaction commits."""
    from reports.context import TEMPLATE_VERSION
    from reports.tasks import report_render_task

    if kind not in ReportKind.values:
        raise ValidationFailedError.for_field("kind", f"must be one of {ReportKind.values}")
    if (kind == ReportKind.REGISTER) != (system is None):
        reason = "a register report covers the organisation" if system else "name a system"
        raise ValidationFailedError.for_field("system", reason)
    if period_from and period_to and period_from > period_to:
        raise ValidationFailedError.for_field("period_from", "must not be after period_to")
    organization = Organization.objects.get(pk=actor.organization_id)
    report_id = str(uuid.uuid4())
    snapshot = snapshot_build(
        report_id=report_id,
        organization=organization,
        kind=kind,
        system=system,
        period=(period_from, period_to),
        requested_by=actor.label,
        previous=_previous(actor, kind, system),
    )
    report = Report.objects.create(
        uid=report_id,
        organization=organization,
        kind=kind,
        system=system,
        period_from=period_from,
        period_to=period_to,
        snapshot=snapshot,
        snapshot_sha256=canonical_hash(snapshot),
        template_version=TEMPLATE_VERSION,
        generator_version=riskreg.__version__,
        requested_by_label=actor.label,
    )
    audit_append(
        actor=actor,
        action="report.request",
        object_type="report",
        object_id=report.uid,
        changes={
            "kind": {"before": None, "after": kind},
            "system": {"before": None, "after": system.slug if system else None},
            "snapshot_sha256": {"before": None, "after": report.snapshot_sha256},
        },
    )
    transaction.on_commit(lambda: report_render_task.delay(report.pk))
    return report


@transaction.atomic
def report_approve(*, actor: Actor, report: Report, note: str = "") -> Report:
    """Record an officer's approval of the draft; a worker renders and signs the final."""
    from reports.tasks import report_sign_task

    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status != ReportStatus.DRAFT:
        raise ReportNotDraftError(
            f"report {locked.uid} is {locked.status}, not a draft",
            extra={"status": locked.status},
        )
    locked.status = ReportStatus.APPROVED
    locked.approved_by_label = actor.label
    locked.approved_by_role = str(actor.role)
    locked.approved_at = timezone.now().replace(microsecond=0)
    locked.approval_note = note
    locked.updated_at = timezone.now()
    locked.save(
        update_fields=[
            "status",
            "approved_by_label",
            "approved_by_role",
            "approved_at",
            "approval_note",
            "updated_at",
        ]
    )
    audit_append(
        actor=actor,
        action="report.approve",
        object_type="report",
        object_id=locked.uid,
        changes={
            "status": {"before": ReportStatus.DRAFT, "after": ReportStatus.APPROVED},
            "draft_sha256": {"before": None, "after": locked.draft_sha256},
        },
    )
    transaction.on_commit(lambda: report_sign_task.delay(locked.pk))
    return locked


def approval_of(report: Report) -> dict[str, str] | None:
    """The approval as the renderer prints it; None for a draft."""
    if report.approved_at is None:
        return None
    return {
        "by": report.approved_by_label,
        "role": report.approved_by_role,
        "at": report.approved_at.isoformat(),
        "note": report.approval_note,
    }
