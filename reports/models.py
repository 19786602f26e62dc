"""Reports: a snapshot taken once, a draft rendered from it, an approval, a signed PDF.

The snapshot (everything the report shows, as hashed JSON) never changes after the
request; the draft and the signed final are rendered from it, so they show the same data.
The signed PDF is stored once, content-addressed, and its SHA-256 kept here.
"""

import uuid

from django.db import models
from django.utils import timezone


class ReportKind(models.TextChoices):
    SYSTEM = "system"
    REGISTER = "register"
    ANNEX_IV = "annex-iv", "Annex IV"


class ReportStatus(models.TextChoices):
    QUEUED = "queued"  # snapshot taken, draft not yet rendered
    DRAFT = "draft"  # draft rendered, waiting for approval
    APPROVED = "approved"  # approved, final being rendered and signed
    SIGNED = "signed"
    FAILED = "failed"


class Report(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    system = models.ForeignKey(
        "inventory.AISystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    period_from = models.DateField(null=True, blank=True)
    period_to = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    snapshot = models.JSONField()
    snapshot_sha256 = models.CharField(max_length=64)
    template_version = models.CharField(max_length=16)
    generator_version = models.CharField(max_length=32)
    requested_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    draft_sha256 = models.CharField(max_length=64, blank=True)
    draft_rendered_at = models.DateTimeField(null=True, blank=True)
    approved_by_label = models.CharField(max_length=200, blank=True)
    approved_by_role = models.CharField(max_length=32, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = models.TextField(max_length=2000, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signing_fingerprint = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="report_recent")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ReportKind.values), name="report_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ReportStatus.values), name="report_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="register", system__isnull=True)
                | (~models.Q(kind="register") & models.Q(system__isnull=False)),
                name="report_scope_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["organization", "pdf_sha256"],
                condition=~models.Q(pdf_sha256=""),
                name="report_pdf_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} report {self.uid}"


class SigningCertificate(models.Model):
    """A certificate the organisation has signed reports with; kept after rotation so that
    older reports still verify. The private key lives in the key directory, never here."""

    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the signing certificate
    certificate_pem = models.TextField()
    ca_certificate_pem = models.TextField()
    ca_fingerprint = models.CharField(max_length=64)
    source = models.CharField(max_length=16)  # generated | imported
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fingerprint"], name="signing_certificate_unique"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(retired_at__isnull=True),
                name="one_signing_certificate_in_use",
            ),
        ]

    def __str__(self) -> str:
        return self.fingerprint[:16]
