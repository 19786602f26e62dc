"""The base class of every organisation-scoped API view."""

from typing import Any, ClassVar

from rest_framework.views import APIView

from riskreg.organisations.actor import Actor


class OrgApiView(APIView):
    """Base for API views scoped to the caller's organisation.

    `actions` maps each HTTP method to an action of riskreg.organisations.roles.MATRIX.
    """

    actions: ClassVar[dict[str, str]] = {}

    @property
    def actor(self) -> Actor:
        actor: Actor = self.request.actor  # type: ignore[attr-defined]
        return actor

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "view": self}
