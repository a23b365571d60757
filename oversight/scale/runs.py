"""The results phase: runs, results, determinations and required levels."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from django.db import models

from evaluations import determinations, recompute
from evaluations.ingestion import RunInput
from evaluations.models import (
    Determination,
    EvaluationRun,
    ModelVersion,
    Result,
)
from oversight.scale.common import (
    Row,
    _json,
    _share,
)
from oversight.scale.plans import (
    _EvalSpec,
    _result,
    _VersionPlan,
)
from oversight.scale.register import _Register


class _Runs(_Register):
    """Runs, results and what they determine."""

    def _phase_runs(self) -> str:
        """Each version's runs, then its assessment: ``determinations.assess`` over exactly
        those runs, as evaluations.recompute stores it after the last of them."""
        rng = self._rng("runs")
        data = self.governing_content
        governed = sorted({c["evaluation"] for t in data["thresholds"] for c in t["conditions"]})
        rows: dict[type[models.Model], list[Row]] = {EvaluationRun: [], Result: []}
        found: list[Row] = []
        versions: list[Row] = []
        for index, version in enumerate(self.versions):
            budget = _share(self.sizes.results, len(self.versions), index)
            tested = list(self.evaluations)
            if governed and rng.random() < 0.15:  # an evaluation never run: cannot rule out
                skipped = rng.choice(governed)
                tested = [spec for spec in tested if spec.key != skipped]
            rng.shuffle(tested)
            planned: list[tuple[_EvalSpec, str, tuple[tuple[str, str], ...]]] = []
            while budget > 0 and tested:  # rounds of every evaluation: re-runs after the first
                for spec in tested:
                    if budget <= 0:
                        break
                    if rng.random() < 0.03:  # a failed run carries no results
                        planned.append((spec, rng.choice(("error", "cancelled")), ()))
                    metrics = spec.metrics[:budget]
                    budget -= len(metrics)
                    planned.append((spec, "success", metrics))
            facts, run_pks, watermark = self._version_runs(rng, version, planned, rows)
            now = version.assessed_at
            assessed = determinations.assess(data, facts, now=now)
            version.required_level = assessed.required_level
            version.valid_until = assessed.valid_until
            task = self._task(rng)
            subject = f"evaluations.modelversion:{version.pk}"
            for step, outcome in enumerate(assessed.outcomes):
                found.append({
                    "id": self._id(Determination), "model_version": version.pk,
                    "policy_version": self.governing.pk, "threshold": outcome.threshold,
                    "level": outcome.level, "outcome": outcome.outcome,
                    "computed_outcome": outcome.computed_outcome, "reason": outcome.reason,
                    "deciding_run": run_pks.get(outcome.deciding_run or ""),
                    "deciding_metric": outcome.deciding_metric,
                    "deciding_value": outcome.deciding_value, "override": None,
                    "evidence": _json(list(outcome.evidence)),
                    "valid_until": outcome.valid_until, "computed_at": now,
                })  # fmt: skip
                self._event(now + timedelta(microseconds=step), "evaluations.determination.changed",
                            recompute.ACTOR,
                            obj=("evaluations.modelversion", version.pk,
                                 f"{version.label} {outcome.threshold}"),
                            subject=subject,
                            after={"outcome": outcome.outcome, "level": outcome.level,
                                   "deciding_run": outcome.deciding_run, "override": None,
                                   "reason": outcome.reason},
                            request_id=task, scope=version.model.pk)  # fmt: skip
            if assessed.required_level:
                self._event(now + timedelta(microseconds=len(assessed.outcomes)),
                            "evaluations.required_level.changed", recompute.ACTOR,
                            obj=("evaluations.modelversion", version.pk, version.label),
                            subject=subject, before={"required_level": None},
                            after={"required_level": assessed.required_level,
                                   "policy_version": self.governing.pk},
                            request_id=task, scope=version.model.pk)  # fmt: skip
            version.determinations = sorted(
                ({"threshold": o.threshold, "outcome": o.outcome, "level": o.level,
                  "deciding_run": o.deciding_run} for o in assessed.outcomes),
                key=lambda d: str(d["threshold"]),
            )  # fmt: skip
            versions.append({
                "id": version.pk, "model": version.model.pk, "label": version.label,
                "effective_compute": version.effective_compute, "created_at": version.created_at,
                "created_by": version.model.owner.pk, "required_level": assessed.required_level,
                "required_rank": assessed.required_rank, "assessed_policy": self.governing.pk,
                "assessed_at": now, "needs_recompute": False, "evidence_watermark": watermark,
                "assessed_watermark": watermark, "assessment_seq": version.assessment_seq,
            })  # fmt: skip
        self._insert(ModelVersion, versions)
        self._insert(EvaluationRun, rows[EvaluationRun])
        self._insert(Result, rows[Result])
        self._insert(Determination, found)
        spread = Counter(version.required_level or "none" for version in self.versions)
        return (
            f"{len(versions):,} model versions ("
            + ", ".join(f"{code}: {n:,}" for code, n in sorted(spread.items()))
            + f"), {len(rows[EvaluationRun]):,} runs, {len(rows[Result]):,} results, "
            f"{len(found):,} determinations"
        )

    def _version_runs(
        self,
        rng: random.Random,
        version: _VersionPlan,
        planned: list[tuple[_EvalSpec, str, tuple[tuple[str, str], ...]]],
        rows: dict[type[models.Model], list[Row]],
    ) -> tuple[list[determinations.RunFact], dict[str, int], int]:
        """One version's runs over its first two days, received in batches (one ingestion
        call each, as evaluations.ingestion.ingest_runs writes them): the facts the recompute
        reads, the run ids' pks, and the evidence watermark. Sets when it is assessed."""
        owner, subject = version.model.owner, f"evaluations.modelversion:{version.pk}"
        specs = {spec.key: spec for spec in self.evaluations}
        window = timedelta(days=2) - timedelta(hours=1)
        facts: list[determinations.RunFact] = []
        run_pks: dict[str, int] = {}
        batch: list[tuple[RunInput, int]] = []
        batches, received = 0, version.created_at

        def receive() -> None:
            nonlocal batches, received
            batches += 1
            request = self._request(rng)
            last_completed = batch[-1][0].completed_at
            assert last_completed is not None  # nosec B101  # type narrowing: runs are completed
            received = max(received, last_completed) + timedelta(seconds=rng.uniform(30, 600))
            for offset, (run, pk) in enumerate(batch):
                at = received + timedelta(microseconds=offset)
                fingerprint = run.fingerprint()
                version.evidence.append([run.run_id, fingerprint])
                rows[EvaluationRun].append({
                    "id": pk, "model_version": version.pk,
                    "evaluation": specs[run.evaluation].pk, "run_id": run.run_id,
                    "status": run.status, "harness": run.harness,
                    "harness_version": run.harness_version, "source": "api",
                    "started_at": run.started_at, "completed_at": run.completed_at,
                    "raw_file": None, "fingerprint": fingerprint, "imported_by": owner.pk,
                    "received_at": at,
                })  # fmt: skip
                self._event(at, "evaluations.run.received", owner,
                            obj=("evaluations.evaluationrun", pk,
                                 f"{run.evaluation} on {version.label} ({run.run_id})"),
                            subject=subject, reason="api",
                            after={"run_id": run.run_id, "evaluation": run.evaluation,
                                   "status": run.status, "model_version": version.label,
                                   "results": {r.metric: r.value for r in run.results},
                                   "raw_sha256": None},
                            request_id=request, scope=version.model.pk)  # fmt: skip
            batch.clear()

        seen: set[str] = set()
        for position, (spec, status, metrics) in enumerate(planned):
            # Distinct completion times: which run is the latest never depends on a tie.
            fraction = (position + rng.uniform(0.1, 0.9)) / max(1, len(planned))
            completed = version.created_at + timedelta(hours=1) + window * fraction
            run_id = f"{spec.harness}-{rng.getrandbits(48):012x}"
            while run_id in seen:
                run_id = f"{spec.harness}-{rng.getrandbits(48):012x}"
            seen.add(run_id)
            inputs = [_result(rng, version.capability - spec.difficulty, metric, direction)
                      for metric, direction in metrics]  # fmt: skip
            run = RunInput(
                model_version=version.label, evaluation=spec.key, run_id=run_id, status=status,
                results=tuple(inputs), harness=spec.harness,
                harness_version=f"0.{3 if spec.harness == 'inspect' else 4}."
                                f"{rng.randint(40, 99)}",
                started_at=completed - timedelta(minutes=rng.uniform(5, 120)),
                completed_at=completed,
            )  # fmt: skip
            pk = self._id(EvaluationRun)
            run_pks[run_id] = pk
            rows[Result] += [
                {"id": self._id(Result), "run": pk, "metric": r.metric, "value": r.value,
                 "stderr": r.stderr, "samples": r.samples}
                for r in inputs
            ]  # fmt: skip
            facts.append(determinations.RunFact(
                run_id=run_id, evaluation=spec.key, succeeded=status == "success",
                completed_at=completed, results={r.metric: r.value for r in inputs},
            ))  # fmt: skip
            batch.append((run, pk))
            if len(batch) == 25:
                receive()
        if batch:
            receive()
        version.assessed_at = received + timedelta(seconds=rng.uniform(1, 20))
        # As releases.assessment lists them, by run id (a harness, "-", lowercase hex: the same
        # order in any collation).
        version.evidence.sort()
        # model_version_create marks the version once, each ingestion call once more.
        return facts, run_pks, 2 + batches

    # -- releases, approvals and decisions
