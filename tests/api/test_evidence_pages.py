"""The evidence and incident pages, through Django's test client (no browser).

Each persona of acme signs in with a session; globex's records must stay invisible.
The pages call the same services as the API, so these tests check what the pages add:
the role gates on forms, refusals shown as messages, and downloads that stay files.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from evaluations.models import Evidence, Incident, IncidentTimelineEntry, Withdrawal
from evaluations.services.evidence import Provenance, evidence_submit
from evaluations.services.incidents import incident_create
from riskreg.audit.models import AuditEvent
from riskreg.inventory import services as inventory
from riskreg.organisations.middleware import SESSION_KEY
from riskreg.organisations.roles import Role, allows
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

READERS = [Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.ENGINEER, Role.AUDITOR]
POLICY_TEXT = b"# Model risk policy\n\nEvery model is validated before release.\n"
HTML_TEXT = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"


@dataclass(frozen=True)
class Records:
    measurement: Evidence  # performance of credit-scoring
    policy: Evidence  # organisation-wide document with a markdown and an HTML attachment
    incident: Incident  # INC-001, open
    foreign_evidence: Evidence
    foreign_incident: Incident


def _performance(system: str, accuracy: float = 0.91) -> dict[str, Any]:
    return {
        "kind": "performance",
        "system": system,
        "context": "evaluation",
        "effective_date": "2025-05-01",
        "metrics": {"task": "binary_classification", "scores": {"accuracy": accuracy}},
    }


def _policy() -> dict[str, Any]:
    return {
        "kind": "document",
        "system": None,
        "context": "evaluation",
        "document": {
            "document_type": "policy",
            "title": "Model risk policy",
            "summary": "How models are validated and approved.",
            "reviewed_by": "officer",
            "reviewed_on": "2025-04-01",
        },
    }


def _incident(tenant: Tenant, systems: list[str], title: str) -> Incident:
    return incident_create(
        actor=tenant.actor_for(Role.ENGINEER),
        title=title,
        description="Scores drifted after the release.",
        severity="high",
        occurred_at=datetime(2025, 6, 1, 8, 0, tzinfo=UTC),
        detected_at=datetime(2025, 6, 1, 9, 30, tzinfo=UTC),
        systems=systems,
    )


@pytest.fixture
def records(acme: Tenant, globex: Tenant) -> Records:
    inventory.system_create(
        actor=acme.actor, slug="credit-scoring", name="Credit scoring", owner="engineer"
    )
    inventory.system_create(
        actor=globex.actor, slug="turnstile", name="Turnstile", owner="globex-engineer"
    )
    engineer = acme.actor_for(Role.ENGINEER)
    measurement = evidence_submit(
        actor=engineer,
        document=_performance("credit-scoring"),
        provenance=Provenance(
            tool_name="scikit-learn",
            tool_version="1.9.1",
            commit_sha="9f2c4e1a7b3d5f6e8a0b1c2d3e4f5a6b7c8d9e0f",
            ci_run_url="ftp://ci.example.com/runs/1234",
            labels={"pipeline": "nightly"},
        ),
    ).items[0]
    uploads = [
        SimpleUploadedFile("policy.md", POLICY_TEXT, content_type="text/markdown"),
        SimpleUploadedFile("policy.html", HTML_TEXT, content_type="text/html"),
    ]
    policy = evidence_submit(
        actor=acme.actor_for(Role.COMPLIANCE_OFFICER),
        document=_policy(),
        provenance=Provenance(),
        uploads=uploads,
    ).items[0]
    foreign_evidence = evidence_submit(
        actor=globex.actor_for(Role.ENGINEER),
        document=_performance("turnstile"),
        provenance=Provenance(),
    ).items[0]
    return Records(
        measurement=measurement,
        policy=policy,
        incident=_incident(acme, ["credit-scoring"], "Score drift after release"),
        foreign_evidence=foreign_evidence,
        foreign_incident=_incident(globex, ["turnstile"], "Turnstile let a photo through"),
    )


def signed_in(tenant: Tenant, role: Role) -> Client:
    """A browserless session of that member, working in the tenant's organisation."""
    client = Client()
    client.force_login(tenant.members[role].user)
    session = client.session
    session[SESSION_KEY] = tenant.org.pk
    session.save()
    return client


def pages(records: Records) -> list[str]:
    return [
        "/evidence/",
        "/evidence/?kind=performance&context=evaluation&state=current",
        "/systems/credit-scoring/evidence/",
        f"/evidence/{records.measurement.uid}/",
        f"/evidence/{records.policy.uid}/",
        "/incidents/",
        "/incidents/?status=open&severity=high",
        f"/incidents/{records.incident.reference}/",
    ]


@pytest.mark.parametrize("role", READERS)
def test_every_reader_opens_the_evidence_and_incident_pages(
    acme: Tenant, records: Records, role: Role
) -> None:
    client = signed_in(acme, role)
    for path in pages(records):
        response = client.get(path)
        assert response.status_code == 200, path
    report = client.get("/incidents/new/")
    assert report.status_code == (200 if allows(role, "incident.create") else 403)


def test_engineer_finds_the_measurement_in_the_system_inbox_with_its_short_hash(
    acme: Tenant, records: Records
) -> None:
    body = signed_in(acme, Role.ENGINEER).get("/systems/credit-scoring/evidence/").content.decode()
    sha = records.measurement.document_sha256
    assert f'title="{sha}">{sha[:12]}</code>' in body
    assert f"/evidence/{records.measurement.uid}/" in body
    assert "Model risk policy" not in body  # organisation-wide: on the organisation's list


def test_auditor_filters_the_organisation_list_by_kind_and_sees_organisation_wide_items(
    acme: Tenant, records: Records
) -> None:
    client = signed_in(acme, Role.AUDITOR)
    body = client.get("/evidence/?kind=document").content.decode()
    assert f"/evidence/{records.policy.uid}/" in body
    assert f"/evidence/{records.measurement.uid}/" not in body
    assert "organisation</span>" in body
    odd = client.get("/evidence/?kind=%3Cscript%3E&state=nonsense")
    assert odd.status_code == 200  # an unknown filter value filters nothing
    assert f"/evidence/{records.measurement.uid}/".encode() in odd.content


def test_engineer_reads_the_full_hash_provenance_and_document_but_no_ftp_link(
    acme: Tenant, records: Records
) -> None:
    item = records.measurement
    body = signed_in(acme, Role.ENGINEER).get(f"/evidence/{item.uid}/").content.decode()
    assert item.document_sha256 in body
    assert "scikit-learn" in body
    assert "9f2c4e1a7b3d5f6e8a0b1c2d3e4f5a6b7c8d9e0f" in body
    assert "pipeline=nightly" in body
    assert "ftp://ci.example.com/runs/1234" in body
    assert 'href="ftp:' not in body
    assert "&quot;binary_classification&quot;" in body  # the document, escaped, in a <pre>
    assert 'action="/evidence/' not in body  # engineers do not withdraw


def test_auditor_sees_no_withdraw_form_and_no_incident_forms(
    acme: Tenant, records: Records
) -> None:
    client = signed_in(acme, Role.AUDITOR)
    evidence = client.get(f"/evidence/{records.measurement.uid}/").content.decode()
    assert "withdraw/" not in evidence
    assert 'name="reason"' not in evidence
    incident = client.get(f"/incidents/{records.incident.reference}/").content.decode()
    assert '<form method="post" action="/incidents/' not in incident
    assert "Report an incident" not in client.get("/incidents/").content.decode()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ENGINEER])
def test_auditor_and_engineer_posting_a_withdrawal_get_403_and_write_nothing(
    acme: Tenant, records: Records, role: Role
) -> None:
    events = AuditEvent.objects.count()
    response = signed_in(acme, role).post(
        f"/evidence/{records.measurement.uid}/withdraw/", {"reason": "looks wrong"}
    )
    assert response.status_code == 403
    assert not Withdrawal.objects.exists()
    assert AuditEvent.objects.count() == events


def test_officer_withdraws_with_a_reason_and_a_second_withdrawal_is_an_error_message(
    acme: Tenant, records: Records
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    path = f"/evidence/{records.measurement.uid}/"
    first = client.post(f"{path}withdraw/", {"reason": "wrong hold-out split"}, follow=True)
    assert first.status_code == 200
    body = first.content.decode()
    assert "The evidence item is withdrawn." in body
    assert "status--withdrawn" in body
    assert "wrong hold-out split" in body
    assert 'name="reason"' not in body  # nothing left to withdraw
    second = client.post(f"{path}withdraw/", {"reason": "again"}, follow=True)
    assert second.status_code == 200
    assert "message--error" in second.content.decode()
    assert "already withdrawn" in second.content.decode()
    assert Withdrawal.objects.count() == 1


def test_officer_withdrawing_without_a_reason_gets_the_form_back(
    acme: Tenant, records: Records
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    response = client.post(f"/evidence/{records.measurement.uid}/withdraw/", {"reason": ""})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Withdrawal.objects.exists()


def test_engineer_gets_404_for_another_organisations_evidence_and_incident(
    acme: Tenant, records: Records
) -> None:
    client = signed_in(acme, Role.ENGINEER)
    foreign = records.foreign_evidence
    for path in (
        f"/evidence/{foreign.uid}/",
        "/systems/turnstile/evidence/",
        "/incidents/INC-002/",
        "/incidents/INC-999/",
        "/incidents/not-a-reference/",
    ):
        assert client.get(path).status_code == 404, path
    # The globex incident is INC-001 in globex; in acme INC-001 is acme's own.
    own = client.get("/incidents/INC-001/").content.decode()
    assert "Score drift after release" in own
    assert "Turnstile" not in own
    admin = signed_in(acme, Role.ADMIN)
    response = admin.post(f"/evidence/{foreign.uid}/withdraw/", {"reason": "not ours"})
    assert response.status_code == 404
    assert not Withdrawal.objects.exists()
    attachment = records.policy.attachments.first()
    assert attachment is not None
    foreign_download = f"/evidence/{foreign.uid}/attachments/{attachment.blob.sha256}/"
    assert client.get(foreign_download).status_code == 404


def _download(client: Client, records: Records, name: str) -> Any:
    attachment = records.policy.attachments.get(name=name)
    return client.get(f"/evidence/{records.policy.uid}/attachments/{attachment.blob.sha256}/")


def test_auditor_downloads_an_attachment_as_a_file_never_a_page(
    acme: Tenant, records: Records
) -> None:
    client = signed_in(acme, Role.AUDITOR)
    markdown = _download(client, records, "policy.md")
    assert markdown.status_code == 200
    assert markdown["Content-Disposition"].startswith("attachment")
    assert markdown["X-Content-Type-Options"] == "nosniff"
    assert markdown["Content-Type"] == "text/markdown; charset=utf-8"
    assert b"".join(markdown.streaming_content) == POLICY_TEXT
    html = _download(client, records, "policy.html")
    assert html["Content-Type"] == "application/octet-stream"
    assert html["Content-Disposition"].startswith("attachment")
    assert html["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in html["Content-Security-Policy"]
    # Read to the end, which closes the file; response.close() would close the database
    # connection of the test too (it fires request_finished).
    assert b"".join(html.streaming_content) == HTML_TEXT
    missing = client.get(f"/evidence/{records.policy.uid}/attachments/{'0' * 64}/")
    assert missing.status_code == 404


def test_officer_sees_the_attachments_listed_with_download_links(
    acme: Tenant, records: Records
) -> None:
    body = signed_in(acme, Role.COMPLIANCE_OFFICER).get(f"/evidence/{records.policy.uid}/")
    text = body.content.decode()
    for attachment in records.policy.attachments.all():
        assert attachment.blob.sha256 in text
        assert f"/attachments/{attachment.blob.sha256}/" in text
    assert "policy.html" in text
    assert "<script>alert" not in text


def test_engineer_reports_an_incident_with_local_times_and_systems(
    acme: Tenant, records: Records, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    client = signed_in(acme, Role.ENGINEER)
    form = client.get("/incidents/new/").content.decode()
    assert 'type="datetime-local"' in form
    response = client.post(
        "/incidents/new/",
        {
            "title": "<b>Declined</b> a whole postcode",
            "description": "All applicants of one postcode were ranked last.",
            "severity": "critical",
            "occurred_at": "2025-07-01T10:00",
            "detected_at": "2025-07-01T12:15",
            "systems": ["credit-scoring"],
            "regulator_notification_required": "on",
            "regulator_deadline": "2025-07-04T12:15",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "INC-002 is reported" in response.content.decode()
    assert "&lt;b&gt;Declined&lt;/b&gt;" in response.content.decode()
    incident = Incident.objects.get(organization=acme.org, number=2)
    assert incident.occurred_at == datetime(2025, 7, 1, 8, 0, tzinfo=UTC)  # CEST is UTC+2
    assert [s.slug for s in incident.systems.all()] == ["credit-scoring"]
    assert incident.regulator_deadline == datetime(2025, 7, 4, 10, 15, tzinfo=UTC)


def test_engineer_reporting_detection_before_occurrence_sees_the_error_on_the_form(
    acme: Tenant, records: Records
) -> None:
    response = signed_in(acme, Role.ENGINEER).post(
        "/incidents/new/",
        {
            "title": "Backwards",
            "description": "Times the wrong way round.",
            "severity": "low",
            "occurred_at": "2025-07-02T10:00",
            "detected_at": "2025-07-01T10:00",
            "regulator_notification_required": "on",
        },
    )
    assert response.status_code == 400
    assert "detected_at: must not be before occurred_at" in response.content.decode()
    assert Incident.objects.filter(organization=acme.org).count() == 1


def _transition(client: Client, records: Records, status: str, note: str = "") -> str:
    path = f"/incidents/{records.incident.reference}/transition/"
    response = client.post(path, {"status": status, "note": note}, follow=True)
    assert response.status_code == 200
    return str(response.content.decode())


def test_engineer_sees_no_close_option_and_closing_anyway_is_an_error_message(
    acme: Tenant, records: Records
) -> None:
    client = signed_in(acme, Role.ENGINEER)
    page = client.get(f"/incidents/{records.incident.reference}/").content.decode()
    assert '<option value="investigating">' in page
    assert '<option value="closed">' not in page
    body = _transition(client, records, "closed")
    assert "message--error" in body
    assert "Only compliance officers and admins close incidents." in body
    records.incident.refresh_from_db()
    assert records.incident.status == "open"


def test_officer_sees_each_refusal_as_a_message_not_a_500(acme: Tenant, records: Records) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    body = _transition(client, records, "closed")
    assert "root_cause: is required before the incident is closed" in body
    body = _transition(client, records, "mitigated")
    assert "cannot move from &#x27;open&#x27; to &#x27;mitigated&#x27;" in body
    records.incident.refresh_from_db()
    assert records.incident.status == "open"


def test_officer_records_the_root_cause_and_closes_with_every_step_on_the_timeline(
    acme: Tenant, records: Records
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    reference = records.incident.reference
    _transition(client, records, "investigating", "Looking at the feature pipeline.")
    response = client.post(
        f"/incidents/{reference}/root-cause/",
        {"root_cause": "A stale income feature.", "corrective_actions": "Rebuilt the feature."},
        follow=True,
    )
    assert "Root cause and corrective actions are recorded." in response.content.decode()
    _transition(client, records, "mitigated")
    client.post(f"/incidents/{reference}/notes/", {"text": "Monitoring for a week."})
    body = _transition(client, records, "closed", "No recurrence.")
    assert "INC-001 is now Closed." in body
    kinds = list(
        IncidentTimelineEntry.objects.filter(incident=records.incident)
        .order_by("created_at", "id")
        .values_list("kind", "to_status")
    )
    assert kinds == [
        ("reported", ""),
        ("status", "investigating"),
        ("update", ""),
        ("status", "mitigated"),
        ("note", ""),
        ("status", "closed"),
    ]
    for text in ("open → investigating", "mitigated → closed", "Monitoring for a week."):
        assert text in body
    assert "A stale income feature." in body


def test_auditor_posting_to_an_incident_gets_403_and_writes_nothing(
    acme: Tenant, records: Records
) -> None:
    client = signed_in(acme, Role.AUDITOR)
    reference = records.incident.reference
    events = AuditEvent.objects.count()
    for path, data in (
        ("transition/", {"status": "investigating"}),
        ("root-cause/", {"root_cause": "x", "corrective_actions": "y"}),
        ("notes/", {"text": "hello"}),
    ):
        assert client.post(f"/incidents/{reference}/{path}", data).status_code == 403
    assert client.post("/incidents/new/", {"title": "x"}).status_code == 403
    assert AuditEvent.objects.count() == events
    assert IncidentTimelineEntry.objects.filter(incident=records.incident).count() == 1


def test_engineer_adding_an_empty_note_gets_the_form_back(acme: Tenant, records: Records) -> None:
    client = signed_in(acme, Role.ENGINEER)
    response = client.post(f"/incidents/{records.incident.reference}/notes/", {"text": "  "})
    assert response.status_code == 400
    assert IncidentTimelineEntry.objects.filter(incident=records.incident).count() == 1
