"""Every API view names the action each HTTP method performs; roles decide by the matrix."""

from typing import TYPE_CHECKING

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from riskreg.organisations import selectors
from riskreg.organisations.actor import Actor
from riskreg.organisations.errors import OrganisationRequiredError
from riskreg.organisations.models import ApiToken
from riskreg.organisations.roles import allows

if TYPE_CHECKING:
    from rest_framework.views import APIView


def request_actor(request: Request) -> Actor | None:
    """The actor behind an API request: the token's owner, or the session's membership."""
    if isinstance(request.auth, ApiToken):
        return selectors.actor_for_token(request.auth)
    if not request.user.is_authenticated:
        return None
    membership = getattr(request._request, "membership", None)
    return selectors.actor_for_membership(membership) if membership else None


class RoleAllowed(BasePermission):
    message = "Your role may not do this."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        actions: dict[str, str] | None = getattr(view, "actions", None)
        if actions is None:
            return True  # schema and docs views: public by design
        method = "GET" if request.method == "HEAD" else str(request.method)
        action = actions.get(method)
        if action is None:
            return True  # the view answers 405 for it
        actor = request_actor(request)
        if actor is None:
            if not request.user.is_authenticated:
                raise NotAuthenticated()
            raise OrganisationRequiredError("You are not a member of any organisation.")
        request.actor = actor  # type: ignore[attr-defined]
        return allows(actor.role, action)
