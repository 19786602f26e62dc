"""Evidence (immutable, hashed), its attachments, and incidents.

Evidence rows, their attachments, withdrawals and submissions are append-only: the
database refuses UPDATE and DELETE on them (migration 0002). A correction is a new item
that supersedes the old one; a withdrawal is a row of its own.
"""

import uuid

from django.db import models
from django.utils import timezone


class EvidenceKind(models.TextChoices):
    FAIRNESS = "fairness"
    CALIBRATION = "calibration"
    ROBUSTNESS = "robustness"
    PERFORMANCE = "performance"
    EFFICIENCY = "efficiency"
    DATA_QUALITY = "data_quality"
    DOCUMENT = "document"


class EvidenceContext(models.TextChoices):
    EVALUATION = "evaluation"
    MONITORING = "monitoring"


class EvidenceState(models.TextChoices):
    """Derived, never stored: withdrawn beats superseded beats expired."""

    CURRENT = "current"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class Submission(models.Model):
    """One accepted POST: its idempotency key and the hash of what was sent."""

    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    request_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="submission_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"submission {self.pk}"


class Blob(models.Model):
    """An attachment's bytes, stored once per organisation under their SHA-256."""

    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    media_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "sha256"], name="blob_unique"),
            models.CheckConstraint(condition=models.Q(size__gte=0), name="blob_size_positive"),
        ]

    def __str__(self) -> str:
        return self.sha256


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class AssessmentKind(models.TextChoices):
    FAIRNESS = "fairness"
    CALIBRATION = "calibration"
    DATA_QUALITY = "data_quality"
    # From an uploaded model and its evaluation data (evaluations/services/model_jobs.py).
    ROBUSTNESS = "robustness"
    EFFICIENCY = "efficiency"


class AssessmentJob(models.Model):
    """A predictions file riskreg's workers turn into evidence, one item per kind.

    The database is the source of truth: a worker claims the job by taking a lease it
    renews while it works; a sweep re-enqueues jobs whose lease ran out.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    system = models.ForeignKey("inventory.AISystem", on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="+"
    )
    kinds = models.JSONField()
    mapping = models.JSONField()
    options = models.JSONField(default=dict, blank=True)
    context = models.CharField(max_length=16, choices=EvidenceContext.choices)
    input = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    input_name = models.CharField(max_length=255)
    input_format = models.CharField(max_length=16)
    # Robustness and efficiency jobs: the uploaded model (ONNX, or safetensors weights with
    # a declarative architecture); `input` is then the evaluation data.
    model = models.ForeignKey(
        Blob, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    model_name = models.CharField(max_length=255, blank=True)
    model_format = models.CharField(max_length=16, blank=True)
    architecture = models.ForeignKey(
        Blob, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    request_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=500, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    deliveries = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    submitter_type = models.CharField(max_length=20)
    submitter_id = models.BigIntegerField(null=True, blank=True)
    submitter_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="job_lease")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="job_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=JobStatus.values), name="job_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(progress__gte=0) & models.Q(progress__lte=1),
                name="job_progress_fraction",
            ),
        ]

    def __str__(self) -> str:
        return f"assessment {self.uid}"

    @property
    def done(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class ChunkStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class AssessmentChunk(models.Model):
    """One part of a large predictions file, processed by whichever worker claims it.

    Each part holds a lease like a job does; a done part keeps the engines' additive state
    (`state`, exact JSON) until the last part to finish merges them all into the job's
    evidence. `plan` holds what every part of the job shares (bin edges, the sample's key
    bound); `lease_owner` stays as the worker that computed a done part.
    """

    job = models.ForeignKey(AssessmentJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    row_start = models.BigIntegerField()
    row_stop = models.BigIntegerField()
    # CSV: the part's bytes, and where the header line ends; null for Parquet.
    byte_start = models.BigIntegerField(null=True, blank=True)
    byte_stop = models.BigIntegerField(null=True, blank=True)
    header_stop = models.BigIntegerField(null=True, blank=True)
    plan = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ChunkStatus.choices, default=ChunkStatus.QUEUED
    )
    deliveries = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    state = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="chunk_lease")]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="chunk_index_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=ChunkStatus.values), name="chunk_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(row_stop__gt=models.F("row_start")) & models.Q(row_start__gte=0),
                name="chunk_rows_range",
            ),
        ]

    def __str__(self) -> str:
        return f"part {self.index} of assessment {self.job_id}"


class Evidence(models.Model):
    # The integer id orders rows for cursors; the UUID is what the API shows.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=32, choices=EvidenceKind.choices)
    schema_version = models.CharField(max_length=16)
    system = models.ForeignKey(
        "inventory.AISystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    model_version = models.ForeignKey(
        "inventory.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    context = models.CharField(max_length=16, choices=EvidenceContext.choices)
    datasets = models.ManyToManyField("inventory.Dataset", blank=True, related_name="+")
    effective_date = models.DateField()
    expiry_date = models.DateField(null=True, blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    document = models.JSONField()
    document_sha256 = models.CharField(max_length=64)
    # Provenance: how the item arrived. Stored beside the document, never hashed.
    # The submitter is recorded as the audit trail records actors, not as a foreign
    # key, so that removing a member never has to touch an immutable row.
    submitter_type = models.CharField(max_length=20)
    submitter_id = models.BigIntegerField(null=True, blank=True)
    submitter_label = models.CharField(max_length=200)
    tool_name = models.CharField(max_length=100, blank=True)
    tool_version = models.CharField(max_length=100, blank=True)
    commit_sha = models.CharField(max_length=64, blank=True)
    ci_run_url = models.URLField(max_length=500, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # Set when riskreg's own workers computed the item: one item per job and kind.
    assessment_job = models.ForeignKey(
        AssessmentJob, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )

    class Meta:
        indexes = [
            models.Index(fields=["organization", "system", "kind"], name="evidence_system_kind"),
            models.Index(fields=["organization", "effective_date"], name="evidence_effective"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=EvidenceKind.values), name="evidence_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(context__in=EvidenceContext.values),
                name="evidence_context_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(system__isnull=False) | models.Q(kind=EvidenceKind.DOCUMENT),
                name="evidence_measurement_has_system",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_date__isnull=True)
                | models.Q(expiry_date__gte=models.F("effective_date")),
                name="evidence_expiry_after_effective",
            ),
            models.UniqueConstraint(
                fields=["assessment_job", "kind"],
                condition=models.Q(assessment_job__isnull=False),
                name="evidence_once_per_job_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.uid}"


class EvidenceAttachment(models.Model):
    """An attachment of one item: the stored bytes and the name it was sent under."""

    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="attachments")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evidence", "name"], name="attachment_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Withdrawal(models.Model):
    """The recorded withdrawal of an item; the item itself never changes."""

    evidence = models.OneToOneField(Evidence, on_delete=models.PROTECT, related_name="withdrawal")
    reason = models.TextField(max_length=2000)
    actor_type = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"withdrawal of {self.evidence_id}"


class IncidentSeverity(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentStatus(models.TextChoices):
    OPEN = "open"
    INVESTIGATING = "investigating"
    MITIGATED = "mitigated"
    CLOSED = "closed"


class Incident(models.Model):
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=20000)
    severity = models.CharField(max_length=16, choices=IncidentSeverity.choices)
    status = models.CharField(
        max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    systems = models.ManyToManyField("inventory.AISystem", blank=True, related_name="+")
    model_versions = models.ManyToManyField("inventory.ModelVersion", blank=True, related_name="+")
    risks = models.ManyToManyField("risks.Risk", blank=True, related_name="+")
    occurred_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    reporter_label = models.CharField(max_length=200)
    harmed_parties = models.TextField(max_length=5000, blank=True)
    near_miss = models.BooleanField(default=False)
    root_cause = models.TextField(max_length=10000, blank=True)
    corrective_actions = models.TextField(max_length=10000, blank=True)
    regulator_notification_required = models.BooleanField(default=False)
    regulator_deadline = models.DateTimeField(null=True, blank=True)
    external_reference = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="incident_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=IncidentStatus.values), name="incident_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=IncidentSeverity.values),
                name="incident_severity_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(detected_at__gte=models.F("occurred_at")),
                name="incident_detected_after_occurred",
            ),
            models.CheckConstraint(
                condition=models.Q(regulator_notification_required=False)
                | models.Q(regulator_deadline__isnull=False),
                name="incident_regulator_deadline_given",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"INC-{self.number:03d}"

    @property
    def model_version_refs(self) -> list[dict[str, str]]:
        """Linked model versions as {system, version}; uses the prefetched rows."""
        return [
            {"system": mv.system.slug, "version": mv.version} for mv in self.model_versions.all()
        ]


class TimelineEntryKind(models.TextChoices):
    REPORTED = "reported"
    NOTE = "note"
    STATUS = "status"
    UPDATE = "update"


class IncidentTimelineEntry(models.Model):
    """One line of an incident's append-only timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    kind = models.CharField(max_length=16, choices=TimelineEntryKind.choices)
    text = models.TextField(max_length=10000, blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    author_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"
