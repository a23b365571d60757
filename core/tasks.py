from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from core import audit

log = logging.getLogger(__name__)


@shared_task
def verify_audit_chain() -> dict[str, Any]:
    """Periodic integrity check of the audit chain (beat, hourly); read-only, safe to repeat."""
    report = audit.verify_chain()
    if not report.ok:
        log.error("audit chain broken at seq %s: %s", report.first_bad_seq, report.problem)
    return {
        "ok": report.ok,
        "entries": report.entries,
        "head_seq": report.head_seq,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
    }
