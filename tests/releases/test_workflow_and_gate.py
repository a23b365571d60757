"""The transition map and the gate are pure: tested exhaustively."""

from itertools import product

import pytest

from releases import workflow
from releases.gate import DecisionFact, GateInput, SafeguardFact, verdict

STATES = list(workflow.TRANSITIONS)
LEGAL = {
    ("draft", "submitted"),
    ("draft", "withdrawn"),
    ("submitted", "approved"),
    ("submitted", "withdrawn"),
    ("approved", "deployed"),
    ("approved", "submitted"),
    ("approved", "withdrawn"),
    ("deployed", "withdrawn"),
}


@pytest.mark.parametrize(("current", "target"), list(product(STATES, STATES)))
def test_the_transition_map_allows_exactly_the_legal_moves(current, target):
    assert workflow.can_move(current, target) is ((current, target) in LEGAL)
    if (current, target) in LEGAL:
        workflow.check_move(current, target)
    else:
        with pytest.raises(
            workflow.IllegalMove, match=f"a {current} release cannot become {target}"
        ):
            workflow.check_move(current, target)


def test_a_withdrawn_release_is_final():
    assert workflow.TRANSITIONS["withdrawn"] == frozenset()


def _facts(**changes):
    base = {
        "state": "approved",
        "context": "api",
        "required_level": "ASL-3",
        "level_defined": True,
        "approval_quorum": 2,
        "current_approvals": 2,
        "stale_approvals": 0,
        "safeguards": [SafeguardFact("SEC-1", "verified"), SafeguardFact("DEP-1", "verified")],
        "decisions": [],
        "blocked": False,
    }
    return GateInput(**{**base, **changes})


def test_an_approved_release_with_everything_in_place_may_ship():
    assert verdict(_facts()) == verdict(_facts(state="deployed"))
    assert verdict(_facts()).allowed is True
    assert verdict(_facts()).messages == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"state": "submitted"}, "the release is submitted, not approved"),
        ({"required_level": ""}, "the required level is not known yet"),
        ({"level_defined": False}, "ASL-3 is not defined in the policy"),
        (
            {
                "safeguards": [
                    SafeguardFact("SEC-1", "implemented"),
                    SafeguardFact("DEP-1", "verified"),
                ]
            },
            "safeguards not verified: SEC-1",
        ),
        ({"current_approvals": 1, "stale_approvals": 1}, "approvals: 1 of 2 current (1 stale)"),
        ({"blocked": True}, "blocked until the safeguards its level requires are verified"),
        (
            {"decisions": [DecisionFact("pause", "model version")]},
            "paused by a decision on its model version",
        ),
        (
            {"decisions": [DecisionFact("restrict", "model", frozenset({"internal"}))]},
            "restricted by a decision on its model to internal",
        ),
    ],
)
def test_every_missing_condition_denies_with_its_reason(changes, reason):
    result = verdict(_facts(**changes))
    assert result.allowed is False
    assert any(r.startswith(reason) for r in result.messages), result.messages


def test_a_restriction_that_allows_the_context_does_not_deny():
    facts = _facts(decisions=[DecisionFact("restrict", "release", frozenset({"api", "internal"}))])
    assert verdict(facts).allowed is True


def test_all_reasons_are_given_at_once():
    facts = _facts(state="draft", current_approvals=0, decisions=[DecisionFact("pause", "model")])
    assert len(verdict(facts).messages) == 3
