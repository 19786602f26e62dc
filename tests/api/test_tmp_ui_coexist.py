import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controls.services import catalog_load
from riskreg.organisations.roles import Role
from riskreg.web.demo import seed_demo
from tests.conftest import PASSWORD


def test_acme_personas_are_fresh(acme):
    user = acme.members[Role.ADMIN].user
    assert user.check_password(PASSWORD)
    assert user.memberships.count() == 1


@pytest.mark.parametrize("path", ["/", "/systems/", "/systems/credit-scoring/", "/datasets/", "/datasets/credit-applications-2024/", "/risks/", "/catalog/", "/audit/", "/systems/nope/"])
def _test_queries(db, client, path):
    catalog_load()
    seed_demo()
    from django.contrib.auth import get_user_model
    client.force_login(get_user_model().objects.get(username="admin"))
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(path)
    print(path, r.status_code, len(ctx.captured_queries))
