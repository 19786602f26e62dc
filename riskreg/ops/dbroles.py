"""Grants for the PostgreSQL runtime role, applied after every `migrate`.

Migrations run as the owner role; the service connects as DATABASE_RUNTIME_ROLE,
which owns no table, so it cannot drop triggers, alter tables or disable the
protection of append-only tables. It gets row access on every table, except that the
append-only ones (the audit trail, evidence; see riskreg/lib/appendonly.py) get only
SELECT and INSERT: the triggers say no, and so do the privileges.
"""

from typing import Any

from django.conf import settings
from django.db import connections
from psycopg import sql

# Every table that riskreg.lib.appendonly protected carries a "<table>_no_change" trigger.
APPEND_ONLY_TABLES = """
SELECT DISTINCT event_object_table FROM information_schema.triggers
WHERE trigger_schema = 'public' AND trigger_name = event_object_table || '_no_change'
"""


def grant_runtime_role(using: str = "default", **kwargs: Any) -> None:
    role = settings.DATABASE_RUNTIME_ROLE
    connection = connections[using]
    if not role or connection.vendor != "postgresql":
        return
    ident = sql.Identifier(role)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            ident
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident),
    ]
    with connection.cursor() as cursor:
        cursor.execute(APPEND_ONLY_TABLES)
        for (table,) in cursor.fetchall():
            statements.append(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(table), ident
                )
            )
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))
