"""Every role against every endpoint, in its own organisation and against another's.

The cases come from the URL configuration, so a new endpoint cannot escape: without a
sample request in SAMPLES below, its cases fail and name it. What each role may do is read
from docs/roles.md (not from MATRIX), so the document is what is tested.

Foreign objects. The permission is checked before the object is looked up, so a role that
may not perform an action gets 403 permission_denied even for another organisation's
object. That reveals nothing: the same role gets the same 403 for an object that exists
nowhere, and a role that may perform the action gets 404 not_found, identical (up to the
value it sent) to the answer for an object that does not exist.
"""

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from riskreg.organisations.apiview import OrgApiView
from riskreg.organisations.roles import Role
from tests.api.conftest import PREDICTIONS, SUBCATEGORY, World, performance_document
from tests.api.helpers import (
    HANDLER_METHODS,
    Operation,
    api_operations,
    api_views,
    assert_envelope,
    assert_nothing_written,
    audit_events_since,
    body_bytes,
    db_snapshot,
    doc_endpoint_actions,
    doc_role_matrix,
    last_audit_id,
)

# One world for the module, each case in a savepoint (tests/api/conftest.py).
pytestmark = pytest.mark.shared_world


@dataclass(frozen=True)
class Sample:
    """A valid request for one operation.

    kwargs maps each URL kwarg to the kind of object it names ("system", "risk", ...),
    resolved in acme for own-organisation cases and in globex for foreign ones. audit lists
    the actions of the events an allowed write appends, in order.
    """

    kwargs: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    audit: tuple[str, ...] = ()
    multipart: bool = False  # bytes values of body are sent as file parts


SYSTEM = {"slug": "system"}
MODEL_VERSION = {"slug": "system", "version": "model_version"}
DATASET = {"slug": "dataset"}
RISK = {"reference": "risk"}
TOKEN = {"prefix": "token"}  # each caller's own token (World.own_by_role)
MEMBER = {"username": "member"}
EVIDENCE = {"uid": "evidence"}
INCIDENT = {"reference": "incident"}
WEBHOOK = {"uid": "webhook"}
REPORT = {"uid": "report"}
OPEN_RISK = {"reference": "open_risk"}  # RSK-002: open, scored, owned by the engineer
ACTION = {"reference": "open_risk", "number": "action"}
# Acceptances must end within a year of today, whenever the suite runs.
VALID_UNTIL = (date.today() + timedelta(days=90)).isoformat()  # noqa: DTZ011 - a calendar date

SAMPLES: dict[tuple[str, str], Sample] = {
    ("GET", "/api/v1/me/"): Sample(),
    ("GET", "/api/v1/catalog/"): Sample(),
    ("GET", "/api/v1/catalog/genai-risks/"): Sample(),
    ("GET", "/api/v1/policies/"): Sample(),
    ("POST", "/api/v1/policies/"): Sample(
        body={"thresholds": {"fairness.demographic-parity-ratio": {"threshold": 0.85}}},
        audit=("policy.update",),
    ),
    ("GET", "/api/v1/systems/{slug}/posture/"): Sample(kwargs=SYSTEM),
    ("GET", "/api/v1/systems/{slug}/posture/changes/"): Sample(kwargs=SYSTEM),
    ("GET", "/api/v1/systems/{slug}/posture/oscal/"): Sample(kwargs=SYSTEM),
    ("POST", "/api/v1/systems/{slug}/overrides/"): Sample(
        kwargs=SYSTEM,
        body={
            "subcategory": SUBCATEGORY,
            "kind": "not_applicable",
            "justification": "No protected groups are affected.",
            "expires_at": f"{VALID_UNTIL}T00:00:00Z",
        },
        audit=("verdict.not_applicable",),
    ),
    ("GET", "/api/v1/systems/{slug}/findings/"): Sample(kwargs=SYSTEM),
    ("GET", "/api/v1/reports/"): Sample(),
    ("POST", "/api/v1/reports/"): Sample(
        body={"kind": "system", "system": "credit-scoring"}, audit=("report.request",)
    ),
    ("GET", "/api/v1/reports/certificates/"): Sample(),
    ("POST", "/api/v1/reports/verify/"): Sample(
        body={"file": b"%PDF-1.7\nnot a signed report\n"}, multipart=True
    ),
    ("GET", "/api/v1/reports/{uid}/"): Sample(kwargs=REPORT),
    ("POST", "/api/v1/reports/{uid}/approve/"): Sample(
        kwargs=REPORT, body={"note": "Checked the figures."}, audit=("report.approve",)
    ),
    ("GET", "/api/v1/reports/{uid}/download/"): Sample(kwargs=REPORT),
    ("GET", "/api/v1/systems/"): Sample(),
    ("POST", "/api/v1/systems/"): Sample(
        body={"name": "Loan approval", "slug": "loan-approval", "owner": "engineer"},
        audit=("system.create",),
    ),
    ("GET", "/api/v1/systems/{slug}/"): Sample(kwargs=SYSTEM),
    ("PATCH", "/api/v1/systems/{slug}/"): Sample(
        kwargs=SYSTEM, body={"risk_tier": "high"}, audit=("system.update",)
    ),
    ("GET", "/api/v1/systems/{slug}/model-versions/"): Sample(kwargs=SYSTEM),
    ("POST", "/api/v1/systems/{slug}/model-versions/"): Sample(
        kwargs=SYSTEM,
        body={"version": "2.0", "parent": "1.0", "training_datasets": ["loans-2023"]},
        audit=("model_version.create",),
    ),
    ("GET", "/api/v1/systems/{slug}/model-versions/{version}/"): Sample(kwargs=MODEL_VERSION),
    ("PATCH", "/api/v1/systems/{slug}/model-versions/{version}/"): Sample(
        kwargs=MODEL_VERSION, body={"status": "staging"}, audit=("model_version.update",)
    ),
    ("GET", "/api/v1/datasets/"): Sample(),
    ("POST", "/api/v1/datasets/"): Sample(
        body={"name": "Applicants 2024", "slug": "applicants-2024"}, audit=("dataset.create",)
    ),
    ("GET", "/api/v1/datasets/{slug}/"): Sample(kwargs=DATASET),
    ("PATCH", "/api/v1/datasets/{slug}/"): Sample(
        kwargs=DATASET, body={"licence": "CC-BY-4.0"}, audit=("dataset.update",)
    ),
    ("GET", "/api/v1/risks/"): Sample(),
    ("POST", "/api/v1/risks/"): Sample(
        body={
            "title": "Drift after retraining",
            "statement": "Scores shift after each monthly retraining.",
            "category": "validity_reliability",
            "owner": "officer",
            "systems": ["credit-scoring"],
            "model_versions": [{"system": "credit-scoring", "version": "1.0"}],
            "datasets": ["loans-2023"],
            "subcategories": [SUBCATEGORY],
        },
        audit=("risk.create",),
    ),
    ("GET", "/api/v1/risks/{reference}/"): Sample(kwargs=RISK),
    ("PATCH", "/api/v1/risks/{reference}/"): Sample(
        kwargs=RISK, body={"category": "legal_compliance"}, audit=("risk.update",)
    ),
    ("POST", "/api/v1/risks/{reference}/transition/"): Sample(
        kwargs=RISK, body={"status": "open"}, audit=("risk.transition",)
    ),
    ("GET", "/api/v1/risks/matrix/"): Sample(),
    ("PATCH", "/api/v1/risks/matrix/"): Sample(
        body={"tolerance": "high"}, audit=("risk_matrix.update",)
    ),
    ("GET", "/api/v1/risks/summary/"): Sample(),
    ("GET", "/api/v1/risks/export/"): Sample(),  # the register as CSV
    ("POST", "/api/v1/risks/import/"): Sample(
        body={
            "sheet": "register",
            "file": b"reference,title,statement,category\r\n"
            b",Imported risk,From a sheet.,privacy\r\n",
        },
        audit=("risk.create",),
        multipart=True,
    ),
    ("GET", "/api/v1/risks/actions/"): Sample(),
    ("GET", "/api/v1/risks/{reference}/scores/"): Sample(kwargs=OPEN_RISK),
    ("POST", "/api/v1/risks/{reference}/scores/"): Sample(
        kwargs=RISK,
        body={"kind": "inherent", "likelihood": 3, "impact": 4, "rationale": "Seen twice."},
        audit=("risk.score",),
    ),
    ("PATCH", "/api/v1/risks/{reference}/treatment/"): Sample(
        kwargs=OPEN_RISK,
        body={"decision": "mitigate", "plan": "Retrain quarterly."},
        audit=("risk.treatment",),
    ),
    ("GET", "/api/v1/risks/{reference}/actions/"): Sample(kwargs=OPEN_RISK),
    ("POST", "/api/v1/risks/{reference}/actions/"): Sample(
        kwargs=OPEN_RISK,
        body={"title": "Add drift alerts", "due_date": "2027-01-31", "owner": "engineer"},
        audit=("risk.action_create",),
    ),
    ("PATCH", "/api/v1/risks/{reference}/actions/{number}/"): Sample(
        kwargs=ACTION, body={"status": "in_progress"}, audit=("risk.action_update",)
    ),
    ("POST", "/api/v1/risks/{reference}/accept/"): Sample(
        kwargs=OPEN_RISK,
        body={
            "justification": "Residual risk is low after retraining.",
            "conditions": "Monthly drift report stays green.",
            "valid_until": VALID_UNTIL,
        },
        audit=("risk.accept",),
    ),
    ("GET", "/api/v1/risks/{reference}/acceptances/"): Sample(kwargs=OPEN_RISK),
    ("POST", "/api/v1/risks/{reference}/dismiss/"): Sample(
        kwargs=RISK, body={"reason": "A duplicate of RSK-002."}, audit=("risk.dismiss",)
    ),
    ("GET", "/api/v1/risks/{reference}/reviews/"): Sample(kwargs=OPEN_RISK),
    ("POST", "/api/v1/risks/{reference}/reviews/"): Sample(
        kwargs=OPEN_RISK, body={"note": "Still relevant."}, audit=("risk.review",)
    ),
    ("GET", "/api/v1/risks/{reference}/comments/"): Sample(kwargs=RISK),
    ("POST", "/api/v1/risks/{reference}/comments/"): Sample(
        kwargs=RISK, body={"text": "Seen in the March audit too."}, audit=("risk.comment",)
    ),
    ("GET", "/api/v1/risks/{reference}/history/"): Sample(kwargs=OPEN_RISK),
    ("GET", "/api/v1/evidence/"): Sample(),
    ("POST", "/api/v1/evidence/"): Sample(
        body={
            "document": performance_document("credit-scoring", "1.0") | {"context": "monitoring"}
        },
        audit=("evidence.submit",),
    ),
    ("GET", "/api/v1/evidence/schemas/"): Sample(),
    ("GET", "/api/v1/evidence/schemas/{kind}/"): Sample(kwargs={"kind": "kind"}),
    ("GET", "/api/v1/evidence/{uid}/"): Sample(kwargs=EVIDENCE),
    ("POST", "/api/v1/evidence/{uid}/withdraw/"): Sample(
        kwargs=EVIDENCE,
        body={"reason": "Replaced by the 2027 policy."},
        audit=("evidence.withdraw",),
    ),
    ("GET", "/api/v1/evidence/{uid}/attachments/{sha256}/"): Sample(
        kwargs={"uid": "evidence", "sha256": "attachment"}
    ),
    ("GET", "/api/v1/assessments/"): Sample(),
    ("POST", "/api/v1/assessments/"): Sample(
        body={
            "file": PREDICTIONS,
            "system": "credit-scoring",
            "model_version": "1.0",
            "kinds": ["fairness", "calibration", "data_quality"],
            "options": json.dumps({"dataset": "loans-2023"}),
            "mapping": json.dumps(
                {
                    "label": "label",
                    "prediction": "prediction",
                    "score": "score",
                    "sensitive": ["sex"],
                }
            ),
        },
        audit=("assessment.create",),
        multipart=True,
    ),
    ("GET", "/api/v1/assessments/{uid}/"): Sample(kwargs={"uid": "assessment"}),
    ("POST", "/api/v1/assessments/{uid}/cancel/"): Sample(
        kwargs={"uid": "assessment"}, audit=("assessment.cancel",)
    ),
    ("GET", "/api/v1/incidents/"): Sample(),
    ("POST", "/api/v1/incidents/"): Sample(
        body={
            "title": "Chatbot gave a wrong repayment figure",
            "description": "A customer was quoted the wrong monthly rate.",
            "severity": "medium",
            "occurred_at": "2026-11-02T10:00:00Z",
            "detected_at": "2026-11-02T11:30:00Z",
            "systems": ["credit-scoring"],
            "model_versions": [{"system": "credit-scoring", "version": "1.0"}],
            "risks": ["RSK-001"],
            "regulator_notification_required": True,
            "regulator_deadline": "2026-11-05T11:30:00Z",
        },
        audit=("incident.create",),
    ),
    ("GET", "/api/v1/incidents/{reference}/"): Sample(kwargs=INCIDENT),
    ("PATCH", "/api/v1/incidents/{reference}/"): Sample(
        kwargs=INCIDENT, body={"root_cause": "A stale feature cache."}, audit=("incident.update",)
    ),
    ("POST", "/api/v1/incidents/{reference}/transition/"): Sample(
        kwargs=INCIDENT, body={"status": "investigating"}, audit=("incident.transition",)
    ),
    ("GET", "/api/v1/incidents/{reference}/timeline/"): Sample(kwargs=INCIDENT),
    ("POST", "/api/v1/incidents/{reference}/timeline/"): Sample(
        kwargs=INCIDENT, body={"text": "Rolled back to 0.9."}, audit=("incident.note",)
    ),
    ("GET", "/api/v1/audit/events/"): Sample(),
    ("GET", "/api/v1/audit/head/"): Sample(),
    ("GET", "/api/v1/audit/export/"): Sample(),
    ("GET", "/api/v1/tokens/"): Sample(),
    ("POST", "/api/v1/tokens/"): Sample(
        body={"name": "notebook", "days": 30}, audit=("token.create",)
    ),
    ("POST", "/api/v1/tokens/{prefix}/revoke/"): Sample(
        kwargs=TOKEN, body={"reason": "laptop lost"}, audit=("token.revoke",)
    ),
    ("GET", "/api/v1/members/"): Sample(),
    ("POST", "/api/v1/members/"): Sample(
        body={"username": "newcomer", "role": "engineer", "email": "newcomer@example.com"},
        audit=("membership.add",),
    ),
    ("PATCH", "/api/v1/members/{username}/"): Sample(
        kwargs=MEMBER, body={"role": "auditor"}, audit=("membership.change_role",)
    ),
    ("GET", "/api/v1/me/notifications/"): Sample(),
    ("PATCH", "/api/v1/me/notifications/"): Sample(
        body={"preferences": [{"kind": "risk.proposed", "email": False}]},
        audit=("notification.preferences_update",),
    ),
    ("GET", "/api/v1/webhooks/"): Sample(),
    ("POST", "/api/v1/webhooks/"): Sample(
        body={"url": "https://93.184.216.34/hooks/riskreg", "kinds": ["risk.proposed"]},
        audit=("webhook.create",),
    ),
    ("POST", "/api/v1/webhooks/{uid}/deactivate/"): Sample(
        kwargs=WEBHOOK, audit=("webhook.deactivate",)
    ),
    ("GET", "/api/v1/webhooks/{uid}/deliveries/"): Sample(kwargs=WEBHOOK),
    ("GET", "/api/v1/service-accounts/"): Sample(),
    ("POST", "/api/v1/service-accounts/"): Sample(
        body={"name": "CI", "slug": "ci", "role": "engineer", "systems": ["credit-scoring"]},
        audit=("service_account.create",),
    ),
}

OPERATIONS = api_operations()
OWN_CASES = [(op, role) for op in OPERATIONS for role in Role]
FOREIGN_CASES = [(op, role) for op in OPERATIONS if op.kwargs for role in Role]


def case_id(case: Any) -> str:
    return f"{case}" if isinstance(case, Operation) else f"as {case}"


@cache
def granted(op: Operation) -> frozenset[str]:
    """The roles docs/roles.md allows to perform op."""
    action = doc_endpoint_actions().get(op.key)
    if action is None:
        pytest.fail(f"{op} is not in the endpoint table of docs/roles.md")
    return frozenset(doc_role_matrix()[action])


def sample_for(op: Operation) -> Sample:
    sample = SAMPLES.get(op.key)
    if sample is None:
        pytest.fail(f"{op} has no sample request: add one to SAMPLES in {__name__}")
    return sample


def call(client: APIClient, op: Operation, path: str, sample: Sample) -> Any:
    if sample.body is None:
        return client.generic(op.method, path)
    if sample.multipart:
        body = {
            k: SimpleUploadedFile(f"{k}.csv", v, content_type="text/csv")
            if isinstance(v, bytes)
            else v
            for k, v in sample.body.items()
        }
        return getattr(client, op.method.lower())(path, body, format="multipart")
    return getattr(client, op.method.lower())(path, sample.body, format="json")


def leaked(world: World, content: bytes, path: str) -> list[str]:
    """globex text in an answer, except what the caller itself put in the URL."""
    text = content.decode()
    return [m for m in world.foreign_markers if m in text and m not in path]


def test_every_endpoint_has_a_sample_request() -> None:
    missing = sorted(str(op) for op in OPERATIONS if op.key not in SAMPLES)
    assert missing == [], f"add sample requests to SAMPLES for {missing}"


def test_no_sample_request_is_left_for_an_endpoint_that_is_gone() -> None:
    served = {op.key for op in OPERATIONS}
    assert sorted(set(SAMPLES) - served) == []


def test_every_api_route_is_an_organisation_view_with_actions() -> None:
    for path, callback in api_views():
        view = getattr(callback, "view_class", None)
        assert view is not None, f"{path}: not a class-based view"
        assert issubclass(view, OrgApiView), f"{path}: not an OrgApiView"
        assert view.actions, f"{path}: {view.__name__} declares no actions"


def test_every_method_a_view_answers_names_its_action() -> None:
    """A handler missing from `actions` would be let through by the permission class."""
    for path, callback in api_views():
        view = callback.view_class
        handlers = {name.upper() for name in HANDLER_METHODS if hasattr(view, name)}
        assert handlers == set(view.actions), f"{path}: handlers {handlers}, actions {view.actions}"


@pytest.mark.parametrize(("op", "role"), OWN_CASES, ids=case_id)
def test_member_is_allowed_or_refused_exactly_as_docs_roles_md_says(
    op: Operation, role: Role, world: World, api_for: Any
) -> None:
    sample = sample_for(op)
    client = api_for(role)
    path = op.url(**{kwarg: world.own_for(kind, role) for kwarg, kind in sample.kwargs.items()})
    before, mark = db_snapshot(), last_audit_id()

    response = call(client, op, path, sample)

    if role.value not in granted(op):
        assert_envelope(response, 403, "permission_denied")
        assert_nothing_written(before)
        return
    assert 200 <= response.status_code < 300, (response.status_code, body_bytes(response)[:500])
    events = audit_events_since(mark)
    assert [(e.organization.slug, e.action) for e in events] == [
        ("acme", action) for action in sample.audit
    ]
    assert {e.actor_label for e in events} <= {world.acme.members[role].user.username}
    if not op.is_write:
        assert_nothing_written(before)
    assert leaked(world, body_bytes(response), path) == []


@pytest.mark.parametrize(("op", "role"), FOREIGN_CASES, ids=case_id)
def test_outsider_gets_404_for_another_organisations_object(
    op: Operation, role: Role, world: World, api_for: Any
) -> None:
    sample = sample_for(op)
    client = api_for(role)
    foreign = op.url(**{kwarg: world.foreign[kind] for kwarg, kind in sample.kwargs.items()})
    missing = op.url(**{kwarg: world.missing[kind] for kwarg, kind in sample.kwargs.items()})
    before = db_snapshot()

    response = call(client, op, foreign, sample)
    answer_for_missing = call(client, op, missing, sample)

    if role.value in granted(op):
        assert_envelope(response, 404, "not_found")
    else:
        assert_envelope(response, 403, "permission_denied")
    assert_nothing_written(before)
    content = body_bytes(response)
    assert leaked(world, content, foreign) == []
    echoed = content.decode()
    for kind in sample.kwargs.values():
        echoed = echoed.replace(world.foreign[kind], world.missing[kind])
    assert (response.status_code, echoed) == (
        answer_for_missing.status_code,
        body_bytes(answer_for_missing).decode(),
    )
