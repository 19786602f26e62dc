"""The notification settings page, through Django's test client (no browser).

Every member sees and changes their own e-mail choices, as the API's
/api/v1/me/notifications/ does; admins and officers see the organisation's webhooks, and
only admins register and deactivate them. Each POST is guarded as the API is when posted
directly: the wrong role 403, a foreign or missing webhook 404, a missing CSRF token 403,
a bad form or a refused address 400 with the error on its field; none of them writes.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from rest_framework.test import APIClient

from riskreg.audit.models import AuditEvent
from riskreg.notifications.models import (
    DeliveryStatus,
    Notification,
    NotificationKind,
    Webhook,
    WebhookDelivery,
)
from riskreg.notifications.services import webhooks
from riskreg.organisations.roles import Role
from tests.api.helpers import assert_nothing_written, db_snapshot
from tests.api.test_evidence_pages import signed_in
from tests.api.test_risk_pages import _csrf_client
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

PAGE = "/settings/notifications/"
PREFERENCES = "/settings/notifications/preferences/"
WEBHOOKS = "/settings/notifications/webhooks/"
PUBLIC_URL = "https://93.184.216.34/hook"
MEMBERS = [Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.ENGINEER, Role.AUDITOR]
NOT_ADMINS = [Role.COMPLIANCE_OFFICER, Role.ENGINEER, Role.AUDITOR]


def _deactivate(uid: object) -> str:
    return f"{WEBHOOKS}{uid}/deactivate/"


def _body(response: Any) -> str:
    return str(response.content.decode())


def _deliveries(tenant: Tenant, hook: Webhook, statuses: list[str]) -> None:
    """Deliveries in the given states, written directly: only the list's reads are tested."""
    for n, status in enumerate(statuses):
        notification = Notification.objects.create(
            organization=tenant.org,
            kind=NotificationKind.RISK_PROPOSED,
            event_key=f"risk.proposed:{hook.pk}{n}",
            subject="A risk was proposed",
            body="RSK-001 waits for review.",
            payload={},
            object_type="risk",
            object_id=str(n),
            object_label="RSK-001",
        )
        WebhookDelivery.objects.create(
            webhook=hook,
            notification=notification,
            status=status,
            response_status=200 if status == DeliveryStatus.SENT else None,
        )


@pytest.fixture
def hooks(acme: Tenant, globex: Tenant) -> tuple[Webhook, Webhook]:
    """acme's webhook (one delivery sent, one failed) and globex's."""
    own, _ = webhooks.webhook_create(
        actor=acme.actor, url=PUBLIC_URL, kinds=["risk.proposed"], description="Ticketing"
    )
    _deliveries(acme, own, [DeliveryStatus.SENT, DeliveryStatus.FAILED])
    foreign, _ = webhooks.webhook_create(
        actor=globex.actor, url="https://93.184.216.34/globex-hook"
    )
    return own, foreign


def _api_choices(api: APIClient) -> dict[str, tuple[bool, str]]:
    rows = api.get("/api/v1/me/notifications/").json()["preferences"]
    return {row["kind"]: (row["email"], row["source"]) for row in rows}


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", MEMBERS)
def test_every_member_sees_each_kind_with_their_roles_default_and_a_choice(
    acme: Tenant, role: Role
) -> None:
    response = signed_in(acme, role).get(PAGE)
    assert response.status_code == 200
    body = _body(response)
    for kind in NotificationKind:
        assert escape(kind.label) in body
        assert f'name="{kind.value.replace(".", "_")}"' in body
    assert "Save e-mail choices" in body
    officer = role == Role.COMPLIANCE_OFFICER
    # The officer's role acts on overdue treatment; nobody else's does.
    on = '<option value="default" selected>Default (on)</option>'
    off = '<option value="default" selected>Default (off)</option>'
    assert body.count(on) == (6 if officer else 3 if role == Role.ADMIN else 0)
    assert body.count(off) == 6 - body.count(on)
    assert '<a href="/settings/notifications/" aria-current="page">Notifications</a>' in body


def test_a_member_without_an_address_is_told_nothing_is_mailed(acme: Tenant) -> None:
    body = _body(signed_in(acme, Role.ENGINEER).get(PAGE))
    assert "You have no e-mail address" in body
    get_user_model().objects.filter(username="engineer").update(email="eng@example.com")
    body = _body(signed_in(acme, Role.ENGINEER).get(PAGE))
    assert "eng@example.com" in body
    assert "You have no e-mail address" not in body


def test_admin_sees_the_webhooks_their_deliveries_and_the_forms(
    acme: Tenant, hooks: tuple[Webhook, Webhook]
) -> None:
    own, _ = hooks
    body = _body(signed_in(acme, Role.ADMIN).get(PAGE))
    assert PUBLIC_URL in body
    assert "Ticketing" in body
    assert "<code>risk.proposed</code>" in body
    assert "Sent 200" in body
    assert "Failed" in body
    assert "Register webhook" in body
    assert _deactivate(own.uid) in body
    assert "globex-hook" not in body
    assert own.secret not in body


def test_officer_sees_the_webhooks_without_any_control(
    acme: Tenant, hooks: tuple[Webhook, Webhook]
) -> None:
    body = _body(signed_in(acme, Role.COMPLIANCE_OFFICER).get(PAGE))
    assert PUBLIC_URL in body
    assert "Sent 200" in body
    assert "Register webhook" not in body
    assert "Deactivate" not in body
    assert WEBHOOKS not in body


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineer_and_auditor_see_no_webhooks(
    acme: Tenant, hooks: tuple[Webhook, Webhook], role: Role
) -> None:
    body = _body(signed_in(acme, role).get(PAGE))
    assert "Webhooks" not in body
    assert PUBLIC_URL not in body
    assert WEBHOOKS not in body


def test_the_webhook_list_issues_the_same_queries_for_one_webhook_or_many(
    acme: Tenant, hooks: tuple[Webhook, Webhook]
) -> None:
    client = signed_in(acme, Role.ADMIN)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE).status_code == 200
        return len(queries)

    one = count()
    for n in range(4):
        hook, _ = webhooks.webhook_create(actor=acme.actor, url=f"{PUBLIC_URL}/{n}")
        _deliveries(acme, hook, [DeliveryStatus.PENDING, DeliveryStatus.SENT])
    assert count() == one


# --- preferences -----------------------------------------------------------------------


def test_engineer_saves_choices_and_the_api_shows_them(
    acme: Tenant, api_for: Callable[..., APIClient]
) -> None:
    client = signed_in(acme, Role.ENGINEER)
    response = client.post(PREFERENCES, {"risk_proposed": "on", "treatment_overdue": "off"})
    assert response.status_code == 302
    choices = _api_choices(api_for(Role.ENGINEER))
    assert choices["risk.proposed"] == (True, "chosen")
    assert choices["treatment.overdue"] == (False, "chosen")
    assert choices["review.overdue"] == (False, "default")
    event = AuditEvent.objects.filter(action="notification.preferences_update").get()
    assert set(event.changes) == {"risk.proposed", "treatment.overdue"}
    body = _body(client.get(PAGE))
    assert "Your e-mail choices are saved." in body
    assert '<option value="on" selected>On</option>' in body

    client.post(PREFERENCES, {"risk_proposed": "default"})
    choices = _api_choices(api_for(Role.ENGINEER))
    assert choices["risk.proposed"] == (False, "default")
    assert choices["treatment.overdue"] == (False, "chosen")


def test_a_bad_preference_comes_back_400_inline_and_writes_nothing(acme: Tenant) -> None:
    before = db_snapshot()
    response = signed_in(acme, Role.AUDITOR).post(
        PREFERENCES, {"risk_proposed": "maybe", "review_overdue": "on"}
    )
    assert response.status_code == 400
    assert "Select a valid choice. maybe is not one of the available choices." in _body(response)
    assert_nothing_written(before)


# --- webhooks --------------------------------------------------------------------------


def test_admin_registers_a_webhook_and_sees_its_secret_once(acme: Tenant) -> None:
    client = signed_in(acme, Role.ADMIN)
    response = client.post(
        WEBHOOKS,
        {"url": PUBLIC_URL, "kinds": ["risk.proposed", "review.overdue"], "description": "Pager"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    hook = Webhook.objects.get(organization=acme.org)
    assert hook.kinds == ["review.overdue", "risk.proposed"]
    assert hook.description == "Pager"
    assert hook.created_by == "admin"
    assert f'value="{hook.secret}"' in _body(response)
    assert AuditEvent.objects.filter(action="webhook.create", object_id=str(hook.pk)).exists()
    listed = _body(client.get(PAGE))
    assert PUBLIC_URL in listed
    assert hook.secret not in listed


def test_admin_registers_a_webhook_for_every_kind_when_none_is_ticked(acme: Tenant) -> None:
    response = signed_in(acme, Role.ADMIN).post(WEBHOOKS, {"url": PUBLIC_URL})
    assert response.status_code == 200
    assert Webhook.objects.get(organization=acme.org).kinds == sorted(NotificationKind.values)


def test_admin_deactivates_a_webhook_once(acme: Tenant, hooks: tuple[Webhook, Webhook]) -> None:
    own, foreign = hooks
    client = signed_in(acme, Role.ADMIN)
    response = client.post(_deactivate(own.uid))
    assert response.status_code == 302
    own.refresh_from_db()
    assert not own.active
    body = _body(client.get(PAGE))
    assert f"The webhook to {PUBLIC_URL} is deactivated." in body
    assert "Inactive since" in body
    assert _deactivate(own.uid) not in body
    before = db_snapshot()
    client.post(_deactivate(own.uid))
    assert "already inactive" in _body(client.get(PAGE))
    assert_nothing_written(before)
    foreign.refresh_from_db()
    assert foreign.active


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_officer_engineer_and_auditor_cannot_register_or_deactivate_webhooks(
    acme: Tenant, hooks: tuple[Webhook, Webhook], role: Role
) -> None:
    own, _ = hooks
    before = db_snapshot()
    client = signed_in(acme, role)
    for path, data in ((WEBHOOKS, {"url": PUBLIC_URL}), (_deactivate(own.uid), {})):
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert "Not allowed" in _body(response)
    assert_nothing_written(before)


def test_a_foreign_or_missing_webhook_answers_404(
    acme: Tenant, hooks: tuple[Webhook, Webhook]
) -> None:
    _, foreign = hooks
    before = db_snapshot()
    client = signed_in(acme, Role.ADMIN)
    for uid in (foreign.uid, "00000000-0000-4000-8000-000000000000"):
        assert client.post(_deactivate(uid)).status_code == 404
    assert_nothing_written(before)


def test_posts_without_a_csrf_token_are_refused(
    acme: Tenant, hooks: tuple[Webhook, Webhook]
) -> None:
    own, _ = hooks
    before = db_snapshot()
    client = _csrf_client(acme, Role.ADMIN)
    for path, data in (
        (PREFERENCES, {"risk_proposed": "off"}),
        (WEBHOOKS, {"url": PUBLIC_URL}),
        (_deactivate(own.uid), {}),
    ):
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert "security token was missing" in _body(response)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"url": ""}, "This field is required."),
        ({"url": PUBLIC_URL, "kinds": ["risk.nope"]}, "Select a valid choice."),
        ({"url": "x" * 501}, "Ensure this value has at most 500 characters"),
        ({"url": "ftp://93.184.216.34/hook"}, "Must start with https:// or http://."),
        ({"url": "https://user:pw@93.184.216.34/"}, "Must not contain credentials."),
    ],
)
def test_a_bad_webhook_form_comes_back_400_inline_and_writes_nothing(
    acme: Tenant, data: dict[str, Any], error: str
) -> None:
    before = db_snapshot()
    response = signed_in(acme, Role.ADMIN).post(WEBHOOKS, data)
    assert response.status_code == 400
    assert error in _body(response)
    assert 'class="error" role="alert"' in _body(response)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/hook", "http://[::1]:8000/", "https://169.254.169.254/latest"]
)
def test_a_non_public_address_is_refused_on_the_url_field(acme: Tenant, url: str) -> None:
    before = db_snapshot()
    response = signed_in(acme, Role.ADMIN).post(WEBHOOKS, {"url": url})
    assert response.status_code == 400
    body = _body(response)
    field = body[body.index('name="url"') :]
    assert field.index("Resolves to a non-public address.") < field.index('name="kinds"')
    assert_nothing_written(before)
