"""Determinations are pure: tested exhaustively here, with properties checked by hypothesis."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluations.determinations import (
    ALERT,
    CANNOT_RULE_OUT,
    CROSSED,
    RULED_OUT,
    OverrideFact,
    RunFact,
    assess,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
RECENT = NOW - timedelta(days=3)
OLD = NOW - timedelta(days=200)


def _content(interval=90, baseline="L1"):
    return {
        "version": {"reevaluation_interval_days": interval, "baseline_level": baseline},
        "levels": [{"code": f"L{rank}", "rank": rank} for rank in (1, 2, 3, 4)],
        "thresholds": [
            {"code": "BIO-3", "required_level": "L3", "conditions": [
                {"evaluation": "bio", "metric": "acc", "comparator": ">=", "value": 0.5,
                 "alert_value": 0.4},
            ]},
            {"code": "CYB-2", "required_level": "L2", "conditions": [
                {"evaluation": "cyber", "metric": "acc", "comparator": ">=", "value": 0.7,
                 "alert_value": None},
                {"evaluation": "speed", "metric": "minutes", "comparator": "<=", "value": 60,
                 "alert_value": 120},
            ]},
        ],
    }  # fmt: skip


def run(evaluation, value=None, *, metric=None, when=RECENT, ok=True, run_id=None, invalid=False):
    metric = metric or ("minutes" if evaluation == "speed" else "acc")
    results = {} if value is None else {metric: value}
    return RunFact(
        run_id=run_id or f"{evaluation}-{value}-{when:%j}-{ok}",
        evaluation=evaluation, succeeded=ok, completed_at=when, results=results,
        invalidated=invalid,
    )  # fmt: skip


def outcome_of(assessment, code):
    return next(o for o in assessment.outcomes if o.threshold == code)


ALL_CLEAR = [run("bio", 0.1), run("cyber", 0.1), run("speed", 500)]


def test_no_evidence_cannot_rule_anything_out_so_the_highest_level_applies():
    result = assess(_content(), [], now=NOW)
    assert [o.outcome for o in result.outcomes] == [CANNOT_RULE_OUT, CANNOT_RULE_OUT]
    assert (result.required_level, result.required_rank) == ("L3", 3)
    assert outcome_of(result, "BIO-3").reason == "no run of bio"


def test_current_clean_runs_rule_out_and_the_baseline_applies():
    result = assess(_content(), ALL_CLEAR, now=NOW)
    assert [o.outcome for o in result.outcomes] == [RULED_OUT, RULED_OUT]
    assert result.required_level == "L1"


def test_a_crossing_names_the_run_and_result_that_decided_it():
    runs = [*ALL_CLEAR, run("bio", 0.65, run_id="r-cross")]
    bio = outcome_of(assess(_content(), runs, now=NOW), "BIO-3")
    assert (bio.outcome, bio.deciding_run, bio.deciding_metric, bio.deciding_value) == (
        CROSSED,
        "r-cross",
        "acc",
        0.65,
    )
    assert "bio/acc = 0.65 in run r-cross (>= 0.5)" in bio.reason


def test_a_kinder_rerun_does_not_erase_a_crossing():
    runs = [run("bio", 0.65, when=OLD), run("bio", 0.1, when=RECENT)]
    assert outcome_of(assess(_content(), runs, now=NOW), "BIO-3").outcome == CROSSED


@pytest.mark.parametrize(
    ("runs", "reason"),
    [
        ([run("bio", ok=False)], "only failed or invalidated runs of bio"),
        ([run("bio", 0.1, invalid=True)], "only failed or invalidated runs of bio"),
        ([run("bio", 0.1, metric="f1")], "no successful run of bio reports acc"),
        ([run("bio", 0.1, when=OLD)], "older than 90 days"),
    ],
)
def test_absence_of_evidence_is_not_evidence_of_absence(runs, reason):
    bio = outcome_of(assess(_content(), runs, now=NOW), "BIO-3")
    assert bio.outcome == CANNOT_RULE_OUT
    assert reason in bio.reason


def test_a_value_past_the_alert_line_is_an_alert_that_does_not_raise_the_level():
    runs = [run("bio", 0.45), run("cyber", 0.1), run("speed", 500)]
    result = assess(_content(), runs, now=NOW)
    assert outcome_of(result, "BIO-3").outcome == ALERT
    assert result.required_level == "L1"


def test_lower_is_more_capable_for_a_less_than_comparator():
    runs = [run("bio", 0.1), run("cyber", 0.1), run("speed", 45)]
    assert outcome_of(assess(_content(), runs, now=NOW), "CYB-2").outcome == CROSSED
    runs[-1] = run("speed", 100)
    assert outcome_of(assess(_content(), runs, now=NOW), "CYB-2").outcome == ALERT


def test_every_condition_needs_current_evidence_to_rule_a_threshold_out():
    runs = [run("bio", 0.1), run("cyber", 0.1)]  # nothing for "speed"
    cyb = outcome_of(assess(_content(), runs, now=NOW), "CYB-2")
    assert (cyb.outcome, cyb.reason) == (CANNOT_RULE_OUT, "no run of speed")


def test_the_baseline_is_a_floor():
    assert assess(_content(baseline="L2"), ALL_CLEAR, now=NOW).required_level == "L2"
    assert assess(_content(baseline=None), ALL_CLEAR, now=NOW).required_level == ""


def test_an_override_applies_only_to_the_evidence_it_considered():
    runs = [*ALL_CLEAR, run("bio", 0.65, run_id="r-cross")]
    evidence = outcome_of(assess(_content(), runs, now=NOW), "BIO-3").evidence
    override = OverrideFact("o1", "BIO-3", RULED_OUT, frozenset(evidence))
    result = assess(_content(), runs, now=NOW, overrides=[override])
    bio = outcome_of(result, "BIO-3")
    assert (bio.outcome, bio.computed_outcome, bio.override_id) == (RULED_OUT, CROSSED, "o1")
    assert result.required_level == "L1"
    later = [*runs, run("bio", 0.2, run_id="r-new")]
    lapsed = outcome_of(assess(_content(), later, now=NOW, overrides=[override]), "BIO-3")
    assert (lapsed.outcome, lapsed.override_id) == (CROSSED, None)


# --- properties ------------------------------------------------------------------------------

EVALUATIONS = ("bio", "cyber", "speed")


@st.composite
def run_facts(draw):
    evaluation = draw(st.sampled_from(EVALUATIONS))
    scale = 1000.0 if evaluation == "speed" else 1.0
    value = draw(st.one_of(st.none(), st.floats(0, scale, allow_nan=False)))
    age = draw(st.integers(0, 400))
    return RunFact(
        run_id=f"r{draw(st.integers(0, 10**9))}",
        evaluation=evaluation,
        succeeded=draw(st.booleans()),
        completed_at=NOW - timedelta(days=age),
        results={} if value is None else {"minutes" if evaluation == "speed" else "acc": value},
        invalidated=draw(st.booleans()) and draw(st.booleans()),
    )


def _more_capable(fact, factor):
    """The same run with a score at least as capable (higher acc, fewer minutes)."""
    if not fact.results:
        return fact
    ((metric, value),) = fact.results.items()
    better = value * factor if metric == "minutes" else min(1.0, value + (1 - factor))
    return RunFact(fact.run_id, fact.evaluation, fact.succeeded, fact.completed_at,
                   {metric: better}, fact.invalidated)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(run_facts(), max_size=8, unique_by=lambda r: r.run_id), st.floats(0.0, 1.0))
def test_a_worse_score_never_lowers_the_level(facts, factor):
    before = assess(_content(), facts, now=NOW).required_rank
    after = assess(_content(), [_more_capable(f, factor) for f in facts], now=NOW).required_rank
    assert after >= before


@settings(max_examples=300, deadline=None)
@given(st.lists(run_facts(), min_size=1, max_size=8, unique_by=lambda r: r.run_id), st.data())
def test_removing_evidence_never_lowers_the_level_unless_it_was_a_crossing(facts, data):
    removed = data.draw(st.sampled_from(facts))
    full = assess(_content(), facts, now=NOW)
    crossing_runs = {o.deciding_run for o in full.outcomes if o.outcome == CROSSED}
    fewer = assess(_content(), [f for f in facts if f is not removed], now=NOW)
    if removed.run_id not in crossing_runs:
        assert fewer.required_rank >= full.required_rank


@settings(max_examples=300, deadline=None)
@given(st.lists(run_facts(), max_size=8, unique_by=lambda r: r.run_id))
def test_every_determination_names_what_decided_it(facts):
    by_id = {f.run_id: f for f in facts}
    for outcome in assess(_content(), facts, now=NOW).outcomes:
        if outcome.outcome in (CROSSED, ALERT, RULED_OUT):
            decider = by_id[outcome.deciding_run]
            assert decider.counts()
            assert decider.results[outcome.deciding_metric] == outcome.deciding_value
        assert outcome.reason


@settings(max_examples=200, deadline=None)
@given(st.lists(run_facts(), max_size=8, unique_by=lambda r: r.run_id))
def test_the_required_level_is_never_below_the_baseline(facts):
    assert assess(_content(baseline="L2"), facts, now=NOW).required_rank >= 2
