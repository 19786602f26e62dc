"""Register and treatment-plan files through the API: exports that a spreadsheet cannot
run, imports that come back exactly, and imports that write all their rows or none."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from rest_framework.test import APIClient

from riskreg.organisations import services as orgs
from riskreg.organisations.roles import Role
from riskreg.risks.models import Risk, RiskScore, TreatmentAction
from riskreg.risks.selectors.register import risk_get
from riskreg.risks.services import register as risks
from riskreg.risks.services import scoring, treatment
from tests.api.conftest import World
from tests.api.helpers import (
    assert_envelope,
    assert_nothing_written,
    audit_events_since,
    db_snapshot,
    last_audit_id,
)

EXPORT, IMPORT = "/api/v1/risks/export/", "/api/v1/risks/import/"
TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet's dates have no time zone; openpyxl reads a date cell as a naive midnight.
NAIVE_2026_11_01 = datetime(2026, 11, 1)  # noqa: DTZ001
HEADER = "reference,title,statement,category,owner,systems,inherent_likelihood,inherent_impact"


def upload(client: APIClient, data: bytes, sheet: str = "register", name: str = "r.csv") -> Any:
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(IMPORT, {"file": file, "sheet": sheet}, format="multipart")


def csv_file(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def tricky_risks(world: World) -> list[str]:
    """Privacy risks whose title and statement start with each trigger, or an apostrophe."""
    texts = [f"{t}SUM(1+1) {n}" for n, t in enumerate(TRIGGERS)] + ["'quoted", "''twice"]
    for text in texts:
        risks.risk_create(actor=world.acme.actor, title=text, statement=text, category="privacy")
    return texts


def read_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


# --- export ---------------------------------------------------------------------------


def test_auditor_exports_the_register_as_csv_with_all_six_triggers_neutralised(
    world: World, api_for: Any
) -> None:
    texts = tricky_risks(world)
    risk = risk_get(actor=world.acme.actor, reference="RSK-003")
    scoring.risk_score(actor=world.acme.actor, risk=risk, kind="inherent", likelihood=4, impact=5)

    with time_machine.travel(datetime(2026, 11, 29, 12, tzinfo=UTC), tick=False):
        response = api_for(Role.AUDITOR).get(EXPORT, {"category": "privacy"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="acme-risk-register-2026-11-29.csv"'
    )
    rows = read_csv(response.content)
    assert [r["title"] for r in rows] == ["'" + t for t in texts]
    assert [r["statement"] for r in rows] == ["'" + t for t in texts]
    assert not any(v.startswith(tuple(TRIGGERS)) for r in rows for v in r.values())
    # Numbers are bare digits: no apostrophe, no quotes, in the raw bytes.
    line = next(ln for ln in response.content.split(b"\r\n") if ln.startswith(b"RSK-003,"))
    assert b",4,5,20," in line


def test_export_accepts_the_register_filters_and_any_accept_header(
    world: World, api_for: Any
) -> None:
    client = api_for(Role.ENGINEER)

    response = client.get(EXPORT, {"status": "open"}, HTTP_ACCEPT="text/csv")
    refused = client.get(EXPORT, {"sheet": "minutes"})

    assert response.status_code == 200
    assert [r["reference"] for r in read_csv(response.content)] == ["RSK-002"]
    body = assert_envelope(refused, 400, "validation_error")
    assert "sheet" in body["extra"]["fields"]


def test_officer_exports_the_treatment_plan_as_xlsx_with_dates_and_overdue(
    world: World, api_for: Any
) -> None:
    risk = risk_get(actor=world.acme.actor, reference="RSK-001")
    treatment.treatment_action_create(
        actor=world.acme.actor,
        risk=risk,
        title="=Retrain",
        due_date=date(2026, 11, 1),
        owner="engineer",
    )

    with time_machine.travel(datetime(2026, 11, 29, 12, tzinfo=UTC), tick=False):
        response = api_for(Role.COMPLIANCE_OFFICER).get(
            EXPORT, {"sheet": "treatment-plan", "type": "xlsx", "status": "proposed"}
        )

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "acme-treatment-plan-2026-11-29.xlsx" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    assert list(ws.iter_rows(values_only=True)) == [
        ("risk", "action", "title", "owner", "due_date", "status", "overdue"),
        ("RSK-001", "A1", "'=Retrain", "engineer", NAIVE_2026_11_01, "planned", "yes"),
    ]


# --- round trips ----------------------------------------------------------------------


def test_xlsx_export_has_no_formula_and_reimports_as_unchanged(world: World, api_for: Any) -> None:
    tricky_risks(world)
    client = api_for(Role.ADMIN)
    exported = client.get(EXPORT, {"type": "xlsx"}).content
    sheet = zipfile.ZipFile(io.BytesIO(exported)).read("xl/worksheets/sheet1.xml")
    before = db_snapshot()

    response = upload(client, exported, name="register.xlsx")

    assert b"<f>" not in sheet
    assert b"<f " not in sheet
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 10}
    assert_nothing_written(before)


def test_trigger_and_apostrophe_text_survives_xlsx_export_and_import_as_new_risks(
    world: World, api_for: Any
) -> None:
    texts = tricky_risks(world)
    client = api_for(Role.COMPLIANCE_OFFICER)
    exported = client.get(EXPORT, {"type": "xlsx", "category": "privacy"}).content
    wb = load_workbook(io.BytesIO(exported))
    for row in wb.worksheets[0].iter_rows(min_row=2):
        row[0].value = None  # no reference: import as new risks
    edited = io.BytesIO()
    wb.save(edited)

    response = upload(client, edited.getvalue(), name="register.xlsx")

    assert response.json() == {"created": len(texts), "updated": 0, "unchanged": 0}
    new = Risk.objects.filter(organization=world.acme.org, number__gt=2 + len(texts))
    assert [(r.title, r.statement) for r in new.order_by("number")] == [(t, t) for t in texts]


def test_officer_updates_only_what_changed_and_each_change_is_audited(
    world: World, api_for: Any
) -> None:
    client = api_for(Role.COMPLIANCE_OFFICER)
    rows = read_csv(client.get(EXPORT).content)
    rows[0] |= {"owner": "engineer", "inherent_likelihood": "3", "inherent_impact": "4"}
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    mark, scores = last_audit_id(), RiskScore.objects.count()

    response = upload(client, out.getvalue().encode())

    assert response.json() == {"created": 0, "updated": 1, "unchanged": 1}
    assert [e.action for e in audit_events_since(mark)] == ["risk.update", "risk.score"]
    assert RiskScore.objects.count() == scores + 1
    again = upload(client, out.getvalue().encode())
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 2}
    assert RiskScore.objects.count() == scores + 1


def test_officer_adds_and_changes_treatment_actions_from_a_plan_sheet(
    world: World, api_for: Any
) -> None:
    risk = risk_get(actor=world.acme.actor, reference="RSK-001")
    treatment.treatment_action_create(
        actor=world.acme.actor, risk=risk, title="Retrain", due_date=date(2026, 12, 1)
    )
    sheet = csv_file(
        "risk,action,title,owner,due_date,status",
        "RSK-001,A1,Retrain monthly,officer,2026-12-01,in_progress",
        "RSK-001,,'@Monitor drift,,2027-01-15,",
    )
    client = api_for(Role.COMPLIANCE_OFFICER)
    mark = last_audit_id()

    response = upload(client, sheet, sheet="treatment-plan")

    assert response.json() == {"created": 1, "updated": 1, "unchanged": 0}
    assert [e.action for e in audit_events_since(mark)] == [
        "risk.action_update",
        "risk.action_create",
    ]
    actions = TreatmentAction.objects.filter(risk=risk).order_by("number")
    assert [(a.title, a.status, a.owner is not None) for a in actions] == [
        ("Retrain monthly", "in_progress", True),
        ("@Monitor drift", "planned", False),
    ]


# --- refusals: nothing written ----------------------------------------------------------


def test_one_bad_row_among_good_ones_imports_nothing_and_names_the_row(
    world: World, api_for: Any
) -> None:
    sheet = csv_file(
        HEADER,
        ",Good new risk,Fine.,privacy,,,2,2",
        ",Bad new risk,Fine.,privacy,,,9,2",
        "RSK-001,Proxy discrimination,Reworded.,fairness,engineer,credit-scoring,,",
    )
    client = api_for(Role.COMPLIANCE_OFFICER)
    before = db_snapshot()

    response = upload(client, sheet)

    body = assert_envelope(response, 400, "import_rows_invalid")
    assert body["extra"]["errors"] == [
        {"row": 3, "column": "inherent_likelihood", "message": "must be a whole number from 1 to 5"}
    ]
    assert body["message"].startswith("file: 1 error, nothing was imported; row 3")
    assert_nothing_written(before)


def test_every_bad_row_is_reported_at_once(world: World, api_for: Any) -> None:
    sheet = csv_file(
        HEADER + ",status",
        "RSK-099,A,B,privacy,,,,,",
        ",A,B,vibes,nobody,turnstile,3,,",
        "RSK-005,A,B,privacy,,,,,",
        "RSK-002,A,B,privacy,,,,,accepted",
        "",
        "RSK-002,A,B,privacy,,,,,",
    )
    client = api_for(Role.ADMIN)
    before = db_snapshot()

    response = upload(client, sheet)

    errors = assert_envelope(response, 400, "import_rows_invalid")["extra"]["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "reference"),
        (3, "category"),
        (3, "owner"),
        (3, "systems"),
        (3, "inherent_impact"),
        (4, "reference"),
        (5, "status"),
        (7, "reference"),
    ]
    messages = {(e["row"], e["column"]): e["message"] for e in errors}
    assert messages[(3, "systems")] == "'turnstile' does not exist in your organisation"
    assert "RSK-005" in messages[(4, "reference")]
    assert "never changes a risk's status" in messages[(5, "status")]
    assert messages[(7, "reference")] == "RSK-002 is also in row 5"
    assert_nothing_written(before)


def test_a_refusal_while_writing_rolls_back_the_rows_already_written(
    world: World, api_for: Any
) -> None:
    """A limited service account must link every risk it writes to one of its systems:
    a rule only risk_create knows, met after the first row was written."""
    system = world.acme.actor
    account = orgs.service_account_create(
        actor=system,
        name="CI",
        slug="ci",
        role=Role.COMPLIANCE_OFFICER,
        system_ids=[Risk.systems.through.objects.values_list("aisystem_id", flat=True).first()],
    )
    _, key = orgs.token_create(actor=system, name="ci", service_account=account)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    sheet = csv_file(
        "reference,title,statement,category,systems",
        ",Linked,Fine.,privacy,credit-scoring",
        ",Unlinked,Fine.,privacy,",
    )
    before = db_snapshot()

    response = upload(client, sheet)

    errors = assert_envelope(response, 400, "import_rows_invalid")["extra"]["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "systems")]
    assert_nothing_written(before)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ENGINEER])
def test_auditor_and_engineer_cannot_import(world: World, api_for: Any, role: Role) -> None:
    client = api_for(role)
    before = db_snapshot()

    response = upload(client, csv_file(HEADER, ",New,Fine.,privacy,,,,"))

    assert_envelope(response, 403, "permission_denied")
    assert_nothing_written(before)


def test_a_file_over_the_size_limit_is_refused_with_413(
    world: World, api_for: Any, settings: Any
) -> None:
    settings.RISKREG_IMPORT_MAX_BYTES = 100
    client = api_for(Role.ADMIN)
    before = db_snapshot()

    response = upload(client, csv_file(HEADER, *[",New,Fine.,privacy,,,,"] * 5))

    assert_envelope(response, 413, "import_too_large")
    assert_nothing_written(before)


def test_more_than_1000_rows_is_refused_with_413(world: World, api_for: Any) -> None:
    response = upload(api_for(Role.ADMIN), csv_file(HEADER, *[",New,Fine.,privacy,,,,"] * 1001))

    body = assert_envelope(response, 413, "import_too_large")
    assert "1000 rows" in body["message"]
    assert not Risk.objects.filter(title="New").exists()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"PK\x03\x04\x14\x00 truncated workbook", "import_failed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "import_failed"),
        (b"minutes,of,the,meeting\r\n1,2,3,4\r\n", "import_rows_invalid"),
    ],
    ids=["malformed xlsx", "an image", "another table"],
)
def test_a_file_that_is_not_a_register_sheet_is_a_400_naming_the_file(
    world: World, api_for: Any, data: bytes, code: str
) -> None:
    client = api_for(Role.ADMIN)
    before = db_snapshot()

    response = upload(client, data)

    body = assert_envelope(response, 400, code)
    assert body["message"].startswith("file: ")
    assert_nothing_written(before)


def test_an_import_without_a_sheet_or_file_is_a_400_naming_it(world: World, api_for: Any) -> None:
    client = api_for(Role.ADMIN)

    no_sheet = client.post(IMPORT, {"file": SimpleUploadedFile("r.csv", b"x")}, format="multipart")
    no_file = client.post(IMPORT, {"sheet": "register"}, format="multipart")
    as_json = client.post(IMPORT, {"sheet": "register"}, format="json")

    assert "sheet" in assert_envelope(no_sheet, 400, "validation_error")["extra"]["fields"]
    assert "file" in assert_envelope(no_file, 400, "validation_error")["extra"]["fields"]
    assert_envelope(as_json, 415, "unsupported_media_type")


def test_a_treatment_plan_row_naming_another_organisations_risk_is_a_row_error(
    world: World, api_for: Any
) -> None:
    sheet = csv_file("risk,action,title,due_date", "RSK-005,,Spy,2027-01-01", "RSK-001,A7,X,")
    client = api_for(Role.ADMIN)
    before = db_snapshot()

    response = upload(client, sheet, sheet="treatment-plan")

    errors = assert_envelope(response, 400, "import_rows_invalid")["extra"]["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "risk"),
        (3, "due_date"),
        (3, "action"),
    ]
    assert_nothing_written(before)
