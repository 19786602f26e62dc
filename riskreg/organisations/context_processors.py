from typing import Any

from django.http import HttpRequest

from riskreg.organisations import selectors


def organisation(request: HttpRequest) -> dict[str, Any]:
    """The current membership and the others the user may switch to."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "current_membership": membership if membership else None,
        "memberships": selectors.membership_list(user=user),
    }
