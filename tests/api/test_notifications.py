"""Notifications: each event is mailed once to the members who want it, preferences switch
mail off, and webhooks are managed by admins and never point inside the network."""

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from evaluations.services import evidence as evidence_services
from evaluations.services import incidents as incident_services
from riskreg.audit.models import AuditEvent
from riskreg.inventory import services as inventory
from riskreg.notifications.models import (
    EmailDelivery,
    Notification,
    NotificationKind,
    Webhook,
    WebhookDelivery,
)
from riskreg.notifications.services import scan as scan_services
from riskreg.notifications.services.scan import notifications_scan
from riskreg.notifications.services.webhooks import webhook_create
from riskreg.organisations import services as orgs
from riskreg.organisations.roles import Role
from riskreg.risks.models import Risk
from riskreg.risks.services import acceptance, register, scoring, treatment
from tests.api.conftest import performance_document
from tests.api.helpers import assert_envelope, names_field
from tests.conftest import Tenant

SETUP = datetime(2026, 11, 1, 9, tzinfo=UTC)
SCAN = datetime(2026, 11, 10, 9, tzinfo=UTC)
PUBLIC_URL = "https://93.184.216.34/hooks/riskreg"
K = NotificationKind


def _emails(tenant: Tenant) -> None:
    users = get_user_model().objects
    for member in tenant.members.values():
        name = member.user.get_username()
        users.filter(pk=member.user_id).update(email=f"{name}@{tenant.org.slug}.example")


def _risk(tenant: Tenant, title: str, *, status: str = "open") -> Risk:
    risk = register.risk_create(
        actor=tenant.actor, title=title, statement=f"{title}.", category="fairness"
    )
    if status != "proposed":
        risk = register.risk_transition(actor=tenant.actor, risk=risk, status=status)
    return risk


def _one_event_of_each_kind(tenant: Tenant) -> dict[str, Any]:
    """At SETUP, the records that make one event of every kind true at SCAN."""
    actor = tenant.actor
    with time_machine.travel(SETUP, tick=False):
        proposed = _risk(tenant, "Proposed risk", status="proposed")
        treated = _risk(tenant, "Risk with a late action")
        action = treatment.treatment_action_create(
            actor=actor, risk=treated, title="Retrain", due_date=date(2026, 11, 5), owner="engineer"
        )
        reviewed = _risk(tenant, "Risk whose review is late")
        Risk.objects.filter(pk=reviewed.pk).update(next_review_date=date(2026, 11, 8))
        accepted = _risk(tenant, "Accepted risk")
        scoring.risk_score(actor=actor, risk=accepted, kind="residual", likelihood=1, impact=1)
        acceptance.risk_accept(
            actor=tenant.actor_for(Role.COMPLIANCE_OFFICER),
            risk=accepted,
            justification="Low residual.",
            conditions="Review quarterly.",
            valid_until=date(2026, 11, 20),
        )
        _expiring_evidence(tenant)
        incident = incident_services.incident_create(
            actor=actor,
            title="Wrong repayment figure",
            description="Quoted a wrong rate.",
            severity="high",
            occurred_at=SETUP - timedelta(hours=2),
            detected_at=SETUP - timedelta(hours=1),
            regulator_notification_required=True,
            regulator_deadline=datetime(2026, 11, 11, 8, tzinfo=UTC),
        )
    return {"proposed": proposed, "action": action, "incident": incident}


def _expiring_evidence(tenant: Tenant) -> None:
    system = inventory.system_create(
        actor=tenant.actor, slug="credit-scoring", name="Credit scoring", owner="engineer"
    )
    inventory.model_version_create(actor=tenant.actor, system=system, version="1.0")
    document = performance_document("credit-scoring", "1.0") | {
        "effective_date": "2026-11-01",
        "expiry_date": "2026-11-20",
    }
    evidence_services.evidence_submit(
        actor=tenant.actor,
        document=document,
        provenance=evidence_services.Provenance(tool_name="pytest"),
    )


def _scan(at: datetime = SCAN) -> None:
    with time_machine.travel(at, tick=False):
        notifications_scan()


def _mailed() -> Counter[tuple[str, str]]:
    """(recipient, kind) -> how many e-mails."""
    by_subject = {n.subject: n.kind for n in Notification.objects.all()}
    return Counter((m.to[0].split("@")[0], by_subject[m.subject]) for m in mail.outbox)


EXPECTED = Counter(
    {
        ("admin", K.RISK_PROPOSED): 1,
        ("officer", K.RISK_PROPOSED): 1,
        ("officer", K.TREATMENT_OVERDUE): 1,
        ("engineer", K.TREATMENT_OVERDUE): 1,  # the action's owner
        ("officer", K.REVIEW_OVERDUE): 1,
        ("admin", K.ACCEPTANCE_EXPIRING): 1,
        ("officer", K.ACCEPTANCE_EXPIRING): 1,
        ("officer", K.EVIDENCE_EXPIRING): 1,
        ("admin", K.INCIDENT_REGULATOR_DEADLINE): 1,
        ("officer", K.INCIDENT_REGULATOR_DEADLINE): 1,
    }
)


# --- once per event ------------------------------------------------------------------------


def test_each_kind_is_mailed_once_per_event_even_when_the_scan_runs_twice(
    acme: Tenant, globex: Tenant, mailoutbox: list[Any]
) -> None:
    _emails(acme)
    _emails(globex)
    _one_event_of_each_kind(acme)

    _scan()
    _scan()
    _scan(SCAN + timedelta(minutes=5))

    assert _mailed() == EXPECTED
    kinds = Counter(
        Notification.objects.filter(organization=acme.org).values_list("kind", flat=True)
    )
    assert kinds == Counter(K.values)
    assert not Notification.objects.filter(organization=globex.org).exists()
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_the_email_names_the_object_and_links_to_it(
    acme: Tenant, mailoutbox: list[Any], settings: Any
) -> None:
    settings.RISKREG_BASE_URL = "https://riskreg.acme.example"
    _emails(acme)
    with time_machine.travel(SETUP, tick=False):
        _risk(acme, "Postcode\nproxy", status="proposed")

    _scan()

    message = next(m for m in mailoutbox if m.to == ["officer@acme.example"])
    assert (
        message.subject
        == "[riskreg] A risk was proposed and waits for review: RSK-001 Postcode proxy"
    )
    assert "RSK-001 was proposed and waits for review." in message.body
    assert "Open it: https://riskreg.acme.example/risks/RSK-001/" in message.body
    assert message.content_subtype == "plain"


def test_a_scan_that_lost_the_race_to_record_an_event_sends_nothing_more(
    acme: Tenant, mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scans at once: both read no notification for the event, both try to insert it."""
    _emails(acme)
    with time_machine.travel(SETUP, tick=False):
        _risk(acme, "Raced risk", status="proposed")
    _scan()
    monkeypatch.setattr(scan_services, "notification_keys", lambda **kwargs: set())

    _scan()

    assert Notification.objects.count() == 1
    assert _mailed() == Counter({("admin", K.RISK_PROPOSED): 1, ("officer", K.RISK_PROPOSED): 1})


def test_an_email_claimed_by_one_sender_is_not_sent_by_another(
    acme: Tenant, mailoutbox: list[Any]
) -> None:
    _emails(acme)
    with time_machine.travel(SETUP, tick=False):
        _risk(acme, "Claimed risk", status="proposed")
        scan_services.notifications_record(organization=acme.org, now=SETUP)
        first = EmailDelivery.objects.order_by("pk").first()
        assert first is not None

        assert scan_services._send(first.pk, SETUP) is True
        assert scan_services._send(first.pk, SETUP) is False

    assert len(mailoutbox) == 1


def test_a_moved_due_date_that_falls_overdue_again_notifies_again(
    acme: Tenant, mailoutbox: list[Any]
) -> None:
    _emails(acme)
    made = _one_event_of_each_kind(acme)
    _scan()
    with time_machine.travel(SCAN, tick=False):
        treatment.treatment_action_update(
            actor=acme.actor, action=made["action"], due_date=date(2026, 11, 12)
        )
    _scan(SCAN + timedelta(days=1))
    assert _mailed()[("engineer", K.TREATMENT_OVERDUE)] == 1

    _scan(datetime(2026, 11, 13, 9, tzinfo=UTC))

    assert _mailed()[("engineer", K.TREATMENT_OVERDUE)] == 2
    keys = Notification.objects.filter(kind=K.TREATMENT_OVERDUE).values_list("event_key", flat=True)
    assert sorted(keys) == [
        f"treatment.overdue:{made['action'].pk}:2026-11-05",
        f"treatment.overdue:{made['action'].pk}:2026-11-12",
    ]


def test_nothing_is_announced_before_its_window(acme: Tenant, mailoutbox: list[Any]) -> None:
    _emails(acme)
    _one_event_of_each_kind(acme)

    _scan(datetime(2026, 11, 2, 9, tzinfo=UTC))

    assert set(Notification.objects.values_list("kind", flat=True)) == {K.RISK_PROPOSED}


def test_a_member_without_an_address_gets_no_mail_and_no_delivery(
    acme: Tenant, mailoutbox: list[Any]
) -> None:
    with time_machine.travel(SETUP, tick=False):
        _risk(acme, "Unmailed risk", status="proposed")

    _scan()

    assert Notification.objects.count() == 1
    assert mailoutbox == []
    assert not EmailDelivery.objects.exists()


def test_a_failing_mail_server_is_retried_then_given_up(
    acme: Tenant, mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Any, fail_silently: bool = False) -> int:
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(scan_services.EmailMessage, "send", refuse)
    acme.members[Role.ADMIN].user.__class__.objects.filter(username="officer").update(
        email="officer@acme.example"
    )
    with time_machine.travel(SETUP, tick=False):
        _risk(acme, "Unlucky risk", status="proposed")

    for minutes in (0, 5, 10, 15):
        _scan(SCAN + timedelta(minutes=minutes))

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "mail server down" in delivery.last_error


# --- preferences ---------------------------------------------------------------------------


def test_every_member_reads_their_defaults(acme: Tenant, api_for: Callable[..., APIClient]) -> None:
    officer = api_for(Role.COMPLIANCE_OFFICER).get("/api/v1/me/notifications/").json()
    auditor = api_for(Role.AUDITOR).get("/api/v1/me/notifications/").json()

    assert [p["kind"] for p in officer["preferences"]] == K.values
    assert all(p["email"] and p["source"] == "default" for p in officer["preferences"])
    assert not any(p["email"] for p in auditor["preferences"])


def test_member_who_switches_a_kind_off_gets_no_mail_for_it(
    acme: Tenant, api_for: Callable[..., APIClient], mailoutbox: list[Any]
) -> None:
    _emails(acme)
    officer = api_for(Role.COMPLIANCE_OFFICER)
    body = {"preferences": [{"kind": "risk.proposed", "email": False}]}

    response = officer.patch("/api/v1/me/notifications/", body, format="json")

    assert response.status_code == 200, response.content
    row = next(p for p in response.json()["preferences"] if p["kind"] == "risk.proposed")
    assert row == {
        "kind": "risk.proposed",
        "description": "A risk was proposed and waits for review",
        "email": False,
        "source": "chosen",
    }
    event = AuditEvent.objects.order_by("-pk").first()
    assert event is not None
    assert event.action == "notification.preferences_update"
    assert event.changes == {"risk.proposed": {"before": None, "after": False}}
    with time_machine.travel(SETUP, tick=False):
        _risk(acme, "Quiet risk", status="proposed")
    _scan()
    assert _mailed() == Counter({("admin", K.RISK_PROPOSED): 1})


def test_an_owner_who_opts_out_is_not_mailed_about_their_overdue_action(
    acme: Tenant, api_for: Callable[..., APIClient], mailoutbox: list[Any]
) -> None:
    _emails(acme)
    body = {"preferences": [{"kind": "treatment.overdue", "email": False}]}
    api_for(Role.ENGINEER).patch("/api/v1/me/notifications/", body, format="json")
    _one_event_of_each_kind(acme)

    _scan()

    assert ("engineer", K.TREATMENT_OVERDUE) not in _mailed()


def test_an_auditor_may_opt_in_and_null_returns_to_the_default(
    acme: Tenant, api_for: Callable[..., APIClient], mailoutbox: list[Any]
) -> None:
    _emails(acme)
    auditor = api_for(Role.AUDITOR)
    opt_in = {"preferences": [{"kind": "incident.regulator_deadline", "email": True}]}
    auditor.patch("/api/v1/me/notifications/", opt_in, format="json")
    _one_event_of_each_kind(acme)
    _scan()
    assert _mailed()[("auditor", K.INCIDENT_REGULATOR_DEADLINE)] == 1

    back = {"preferences": [{"kind": "incident.regulator_deadline", "email": None}]}
    rows = auditor.patch("/api/v1/me/notifications/", back, format="json").json()["preferences"]

    row = next(p for p in rows if p["kind"] == "incident.regulator_deadline")
    assert (row["email"], row["source"]) == (False, "default")


def test_patching_the_same_choice_again_appends_no_audit_event(
    acme: Tenant, api_for: Callable[..., APIClient]
) -> None:
    officer = api_for(Role.COMPLIANCE_OFFICER)
    body = {"preferences": [{"kind": "review.overdue", "email": False}]}
    officer.patch("/api/v1/me/notifications/", body, format="json")
    count = AuditEvent.objects.count()

    response = officer.patch("/api/v1/me/notifications/", body, format="json")

    assert response.status_code == 200
    assert AuditEvent.objects.count() == count


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "preferences"),
        ({"preferences": []}, "preferences"),
        ({"preferences": [{"kind": "risk.exploded", "email": True}]}, "preferences"),
        ({"preferences": [{"kind": "risk.proposed"}]}, "preferences"),
        ({"preferences": [{"kind": "risk.proposed", "email": "sometimes"}]}, "preferences"),
        (
            {"preferences": [{"kind": "risk.proposed", "email": True}] * 2},
            "preferences",
        ),
        ({"preferences": {"risk.proposed": False}}, "preferences"),
    ],
)
def test_bad_preferences_are_refused_naming_the_field(
    acme: Tenant, api_for: Callable[..., APIClient], body: Any, field: str
) -> None:
    engineer = api_for(Role.ENGINEER)
    count = AuditEvent.objects.count()

    response = engineer.patch("/api/v1/me/notifications/", body, format="json")

    assert names_field(assert_envelope(response, 400, "validation_error"), field)
    assert AuditEvent.objects.count() == count


def test_a_service_account_has_no_preferences(acme: Tenant) -> None:
    account = orgs.service_account_create(
        actor=acme.actor, name="CI", slug="ci", role=Role.ENGINEER
    )
    _, key = orgs.token_create(actor=acme.actor, name="ci", service_account=account)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"preferences": [{"kind": "risk.proposed", "email": True}]}

    assert_envelope(client.get("/api/v1/me/notifications/"), 404, "not_found")
    assert_envelope(
        client.patch("/api/v1/me/notifications/", body, format="json"), 404, "not_found"
    )


# --- webhooks: management --------------------------------------------------------------------


def test_admin_registers_a_webhook_and_sees_its_secret_once(
    acme: Tenant, api_for: Callable[..., APIClient]
) -> None:
    admin = api_for(Role.ADMIN)
    body = {"url": PUBLIC_URL, "kinds": ["risk.proposed"], "description": "SIEM"}

    created = admin.post("/api/v1/webhooks/", body, format="json")

    assert created.status_code == 201, created.content
    hook = created.json()
    assert hook["secret"].startswith("whsec_")
    assert (hook["url"], hook["kinds"], hook["active"], hook["created_by"]) == (
        PUBLIC_URL,
        ["risk.proposed"],
        True,
        "admin",
    )
    listed = admin.get("/api/v1/webhooks/").json()["results"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    assert hook["secret"] not in str(listed)
    event = AuditEvent.objects.order_by("-pk").first()
    assert event is not None
    assert event.action == "webhook.create"
    assert hook["secret"] not in str(event.changes)


def test_a_webhook_without_kinds_receives_every_kind(
    acme: Tenant, api_for: Callable[..., APIClient]
) -> None:
    created = api_for(Role.ADMIN).post("/api/v1/webhooks/", {"url": PUBLIC_URL}, format="json")

    assert created.json()["kinds"] == sorted(K.values)


REFUSED = [
    "http://10.0.0.1/hook",
    "http://127.0.0.1/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.168.1.1/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://localhost/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_webhook_to_a_private_address_is_refused_and_nothing_is_written(
    acme: Tenant, api_for: Callable[..., APIClient], url: str
) -> None:
    admin = api_for(Role.ADMIN)
    count = AuditEvent.objects.count()

    response = admin.post("/api/v1/webhooks/", {"url": url}, format="json")

    assert names_field(assert_envelope(response, 400, "webhook_address_refused"), "url")
    assert not Webhook.objects.exists()
    assert AuditEvent.objects.count() == count


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": "ftp://93.184.216.34/"}, "url"),
        ({"url": "https://user:secret@93.184.216.34/"}, "url"),
        ({"url": "https://93.184.216.34/" + "a" * 500}, "url"),
        ({"url": PUBLIC_URL, "kinds": []}, "kinds"),
        ({"url": PUBLIC_URL, "kinds": ["risk.exploded"]}, "kinds"),
        ({"url": PUBLIC_URL, "description": "d" * 201}, "description"),
    ],
)
def test_bad_webhook_input_is_refused_naming_the_field(
    acme: Tenant, api_for: Callable[..., APIClient], body: Any, field: str
) -> None:
    response = api_for(Role.ADMIN).post("/api/v1/webhooks/", body, format="json")

    assert names_field(assert_envelope(response, 400, "validation_error"), field)
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("role", [Role.COMPLIANCE_OFFICER, Role.ENGINEER, Role.AUDITOR])
def test_only_an_admin_may_register_a_webhook(
    acme: Tenant, api_for: Callable[..., APIClient], role: Role
) -> None:
    response = api_for(role).post("/api/v1/webhooks/", {"url": PUBLIC_URL}, format="json")

    assert_envelope(response, 403, "permission_denied")
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineers_and_auditors_cannot_list_webhooks(
    acme: Tenant, api_for: Callable[..., APIClient], role: Role
) -> None:
    assert_envelope(api_for(role).get("/api/v1/webhooks/"), 403, "permission_denied")


def test_officer_lists_webhooks_and_their_deliveries_but_cannot_deactivate(
    acme: Tenant, api_for: Callable[..., APIClient]
) -> None:
    hook, _ = webhook_create(actor=acme.actor, url=PUBLIC_URL)
    officer = api_for(Role.COMPLIANCE_OFFICER)

    assert officer.get("/api/v1/webhooks/").json()["count"] == 1
    assert officer.get(f"/api/v1/webhooks/{hook.uid}/deliveries/").status_code == 200
    response = officer.post(f"/api/v1/webhooks/{hook.uid}/deactivate/")
    assert_envelope(response, 403, "permission_denied")


def test_admin_deactivates_a_webhook_once_and_its_pending_deliveries_fail(
    acme: Tenant, api_for: Callable[..., APIClient]
) -> None:
    hook, _ = webhook_create(actor=acme.actor, url=PUBLIC_URL)
    with time_machine.travel(SETUP, tick=False):
        _risk(acme, "Hooked risk", status="proposed")
    _scan()
    admin = api_for(Role.ADMIN)

    response = admin.post(
        f"/api/v1/webhooks/{hook.uid}/deactivate/", {"reason": "SIEM retired"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    assert response.json()["deactivated_at"] is not None
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("failed", "webhook deactivated")
    event = AuditEvent.objects.order_by("-pk").first()
    assert event is not None
    assert (event.action, event.changes["reason"]["after"]) == (
        "webhook.deactivate",
        "SIEM retired",
    )
    again = admin.post(f"/api/v1/webhooks/{hook.uid}/deactivate/")
    assert names_field(assert_envelope(again, 409, "conflict"), "active")
    assert AuditEvent.objects.order_by("-pk").first() == event


def test_deliveries_list_shows_each_delivery_of_the_webhook(
    acme: Tenant, api_for: Callable[..., APIClient]
) -> None:
    hook, _ = webhook_create(actor=acme.actor, url=PUBLIC_URL, kinds=["risk.proposed"])
    with time_machine.travel(SETUP, tick=False):
        _risk(acme, "Hooked risk", status="proposed")
    _scan()

    rows = api_for(Role.ADMIN).get(f"/api/v1/webhooks/{hook.uid}/deliveries/").json()["results"]

    assert len(rows) == 1
    assert {k: rows[0][k] for k in ("kind", "object", "status", "attempts")} == {
        "kind": "risk.proposed",
        "object": "RSK-001",
        "status": "pending",
        "attempts": 0,
    }


def test_an_inactive_webhook_or_an_unsubscribed_kind_gets_no_delivery(acme: Tenant) -> None:
    webhook_create(actor=acme.actor, url=PUBLIC_URL, kinds=["incident.regulator_deadline"])
    _one_event_of_each_kind(acme)

    _scan()

    assert list(WebhookDelivery.objects.values_list("notification__kind", flat=True)) == [
        "incident.regulator_deadline"
    ]


@pytest.mark.parametrize("suffix", ["deactivate/", "deliveries/"])
def test_outsider_gets_404_for_another_organisations_webhook(
    acme: Tenant, globex: Tenant, api_for: Callable[..., APIClient], suffix: str
) -> None:
    foreign, _ = webhook_create(actor=globex.actor, url=PUBLIC_URL)
    admin = api_for(Role.ADMIN)
    path = f"/api/v1/webhooks/{foreign.uid}/{suffix}"

    response = admin.post(path) if suffix == "deactivate/" else admin.get(path)

    assert_envelope(response, 404, "not_found")
    assert Webhook.objects.get(pk=foreign.pk).active
    assert admin.get("/api/v1/webhooks/").json()["count"] == 0


# --- wiring ----------------------------------------------------------------------------------


def test_beat_runs_the_scan_and_the_webhook_sweep(settings: Any) -> None:
    from django.utils.module_loading import import_string

    schedule = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    for name, every in [
        ("riskreg.notifications.tasks.notifications_scan_task", 300),
        ("riskreg.notifications.tasks.webhook_sweep_task", 60),
    ]:
        assert schedule[name] == every
        assert import_string(name).name == name


def test_the_demo_choice_is_seeded_once(acme: Tenant) -> None:
    from riskreg.notifications.models import NotificationPreference
    from riskreg.web.demo_notifications import seed_notifications

    seed_notifications(acme.actor)
    count = AuditEvent.objects.count()
    seed_notifications(acme.actor)

    row = NotificationPreference.objects.get()
    assert (row.membership.user.username, row.kind, row.email) == (
        "auditor",
        "incident.regulator_deadline",
        True,
    )
    assert AuditEvent.objects.count() == count
