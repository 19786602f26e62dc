"""The risk core: one register per organisation, reference codes RSK-001, …"""

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
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="risk_number_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=RiskStatus.values), name="risk_status_valid"
            ),
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
