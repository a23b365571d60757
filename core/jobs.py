"""Enqueuing background work so that a broker outage loses nothing.

The database is the source of truth: work that must happen is first recorded there (for
example a model version's needs-recompute mark) and then enqueued after commit. If the broker is
down at that moment the enqueue is logged and skipped, the request still succeeds, and the
periodic sweep picks the work up from the database once the broker is back.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

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
