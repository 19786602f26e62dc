"""The OpenAPI contract: the schema is valid, and the API keeps to it for every role.

Schemathesis generates requests from the schema served at /api/schema/ and sends them
through the WSGI application, authenticated as each of the four roles with a bearer
token. Every response must not be a 5xx, must have a documented status code and
content type, and must match the documented body schema.

Runs in its own pytest invocation (the default one disables the schemathesis plugin):

    .venv/bin/pytest tests/schema -p schemathesis \
        -o addopts="--strict-markers -p no:cacheprovider --timeout=600" -q

Budget: per operation and role, the explicit examples, schemathesis' coverage cases
(a fixed set derived from the schema) and MAX_EXAMPLES fuzzed cases, derandomized
(the same cases every run), without shrinking and without an example database.
"""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from riskreg.wsgi import application
from tests.schema.conftest import ROLES, SEED, STATUSES

MAX_EXAMPLES = 25
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
    "/api/v1/systems/{slug}/model-versions/": {"slug": SEED["system"]},
    "/api/v1/systems/{slug}/model-versions/{version}/": {
        "slug": SEED["system"],
        "version": SEED["version"],
    },
    "/api/v1/datasets/{slug}/": {"slug": SEED["dataset"]},
    "/api/v1/risks/{reference}/": {"reference": SEED["risk"]},
    "/api/v1/risks/{reference}/transition/": {"reference": SEED["risk"]},
}
QUERY_EXAMPLES: dict[str, dict[str, str]] = {
    "catalog_list": {"function": "MAP"},
    "audit_events_list": {"object_type": "risk"},
}
# A valid request body per operation id, for the operations that take one.
BODY_EXAMPLES: dict[str, dict[str, Any]] = {
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
                operation["requestBody"]["content"]["application/json"]["example"] = (
                    BODY_EXAMPLES[op_id]
                )
    return document


CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "no-shrink": True,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True, "fill-missing": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)
SERVED = served_schema()
schema = schemathesis.openapi.from_dict(with_examples(SERVED), config=CONFIG)
schema.app = application


def test_schema_is_valid(tmp_path: Path) -> None:
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/risks/" in out.read_text()


@pytest.mark.parametrize("role", [role.value for role in ROLES])
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_api_keeps_to_schema(case: Any, role: str, bearer: dict[str, dict[str, Any]]) -> None:
    response = case.call_and_validate(headers=bearer[role], checks=CHECKS)
    STATUSES[case.operation.label][role].add(response.status_code)
