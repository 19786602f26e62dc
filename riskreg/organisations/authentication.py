"""DRF authentication by bearer token (hashed at rest, expiring, bound to one organisation)."""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from riskreg.organisations import selectors
from riskreg.organisations.errors import TokenExpiredError
from riskreg.organisations.models import ApiToken


class ServiceAccountUser(AnonymousUser):
    """request.user for a service account's token: authenticated, but no Django user."""

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise AuthenticationFailed("Invalid token.") from exc
        token = selectors.token_get_by_key(key=key)
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.is_usable():
            raise TokenExpiredError()
        if token.membership and not token.membership.user.is_active:
            raise AuthenticationFailed("The token's user is deactivated.")
        user = token.membership.user if token.membership else ServiceAccountUser()
        return (user, token)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
