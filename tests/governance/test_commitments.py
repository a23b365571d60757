from datetime import date

import pytest

from governance.commitments import (
    commitments,
    pausing_authorities,
    required_safeguards,
    trigger_text,
)
from tests.governance.builders import authority, condition, content, level, threshold

TODAY = date(2026, 3, 1)


def _sentence(data, code="BIO-1", names=None) -> str:
    [found] = [c for c in commitments(data, TODAY, names) if c.threshold == code]
    return found.sentence


def test_the_sentence_states_the_trigger_the_safeguards_and_who_can_pause():
    assert _sentence(content()) == (
        "If a model reaches BIO-1, shown by bio_uplift_probe/includes/accuracy >= 0.5, then "
        "before deployment: Safeguard SG-A (SG-A) and Safeguard SG-B (SG-B). If these cannot "
        "be in place, deployment is paused or restricted by alice."
    )


@pytest.mark.parametrize(
    ("level_code", "expected"),
    [
        ("L1", ["SG-A"]),
        ("L2", ["SG-A", "SG-B"]),
        ("L3", ["SG-A", "SG-B", "SG-C"]),
        ("L9", []),
    ],
)
def test_a_level_requires_the_safeguards_of_its_rank_and_below(level_code, expected):
    found = required_safeguards(content(), level_code)

    assert [safeguard["code"] for safeguard in found] == expected


def test_a_safeguard_of_an_unknown_level_is_required_by_no_level():
    data = content()
    data["safeguards"][0]["minimum_level"] = "L9"

    assert [s["code"] for s in required_safeguards(data, "L3")] == ["SG-B", "SG-C"]


def test_three_safeguards_are_listed_with_commas():
    sentence = _sentence(content(), "CYBER-1")

    assert (
        "then before deployment: Safeguard SG-A (SG-A), Safeguard SG-B (SG-B), and "
        "Safeguard SG-C (SG-C). If these" in sentence
    )


def test_a_level_without_safeguards_says_none_is_listed():
    assert "then before deployment: no safeguard is listed." in _sentence(content(safeguards=[]))


@pytest.mark.parametrize(
    ("comparator", "value", "text"),
    [
        (">=", 0.5, "bio_uplift_probe/includes/accuracy >= 0.5"),
        (">", 0.25, "bio_uplift_probe/includes/accuracy > 0.25"),
        ("<=", 45.0, "bio_uplift_probe/includes/accuracy <= 45"),
        ("<", 90, "bio_uplift_probe/includes/accuracy < 90"),
    ],
)
def test_a_trigger_reads_evaluation_metric_comparator_and_value(comparator, value, text):
    assert trigger_text(condition(comparator, value, None)) == text


def test_several_conditions_are_joined_with_or():
    conditions = [
        condition(">=", 0.5, None),
        condition("<=", 45, None, evaluation="cyber_ctf", metric="minutes"),
    ]
    data = content(thresholds=[threshold("BIO-1", "BIO", "L2", conditions)])

    assert (
        "shown by bio_uplift_probe/includes/accuracy >= 0.5 or cyber_ctf/minutes <= 45, then"
        in _sentence(data)
    )


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "in_force"),
    [
        ("2026-01-01", None, True),
        ("2026-03-01", None, True),
        ("2026-03-02", None, False),
        ("2026-01-01", "2026-03-01", True),
        ("2026-01-01", "2026-02-28", False),
    ],
)
def test_only_authorities_in_force_on_the_day_are_named(valid_from, valid_until, in_force):
    data = content(authorities=[authority("alice", valid_from=valid_from, valid_until=valid_until)])

    assert pausing_authorities(data, TODAY) == (["alice"] if in_force else [])


@pytest.mark.parametrize(
    ("powers", "named"),
    [
        (["pause"], True),
        (["restrict"], True),
        (["pause", "restrict", "lift", "approve"], True),
        (["lift", "approve"], False),
        (["approve"], False),
    ],
)
def test_only_authorities_that_can_pause_or_restrict_are_named(powers, named):
    data = content(authorities=[authority("alice", powers=powers)])

    assert pausing_authorities(data, TODAY) == (["alice"] if named else [])


def test_a_scoped_authority_is_named_with_its_models():
    data = content(authorities=[authority("alice"), authority("bob", scope=["orion", "vega"])])

    assert pausing_authorities(data, TODAY) == ["alice", "bob (for orion, vega)"]


def test_display_names_replace_usernames_when_given():
    data = content(
        authorities=[authority("alice"), authority("bob", scope=["orion"]), authority("carol")]
    )
    names = {"alice": "Alice Liddell", "bob": "Bob Ross"}

    assert _sentence(data, names=names).endswith(
        "paused or restricted by Alice Liddell, Bob Ross (for orion), and carol."
    )


def test_a_threshold_needing_an_undefined_level_says_so():
    data = content(levels=[level(1, "L1"), level(2, "L2", defined=False), level(3, "L3")])

    sentence = _sentence(data)

    assert (
        "then L2 applies, which is not defined yet: no deployment can be approved until it is."
        in sentence
    )
    assert "before deployment" not in sentence


def test_a_threshold_needing_a_missing_level_reads_as_not_defined():
    data = content(thresholds=[threshold("BIO-1", "BIO", "L9")])

    [commitment] = commitments(data, TODAY)

    assert commitment.level_defined is False
    assert commitment.safeguards == []
    assert "then L9 applies, which is not defined yet" in commitment.sentence


def test_without_an_authority_in_force_nobody_can_pause():
    data = content(authorities=[authority("alice", valid_from="2027-01-01")])

    assert _sentence(data).endswith(
        "deployment is paused or restricted by nobody (no authority holds these powers today)."
    )


def test_commitments_are_ordered_by_domain_then_code():
    data = content(
        thresholds=[
            threshold("A-1", "CYBER", "L3"),
            threshold("BIO-2", "BIO", "L2"),
            threshold("Z-1", "BIO", "L2"),
            threshold("BIO-1", "BIO", "L2"),
        ]
    )

    found = [(c.domain, c.threshold) for c in commitments(data, TODAY)]

    assert found == [("BIO", "BIO-1"), ("BIO", "BIO-2"), ("BIO", "Z-1"), ("CYBER", "A-1")]


def test_each_commitment_carries_its_level_triggers_and_safeguards():
    [bio, cyber] = commitments(content(), TODAY)

    assert (bio.level, bio.level_defined) == ("L2", True)
    assert bio.triggers == ["bio_uplift_probe/includes/accuracy >= 0.5"]
    assert cyber.safeguards == [
        "Safeguard SG-A (SG-A)",
        "Safeguard SG-B (SG-B)",
        "Safeguard SG-C (SG-C)",
    ]
    assert bio.authorities == cyber.authorities == ["alice"]
