"""Tokens are stored hashed and bound to one organisation; service accounts may be limited
to some systems; a signed-in session works in the organisation it has switched to."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from riskreg.audit.models import AuditEvent
from riskreg.inventory import services as inventory
from riskreg.inventory.models import AISystem
from riskreg.lib.hashing import sha256_hex
from riskreg.organisations import services as orgs
from riskreg.organisations.models import ApiToken
from riskreg.organisations.roles import Role
from riskreg.risks.services import register as risks
from tests.api.conftest import World
from tests.api.helpers import (
    assert_envelope,
    assert_nothing_written,
    body_bytes,
    db_snapshot,
)
from tests.conftest import PASSWORD

FOREIGN_PATHS = [
    "/api/v1/systems/turnstile/",
    "/api/v1/systems/turnstile/model-versions/",
    "/api/v1/systems/turnstile/model-versions/7.3-beta/",
    "/api/v1/datasets/passport-photos/",
    "/api/v1/risks/RSK-005/",
]
LISTS = ["/api/v1/systems/", "/api/v1/datasets/", "/api/v1/risks/", "/api/v1/audit/events/"]


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def slugs(response: Any, key: str = "slug") -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [row[key] for row in response.json()["results"]]


def leaks(world: World, response: Any) -> list[str]:
    text = body_bytes(response).decode()
    return [marker for marker in world.foreign_markers if marker in text]


# --- tokens at rest --------------------------------------------------------------------


def test_token_is_stored_only_as_its_hash(world: World) -> None:
    token, key = orgs.token_create(
        actor=world.acme.actor, name="ci", membership=world.acme.members[Role.ENGINEER]
    )

    row = ApiToken.objects.values().get(pk=token.pk)
    assert key.startswith("rr_")
    assert row["key_hash"] == sha256_hex(key.encode())
    assert [name for name, value in row.items() if key in str(value)] == []
    assert len(row["prefix"]) < len(key) // 4  # enough to recognise a token, not to use it
    assert bearer(key).get("/api/v1/me/").status_code == 200


def test_token_key_is_in_no_audit_event(world: World) -> None:
    _, key = orgs.token_create(
        actor=world.acme.actor, name="ci", membership=world.acme.members[Role.ENGINEER]
    )
    for event in AuditEvent.objects.values():
        assert key not in str(event)
        assert key[len("rr_") :] not in str(event)


def test_revoked_token_stops_working_at_once(world: World) -> None:
    token, key = orgs.token_create(
        actor=world.acme.actor, name="ci", membership=world.acme.members[Role.ENGINEER]
    )
    client = bearer(key)
    assert client.get("/api/v1/me/").status_code == 200

    orgs.token_revoke(actor=world.acme.actor, token=token)

    assert_envelope(client.get("/api/v1/me/"), 401, "token_expired")


def test_deactivated_members_token_is_refused(world: World, api_for: Any) -> None:
    """Django refuses an inactive user's session; the bearer token must be refused too."""
    client = api_for(Role.ENGINEER)
    user = world.acme.members[Role.ENGINEER].user
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert_envelope(client.get("/api/v1/me/"), 401, "authentication_failed")


# --- a token is bound to its organisation ----------------------------------------------


@pytest.fixture
def officer_of_both(world: World) -> dict[str, APIClient]:
    """acme's officer is also globex's officer; one token for each membership."""
    in_globex = orgs.membership_add(
        actor=world.globex.actor, username="officer", role=Role.COMPLIANCE_OFFICER
    )
    _, acme_key = orgs.token_create(
        actor=world.acme.actor, name="acme", membership=world.acme.members[Role.COMPLIANCE_OFFICER]
    )
    _, globex_key = orgs.token_create(actor=world.globex.actor, name="globex", membership=in_globex)
    return {"acme": bearer(acme_key), "globex": bearer(globex_key)}


def test_member_of_two_organisations_with_an_acme_token_never_sees_globex_data(
    world: World, officer_of_both: dict[str, APIClient]
) -> None:
    client = officer_of_both["acme"]

    assert client.get("/api/v1/me/").json()["organisation"] == "acme"
    for path in LISTS:
        response = client.get(path)
        assert response.status_code == 200
        assert leaks(world, response) == [], path
    for path in FOREIGN_PATHS:
        assert_envelope(client.get(path), 404, "not_found")


def test_member_of_two_organisations_with_a_globex_token_sees_only_globex(
    world: World, officer_of_both: dict[str, APIClient]
) -> None:
    client = officer_of_both["globex"]

    assert client.get("/api/v1/me/").json()["organisation"] == "globex"
    assert slugs(client.get("/api/v1/systems/")) == ["turnstile"]
    assert slugs(client.get("/api/v1/risks/"), "reference") == [f"RSK-00{n}" for n in range(1, 6)]
    assert_envelope(client.get("/api/v1/systems/credit-scoring/"), 404, "not_found")
    assert_envelope(client.get("/api/v1/datasets/loans-2023/"), 404, "not_found")


def test_slug_used_by_another_organisation_is_free_in_ours(world: World, api_for: Any) -> None:
    response = api_for(Role.ENGINEER).post(
        "/api/v1/datasets/", {"name": "Our photos", "slug": "passport-photos"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Our photos"


# --- service accounts limited to some systems ------------------------------------------


def service_account_client(world: World, systems: list[str]) -> APIClient:
    actor = world.acme.actor
    ids = list(
        AISystem.objects.filter(organization=world.acme.org, slug__in=systems).values_list(
            "pk", flat=True
        )
    )
    account = orgs.service_account_create(
        actor=actor, name="CI", slug="ci", role=Role.ENGINEER, system_ids=ids
    )
    _, key = orgs.token_create(actor=actor, name="ci", service_account=account)
    return bearer(key)


@pytest.fixture
def chatbot(world: World) -> None:
    """A second acme system, with a model version and a risk (RSK-003) of its own."""
    actor = world.acme.actor
    system = inventory.system_create(actor=actor, slug="chatbot", name="Support chatbot")
    inventory.model_version_create(actor=actor, system=system, version="0.9")
    risks.risk_create(
        actor=actor,
        title="Chatbot invents refund rules",
        statement="It answers with policies that do not exist.",
        category="validity_reliability",
        systems=["chatbot"],
    )


@pytest.fixture
def ci_for_scoring(world: World, chatbot: None) -> APIClient:
    """CI's service account, an engineer limited to credit-scoring."""
    return service_account_client(world, ["credit-scoring"])


def test_service_account_limited_to_one_system_lists_only_that_system(
    ci_for_scoring: APIClient,
) -> None:
    assert slugs(ci_for_scoring.get("/api/v1/systems/")) == ["credit-scoring"]
    assert slugs(ci_for_scoring.get("/api/v1/risks/"), "reference") == ["RSK-001"]
    assert ci_for_scoring.get("/api/v1/me/").json()["kind"] == "service_account"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/systems/chatbot/", None),
        ("get", "/api/v1/systems/chatbot/model-versions/", None),
        ("get", "/api/v1/systems/chatbot/model-versions/0.9/", None),
        ("get", "/api/v1/risks/RSK-003/", None),
        ("patch", "/api/v1/systems/chatbot/", {"risk_tier": "high"}),
        ("post", "/api/v1/systems/chatbot/model-versions/", {"version": "1.0"}),
        ("patch", "/api/v1/systems/chatbot/model-versions/0.9/", {"status": "retired"}),
    ],
)
def test_service_account_limited_to_one_system_gets_404_for_the_others(
    method: str, path: str, body: Any, ci_for_scoring: APIClient
) -> None:
    before = db_snapshot()

    response = getattr(ci_for_scoring, method)(path, body, format="json")

    assert_envelope(response, 404, "not_found")
    assert_nothing_written(before)
    assert b"Support chatbot" not in response.content
    assert b"refund" not in response.content


def test_service_account_limited_to_one_system_cannot_link_a_risk_to_another(
    ci_for_scoring: APIClient,
) -> None:
    before = db_snapshot()

    response = ci_for_scoring.post(
        "/api/v1/risks/",
        {"title": "t", "statement": "s", "category": "safety", "systems": ["chatbot"]},
        format="json",
    )

    body = assert_envelope(response, 400, "foreign_reference")
    assert "systems" in body["extra"]["fields"]
    assert_nothing_written(before)


def test_service_account_without_limits_sees_every_system(world: World, chatbot: None) -> None:
    client = service_account_client(world, [])

    assert sorted(slugs(client.get("/api/v1/systems/"))) == ["chatbot", "credit-scoring"]
    assert client.get("/api/v1/risks/RSK-003/").status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "read_back"),
    [
        (
            "/api/v1/systems/",
            {"name": "Fraud screen", "slug": "fraud-screen"},
            "/api/v1/systems/fraud-screen/",
        ),
        (
            "/api/v1/risks/",
            {"title": "Unlinked", "statement": "No system named.", "category": "safety"},
            "/api/v1/risks/RSK-004/",
        ),
    ],
    ids=["a system", "a risk on no system"],
)
def test_limited_service_account_creating_what_it_cannot_see_gets_a_consistent_answer(
    path: str, body: dict[str, Any], read_back: str, ci_for_scoring: APIClient
) -> None:
    """Either the write succeeds and the caller can read what it made, or it is refused
    and nothing is written. A 404 after the row and its audit event were committed is
    neither."""
    before = db_snapshot()

    response = ci_for_scoring.post(path, body, format="json")

    if response.status_code == 201:
        assert ci_for_scoring.get(read_back).status_code == 200
    else:
        assert 400 <= response.status_code < 500
        assert_nothing_written(before)


# --- session authentication ------------------------------------------------------------


@pytest.fixture
def officer_session(world: World) -> APIClient:
    """acme's officer, also a globex officer, signed in to the web UI."""
    orgs.membership_add(actor=world.globex.actor, username="officer", role=Role.COMPLIANCE_OFFICER)
    client = APIClient()
    assert client.login(username="officer", password=PASSWORD)
    return client


def test_signed_in_member_uses_the_api_in_the_first_organisation(
    world: World, officer_session: APIClient
) -> None:
    me = officer_session.get("/api/v1/me/").json()

    assert (me["organisation"], me["role"], me["kind"]) == ("acme", "compliance_officer", "member")
    assert slugs(officer_session.get("/api/v1/systems/")) == ["credit-scoring"]


def test_switching_organisation_changes_what_the_api_returns(
    world: World, officer_session: APIClient
) -> None:
    switched = officer_session.post("/organisation/", {"organisation": "globex"})

    assert switched.status_code == 302
    assert officer_session.get("/api/v1/me/").json()["organisation"] == "globex"
    assert slugs(officer_session.get("/api/v1/systems/")) == ["turnstile"]
    assert_envelope(officer_session.get("/api/v1/systems/credit-scoring/"), 404, "not_found")

    created = officer_session.post(
        "/api/v1/systems/", {"name": "Badge reader", "slug": "badge-reader"}, format="json"
    )

    assert created.status_code == 201
    event = AuditEvent.objects.order_by("-pk").select_related("organization").first()
    assert event is not None
    assert (event.organization.slug, event.action, event.actor_label) == (
        "globex",
        "system.create",
        "officer",
    )

    officer_session.post("/organisation/", {"organisation": "acme"})

    assert slugs(officer_session.get("/api/v1/systems/")) == ["credit-scoring"]


def test_switching_to_an_organisation_the_user_is_not_in_changes_nothing(world: World) -> None:
    client = APIClient()
    assert client.login(username="engineer", password=PASSWORD)

    client.post("/organisation/", {"organisation": "globex"})

    assert client.get("/api/v1/me/").json()["organisation"] == "acme"
    assert_envelope(client.get("/api/v1/systems/turnstile/"), 404, "not_found")


def test_session_write_without_csrf_token_is_refused_and_writes_nothing(world: World) -> None:
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="engineer", password=PASSWORD)
    before = db_snapshot()

    response = client.post("/api/v1/systems/", {"name": "x", "slug": "x"}, format="json")

    assert_envelope(response, 403, "permission_denied")
    assert_nothing_written(before)


def test_signed_in_user_without_an_organisation_gets_403_organisation_required(
    world: World,
) -> None:
    get_user_model().objects.create_user(username="drifter", password=PASSWORD)
    client = APIClient()
    assert client.login(username="drifter", password=PASSWORD)

    assert_envelope(client.get("/api/v1/me/"), 403, "organisation_required")
