"""Who is acting: a member, a service account, or riskreg itself (seeding, periodic tasks)."""

from dataclasses import dataclass
from typing import Any

from riskreg.organisations.roles import Role


@dataclass(frozen=True)
class Actor:
    organization_id: int
    role: Role
    label: str
    membership_id: int | None = None
    service_account_id: int | None = None
    # None: every AI system of the organisation; otherwise the only ones visible.
    system_ids: frozenset[int] | None = None

    @property
    def kind(self) -> str:
        if self.membership_id is not None:
            return "member"
        if self.service_account_id is not None:
            return "service_account"
        return "system"

    def audit_ref(self) -> dict[str, Any]:
        """The actor as recorded in audit events."""
        ident = self.membership_id or self.service_account_id
        return {"type": self.kind, "id": ident, "label": self.label}

    @classmethod
    def system(cls, organization_id: int) -> "Actor":
        """riskreg itself, for management commands and periodic tasks."""
        return cls(organization_id=organization_id, role=Role.ADMIN, label="riskreg")
