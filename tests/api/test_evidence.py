"""Evidence over the API: every kind accepted, refused and kept apart from other
organisations; idempotency; attachments checked, stored and served as downloads; the
states an item moves through; and no way to change or delete what was recorded."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from rest_framework.test import APIClient

from evaluations.models import Evidence, Withdrawal
from evaluations.services import evidence as evidence_services
from riskreg.inventory import selectors as inventory_selectors
from riskreg.inventory import services as inventory
from riskreg.organisations import services as orgs
from riskreg.organisations.models import ServiceAccount
from riskreg.organisations.roles import Role
from tests.api.conftest import World, performance_document
from tests.api.helpers import (
    assert_envelope,
    assert_nothing_written,
    attachment_files,
    db_snapshot,
)

EXAMPLES = Path(settings.BASE_DIR) / "fixtures" / "evidence"
KINDS = ["fairness", "calibration", "robustness", "performance", "efficiency", "data_quality"]
ALL_KINDS = [*KINDS, "document"]
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def example(kind: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{kind}.json").read_text())  # type: ignore[no-any-return]


def example_files(document: dict[str, Any]) -> list[SimpleUploadedFile]:
    """The attachments an example names, read from fixtures/evidence/attachments/."""
    return [
        SimpleUploadedFile(
            entry["name"],
            (EXAMPLES / "attachments" / entry["name"]).read_bytes(),
            content_type=entry["media_type"],
        )
        for entry in document.get("attachments", [])
    ]


def submit(
    client: APIClient,
    document: dict[str, Any],
    files: list[SimpleUploadedFile] | None = None,
    key: str | None = None,
    provenance: dict[str, Any] | None = None,
) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    if files is None:
        body: dict[str, Any] = {"document": document}
        if provenance is not None:
            body["provenance"] = provenance
        return client.post("/api/v1/evidence/", body, format="json", **headers)
    form: dict[str, Any] = {"document": json.dumps(document), "attachments": files}
    if provenance is not None:
        form["provenance"] = json.dumps(provenance)
    return client.post("/api/v1/evidence/", form, format="multipart", **headers)


def submit_example(client: APIClient, kind: str, **changes: Any) -> Any:
    document = example(kind)
    files = example_files(document)
    document.pop("attachments", None)  # the server fills them in from the files
    document.pop("supersedes", None)  # names an item of the example's own world
    document.update(changes)
    return submit(client, document, files or None)


@pytest.fixture
def demo_names(world: World) -> World:
    """The systems, model versions and datasets the published examples name."""
    actor = world.acme.actor
    for slug in ("credit-applications-2024", "credit-holdout-2025", "shelf-images"):
        inventory.dataset_create(actor=actor, slug=slug, name=slug)
    for slug, version in (("shelf-vision", "2.0"), ("support-assistant", "0.9")):
        system = inventory.system_create(actor=actor, slug=slug, name=slug)
        inventory.model_version_create(actor=actor, system=system, version=version)
    scoring = inventory_selectors.system_get(actor=actor, slug="credit-scoring")
    inventory.model_version_create(actor=actor, system=scoring, version="4.3.0")
    return world


@pytest.fixture
def engineer(demo_names: World, api_for: Any) -> APIClient:
    return api_for(Role.ENGINEER)


@pytest.fixture
def officer(demo_names: World, api_for: Any) -> APIClient:
    return api_for(Role.COMPLIANCE_OFFICER)


# --- every kind: accept, refuse, foreign --------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_engineer_submits_the_published_example_of_each_kind_and_reads_it_back(
    kind: str, engineer: APIClient
) -> None:
    response = submit_example(engineer, kind)

    assert response.status_code == 201, response.content[:800]
    [item] = response.json()["items"]
    assert item["kind"] == kind
    assert item["state"] == "current"
    assert item["document_sha256"] == evidence_services.canonical_hash(item["document"])
    detail = engineer.get(item["url"]).json()
    assert detail["document"] == item["document"]
    assert detail["provenance"]["submitter"] == {"type": "member", "label": "engineer"}
    published = example(kind)
    assert (
        detail["document"]["metrics" if kind != "document" else "document"]
        == published["metrics" if kind != "document" else "document"]
    )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_document_breaking_its_kinds_schema_is_refused_listing_every_problem(
    kind: str, engineer: APIClient
) -> None:
    document = example(kind)
    body = "document" if kind == "document" else "metrics"
    document[body]["not_in_the_schema"] = 1
    document["context"] = "rumour"
    files = example_files(document)
    document.pop("attachments", None)
    before, stored = db_snapshot(), attachment_files()

    response = submit(engineer, document, files or None)

    found = assert_envelope(response, 400, "evidence_invalid")
    pointers = {error["pointer"] for error in found["extra"]["errors"]}
    assert "/context" in pointers
    assert any(p in (f"/{body}", f"/{body}/not_in_the_schema") for p in pointers), pointers
    assert_nothing_written(before)
    assert attachment_files() == stored


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_evidence_about_another_organisations_system_answers_404_and_writes_nothing(
    kind: str, engineer: APIClient
) -> None:
    before, stored = db_snapshot(), attachment_files()

    response = submit_example(engineer, kind, system="turnstile", model_version=None)

    assert_envelope(response, 404, "not_found")
    assert "turnstile" in response.json()["message"]  # only what the caller sent
    assert_nothing_written(before)
    assert attachment_files() == stored


def test_auditor_may_not_submit_evidence(demo_names: World, api_for: Any) -> None:
    auditor = api_for(Role.AUDITOR)
    before = db_snapshot()
    response = submit_example(auditor, "performance")
    assert_envelope(response, 403, "permission_denied")
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("raw", "code", "pointer"),
    [
        (b'{"document": {"kind": "performance", "x": NaN}}', "malformed_request", None),
        (b'{"document": {"kind": "performance", "x": Infinity}}', "malformed_request", None),
        (
            b'{"document": {"kind": "performance", "system": "credit-scoring", '
            b'"context": "evaluation", "metrics": {"task": "t", "scores": {"accuracy": 1e400}}}}',
            "evidence_invalid",
            "/metrics/scores/accuracy",
        ),
    ],
    ids=["NaN", "Infinity", "a number too large for a float"],
)
def test_numbers_json_cannot_carry_are_refused(
    raw: bytes, code: str, pointer: str | None, engineer: APIClient
) -> None:
    before = db_snapshot()
    response = engineer.generic("POST", "/api/v1/evidence/", raw, content_type="application/json")
    found = assert_envelope(response, 400, code)
    if pointer is not None:
        assert pointer in {e["pointer"] for e in found["extra"]["errors"]}
    assert_nothing_written(before)


# --- integrity and idempotency -------------------------------------------------------------


def test_the_document_hash_is_sha256_of_rfc_8785_json_with_nfc_text(
    engineer: APIClient,
) -> None:
    import rfc8785

    document = performance_document("credit-scoring", "1.0")
    document["metrics"] = {"task": "cafe\u0301 review", "scores": {"accuracy": 1.0}}

    item = submit(engineer, document).json()["items"][0]

    stored = Evidence.objects.get(uid=item["id"]).document
    assert stored["metrics"]["task"] == "caf\u00e9 review"
    assert item["document_sha256"] == hashlib.sha256(rfc8785.dumps(stored)).hexdigest()


def test_same_idempotency_key_and_document_returns_the_original_item(engineer: APIClient) -> None:
    document = performance_document("credit-scoring", "1.0")
    first = submit(engineer, document, key="ci-run-17")
    again = submit(engineer, document, key="ci-run-17")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["items"][0]["id"] == first.json()["items"][0]["id"]
    assert Evidence.objects.filter(uid=first.json()["items"][0]["id"]).count() == 1


def test_a_ci_rerun_with_new_provenance_gets_its_original_item_back(engineer: APIClient) -> None:
    document = performance_document("credit-scoring", "1.0")
    first = submit(
        engineer, document, key="doc-abc", provenance={"ci_run_url": "https://ci.example/run/1"}
    )
    rerun = submit(
        engineer, document, key="doc-abc", provenance={"ci_run_url": "https://ci.example/run/2"}
    )

    assert rerun.status_code == 200
    item = rerun.json()["items"][0]
    assert item["id"] == first.json()["items"][0]["id"]
    assert item["provenance"]["ci_run_url"] == "https://ci.example/run/1"


def test_same_key_with_a_changed_document_is_a_conflict_and_writes_nothing(
    engineer: APIClient,
) -> None:
    document = performance_document("credit-scoring", "1.0")
    submit(engineer, document, key="k1")
    before = db_snapshot()
    document["metrics"] = {"task": "binary_classification", "scores": {"accuracy": 0.5}}

    response = submit(engineer, document, key="k1")

    assert_envelope(response, 409, "idempotency_conflict")
    assert_nothing_written(before)


def test_same_key_with_a_changed_attachment_is_a_conflict(engineer: APIClient) -> None:
    document = example("document")
    document.pop("attachments")
    first = SimpleUploadedFile("policy.md", b"# Policy v1\n", content_type="text/markdown")
    submit(engineer, document, [first], key="policy")
    before, stored = db_snapshot(), attachment_files()
    changed = SimpleUploadedFile("policy.md", b"# Policy v2\n", content_type="text/markdown")

    response = submit(engineer, document, [changed], key="policy")

    assert_envelope(response, 409, "idempotency_conflict")
    assert_nothing_written(before)
    assert attachment_files() == stored


def test_idempotency_keys_belong_to_one_organisation(world: World, api_for: Any) -> None:
    ours = submit(api_for(Role.ENGINEER), performance_document("credit-scoring", "1.0"), key="k")
    theirs = submit(
        api_for(Role.ENGINEER, world.globex), performance_document("turnstile", "7.3-beta"), key="k"
    )
    assert (ours.status_code, theirs.status_code) == (201, 201)


@pytest.mark.parametrize("key", ["", "x" * 201, "with space", "caf\u00e9"])
def test_a_malformed_idempotency_key_is_refused(key: str, engineer: APIClient) -> None:
    before = db_snapshot()
    response = engineer.post(
        "/api/v1/evidence/",
        {"document": performance_document("credit-scoring", "1.0")},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert_envelope(response, 400, "validation_error")
    assert_nothing_written(before)


# --- attachments ---------------------------------------------------------------------------


def policy_document() -> dict[str, Any]:
    document = example("document")
    document.pop("attachments")
    return document


def test_an_attachment_over_the_limit_is_refused_with_413(
    engineer: APIClient, settings: Any
) -> None:
    settings.RISKREG_ATTACHMENT_MAX_BYTES = 1000
    before, stored = db_snapshot(), attachment_files()
    big = SimpleUploadedFile("big.md", b"x" * 1001, content_type="text/markdown")

    response = submit(engineer, policy_document(), [big])

    assert_envelope(response, 413, "attachment_too_large")
    assert_nothing_written(before)
    assert attachment_files() == stored


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("report.pdf", b"<html>not a pdf</html>", "application/pdf"),
        ("chart.png", PDF, "image/png"),
        ("notes.txt", b"<!DOCTYPE html><script>alert(1)</script>", "text/plain"),
        ("notes.md", b"\xff\xfe\x00binary", "text/markdown"),
        ("setup.exe", b"MZ\x90\x00", "application/x-msdownload"),
        ("mystery", b"abc", "application/octet-stream"),
    ],
    ids=[
        "html as pdf",
        "pdf as png",
        "html as text",
        "binary as markdown",
        "executable",
        "no type",
    ],
)
def test_an_attachment_whose_type_or_content_does_not_fit_is_refused_with_415(
    name: str, content: bytes, content_type: str, engineer: APIClient
) -> None:
    before, stored = db_snapshot(), attachment_files()

    response = submit(
        engineer, policy_document(), [SimpleUploadedFile(name, content, content_type)]
    )

    assert_envelope(response, 415, "attachment_type_refused")
    assert_nothing_written(before)
    assert attachment_files() == stored


def test_a_served_attachment_is_a_download_with_its_exact_bytes(engineer: APIClient) -> None:
    upload = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    item = submit(engineer, policy_document(), [upload]).json()["items"][0]
    [attachment] = item["attachments"]

    response = engineer.get(attachment["url"])

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert body == PDF
    assert hashlib.sha256(body).hexdigest() == attachment["sha256"]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("page.html", b"<html><script>alert(document.cookie)</script></html>", "text/html"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>',
            "image/svg+xml",
        ),
    ],
)
def test_uploaded_html_or_svg_is_never_served_as_a_page(
    name: str, content: bytes, content_type: str, engineer: APIClient
) -> None:
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    item = submit(engineer, policy_document(), [upload]).json()["items"][0]

    response = engineer.get(item["attachments"][0]["url"])

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_same_bytes_are_stored_once_per_organisation(
    world: World, engineer: APIClient, api_for: Any
) -> None:
    text = b"# The same text, sent three times\n"
    for version in ("1", "2"):
        document = policy_document()
        document["document"]["version"] = version
        upload = SimpleUploadedFile("policy.md", text, content_type="text/markdown")
        assert submit(engineer, document, [upload]).status_code == 201
    upload = SimpleUploadedFile("policy.md", text, content_type="text/markdown")
    assert (
        submit(api_for(Role.ENGINEER, world.globex), policy_document(), [upload]).status_code == 201
    )

    digest = hashlib.sha256(text).hexdigest()
    stored = [f for f in attachment_files() if f.endswith(digest)]
    assert sorted(stored) == sorted(
        f"{org.pk}/{digest[:2]}/{digest}" for org in (world.acme.org, world.globex.org)
    )


def test_a_document_must_list_exactly_the_uploaded_files(engineer: APIClient) -> None:
    document = policy_document() | {
        "attachments": [
            {"name": "other.md", "sha256": "0" * 64, "size": 1, "media_type": "text/markdown"}
        ]
    }
    upload = SimpleUploadedFile("policy.md", b"# Policy\n", content_type="text/markdown")
    before = db_snapshot()
    found = assert_envelope(submit(engineer, document, [upload]), 400, "evidence_invalid")
    assert found["extra"]["errors"][0]["pointer"] == "/attachments"
    assert_nothing_written(before)


# --- what an item goes through --------------------------------------------------------------


def test_a_correction_supersedes_the_old_item_which_stays_readable(
    engineer: APIClient, officer: APIClient
) -> None:
    old = submit(engineer, performance_document("credit-scoring", "1.0")).json()["items"][0]
    correction = performance_document("credit-scoring", "1.0") | {"supersedes": old["id"]}

    new = submit(engineer, correction).json()["items"][0]

    assert new["supersedes"] == old["id"]
    old_now = engineer.get(old["url"]).json()
    assert (old_now["state"], old_now["superseded_by"]) == ("superseded", new["id"])
    assert old_now["document_sha256"] == old["document_sha256"]
    again = submit(engineer, correction | {"effective_date": "2026-11-02"})
    assert_envelope(again, 409, "evidence_not_current")


def test_superseding_needs_the_same_kind_and_system(engineer: APIClient) -> None:
    old = submit_example(engineer, "efficiency").json()["items"][0]
    found = assert_envelope(
        submit(engineer, performance_document("credit-scoring", "1.0") | {"supersedes": old["id"]}),
        400,
        "evidence_invalid",
    )
    assert found["extra"]["errors"][0]["pointer"] == "/supersedes"


def test_officer_withdraws_an_item_with_a_reason_and_it_cannot_be_withdrawn_twice(
    engineer: APIClient, officer: APIClient
) -> None:
    item = submit(engineer, performance_document("credit-scoring", "1.0")).json()["items"][0]
    url = item["url"] + "withdraw/"

    response = officer.post(url, {"reason": "Evaluated on the wrong split."}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "withdrawn"
    assert body["withdrawal"]["reason"] == "Evaluated on the wrong split."
    assert body["withdrawal"]["by"] == "officer"
    assert body["document_sha256"] == item["document_sha256"]
    before = db_snapshot()
    assert_envelope(
        officer.post(url, {"reason": "again"}, format="json"), 409, "evidence_not_current"
    )
    assert_nothing_written(before)
    superseding = performance_document("credit-scoring", "1.0") | {"supersedes": item["id"]}
    assert_envelope(submit(engineer, superseding), 409, "evidence_not_current")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_no_api_method_changes_or_deletes_evidence(method: str, world: World, api_for: Any) -> None:
    admin_client = api_for(Role.ADMIN)
    before = db_snapshot()
    for path in (
        f"/api/v1/evidence/{world.own['evidence']}/",
        f"/api/v1/evidence/{world.own['evidence']}/attachments/{world.own['attachment']}/",
        "/api/v1/evidence/",
    ):
        response = admin_client.generic(method, path, b"{}", content_type="application/json")
        assert_envelope(response, 405, "method_not_allowed")
    assert_nothing_written(before)


def test_the_database_refuses_to_update_or_delete_evidence(world: World) -> None:
    item = Evidence.objects.filter(organization=world.acme.org).first()
    assert item is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        Evidence.objects.filter(pk=item.pk).update(document_sha256="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        Evidence.objects.filter(pk=item.pk).delete()
    withdrawal = evidence_services.evidence_withdraw(
        actor=world.acme.actor, evidence=item, reason="test"
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Withdrawal.objects.filter(pk=withdrawal.pk).update(reason="changed")


def test_services_and_admin_offer_no_way_to_change_evidence() -> None:
    writes = [n for n in dir(evidence_services) if n.startswith("evidence_")]
    assert sorted(writes) == [
        "evidence_import",
        "evidence_record_computed",
        "evidence_submit",
        "evidence_withdraw",
    ]
    request = RequestFactory().get("/admin/")
    request.user = type(
        "Superuser",
        (),
        {"is_active": True, "is_staff": True, "is_superuser": True, "has_perm": lambda *a: True},
    )()
    for model in (Evidence, Withdrawal):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


# --- reading ------------------------------------------------------------------------------


def test_list_filters_by_system_kind_context_state_and_dates(engineer: APIClient) -> None:
    for kind in KINDS:
        submit_example(engineer, kind)
    monitoring = performance_document("credit-scoring", "1.0") | {
        "context": "monitoring",
        "effective_date": "2026-06-01",
        "expiry_date": "2026-07-01",
    }
    expired = submit(engineer, monitoring).json()["items"][0]

    def ids(query: str) -> set[str]:
        response = engineer.get(f"/api/v1/evidence/?{query}&page_size=500")
        assert response.status_code == 200, response.content
        return {i["id"] for i in response.json()["results"]}

    assert expired["id"] in ids("context=monitoring")
    assert ids("state=expired") == {expired["id"]}
    assert expired["id"] not in ids("state=current")
    assert ids("kind=robustness") == ids("system=shelf-vision&kind=robustness")
    assert len(ids("kind=fairness")) == 1
    assert expired["id"] in ids("effective_to=2026-06-30")
    assert expired["id"] not in ids("effective_from=2026-06-02")
    assert ids("system=credit-scoring&model_version=4.3.0") != set()


def test_cursor_pages_walk_every_item_once(engineer: APIClient) -> None:
    for n in range(5):
        document = performance_document("credit-scoring", "1.0") | {
            "effective_date": f"2026-10-0{n + 1}"
        }
        submit(engineer, document)
    seen: list[str] = []
    url: str | None = "/api/v1/evidence/?page_size=2"
    while url:
        page = engineer.get(url).json()
        seen += [item["id"] for item in page["results"]]
        url = page["next"]
    everything = engineer.get("/api/v1/evidence/?page_size=500").json()["results"]
    assert seen == [item["id"] for item in everything]
    assert len(seen) == len(set(seen)) >= 5


@pytest.mark.parametrize(
    "query",
    ["cursor=not%20base64%21", "effective_from=yesterday", "kind=opinion", "state=lost"],
)
def test_a_bad_list_query_is_a_4xx(query: str, engineer: APIClient) -> None:
    response = engineer.get(f"/api/v1/evidence/?{query}")
    assert response.status_code in (400, 404), response.content


def test_list_for_an_unknown_system_answers_404(engineer: APIClient) -> None:
    assert_envelope(engineer.get("/api/v1/evidence/?system=turnstile"), 404, "not_found")


def test_schemas_are_published_with_the_path_syntax(engineer: APIClient) -> None:
    index = engineer.get("/api/v1/evidence/schemas/").json()
    assert sorted(k["kind"] for k in index["kinds"]) == sorted(ALL_KINDS)
    assert "*" in json.dumps(index["path_syntax"])
    for entry in index["kinds"]:
        schema = engineer.get(entry["url"]).json()
        assert schema["$id"].endswith(f"{entry['kind']}:{entry['version']}")
    assert_envelope(
        engineer.get("/api/v1/evidence/schemas/fairness/?version=0.1"), 404, "not_found"
    )


# --- service accounts limited to some systems --------------------------------------------


@pytest.fixture
def pipeline(world: World) -> APIClient:
    """The acme CI account, limited to credit-scoring."""
    account = ServiceAccount.objects.get(organization=world.acme.org, slug="pipeline")
    _, key = orgs.token_create(actor=world.acme.actor, name="ci", service_account=account)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_limited_account_sees_its_systems_and_organisation_documents_only(
    world: World, pipeline: APIClient
) -> None:
    other = inventory.system_create(actor=world.acme.actor, slug="chatbot", name="Chatbot")
    inventory.model_version_create(actor=world.acme.actor, system=other, version="1")
    evidence_services.evidence_submit(
        actor=world.acme.actor,
        document=performance_document("chatbot", "1"),
        provenance=evidence_services.Provenance(),
    )

    items = pipeline.get("/api/v1/evidence/?page_size=500").json()["results"]

    assert {i["system"] for i in items} == {"credit-scoring", None}
    response = submit(pipeline, performance_document("chatbot", "1"))
    assert_envelope(response, 404, "not_found")


def test_limited_account_may_not_submit_organisation_wide_documents(
    world: World, pipeline: APIClient
) -> None:
    upload = SimpleUploadedFile("policy.md", b"# Policy\n", content_type="text/markdown")
    before = db_snapshot()
    assert_envelope(submit(pipeline, policy_document(), [upload]), 403, "permission_denied")
    assert_nothing_written(before)


# --- imports ------------------------------------------------------------------------------

IMPORTS = Path(settings.BASE_DIR) / "fixtures" / "importers"


@pytest.mark.parametrize(
    ("format", "fixture"),
    [
        ("fairlearn-metricframe", "fairlearn-intersection.json"),
        ("lm-eval-harness", "lm-eval-results.json"),
        ("mlflow-run", "mlflow-run.json"),
        ("hf-model-index", "hf-model-card.md"),
    ],
)
def test_an_import_creates_every_item_it_yields_and_lists_them(
    format: str, fixture: str, engineer: APIClient
) -> None:
    text = (IMPORTS / fixture).read_text()
    payload = text if fixture.endswith(".md") else json.loads(text)
    body = {
        "format": format,
        "payload": payload,
        "envelope": {"system": "credit-scoring", "model_version": "4.3.0", "context": "evaluation"},
        "provenance": {"ci_run_url": "https://ci.example/run/5"},
    }

    response = engineer.post("/api/v1/evidence/", body, format="json", HTTP_IDEMPOTENCY_KEY=format)
    again = engineer.post("/api/v1/evidence/", body, format="json", HTTP_IDEMPOTENCY_KEY=format)

    assert response.status_code == 201, response.content[:800]
    items = response.json()["items"]
    assert items
    assert {i["kind"] for i in items} <= {"fairness", "performance"}
    assert all(i["provenance"]["tool_name"] for i in items)
    assert again.status_code == 200
    assert [i["id"] for i in again.json()["items"]] == [i["id"] for i in items]


def test_an_import_as_a_multipart_upload_of_the_tools_file(engineer: APIClient) -> None:
    upload = SimpleUploadedFile(
        "README.md", (IMPORTS / "hf-model-card.md").read_bytes(), content_type="text/markdown"
    )
    form = {
        "format": "hf-model-index",
        "payload": upload,
        "envelope": json.dumps({"system": "credit-scoring", "context": "evaluation"}),
    }
    response = engineer.post("/api/v1/evidence/", form, format="multipart")
    assert response.status_code == 201, response.content[:800]
    assert all(i["kind"] == "performance" for i in response.json()["items"])


def test_a_form_part_that_is_not_json_is_refused(engineer: APIClient) -> None:
    before = db_snapshot()
    response = engineer.post("/api/v1/evidence/", {"document": "{nope"}, format="multipart")
    assert_envelope(response, 400, "malformed_request")
    assert_nothing_written(before)


def test_a_dataset_named_anywhere_in_the_document_must_exist(engineer: APIClient) -> None:
    document = example("data_quality")
    document["metrics"]["drift"][0]["reference"]["slug"] = "passport-photos"  # globex's
    before = db_snapshot()

    found = assert_envelope(submit(engineer, document), 400, "foreign_reference")

    assert list(found["extra"]["fields"]) == ["/metrics/drift/0/reference/slug"]
    assert_nothing_written(before)


def test_a_model_version_of_another_system_of_ours_is_refused(engineer: APIClient) -> None:
    before = db_snapshot()
    document = performance_document("credit-scoring", "2.0")  # shelf-vision's version

    found = assert_envelope(submit(engineer, document), 400, "evidence_invalid")

    assert found["extra"]["errors"][0]["pointer"] == "/model_version"
    assert_nothing_written(before)


APPEND_ONLY = [
    "audit_auditevent",
    "evaluations_submission",
    "evaluations_blob",
    "evaluations_evidence",
    "evaluations_evidence_datasets",
    "evaluations_evidenceattachment",
    "evaluations_withdrawal",
    "evaluations_incidenttimelineentry",
    "risks_riskmatrix",
    "risks_riskscore",
    "risks_riskreview",
    "risks_riskcomment",
]


@pytest.mark.django_db
def test_every_append_only_table_keeps_its_triggers_after_all_migrations() -> None:
    """A later migration that rebuilt a table (SQLite does for some changes) would drop them."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT trigger_name FROM information_schema.triggers "
                "WHERE trigger_schema = 'public'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {row[0] for row in cursor.fetchall()}
    expected = "_no_change" if connection.vendor == "postgresql" else "_no_update"
    assert [t for t in APPEND_ONLY if f"{t}{expected}" not in triggers] == []
