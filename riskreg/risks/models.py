"""The risk register: risks (RSK-001, …), their scores on the organisation's matrix,
treatment, acceptances, reviews and comments.

Scores, reviews and comments are append-only (migration 0003): a new score replaces the
risk's pointer to its latest, and the old row stays readable with the matrix version it
was made on.
"""

from datetime import date

from django.db import models
from django.utils import timezone


class RiskStatus(models.TextChoices):
    PROPOSED = "proposed"
    OPEN = "open"
    TREATING = "treating"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    CLOSED = "closed"


class RiskSource(models.TextChoices):
    FINDING = "finding"
    INCIDENT = "incident"
    ASSESSMENT = "assessment"
    MANUAL = "manual"


class RiskCategory(models.TextChoices):
    """Grouped by the AI RMF trustworthiness characteristics, plus operational and legal."""

    VALIDITY = "validity_reliability"
    SAFETY = "safety"
    SECURITY = "security_resilience"
    ACCOUNTABILITY = "accountability_transparency"
    EXPLAINABILITY = "explainability"
    PRIVACY = "privacy"
    FAIRNESS = "fairness"
    ENVIRONMENTAL = "environmental"
    THIRD_PARTY = "third_party"
    LEGAL = "legal_compliance"
    OPERATIONAL = "operational"


class Level(models.TextChoices):
    """Score bands, lowest first; a band's position is its rank."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


LEVELS: list[str] = list(Level.values)


class ScoreKind(models.TextChoices):
    INHERENT = "inherent"  # before any control
    CURRENT = "current"  # with the controls in place today
    RESIDUAL = "residual"  # expected once the treatment is done


class TreatmentDecision(models.TextChoices):
    MITIGATE = "mitigate"
    TRANSFER = "transfer"
    AVOID = "avoid"
    ACCEPT = "accept"


class ActionStatus(models.TextChoices):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_ACTION_STATUSES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


class AcceptanceEnd(models.TextChoices):
    EXPIRED = "expired"
    RENEWED = "renewed"
    REOPENED = "reopened"
    CLOSED = "closed"


class RiskMatrix(models.Model):
    """One version of an organisation's scoring settings; a change writes the next version.

    Scores point at the version they were made on, so they stay readable afterwards.
    """

    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField()
    likelihood_labels = models.JSONField()  # five labels, 1 (rarest) first
    impact_labels = models.JSONField()  # five labels, 1 (slightest) first
    # {"low": 4, "medium": 9, "high": 16}: the highest likelihood x impact of each band;
    # anything above the "high" limit is critical.
    band_limits = models.JSONField()
    tolerance = models.CharField(max_length=10, choices=Level.choices)
    review_days = models.JSONField()  # {level: days between reviews}
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "version"], name="risk_matrix_version_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(tolerance__in=Level.values), name="risk_matrix_tolerance_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"matrix v{self.version}"

    def level_for(self, score: int) -> str:
        for level in (Level.LOW, Level.MEDIUM, Level.HIGH):
            if score <= self.band_limits[level]:
                return level
        return Level.CRITICAL


class Risk(models.Model):
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    statement = models.TextField(max_length=10000)
    category = models.CharField(max_length=40, choices=RiskCategory.choices)
    owner = models.ForeignKey(
        "organisations.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        max_length=20, choices=RiskStatus.choices, default=RiskStatus.PROPOSED
    )
    source = models.CharField(max_length=20, choices=RiskSource.choices, default=RiskSource.MANUAL)
    systems = models.ManyToManyField("inventory.AISystem", blank=True, related_name="+")
    model_versions = models.ManyToManyField("inventory.ModelVersion", blank=True, related_name="+")
    datasets = models.ManyToManyField("inventory.Dataset", blank=True, related_name="+")
    subcategories = models.ManyToManyField("controls.Subcategory", blank=True, related_name="+")
    # The latest score of each kind; the rows themselves are the history.
    inherent_score = models.ForeignKey(
        "RiskScore", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    current_score = models.ForeignKey(
        "RiskScore", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    residual_score = models.ForeignKey(
        "RiskScore", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The level the register filters and sorts by: current, else inherent (see docs/risks.md).
    level = models.CharField(max_length=10, choices=Level.choices, blank=True)
    treatment_decision = models.CharField(
        max_length=10, choices=TreatmentDecision.choices, blank=True
    )
    treatment_plan = models.TextField(max_length=10000, blank=True)
    next_review_date = models.DateField(null=True, blank=True)
    last_reviewed_on = models.DateField(null=True, blank=True)
    dismissal_reason = models.TextField(max_length=2000, blank=True)
    # When the risk was first identified: a register carried over from a spreadsheet keeps
    # its history, so reviews held before riskreg knew the risk can be recorded.
    identified_on = models.DateField(default=timezone.localdate)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="risk_number_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=RiskStatus.values), name="risk_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(level__in=[*Level.values, ""]), name="risk_level_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status="dismissed", dismissal_reason__gt="")
                | ~models.Q(status="dismissed"),
                name="risk_dismissal_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "level"], name="risk_register"),
            models.Index(fields=["next_review_date"], name="risk_next_review"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"RSK-{self.number:03d}"

    @property
    def model_version_refs(self) -> list[dict[str, str]]:
        """Linked model versions as {system, version}; uses the prefetched rows."""
        return [
            {"system": mv.system.slug, "version": mv.version} for mv in self.model_versions.all()
        ]


class RiskScore(models.Model):
    """One scoring of one kind (inherent, current, residual), on one matrix version."""

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="scores")
    kind = models.CharField(max_length=10, choices=ScoreKind.choices)
    likelihood = models.PositiveSmallIntegerField()
    impact = models.PositiveSmallIntegerField()
    score = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=10, choices=Level.choices)
    matrix = models.ForeignKey(RiskMatrix, on_delete=models.PROTECT, related_name="+")
    rationale = models.TextField(max_length=2000, blank=True)
    scored_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(likelihood__gte=1, likelihood__lte=5),
                name="risk_score_likelihood_range",
            ),
            models.CheckConstraint(
                condition=models.Q(impact__gte=1, impact__lte=5), name="risk_score_impact_range"
            ),
            models.CheckConstraint(
                condition=models.Q(score=models.F("likelihood") * models.F("impact")),
                name="risk_score_is_product",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ScoreKind.values), name="risk_score_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.likelihood}x{self.impact}"

    @property
    def likelihood_label(self) -> str:
        return str(self.matrix.likelihood_labels[self.likelihood - 1])

    @property
    def impact_label(self) -> str:
        return str(self.matrix.impact_labels[self.impact - 1])


class TreatmentAction(models.Model):
    """A step of a risk's treatment: who does what by when."""

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="actions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        "organisations.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["risk", "number"], name="treatment_action_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=ActionStatus.values),
                name="treatment_action_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="treatment_action_due")]

    def __str__(self) -> str:
        return f"{self.risk_id}/A{self.number}"

    def is_overdue(self, today: date) -> bool:
        return self.status in OPEN_ACTION_STATUSES and self.due_date < today


class RiskAcceptance(models.Model):
    """An officer's acceptance of a risk's residual level until a date.

    Only `ended_at` and `end_reason` ever change: when it expires, is renewed, or the
    risk is reopened.
    """

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="acceptances")
    accepted_by = models.ForeignKey(
        "organisations.Membership", on_delete=models.PROTECT, related_name="+"
    )
    accepted_by_label = models.CharField(max_length=200)
    accepted_by_role = models.CharField(max_length=32)
    justification = models.TextField(max_length=5000)
    conditions = models.TextField(max_length=5000)
    valid_until = models.DateField()
    residual_score = models.ForeignKey(RiskScore, on_delete=models.PROTECT, related_name="+")
    residual_level = models.CharField(max_length=10, choices=Level.choices)
    tolerance = models.CharField(max_length=10, choices=Level.choices)
    matrix = models.ForeignKey(RiskMatrix, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=AcceptanceEnd.choices, blank=True)

    class Meta:
        constraints = [
            # At most one acceptance in force per risk.
            models.UniqueConstraint(
                fields=["risk"],
                condition=models.Q(ended_at__isnull=True),
                name="risk_acceptance_one_in_force",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True, end_reason="")
                | models.Q(ended_at__isnull=False, end_reason__gt=""),
                name="risk_acceptance_end_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"acceptance of {self.risk_id} until {self.valid_until}"


class RiskReview(models.Model):
    """A periodic review of a risk: who looked, what they noted, when the next one is due."""

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="reviews")
    # None when a service account or riskreg itself acted; the label says who.
    reviewer = models.ForeignKey(
        "organisations.Membership", null=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewer_label = models.CharField(max_length=200)
    reviewed_on = models.DateField()
    note = models.TextField(max_length=5000)
    next_review_date = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"review of {self.risk_id} at {self.created_at:%Y-%m-%d}"


class RiskComment(models.Model):
    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="comments")
    # None when a service account or riskreg itself acted; the label says who.
    author = models.ForeignKey(
        "organisations.Membership", null=True, on_delete=models.PROTECT, related_name="+"
    )
    author_label = models.CharField(max_length=200)
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"comment on {self.risk_id} by {self.author_label}"
