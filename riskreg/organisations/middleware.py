"""Picks the organisation a signed-in user is working in (kept in the session)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from riskreg.organisations import selectors

SESSION_KEY = "organisation_id"


class CurrentOrganisationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        def current() -> object:
            return selectors.membership_current(
                user=request.user, organization_id=request.session.get(SESSION_KEY)
            )

        request.membership = SimpleLazyObject(current)  # type: ignore[attr-defined]
        return self.get_response(request)
