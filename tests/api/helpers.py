"""Helpers for the API tests: the operations the URL configuration exposes, the tables of
docs/roles.md, database snapshots to prove that nothing was written, and envelope checks."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.http import HttpResponseBase
from django.urls import URLPattern, URLResolver, get_resolver

from evaluations.models import (
    AssessmentJob,
    Blob,
    Evidence,
    EvidenceAttachment,
    Incident,
    IncidentTimelineEntry,
    Submission,
    Withdrawal,
)
from riskreg.audit.models import AuditEvent
from riskreg.inventory.models import AISystem, Dataset, ModelVersion
from riskreg.lib.errors import CODES
from riskreg.notifications.models import (
    EmailDelivery,
    Notification,
    NotificationPreference,
    Webhook,
    WebhookDelivery,
)
from riskreg.organisations.models import ApiToken, Membership, ServiceAccount
from riskreg.risks.models import (
    Risk,
    RiskAcceptance,
    RiskComment,
    RiskMatrix,
    RiskReview,
    RiskScore,
    TreatmentAction,
)

ROLES_DOC = Path(settings.BASE_DIR) / "docs" / "roles.md"
API_NAMESPACE = "api"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HANDLER_METHODS = ("get", "post", "put", "patch", "delete")


# --- operations, from the URL configuration --------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One HTTP method on one /api/v1/ route, as docs/roles.md names it."""

    method: str
    path: str  # "/api/v1/systems/{slug}/"
    view: type
    action: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    @property
    def kwargs(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    def url(self, **kwargs: str) -> str:
        return self.path.format(**kwargs)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _template(route: str) -> str:
    """'systems/<slug:slug>/' -> 'systems/{slug}/'."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def api_views() -> list[tuple[str, Any]]:
    """(path template, view function) for every route under the `api` namespace."""
    found: list[tuple[str, Any]] = []

    def walk(patterns: list[Any], prefix: str, inside: bool) -> None:
        for entry in patterns:
            route = prefix + _template(str(entry.pattern))
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route, inside or entry.namespace == API_NAMESPACE)
            elif isinstance(entry, URLPattern) and inside:
                found.append((route, entry.callback))

    walk(get_resolver().url_patterns, "/", inside=False)
    return found


def api_operations() -> list[Operation]:
    """Every (method, path) the API answers, with the action its view declares."""
    operations = []
    for path, callback in api_views():
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        for method, action in (getattr(view, "actions", None) or {}).items():
            operations.append(Operation(method=method, path=path, view=view, action=action))  # type: ignore[arg-type]
    return operations


# --- docs/roles.md ---------------------------------------------------------------------


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Each table as rows of cells (header first, separator dropped, backticks removed)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.strip().startswith("|"):
            cells = [c.strip().strip("`").strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def _doc_tables() -> tuple[list[list[str]], list[list[str]]]:
    tables = markdown_tables(ROLES_DOC.read_text(encoding="utf-8"))
    assert len(tables) == 2, f"docs/roles.md must hold exactly two tables, found {len(tables)}"
    return tables[0], tables[1]


def doc_role_columns() -> list[str]:
    return _doc_tables()[0][0][1:]


def doc_role_matrix() -> dict[str, set[str]]:
    """The first table of docs/roles.md: action -> roles marked `yes`."""
    header, *rows = _doc_tables()[0]
    matrix: dict[str, set[str]] = {}
    for row in rows:
        assert len(row) == len(header), f"docs/roles.md: row {row} has the wrong cell count"
        action, cells = row[0], row[1:]
        assert action not in matrix, f"docs/roles.md: action {action} listed twice"
        assert set(cells) <= {"yes", "no"}, f"docs/roles.md: {action}: cells must be yes/no"
        matrix[action] = {
            role for role, cell in zip(header[1:], cells, strict=True) if cell == "yes"
        }
    return matrix


def doc_endpoint_actions() -> dict[tuple[str, str], str]:
    """The second table of docs/roles.md: (method, path) -> action."""
    header, *rows = _doc_tables()[1]
    assert header == ["method", "path", "action"], f"docs/roles.md: endpoint header {header}"
    table: dict[tuple[str, str], str] = {}
    for method, path, action in rows:
        assert (method, path) not in table, f"docs/roles.md: {method} {path} listed twice"
        table[(method, path)] = action
    return table


# --- nothing written -------------------------------------------------------------------

SNAPSHOT_MODELS: list[type[Model]] = [
    AISystem,
    ModelVersion,
    ModelVersion.training_datasets.through,
    Dataset,
    Risk,
    Risk.systems.through,
    Risk.model_versions.through,
    Risk.datasets.through,
    Risk.subcategories.through,
    RiskMatrix,
    RiskScore,
    TreatmentAction,
    RiskAcceptance,
    RiskReview,
    RiskComment,
    Notification,
    NotificationPreference,
    EmailDelivery,
    Webhook,
    WebhookDelivery,
    Membership,
    ServiceAccount,
    ApiToken,
    Submission,
    Blob,
    Evidence,
    Evidence.datasets.through,
    EvidenceAttachment,
    Withdrawal,
    Incident,
    Incident.systems.through,
    Incident.model_versions.through,
    Incident.risks.through,
    IncidentTimelineEntry,
    AssessmentJob,
    AuditEvent,
]


def attachment_files() -> list[str]:
    """Every file under the attachments folder (the store must not gain one on a refusal)."""
    root = Path(settings.RISKREG_ATTACHMENTS_DIR)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def db_snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table an API write could touch, in both organisations."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())  # type: ignore[attr-defined]
        for model in SNAPSHOT_MODELS
    }


def assert_nothing_written(before: dict[str, list[dict[str, Any]]]) -> None:
    after = db_snapshot()
    assert after.keys() == before.keys()
    changed = [label for label in before if before[label] != after[label]]
    assert not changed, f"rows changed in {changed}"


def last_audit_id() -> int:
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


def audit_events_since(pk: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=pk).select_related("organization").order_by("pk"))


# --- responses -------------------------------------------------------------------------


def body_bytes(response: HttpResponseBase) -> bytes:
    """The whole body; a streamed one is read once and kept (the client closes it)."""
    if not getattr(response, "streaming", False):
        return response.content  # type: ignore[attr-defined,no-any-return]
    if not hasattr(response, "read_body"):
        response.read_body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.read_body  # type: ignore[attr-defined,no-any-return]


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is the error envelope with this status and code; returns it."""
    assert response.status_code == status, (response.status_code, body_bytes(response)[:500])
    body = response.json()
    assert set(body) == {"code", "message", "extra"}, body
    assert body["code"] == code, body
    assert body["code"] in CODES, body
    assert CODES[body["code"]][0] == status, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    return body  # type: ignore[no-any-return]


def names_field(body: dict[str, Any], field: str) -> bool:
    """Whether an error envelope names the field, in its message or its extra."""
    extra = body.get("extra") or {}
    fields = extra.get("fields") or {}
    return (
        body["message"].startswith(field)
        or extra.get("field") == field
        or any(name == field or name.startswith(f"{field}.") for name in fields)
    )
