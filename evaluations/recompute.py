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
from django.db.models import Q
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
    """The version's runs and results as plain values: two queries, no model instances."""
    results: dict[int, dict[str, float]] = {}
    for run_pk, metric, value in Result.objects.filter(run__model_version=version).values_list(
        "run_id", "metric", "value"
    ):
        results.setdefault(run_pk, {})[metric] = value
    runs = EvaluationRun.objects.filter(model_version=version).values_list(
        "pk", "run_id", "evaluation__key", "status", "completed_at", "received_at"
    )
    return [
        determinations.RunFact(
            run_id=run_id,
            evaluation=evaluation,
            succeeded=status == EvaluationRun.Status.SUCCESS,
            completed_at=completed_at or received_at,
            results=results.get(pk, {}),
        )
        for pk, run_id, evaluation, status, completed_at, received_at in runs
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
        data = content.in_force_content(policy.pk)
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


_STORED_FIELDS = [
    "policy_version", "level", "outcome", "computed_outcome", "reason", "deciding_run",
    "deciding_metric", "deciding_value", "override", "evidence", "computed_at",
]  # fmt: skip


def _stored(row: Determination) -> tuple[object, ...]:
    return tuple(
        getattr(
            row, f"{name}_id" if name in ("policy_version", "deciding_run", "override") else name
        )
        for name in _STORED_FIELDS
        if name != "computed_at"
    )


def _store_determinations(
    version: ModelVersion,
    policy: PolicyVersion | None,
    outcomes: list[determinations.Outcome],
    now: datetime,
) -> bool:
    if policy is None:  # nothing to determine: drop what an earlier policy left
        return bool(version.determinations.all().delete()[0])
    existing = {d.threshold: d for d in version.determinations.select_related("deciding_run")}
    deciding = {o.deciding_run for o in outcomes if o.deciding_run}
    runs = dict(
        EvaluationRun.objects.filter(model_version=version, run_id__in=deciding).values_list(
            "run_id", "pk"
        )
    )
    changed = False
    events: list[dict[str, object]] = []
    to_create: list[Determination] = []
    to_update: list[Determination] = []
    for outcome in outcomes:
        old = existing.pop(outcome.threshold, None)
        before = _snapshot(old) if old and old.policy_version_id == policy.pk else None
        after = _snapshot(outcome)
        row = old or Determination(model_version=version, threshold=outcome.threshold)
        stored = _stored(row) if old else None
        row.policy_version = policy
        row.level, row.outcome = outcome.level, outcome.outcome
        row.computed_outcome, row.reason = outcome.computed_outcome, outcome.reason
        row.deciding_run_id = runs.get(outcome.deciding_run or "")
        row.deciding_metric, row.deciding_value = outcome.deciding_metric, outcome.deciding_value
        row.override_id = outcome.override_id
        row.evidence = list(outcome.evidence)
        if old is None:
            row.computed_at = now
            to_create.append(row)
        elif _stored(row) != stored:  # an unchanged determination keeps its row as it is
            row.computed_at = now
            to_update.append(row)
        if before != after:
            changed = True
            events.append(
                {
                    "action": "evaluations.determination.changed",
                    "actor": ACTOR,
                    "obj": version,
                    "subject": version,
                    "object_repr": f"{version} {outcome.threshold}",
                    "before": before,
                    "after": {**after, "reason": outcome.reason},
                }
            )
    # A changed determination is replaced rather than updated: one DELETE and one INSERT for
    # all of them (nothing refers to a determination row; the version's lock serialises this).
    Determination.objects.filter(pk__in=[row.pk for row in to_update]).delete()
    for row in to_update:
        row.pk = None
    Determination.objects.bulk_create([*to_create, *to_update])
    audit.record_many(events)
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
