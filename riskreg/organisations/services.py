"""Writes for organisations, members, service accounts and tokens."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from riskreg.audit.services import audit_append
from riskreg.lib.errors import PermissionDeniedError, ValidationFailedError
from riskreg.lib.hashing import sha256_hex
from riskreg.organisations.actor import Actor
from riskreg.organisations.errors import (
    AlreadyMemberError,
    LastAdminError,
    SlugTakenError,
    TokenRevokedError,
)
from riskreg.organisations.models import ApiToken, Membership, Organization, ServiceAccount
from riskreg.organisations.roles import Role

TOKEN_PREFIX = "rr_"  # noqa: S105 - a public marker, not a secret
PREFIX_LENGTH = 10
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365


@transaction.atomic
def organization_create(*, name: str, slug: str) -> Organization:
    """Create an organisation; its chain starts with the creation itself."""
    if Organization.objects.filter(slug=slug).exists():
        raise SlugTakenError(f"slug: organisation {slug!r} already exists")
    org = Organization(name=name, slug=slug)
    org.full_clean()
    org.save()
    audit_append(
        actor=Actor.system(org.pk),
        action="organisation.create",
        object_type="organisation",
        object_id=org.pk,
        changes={"name": {"before": None, "after": name}, "slug": {"before": None, "after": slug}},
    )
    return org


@transaction.atomic
def membership_add(
    *, actor: Actor, username: str, role: Role, password: str | None = None, email: str = ""
) -> Membership:
    """Add a user (created when new) to the actor's organisation with a role."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    elif Membership.objects.filter(user=user, organization_id=actor.organization_id).exists():
        raise AlreadyMemberError(f"username: {username!r} is already a member")
    membership = Membership(user=user, organization_id=actor.organization_id, role=role.value)
    membership.full_clean()
    membership.save()
    audit_append(
        actor=actor,
        action="membership.add",
        object_type="membership",
        object_id=membership.pk,
        changes={
            "user": {"before": None, "after": username},
            "role": {"before": None, "after": role},
        },
    )
    return membership


@transaction.atomic
def membership_change_role(*, actor: Actor, membership: Membership, role: Role) -> Membership:
    """Give a member another role; the organisation always keeps at least one admin."""
    before = membership.role
    if before == role:
        return membership
    # Lock the admins' rows so that two concurrent demotions cannot both pass the check.
    admins = list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if before == Role.ADMIN and admins == [membership.pk]:
        raise LastAdminError(f"role: {membership.user.get_username()!r} is the last admin")
    membership.role = role.value
    membership.full_clean()
    membership.save(update_fields=["role"])
    audit_append(
        actor=actor,
        action="membership.change_role",
        object_type="membership",
        object_id=membership.pk,
        changes={"role": {"before": before, "after": role.value}},
    )
    return membership


@transaction.atomic
def service_account_create(
    *, actor: Actor, name: str, slug: str, role: Role, system_ids: list[int] | None = None
) -> ServiceAccount:
    """Create a service account, optionally limited to some AI systems."""
    if ServiceAccount.objects.filter(organization_id=actor.organization_id, slug=slug).exists():
        raise SlugTakenError(f"slug: service account {slug!r} already exists")
    account = ServiceAccount(
        organization_id=actor.organization_id, name=name, slug=slug, role=role.value
    )
    account.full_clean()
    account.save()
    if system_ids:
        account.systems.set(system_ids)
    audit_append(
        actor=actor,
        action="service_account.create",
        object_type="service_account",
        object_id=account.pk,
        changes={
            "slug": {"before": None, "after": slug},
            "role": {"before": None, "after": role},
            "systems": {"before": None, "after": sorted(system_ids or [])},
        },
    )
    return account


def _check_token_owner(
    actor: Actor, membership: Membership | None, service_account: ServiceAccount | None
) -> None:
    """Members mint their own tokens; admins any in the organisation; service accounts none."""
    if actor.kind == "service_account":
        raise PermissionDeniedError("A service account may not issue tokens.")
    owner_org = (membership or service_account).organization_id  # type: ignore[union-attr]
    if owner_org != actor.organization_id:
        raise PermissionDeniedError("The token's owner is not in your organisation.")
    is_own = membership is not None and membership.pk == actor.membership_id
    if not is_own and actor.role != Role.ADMIN:
        raise PermissionDeniedError("Only admins issue tokens for others or service accounts.")


def _new_key() -> str:
    """A fresh key whose prefix no other token shows (the prefix names it in URLs)."""
    while True:
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        if not ApiToken.objects.filter(prefix=key[:PREFIX_LENGTH]).exists():
            return key


@transaction.atomic
def token_create(
    *,
    actor: Actor,
    name: str,
    membership: Membership | None = None,
    service_account: ServiceAccount | None = None,
    days: int = DEFAULT_TOKEN_DAYS,
) -> tuple[ApiToken, str]:
    """Issue a token for a member or a service account; the key is returned only here."""
    _check_token_owner(actor, membership, service_account)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailedError.for_field("days", f"must be between 1 and {MAX_TOKEN_DAYS}")
    key, now = _new_key(), timezone.now()
    token = ApiToken(
        organization_id=actor.organization_id,
        membership=membership,
        service_account=service_account,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        key_hash=sha256_hex(key.encode()),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    token.full_clean()
    token.save()
    owner = membership.user.get_username() if membership else f"service:{service_account.slug}"  # type: ignore[union-attr]
    audit_append(
        actor=actor,
        action="token.create",
        object_type="api_token",
        object_id=token.pk,
        changes={
            "owner": {"before": None, "after": owner},
            "name": {"before": None, "after": name},
            "prefix": {"before": None, "after": token.prefix},
            "expires_at": {"before": None, "after": token.expires_at},
        },
    )
    return token, key


@transaction.atomic
def token_revoke(*, actor: Actor, token: ApiToken, reason: str = "") -> ApiToken:
    """Revoke a token at once; a token is revoked only once."""
    # Re-read under a lock: two revocations at the same moment must not both succeed.
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        raise TokenRevokedError(f"prefix: token {token.prefix!r} is already revoked")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    changes: dict[str, dict[str, object]] = {
        "revoked_at": {"before": None, "after": token.revoked_at}
    }
    if reason:
        changes["reason"] = {"before": None, "after": reason}
    audit_append(
        actor=actor,
        action="token.revoke",
        object_type="api_token",
        object_id=token.pk,
        changes=changes,
    )
    return token
