"""Incidents over the API: the lifecycle with its refused moves, who may close, and the
append-only timeline that records every step."""

from typing import Any

import pytest
from django.db import DatabaseError, transaction
from rest_framework.test import APIClient

from evaluations.models import IncidentTimelineEntry
from riskreg.audit.models import AuditEvent
from riskreg.organisations.roles import Role
from tests.api.conftest import World
from tests.api.helpers import assert_envelope, assert_nothing_written, db_snapshot

REPORT = {
    "title": "Loan assistant quoted a wrong APR",
    "description": "Three customers were told 2.9 % instead of 9.2 %.",
    "severity": "high",
    "occurred_at": "2026-11-03T08:00:00Z",
    "detected_at": "2026-11-03T09:15:00Z",
    "systems": ["credit-scoring"],
    "harmed_parties": "Three loan applicants",
    "regulator_notification_required": True,
    "regulator_deadline": "2026-11-06T09:15:00Z",
    "external_reference": "AIID-1234",
}


@pytest.fixture
def engineer(world: World, api_for: Any) -> APIClient:
    return api_for(Role.ENGINEER)


@pytest.fixture
def officer(world: World, api_for: Any) -> APIClient:
    return api_for(Role.COMPLIANCE_OFFICER)


def move(client: APIClient, reference: str, status: str, note: str = "") -> Any:
    return client.post(
        f"/api/v1/incidents/{reference}/transition/",
        {"status": status, "note": note},
        format="json",
    )


def test_engineer_reports_an_incident_that_opens_with_a_reported_entry(
    engineer: APIClient,
) -> None:
    response = engineer.post("/api/v1/incidents/", REPORT, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["reference"], body["status"], body["reporter"]) == ("INC-002", "open", "engineer")
    assert body["systems"] == ["credit-scoring"]
    assert body["regulator_deadline"] == "2026-11-06T09:15:00Z"
    assert [e["kind"] for e in body["timeline"]] == ["reported"]


def test_an_incident_goes_through_its_whole_lifecycle_and_the_timeline_tells_it(
    engineer: APIClient, officer: APIClient
) -> None:
    ref = engineer.post("/api/v1/incidents/", REPORT, format="json").json()["reference"]

    assert move(engineer, ref, "investigating", "Paging the model owner.").status_code == 200
    patch = {"root_cause": "A stale rate table.", "corrective_actions": "Rate table synced daily."}
    assert engineer.patch(f"/api/v1/incidents/{ref}/", patch, format="json").status_code == 200
    assert move(engineer, ref, "mitigated").status_code == 200
    note = engineer.post(
        f"/api/v1/incidents/{ref}/timeline/", {"text": "Customers called back."}, format="json"
    )
    assert note.status_code == 201
    closed = move(officer, ref, "closed", "Handled within the deadline.")

    assert closed.status_code == 200
    timeline = closed.json()["timeline"]
    assert [(e["kind"], e["from_status"], e["to_status"]) for e in timeline] == [
        ("reported", "", ""),
        ("status", "open", "investigating"),
        ("update", "", ""),
        ("status", "investigating", "mitigated"),
        ("note", "", ""),
        ("status", "mitigated", "closed"),
    ]
    assert timeline[-1]["author"] == "officer"
    assert engineer.get(f"/api/v1/incidents/{ref}/timeline/").json() == timeline
    actions = AuditEvent.objects.filter(object_type="incident").values_list("action", flat=True)
    assert list(actions).count("incident.transition") == 3


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ([], "mitigated"),
        ([], "open"),
        (["investigating"], "open"),
        (["investigating"], "closed"),
        (["investigating", "mitigated"], "open"),
    ],
)
def test_a_move_the_lifecycle_does_not_allow_is_refused_with_409(
    path: list[str], status: str, officer: APIClient
) -> None:
    ref = officer.post("/api/v1/incidents/", REPORT, format="json").json()["reference"]
    for step in path:
        assert move(officer, ref, step).status_code == 200
    before = db_snapshot()

    response = move(officer, ref, status)

    found = assert_envelope(response, 409, "invalid_transition")
    assert found["extra"]["to"] == status
    assert_nothing_written(before)


def test_engineer_may_not_close_an_incident(engineer: APIClient) -> None:
    ref = engineer.post("/api/v1/incidents/", REPORT, format="json").json()["reference"]
    patch = {"root_cause": "Known.", "corrective_actions": "Done."}
    engineer.patch(f"/api/v1/incidents/{ref}/", patch, format="json")
    before = db_snapshot()

    assert_envelope(move(engineer, ref, "closed"), 403, "permission_denied")
    assert_nothing_written(before)


def test_an_incident_closes_only_with_root_cause_and_corrective_actions(
    officer: APIClient,
) -> None:
    ref = officer.post("/api/v1/incidents/", REPORT, format="json").json()["reference"]
    before = db_snapshot()

    found = assert_envelope(move(officer, ref, "closed"), 400, "validation_error")

    assert set(found["extra"]["fields"]) == {"root_cause", "corrective_actions"}
    assert_nothing_written(before)


def test_a_closed_incident_can_be_reopened_for_investigation(officer: APIClient) -> None:
    ref = officer.post(
        "/api/v1/incidents/",
        {**REPORT, "root_cause": "False alarm.", "corrective_actions": "None needed."},
        format="json",
    ).json()["reference"]
    assert move(officer, ref, "closed").status_code == 200
    assert move(officer, ref, "investigating").json()["status"] == "investigating"


def test_auditor_reads_incidents_but_cannot_report_or_move_them(world: World, api_for: Any) -> None:
    auditor = api_for(Role.AUDITOR)
    assert auditor.get("/api/v1/incidents/INC-001/").status_code == 200
    before = db_snapshot()
    assert_envelope(
        auditor.post("/api/v1/incidents/", REPORT, format="json"), 403, "permission_denied"
    )
    assert_envelope(move(auditor, "INC-001", "investigating"), 403, "permission_denied")
    assert_nothing_written(before)


def test_list_filters_by_status_severity_and_system(
    engineer: APIClient, officer: APIClient
) -> None:
    ref = engineer.post(
        "/api/v1/incidents/", {**REPORT, "severity": "critical"}, format="json"
    ).json()["reference"]
    move(engineer, ref, "investigating")

    def refs(query: str) -> list[str]:
        return [
            i["reference"] for i in engineer.get(f"/api/v1/incidents/?{query}").json()["results"]
        ]

    assert refs("status=investigating") == [ref]
    assert refs("severity=critical") == [ref]
    assert refs("system=credit-scoring") == [ref, "INC-001"]
    assert refs("system=turnstile") == []


def test_the_timeline_is_append_only_in_the_database(world: World) -> None:
    entry = IncidentTimelineEntry.objects.filter(incident__organization=world.acme.org).first()
    assert entry is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        IncidentTimelineEntry.objects.filter(pk=entry.pk).update(text="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        IncidentTimelineEntry.objects.filter(pk=entry.pk).delete()
