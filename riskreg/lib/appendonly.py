"""Append-only tables: the database itself refuses UPDATE, DELETE and TRUNCATE.

Triggers rather than application checks, so that no code path (admin, shell, a bug)
can rewrite what was recorded. Only a table's owner can disable them, and the service
runs as a role that owns nothing (see riskreg/ops/dbroles.py).
"""

from typing import Any

from django.db import migrations


def _postgres_up(table: str) -> list[str]:
    return [
        f"""
CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse();
"""
    ]


def _postgres_down(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_refuse()",
    ]


# SQLite has no TRUNCATE: "DELETE FROM t" without WHERE is it, and the DELETE trigger fires.
def _sqlite_up(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
    ]


def _sqlite_down(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update",
        f"DROP TRIGGER IF EXISTS {table}_no_delete",
    ]


def append_only(*tables: str) -> migrations.RunPython:
    """A migration operation that makes the given tables append-only."""

    def run(schema_editor: Any, make: dict[str, Any]) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in make:
            raise RuntimeError(f"append-only triggers are not written for {vendor}")
        for table in tables:
            for statement in make[vendor](table):
                schema_editor.execute(statement, params=None)

    def up(apps: Any, schema_editor: Any) -> None:
        run(schema_editor, {"postgresql": _postgres_up, "sqlite": _sqlite_up})

    def down(apps: Any, schema_editor: Any) -> None:
        run(schema_editor, {"postgresql": _postgres_down, "sqlite": _sqlite_down})

    return migrations.RunPython(up, down)
