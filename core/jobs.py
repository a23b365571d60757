"""Enqueuing background work so that a broker outage loses nothing.

The database is the source of truth: work that must happen is first recorded there (for
example a model version's needs-recompute mark) and then enqueued after commit. If the broker is
down at that moment the enqueue is logged and skipped, the request still succeeds, and the
periodic sweep picks the work up from the database once the broker is back.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Task
from django.db import connection, transaction

log = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any) -> bool:  # type: ignore[type-arg]
    try:
        task.apply_async(args=args)
    except Exception:  # any broker failure: the sweep retries from the database
        log.warning(
            "could not enqueue %s%r; the sweep will retry it", task.name, args, exc_info=True
        )
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any) -> None:  # type: ignore[type-arg]
    transaction.on_commit(lambda: enqueue(task, *args))


@contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Whether this process may do the work called ``name`` now: no other process is doing it.

    For tasks that a duplicate delivery must not run twice at once and that cannot hold a row
    lock for their whole length (an import parses a file before its transaction). On
    PostgreSQL, a session advisory lock, released at the end or with the connection when the
    process dies; elsewhere (SQLite: one process) always granted.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
