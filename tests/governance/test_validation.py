import copy

import pytest

from governance.validation import Issue, errors, validate
from tests.governance.builders import authority, condition, content, level, threshold


def _messages(data) -> list[str]:
    return [issue.message for issue in validate(data)]


def _at(data, path) -> list[Issue]:
    return [issue for issue in validate(data) if issue.path == path]


def _with_alert(comparator, value, alert_value):
    conditions = [condition(comparator, value, alert_value)]
    return content(thresholds=[threshold("BIO-1", "BIO", "L2", conditions)])


def test_the_default_content_has_no_issue():
    assert validate(content()) == []


@pytest.mark.parametrize(
    ("section", "key", "message"),
    [
        ("levels", "code", "Level code L1 appears more than once"),
        ("domains", "code", "Domain code BIO appears more than once"),
        ("thresholds", "code", "Threshold code BIO-1 appears more than once"),
        ("safeguards", "code", "Safeguard code SG-A appears more than once"),
        ("authorities", "username", "Authority alice appears more than once"),
    ],
)
def test_a_code_repeated_in_a_section_is_an_error_on_each_copy(section, key, message):
    data = content()
    twin = copy.deepcopy(data[section][0])
    if section == "levels":
        twin["rank"] = 4  # keep the ranks contiguous: only the code repeats
    data[section].append(twin)
    last = len(data[section]) - 1

    found = [issue for issue in validate(data) if issue.message == message]

    assert [issue.path for issue in found] == [(section, 0, key), (section, last, key)]
    assert all(issue.is_error for issue in found)


def test_a_gap_in_level_ranks_is_an_error_naming_the_missing_rank():
    data = content(levels=[level(1, "L1"), level(2, "L2"), level(4, "L3")])

    assert _at(data, ("levels",)) == [
        Issue("error", ("levels",), "Level ranks must be contiguous: rank 3 is missing ([1, 2, 4])")
    ]


def test_ranks_need_not_start_at_one_but_must_be_contiguous():
    data = content(levels=[level(2, "L1"), level(3, "L2"), level(4, "L3")])

    assert validate(data) == []


def test_a_repeated_rank_is_an_error():
    data = content(levels=[level(1, "L1"), level(2, "L2"), level(2, "L3")])

    [issue] = _at(data, ("levels",))
    assert issue.is_error
    assert issue.message == "Level ranks must be unique: 2 repeats ([1, 2, 2])"


def test_a_single_level_is_enough():
    data = content(
        levels=[level(1, "ONLY")],
        thresholds=[threshold("BIO-1", "BIO", "ONLY")],
        safeguards=[],
    )

    assert validate(data) == []


def test_a_version_without_levels_is_an_error():
    data = content(levels=[], thresholds=[], safeguards=[])

    assert _messages(data) == ["A policy version needs at least one safety level"]


def test_a_threshold_requiring_a_level_of_another_version_is_an_error():
    data = content(thresholds=[threshold("BIO-1", "BIO", "L9")])

    assert _at(data, ("thresholds", 0, "required_level")) == [
        Issue(
            "error",
            ("thresholds", 0, "required_level"),
            "Threshold BIO-1: L9 is not a level of this version",
        )
    ]


def test_a_threshold_in_a_domain_of_another_version_is_an_error():
    data = content(thresholds=[threshold("BIO-1", "BIO", "L2"), threshold("X-1", "NUKE", "L3")])

    assert _at(data, ("thresholds", 1, "domain")) == [
        Issue(
            "error",
            ("thresholds", 1, "domain"),
            "Threshold X-1: NUKE is not a domain of this version",
        )
    ]


def test_a_safeguard_minimum_level_of_another_version_is_an_error():
    data = content()
    data["safeguards"][2]["minimum_level"] = "L9"

    assert _at(data, ("safeguards", 2, "minimum_level")) == [
        Issue(
            "error",
            ("safeguards", 2, "minimum_level"),
            "Safeguard SG-C: L9 is not a level of this version",
        )
    ]


def test_a_baseline_level_of_another_version_is_an_error():
    data = content(version={"baseline_level": "L9"})

    assert _at(data, ("version", "baseline_level")) == [
        Issue(
            "error",
            ("version", "baseline_level"),
            "Baseline level L9 is not a level of this version",
        )
    ]


def test_a_baseline_level_of_the_version_is_fine():
    assert validate(content(version={"baseline_level": "L2"})) == []


@pytest.mark.parametrize(
    ("comparator", "alert_value", "side"),
    [
        (">=", 0.6, "below"),
        (">=", 0.5, "below"),
        (">", 0.6, "below"),
        (">", 0.5, "below"),
        ("<=", 0.4, "above"),
        ("<=", 0.5, "above"),
        ("<", 0.4, "above"),
        ("<", 0.5, "above"),
    ],
)
def test_an_alert_value_on_the_wrong_side_or_equal_is_an_error(comparator, alert_value, side):
    path = ("thresholds", 0, "conditions", 0, "alert_value")
    message = (
        f"Threshold BIO-1: the alert value {alert_value:g} must be {side} the threshold value 0.5"
    )

    assert validate(_with_alert(comparator, 0.5, alert_value)) == [Issue("error", path, message)]


@pytest.mark.parametrize(
    ("comparator", "alert_value"),
    [(">=", 0.4), (">", 0.4), ("<=", 0.6), ("<", 0.6), (">=", None), ("<", None)],
)
def test_an_alert_value_on_the_safe_side_or_absent_is_fine(comparator, alert_value):
    assert validate(_with_alert(comparator, 0.5, alert_value)) == []


def test_an_alert_issue_points_at_its_threshold_and_condition():
    bad = [condition(">=", 0.5, 0.4), condition("<=", 30, 20)]
    data = content(
        thresholds=[threshold("BIO-1", "BIO", "L2"), threshold("X-1", "CYBER", "L3", bad)]
    )

    assert [issue.path for issue in validate(data)] == [
        ("thresholds", 1, "conditions", 1, "alert_value")
    ]
    assert _messages(data) == [
        "Threshold X-1: the alert value 20 must be above the threshold value 30"
    ]


def test_an_authority_ending_before_it_starts_is_an_error():
    data = content(authorities=[authority("alice", valid_until="2025-12-31")])

    assert validate(data) == [
        Issue(
            "error",
            ("authorities", 0, "valid_until"),
            "Authority alice: valid until 2025-12-31 is before valid from 2026-01-01",
        )
    ]


def test_an_authority_valid_for_a_single_day_is_fine():
    assert validate(content(authorities=[authority("alice", valid_until="2026-01-01")])) == []


def test_an_authority_without_powers_is_an_error():
    data = content(authorities=[authority("alice"), authority("bob", powers=[])])

    assert validate(data) == [
        Issue("error", ("authorities", 1, "powers"), "Authority bob holds no power")
    ]


def test_a_threshold_without_conditions_is_an_error():
    data = content(thresholds=[threshold("BIO-1", "BIO", "L2", conditions=[])])

    assert validate(data) == [
        Issue("error", ("thresholds", 0, "conditions"), "Threshold BIO-1 needs a trigger condition")
    ]


def test_a_threshold_requiring_an_undefined_level_is_a_warning():
    data = content(levels=[level(1, "L1"), level(2, "L2"), level(3, "L3", defined=False)])

    [issue] = validate(data)

    assert issue.severity == "warning"
    assert not issue.is_error
    assert issue.path == ("thresholds", 1, "required_level")
    assert "CYBER-1 requires L3, which is not defined yet" in issue.message


def test_errors_leave_out_warnings_but_keep_errors():
    data = content(
        levels=[level(1, "L1"), level(2, "L2"), level(3, "L3", defined=False)],
        authorities=[authority("alice", powers=[])],
    )

    assert [issue.severity for issue in validate(data)] == ["warning", "error"]
    assert errors(data) == [
        Issue("error", ("authorities", 0, "powers"), "Authority alice holds no power")
    ]
