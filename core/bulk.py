"""Inserting many rows at once: one COPY on PostgreSQL, ``bulk_create`` elsewhere.

A full recompute writes thousands of determinations and audit events in a few transactions;
Django's multi-row INSERT spends most of its time quoting parameters in Python, while COPY
streams the same rows several times faster. Objects are written as they are: an auto-increment
primary key left unset is assigned by the database and not read back.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models, router


def insert(objs: Sequence[models.Model]) -> None:
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        model._default_manager.using(alias).bulk_create(objs)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f is meta.auto_field and objs[0].pk is None)]
    for f in fields:  # what bulk_create would do for auto_now_add and defaults
        for obj in objs:
            f.pre_save(obj, add=True)
    columns = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in fields)
    statement = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for obj in objs:
            copy.write_row(
                [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
            )
    for obj in objs:
        obj._state.adding, obj._state.db = False, alias
