"""The database itself refuses UPDATE, DELETE and TRUNCATE on the audit trail.

Triggers rather than application checks, so that no code path (admin, shell, a bug)
can rewrite history. Only the table owner can disable them, and the service runs as
a role that owns nothing (see riskreg/ops/dbroles.py).
"""

from django.db import migrations

TABLE = "audit_auditevent"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION {TABLE}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse();
CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE};
DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS {TABLE}_refuse();
"""
# SQLite has no TRUNCATE: "DELETE FROM t" without WHERE is it, and the DELETE trigger fires.
SQLITE_UP = [
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END",
    f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete"]


def _run(schema_editor, statements) -> None:  # type: ignore[no-untyped-def]
    for sql in statements:
        schema_editor.execute(sql, params=None)


def up(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [POSTGRES_UP])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_UP)
    else:
        raise RuntimeError(f"audit triggers are not written for {vendor}")


def down(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    _run(schema_editor, [POSTGRES_DOWN] if vendor == "postgresql" else SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]
    operations = [migrations.RunPython(up, down)]
