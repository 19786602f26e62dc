"""Shared fixtures: personas in two organisations, API clients, committed data.

Personas: in organisation `acme` one member per role (admin, officer, engineer,
auditor); `globex` is the foreign organisation whose objects must stay invisible.

On PostgreSQL with DATABASE_RUNTIME_ROLE set, the test database is created and
migrated as the owner role (as in production), then every test runs as the
runtime role, which owns no table.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from rest_framework.test import APIClient

from riskreg.organisations import services as orgs
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Membership, Organization
from riskreg.organisations.roles import Role

ROLE_USERNAMES = {
    Role.ADMIN: "admin",
    Role.COMPLIANCE_OFFICER: "officer",
    Role.ENGINEER: "engineer",
    Role.AUDITOR: "auditor",
}
PASSWORD = "test-password-123"


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
) -> Iterator[None]:
    """Create and migrate the test database, then run the tests as the runtime role.

    Replaces pytest-django's fixture, which sets up only the databases that tests
    marked `django_db` ask for; the integration tests reach the database through
    `committed_db` instead (outside a test transaction) and would find none.
    """
    from django.test.utils import setup_databases, teardown_databases

    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=verbosity, interactive=False, aliases={"default"})
    role = settings.DATABASE_RUNTIME_ROLE
    switch = bool(role) and connection.vendor == "postgresql"
    owner = connection.settings_dict["USER"]
    if switch:
        with django_db_blocker.unblock():
            connection.close()
            connection.settings_dict["USER"] = role
    yield
    with django_db_blocker.unblock():
        if switch:
            connection.close()
            connection.settings_dict["USER"] = owner
        teardown_databases(config, verbosity=verbosity)


@contextmanager
def module_transaction(django_db_blocker: Any) -> Iterator[None]:
    """An outer transaction for data shared by several tests, rolled back at the end.

    pytest-django's `db` fixture opens each test's atomic block inside it, which Django
    turns into a savepoint: a test sees the shared data and its own writes are undone.
    The database stays blocked between setup and teardown, so a test still needs `db`.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@dataclass
class Tenant:
    org: Organization
    members: dict[Role, Membership]

    @property
    def actor(self) -> Actor:
        return Actor.system(self.org.pk)

    def actor_for(self, role: Role) -> Actor:
        from riskreg.organisations.selectors import actor_for_membership

        return actor_for_membership(self.members[role])


def make_tenant(slug: str, *, prefix: str = "") -> Tenant:
    org = orgs.organization_create(name=slug.title(), slug=slug)
    actor = Actor.system(org.pk)
    members = {
        role: orgs.membership_add(
            actor=actor, username=f"{prefix}{name}", role=role, password=PASSWORD
        )
        for role, name in ROLE_USERNAMES.items()
    }
    return Tenant(org=org, members=members)


@pytest.fixture
def acme(db: None) -> Tenant:
    """Our organisation: one member per role (usernames admin, officer, engineer, auditor)."""
    return make_tenant("acme")


@pytest.fixture
def globex(db: None) -> Tenant:
    """The foreign organisation, with its own members (globex-admin, ...)."""
    return make_tenant("globex", prefix="globex-")


@pytest.fixture
def api_for(acme: Tenant) -> Callable[..., APIClient]:
    """api_for(role) -> an APIClient authenticated with a fresh token of that acme member."""

    def make(role: Role, tenant: Tenant | None = None) -> APIClient:
        tenant = tenant or acme
        _, key = orgs.token_create(actor=tenant.actor, name="test", membership=tenant.members[role])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    return make
