"""Roles and the role x action matrix.

docs/roles.md carries the same matrix as a table; tests read that table and
check both that it matches this one and that every endpoint behaves by it.
"""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COMPLIANCE_OFFICER = "compliance_officer"
    ENGINEER = "engineer"
    AUDITOR = "auditor"


ALL = frozenset(Role)
A, O, E, U = Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.ENGINEER, Role.AUDITOR

# action -> roles allowed
MATRIX: dict[str, frozenset[Role]] = {
    "me.read": ALL,
    "catalog.read": ALL,
    "system.read": ALL,
    "system.create": frozenset({A, O, E}),
    "system.update": frozenset({A, O, E}),
    "model_version.read": ALL,
    "model_version.create": frozenset({A, E}),
    "model_version.update": frozenset({A, E}),
    "dataset.read": ALL,
    "dataset.create": frozenset({A, E}),
    "dataset.update": frozenset({A, E}),
    "risk.read": ALL,
    "risk.create": frozenset({A, O, E}),
    "risk.update": frozenset({A, O}),
    "risk.transition": frozenset({A, O}),
    "audit.read": frozenset({A, O, U}),
    "audit.export": frozenset({A, O, U}),
}


def allows(role: str, action: str) -> bool:
    return role in MATRIX[action]
