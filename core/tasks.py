from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from core import audit, checkpoints, integrity

log = logging.getLogger(__name__)


@shared_task
def verify_audit_chain() -> dict[str, Any]:
    """Periodic integrity check of the audit chain and its checkpoints (beat, hourly);
    read-only, safe to repeat."""
    report = audit.verify_chain()
    if not report.ok:
        log.error("audit chain broken at seq %s: %s", report.first_bad_seq, report.problem)
    checks = checkpoints.verify_checkpoints(report)
    for problem in checks.problems:
        log.error("audit checkpoint failed: %s", problem)
    return {
        "ok": report.ok and checks.ok,
        "entries": report.entries,
        "head_seq": report.head_seq,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
        "checkpoint_problems": checks.problems,
    }


@shared_task
def audit_checkpoint() -> dict[str, Any]:
    """Sign the audit chain's head (beat, every ``AUDIT_CHECKPOINT_SECONDS``, hourly by
    default), after verifying the whole chain and the earlier checkpoints. A broken chain or a
    failing checkpoint is logged as an error and nothing is signed. Safe to repeat: nothing is
    written while the head has not moved."""
    report = audit.verify_chain()
    # Signed content (the register in force) checked too: a finding raises an alarm that
    # makes every gate deny until the content is restored.
    for name, problems in integrity.run().items():
        for problem in problems:
            log.error("%s: %s", name, problem)
    try:
        checkpoint = checkpoints.checkpoint_create(verified=report)
    except checkpoints.CheckpointRefused as refusal:
        log.error("no audit checkpoint written: %s", refusal)
        return {"ok": False, "checkpoint": None, "problem": str(refusal)}
    return {
        "ok": True,
        "checkpoint": checkpoint.pk if checkpoint else None,
        "seq": checkpoint.seq if checkpoint else None,
        "problem": "",
    }


@shared_task
def echo(value: str) -> str:
    """Return ``value``: a round trip through the broker and a worker, nothing else (the
    floor the scale benchmark measures task latency against)."""
    return value
