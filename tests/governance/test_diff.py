import copy
import re

import pytest

from governance.content import content_sha256
from governance.diff import FieldChange, diff
from tests.governance.builders import (
    authority,
    condition,
    content,
    domain,
    level,
    safeguard,
    threshold,
)

TITLES = {
    "levels": "Safety levels",
    "domains": "Risk domains",
    "thresholds": "Capability thresholds",
    "safeguards": "Safeguards",
    "authorities": "Authorities",
}


def _section(result, name):
    [found] = [section for section in result.sections if section.title == TITLES[name]]
    return found


def _changed_sections(result) -> list[str]:
    return [section.title for section in result.sections if not section.empty]


def test_identical_contents_make_an_empty_diff():
    result = diff(content(), content())

    assert result.empty
    assert result.settings == []
    assert [section.title for section in result.sections] == list(TITLES.values())


@pytest.mark.parametrize(
    ("name", "new_item", "added", "removed"),
    [
        ("levels", level(4, "L4"), "L4", "L1"),
        ("domains", domain("MANIP"), "MANIP", "BIO"),
        ("thresholds", threshold("BIO-9", "BIO", "L2"), "BIO-9", "BIO-1"),
        ("safeguards", safeguard("SG-Z", "L3"), "SG-Z", "SG-A"),
        ("authorities", authority("zoe"), "zoe", "alice"),
    ],
)
def test_items_are_added_and_removed_by_code(name, new_item, added, removed):
    new = content()
    new[name] = [*new[name][1:], new_item]

    result = diff(content(), new)

    assert not result.empty
    assert _changed_sections(result) == [TITLES[name]]
    assert _section(result, name).added == [added]
    assert _section(result, name).removed == [removed]
    assert _section(result, name).changed == {}


@pytest.mark.parametrize(
    ("name", "index", "key", "field", "before", "after"),
    [
        ("levels", 1, "L2", "defined", True, False),
        ("domains", 0, "BIO", "name", "Domain BIO", "Biology"),
        ("thresholds", 1, "CYBER-1", "required_level", "L3", "L2"),
        ("safeguards", 2, "SG-C", "family", "security", "governance"),
        ("authorities", 0, "alice", "powers", ["pause", "restrict", "lift", "approve"], ["lift"]),
    ],
)
def test_a_changed_field_shows_its_before_and_after(name, index, key, field, before, after):
    new = content()
    new[name][index][field] = after

    result = diff(content(), new)

    assert _changed_sections(result) == [TITLES[name]]
    assert _section(result, name).changed == {key: [FieldChange(field, before, after)]}
    assert _section(result, name).added == _section(result, name).removed == []


def test_a_changed_condition_value_shows_under_the_threshold_conditions():
    new = content()
    new["thresholds"][0]["conditions"][0]["value"] = 0.6

    changes = _section(diff(content(), new), "thresholds").changed

    assert changes == {
        "BIO-1": [
            FieldChange("conditions", [condition(">=", 0.5, 0.4)], [condition(">=", 0.6, 0.4)])
        ]
    }


def test_several_changes_to_one_item_are_listed_together():
    new = content()
    new["levels"][2].update(name="Top", approval_quorum=3)

    assert _section(diff(content(), new), "levels").changed == {
        "L3": [FieldChange("name", "Level L3", "Top"), FieldChange("approval_quorum", 1, 3)]
    }


def test_changed_items_are_listed_by_code():
    old = content()
    new = copy.deepcopy(old)
    for item in new["safeguards"]:
        item["description"] = "now described"
    new["safeguards"].reverse()

    assert list(_section(diff(old, new), "safeguards").changed) == ["SG-A", "SG-B", "SG-C"]


def test_version_settings_changes_are_listed_as_settings():
    new = content(version={"label": "1.1", "signing_quorum": 2})

    result = diff(content(), new)

    assert result.settings == [
        FieldChange("label", "1.0", "1.1"),
        FieldChange("signing_quorum", 1, 2),
    ]
    assert not result.empty
    assert _changed_sections(result) == []


@pytest.mark.parametrize(
    ("old_from", "new_from"),
    [("2026-01-01", "2026-06-01"), (None, "2026-06-01"), ("2026-01-01", None)],
)
def test_effective_from_is_not_a_change(old_from, new_from):
    old = content(version={"effective_from": old_from})
    new = content(version={"effective_from": new_from})

    assert diff(old, new).empty


def test_the_hash_is_stable_for_the_same_content():
    digest = content_sha256(content())

    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert content_sha256(copy.deepcopy(content())) == digest


def test_the_hash_does_not_depend_on_key_order():
    reordered = content()
    reordered["version"] = dict(reversed(reordered["version"].items()))

    assert content_sha256(reordered) == content_sha256(content())


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["policy"].update(name="Renamed"),
        lambda c: c["version"].update(label="1.1"),
        lambda c: c["version"].update(signing_quorum=2),
        lambda c: c["levels"][0].update(capability_bar="Changed."),
        lambda c: c["domains"][1].update(description="Changed."),
        lambda c: c["thresholds"][0]["conditions"][0].update(value=0.55),
        lambda c: c["thresholds"][1]["conditions"][0].update(alert_value=None),
        lambda c: c["safeguards"][0].update(scope="release"),
        lambda c: c["authorities"][0].update(valid_until="2027-01-01"),
        lambda c: c["authorities"][0].update(scope=["orion"]),
    ],
)
def test_the_hash_changes_when_any_field_changes(change):
    changed = content()
    change(changed)

    assert content_sha256(changed) != content_sha256(content())


def test_the_hash_ignores_effective_from():
    published = content(version={"effective_from": "2026-06-01"})

    assert content_sha256(published) == content_sha256(content())
    assert "effective_from" in published["version"]  # the caller's content is left alone
