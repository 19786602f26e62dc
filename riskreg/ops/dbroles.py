"""Grants for the PostgreSQL runtime role, applied after every `migrate`.

Migrations run as the owner role; the service connects as DATABASE_RUNTIME_ROLE,
which owns no table, so it cannot drop triggers, alter tables or disable the audit
trail's protection. It gets row access on every table, except that the audit
trail is append-only for it: SELECT and INSERT.
"""

from typing import Any

from django.conf import settings
from django.db import connections
from psycopg import sql

AUDIT_TABLE = "audit_auditevent"


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
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
            sql.Identifier(AUDIT_TABLE), ident
        ),
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))
