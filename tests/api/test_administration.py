"""Organisation administration over the API: tokens, members and service accounts.

Keys are shown once and stored only as their hash; members manage their own tokens, admins
everyone's; the organisation always keeps an admin; every change is in the audit trail.
"""

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from riskreg.lib.hashing import sha256_hex
from riskreg.organisations.models import ApiToken, Membership
from riskreg.organisations.roles import Role
from tests.api.conftest import OWN_TOKEN_PREFIXES, World
from tests.api.helpers import (
    assert_envelope,
    assert_nothing_written,
    audit_events_since,
    body_bytes,
    db_snapshot,
    last_audit_id,
)


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def issue(client: APIClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tokens/", {"name": "notebook", **body}, format="json")
    assert response.status_code == 201, response.content[:300]
    return response.json()  # type: ignore[no-any-return]


def listed(client: APIClient, path: str = "/api/v1/tokens/") -> list[dict[str, Any]]:
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return response.json()["results"]  # type: ignore[no-any-return]


# --- tokens ----------------------------------------------------------------------------


def test_member_sees_the_key_only_once(world: World, api_for: Any) -> None:
    engineer = api_for(Role.ENGINEER)

    created = issue(engineer, days=30)

    key = created["key"]
    assert key.startswith(created["prefix"])
    assert created["owner"] == "engineer"
    assert bearer(key).get("/api/v1/me/").json()["actor"] == "engineer"
    text = body_bytes(engineer.get("/api/v1/tokens/")).decode()
    assert created["prefix"] in text
    assert key not in text
    assert key[len(created["prefix"]) :] not in text


def test_token_listing_shows_no_hashes_or_keys(world: World, api_for: Any) -> None:
    rows = listed(api_for(Role.ADMIN))

    assert rows
    for row in rows:
        assert set(row) == {"prefix", "name", "owner", "created_at", "expires_at", "revoked_at"}
    text = str(rows)
    for key_hash in ApiToken.objects.values_list("key_hash", flat=True):
        assert key_hash not in text


def test_engineer_lists_only_own_tokens_and_admin_lists_every_token_of_acme(
    world: World, api_for: Any
) -> None:
    mine = listed(api_for(Role.ENGINEER))
    everyone = listed(api_for(Role.ADMIN))

    assert {row["owner"] for row in mine} == {"engineer"}
    assert {row["owner"] for row in everyone} == {"admin", "officer", "engineer", "auditor"}
    assert all(not row["prefix"].startswith("rr_globex") for row in everyone)


def test_token_lasts_90_days_unless_asked_otherwise(world: World, api_for: Any) -> None:
    created = issue(api_for(Role.AUDITOR))
    token = ApiToken.objects.get(prefix=created["prefix"])

    assert (token.expires_at - token.created_at).days == 90


def test_engineer_cannot_issue_a_service_account_token(world: World, api_for: Any) -> None:
    engineer = api_for(Role.ENGINEER)
    before = db_snapshot()

    response = engineer.post(
        "/api/v1/tokens/", {"name": "ci", "service_account": "pipeline"}, format="json"
    )

    assert_envelope(response, 403, "permission_denied")
    assert_nothing_written(before)


def test_admin_issues_a_service_account_token_that_sees_only_its_systems(
    world: World, api_for: Any
) -> None:
    created = issue(api_for(Role.ADMIN), name="ci", service_account="pipeline")

    assert created["owner"] == "service:pipeline"
    ci = bearer(created["key"])
    assert ci.get("/api/v1/me/").json()["kind"] == "service_account"
    systems = [row["slug"] for row in ci.get("/api/v1/systems/").json()["results"]]
    assert systems == ["credit-scoring"]


def test_service_account_token_may_not_mint_tokens(world: World, api_for: Any) -> None:
    ci = bearer(issue(api_for(Role.ADMIN), name="ci", service_account="pipeline")["key"])
    before = db_snapshot()

    response = ci.post("/api/v1/tokens/", {"name": "escalation"}, format="json")

    assert_envelope(response, 403, "permission_denied")
    assert_nothing_written(before)
    assert {row["owner"] for row in listed(ci)} == {"service:pipeline"}


def test_revoked_token_stops_working_at_once(world: World, api_for: Any) -> None:
    engineer = api_for(Role.ENGINEER)
    created = issue(engineer)
    key = created["key"]
    assert bearer(key).get("/api/v1/me/").status_code == 200

    response = engineer.post(f"/api/v1/tokens/{created['prefix']}/revoke/", {}, format="json")

    assert response.status_code == 200, response.content[:300]
    assert response.json()["revoked_at"] is not None
    assert_envelope(bearer(key).get("/api/v1/me/"), 401, "token_expired")


def test_token_may_revoke_itself(world: World, api_for: Any) -> None:
    created = issue(api_for(Role.ENGINEER))
    client = bearer(created["key"])

    response = client.post(f"/api/v1/tokens/{created['prefix']}/revoke/", {}, format="json")

    assert response.status_code == 200
    assert_envelope(client.get("/api/v1/me/"), 401, "token_expired")


def test_revoking_a_revoked_token_is_a_conflict(world: World, api_for: Any) -> None:
    engineer = api_for(Role.ENGINEER)
    path = f"/api/v1/tokens/{OWN_TOKEN_PREFIXES[Role.ENGINEER]}/revoke/"
    assert engineer.post(path, {}, format="json").status_code == 200
    before = db_snapshot()

    assert_envelope(engineer.post(path, {}, format="json"), 409, "conflict")
    assert_nothing_written(before)


def test_engineer_gets_404_for_the_officers_token_and_the_admin_revokes_it(
    world: World, api_for: Any
) -> None:
    path = f"/api/v1/tokens/{OWN_TOKEN_PREFIXES[Role.COMPLIANCE_OFFICER]}/revoke/"
    engineer, admin = api_for(Role.ENGINEER), api_for(Role.ADMIN)
    before = db_snapshot()

    assert_envelope(engineer.post(path, {}, format="json"), 404, "not_found")
    assert_nothing_written(before)
    assert admin.post(path, {}, format="json").status_code == 200


def test_token_writes_are_audited_without_the_key(world: World, api_for: Any) -> None:
    engineer = api_for(Role.ENGINEER)
    mark = last_audit_id()

    created = issue(engineer)
    engineer.post(
        f"/api/v1/tokens/{created['prefix']}/revoke/", {"reason": "rotated"}, format="json"
    )

    events = audit_events_since(mark)
    assert [(e.action, e.actor_label) for e in events] == [
        ("token.create", "engineer"),
        ("token.revoke", "engineer"),
    ]
    assert events[1].changes["reason"]["after"] == "rotated"
    for event in events:
        assert created["key"] not in str(event.changes)
        assert sha256_hex(created["key"].encode()) not in str(event.changes)


# --- members ---------------------------------------------------------------------------


def test_officer_lists_members_but_may_not_add_one(world: World, api_for: Any) -> None:
    officer = api_for(Role.COMPLIANCE_OFFICER)

    members = listed(officer, "/api/v1/members/")
    response = officer.post(
        "/api/v1/members/", {"username": "intruder", "role": "admin"}, format="json"
    )

    assert [m["username"] for m in members] == ["admin", "auditor", "engineer", "officer"]
    assert_envelope(response, 403, "permission_denied")


def test_admin_adds_a_new_user_who_has_no_usable_password(world: World, api_for: Any) -> None:
    admin = api_for(Role.ADMIN)
    mark = last_audit_id()

    response = admin.post(
        "/api/v1/members/",
        {"username": "newcomer", "role": "auditor", "email": "newcomer@example.com"},
        format="json",
    )

    assert response.status_code == 201, response.content[:300]
    assert response.json()["role"] == "auditor"
    user = get_user_model().objects.get(username="newcomer")
    assert not user.has_usable_password()
    assert [e.action for e in audit_events_since(mark)] == ["membership.add"]


def test_admin_adds_an_existing_user_of_another_organisation(world: World, api_for: Any) -> None:
    response = api_for(Role.ADMIN).post(
        "/api/v1/members/", {"username": "globex-auditor", "role": "auditor"}, format="json"
    )

    assert response.status_code == 201, response.content[:300]
    assert Membership.objects.filter(user__username="globex-auditor").count() == 2


def test_admin_changes_a_role_and_the_change_is_audited(world: World, api_for: Any) -> None:
    admin = api_for(Role.ADMIN)
    mark = last_audit_id()

    response = admin.patch(
        "/api/v1/members/engineer/", {"role": "compliance_officer"}, format="json"
    )

    assert response.status_code == 200, response.content[:300]
    assert Membership.objects.get(pk=world.acme.members[Role.ENGINEER].pk).role == (
        "compliance_officer"
    )
    [event] = audit_events_since(mark)
    assert (event.action, event.actor_label) == ("membership.change_role", "admin")
    assert event.changes["role"] == {"before": "engineer", "after": "compliance_officer"}


def test_last_admin_cannot_be_demoted(world: World, api_for: Any) -> None:
    admin = api_for(Role.ADMIN)
    before = db_snapshot()

    response = admin.patch("/api/v1/members/admin/", {"role": "engineer"}, format="json")

    body = assert_envelope(response, 409, "last_admin")
    assert body["message"].startswith("role")
    assert_nothing_written(before)


def test_admin_may_step_down_once_another_admin_exists(world: World, api_for: Any) -> None:
    admin = api_for(Role.ADMIN)
    promoted = admin.patch("/api/v1/members/officer/", {"role": "admin"}, format="json")

    response = admin.patch("/api/v1/members/admin/", {"role": "engineer"}, format="json")

    assert promoted.status_code == 200
    assert response.status_code == 200, response.content[:300]
    assert_envelope(admin.get("/api/v1/members/"), 403, "permission_denied")


# --- service accounts ------------------------------------------------------------------


def test_admin_creates_a_limited_service_account_and_the_auditor_reads_it(
    world: World, api_for: Any
) -> None:
    admin, auditor = api_for(Role.ADMIN), api_for(Role.AUDITOR)
    mark = last_audit_id()

    response = admin.post(
        "/api/v1/service-accounts/",
        {"name": "Nightly", "slug": "nightly", "role": "auditor", "systems": ["credit-scoring"]},
        format="json",
    )

    assert response.status_code == 201, response.content[:300]
    assert response.json()["systems"] == ["credit-scoring"]
    accounts = listed(auditor, "/api/v1/service-accounts/")
    assert [a["slug"] for a in accounts] == ["nightly", "pipeline"]
    assert [e.action for e in audit_events_since(mark)] == ["service_account.create"]


def test_engineer_may_not_read_service_accounts(world: World, api_for: Any) -> None:
    response = api_for(Role.ENGINEER).get("/api/v1/service-accounts/")

    assert_envelope(response, 403, "permission_denied")
