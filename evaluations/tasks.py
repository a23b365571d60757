"""Celery tasks: thin interfaces onto the recompute service. All idempotent."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from evaluations import recompute


@shared_task
def recompute_model_version(version_id: int) -> dict[str, Any]:
    """One version (what messages queued before batching still name)."""
    outcome = recompute.recompute(version_id)
    return {
        "version": outcome.version_id,
        "skipped": outcome.skipped,
        "required_level": outcome.required_level,
        "changed": outcome.changed,
    }


@shared_task
def recompute_model_versions(version_ids: list[int]) -> dict[str, Any]:
    """A batch of versions, reassessed together (a policy publish marks every version)."""
    outcomes = recompute.recompute_many(version_ids)
    return {
        "versions": len(outcomes),
        "skipped": sum(o.skipped for o in outcomes),
        "changed": [o.version_id for o in outcomes if o.changed],
    }


@shared_task
def recompute_all_model_versions(policy_version_id: int) -> dict[str, Any]:
    """A policy took effect: every model version is marked and recomputed."""
    return {
        "policy_version": policy_version_id,
        "model_versions": recompute.mark_all(reason=f"policy {policy_version_id}"),
    }


@shared_task
def sweep_recompute() -> dict[str, Any]:
    """Every minute: enqueue what is still marked (a lost enqueue, a worker that died), and
    imports that never started or whose worker died."""
    from evaluations import imports

    return {"enqueued": recompute.sweep(), "imports": imports.sweep_stuck()}


@shared_task
def mark_stale_evidence() -> dict[str, Any]:
    """Every minute: versions with evidence that went stale are recomputed (readers of a gate
    recompute what is past due themselves; this keeps escalations timely when nobody asks)."""
    return {"marked": recompute.mark_stale()}


@shared_task
def run_import(job_id: str) -> dict[str, Any]:
    """Parse and store one uploaded file (idempotent: a finished job is not run again)."""
    from evaluations import imports

    job = imports.import_job_run(job_id)
    return {"job": job_id, "state": job.state, "runs": len(job.runs_created)}
