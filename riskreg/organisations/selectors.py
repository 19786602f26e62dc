"""Reads for organisations, memberships and tokens."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from riskreg.lib.errors import ForeignReferenceError
from riskreg.lib.hashing import sha256_hex
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import ApiToken, Membership, Organization
from riskreg.organisations.roles import Role


def membership_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Membership]:
    """The user's memberships, organisations loaded, by organisation name."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        Membership.objects.filter(user_id=user.pk)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


def membership_current(
    *, user: AbstractBaseUser | AnonymousUser, organization_id: int | None
) -> Membership | None:
    """The membership for the chosen organisation, else the user's first one."""
    memberships = list(membership_list(user=user))
    chosen = [m for m in memberships if m.organization_id == organization_id]
    candidates = chosen or memberships
    return candidates[0] if candidates else None


def membership_get(*, organization_id: int, username: str) -> Membership | None:
    return (
        Membership.objects.select_related("user")
        .filter(organization_id=organization_id, user__username=username)
        .first()
    )


def organization_get(*, slug: str) -> Organization | None:
    return Organization.objects.filter(slug=slug).first()


def organization_list() -> QuerySet[Organization]:
    return Organization.objects.order_by("slug")


def token_get_by_key(*, key: str) -> ApiToken | None:
    """The token whose SHA-256 matches key, owner loaded."""
    return (
        ApiToken.objects.select_related("membership__user", "service_account")
        .filter(key_hash=sha256_hex(key.encode()))
        .first()
    )


def actor_for_membership(membership: Membership) -> Actor:
    return Actor(
        organization_id=membership.organization_id,
        role=Role(membership.role),
        label=membership.user.get_username(),
        membership_id=membership.pk,
    )


def actor_for_token(token: ApiToken) -> Actor:
    if token.membership is not None:
        return actor_for_membership(token.membership)
    account = token.service_account
    assert account is not None  # the token_has_one_owner constraint guarantees it
    system_ids = frozenset(account.systems.values_list("pk", flat=True))
    return Actor(
        organization_id=token.organization_id,
        role=Role(account.role),
        label=f"service:{account.slug}",
        service_account_id=account.pk,
        system_ids=system_ids or None,
    )


def member_by_username(*, organization_id: int, username: str, field: str) -> Membership:
    """A member of the organisation by username, or a foreign-reference error on field."""
    membership = membership_get(organization_id=organization_id, username=username)
    if membership is None:
        raise ForeignReferenceError.for_field(field, username)
    return membership


def organization_by_id(*, organization_id: int) -> Organization:
    return Organization.objects.get(pk=organization_id)
