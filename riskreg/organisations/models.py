"""Organisations, their members and service accounts, and API tokens."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from riskreg.organisations.roles import Role


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"


class ServiceAccount(models.Model):
    """A non-human API client, typically CI, optionally limited to some AI systems."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="service_accounts"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64)
    role = models.CharField(max_length=32, choices=Role.choices)
    # Empty means every system of the organisation.
    systems = models.ManyToManyField("inventory.AISystem", blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"], name="service_account_slug_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"service account {self.slug}"


class ApiToken(models.Model):
    """A bearer token, stored only as its SHA-256; bound to one organisation."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    service_account = models.ForeignKey(
        ServiceAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Tokens are addressed by prefix within an organisation (revoking, listing).
            models.UniqueConstraint(fields=["organization", "prefix"], name="token_prefix_unique"),
            models.CheckConstraint(
                condition=(
                    models.Q(membership__isnull=False, service_account__isnull=True)
                    | models.Q(membership__isnull=True, service_account__isnull=False)
                ),
                name="token_has_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"token {self.prefix}… ({self.name})"

    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
