"""The audit guard's bypass. Only the test suite switches it on (see core/dbguard.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

from core import dbguard


@contextmanager
def audit_guard_bypassed(using: str = "default") -> Iterator[None]:
    connection = connections[using]
    if connection.vendor == "sqlite":
        dbguard._bypass = True
        try:
            yield
        finally:
            dbguard._bypass = False
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
