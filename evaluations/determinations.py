"""Determinations and the required level, as pure functions over plain data (no ORM).

For each capability threshold of the policy in force, and one model version's runs:

* **crossed** — some successful, non-invalidated run of a condition's evaluation crosses the
  condition's value. Any such run counts, however old and whatever came after: a kinder re-run
  does not erase a crossing (no "eval shopping").
* **ruled out** — nothing crossed, and *every* condition has a current (within the policy's
  re-evaluation interval) successful run that reports its metric.
* **alert** — ruled out, but some run is past a condition's alert value (early warning).
* **cannot rule out** — anything else: no run, only failed runs, a run that does not report the
  metric, or evidence older than the interval. Precautionary: it counts as crossed.

The required level is the highest level required by a crossed or cannot-rule-out threshold, and
never below the baseline. A signed override replaces a threshold's outcome while the evidence it
considered is still exactly the evidence there is and, for an override that lowers (ruled out or
alert), while every condition still has a current successful run: it lapses when any goes stale.

Time is an input: a ruled-out or alert outcome holds only until the oldest of the runs it rests
on passes the re-evaluation interval (``valid_until``); crossed and cannot-rule-out never get
better with time. The assessment's ``valid_until`` is the earliest of its outcomes'.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

CROSSED, ALERT, RULED_OUT, CANNOT_RULE_OUT = "crossed", "alert", "ruled_out", "cannot_rule_out"
REQUIRES_LEVEL = {CROSSED, CANNOT_RULE_OUT}
LOWERING = {RULED_OUT, ALERT}  # outcomes that need current evidence to hold
COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}  # fmt: skip


@dataclass(frozen=True)
class RunFact:
    run_id: str
    evaluation: str
    succeeded: bool
    completed_at: datetime | None
    results: dict[str, float] = field(default_factory=dict)
    invalidated: bool = False

    def counts(self) -> bool:
        return self.succeeded and not self.invalidated


@dataclass(frozen=True)
class OverrideFact:
    override_id: str
    threshold: str
    outcome: str
    considered_runs: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    threshold: str
    level: str
    outcome: str
    computed_outcome: str
    reason: str
    deciding_run: str | None = None
    deciding_metric: str = ""
    deciding_value: float | None = None
    evidence: tuple[str, ...] = ()
    override_id: str | None = None
    # When every condition's newest successful run reporting its metric is current, the moment
    # the first of them goes stale; None when some condition has no current run.
    fresh_until: datetime | None = None
    lapsed_override_id: str | None = None  # an override of the same evidence, stale now

    @property
    def valid_until(self) -> datetime | None:
        """Until when this outcome holds as time passes (None: time cannot change it)."""
        return self.fresh_until if self.outcome in LOWERING else None


@dataclass(frozen=True)
class Assessment:
    outcomes: list[Outcome]
    required_level: str
    required_rank: int

    @property
    def valid_until(self) -> datetime | None:
        times = [o.valid_until for o in self.outcomes if o.valid_until is not None]
        return min(times) if times else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _newest_first(run: RunFact) -> datetime:
    return run.completed_at or _EPOCH


@dataclass(frozen=True)
class _Found:
    outcome: str
    reason: str
    run: RunFact | None = None
    value: float | None = None
    fresh_until: datetime | None = None  # when the newest reporting run goes stale


def _condition(
    condition: dict[str, Any], runs: Sequence[RunFact], now: datetime, interval: timedelta
) -> _Found:
    evaluation, metric = condition["evaluation"], condition["metric"]
    name = f"{evaluation}/{metric}"
    passes = COMPARATORS[condition["comparator"]]
    of_evaluation = [run for run in runs if run.evaluation == evaluation]
    reporting = sorted(
        (run for run in of_evaluation if run.counts() and metric in run.results),
        key=_newest_first,
        reverse=True,
    )
    fresh = _fresh_until(reporting[0], now, interval) if reporting else None
    for run in reporting:
        value = run.results[metric]
        if passes(value, condition["value"]):
            rule = f"{condition['comparator']} {condition['value']!r}"
            reason = f"{name} = {value!r} in run {run.run_id} ({rule})"
            return _Found(CROSSED, reason, run, value, fresh)
    if not of_evaluation:
        return _Found(CANNOT_RULE_OUT, f"no run of {evaluation}")
    if not any(run.counts() for run in of_evaluation):
        return _Found(CANNOT_RULE_OUT, f"only failed or invalidated runs of {evaluation}")
    if not reporting:
        return _Found(CANNOT_RULE_OUT, f"no successful run of {evaluation} reports {metric}")
    latest = reporting[0]
    if fresh is None:
        reason = (
            f"the latest run of {evaluation} ({latest.run_id}) is older than {interval.days} days"
        )
        return _Found(CANNOT_RULE_OUT, reason, latest, latest.results[metric])
    alert = condition.get("alert_value")
    for run in reporting:
        value = run.results[metric]
        if alert is not None and passes(value, alert):
            reason = f"{name} = {value!r} in run {run.run_id} is past the alert value {alert!r}"
            return _Found(ALERT, reason, run, value, fresh)
    value = latest.results[metric]
    return _Found(RULED_OUT, f"{name} = {value!r} in run {latest.run_id}", latest, value, fresh)


def _fresh_until(run: RunFact, now: datetime, interval: timedelta) -> datetime | None:
    """When a run stops being current evidence; None if it is not current now."""
    if run.completed_at is None or now - run.completed_at > interval:
        return None
    return run.completed_at + interval + _TICK


_TICK = timedelta(microseconds=1)  # "older than the interval" is strict: stale just after it


_SEVERITY = {CROSSED: 3, CANNOT_RULE_OUT: 2, ALERT: 1, RULED_OUT: 0}


def _age_key(run: RunFact | None) -> float:
    return (run.completed_at or _EPOCH).timestamp() if run else 0.0


def determine(
    threshold: dict[str, Any], runs: Sequence[RunFact], now: datetime, interval: timedelta
) -> Outcome:
    """One threshold: the most severe of its conditions' outcomes decides."""
    conditions = threshold["conditions"]
    found = [_condition(condition, runs, now, interval) for condition in conditions]
    keys = {condition["evaluation"] for condition in conditions}
    evidence = tuple(sorted(run.run_id for run in runs if run.evaluation in keys))
    # The most severe condition decides; among equals, the one whose evidence is oldest, so a
    # ruled-out threshold names the run that will go stale first.
    index = max(
        range(len(found)),
        key=lambda i: (_SEVERITY[found[i].outcome], -_age_key(found[i].run)),
    )
    decisive = found[index]
    reason = decisive.reason
    freshness = [f.fresh_until for f in found]
    fresh_until = None if None in freshness else min(freshness)  # type: ignore[type-var]
    if decisive.outcome == RULED_OUT:
        reason = "ruled out: " + "; ".join(f.reason for f in found)
    return Outcome(
        threshold=threshold["code"],
        level=threshold["required_level"],
        outcome=decisive.outcome,
        computed_outcome=decisive.outcome,
        reason=reason,
        deciding_run=decisive.run.run_id if decisive.run else None,
        deciding_metric=conditions[index]["metric"] if decisive.run else "",
        deciding_value=decisive.value,
        evidence=evidence,
        fresh_until=fresh_until,
    )


def apply_override(outcome: Outcome, overrides: Iterable[OverrideFact]) -> Outcome:
    """The newest override of this threshold that considered exactly today's evidence. One
    that lowers (ruled out, alert) holds only while every condition has a current successful
    run: once any goes stale it lapses, and the computed outcome stands."""
    for override in overrides:
        if override.threshold == outcome.threshold and override.considered_runs == frozenset(
            outcome.evidence
        ):
            if override.outcome in LOWERING and outcome.fresh_until is None:
                return replace(
                    outcome,
                    lapsed_override_id=override.override_id,
                    reason=f"override {override.override_id} lapsed: evidence went stale; "
                    + outcome.reason,
                )
            return replace(
                outcome,
                outcome=override.outcome,
                override_id=override.override_id,
                reason=f"signed override ({override.outcome}); computed: {outcome.reason}",
            )
    return outcome


def without_current_evidence(
    threshold: dict[str, Any], runs: Sequence[RunFact], *, now: datetime, interval_days: int
) -> list[str]:
    """The conditions of ``threshold`` (as ``evaluation/metric``) with no current successful
    run reporting their metric: an override to ruled out or alert needs none of these."""
    interval = timedelta(days=interval_days)
    return [
        f"{c['evaluation']}/{c['metric']}"
        for c in threshold["conditions"]
        if _condition(c, runs, now, interval).fresh_until is None
    ]


def assess(
    content: dict[str, Any],
    runs: Sequence[RunFact],
    *,
    now: datetime,
    overrides: Sequence[OverrideFact] = (),
) -> Assessment:
    """Every threshold of a policy version's content, and the required level that follows."""
    interval = timedelta(days=content["version"]["reevaluation_interval_days"])
    ranks = {level["code"]: level["rank"] for level in content["levels"]}
    outcomes = [
        apply_override(determine(threshold, runs, now, interval), overrides)
        for threshold in content["thresholds"]
    ]
    baseline = content["version"].get("baseline_level")
    candidates = [(ranks.get(baseline, 0), baseline or "")] if baseline else [(0, "")]
    candidates += [
        (ranks[o.level], o.level)
        for o in outcomes
        if o.outcome in REQUIRES_LEVEL and o.level in ranks
    ]
    rank, level = max(candidates)
    return Assessment(outcomes=outcomes, required_level=level, required_rank=rank)
