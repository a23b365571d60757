"""The one way evaluation results enter the system: the API, file imports and the command line
all call ``ingest_runs``, so every path validates, deduplicates and audits the same way.

A call is all or nothing. Replaying a run id with identical content changes nothing (and says
so); replaying it with different content is a conflict.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import audit, bulk, jobs
from core.canonical import canonical_json, format_timestamp
from evaluations import access
from evaluations.models import Evaluation, EvaluationRun, ModelVersion, RawFile, Result

MAX_RUNS = 500
MAX_RESULTS_PER_RUN = 1000
MAX_ABS_VALUE = 1e12
MAX_SAMPLES = 2**31 - 1
CLOCK_SKEW = timedelta(minutes=10)
STATUSES = {choice.value for choice in EvaluationRun.Status}


@dataclass(frozen=True)
class ResultInput:
    metric: str
    value: float
    stderr: float | None = None
    samples: int | None = None


@dataclass(frozen=True)
class RunInput:
    model_version: str
    evaluation: str
    run_id: str
    status: str
    results: tuple[ResultInput, ...] = ()
    harness: str = ""
    harness_version: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None

    def fingerprint(self) -> str:
        data = {
            "model_version": self.model_version,
            "evaluation": self.evaluation,
            "run_id": self.run_id,
            "status": self.status,
            "harness": self.harness,
            "harness_version": self.harness_version,
            "started_at": format_timestamp(self.started_at) if self.started_at else None,
            "completed_at": format_timestamp(self.completed_at) if self.completed_at else None,
            "results": sorted(
                [[r.metric, r.value, r.stderr, r.samples] for r in self.results],
                key=lambda row: str(row[0]),
            ),
        }
        return hashlib.sha256(canonical_json(data)).hexdigest()


class IngestionError(ValueError):
    """Invalid input; ``errors`` maps "runs[i].field" (or "non_field_errors") to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class RunConflict(Exception):
    def __init__(self, run_ids: list[str]) -> None:
        self.run_ids = run_ids
        super().__init__(f"run id {', '.join(run_ids)} was already received with different content")


@dataclass
class IngestOutcome:
    created: list[EvaluationRun] = field(default_factory=list)
    replayed: list[EvaluationRun] = field(default_factory=list)

    @property
    def runs(self) -> list[EvaluationRun]:
        return self.created + self.replayed


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_run(index: int, run: RunInput, errors: dict[str, list[str]]) -> None:
    where = f"runs[{index}]"

    def fail(name: str, message: str) -> None:
        errors.setdefault(f"{where}.{name}", []).append(message)

    if not run.run_id or len(run.run_id) > 200:
        fail("run_id", "must be 1 to 200 characters")
    if run.status not in STATUSES:
        fail("status", f"must be one of {', '.join(sorted(STATUSES))}")
    if run.status != "success" and run.results:
        fail("results", "a run that did not succeed carries no results")
    if len(run.results) > MAX_RESULTS_PER_RUN:
        fail("results", f"at most {MAX_RESULTS_PER_RUN} results per run")
    seen: set[str] = set()
    for j, result in enumerate(run.results):
        if not result.metric or len(result.metric) > 100:
            fail(f"results[{j}].metric", "must be 1 to 100 characters")
        if result.metric in seen:
            fail(f"results[{j}].metric", f"{result.metric} appears twice in this run")
        seen.add(result.metric)
        if not _finite(result.value) or abs(result.value) > MAX_ABS_VALUE:
            fail(f"results[{j}].value", "must be a finite number within ±1e12")
        if result.stderr is not None and (not _finite(result.stderr) or result.stderr < 0):
            fail(f"results[{j}].stderr", "must be a finite number, zero or more")
        if result.samples is not None and not 0 <= result.samples <= MAX_SAMPLES:
            fail(f"results[{j}].samples", f"must be between 0 and {MAX_SAMPLES}")
    if run.started_at and run.completed_at and run.completed_at < run.started_at:
        fail("completed_at", "is before started_at")
    latest = timezone.now() + CLOCK_SKEW
    for name in ("started_at", "completed_at"):
        moment = getattr(run, name)
        if moment is not None and moment > latest:
            fail(name, "is in the future: evidence cannot be dated ahead")


def _resolve(
    actor: User, runs: Sequence[RunInput], errors: dict[str, list[str]]
) -> tuple[dict[str, ModelVersion], dict[str, Evaluation]]:
    labels = {run.model_version for run in runs}
    versions = {
        version.label: version
        for version in access.visible_versions(actor)
        .filter(label__in=labels)
        .select_related("model")
    }
    evaluations = Evaluation.objects.in_bulk(
        list({run.evaluation for run in runs}), field_name="key"
    )
    # Whether the caller may feed each model, asked once per model, not once per run.
    feeds = {v.model_id: access.can_feed(actor, v.model) for v in versions.values()}
    for index, run in enumerate(runs):
        version = versions.get(run.model_version)
        if version is None:
            errors.setdefault(f"runs[{index}].model_version", []).append(
                f"unknown model version {run.model_version!r}: register it first "
                "(POST /api/v1/model-versions/)"
            )
        elif not feeds[version.model_id]:
            errors.setdefault(f"runs[{index}].model_version", []).append(
                f"you may not add results to {run.model_version!r}"
            )
        if run.evaluation not in evaluations:
            errors.setdefault(f"runs[{index}].evaluation", []).append(
                f"unknown evaluation {run.evaluation!r}: a governance lead registers evaluations"
            )
    return versions, evaluations


@transaction.atomic
def ingest_runs(
    *, actor: User, runs: Sequence[RunInput], source: str, raw_file: RawFile | None = None
) -> IngestOutcome:
    errors: dict[str, list[str]] = {}
    if not runs:
        raise IngestionError({"non_field_errors": ["no run to store"]})
    if len(runs) > MAX_RUNS:
        raise IngestionError({"non_field_errors": [f"at most {MAX_RUNS} runs per request"]})
    for index, run in enumerate(runs):
        _check_run(index, run, errors)
    ids = [(run.model_version, run.run_id) for run in runs]
    if len(set(ids)) != len(ids):
        errors.setdefault("non_field_errors", []).append("a run id appears twice in this batch")
    versions, evaluations = _resolve(actor, runs, errors)
    if errors:
        raise IngestionError(errors)

    outcome = IngestOutcome()
    found = EvaluationRun.objects.filter(
        model_version__in=[versions[run.model_version] for run in runs],
        run_id__in=[run.run_id for run in runs],
    ).select_related("model_version")
    existing = {(run.model_version.label, run.run_id): run for run in found}
    conflicts = [
        r.run_id
        for r in runs
        if (r.model_version, r.run_id) in existing
        and existing[(r.model_version, r.run_id)].fingerprint != r.fingerprint()
    ]
    if conflicts:
        raise RunConflict(conflicts)
    new = [run for run in runs if (run.model_version, run.run_id) not in existing]
    outcome.replayed = [
        existing[(run.model_version, run.run_id)]
        for run in runs
        if (run.model_version, run.run_id) in existing
    ]
    outcome.created = _store(actor, new, versions, evaluations, source, raw_file)
    touched = sorted({run.model_version_id for run in outcome.created})
    if touched:
        mark_for_recompute(touched)
    return outcome


def _store(
    actor: User,
    runs: Sequence[RunInput],
    versions: dict[str, ModelVersion],
    evaluations: dict[str, Evaluation],
    source: str,
    raw_file: RawFile | None,
) -> list[EvaluationRun]:
    created = EvaluationRun.objects.bulk_create(
        EvaluationRun(
            model_version=versions[run.model_version],
            evaluation=evaluations[run.evaluation],
            run_id=run.run_id,
            status=run.status,
            harness=run.harness[:50],
            harness_version=run.harness_version[:50],
            source=source,
            started_at=run.started_at,
            completed_at=run.completed_at,
            raw_file=raw_file,
            fingerprint=run.fingerprint(),
            imported_by=actor,
        )
        for run in runs
    )
    if created and created[0].pk is None:  # backends that do not return ids from bulk inserts
        created = list(
            EvaluationRun.objects.filter(
                model_version__in={versions[run.model_version] for run in runs},
                run_id__in=[run.run_id for run in runs],
            )
        )
    by_id = {(run.model_version_id, run.run_id): run for run in created}

    def key(run: RunInput) -> tuple[int, str]:
        return versions[run.model_version].pk, run.run_id

    bulk.insert(
        [
            Result(
                run=by_id[key(run)],
                metric=r.metric,
                value=float(r.value),
                stderr=r.stderr,
                samples=r.samples,
            )
            for run in runs
            for r in run.results
        ]
    )
    audit.record_many(
        [
            {
                "action": "evaluations.run.received",
                "actor": actor,
                "obj": by_id[key(run)],
                "subject": by_id[key(run)].model_version,
                "reason": source,
                "after": {
                    "run_id": run.run_id,
                    "evaluation": run.evaluation,
                    "status": run.status,
                    "model_version": run.model_version,
                    "results": {r.metric: r.value for r in run.results},
                    "raw_sha256": raw_file.sha256 if raw_file else None,
                },
            }
            for run in runs
        ]
    )
    return [by_id[key(run)] for run in runs]


def mark_for_recompute(version_ids: Sequence[int]) -> None:
    """New input for these versions: bump their evidence watermark, set the mark, and enqueue a
    recompute when the transaction commits (the beat sweep retries whatever stays marked)."""
    from evaluations import tasks

    ModelVersion.objects.filter(pk__in=version_ids).update(
        needs_recompute=True, evidence_watermark=F("evidence_watermark") + 1
    )
    from evaluations.recompute import BATCH

    ids = sorted(version_ids)
    for start in range(0, len(ids), BATCH):
        jobs.enqueue_on_commit(tasks.recompute_model_versions, ids[start : start + BATCH])
