"""Database privileges: the application may only INSERT and SELECT audit rows.

A trigger could be switched off by any session that owns the table; a
privilege can only be changed by the owner or a superuser. So:

- ``DATABASE_APP_ROLE`` (default ``contactpoint_app``) is a NOLOGIN group
  role. Production runs web and workers as a login role that is a member of
  it (``GRANT contactpoint_app TO contactpoint_web``), and runs migrations as
  the owner of the tables (docs/operations.md).
- After every ``migrate`` (post_migrate) the group role is granted what the
  application needs on every table and sequence, then UPDATE, DELETE and
  TRUNCATE on the audit events (every partition too) and checkpoints are
  taken away from it, from PUBLIC, and from the owner itself — so even an
  application that connects as the owner cannot rewrite history without
  first granting itself the right, which the hash chain would still reveal.

A superuser is above privileges; the hash chain and the signed checkpoints
outside the database are what make their changes detectable.
"""

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from audit.partitions import PARENT, partitions_list

APPEND_ONLY_TABLES = ("audit_auditcheckpoint",)


def append_only_tables(connection: BaseDatabaseWrapper) -> list[str]:
    return [PARENT, *partitions_list(connection), *APPEND_ONLY_TABLES]


def _role_ensure(cursor: CursorWrapper, role: str, quoted: str) -> bool:
    """Create the NOLOGIN group role if this session may; True if it exists."""
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    if cursor.fetchone():
        return True
    cursor.execute(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
    )
    if not cursor.fetchone()[0]:
        return False
    # Roles are cluster-wide: parallel test databases may race to create it.
    cursor.execute(
        f"DO $$ BEGIN CREATE ROLE {quoted} NOLOGIN; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    return True


def privileges_apply(connection: BaseDatabaseWrapper) -> None:
    role = connection.ops.quote_name(settings.DATABASE_APP_ROLE)
    tables = ", ".join(
        connection.ops.quote_name(name) for name in append_only_tables(connection)
    )
    with connection.cursor() as cursor:
        if _role_ensure(cursor, settings.DATABASE_APP_ROLE, role):
            cursor.execute("SELECT current_schema()")
            schema = connection.ops.quote_name(cursor.fetchone()[0])
            cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            cursor.execute(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES "
                f"IN SCHEMA {schema} TO {role}"
            )
            cursor.execute(
                f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} "
                f"TO {role}"
            )
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM {role}")
        cursor.execute(
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM PUBLIC, CURRENT_USER"
        )
