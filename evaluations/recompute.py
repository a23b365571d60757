"""Recomputing a model version's determinations and required level.

Idempotent and safe to run twice or at once: the model version's row is locked for the
transaction, and a recompute that finds the evidence watermark and the policy in force
unchanged since the last assessment does nothing. The needs-recompute mark is cleared in the
same transaction that stores the result, so a crash leaves it set for the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from core import audit, jobs
from evaluations import determinations
from evaluations.models import Determination, EvaluationRun, ModelVersion, Override, Result
from evaluations.signals import assessment_changed
from governance import content
from governance.models import PolicyVersion

ACTOR = "system:recompute"


@dataclass(frozen=True)
class RecomputeOutcome:
    version_id: int
    skipped: bool
    required_level: str
    changed: bool


def _facts(version: ModelVersion) -> list[determinations.RunFact]:
    runs = EvaluationRun.objects.filter(model_version=version).select_related("evaluation")
    runs = runs.prefetch_related(
        Prefetch("results", queryset=Result.objects.only("run_id", "metric", "value"))
    )
    return [
        determinations.RunFact(
            run_id=run.run_id,
            evaluation=run.evaluation.key,
            succeeded=run.status == EvaluationRun.Status.SUCCESS,
            completed_at=run.completed_at or run.received_at,
            results={result.metric: result.value for result in run.results.all()},
        )
        for run in runs
    ]


def _overrides(version: ModelVersion, policy: PolicyVersion) -> list[determinations.OverrideFact]:
    return [
        determinations.OverrideFact(str(o.pk), o.threshold, o.outcome, frozenset(o.considered_runs))
        for o in Override.objects.filter(model_version=version, policy_version=policy)
    ]


def recompute(
    version_id: int, *, now: datetime | None = None, force: bool = False
) -> RecomputeOutcome:
    now = now or timezone.now()
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version_id)
        policy = PolicyVersion.objects.governing()
        unchanged = (
            version.assessed_watermark == version.evidence_watermark
            and version.assessed_policy_id == (policy.pk if policy else None)
        )
        if unchanged and not force:
            ModelVersion.objects.filter(pk=version.pk).update(needs_recompute=False)
            return RecomputeOutcome(version.pk, True, version.required_level, False)
        changed = _assess(version, policy, now)
        if changed:
            transaction.on_commit(
                lambda: assessment_changed.send(sender=ModelVersion, version_id=version_id)
            )
        return RecomputeOutcome(version.pk, False, version.required_level, changed)


def _assess(version: ModelVersion, policy: PolicyVersion | None, now: datetime) -> bool:
    before_level = version.required_level
    if policy is None:
        outcomes: list[determinations.Outcome] = []
        level, rank = "", None
    else:
        data = content.version_content(content.load_version(policy.pk))
        result = determinations.assess(
            data, _facts(version), now=now, overrides=_overrides(version, policy)
        )
        outcomes, level, rank = result.outcomes, result.required_level, result.required_rank
    changed = _store_determinations(version, policy, outcomes, now)
    version.required_level, version.required_rank = level, rank
    version.assessed_policy = policy
    version.assessed_at = now
    version.assessed_watermark = version.evidence_watermark
    version.needs_recompute = False
    version.save(
        update_fields=[
            "required_level",
            "required_rank",
            "assessed_policy",
            "assessed_at",
            "assessed_watermark",
            "needs_recompute",
        ]
    )
    if level != before_level:
        audit.record(
            action="evaluations.required_level.changed",
            actor=ACTOR,
            obj=version,
            subject=version,
            before={"required_level": before_level or None},
            after={
                "required_level": level or None,
                "policy_version": policy.pk if policy else None,
            },
        )
        changed = True
    return changed


def _snapshot(d: Determination | determinations.Outcome) -> dict[str, object]:
    run = (
        d.deciding_run
        if isinstance(d, determinations.Outcome)
        else (
            d.deciding_run.run_id if d.deciding_run_id else None  # type: ignore[union-attr]
        )
    )
    override = (
        d.override_id
        if isinstance(d, determinations.Outcome)
        else (str(d.override_id) if d.override_id else None)
    )
    return {"outcome": d.outcome, "level": d.level, "deciding_run": run, "override": override}


def _store_determinations(
    version: ModelVersion,
    policy: PolicyVersion | None,
    outcomes: list[determinations.Outcome],
    now: datetime,
) -> bool:
    if policy is None:  # nothing to determine: drop what an earlier policy left
        return bool(version.determinations.all().delete()[0])
    existing = {d.threshold: d for d in version.determinations.select_related("deciding_run")}
    runs = {r.run_id: r for r in EvaluationRun.objects.filter(model_version=version)}
    changed = False
    for outcome in outcomes:
        old = existing.pop(outcome.threshold, None)
        before = _snapshot(old) if old and old.policy_version_id == policy.pk else None
        after = _snapshot(outcome)
        Determination.objects.update_or_create(
            model_version=version,
            threshold=outcome.threshold,
            defaults={
                "policy_version": policy,
                "level": outcome.level,
                "outcome": outcome.outcome,
                "computed_outcome": outcome.computed_outcome,
                "reason": outcome.reason,
                "deciding_run": runs.get(outcome.deciding_run or ""),
                "deciding_metric": outcome.deciding_metric,
                "deciding_value": outcome.deciding_value,
                "override_id": outcome.override_id,
                "evidence": list(outcome.evidence),
                "computed_at": now,
            },
        )
        if before != after:
            changed = True
            audit.record(
                action="evaluations.determination.changed",
                actor=ACTOR,
                obj=version,
                subject=version,
                object_repr=f"{version} {outcome.threshold}",
                before=before,
                after={**after, "reason": outcome.reason},
            )
    if existing:  # thresholds no longer in the policy in force
        Determination.objects.filter(pk__in=[d.pk for d in existing.values()]).delete()
        changed = True
    return changed


def mark_all(*, reason: str) -> int:
    """Every model version needs a recompute (a new policy took effect)."""
    from evaluations.ingestion import mark_for_recompute

    ids = list(ModelVersion.objects.values_list("pk", flat=True))
    with transaction.atomic():
        mark_for_recompute(ids)
    return len(ids)


def mark_stale(*, now: datetime | None = None) -> int:
    """Versions whose ruling-out evidence has aged past the re-evaluation interval."""
    from evaluations.ingestion import mark_for_recompute

    now = now or timezone.now()
    policy = PolicyVersion.objects.governing()
    if policy is None:
        return 0
    cutoff = now - timedelta(days=policy.reevaluation_interval_days)
    stale = (
        Determination.objects.filter(
            policy_version=policy,
            outcome__in=[Determination.Outcome.RULED_OUT, Determination.Outcome.ALERT],
        )
        .filter(
            Q(deciding_run__completed_at__lt=cutoff)
            | Q(deciding_run__completed_at=None, deciding_run__received_at__lt=cutoff)
        )
        .values_list("model_version_id", flat=True)
        .distinct()
    )
    ids = sorted(set(stale))
    with transaction.atomic():
        mark_for_recompute(ids)
    return len(ids)


def sweep(*, limit: int = 500) -> int:
    """Enqueue a recompute for every version still marked (a lost or failed enqueue)."""
    from evaluations import tasks

    ids = list(
        ModelVersion.objects.filter(needs_recompute=True).values_list("pk", flat=True)[:limit]
    )
    for version_id in ids:
        jobs.enqueue(tasks.recompute_model_version, version_id)
    return len(ids)
