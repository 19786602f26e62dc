"""Importing into the register from its page: the same service and checks as the API."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from riskreg.organisations.roles import Role
from riskreg.risks.models import Risk
from tests.api.helpers import assert_nothing_written, db_snapshot
from tests.api.test_evidence_pages import signed_in
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

HEADER = "reference,title,statement,category\r\n"


def upload(client: Client, text: str, sheet: str = "register") -> Any:
    file = SimpleUploadedFile("register.csv", text.encode(), content_type="text/csv")
    return client.post("/risks/import/upload/", {"sheet": sheet, "file": file})


def test_officer_imports_a_register_file_and_sees_the_counts(acme: Tenant) -> None:
    officer = signed_in(acme, Role.COMPLIANCE_OFFICER)

    answer = upload(officer, HEADER + ",Stale features,Cache lags a day.,privacy\r\n")

    assert answer.status_code == 302
    followed = officer.get(answer["Location"])
    assert "1 created, 0 updated, 0 unchanged" in followed.content.decode()
    assert Risk.objects.filter(title="Stale features", status="proposed").count() == 1


def test_one_bad_row_imports_nothing_and_the_page_names_the_row(acme: Tenant) -> None:
    officer = signed_in(acme, Role.COMPLIANCE_OFFICER)
    before = db_snapshot()

    answer = upload(
        officer,
        HEADER + ",Good one,Fine.,privacy\r\n,Bad one,Fine.,astrology\r\n",
    )

    page = answer.content.decode()
    assert answer.status_code == 400
    assert "<td>3</td><td>category</td>" in page
    assert_nothing_written(before)


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR])
def test_engineer_and_auditor_get_403_posting_an_import_directly(acme: Tenant, role: Role) -> None:
    client = signed_in(acme, role)
    before = db_snapshot()

    answer = upload(client, HEADER + ",Sneaky,Fine.,privacy\r\n")
    form = client.get("/risks/import/")

    assert (answer.status_code, form.status_code) == (403, 403)
    assert "Import a file" not in client.get("/risks/").content.decode()
    assert_nothing_written(before)


def test_import_without_a_csrf_token_is_refused(acme: Tenant) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(acme.members[Role.COMPLIANCE_OFFICER].user)
    before = db_snapshot()

    answer = upload(client, HEADER + ",Forged,Fine.,privacy\r\n")

    assert answer.status_code == 403
    assert "Form expired" in answer.content.decode()
    assert_nothing_written(before)


def test_a_form_without_a_file_is_shown_again_with_its_error(acme: Tenant) -> None:
    officer = signed_in(acme, Role.COMPLIANCE_OFFICER)

    answer = officer.post("/risks/import/upload/", {"sheet": "register"})

    assert answer.status_code == 400
    assert "This field is required." in answer.content.decode()


def test_register_links_its_exports_to_files_with_the_filters_applied(acme: Tenant) -> None:
    auditor = signed_in(acme, Role.AUDITOR)

    page = auditor.get("/risks/?status=open").content.decode()
    export = auditor.get("/api/v1/risks/export/?sheet=register&type=csv&status=open")

    assert "/api/v1/risks/export/?status=open&amp;sheet=register&amp;type=csv" in page
    assert export.status_code == 200
    assert export["Content-Disposition"].startswith("attachment;")
