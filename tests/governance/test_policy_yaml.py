from pathlib import Path

import pytest

from governance.policy_yaml import MAX_BYTES, PolicyFileError, Problem, dump, parse
from tests.governance.builders import content, without_granted_by

TEMPLATES = Path(__file__).resolve().parents[2] / "governance" / "policy_templates"

C = "thresholds[0].conditions[0]"
NOT_FINITE = f"{C}.value: must be a finite number"

VALID = """\
format: scaling-policy/1
policy:
  name: Example Scaling Policy
  slug: example
version:
  label: "1.0"
  reevaluation_interval_days: 90
  signing_quorum: 1
levels:
  - rank: 1
    code: L1
    name: Low
  - rank: 2
    code: L2
    name: High
domains:
  - code: BIO
    name: Biology
thresholds:
  - code: BIO-1
    domain: BIO
    required_level: L2
    conditions:
      - evaluation: bio_uplift_probe
        metric: includes/accuracy
        comparator: ">="
        value: 0.5
        alert_value: 0.4
safeguards:
  - code: SG-A
    name: Access control
    family: security
    scope: model_version
    minimum_level: L1
authorities:
  - username: alice
    scope: [vega, orion]
    powers: [restrict, pause]
    valid_from: 2026-01-01
"""


def _edit(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _line(text: str, needle: str) -> int:
    [number] = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return number


def _problems(text: str) -> list[Problem]:
    with pytest.raises(PolicyFileError) as caught:
        parse(text)
    return caught.value.problems


def test_a_minimal_file_parses_with_defaults_filled_in():
    data = parse(VALID)

    assert data["version"] == {
        "label": "1.0",
        "changelog": "",
        "reevaluation_interval_days": 90,
        "baseline_level": None,
        "signing_quorum": 1,
    }
    assert data["levels"][0] == {
        "rank": 1,
        "code": "L1",
        "name": "Low",
        "capability_bar": "",
        "defined": True,
        "approval_quorum": 1,
    }
    assert data["thresholds"][0]["conditions"][0]["value"] == 0.5
    assert data["authorities"] == [
        {
            "username": "alice",
            "scope": ["orion", "vega"],
            "powers": ["pause", "restrict"],
            "valid_from": "2026-01-01",
            "valid_until": None,
        }
    ]


@pytest.mark.parametrize(("name", "levels"), [("rsp", 4), ("preparedness", 3), ("fsf", 3)])
def test_each_template_parses_and_round_trips(name, levels):
    data = parse((TEMPLATES / f"{name}.yaml").read_text(encoding="utf-8"))

    assert len(data["levels"]) == levels
    assert [level["rank"] for level in data["levels"]] == list(range(1, levels + 1))
    assert data["thresholds"] and data["safeguards"]
    assert data["authorities"] == []  # templates name no people; a lead adds their own
    assert parse(dump(data)) == data


def test_an_export_with_granted_by_reads_back_without_it():
    exported = content(version={"baseline_level": "L1", "changelog": "Why.\nAnd how."})
    text = dump(exported)

    assert text.startswith("# Policy as code, format scaling-policy/1")
    assert "granted_by: lead" in text
    assert parse(text) == without_granted_by(exported)


def test_a_yaml_syntax_error_names_its_line():
    text = _edit("  name: Example Scaling Policy", "  name: Example: Scaling Policy")

    assert _problems(text) == [
        Problem(
            _line(text, "Example: Scaling"), "not valid YAML: mapping values are not allowed here"
        )
    ]
    assert str(_problems(text)[0]).startswith("line 3: not valid YAML")


def test_a_tab_in_the_indentation_names_its_line():
    text = _edit("  name: Biology\n", "\tname: Biology\n")

    [problem] = _problems(text)

    assert problem.line == _line(text, "\tname: Biology")
    assert "not valid YAML" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param("scaling-policy/1", "scaling-policy/2", "format: must be scaling-policy/1",
                     id="another-format"),
        pytest.param("value: 0.5", 'value: "half"', NOT_FINITE, id="text-as-a-value"),
        pytest.param("value: 0.5", "value: true", NOT_FINITE, id="a-boolean-as-a-value"),
        pytest.param("value: 0.5", "value: .nan", NOT_FINITE, id="nan"),
        pytest.param("value: 0.5", "value: .inf", NOT_FINITE, id="infinity"),
        pytest.param("value: 0.5", "value: -.Inf", NOT_FINITE, id="minus-infinity"),
        pytest.param("value: 0.5", "value: 1" + "0" * 400, NOT_FINITE,
                     id="a-number-too-large-for-a-float-is-refused-not-a-crash"),
        pytest.param('comparator: ">="', 'comparator: "=>"',
                     f"{C}.comparator: must be one of >=, >, <=, <", id="unknown-comparator"),
        pytest.param("alert_value: 0.4", "alert_value: 0.7",
                     "Threshold BIO-1: the alert value 0.7 must be below the threshold value 0.5",
                     id="alert-value-on-the-wrong-side"),
        pytest.param("required_level: L2", "required_level: L9",
                     "Threshold BIO-1: L9 is not a level of this version", id="undefined-level"),
        pytest.param("slug: example", "slug: Bad_Slug",
                     "policy.slug: 'Bad_Slug' has characters that are not allowed", id="bad-slug"),
        pytest.param("powers: [restrict, pause]", "powers: [[restrict], pause]",
                     "authorities[0].powers: must be a list of pause, restrict, lift, approve",
                     id="a-list-as-a-power-is-refused-not-a-crash"),
        pytest.param("valid_from: 2026-01-01", "valid_from: 2026-01-01 10:30:00",
                     "authorities[0].valid_from: must be a date without a time of day",
                     id="a-date-with-a-time-of-day"),
    ],
)  # fmt: skip
def test_a_problem_names_the_line_of_the_value_it_concerns(old, new, message):
    text = _edit(old, new)

    assert _problems(text) == [Problem(_line(text, new), message)]


def test_a_missing_required_field_names_the_line_of_its_mapping():
    text = _edit('  label: "1.0"\n', "")

    assert _problems(text) == [
        Problem(_line(text, "reevaluation_interval_days"), "version.label: is required")
    ]


def test_a_file_over_the_size_limit_is_refused_before_reading():
    text = VALID + "#" * (MAX_BYTES - len(VALID.encode()) + 1)

    assert _problems(text) == [Problem(None, f"the file is larger than {MAX_BYTES // 1024} KB")]


def test_a_file_at_the_size_limit_is_read():
    text = VALID + "#" * (MAX_BYTES - len(VALID.encode()))

    assert len(text.encode()) == MAX_BYTES
    assert parse(text)["policy"]["slug"] == "example"


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing but a comment\n"])
def test_an_empty_file_is_refused(text):
    assert _problems(text) == [Problem(None, "the file is empty")]


def test_aliases_are_refused_so_a_billion_laughs_cannot_expand():
    rows = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        rows.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    text = "\n".join(rows) + "\n"

    [problem] = _problems(text)

    assert problem.message == "anchors and aliases are not supported"
    assert problem.line is not None


def test_an_alias_inside_a_policy_is_refused():
    text = _edit("name: Low", "name: &n Low")
    text = _edit("name: High", "name: *n", text)

    assert [p.message for p in _problems(text)] == ["anchors and aliases are not supported"]


def test_a_list_instead_of_a_mapping_is_refused():
    problems = _problems("- format: scaling-policy/1\n- policy: {}\n")

    assert problems[0] == Problem(1, "document: must be a mapping of fields")


def test_every_problem_is_reported_at_once():
    text = _edit('  label: "1.0"\n', "")
    text = _edit('comparator: ">="', 'comparator: "=="', text)
    text = _edit("value: 0.5", "value: high", text)
    text = _edit("family: security", "family: secret", text)

    assert _problems(text) == [
        Problem(_line(text, "reevaluation_interval_days"), "version.label: is required"),
        Problem(_line(text, "comparator:"), f"{C}.comparator: must be one of >=, >, <=, <"),
        Problem(_line(text, "value: high"), NOT_FINITE),
        Problem(
            _line(text, "family:"),
            "safeguards[0].family: must be one of security, deployment, governance",
        ),
    ]


def test_every_rule_broken_is_reported_at_once():
    text = _edit("alert_value: 0.4", "alert_value: 0.9")
    text = _edit("minimum_level: L1", "minimum_level: L7", text)

    assert _problems(text) == [
        Problem(
            _line(text, "alert_value:"),
            "Threshold BIO-1: the alert value 0.9 must be below the threshold value 0.5",
        ),
        Problem(_line(text, "minimum_level:"), "Safeguard SG-A: L7 is not a level of this version"),
    ]


def test_a_deeply_nested_document_is_refused_not_a_crash():
    problems = _problems("a: " + "[" * 5000 + "]" * 5000 + "\n")

    assert problems
    assert all(isinstance(problem, Problem) for problem in problems)
