"""Database-level refusal to edit the audit chain.

Application code never updates or deletes audit events, but "never" should not depend on
every future line of Python: the database itself refuses UPDATE and DELETE of
``core_auditevent`` (and TRUNCATE on PostgreSQL) with triggers installed by migration
``core.0002``.

The only way past them is privileged and test-only:
* PostgreSQL: ``SET session_replication_role = replica`` (superuser only) silences ordinary
  triggers for that session. Run the application as a non-superuser role in production.
* SQLite: the triggers consult ``core_audit_guard_bypassed()``, a function this module
  registers on every Django connection; it answers from ``_bypass``, which only the test
  suite's fixtures change. A connection that lacks the function (the sqlite3 shell) gets
  "no such function" on UPDATE or DELETE, which is a refusal too.

Careful: on SQLite, a migration that rebuilds the ``core_auditevent`` table (most field
changes do) drops its triggers; such a migration must call ``install`` again.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

TABLE = "core_auditevent"
_bypass = False

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_refuse_update BEFORE UPDATE ON {TABLE}
        WHEN NOT core_audit_guard_bypassed()
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_refuse_delete BEFORE DELETE ON {TABLE}
        WHEN NOT core_audit_guard_bypassed()
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
]
_SQLITE_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {TABLE}_refuse_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_refuse_delete",
]
_POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION core_auditevent_refuse() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    f"""CREATE TRIGGER {TABLE}_refuse_change BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse()""",
    f"""CREATE TRIGGER {TABLE}_refuse_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse()""",
]
_POSTGRES_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {TABLE}_refuse_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_refuse_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS core_auditevent_refuse()",
]


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_UNINSTALL
    if vendor == "postgresql":
        return _POSTGRES_INSTALL if install else _POSTGRES_UNINSTALL
    raise NotImplementedError(f"no audit guard for {vendor}")


def install(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in _statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(statement, params=None)


def uninstall(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(statement, params=None)


def _bypassed() -> int:
    return 1 if _bypass else 0


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: give each SQLite connection the guard's function."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("core_audit_guard_bypassed", 0, _bypassed)
