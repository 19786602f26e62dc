"""The OpenAPI contract: the schema is valid, and the API keeps to it for every role.

Schemathesis generates requests from the schema served at /api/schema/ and sends them
through the WSGI application, authenticated with a bearer token of each of the four
roles. No response may be a 5xx; each must have a documented status code, content type
and headers, and a body that matches the documented schema.

Runs in its own pytest invocation (the default one disables the schemathesis plugin):

    .venv/bin/pytest tests/schema -p schemathesis \
        -o addopts="--strict-markers -p no:cacheprovider --timeout=600" -q

Budget per operation, the same cases on every run (derandomized, no example database,
no shrinking):
  - each role: the explicit example (valid values naming the seeded objects) and
    MAX_EXAMPLES fuzzed cases, positive and negative;
  - admin only: schemathesis' coverage cases, a fixed set derived from the schema
    (boundaries, missing and wrong-typed fields), which no role changes.
"""

import copy
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.urls import resolve
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from riskreg.organisations.roles import MATRIX, Role
from riskreg.wsgi import application
from tests.schema.conftest import SEED, SEED_PREDICTIONS, STATUSES

MAX_EXAMPLES = 25
ROLES = [role.value for role in Role]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Values for the path parameters that name the seeded objects, by path.
PATH_EXAMPLES: dict[str, dict[str, str]] = {
    "/api/v1/systems/{slug}/": {"slug": SEED["system"]},
    "/api/v1/systems/{slug}/posture/": {"slug": SEED["system"]},
    "/api/v1/systems/{slug}/posture/changes/": {"slug": SEED["system"]},
    "/api/v1/systems/{slug}/posture/oscal/": {"slug": SEED["system"]},
    "/api/v1/systems/{slug}/overrides/": {"slug": SEED["system"]},
    "/api/v1/systems/{slug}/findings/": {"slug": SEED["system"]},
    "/api/v1/reports/{uid}/": {"uid": SEED["report"]},
    "/api/v1/reports/{uid}/approve/": {"uid": SEED["report"]},
    "/api/v1/reports/{uid}/download/": {"uid": SEED["report"]},
    "/api/v1/systems/{slug}/model-versions/": {"slug": SEED["system"]},
    "/api/v1/systems/{slug}/model-versions/{version}/": {
        "slug": SEED["system"],
        "version": SEED["version"],
    },
    "/api/v1/datasets/{slug}/": {"slug": SEED["dataset"]},
    "/api/v1/risks/{reference}/": {"reference": SEED["risk"]},
    "/api/v1/risks/{reference}/transition/": {"reference": SEED["risk"]},
    "/api/v1/risks/{reference}/scores/": {"reference": SEED["open_risk"]},
    "/api/v1/risks/{reference}/treatment/": {"reference": SEED["open_risk"]},
    "/api/v1/risks/{reference}/actions/": {"reference": SEED["open_risk"]},
    "/api/v1/risks/{reference}/actions/{number}/": {
        "reference": SEED["open_risk"],
        "number": SEED["action"],
    },
    "/api/v1/risks/{reference}/accept/": {"reference": SEED["open_risk"]},
    "/api/v1/risks/{reference}/acceptances/": {"reference": SEED["open_risk"]},
    "/api/v1/risks/{reference}/dismiss/": {"reference": SEED["risk"]},
    "/api/v1/risks/{reference}/reviews/": {"reference": SEED["open_risk"]},
    "/api/v1/risks/{reference}/comments/": {"reference": SEED["risk"]},
    "/api/v1/risks/{reference}/history/": {"reference": SEED["open_risk"]},
    "/api/v1/webhooks/{uid}/deactivate/": {"uid": SEED["webhook"]},
    "/api/v1/webhooks/{uid}/deliveries/": {"uid": SEED["webhook"]},
    "/api/v1/tokens/{prefix}/revoke/": {"prefix": SEED["token"]},
    "/api/v1/members/{username}/": {"username": SEED["member"]},
    "/api/v1/evidence/schemas/{kind}/": {"kind": SEED["kind"]},
    "/api/v1/evidence/{uid}/": {"uid": SEED["evidence"]},
    "/api/v1/evidence/{uid}/withdraw/": {"uid": SEED["evidence"]},
    "/api/v1/evidence/{uid}/attachments/{sha256}/": {
        "uid": SEED["evidence"],
        "sha256": SEED["attachment"],
    },
    "/api/v1/assessments/{uid}/": {"uid": SEED["assessment"]},
    "/api/v1/assessments/{uid}/cancel/": {"uid": SEED["assessment"]},
    "/api/v1/incidents/{reference}/": {"reference": SEED["incident"]},
    "/api/v1/incidents/{reference}/transition/": {"reference": SEED["incident"]},
    "/api/v1/incidents/{reference}/timeline/": {"reference": SEED["incident"]},
}
QUERY_EXAMPLES: dict[str, dict[str, Any]] = {
    "catalog_list": {"function": "MAP"},
    "audit_events_list": {"object_type": "risk", "page": 1},
    "risks_list": {"status": "proposed", "system": SEED["system"], "sort": "-level"},
    "risks_treatment_plan": {"owner": "engineer", "overdue": False},
    "risks_export": {"sheet": "register", "type": "csv"},
    "evidence_list": {"system": SEED["system"], "kind": "performance"},
    "incidents_list": {"status": "open", "system": SEED["system"]},
    "assessments_list": {"status": "queued", "system": SEED["system"]},
}
# A valid request body per operation id, for the operations that take one.
BODY_EXAMPLES: dict[str, dict[str, Any]] = {
    "reports_create": {"kind": "system", "system": SEED["system"]},
    "reports_approve": {"note": "Figures checked against the evidence."},
    "reports_verify": {"file": "%PDF-1.7\n% not a signed report\n"},
    "policies_update": {
        "thresholds": {"fairness.demographic-parity-ratio": {"threshold": 0.85, "band": 0.05}},
        "tiers": {"high": {"fairness.equalized-odds-difference": {"threshold": 0.05}}},
        "note": "Stricter for high-risk systems.",
    },
    "posture_override": {
        "subcategory": SEED["subcategory"],
        "kind": "override",
        "status": "met",
        "justification": "Reviewed by the board.",
        "expires_at": f"{date.today() + timedelta(days=30)}T00:00:00Z",  # noqa: DTZ011
    },
    "systems_create": {"slug": "new-system", "name": "New system", "owner": "engineer"},
    "systems_update": {"description": "Scores loan applications.", "risk_tier": "high"},
    "model_versions_create": {
        "version": "v2",
        "parent": SEED["version"],
        "training_datasets": [SEED["dataset"]],
        "artifact_sha256": "0" * 64,
    },
    "model_versions_update": {"status": "staging", "framework": "torch"},
    "datasets_create": {"slug": "new-dataset", "name": "New dataset", "version": "2024-01"},
    "datasets_update": {"licence": "CC-BY-4.0", "collection_start": "2024-01-01"},
    "risks_create": {
        "title": "New risk",
        "statement": "Scores may be unfair to a group.",
        "category": "fairness",
        "systems": [SEED["system"]],
        "model_versions": [{"system": SEED["system"], "version": SEED["version"]}],
        "datasets": [SEED["dataset"]],
        "subcategories": [SEED["subcategory"]],
    },
    "risks_update": {"title": "Seed risk, reworded", "owner": None},
    "risks_transition": {"status": "open"},
    "risks_matrix_update": {
        "tolerance": "high",
        "review_days": {"low": 365, "medium": 180, "high": 60, "critical": 14},
    },
    "risks_scores_create": {
        "kind": "current",
        "likelihood": 3,
        "impact": 2,
        "rationale": "Monitored.",
    },
    "risks_treatment_update": {"decision": "mitigate", "plan": "Retrain every quarter."},
    "risks_actions_create": {
        "title": "Add drift alerts",
        "due_date": "2027-02-28",
        "owner": "engineer",
    },
    "risks_actions_update": {"status": "in_progress"},
    "risks_accept": {
        "justification": "Residual risk is low.",
        "conditions": "Drift stays below 2 %.",
        "valid_until": (date.today() + timedelta(days=90)).isoformat(),  # noqa: DTZ011
    },
    "risks_dismiss": {"reason": "A duplicate."},
    "me_notifications_update": {"preferences": [{"kind": "risk.proposed", "email": False}]},
    # An address literal: schemathesis' own hosts would need DNS, which CI lacks.
    "webhooks_create": {"url": "https://93.184.216.34/hooks/riskreg", "kinds": ["risk.proposed"]},
    "webhooks_deactivate": {"reason": "Endpoint retired."},
    "risks_import": {
        "file": "reference,title,statement,category\n,New risk,From a sheet.,privacy\n",
        "sheet": "register",
    },
    "risks_reviews_create": {"note": "Still relevant."},
    "risks_comments_create": {"text": "Seen in the March audit."},
    "tokens_create": {"name": "notebook", "days": 30},
    "tokens_revoke": {"reason": "rotated"},
    "members_create": {"username": "new-member", "role": "auditor", "email": "new@example.com"},
    "members_update": {"role": "auditor"},
    "evidence_create": {
        "document": {
            "kind": "performance",
            "system": SEED["system"],
            "model_version": SEED["version"],
            "context": "evaluation",
            "datasets": [{"slug": SEED["dataset"], "split": "test"}],
            "metrics": {"task": "binary_classification", "scores": {"accuracy": 0.9}},
        },
        "provenance": {"tool_name": "pytest", "commit_sha": "0123abc"},
    },
    "evidence_withdraw": {"reason": "Replaced by the 2027 policy."},
    "assessments_create": {
        "file": SEED_PREDICTIONS,
        "system": SEED["system"],
        "model_version": SEED["version"],
        "kinds": ["fairness", "calibration"],
        "mapping": json.dumps(
            {"label": "label", "prediction": "prediction", "score": "score", "sensitive": ["sex"]}
        ),
    },
    "assessments_cancel": {"reason": "Wrong file."},
    "incidents_create": {
        "title": "Wrong rate quoted",
        "description": "A customer was quoted the wrong rate.",
        "severity": "high",
        "occurred_at": "2026-11-02T10:00:00Z",
        "detected_at": "2026-11-02T11:00:00Z",
        "systems": [SEED["system"]],
        "risks": [SEED["risk"]],
    },
    "incidents_update": {"root_cause": "A stale rate table.", "corrective_actions": "Synced."},
    "incidents_transition": {"status": "investigating", "note": "On it."},
    "incidents_note": {"text": "Customers informed."},
    "service_accounts_create": {
        "name": "Nightly evaluation",
        "slug": "nightly",
        "role": "engineer",
        "systems": [SEED["system"]],
    },
}


def served_schema() -> dict[str, Any]:
    """The schema as /api/schema/ serves it (no database needed)."""
    response = Client(application).get("/api/schema/?format=json")
    assert response.status_code == 200, response.get_data(as_text=True)
    document: dict[str, Any] = json.loads(response.get_data())
    return document


def with_examples(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the schema whose parameters and bodies carry examples of seeded objects."""
    document = copy.deepcopy(document)
    for path, item in document["paths"].items():
        for operation in item.values():
            op_id = operation["operationId"]
            values = {**PATH_EXAMPLES.get(path, {}), **QUERY_EXAMPLES.get(op_id, {})}
            for parameter in operation.get("parameters", []):
                if parameter["name"] in values:
                    parameter["example"] = values[parameter["name"]]
            if op_id in BODY_EXAMPLES:
                content = operation["requestBody"]["content"]
                media = "application/json" if "application/json" in content else next(iter(content))
                content[media]["example"] = BODY_EXAMPLES[op_id]
    return document


def load(*, coverage: bool) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "no-shrink": True,
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": not coverage, "fill-missing": True},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": not coverage},
                "stateful": {"enabled": False},
            },
        }
    )
    loaded = schemathesis.openapi.from_dict(with_examples(SERVED), config=config)
    loaded.app = application
    return loaded


SERVED = served_schema()
# path -> parameter -> the documented pattern (the URL converter's), without ^ and $
PATH_PATTERNS = {
    path: {
        p["name"]: re.compile(p["schema"].get("pattern", "[0-9]+").strip("^$"))
        for op in item.values()
        for p in op.get("parameters", [])
        if p["in"] == "path"
    }
    for path, item in SERVED["paths"].items()
}


def routable(case: Any) -> None:
    """Keep every case to URLs the URLconf routes.

    A path parameter that breaks its documented pattern (the URL converter's) never
    reaches the API: Django answers with its own HTML 404. Such a value is replaced by
    the seeded object's, and the rest of the case stays as generated.
    """
    path = case.operation.path
    for name, value in (case.path_parameters or {}).items():
        if not PATH_PATTERNS[path][name].fullmatch(str(value)):
            case.path_parameters[name] = PATH_EXAMPLES[path][name]


schema = load(coverage=False)
coverage_schema = load(coverage=True)
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    # The database fixtures are per test; the examples of one test share its transaction.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_schema_is_valid(tmp_path: Path) -> None:
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/risks/{reference}/transition/" in out.read_text()


def test_examples_cover_every_operation() -> None:
    """A new endpoint needs examples here, or the generated tests mostly meet 404 and 400."""
    for path, item in SERVED["paths"].items():
        assert set(PATH_PATTERNS[path]) == set(PATH_EXAMPLES.get(path, {})), f"PATH_EXAMPLES {path}"
        for operation in item.values():
            if "requestBody" in operation:
                assert operation["operationId"] in BODY_EXAMPLES, f"BODY_EXAMPLES {path}"


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@HYPOTHESIS
def test_api_keeps_to_schema(case: Any, role: str, bearer: dict[str, dict[str, str]]) -> None:
    routable(case)
    response = case.call_and_validate(headers=bearer[role], checks=CHECKS)
    STATUSES[case.operation.label][role].add(response.status_code)


@coverage_schema.parametrize()
@HYPOTHESIS
def test_api_coverage_cases(case: Any, bearer: dict[str, dict[str, str]]) -> None:
    routable(case)
    response = case.call_and_validate(headers=bearer[Role.ADMIN], checks=CHECKS)
    STATUSES[case.operation.label][Role.ADMIN].add(response.status_code)


def allowed_roles(path: str, method: str) -> set[str]:
    """The roles the role matrix allows the operation."""
    example = path.format(**PATH_EXAMPLES.get(path, {}))
    view = resolve(example).func.view_class  # type: ignore[attr-defined]
    return {str(role) for role in MATRIX[view.actions[method.upper()]]}


def explicit_pass(operation: Any, bearer: dict[str, dict[str, str]]) -> None:
    """Send the operation's valid example as each role (for operations not fuzzed here)."""
    op_id = operation.definition.raw["operationId"]
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    media = "application/json" if "application/json" in content else next(iter(content), None)
    for role in ROLES:
        case = operation.Case(
            path_parameters=PATH_EXAMPLES.get(operation.path, {}),
            query=QUERY_EXAMPLES.get(op_id, {}),
            body=BODY_EXAMPLES.get(op_id, NOT_SET),
            media_type=media if op_id in BODY_EXAMPLES else None,
        )
        response = case.call_and_validate(headers=bearer[role], checks=CHECKS)
        STATUSES[operation.label][role].add(response.status_code)


def test_every_operation_reaches_2xx(bearer: dict[str, dict[str, str]]) -> None:
    """Each operation answered 2xx to some role, and never to a role the matrix forbids.

    Reads what the generated tests above recorded; an operation they did not run for
    all roles (a -k selection) gets one valid request per role here instead.
    """
    operations = [result.ok() for result in schema.get_all_operations()]
    reached: dict[str, list[str]] = {}
    for operation in operations:
        if set(STATUSES[operation.label]) != set(ROLES):
            explicit_pass(operation, bearer)
        statuses = STATUSES[operation.label]
        reached[operation.label] = [r for r in ROLES if any(200 <= s < 300 for s in statuses[r])]
        forbidden = set(reached[operation.label]) - allowed_roles(operation.path, operation.method)
        assert not forbidden, f"{operation.label} answered 2xx to {forbidden}"
    unreached = [label for label, roles in reached.items() if not roles]
    assert not unreached, f"no role reached a 2xx: {unreached}"
    assert len(operations) == sum(len(item) for item in SERVED["paths"].values())
