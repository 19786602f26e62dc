"""The worker's half of a report: render the draft; after approval, render the final
from the same snapshot and sign it. Each step checks the report's status first, so a
second delivery does nothing, and holds no lock while it renders."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from reports.models import Report, ReportStatus
from reports.services.requests import approval_of
from reports.storage import pdf_store
from riskreg.audit.services import audit_append
from riskreg.organisations.actor import Actor


def report_render_draft(*, report_id: int) -> None:
    """Render the watermarked draft of a queued report and store it."""
    from reports.rendering import render_report

    report = Report.objects.filter(pk=report_id, status=ReportStatus.QUEUED).first()
    if report is None:
        return
    rendered = render_report(report.snapshot, snapshot_sha256=report.snapshot_sha256, approval=None)
    sha256 = pdf_store(report.organization_id, rendered.pdf)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report_id)
        if locked.status != ReportStatus.QUEUED:
            return
        locked.status = ReportStatus.DRAFT
        locked.draft_sha256 = sha256
        locked.draft_rendered_at = locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "draft_sha256", "draft_rendered_at", "updated_at"])


def report_sign(*, report_id: int) -> None:
    """Render the approved report from its snapshot, sign it with the organisation's key and
    store the signed PDF; the signature is audited as riskreg's own act."""
    from reports.rendering import render_report
    from reports.services.keys import organisation_signer
    from reports.signing import sign_pdf

    report = Report.objects.filter(pk=report_id, status=ReportStatus.APPROVED).first()
    if report is None:
        return
    rendered = render_report(
        report.snapshot, snapshot_sha256=report.snapshot_sha256, approval=approval_of(report)
    )
    signer = organisation_signer(organization_id=report.organization_id)
    signed = sign_pdf(
        rendered.pdf,
        signer=signer.signer,
        manifest_sha256=rendered.manifest_sha256,
        reason=f"riskreg report {report.uid}, approved by {report.approved_by_label}",
        timestamp_url=settings.RISKREG_TSA_URL or None,
    )
    sha256 = pdf_store(report.organization_id, signed)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report_id)
        if locked.status != ReportStatus.APPROVED:
            return
        locked.status = ReportStatus.SIGNED
        locked.pdf_sha256 = sha256
        locked.manifest_sha256 = rendered.manifest_sha256
        locked.signing_fingerprint = signer.fingerprint
        locked.signed_at = locked.updated_at = timezone.now()
        locked.save(
            update_fields=[
                "status",
                "pdf_sha256",
                "manifest_sha256",
                "signing_fingerprint",
                "signed_at",
                "updated_at",
            ]
        )
        audit_append(
            actor=Actor.system(locked.organization_id),
            action="report.sign",
            object_type="report",
            object_id=locked.uid,
            changes={
                "status": {"before": ReportStatus.APPROVED, "after": ReportStatus.SIGNED},
                "pdf_sha256": {"before": None, "after": sha256},
                "manifest_sha256": {"before": None, "after": rendered.manifest_sha256},
                "signing_certificate": {"before": None, "after": signer.fingerprint},
            },
        )


def report_mark_failed(*, report_id: int, code: str, message: str) -> None:
    """End a report that could not be rendered or signed; its snapshot stays."""
    Report.objects.filter(pk=report_id).exclude(status=ReportStatus.SIGNED).update(
        status=ReportStatus.FAILED, error_code=code, message=message, updated_at=timezone.now()
    )
