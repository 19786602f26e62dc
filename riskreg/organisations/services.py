"""Writes for organisations, members, service accounts and tokens."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from riskreg.audit.services import audit_append
from riskreg.lib.hashing import sha256_hex
from riskreg.organisations.actor import Actor
from riskreg.organisations.errors import SlugTakenError
from riskreg.organisations.models import ApiToken, Membership, Organization, ServiceAccount
from riskreg.organisations.roles import Role

TOKEN_PREFIX = "rr_"  # noqa: S105 - a public marker, not a secret
DEFAULT_TOKEN_DAYS = 90


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
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organization_id=actor.organization_id,
        membership=membership,
        service_account=service_account,
        name=name,
        prefix=key[:10],
        key_hash=sha256_hex(key.encode()),
        expires_at=timezone.now() + timedelta(days=days),
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
            "expires_at": {"before": None, "after": token.expires_at},
        },
    )
    return token, key


@transaction.atomic
def token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token at once."""
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_append(
        actor=actor,
        action="token.revoke",
        object_type="api_token",
        object_id=token.pk,
        changes={"revoked_at": {"before": None, "after": token.revoked_at}},
    )
    return token
