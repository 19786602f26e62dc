"""Bad input is a 4xx envelope naming the field, never a 500, and never writes anything.

The write endpoints come from the URL configuration: one without bad-input cases in
FIELD_CASES fails test_every_write_endpoint_has_bad_input_cases. Every case is sent by the
admin, who may perform every write, so what refuses it is the input and not the role.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from evaluations.models import AssessmentJob, Evidence
from evaluations.services import assessments as assessment_services
from riskreg.notifications.models import Webhook
from riskreg.organisations import services as orgs
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import ApiToken
from riskreg.organisations.roles import Role
from tests.api.conftest import PREDICTIONS, World
from tests.api.helpers import (
    Operation,
    api_operations,
    assert_envelope,
    assert_nothing_written,
    db_snapshot,
    names_field,
)
from tests.conftest import Tenant

# One world for the module, each case in a savepoint (tests/api/conftest.py).
pytestmark = pytest.mark.shared_world


OPERATIONS = api_operations()
WRITES = [op for op in OPERATIONS if op.is_write]
NUL = "nul\x00byte"

# URL kwargs of each write endpoint, all naming acme objects of the world fixture.
OWN_URL = {
    "slug": "credit-scoring",
    "version": "1.0",
    "reference": "RSK-001",
    "prefix": "rr_acme_ad",  # the admin's own token
    "username": "engineer",
}
DATASET_URL = {"slug": "loans-2023"}


@dataclass(frozen=True)
class Case:
    """One bad body: the status and code it must get, and the field the answer names."""

    name: str
    body: Any
    field: str
    status: int = 400
    code: str = "validation_error"


def refused_reference(name: str, body: dict[str, Any], field: str) -> Case:
    return Case(name, body, field, 400, "foreign_reference")


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


SYSTEM = {"name": "Loan approval", "slug": "loan-approval"}
OVERRIDE = {
    "subcategory": "MEASURE 2.11",
    "kind": "override",
    "status": "met",
    "justification": "Reviewed with legal.",
    "expires_at": f"{date.today() + timedelta(days=30)}T00:00:00Z",  # noqa: DTZ011 - a date
}
MODEL_VERSION = {"version": "2.0"}
DATASET = {"name": "Applicants 2024", "slug": "applicants-2024"}
TOKEN = {"name": "notebook"}
MEMBER = {"username": "newcomer", "role": "engineer"}
SERVICE_ACCOUNT = {"name": "Nightly evaluation", "slug": "nightly", "role": "engineer"}
RISK = {
    "title": "Drift after retraining",
    "statement": "Scores shift after each retraining.",
    "category": "validity_reliability",
}

PERFORMANCE = {
    "kind": "performance",
    "system": "credit-scoring",
    "model_version": "1.0",
    "context": "evaluation",
    "metrics": {"task": "binary_classification", "scores": {"accuracy": 0.9}},
}


def performance(**changes: Any) -> dict[str, Any]:
    return {"document": {**PERFORMANCE, **changes}}


def scores(value: Any) -> dict[str, Any]:
    return performance(metrics={"task": "binary_classification", "scores": {"accuracy": value}})


def invalid(name: str, body: Any, pointer: str) -> Case:
    return Case(name, body, pointer, 400, "evidence_invalid")


INCIDENT = {
    "title": "Wrong rate quoted",
    "description": "A customer was quoted the wrong rate.",
    "severity": "medium",
    "occurred_at": "2026-11-02T10:00:00Z",
    "detected_at": "2026-11-02T11:00:00Z",
}
MLFLOW = {
    "format": "mlflow-run",
    "payload": {"run": {"info": {"run_id": "abc"}, "data": {}}},
    "envelope": {"system": "credit-scoring", "context": "evaluation"},
}

# Endpoints that take a file take multipart forms only: a JSON body is 415 there.
MULTIPART_ONLY = {
    ("POST", "/api/v1/assessments/"),
    ("POST", "/api/v1/risks/import/"),
    ("POST", "/api/v1/reports/verify/"),
}
PREDICTIONS_FORM = {
    "system": "credit-scoring",
    "model_version": "1.0",
    "kinds": ["fairness"],
    "mapping": '{"label": "label", "prediction": "prediction", "sensitive": ["sex"]}',
}


def predictions(**changes: Any) -> dict[str, Any]:
    """A multipart form for /assessments/; the file is added when the case is sent."""
    return {**PREDICTIONS_FORM, **changes}


TODAY = date.today()  # noqa: DTZ011 - acceptance dates are calendar dates
ACCEPT = {
    "justification": "Low after retraining.",
    "conditions": "Drift report stays green.",
    "valid_until": (TODAY + timedelta(days=60)).isoformat(),
}
ACTION = {"title": "Add drift alerts", "due_date": "2027-01-31"}
HOOK = {"url": "https://93.184.216.34/hooks/riskreg"}

FIELD_CASES: dict[tuple[str, str], list[Case]] = {
    ("POST", "/api/v1/reports/"): [
        Case("missing kind", {"system": "credit-scoring"}, "kind"),
        Case("unknown kind", {"kind": "brochure", "system": "credit-scoring"}, "kind"),
        Case("system report without a system", {"kind": "system"}, "system"),
        Case(
            "register report naming a system",
            {"kind": "register", "system": "credit-scoring"},
            "system",
        ),
        Case(
            "system of globex",
            {"kind": "system", "system": "turnstile"},
            "system",
            404,
            "not_found",
        ),
        Case(
            "period backwards",
            {"kind": "register", "period_from": "2026-12-01", "period_to": "2026-01-01"},
            "period_from",
        ),
        Case("period not a date", {"kind": "register", "period_from": "last year"}, "period_from"),
    ],
    ("POST", "/api/v1/reports/{uid}/approve/"): [
        Case("note too long", {"note": "x" * 2001}, "note"),
    ],
    ("POST", "/api/v1/reports/verify/"): [
        Case("file sent as a text field", {"file": "%PDF-1.7 pasted as text"}, "file"),
    ],
    ("POST", "/api/v1/policies/"): [
        Case("missing thresholds", {}, "thresholds"),
        Case(
            "threshold out of range",
            {"thresholds": {"fairness.demographic-parity-ratio": {"threshold": 1.5}}},
            "thresholds.fairness.demographic-parity-ratio",
        ),
        Case(
            "unknown rule",
            {"thresholds": {"no-such-rule": {"threshold": 0.5}}},
            "thresholds.no-such-rule",
        ),
        Case(
            "unknown risk tier",
            {"thresholds": {}, "tiers": {"galactic": {}}},
            "tiers.galactic",
        ),
        Case(
            "threshold not a number",
            {"thresholds": {"fairness.demographic-parity-ratio": {"threshold": "high"}}},
            "thresholds.fairness.demographic-parity-ratio.threshold",
        ),
    ],
    ("POST", "/api/v1/systems/{slug}/overrides/"): [
        Case("missing justification", without(OVERRIDE, "justification"), "justification"),
        Case("blank justification", {**OVERRIDE, "justification": "  "}, "justification"),
        Case("unknown subcategory", {**OVERRIDE, "subcategory": "MEASURE 9.9"}, "subcategory"),
        Case("unknown kind", {**OVERRIDE, "kind": "waive"}, "kind"),
        Case("override without status", without(OVERRIDE, "status"), "status"),
        Case("status not applicable", {**OVERRIDE, "status": "not_applicable"}, "status"),
        Case(
            "expiry in the past",
            {**OVERRIDE, "expires_at": "2020-01-01T00:00:00Z"},
            "expires_at",
        ),
        Case("expiry not a time", {**OVERRIDE, "expires_at": "soon"}, "expires_at"),
    ],
    ("PATCH", "/api/v1/risks/matrix/"): [
        Case("unknown tolerance", {"tolerance": "extreme"}, "tolerance"),
        Case(
            "four likelihood labels",
            {"likelihood_labels": ["a", "b", "c", "d"]},
            "likelihood_labels",
        ),
        Case("NUL byte in a label", {"impact_labels": ["a", "b", "c", "d", NUL]}, "impact_labels"),
        Case(
            "bands that do not rise",
            {"band_limits": {"low": 9, "medium": 4, "high": 16}},
            "band_limits",
        ),
        Case(
            "review every zero days",
            {"review_days": {"low": 0, "medium": 1, "high": 1, "critical": 1}},
            "review_days",
        ),
        Case(
            "duplicate labels",
            {"likelihood_labels": ["a", "a", "b", "c", "d"]},
            "likelihood_labels",
        ),
    ],
    # The runner sends the predictions CSV as the file: not a register, not a plan.
    ("POST", "/api/v1/risks/import/"): [
        Case("missing sheet", {}, "sheet"),
        Case("unknown sheet", {"sheet": "minutes"}, "sheet"),
        Case(
            "another table as the register",
            {"sheet": "register"},
            "file",
            400,
            "import_rows_invalid",
        ),
        Case(
            "another table as the plan",
            {"sheet": "treatment-plan"},
            "file",
            400,
            "import_rows_invalid",
        ),
    ],
    ("PATCH", "/api/v1/me/notifications/"): [
        Case("no preferences", {}, "preferences"),
        Case("empty preferences", {"preferences": []}, "preferences"),
        Case("preferences as an object", {"preferences": {"risk.proposed": False}}, "preferences"),
        Case(
            "unknown kind",
            {"preferences": [{"kind": "risk.exploded", "email": True}]},
            "preferences",
        ),
        Case("no email choice", {"preferences": [{"kind": "risk.proposed"}]}, "preferences"),
        Case(
            "email choice in words",
            {"preferences": [{"kind": "risk.proposed", "email": "sometimes"}]},
            "preferences",
        ),
        Case(
            "the same kind twice",
            {
                "preferences": [
                    {"kind": "risk.proposed", "email": True},
                    {"kind": "risk.proposed", "email": False},
                ]
            },
            "preferences",
        ),
    ],
    ("POST", "/api/v1/webhooks/"): [
        Case("no url", {"kinds": ["risk.proposed"]}, "url"),
        Case("ftp url", {"url": "ftp://93.184.216.34/hook"}, "url"),
        Case("credentials in the url", {"url": "https://user:pw@93.184.216.34/"}, "url"),
        Case("url too long", {"url": "https://93.184.216.34/" + "a" * 500}, "url"),
        Case("header injection", {"url": "https://93.184.216.34/\r\nX: 1"}, "url"),
        Case(
            "loopback address",
            {"url": "http://127.0.0.1/hook"},
            "url",
            400,
            "webhook_address_refused",
        ),
        Case(
            "cloud metadata address",
            {"url": "http://169.254.169.254/latest/meta-data/"},
            "url",
            400,
            "webhook_address_refused",
        ),
        Case("no kinds", {**HOOK, "kinds": []}, "kinds"),
        Case("unknown kind", {**HOOK, "kinds": ["risk.exploded"]}, "kinds"),
        Case("description too long", {**HOOK, "description": "d" * 201}, "description"),
    ],
    ("POST", "/api/v1/webhooks/{uid}/deactivate/"): [
        Case("reason too long", {"reason": "r" * 501}, "reason"),
    ],
    ("POST", "/api/v1/risks/{reference}/scores/"): [
        Case("missing kind", {"likelihood": 3, "impact": 3}, "kind"),
        Case("unknown kind", {"kind": "gut", "likelihood": 3, "impact": 3}, "kind"),
        Case(
            "likelihood above 5", {"kind": "inherent", "likelihood": 6, "impact": 3}, "likelihood"
        ),
        Case("impact below 1", {"kind": "inherent", "likelihood": 3, "impact": 0}, "impact"),
        Case(
            "likelihood as a word",
            {"kind": "inherent", "likelihood": "high", "impact": 3},
            "likelihood",
        ),
        Case(
            "rationale too long",
            {"kind": "inherent", "likelihood": 3, "impact": 3, "rationale": "r" * 2001},
            "rationale",
        ),
    ],
    ("PATCH", "/api/v1/risks/{reference}/treatment/"): [
        Case("unknown decision", {"decision": "ignore"}, "decision"),
        Case("plan too long", {"plan": "p" * 10_001}, "plan"),
        Case("NUL byte in plan", {"plan": NUL}, "plan"),
    ],
    ("POST", "/api/v1/risks/{reference}/actions/"): [
        Case("missing title", without(ACTION, "title"), "title"),
        Case("missing due date", without(ACTION, "due_date"), "due_date"),
        Case("due date in words", {**ACTION, "due_date": "tomorrow"}, "due_date"),
        Case("unknown status", {**ACTION, "status": "stalled"}, "status"),
        refused_reference("owner from globex", {**ACTION, "owner": "globex-admin"}, "owner"),
    ],
    ("PATCH", "/api/v1/risks/{reference}/actions/{number}/"): [
        Case("unknown status", {"status": "stalled"}, "status"),
        Case("due date is null", {"due_date": None}, "due_date"),
        refused_reference("owner who does not exist", {"owner": "nobody"}, "owner"),
    ],
    ("POST", "/api/v1/risks/{reference}/accept/"): [
        Case("missing justification", without(ACCEPT, "justification"), "justification"),
        Case("blank conditions", {**ACCEPT, "conditions": "   "}, "conditions"),
        Case("missing valid-until date", without(ACCEPT, "valid_until"), "valid_until"),
        Case("valid until today", {**ACCEPT, "valid_until": TODAY.isoformat()}, "valid_until"),
        Case(
            "valid for two years",
            {**ACCEPT, "valid_until": (TODAY + timedelta(days=730)).isoformat()},
            "valid_until",
        ),
    ],
    ("POST", "/api/v1/risks/{reference}/dismiss/"): [
        Case("missing reason", {}, "reason"),
        Case("blank reason", {"reason": ""}, "reason"),
        Case("reason too long", {"reason": "r" * 2001}, "reason"),
    ],
    ("POST", "/api/v1/risks/{reference}/reviews/"): [
        Case("missing note", {}, "note"),
        Case(
            "held tomorrow",
            {"note": "Fine.", "reviewed_on": (TODAY + timedelta(days=1)).isoformat()},
            "reviewed_on",
        ),
        Case("held on a day in words", {"note": "Fine.", "reviewed_on": "Monday"}, "reviewed_on"),
    ],
    ("POST", "/api/v1/risks/{reference}/comments/"): [
        Case("missing text", {}, "text"),
        Case("blank text", {"text": " "}, "text"),
        Case("text too long", {"text": "t" * 5001}, "text"),
    ],
    ("POST", "/api/v1/systems/"): [
        Case("missing name", without(SYSTEM, "name"), "name"),
        Case("missing slug", without(SYSTEM, "slug"), "slug"),
        Case("name is an object", {**SYSTEM, "name": {"en": "Loans"}}, "name"),
        Case(
            "is_generative is not a boolean",
            {**SYSTEM, "is_generative": "perhaps"},
            "is_generative",
        ),
        Case("owner is a list", {**SYSTEM, "owner": ["engineer"]}, "owner"),
        Case("NUL byte in name", {**SYSTEM, "name": NUL}, "name"),
        Case("name too long", {**SYSTEM, "name": "n" * 201}, "name"),
        Case("description too long", {**SYSTEM, "description": "d" * 10_001}, "description"),
        Case("slug with spaces", {**SYSTEM, "slug": "loan approval"}, "slug"),
        Case("slug too long", {**SYSTEM, "slug": "s" * 65}, "slug"),
        Case("unknown lifecycle stage", {**SYSTEM, "lifecycle_stage": "sunset"}, "lifecycle_stage"),
        Case("unknown risk tier", {**SYSTEM, "risk_tier": "extreme"}, "risk_tier"),
        refused_reference("owner from globex", {**SYSTEM, "owner": "globex-engineer"}, "owner"),
        refused_reference("owner who does not exist", {**SYSTEM, "owner": "nobody"}, "owner"),
        Case("slug taken", {**SYSTEM, "slug": "credit-scoring"}, "slug", 409, "slug_taken"),
    ],
    ("PATCH", "/api/v1/systems/{slug}/"): [
        Case("name is null", {"name": None}, "name"),
        Case("name is blank", {"name": ""}, "name"),
        Case("is_generative is not a boolean", {"is_generative": "perhaps"}, "is_generative"),
        Case("NUL byte in business unit", {"business_unit": NUL}, "business_unit"),
        Case("supplier too long", {"supplier": "s" * 201}, "supplier"),
        Case("unknown risk tier", {"risk_tier": "extreme"}, "risk_tier"),
        Case("unknown deployment context", {"deployment_context": "moon"}, "deployment_context"),
        refused_reference("owner from globex", {"owner": "globex-admin"}, "owner"),
    ],
    ("POST", "/api/v1/systems/{slug}/model-versions/"): [
        Case("missing version", {}, "version"),
        Case("version is a list", {"version": ["2.0"]}, "version"),
        Case("version too long", {"version": "v" * 65}, "version"),
        Case("NUL byte in version", {"version": NUL}, "version"),
        Case("unknown status", {**MODEL_VERSION, "status": "beta"}, "status"),
        Case(
            "artifact hash not hex", {**MODEL_VERSION, "artifact_sha256": "abc"}, "artifact_sha256"
        ),
        Case(
            "training datasets not a list",
            {**MODEL_VERSION, "training_datasets": "loans-2023"},
            "training_datasets",
        ),
        refused_reference(
            "training dataset from globex",
            {**MODEL_VERSION, "training_datasets": ["passport-photos"]},
            "training_datasets",
        ),
        refused_reference(
            "training dataset that does not exist",
            {**MODEL_VERSION, "training_datasets": ["no-such-dataset"]},
            "training_datasets",
        ),
        refused_reference("parent from globex", {**MODEL_VERSION, "parent": "7.3-beta"}, "parent"),
        refused_reference(
            "parent that does not exist", {**MODEL_VERSION, "parent": "0.1"}, "parent"
        ),
        Case("version taken", {"version": "1.0"}, "version", 409, "version_taken"),
    ],
    ("PATCH", "/api/v1/systems/{slug}/model-versions/{version}/"): [
        Case("unknown status", {"status": "beta"}, "status"),
        Case("status is null", {"status": None}, "status"),
        Case("artifact hash in upper case", {"artifact_sha256": "AB" * 32}, "artifact_sha256"),
        Case("framework too long", {"framework": "f" * 101}, "framework"),
        Case("NUL byte in framework", {"framework": NUL}, "framework"),
    ],
    ("POST", "/api/v1/datasets/"): [
        Case("missing name", without(DATASET, "name"), "name"),
        Case("missing slug", without(DATASET, "slug"), "slug"),
        Case("content hash not hex", {**DATASET, "content_sha256": "xyz"}, "content_sha256"),
        Case("impossible date", {**DATASET, "collection_start": "2024-13-01"}, "collection_start"),
        Case(
            "personal data flag not a boolean",
            {**DATASET, "contains_personal_data": "sometimes"},
            "contains_personal_data",
        ),
        Case("source too long", {**DATASET, "source": "s" * 501}, "source"),
        Case("NUL byte in licence", {**DATASET, "licence": NUL}, "licence"),
        Case(
            "collection ends before it starts",
            {**DATASET, "collection_start": "2024-06-01", "collection_end": "2024-01-01"},
            "collection_end",
        ),
        Case("slug taken", {**DATASET, "slug": "loans-2023"}, "slug", 409, "slug_taken"),
    ],
    ("PATCH", "/api/v1/datasets/{slug}/"): [
        Case("name is null", {"name": None}, "name"),
        Case("limitations too long", {"known_limitations": "k" * 10_001}, "known_limitations"),
        Case(
            "personal data flag is a list",
            {"contains_personal_data": [True]},
            "contains_personal_data",
        ),
        Case(
            "collection starts after it ended",
            {"collection_start": "2024-06-01"},
            "collection_start",
        ),
    ],
    ("POST", "/api/v1/risks/"): [
        Case("missing title", without(RISK, "title"), "title"),
        Case("missing statement", without(RISK, "statement"), "statement"),
        Case("missing category", without(RISK, "category"), "category"),
        Case("unknown category", {**RISK, "category": "vibes"}, "category"),
        Case("unknown source", {**RISK, "source": "rumour"}, "source"),
        Case("title too long", {**RISK, "title": "t" * 201}, "title"),
        Case("NUL byte in statement", {**RISK, "statement": NUL}, "statement"),
        Case("systems not a list", {**RISK, "systems": "credit-scoring"}, "systems"),
        Case(
            "model version without its version",
            {**RISK, "model_versions": [{"system": "credit-scoring"}]},
            "model_versions",
        ),
        refused_reference("owner from globex", {**RISK, "owner": "globex-officer"}, "owner"),
        refused_reference("system from globex", {**RISK, "systems": ["turnstile"]}, "systems"),
        refused_reference(
            "dataset from globex", {**RISK, "datasets": ["passport-photos"]}, "datasets"
        ),
        refused_reference(
            "model version from globex",
            {**RISK, "model_versions": [{"system": "turnstile", "version": "7.3-beta"}]},
            "model_versions",
        ),
        refused_reference(
            "subcategory that does not exist",
            {**RISK, "subcategories": ["MEASURE 9.99"]},
            "subcategories",
        ),
    ],
    ("PATCH", "/api/v1/risks/{reference}/"): [
        Case("unknown category", {"category": "vibes"}, "category"),
        Case("title is null", {"title": None}, "title"),
        Case("title is blank", {"title": ""}, "title"),
        Case("NUL byte in statement", {"statement": NUL}, "statement"),
        Case("subcategories not a list", {"subcategories": "MEASURE 2.11"}, "subcategories"),
        refused_reference("owner from globex", {"owner": "globex-admin"}, "owner"),
        refused_reference("system from globex", {"systems": ["turnstile"]}, "systems"),
        refused_reference(
            "subcategory that does not exist", {"subcategories": ["NOPE 1.1"]}, "subcategories"
        ),
    ],
    ("POST", "/api/v1/risks/{reference}/transition/"): [
        Case("missing status", {}, "status"),
        Case("unknown status", {"status": "archived"}, "status"),
        Case("status is a number", {"status": 3}, "status"),
        Case("NUL byte in status", {"status": "open\x00"}, "status"),
    ],
    ("POST", "/api/v1/evidence/"): [
        Case("missing document", {}, "document"),
        Case("document is a list", {"document": [PERFORMANCE]}, "document"),
        invalid("unknown kind", performance(kind="opinion"), "/kind"),
        invalid("unknown context", performance(context="rumour"), "/context"),
        invalid("unknown top-level field", performance(verdict="met"), ""),
        invalid("rate above 1", scores(1.5), "/metrics/scores/accuracy"),
        invalid(
            "negative count",
            performance(metrics={**PERFORMANCE["metrics"], "size": -1}),
            "/metrics/size",
        ),
        invalid(
            "interval low above high",
            scores(
                {
                    "value": 0.9,
                    "interval": {"low": 0.95, "high": 0.85, "level": 0.95, "method": "wilson"},
                }
            ),
            "/metrics/scores/accuracy/interval",
        ),
        invalid("measurement without a system", performance(system=None), "/system"),
        invalid(
            "model version of another system",
            performance(model_version="7.3-beta"),
            "/model_version",
        ),
        invalid(
            "supersedes an unknown item",
            performance(supersedes="00000000-0000-4000-8000-000000000000"),
            "/supersedes",
        ),
        Case("system of globex", performance(system="turnstile"), "system", 404, "not_found"),
        refused_reference(
            "dataset of globex",
            performance(datasets=[{"slug": "passport-photos", "split": "test"}]),
            "/datasets/0/slug",
        ),
        Case(
            "commit sha not hex",
            {**performance(), "provenance": {"commit_sha": "HEAD"}},
            "provenance.commit_sha",
        ),
        Case(
            "labels not strings",
            {**performance(), "provenance": {"labels": {"a": ["b"]}}},
            "provenance.labels.a",
        ),
        Case("unknown import format", {**MLFLOW, "format": "excel"}, "format"),
        Case(
            "import without envelope",
            {k: v for k, v in MLFLOW.items() if k != "envelope"},
            "envelope",
        ),
        Case("import of a run without metrics", MLFLOW, "payload", 400, "import_failed"),
    ],
    ("POST", "/api/v1/evidence/{uid}/withdraw/"): [
        Case("missing reason", {}, "reason"),
        Case("blank reason", {"reason": ""}, "reason"),
        Case("reason too long", {"reason": "r" * 2001}, "reason"),
        Case("NUL byte in reason", {"reason": NUL}, "reason"),
    ],
    ("POST", "/api/v1/assessments/"): [
        Case("missing system", without(predictions(), "system"), "system"),
        Case("missing kinds", without(predictions(), "kinds"), "kinds"),
        Case("unknown kind", predictions(kinds=["vibes"]), "kinds.0"),
        Case(
            "mapping names a missing column", predictions(mapping='{"label": "y"}'), "mapping.label"
        ),
        Case(
            "fairness without a sensitive column",
            predictions(mapping='{"label": "label", "prediction": "prediction"}'),
            "mapping.sensitive",
        ),
        Case("options out of range", predictions(options='{"n_boot": -1}'), "options.n_boot"),
        Case("unknown context", predictions(context="rumour"), "context"),
        Case("NUL byte in model version", predictions(model_version=NUL), "model_version"),
    ],
    ("POST", "/api/v1/assessments/{uid}/cancel/"): [
        Case("a finished job", {}, "status", 409, "job_finished"),
        Case("reason too long", {"reason": "r" * 501}, "reason"),
    ],
    ("POST", "/api/v1/incidents/"): [
        Case("missing title", without(INCIDENT, "title"), "title"),
        Case("unknown severity", {**INCIDENT, "severity": "apocalyptic"}, "severity"),
        Case("occurred_at not a time", {**INCIDENT, "occurred_at": "yesterday"}, "occurred_at"),
        Case(
            "detected before it occurred",
            {**INCIDENT, "detected_at": "2026-11-01T00:00:00Z"},
            "detected_at",
        ),
        Case(
            "regulator to notify without a deadline",
            {**INCIDENT, "regulator_notification_required": True},
            "regulator_deadline",
        ),
        refused_reference("system of globex", {**INCIDENT, "systems": ["turnstile"]}, "systems"),
        refused_reference("risk that does not exist", {**INCIDENT, "risks": ["RSK-099"]}, "risks"),
    ],
    ("PATCH", "/api/v1/incidents/{reference}/"): [
        Case("unknown severity", {"severity": "apocalyptic"}, "severity"),
        Case("detected before it occurred", {"detected_at": "2020-01-01T00:00:00Z"}, "detected_at"),
        Case("title is null", {"title": None}, "title"),
        refused_reference(
            "model version of globex",
            {"model_versions": [{"system": "turnstile", "version": "7.3-beta"}]},
            "model_versions",
        ),
    ],
    ("POST", "/api/v1/incidents/{reference}/transition/"): [
        Case("unknown status", {"status": "forgotten"}, "status"),
        Case("open to mitigated", {"status": "mitigated"}, "status", 409, "invalid_transition"),
        Case("closing without a root cause", {"status": "closed"}, "root_cause"),
    ],
    ("POST", "/api/v1/incidents/{reference}/timeline/"): [
        Case("missing text", {}, "text"),
        Case("blank text", {"text": "  "}, "text"),
    ],
    ("POST", "/api/v1/tokens/"): [
        Case("missing name", {}, "name"),
        Case("name is blank", {"name": ""}, "name"),
        Case("name too long", {"name": "n" * 201}, "name"),
        Case("NUL byte in name", {"name": NUL}, "name"),
        Case("days is zero", {**TOKEN, "days": 0}, "days"),
        Case("days beyond a year", {**TOKEN, "days": 366}, "days"),
        Case("days is text", {**TOKEN, "days": "ninety"}, "days"),
        Case("service account is a list", {**TOKEN, "service_account": ["ci"]}, "service_account"),
        refused_reference(
            "service account that does not exist",
            {**TOKEN, "service_account": "no-such-account"},
            "service_account",
        ),
        refused_reference(
            "service account from globex",
            {**TOKEN, "service_account": "globex-ci"},
            "service_account",
        ),
    ],
    ("POST", "/api/v1/tokens/{prefix}/revoke/"): [
        Case("reason too long", {"reason": "r" * 501}, "reason"),
        Case("reason is a list", {"reason": ["lost"]}, "reason"),
        Case("NUL byte in reason", {"reason": NUL}, "reason"),
    ],
    ("POST", "/api/v1/members/"): [
        Case("missing username", without(MEMBER, "username"), "username"),
        Case("missing role", without(MEMBER, "role"), "role"),
        Case("unknown role", {**MEMBER, "role": "owner"}, "role"),
        Case("username with spaces", {**MEMBER, "username": "new comer"}, "username"),
        Case("username too long", {**MEMBER, "username": "u" * 151}, "username"),
        Case("NUL byte in username", {**MEMBER, "username": NUL}, "username"),
        Case("email is not an address", {**MEMBER, "email": "not-an-address"}, "email"),
        Case("already a member", {**MEMBER, "username": "officer"}, "username", 409, "conflict"),
    ],
    ("PATCH", "/api/v1/members/{username}/"): [
        Case("missing role", {}, "role"),
        Case("unknown role", {"role": "owner"}, "role"),
        Case("role is null", {"role": None}, "role"),
        Case("role is a list", {"role": ["admin"]}, "role"),
    ],
    ("POST", "/api/v1/service-accounts/"): [
        Case("missing name", without(SERVICE_ACCOUNT, "name"), "name"),
        Case("missing slug", without(SERVICE_ACCOUNT, "slug"), "slug"),
        Case("missing role", without(SERVICE_ACCOUNT, "role"), "role"),
        Case("unknown role", {**SERVICE_ACCOUNT, "role": "robot"}, "role"),
        Case("slug with spaces", {**SERVICE_ACCOUNT, "slug": "night ly"}, "slug"),
        Case("NUL byte in name", {**SERVICE_ACCOUNT, "name": NUL}, "name"),
        Case("systems not a list", {**SERVICE_ACCOUNT, "systems": "credit-scoring"}, "systems"),
        refused_reference(
            "system from globex", {**SERVICE_ACCOUNT, "systems": ["turnstile"]}, "systems"
        ),
        refused_reference(
            "system that does not exist", {**SERVICE_ACCOUNT, "systems": ["nope"]}, "systems"
        ),
        Case("slug taken", {**SERVICE_ACCOUNT, "slug": "pipeline"}, "slug", 409, "slug_taken"),
    ],
}

# Bodies that are not a JSON object at all: (name, raw bytes, content type, status, code).
RAW_CASES = [
    ("malformed JSON", b'{"name": ', "application/json", 400, "malformed_request"),
    ("invalid UTF-8", b'{"name": "\xff\xfe"}', "application/json", 400, "malformed_request"),
    ("NaN literal", b'{"name": NaN}', "application/json", 400, "malformed_request"),
    ("deeply nested JSON", b"[" * 100_000, "application/json", 400, "malformed_request"),
    ("a JSON list", b"[1, 2]", "application/json", 400, "validation_error"),
    ("a JSON string", b'"name"', "application/json", 400, "validation_error"),
    ("JSON null", b"null", "application/json", 400, "validation_error"),
    ("plain text", b"name=x", "text/plain", 415, "unsupported_media_type"),
    (
        "a form",
        b"name=x&slug=y",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
]


def url_for(op: Operation) -> str:
    kwargs = DATASET_URL if op.path.startswith("/api/v1/datasets/") else OWN_URL
    if op.path.startswith("/api/v1/incidents/"):
        kwargs = {"reference": "INC-001"}
    if "uid" in op.kwargs:
        # Evidence ids are random; the acme policy of the world fixture, when there is one.
        item = Evidence.objects.filter(organization__slug="acme", kind="document").first()
        uid = str(item.uid) if item else "00000000-0000-4000-8000-000000000000"
        sha256 = item.document["attachments"][0]["sha256"] if item else "0" * 64
        kwargs = {"uid": uid, "sha256": sha256}
    if "kind" in op.kwargs:
        kwargs = {"kind": "fairness"}
    if op.path.startswith("/api/v1/webhooks/{uid}/"):
        hook = Webhook.objects.filter(organization__slug="acme").first()
        kwargs = {"uid": str(hook.uid) if hook else "00000000-0000-4000-8000-000000000000"}
    if (
        op.path.split("/")[-2] in ("accept", "reviews", "treatment", "actions")
        or "number" in op.kwargs
    ):
        # RSK-002 is open, scored and has action A1: what is refused is the field.
        kwargs = {"reference": "RSK-002", "number": "A1"}
    if op.path.startswith("/api/v1/reports/{uid}/"):
        from reports.models import Report

        found = Report.objects.filter(organization__slug="acme").first()
        kwargs = {"uid": str(found.uid) if found else "00000000-0000-4000-8000-000000000000"}
    if op.path.startswith("/api/v1/assessments/{uid}/"):
        # The acme job, cancelled: what is left to refuse at its cancel endpoint.
        job = AssessmentJob.objects.filter(organization__slug="acme").first()
        if job is not None and not job.done:
            assessment_services.assessment_job_cancel(
                actor=Actor.system(job.organization_id), job=job
            )
        kwargs = {"uid": str(job.uid) if job else "00000000-0000-4000-8000-000000000000"}
    return op.url(**{k: kwargs[k] for k in op.kwargs})


def field_cases() -> list[tuple[Operation, Case]]:
    return [(op, case) for op in WRITES for case in FIELD_CASES.get(op.key, [])]


def case_id(value: Any) -> str:
    if isinstance(value, Operation):
        return str(value)
    return value.name if isinstance(value, Case) else str(value)


@pytest.fixture
def admin(world: World, api_for: Any) -> APIClient:
    return api_for(Role.ADMIN)


def test_every_write_endpoint_has_bad_input_cases() -> None:
    missing = sorted(str(op) for op in WRITES if not FIELD_CASES.get(op.key))
    assert missing == [], f"add bad-input cases to FIELD_CASES for {missing}"
    assert sorted(set(FIELD_CASES) - {op.key for op in WRITES}) == []


@pytest.mark.parametrize(("op", "case"), field_cases(), ids=case_id)
def test_admin_sending_a_bad_field_gets_a_4xx_naming_it_and_nothing_is_written(
    op: Operation, case: Case, admin: APIClient
) -> None:
    url = url_for(op)
    before = db_snapshot()

    if op.key in MULTIPART_ONLY:
        # A case may replace the file with something that is not one.
        body = {"file": SimpleUploadedFile("p.csv", PREDICTIONS, "text/csv"), **case.body}
        response = admin.post(url, body, format="multipart")
    else:
        response = getattr(admin, op.method.lower())(url, case.body, format="json")

    body = assert_envelope(response, case.status, case.code)
    assert names_field(body, case.field), body
    assert_nothing_written(before)


@pytest.mark.parametrize("op", WRITES, ids=case_id)
@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [case[1:] for case in RAW_CASES],
    ids=[case[0] for case in RAW_CASES],
)
def test_admin_sending_a_body_that_is_not_a_json_object_gets_a_4xx_and_nothing_is_written(
    op: Operation, raw: bytes, content_type: str, status: int, code: str, admin: APIClient
) -> None:
    url = url_for(op)
    before = db_snapshot()

    response = admin.generic(op.method, url, raw, content_type=content_type)

    if op.key in MULTIPART_ONLY and status != 401:
        status, code = 415, "unsupported_media_type"  # no JSON parser there at all
    assert_envelope(response, status, code)
    assert_nothing_written(before)


def test_body_over_the_request_limit_is_refused_with_413_and_nothing_is_written(
    admin: APIClient, settings: Any
) -> None:
    """The limit holds for JSON too, and its answer is the envelope, not Django's page."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = db_snapshot()

    response = admin.post(
        "/api/v1/systems/",
        {"name": "Big", "slug": "big", "unknown_field": "x" * 20_000},
        format="json",
    )

    assert_envelope(response, 413, "request_too_large")
    assert_nothing_written(before)


# --- URLs and query strings ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/systems/credit-scoring/model-versions/1.0%00/",
        "/api/v1/risks/RSK-001%00/",
        "/api/v1/risks/RSK-%00/",
    ],
)
def test_nul_byte_in_a_url_answers_404_not_500(path: str, admin: APIClient) -> None:
    assert_envelope(admin.get(path), 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/risks/?status=open%00",
        "/api/v1/risks/?system=credit-scoring%00",
        "/api/v1/risks/?owner=engineer%00",
        "/api/v1/risks/actions/?owner=engineer%00",
        "/api/v1/audit/events/?object_type=risk%00",
        "/api/v1/audit/events/?object_id=1%00",
        "/api/v1/catalog/?function=MEASURE%00",
    ],
)
def test_nul_byte_in_a_list_filter_is_not_a_500(path: str, admin: APIClient) -> None:
    response = admin.get(path)
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:
        assert response.json() in ([], {"count": 0, "next": None, "previous": None, "results": []})


@pytest.mark.parametrize(
    "reference", ["RSK-\u00b2", "RSK-\u0661", "RSK-", "RSK--1", "RSK-1.0", "x" * 300]
)
def test_reference_that_is_not_ascii_digits_answers_404(reference: str, admin: APIClient) -> None:
    assert_envelope(admin.get(f"/api/v1/risks/{reference}/"), 404, "not_found")


def test_reference_beyond_any_integer_column_answers_404(admin: APIClient) -> None:
    assert_envelope(admin.get(f"/api/v1/risks/RSK-{'9' * 30}/"), 404, "not_found")


# --- credentials -----------------------------------------------------------------------


def _expired(acme: Tenant) -> str:
    token, key = orgs.token_create(
        actor=acme.actor, name="old", membership=acme.members[Role.ADMIN]
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return key


def _revoked(acme: Tenant) -> str:
    token, key = orgs.token_create(
        actor=acme.actor, name="leaked", membership=acme.members[Role.ADMIN]
    )
    orgs.token_revoke(actor=acme.actor, token=token)
    return key


CREDENTIALS = {
    "no credentials": (None, "not_authenticated"),
    "unknown key": (lambda acme: "rr_not-a-key-we-issued", "authentication_failed"),
    "expired token": (_expired, "token_expired"),
    "revoked token": (_revoked, "token_expired"),
}


@pytest.mark.parametrize("op", OPERATIONS, ids=case_id)
@pytest.mark.parametrize("credentials", list(CREDENTIALS))
def test_caller_without_valid_credentials_gets_401_and_nothing_is_written(
    op: Operation, credentials: str, acme: Tenant
) -> None:
    make_key, code = CREDENTIALS[credentials]
    client = APIClient()
    if make_key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(acme)}")
    path = url_for(op)
    before = db_snapshot()

    response = client.generic(op.method, path, b"{}", content_type="application/json")

    assert_envelope(response, 401, code)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert_nothing_written(before)


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer two parts", "Bearer r\u00e9sum\u00e9", "bearer rr_not-a-key-we-issued"],
    ids=["no key", "two keys", "non-ASCII key", "lower-case scheme"],
)
def test_malformed_authorization_header_is_refused_with_401(header: str, acme: Tenant) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_envelope(client.get("/api/v1/me/"), 401, "authentication_failed")


def test_unrouted_api_url_answers_404_in_the_envelope(client: Any) -> None:
    response = client.get("/api/v1/systems/caf%C3%A9/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "extra": {}}
    assert response["Content-Type"] == "application/json"
