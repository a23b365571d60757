"""Recomputing a model version's determinations and required level.

Idempotent and safe to run twice or at once: the model version's row is locked for the
transaction, and a recompute that finds the evidence watermark and the policy in force
unchanged since the last assessment does nothing. The needs-recompute mark is cleared in the
same transaction that stores the result, so a crash leaves it set for the sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import audit, bulk, jobs
from evaluations import determinations
from evaluations.models import (
    Determination,
    Evaluation,
    EvaluationRun,
    ModelVersion,
    Override,
    Result,
)
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


BATCH = 50  # model versions per task and per transaction when many are recomputed


def run_facts(version_ids: list[int]) -> dict[int, list[determinations.RunFact]]:
    """Each version's runs and results as plain values: two queries, no model instances."""
    results: dict[int, dict[str, float]] = {}
    for run_pk, metric, value in (
        Result.objects.filter(run__model_version__in=version_ids)
        .order_by()
        .values_list("run_id", "metric", "value")
    ):
        results.setdefault(run_pk, {})[metric] = value
    keys = dict(Evaluation.objects.values_list("pk", "key"))
    runs = EvaluationRun.objects.filter(model_version__in=version_ids).order_by().values_list(
        "model_version_id", "pk", "run_id", "evaluation_id", "status",
        Coalesce("completed_at", "received_at"),
    )  # fmt: skip
    facts: dict[int, list[determinations.RunFact]] = {pk: [] for pk in version_ids}
    for version_id, pk, run_id, evaluation_id, status, completed_at in runs:
        facts[version_id].append(
            determinations.RunFact(
                run_id=run_id,
                evaluation=keys[evaluation_id],
                succeeded=status == EvaluationRun.Status.SUCCESS,
                completed_at=completed_at,
                results=results.get(pk, {}),
            )
        )
    return facts


def _overrides(
    version_ids: list[int], policy: PolicyVersion
) -> dict[int, list[determinations.OverrideFact]]:
    overrides: dict[int, list[determinations.OverrideFact]] = {pk: [] for pk in version_ids}
    for o in Override.objects.filter(model_version__in=version_ids, policy_version=policy):
        overrides[o.model_version_id].append(
            determinations.OverrideFact(
                str(o.pk), o.threshold, o.outcome, frozenset(o.considered_runs)
            )
        )
    return overrides


def recompute(
    version_id: int, *, now: datetime | None = None, force: bool = False
) -> RecomputeOutcome:
    outcomes = recompute_many([version_id], now=now, force=force)
    if not outcomes:
        raise ModelVersion.DoesNotExist(f"model version {version_id} does not exist")
    return outcomes[0]


def recompute_many(
    version_ids: Sequence[int], *, now: datetime | None = None, force: bool = False
) -> list[RecomputeOutcome]:
    """Reassess these model versions together, a batch at a time, each batch in one
    transaction with its versions locked (in primary-key order, so concurrent batches cannot
    deadlock). Versions that no longer exist are left out of the result."""
    now = now or timezone.now()
    ids = sorted(set(version_ids))
    outcomes: list[RecomputeOutcome] = []
    for start in range(0, len(ids), BATCH):
        outcomes += _recompute_batch(ids[start : start + BATCH], now, force)
    return outcomes


def _recompute_batch(ids: list[int], now: datetime, force: bool) -> list[RecomputeOutcome]:
    # No savepoint when nested (a gate read or a deployment bringing its version up to date):
    # a failure there fails the caller's whole transaction, which is what it wants.
    with transaction.atomic(savepoint=False):
        versions = list(ModelVersion.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        policy = PolicyVersion.objects.governing()
        policy_id = policy.pk if policy else None
        # Time is an input too: an outcome past its valid_until (evidence gone stale) is due.
        expired = set(
            Determination.objects.filter(model_version__in=ids, valid_until__lte=now)
            .values_list("model_version_id", flat=True)
            .distinct()
        )
        due = [
            v
            for v in versions
            if force
            or v.assessed_watermark != v.evidence_watermark
            or v.assessed_policy_id != policy_id
            or v.pk in expired
        ]
        skipped = [v for v in versions if v not in due]
        marked = [v.pk for v in skipped if v.needs_recompute]
        if marked:
            ModelVersion.objects.filter(pk__in=marked).update(needs_recompute=False)
        changed = _assess(due, policy, now) if due else set()
        reassessed = sorted(v.pk for v in due)
        if reassessed:
            # Every gate built from an earlier assessment of these versions is now behind, in
            # this transaction: a refresh lost after the commit (the worker dies, the receiver
            # raises) leaves the gates known to be behind, and never served as they were.
            ModelVersion.objects.filter(pk__in=reassessed).update(
                assessment_seq=F("assessment_seq") + 1
            )
            transaction.on_commit(
                lambda: assessment_changed.send(sender=ModelVersion, version_ids=reassessed)
            )
        return [
            RecomputeOutcome(v.pk, v in skipped, v.required_level, v.pk in changed)
            for v in versions
        ]


def _assess(versions: list[ModelVersion], policy: PolicyVersion | None, now: datetime) -> set[int]:
    """Assess and store; the ids of the versions whose level or determinations changed."""
    ids = [v.pk for v in versions]
    assessed: dict[int, determinations.Assessment | None] = dict.fromkeys(ids)
    if policy is not None:
        data = content.in_force_content(policy)
        facts, overrides = run_facts(ids), _overrides(ids, policy)
        for pk in ids:
            assessed[pk] = determinations.assess(data, facts[pk], now=now, overrides=overrides[pk])
    events: list[dict[str, object]] = []
    changed = _store_determinations(versions, policy, assessed, now, events)
    for version in versions:
        result = assessed[version.pk]
        before_level = version.required_level
        version.required_level = result.required_level if result else ""
        version.required_rank = result.required_rank if result else None
        version.assessed_policy = policy
        version.assessed_at = now
        version.assessed_watermark = version.evidence_watermark
        version.needs_recompute = False
        if version.required_level != before_level:
            changed.add(version.pk)
            events.append(
                {
                    "action": "evaluations.required_level.changed",
                    "actor": ACTOR,
                    "obj": version,
                    "subject": version,
                    "before": {"required_level": before_level or None},
                    "after": {
                        "required_level": version.required_level or None,
                        "policy_version": policy.pk if policy else None,
                    },
                }
            )
    # One UPDATE per distinct level rather than a bulk CASE update (far slower to build); the
    # versions are locked, so their evidence watermark is the one just assessed.
    levels: dict[tuple[str, int | None], list[int]] = {}
    for version in versions:
        levels.setdefault((version.required_level, version.required_rank), []).append(version.pk)
    for (level, rank), pks in levels.items():
        ModelVersion.objects.filter(pk__in=pks).update(
            required_level=level,
            required_rank=rank,
            assessed_policy=policy,
            assessed_at=now,
            assessed_watermark=F("evidence_watermark"),
            needs_recompute=False,
        )
    audit.record_many(events)
    return changed


def _snapshot(outcome: str, level: str, run: str | None, override: str | None) -> dict[str, object]:
    """What an audit event shows of a determination."""
    return {"outcome": outcome, "level": level, "deciding_run": run, "override": override}


# A determination's stored values, compared to decide whether its row must be rewritten.
_STORED = (
    "policy_version_id", "level", "outcome", "computed_outcome", "reason", "deciding_run_id",
    "deciding_metric", "deciding_value", "override_id", "evidence", "valid_until",
)  # fmt: skip


def _store_determinations(
    versions: list[ModelVersion],
    policy: PolicyVersion | None,
    assessed: dict[int, determinations.Assessment | None],
    now: datetime,
    events: list[dict[str, object]],
) -> set[int]:
    """Write what changed, in a few statements for the whole batch; append an audit event per
    changed determination to ``events``; the ids of the versions with changes."""
    ids = [v.pk for v in versions]
    if policy is None:  # nothing to determine: drop what an earlier policy left
        dropped = Determination.objects.filter(model_version__in=ids)
        had = set(dropped.values_list("model_version_id", flat=True))
        dropped.delete()
        return had
    # What is stored, as plain values (pk, shown deciding run, then _STORED), by version and
    # threshold.
    existing: dict[int, dict[str, tuple[Any, ...]]] = {pk: {} for pk in ids}
    for version_id, threshold, *row in (
        Determination.objects.filter(model_version__in=ids)
        .order_by()
        .values_list("model_version_id", "threshold", "pk", "deciding_run__run_id", *_STORED)
    ):
        row[10] = str(row[10]) if row[10] else None  # the override's uuid
        existing[version_id][threshold] = tuple(row)
    deciding = {
        o.deciding_run for a in assessed.values() if a for o in a.outcomes if o.deciding_run
    }
    runs = {
        (version_id, run_id): pk
        for version_id, run_id, pk in EvaluationRun.objects.filter(
            model_version__in=ids, run_id__in=deciding
        ).values_list("model_version_id", "run_id", "pk")
    }
    changed: set[int] = set()
    rows: list[Determination] = []
    replaced: list[int] = []
    for version in versions:
        result = assessed[version.pk]
        held = existing[version.pk]
        for o in result.outcomes if result else []:
            old = held.pop(o.threshold, None)
            stored = (
                policy.pk, o.level, o.outcome, o.computed_outcome, o.reason,
                runs.get((version.pk, o.deciding_run or "")), o.deciding_metric,
                o.deciding_value, o.override_id, list(o.evidence), o.valid_until,
            )  # fmt: skip
            if old is None or old[2:] != stored:  # an unchanged row is kept as it is
                if old is not None:
                    replaced.append(old[0])
                rows.append(
                    Determination(
                        model_version=version,
                        threshold=o.threshold,
                        computed_at=now,
                        **dict(zip(_STORED, stored, strict=True)),
                    )
                )
            same_policy = old is not None and old[2] == policy.pk
            before = _snapshot(old[4], old[3], old[1], old[10]) if old and same_policy else None
            after = _snapshot(o.outcome, o.level, o.deciding_run, o.override_id)
            held_override = old[10] if old is not None and old[2] == policy.pk else None
            if held_override and held_override != o.override_id:
                why = (
                    "the evidence it considered went stale"
                    if o.lapsed_override_id == held_override
                    else "the evidence changed (a new or different run)"
                )
                events.append(_lapsed(version, replace(o, lapsed_override_id=held_override), why))
            if before != after:
                changed.add(version.pk)
                events.append(
                    {
                        "action": "evaluations.determination.changed",
                        "actor": ACTOR,
                        "obj": version,
                        "subject": version,
                        "object_repr": f"{version} {o.threshold}",
                        "before": before,
                        "after": {**after, "reason": o.reason},
                    }
                )
        if held:  # thresholds no longer in the policy in force
            replaced += [old[0] for old in held.values()]
            changed.add(version.pk)
    # A changed determination is replaced rather than updated: one DELETE and one COPY for
    # all of them (nothing refers to a determination row; the versions' locks serialise this).
    Determination.objects.filter(pk__in=replaced).delete()
    bulk.insert(rows)
    return changed


def _lapsed(version: ModelVersion, o: determinations.Outcome, why: str) -> dict[str, object]:
    """The audit event of an override that stopped counting."""
    return {
        "action": "evaluations.override.lapsed",
        "actor": ACTOR,
        "obj": version,
        "subject": version,
        "object_repr": f"{version} {o.threshold}",
        "before": {"override": o.lapsed_override_id},
        "after": {"outcome": o.outcome, "reason": why},
        "reason": why,
    }


def mark_all(*, reason: str) -> int:
    """Every model version needs a recompute (a new policy took effect)."""
    from evaluations.ingestion import mark_for_recompute

    ids = list(ModelVersion.objects.values_list("pk", flat=True))
    with transaction.atomic():
        mark_for_recompute(ids)
    return len(ids)


def mark_stale(*, now: datetime | None = None) -> int:
    """Versions with an outcome that needed current evidence and no longer has it (a
    determination past its ``valid_until``): marked and enqueued. Readers of a gate do not
    wait for this (they recompute what is past due themselves); it keeps escalations and the
    pages' lists true when nobody asks."""
    from evaluations.ingestion import mark_for_recompute

    now = now or timezone.now()
    policy = PolicyVersion.objects.governing()
    if policy is None:
        return 0
    stale = (
        Determination.objects.filter(policy_version=policy, valid_until__lte=now)
        .exclude(model_version__needs_recompute=True)
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
        ModelVersion.objects.filter(needs_recompute=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(ids), BATCH):
        jobs.enqueue(tasks.recompute_model_versions, ids[start : start + BATCH])
    return len(ids)
