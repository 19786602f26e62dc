"""Roles and the role x action matrix.

docs/roles.md carries the same matrix as a table; tests read that table and
check both that it matches this one and that every endpoint behaves by it.
"""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    COMPLIANCE_OFFICER = "compliance_officer", "Compliance officer"
    ENGINEER = "engineer", "Engineer"
    AUDITOR = "auditor", "Auditor"


ALL = frozenset(Role)
ADMIN, OFFICER, ENGINEER, AUDITOR = (
    Role.ADMIN,
    Role.COMPLIANCE_OFFICER,
    Role.ENGINEER,
    Role.AUDITOR,
)

# action -> roles allowed
MATRIX: dict[str, frozenset[Role]] = {
    "me.read": ALL,
    "catalog.read": ALL,
    "posture.read": ALL,
    "posture.override": frozenset({ADMIN, OFFICER}),
    "finding.read": ALL,
    "policy.read": ALL,
    "policy.update": frozenset({ADMIN, OFFICER}),
    "report.read": ALL,
    "report.request": frozenset({ADMIN, OFFICER}),
    "report.approve": frozenset({ADMIN, OFFICER}),
    "report.verify": ALL,
    "system.read": ALL,
    "system.create": frozenset({ADMIN, OFFICER, ENGINEER}),
    "system.update": frozenset({ADMIN, OFFICER, ENGINEER}),
    "model_version.read": ALL,
    "model_version.create": frozenset({ADMIN, ENGINEER}),
    "model_version.update": frozenset({ADMIN, ENGINEER}),
    "dataset.read": ALL,
    "dataset.create": frozenset({ADMIN, ENGINEER}),
    "dataset.update": frozenset({ADMIN, ENGINEER}),
    "risk.read": ALL,
    "risk.create": frozenset({ADMIN, OFFICER, ENGINEER}),
    "risk.update": frozenset({ADMIN, OFFICER}),
    "risk.transition": frozenset({ADMIN, OFFICER}),
    "risk.score": frozenset({ADMIN, OFFICER}),
    "risk.treat": frozenset({ADMIN, OFFICER}),
    # Who of the officers and admins may accept a given risk is decided in the service
    # (segregation of duties, tolerance); see docs/roles.md.
    "risk.accept": frozenset({ADMIN, OFFICER}),
    "risk.dismiss": frozenset({ADMIN, OFFICER}),
    "risk.review": frozenset({ADMIN, OFFICER}),
    "risk.comment": frozenset({ADMIN, OFFICER, ENGINEER}),
    "risk.export": ALL,
    "risk.import": frozenset({ADMIN, OFFICER}),
    "risk_matrix.read": ALL,
    "risk_matrix.update": frozenset({ADMIN}),
    "notification.read": ALL,
    "notification.update": ALL,
    "webhook.read": frozenset({ADMIN, OFFICER}),
    "webhook.manage": frozenset({ADMIN}),
    "evidence.read": ALL,
    "evidence.create": frozenset({ADMIN, OFFICER, ENGINEER}),
    "evidence.withdraw": frozenset({ADMIN, OFFICER}),
    "assessment.read": ALL,
    "assessment.create": frozenset({ADMIN, OFFICER, ENGINEER}),
    "assessment.cancel": frozenset({ADMIN, OFFICER, ENGINEER}),
    "incident.read": ALL,
    "incident.create": frozenset({ADMIN, OFFICER, ENGINEER}),
    "incident.update": frozenset({ADMIN, OFFICER, ENGINEER}),
    # Engineers move incidents along; closing is an officer's call (checked in the service).
    "incident.transition": frozenset({ADMIN, OFFICER, ENGINEER}),
    "incident.note": frozenset({ADMIN, OFFICER, ENGINEER}),
    "audit.read": frozenset({ADMIN, OFFICER, AUDITOR}),
    "audit.export": frozenset({ADMIN, OFFICER, AUDITOR}),
    # Everyone manages their own tokens; only admins see and revoke everyone's.
    "token.read": ALL,
    "token.create": ALL,
    "token.revoke": ALL,
    "member.read": frozenset({ADMIN, OFFICER, AUDITOR}),
    "member.create": frozenset({ADMIN}),
    "member.update": frozenset({ADMIN}),
    "service_account.read": frozenset({ADMIN, OFFICER, AUDITOR}),
    "service_account.create": frozenset({ADMIN}),
}


def allows(role: str, action: str) -> bool:
    return role in MATRIX[action]
