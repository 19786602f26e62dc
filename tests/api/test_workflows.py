"""Workflows through the API: risk references and status moves, field-level audit of the
inventory, model-version lineage, dataset collection periods, and the audit chain."""

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from riskreg.audit.models import AuditEvent
from riskreg.audit.services import audit_verify
from riskreg.inventory import services as inventory
from riskreg.organisations.roles import Role
from riskreg.risks.selectors import register as risk_selectors
from riskreg.risks.services import register as risks
from tests.api.conftest import World
from tests.api.helpers import (
    assert_envelope,
    assert_nothing_written,
    audit_events_since,
    body_bytes,
    db_snapshot,
    last_audit_id,
    names_field,
)
from tests.conftest import Tenant

RISK = {"title": "Drift", "statement": "Scores drift.", "category": "validity_reliability"}


def last_event() -> AuditEvent:
    event = AuditEvent.objects.select_related("organization").order_by("-pk").first()
    assert event is not None
    return event


# --- risk references -------------------------------------------------------------------


def test_each_organisation_numbers_its_risks_from_rsk_001(
    acme: Tenant, globex: Tenant, api_for: Any
) -> None:
    officer = api_for(Role.COMPLIANCE_OFFICER)
    outsider = api_for(Role.COMPLIANCE_OFFICER, globex)

    ours = [officer.post("/api/v1/risks/", RISK, format="json") for _ in range(2)]
    theirs = outsider.post("/api/v1/risks/", {**RISK, "title": "Theirs"}, format="json")

    assert [r.status_code for r in ours] == [201, 201]
    assert [r.json()["reference"] for r in ours] == ["RSK-001", "RSK-002"]
    assert (theirs.status_code, theirs.json()["reference"]) == (201, "RSK-001")
    assert officer.get("/api/v1/risks/RSK-001/").json()["title"] == "Drift"
    assert outsider.get("/api/v1/risks/RSK-001/").json()["title"] == "Theirs"
    assert outsider.get("/api/v1/risks/RSK-002/").status_code == 404


def test_new_risk_is_proposed_and_its_audit_event_names_the_reference(
    world: World, api_for: Any
) -> None:
    response = api_for(Role.ENGINEER).post("/api/v1/risks/", RISK, format="json")

    assert response.status_code == 201
    assert (response.json()["reference"], response.json()["status"]) == ("RSK-003", "proposed")
    changes = last_event().changes
    assert changes["reference"] == {"before": None, "after": "RSK-003"}
    assert changes["status"] == {"before": None, "after": "proposed"}


# --- status moves ----------------------------------------------------------------------

PATHS_TO = {
    "proposed": [],
    "open": ["open"],
    "treating": ["open", "treating"],
    "closed": ["open", "closed"],
}


def risk_in(world: World, status: str) -> str:
    """RSK-001 of acme (created proposed), moved to status by the services."""
    risk = risk_selectors.risk_get(actor=world.acme.actor, reference="RSK-001")
    for step in PATHS_TO[status]:
        risks.risk_transition(actor=world.acme.actor, risk=risk, status=step)
    return "/api/v1/risks/RSK-001/transition/"


def test_officer_moves_a_risk_from_proposed_to_closed_and_reopens_it(
    world: World, api_for: Any
) -> None:
    officer = api_for(Role.COMPLIANCE_OFFICER)
    path = risk_in(world, "proposed")
    before = "proposed"

    for status in ["open", "treating", "closed", "open"]:
        mark = last_audit_id()
        response = officer.post(path, {"status": status}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == status
        events = audit_events_since(mark)
        assert [(e.action, e.actor_label, e.changes["status"]) for e in events] == [
            ("risk.transition", "officer", {"before": before, "after": status})
        ]
        # Live risks are reviewed on a cadence; a closed one is not.
        assert (response.json()["next_review_date"] is None) == (status == "closed")
        before = status


def test_officer_closes_a_risk_straight_from_open(world: World, api_for: Any) -> None:
    response = api_for(Role.ADMIN).post(risk_in(world, "open"), {"status": "closed"}, format="json")

    assert (response.status_code, response.json()["status"]) == (200, "closed")


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("proposed", "treating"),
        ("proposed", "closed"),
        ("proposed", "proposed"),
        ("open", "proposed"),
        ("open", "open"),
        ("treating", "proposed"),
        ("closed", "treating"),
        ("closed", "proposed"),
    ],
)
def test_officer_cannot_make_a_move_the_life_cycle_does_not_allow(
    current: str, wanted: str, world: World, api_for: Any
) -> None:
    officer = api_for(Role.COMPLIANCE_OFFICER)
    path = risk_in(world, current)
    before = db_snapshot()

    response = officer.post(path, {"status": wanted}, format="json")

    body = assert_envelope(response, 409, "invalid_transition")
    assert (body["extra"]["from"], body["extra"]["to"]) == (current, wanted)
    assert wanted not in body["extra"]["allowed"]
    assert_nothing_written(before)


@pytest.mark.parametrize("wanted", ["accepted", "dismissed"])
@pytest.mark.parametrize("current", ["proposed", "open", "treating", "closed"])
def test_officer_cannot_accept_or_dismiss_through_the_transition_endpoint(
    current: str, wanted: str, world: World, api_for: Any
) -> None:
    officer = api_for(Role.COMPLIANCE_OFFICER)
    path = risk_in(world, current)
    before = db_snapshot()

    response = officer.post(path, {"status": wanted}, format="json")

    body = assert_envelope(response, 409, "transition_reserved")
    assert names_field(body, "status")
    assert_nothing_written(before)


# --- field-level audit of the inventory ------------------------------------------------


def test_engineer_registering_a_system_records_every_field_in_the_audit_event(
    world: World, api_for: Any
) -> None:
    body = {
        "name": "Loan approval",
        "slug": "loan-approval",
        "owner": "engineer",
        "risk_tier": "high",
        "is_generative": False,
    }
    response = api_for(Role.ENGINEER).post("/api/v1/systems/", body, format="json")

    assert response.status_code == 201, response.content
    event = last_event()
    assert (event.action, event.object_type, event.actor_label) == (
        "system.create",
        "ai_system",
        "engineer",
    )
    assert event.changes == {name: {"before": None, "after": value} for name, value in body.items()}


def test_engineer_updating_a_system_records_before_and_after_of_changed_fields_only(
    world: World, api_for: Any
) -> None:
    engineer = api_for(Role.ENGINEER)
    mark = last_audit_id()

    response = engineer.patch(
        "/api/v1/systems/credit-scoring/",
        {"name": "Credit scoring", "risk_tier": "high", "owner": "officer"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["risk_tier"], response.json()["owner"]) == ("high", "officer")
    [event] = audit_events_since(mark)
    assert (event.action, event.object_type) == ("system.update", "ai_system")
    assert event.changes == {
        "risk_tier": {"before": "minimal", "after": "high"},
        "owner": {"before": "engineer", "after": "officer"},
    }


def test_engineer_clearing_the_owner_records_it(world: World, api_for: Any) -> None:
    response = api_for(Role.ENGINEER).patch(
        "/api/v1/systems/credit-scoring/", {"owner": None}, format="json"
    )

    assert (response.status_code, response.json()["owner"]) == (200, None)
    assert last_event().changes == {"owner": {"before": "engineer", "after": None}}


def test_update_that_changes_nothing_appends_no_audit_event(world: World, api_for: Any) -> None:
    engineer = api_for(Role.ENGINEER)
    before = db_snapshot()

    response = engineer.patch(
        "/api/v1/systems/credit-scoring/", {"name": "Credit scoring"}, format="json"
    )

    assert response.status_code == 200
    assert_nothing_written(before)


# --- model versions --------------------------------------------------------------------


def test_engineer_registers_a_model_version_with_its_parent_and_training_datasets(
    world: World, api_for: Any
) -> None:
    engineer = api_for(Role.ENGINEER)
    engineer.post("/api/v1/datasets/", {"name": "Applicants", "slug": "applicants"}, format="json")
    body = {
        "version": "2.0",
        "parent": "1.0",
        "training_datasets": ["loans-2023", "applicants"],
        "framework": "xgboost",
        "artifact_sha256": "ab" * 32,
    }

    response = engineer.post("/api/v1/systems/credit-scoring/model-versions/", body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["system"], created["version"], created["parent"]) == (
        "credit-scoring",
        "2.0",
        "1.0",
    )
    assert sorted(created["training_datasets"]) == ["applicants", "loans-2023"]
    assert engineer.get("/api/v1/systems/credit-scoring/model-versions/2.0/").json() == created
    listed = engineer.get("/api/v1/systems/credit-scoring/model-versions/").json()["results"]
    assert [mv["version"] for mv in listed] == ["1.0", "2.0"]
    assert engineer.get("/api/v1/systems/credit-scoring/").json()["model_version_count"] == 2
    changes = last_event().changes
    assert changes["parent"] == {"before": None, "after": "1.0"}
    assert sorted(changes["training_datasets"]["after"]) == ["applicants", "loans-2023"]


def test_parent_must_be_a_version_of_the_same_system(world: World, api_for: Any) -> None:
    system = inventory.system_create(actor=world.acme.actor, slug="chatbot", name="Chatbot")
    inventory.model_version_create(actor=world.acme.actor, system=system, version="0.9")
    engineer = api_for(Role.ENGINEER)
    before = db_snapshot()

    response = engineer.post(
        "/api/v1/systems/credit-scoring/model-versions/",
        {"version": "2.0", "parent": "0.9"},
        format="json",
    )

    body = assert_envelope(response, 400, "foreign_reference")
    assert names_field(body, "parent")
    assert_nothing_written(before)


# --- datasets --------------------------------------------------------------------------


def test_engineer_cannot_register_a_dataset_collected_after_it_ended(
    world: World, api_for: Any
) -> None:
    engineer = api_for(Role.ENGINEER)
    before = db_snapshot()

    response = engineer.post(
        "/api/v1/datasets/",
        {
            "name": "Backwards",
            "slug": "backwards",
            "collection_start": "2024-06-01",
            "collection_end": "2024-01-01",
        },
        format="json",
    )

    assert_envelope(response, 400, "validation_error")
    assert_nothing_written(before)


def test_engineer_cannot_move_a_datasets_start_past_its_end(world: World, api_for: Any) -> None:
    engineer = api_for(Role.ENGINEER)
    before = db_snapshot()

    response = engineer.patch(
        "/api/v1/datasets/loans-2023/", {"collection_start": "2024-01-01"}, format="json"
    )

    assert_envelope(response, 400, "validation_error")
    assert_nothing_written(before)


def test_engineer_registers_a_dataset_collected_in_one_day(world: World, api_for: Any) -> None:
    response = api_for(Role.ENGINEER).post(
        "/api/v1/datasets/",
        {
            "name": "Census day",
            "slug": "census-day",
            "collection_start": "2024-03-01",
            "collection_end": "2024-03-01",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert last_event().changes["collection_end"] == {"before": None, "after": "2024-03-01"}


# --- the audit chain -------------------------------------------------------------------


def test_audit_chain_stays_verifiable_and_exportable_after_api_writes(
    world: World, api_for: Any
) -> None:
    admin: APIClient = api_for(Role.ADMIN)
    admin.post("/api/v1/systems/", {"name": "Fraud", "slug": "fraud"}, format="json")
    admin.patch("/api/v1/systems/fraud/", {"risk_tier": "high"}, format="json")
    admin.post("/api/v1/risks/RSK-001/transition/", {"status": "open"}, format="json")

    for tenant in (world.acme, world.globex):
        report = audit_verify(organization=tenant.org)
        assert report.ok, report.problems
    head = admin.get("/api/v1/audit/head/").json()
    lines = body_bytes(admin.get("/api/v1/audit/export/")).decode().splitlines()
    events = AuditEvent.objects.filter(organization=world.acme.org)
    assert len(lines) == head["seq"] == events.count()
    assert json.loads(lines[-1])["hash"] == head["hash"]
    assert {json.loads(line)["organization"] for line in lines} == {"acme"}


@pytest.mark.parametrize("version", ["1.0/2", "has space", "-leading-dash", "ünï"])
def test_engineer_cannot_register_a_version_that_cannot_live_in_a_url(
    api_for: Any, acme: Tenant, version: str
) -> None:
    inventory.system_create(actor=acme.actor, slug="vision", name="Vision")
    response = api_for(Role.ENGINEER).post(
        "/api/v1/systems/vision/model-versions/", {"version": version}, format="json"
    )
    assert response.status_code == 400
    assert "version" in response.json()["extra"]["fields"]
