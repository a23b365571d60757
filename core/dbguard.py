"""Database-level refusals: rows the application must never change, enforced by triggers.

Application code never updates or deletes audit events, signatures or published policy
content, but "never" should not depend on every future line of Python. A ``Guard`` names a
table and, per operation, the SQL condition under which the database refuses it; migrations
install guards with ``install_guard`` (``RunPython(install_guard(GUARD), uninstall_guard(GUARD))``).
Conditions may use ``OLD.`` and ``NEW.`` and must be valid on both SQLite and PostgreSQL.

The only way past a guard is privileged and test-only:
* PostgreSQL: ``SET session_replication_role = replica`` (superuser only) silences ordinary
  triggers for that session. Run the application as a non-superuser role in production.
* SQLite: the triggers consult ``core_guard_bypassed()``, a function this module registers
  on every Django connection; it answers from ``_bypass``, which only the test suite's
  fixtures change. A connection that lacks the function (the sqlite3 shell) gets "no such
  function", which is a refusal too.

Careful: on SQLite, a migration that rebuilds a guarded table (most field changes do) drops
its triggers; such a migration must install the guard again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

_bypass = False
ALWAYS = "1 = 1"


@dataclass(frozen=True)
class Guard:
    name: str  # unique; prefixes the trigger and function names
    table: str
    message: str  # letters, digits, spaces and simple punctuation (no quotes)
    insert_when: str | None = None
    update_when: str | None = None
    delete_when: str | None = None
    refuse_truncate: bool = False

    def conditions(self) -> dict[str, str]:
        pairs = {"INSERT": self.insert_when, "UPDATE": self.update_when, "DELETE": self.delete_when}
        return {op: condition for op, condition in pairs.items() if condition is not None}


def append_only(name: str, table: str, message: str) -> Guard:
    return Guard(name, table, message, update_when=ALWAYS, delete_when=ALWAYS, refuse_truncate=True)


def _sqlite_install(guard: Guard) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {guard.name}_{op.lower()} BEFORE {op} ON {guard.table}
            WHEN NOT core_guard_bypassed() AND ({condition})
            BEGIN SELECT RAISE(ABORT, '{guard.message}: {op} refused'); END"""
        for op, condition in guard.conditions().items()
    ]


def _sqlite_uninstall(guard: Guard) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {guard.name}_{op.lower()}" for op in guard.conditions()]


def _postgres_install(guard: Guard) -> list[str]:
    checks = "\n".join(
        f"""  IF TG_OP = '{op}' THEN
    IF ({condition}) THEN
      RAISE EXCEPTION USING MESSAGE = '{guard.message}: ' || TG_OP || ' refused',
                            ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;"""
        for op, condition in guard.conditions().items()
    )
    ops = " OR ".join(guard.conditions())
    statements = [
        f"""CREATE OR REPLACE FUNCTION {guard.name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{checks}
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$""",
        # OR REPLACE (PostgreSQL 14+): installing a guard again after a migration is harmless.
        f"""CREATE OR REPLACE TRIGGER {guard.name} BEFORE {ops} ON {guard.table}
            FOR EACH ROW EXECUTE FUNCTION {guard.name}()""",
    ]
    if guard.refuse_truncate:
        statements += [
            f"""CREATE OR REPLACE FUNCTION {guard.name}_truncate() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                  RAISE EXCEPTION USING MESSAGE = '{guard.message}: TRUNCATE refused',
                                        ERRCODE = 'insufficient_privilege';
                END $$""",
            f"""CREATE OR REPLACE TRIGGER {guard.name}_truncate BEFORE TRUNCATE ON {guard.table}
                FOR EACH STATEMENT EXECUTE FUNCTION {guard.name}_truncate()""",
        ]
    return statements


def _postgres_uninstall(guard: Guard) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {guard.name} ON {guard.table}",
        f"DROP TRIGGER IF EXISTS {guard.name}_truncate ON {guard.table}",
        f"DROP FUNCTION IF EXISTS {guard.name}()",
        f"DROP FUNCTION IF EXISTS {guard.name}_truncate()",
    ]


def statements(vendor: str, guard: Guard, *, install: bool) -> list[str]:
    if vendor == "sqlite":
        return _sqlite_install(guard) if install else _sqlite_uninstall(guard)
    if vendor == "postgresql":
        return _postgres_install(guard) if install else _postgres_uninstall(guard)
    raise NotImplementedError(f"no database guard for {vendor}")


Migrator = Callable[[Any, BaseDatabaseSchemaEditor], None]


def install_guard(*guards: Guard) -> Migrator:
    def install(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for guard in guards:
            for statement in statements(schema_editor.connection.vendor, guard, install=True):
                # params=None: the PL/pgSQL bodies contain '%', which is not a placeholder.
                schema_editor.execute(statement, params=None)

    return install


def uninstall_guard(*guards: Guard) -> Migrator:
    def uninstall(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for guard in guards:
            for statement in statements(schema_editor.connection.vendor, guard, install=False):
                schema_editor.execute(statement, params=None)

    return uninstall


def unchanged(vendor: str, columns: list[str]) -> str:
    """SQL: every column is the same in OLD and NEW (NULL equal to NULL)."""
    same = "IS" if vendor == "sqlite" else "IS NOT DISTINCT FROM"
    return " AND ".join(f"OLD.{column} {same} NEW.{column}" for column in columns)


def _bypassed() -> int:
    return 1 if _bypass else 0


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: give each SQLite connection the guards' function."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("core_guard_bypassed", 0, _bypassed)


AUDIT_EVENTS = append_only(
    "core_auditevent_guard", "core_auditevent", "audit events are append-only"
)
AUDIT_CHECKPOINTS = append_only(
    "core_auditcheckpoint_guard", "core_auditcheckpoint", "audit checkpoints are append-only"
)
