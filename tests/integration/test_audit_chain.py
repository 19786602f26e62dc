"""The audit chain: tampering caught by verify_audit, refusals by the database, concurrent
writers on one unforked chain, and an export that verifies with body_hash alone.

Tampering needs what the service never has: on PostgreSQL the owner role, which may
disable the table's triggers; on SQLite dropping the triggers. Tampered chains are
put back exactly at teardown, so later checks of every chain still pass.
"""

import importlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import dj_database_url
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from riskreg.audit.chain import body_hash, event_body, timestamp
from riskreg.audit.models import GENESIS, AuditEvent
from riskreg.audit.services import audit_verify
from riskreg.inventory.models import Dataset
from riskreg.inventory.services import dataset_create
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization
from riskreg.organisations.roles import Role
from riskreg.organisations.services import organization_create
from tests.conftest import Tenant
from tests.integration import support

pytestmark = pytest.mark.integration

TABLE = AuditEvent._meta.db_table
TRIGGERS = importlib.import_module("riskreg.audit.migrations.0003_append_only")
CHAIN_LENGTH = 5
WRITERS, EVENTS_EACH = 8, 50
WRITERS_SECONDS = 120


def _owner_connect() -> Any:
    """A connection to the test database as the owner role (from DATABASE_URL)."""
    import psycopg

    owner = dj_database_url.parse(os.environ["DATABASE_URL"])
    return psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        host=owner["HOST"] or None,
        port=owner["PORT"] or None,
    )


@contextmanager
def triggers_off() -> Iterator[Any]:
    """A cursor that may UPDATE and DELETE audit events; triggers return in the same transaction."""
    if connection.vendor == "postgresql":
        with _owner_connect() as conn, conn.cursor() as cursor:
            cursor.execute("SET lock_timeout = '10s'")  # never hang on a lock held elsewhere
            # Deferred foreign-key checks left pending would forbid re-enabling the triggers.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
            yield cursor
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in TRIGGERS.SQLITE_DOWN:
                cursor.execute(statement)
            yield cursor
            for statement in TRIGGERS.SQLITE_UP:
                cursor.execute(statement)


def _json(value: Any) -> Any:
    """A parameter for the JSON `changes` column on a tampering cursor."""
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    return json.dumps(value)


def verify(slug: str, expect_head: str | None = None) -> tuple[bool, str]:
    """Run `manage.py verify_audit` for one organisation: (passed, its output)."""
    args = ["--organisation", slug]
    if expect_head:
        args += ["--expect-head", expect_head]
    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as exc:
        return False, f"{out.getvalue()}{exc}"
    return True, out.getvalue()


def _events(org: Organization) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(organization=org).order_by("seq"))


@pytest.fixture
def chain(committed_db: None) -> Iterator[Organization]:
    """A committed organisation whose chain has five events; put back exactly afterwards."""
    org = organization_create(name="Chain", slug=f"chain-{uuid.uuid4().hex[:12]}")
    for i in range(CHAIN_LENGTH - 1):
        dataset_create(actor=Actor.system(org.pk), slug=f"d{i}", name=f"Dataset {i}")
    snapshot = list(AuditEvent.objects.filter(organization=org).order_by("seq").values())
    assert len(snapshot) == CHAIN_LENGTH
    yield org
    with triggers_off() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE organization_id = %s", [org.pk])
    AuditEvent.objects.bulk_create(AuditEvent(**row) for row in snapshot)  # INSERT needs no bypass
    restored, output = verify(org.slug, expect_head=snapshot[-1]["hash"])
    assert restored, output


def test_intact_chain_passes_with_and_without_its_expected_head(chain: Organization) -> None:
    ok, output = verify(chain.slug)
    assert ok, output
    assert f"{chain.slug}: ok, {CHAIN_LENGTH} events" in output
    ok, output = verify(chain.slug, expect_head=_events(chain)[-1].hash)
    assert ok, output


@pytest.mark.parametrize(
    ("column", "value"),
    [
        pytest.param("action", "risk.delete", id="action"),
        pytest.param("changes", {"name": {"before": None, "after": "forged"}}, id="changes"),
    ],
)
def test_verify_audit_catches_an_edited_event(chain: Organization, column: str, value: Any) -> None:
    target = _events(chain)[2]
    param = _json(value) if column == "changes" else value
    with triggers_off() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [param, target.pk])
    assert getattr(AuditEvent.objects.get(pk=target.pk), column) == value

    ok, output = verify(chain.slug)
    assert not ok
    assert "event #3: content does not match its hash" in output
    assert "1 audit chain(s) failed verification" in output


def test_verify_audit_catches_a_deleted_event(chain: Organization) -> None:
    with triggers_off() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE organization_id = %s AND seq = 3", [chain.pk])

    ok, output = verify(chain.slug)
    assert not ok
    assert "event #4: expected #3 (gap or insert)" in output
    assert "event #4: previous hash does not match the chain" in output


def test_verify_audit_catches_an_event_inserted_into_the_chain(chain: Organization) -> None:
    third = _events(chain)[2]
    forged_at = third.created_at + timedelta(milliseconds=1)
    forged = {
        "seq": 4,
        "action": "dataset.delete",
        "object_type": "dataset",
        "object_id": "0",
        "changes": {},
        "prev_hash": third.hash,
    }
    actor = {"type": "system", "id": None, "label": "riskreg"}
    body = event_body(
        organization=chain.slug, actor=actor, created_at=timestamp(forged_at), **forged
    )
    forged_hash = body_hash(body)
    # A careful forger: make room after #3 and point the old #4 at the forged event.
    with triggers_off() as cursor:
        where = f"UPDATE {TABLE} SET {{}} WHERE organization_id = %s AND {{}}"
        cursor.execute(where.format("seq = seq + 1000000", "seq > 3"), [chain.pk])
        cursor.execute(where.format("seq = seq - 999999", "seq > 1000000"), [chain.pk])
        cursor.execute(where.format("prev_hash = %s", "seq = 5"), [forged_hash, chain.pk])
    AuditEvent.objects.create(
        organization=chain,
        actor_type="system",
        actor_id=None,
        actor_label="riskreg",
        created_at=forged_at,
        hash=forged_hash,
        **forged,
    )

    ok, output = verify(chain.slug)
    assert not ok
    assert "- event #4:" not in output  # the forged event itself is consistent
    assert "event #5: content does not match its hash" in output


def test_truncated_tail_passes_alone_and_fails_against_the_expected_head(
    chain: Organization,
) -> None:
    head = _events(chain)[-1].hash
    with triggers_off() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE organization_id = %s AND seq > 3", [chain.pk])

    ok, output = verify(chain.slug)
    assert ok, "a cut chain is still a valid chain: " + output
    assert f"{chain.slug}: ok, 3 events" in output
    ok, output = verify(chain.slug, expect_head=head)
    assert not ok
    assert f"expected {head} (truncated or extended)" in output


def test_owner_role_is_refused_by_the_triggers_until_it_disables_them(chain: Organization) -> None:
    support.require_postgresql()
    import psycopg

    first = _events(chain)[0]
    for statement in (
        f"UPDATE {TABLE} SET action = 'forged' WHERE id = {first.pk}",
        f"DELETE FROM {TABLE} WHERE id = {first.pk}",
        f"TRUNCATE {TABLE}",
    ):
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
            _owner_connect() as conn,
        ):
            conn.execute(statement)


def _require_runtime_role() -> None:
    role = settings.DATABASE_RUNTIME_ROLE
    if not role:
        support.unavailable("DATABASE_RUNTIME_ROLE is not set: the tests connect as the owner")
    assert connection.settings_dict["USER"] == role


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(f"UPDATE {TABLE} SET action = 'forged'", id="update"),
        pytest.param(f"DELETE FROM {TABLE}", id="delete"),
        pytest.param(f"TRUNCATE {TABLE}", id="truncate"),
        pytest.param(f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL", id="disable-triggers"),
        pytest.param(f"DROP TRIGGER {TABLE}_no_change ON {TABLE}", id="drop-trigger"),
        pytest.param("SET session_replication_role = replica", id="replication-role"),
    ],
)
def test_runtime_role_can_neither_rewrite_nor_unprotect_the_audit_trail(
    acme: Tenant, statement: str
) -> None:
    support.require_postgresql()
    _require_runtime_role()
    assert AuditEvent.objects.exists()
    with (
        pytest.raises(DatabaseError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert refused.value.__cause__.sqlstate == "42501", refused.value  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(lambda: AuditEvent.objects.update(action="forged"), id="orm-update"),
        pytest.param(lambda: AuditEvent.objects.all().delete(), id="orm-delete"),
        pytest.param(f"UPDATE {TABLE} SET action = 'forged'", id="update"),
        pytest.param(f"DELETE FROM {TABLE} WHERE id IN (SELECT MIN(id) FROM {TABLE})", id="delete"),
        pytest.param(f"DELETE FROM {TABLE}", id="delete-all"),  # SQLite's TRUNCATE
    ],
)
def test_service_connection_cannot_update_or_delete_audit_events(
    acme: Tenant, attempt: str | Callable[[], object]
) -> None:
    before = list(AuditEvent.objects.order_by("pk").values_list("pk", "action"))
    assert before
    with pytest.raises(DatabaseError) as refused, transaction.atomic():  # noqa: PT012
        if callable(attempt):
            attempt()
        else:
            with connection.cursor() as cursor:
                cursor.execute(attempt)
    if connection.vendor == "sqlite":
        assert "append-only" in str(refused.value)
    else:
        assert refused.value.__cause__.sqlstate == "42501"  # type: ignore[union-attr]
    assert list(AuditEvent.objects.order_by("pk").values_list("pk", "action")) == before


def test_eight_processes_appending_at_once_keep_one_unforked_chain(
    committed_db: None, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    org = organization_create(name="Concurrent", slug=f"conc-{uuid.uuid4().hex[:12]}")
    before = AuditEvent.objects.filter(organization=org).count()
    go, env = tmp_path / "go", support.child_env(tmp_path)
    writers = []
    for i in range(WRITERS):
        log, ready = tmp_path / f"writer-{i}.log", tmp_path / f"ready-{i}"
        args = [str(org.pk), str(EVENTS_EACH), str(ready), str(go)]
        proc = support.spawn(
            [support.PYTHON, "-m", "tests.integration.append_events", *args], env=env, log=log
        )
        processes.append(proc)
        writers.append((proc, log, ready))

    def all_ready() -> bool:
        for proc, log, _ in writers:
            if proc.poll() is not None:
                pytest.fail(f"writer exited early with {proc.returncode}\n{support.tail(log)}")
        return all(ready.exists() for _, _, ready in writers)

    support.wait_for("writers ready", all_ready, timeout=60)
    go.touch()
    deadline = time.monotonic() + WRITERS_SECONDS
    for proc, log, _ in writers:
        try:
            returncode = proc.wait(max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"writer still running after {WRITERS_SECONDS} s\n{support.tail(log)}")
        assert returncode == 0, support.tail(log)

    seqs = list(
        AuditEvent.objects.filter(organization=org).order_by("seq").values_list("seq", flat=True)
    )
    assert len(seqs) == before + WRITERS * EVENTS_EACH
    assert seqs == list(range(1, len(seqs) + 1))
    assert Dataset.objects.filter(organization=org).count() == WRITERS * EVENTS_EACH
    report = audit_verify(organization=org)
    assert report.ok, report.problems
    assert report.events == len(seqs)


def test_exported_lines_verify_with_body_hash_alone(
    acme: Tenant, api_for: Callable[..., APIClient]
) -> None:
    dataset_create(actor=acme.actor, slug="export", name="Données ✓", intended_use="naïve ß")
    auditor = api_for(Role.AUDITOR)

    response = auditor.get("/api/v1/audit/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jsonl"
    text = b"".join(response.streaming_content).decode()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) >= 2

    prev = GENESIS
    for number, line in enumerate(lines, start=1):
        claimed = line.pop("hash")
        assert (line["organization"], line["seq"], line["prev_hash"]) == ("acme", number, prev)
        assert body_hash(line) == claimed
        prev = claimed
    head = auditor.get("/api/v1/audit/head/").json()
    assert (head["seq"], head["hash"]) == (len(lines), prev)
    # The check has teeth: one edited field no longer matches its hash.
    lines[-1]["action"] = "forged"
    assert body_hash(lines[-1]) != prev
