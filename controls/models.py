"""The AI RMF 1.0 catalog: functions, categories, subcategories (shared by all organisations)."""

import uuid

from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    ORGANISATION = "organisation"
    SYSTEM = "system"


class Function(models.Model):
    id = models.CharField(primary_key=True, max_length=16)
    code = models.CharField(max_length=4)
    title = models.CharField(max_length=100)
    summary = models.TextField()
    position = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return self.id


class Category(models.Model):
    id = models.CharField(primary_key=True, max_length=16)
    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="categories")
    summary = models.TextField()
    page = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return self.id


class Subcategory(models.Model):
    id = models.CharField(primary_key=True, max_length=16)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="subcategories")
    outcome = models.TextField()
    page = models.PositiveSmallIntegerField()
    scope = models.CharField(max_length=16, choices=Scope.choices)
    scope_note = models.TextField(blank=True)
    characteristic = models.CharField(max_length=40, blank=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.id


class VerdictStatus(models.TextChoices):
    NOT_MET = "not_met"
    INCONCLUSIVE = "inconclusive"
    PARTIALLY_MET = "partially_met"
    MET = "met"
    NOT_ASSESSED = "not_assessed"
    NOT_APPLICABLE = "not_applicable"


class Policy(models.Model):
    """One version of an organisation's threshold overrides; versions are never changed.

    thresholds: {rule id: {"threshold": t, "band": b}} for every system;
    tiers: {risk tier: {rule id: {...}}}, which win over thresholds for that tier.
    """

    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField()
    thresholds = models.JSONField(default=dict, blank=True)
    tiers = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=500, blank=True)
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "version"], name="policy_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"policy v{self.version}"


class Override(models.Model):
    """An officer's decision on one subcategory of one system (or of the organisation):
    a status in place of the computed one, or not applicable; always with an expiry."""

    class Kind(models.TextChoices):
        OVERRIDE = "override"
        NOT_APPLICABLE = "not_applicable"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    system = models.ForeignKey(
        "inventory.AISystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subcategory = models.ForeignKey(Subcategory, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=VerdictStatus.choices)
    justification = models.TextField(max_length=5000)
    expires_at = models.DateTimeField()
    actor_type = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "expires_at"], name="override_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="override_expires_after_creation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subcategory_id}"


class Verdict(models.Model):
    """The current verdict on one subcategory in one scope; history is in VerdictChange.

    scope: "org" (organisation-wide outcomes), "sys:<id>" (the system: the worst of its
    model versions, overrides applied) or "mv:<id>" (one model version in scope).
    """

    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    scope = models.CharField(max_length=40)
    system = models.ForeignKey(
        "inventory.AISystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    model_version = models.ForeignKey(
        "inventory.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subcategory = models.ForeignKey(Subcategory, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=VerdictStatus.choices)
    computed_status = models.CharField(max_length=20, choices=VerdictStatus.choices)
    rationale = models.JSONField(default=list)
    evidence = models.JSONField(default=list)
    regression = models.BooleanField(default=False)
    override = models.ForeignKey(
        Override, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rules_version = models.CharField(max_length=64)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    decided_at = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "scope", "subcategory"], name="verdict_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=VerdictStatus.values), name="verdict_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["organization", "valid_until"], name="verdict_expiry")]

    def __str__(self) -> str:
        return f"{self.scope} {self.subcategory_id} {self.status}"


class VerdictChange(models.Model):
    """A verdict as it was decided at one moment; append-only, replayed by ?at=."""

    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    scope = models.CharField(max_length=40)
    system = models.ForeignKey(
        "inventory.AISystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    model_version = models.ForeignKey(
        "inventory.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subcategory = models.ForeignKey(Subcategory, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=VerdictStatus.choices)
    previous = models.CharField(max_length=20, blank=True)
    regression = models.BooleanField(default=False)
    previous_regression = models.BooleanField(default=False)
    rationale = models.JSONField(default=list)
    evidence = models.JSONField(default=list)
    overridden = models.BooleanField(default=False)
    rules_version = models.CharField(max_length=64)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    cause = models.CharField(max_length=40)
    decided_at = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "scope", "decided_at"], name="verdict_change_at"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.subcategory_id} {self.previous}->{self.status}"


class VerdictUpdate(models.Model):
    """The verdict work one event asked for, so that a client can wait for it."""

    class State(models.TextChoices):
        PENDING = "pending"
        DONE = "done"

    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    system = models.ForeignKey(
        "inventory.AISystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evidence = models.ForeignKey(
        "evaluations.Evidence",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verdict_updates",
    )
    job = models.ForeignKey(
        "evaluations.AssessmentJob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verdict_updates",
    )
    cause = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    affected = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"], name="verdict_update_pending")]

    def __str__(self) -> str:
        return f"{self.cause} {self.state}"


class Finding(models.Model):
    """A not-met verdict or a regression; it proposes a risk or attaches to an open one."""

    class Kind(models.TextChoices):
        NOT_MET = "not_met"
        REGRESSION = "regression"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    system = models.ForeignKey("inventory.AISystem", on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(
        "inventory.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subcategory = models.ForeignKey(Subcategory, on_delete=models.PROTECT, related_name="+")
    change = models.ForeignKey(VerdictChange, on_delete=models.PROTECT, related_name="+")
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=list)
    evidence = models.JSONField(default=list)
    risk = models.ForeignKey(
        "risks.Risk", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed = models.BooleanField(default=False)  # True when this finding created the risk
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "system"], name="finding_system")]

    def __str__(self) -> str:
        return f"{self.kind} {self.subcategory_id}"
