"""The AI inventory: systems, their model versions, and datasets."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

sha256_validator = RegexValidator(r"^[0-9a-f]{64}$", "must be 64 lowercase hex digits (SHA-256)")
# Versions appear in URLs (/systems/{slug}/model-versions/{version}/): no "/" or spaces.
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"
version_validator = RegexValidator(
    VERSION_PATTERN, "must start with a letter or digit and use only letters, digits, . _ + -"
)


class LifecycleStage(models.TextChoices):
    DESIGN = "design"
    DEVELOPMENT = "development"
    VALIDATION = "validation"
    DEPLOYMENT = "deployment"
    OPERATION = "operation"
    RETIRED = "retired"


class DeploymentContext(models.TextChoices):
    CLOUD = "cloud"
    ON_PREMISES = "on_premises"
    EDGE = "edge"
    ON_DEVICE = "on_device"
    HYBRID = "hybrid"


class RiskTier(models.TextChoices):
    MINIMAL = "minimal"
    LIMITED = "limited"
    HIGH = "high"
    UNACCEPTABLE = "unacceptable"


class AISystem(models.Model):
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64)
    description = models.TextField(blank=True, max_length=10000)
    intended_purpose = models.TextField(blank=True, max_length=10000)
    owner = models.ForeignKey(
        "organisations.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    business_unit = models.CharField(max_length=200, blank=True)
    lifecycle_stage = models.CharField(
        max_length=32, choices=LifecycleStage.choices, default=LifecycleStage.DESIGN
    )
    deployment_context = models.CharField(
        max_length=32, choices=DeploymentContext.choices, default=DeploymentContext.CLOUD
    )
    risk_tier = models.CharField(max_length=32, choices=RiskTier.choices, default=RiskTier.MINIMAL)
    is_generative = models.BooleanField(default=False)
    # Third-party components: who supplies the model, and the base model it builds on.
    supplier = models.CharField(max_length=200, blank=True)
    base_model = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="system_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ModelStatus(models.TextChoices):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"
    RETIRED = "retired"


class Dataset(models.Model):
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64)
    version = models.CharField(max_length=64, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True, validators=[sha256_validator])
    source = models.CharField(max_length=500, blank=True)
    licence = models.CharField(max_length=200, blank=True)
    collection_start = models.DateField(null=True, blank=True)
    collection_end = models.DateField(null=True, blank=True)
    contains_personal_data = models.BooleanField(default=False)
    intended_use = models.TextField(blank=True, max_length=10000)
    known_limitations = models.TextField(blank=True, max_length=10000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="dataset_slug_unique"),
            models.CheckConstraint(
                condition=models.Q(collection_start__isnull=True)
                | models.Q(collection_end__isnull=True)
                | models.Q(collection_start__lte=models.F("collection_end")),
                name="dataset_collection_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()

    def clean(self) -> None:
        # The check constraint backs this up; here the error names the field.
        start, end = self.collection_start, self.collection_end
        if start and end and start > end:
            reason = "the collection period must not end before it starts"
            raise ValidationError({"collection_start": reason, "collection_end": reason})


class ModelVersion(models.Model):
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="model_versions")
    version = models.CharField(max_length=64, validators=[version_validator])
    status = models.CharField(
        max_length=32, choices=ModelStatus.choices, default=ModelStatus.DEVELOPMENT
    )
    framework = models.CharField(max_length=100, blank=True)
    artifact_sha256 = models.CharField(max_length=64, blank=True, validators=[sha256_validator])
    training_datasets = models.ManyToManyField(Dataset, blank=True, related_name="model_versions")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="model_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.version}"
