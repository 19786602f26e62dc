"""Reads for organisations, memberships and tokens."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from riskreg.lib.errors import ForeignReferenceError, NotFoundError
from riskreg.lib.hashing import sha256_hex
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import ApiToken, Membership, Organization, ServiceAccount
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


def membership_of_actor(*, actor: Actor) -> Membership | None:
    """The actor's own membership (None for a service account or riskreg itself)."""
    if actor.membership_id is None:
        return None
    return Membership.objects.select_related("user").get(pk=actor.membership_id)


def member_list(*, actor: Actor) -> QuerySet[Membership]:
    """The members of the actor's organisation, users loaded, by username."""
    return (
        Membership.objects.filter(organization_id=actor.organization_id)
        .select_related("user")
        .order_by("user__username", "pk")
    )


def member_get(*, actor: Actor, username: str) -> Membership:
    member = member_list(actor=actor).filter(user__username=username).first()
    if member is None:
        raise NotFoundError(f"No member {username!r} in your organisation.")
    return member


def token_list(*, actor: Actor, mine: bool = False) -> QuerySet[ApiToken]:
    """Tokens the actor may see: its own; an admin's (unless mine) every token of the org."""
    tokens = ApiToken.objects.filter(organization_id=actor.organization_id)
    if actor.membership_id is not None and (mine or actor.role != Role.ADMIN):
        tokens = tokens.filter(membership_id=actor.membership_id)
    elif actor.service_account_id is not None:
        tokens = tokens.filter(service_account_id=actor.service_account_id)
    return tokens.select_related("membership__user", "service_account").order_by(
        "-created_at", "-pk"
    )


def token_get(*, actor: Actor, prefix: str) -> ApiToken:
    token = token_list(actor=actor).filter(prefix=prefix).first()
    if token is None:
        raise NotFoundError(f"No token {prefix!r} in your organisation.")
    return token


def service_account_list(*, actor: Actor) -> QuerySet[ServiceAccount]:
    """The organisation's service accounts, systems and tokens (newest first) loaded."""
    tokens = ApiToken.objects.order_by("-created_at", "-pk")
    return (
        ServiceAccount.objects.filter(organization_id=actor.organization_id)
        .prefetch_related("systems", Prefetch("tokens", queryset=tokens))
        .order_by("slug", "pk")
    )


def service_account_get(*, actor: Actor, slug: str) -> ServiceAccount:
    account = service_account_list(actor=actor).filter(slug=slug).first()
    if account is None:
        raise NotFoundError(f"No service account {slug!r} in your organisation.")
    return account


def service_account_by_slug(*, actor: Actor, slug: str, field: str) -> ServiceAccount:
    """A service account of the organisation, or a foreign-reference error on field."""
    account = service_account_list(actor=actor).filter(slug=slug).first()
    if account is None:
        raise ForeignReferenceError.for_field(field, slug)
    return account
