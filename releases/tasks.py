"""Celery tasks: thin interfaces onto the release services. All idempotent."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from releases import services


@shared_task
def sweep_gates() -> dict[str, Any]:
    """Every minute: finish any gate refresh left undone (the refresh that follows a
    recompute's commit was lost: a worker died, a receiver raised) and refresh gates whose
    verdict reached the instant it held until. Readers never wait for this; it keeps the
    cached verdicts, lists and escalations true when nobody asks."""
    return {"refreshed": services.sweep_gates()}
