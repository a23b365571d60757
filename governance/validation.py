"""Rules a policy version must satisfy, as plain functions over its content (docs/policy-yaml.md).

Errors block publishing (and an import); warnings are shown on the register. Each issue carries
the path of the item it concerns, e.g. ``("thresholds", 2, "conditions", 0, "alert_value")``,
which the YAML importer turns into a line number and the editor into a place on the page.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # policies, and models named in an authority
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # levels, domains, thresholds, safeguards
MAX_INTERVAL_DAYS = 3650  # evidence older than ten years is never "current"
BELOW = {">=", ">"}  # for these comparators an alert value lies below the threshold value


@dataclass(frozen=True)
class Issue:
    severity: str  # "error" or "warning"
    path: Path
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def _error(path: Path, message: str) -> Issue:
    return Issue("error", path, message)


def number(value: float) -> str:
    """A threshold value as people write it: 0.5, 60, 0.1234567 (no float noise, no rounding)."""
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def alert_on_wrong_side(comparator: str, value: float, alert_value: float | None) -> str | None:
    """The message when an alert value would not warn *before* the threshold is crossed."""
    if alert_value is None:
        return None
    if comparator in BELOW and not alert_value < value:
        side = "below"
    elif comparator not in BELOW and not alert_value > value:
        side = "above"
    else:
        return None
    return (
        f"the alert value {number(alert_value)} must be {side} the threshold value {number(value)}"
    )


def _duplicates(section: str, items: list[dict[str, Any]], key: str, label: str) -> Iterator[Issue]:
    counts = Counter(item.get(key) for item in items)
    for index, item in enumerate(items):
        if counts[item.get(key)] > 1:
            yield _error((section, index, key), f"{label} {item.get(key)} appears more than once")


def _rank_gaps(levels: list[dict[str, Any]]) -> Iterator[Issue]:
    ranks = sorted(level["rank"] for level in levels)
    if not ranks:
        yield _error(("levels",), "A policy version needs at least one safety level")
        return
    repeated = sorted(rank for rank, count in Counter(ranks).items() if count > 1)
    if repeated:
        yield _error(("levels",), f"Level ranks must be unique: {repeated[0]} repeats ({ranks})")
        return
    missing = sorted(set(range(ranks[0], ranks[-1] + 1)) - set(ranks))
    if missing:
        message = f"Level ranks must be contiguous: rank {missing[0]} is missing ({ranks})"
        yield _error(("levels",), message)


def _references(content: dict[str, Any]) -> Iterator[Issue]:
    levels = {level["code"]: level for level in content["levels"]}
    domains = {domain["code"] for domain in content["domains"]}
    baseline = content["version"].get("baseline_level")
    if baseline is not None and baseline not in levels:
        message = f"Baseline level {baseline} is not a level of this version"
        yield _error(("version", "baseline_level"), message)
    for i, threshold in enumerate(content["thresholds"]):
        yield from _threshold_issues(("thresholds", i), threshold, levels, domains)
    for i, safeguard in enumerate(content["safeguards"]):
        if safeguard["minimum_level"] not in levels:
            message = (
                f"Safeguard {safeguard['code']}: {safeguard['minimum_level']} "
                "is not a level of this version"
            )
            yield _error(("safeguards", i, "minimum_level"), message)


def _threshold_issues(
    where: Path, threshold: dict[str, Any], levels: dict[str, Any], domains: set[str]
) -> Iterator[Issue]:
    code = threshold["code"]
    if threshold["domain"] not in domains:
        message = f"Threshold {code}: {threshold['domain']} is not a domain of this version"
        yield _error((*where, "domain"), message)
    level = levels.get(threshold["required_level"])
    if level is None:
        message = f"Threshold {code}: {threshold['required_level']} is not a level of this version"
        yield _error((*where, "required_level"), message)
    elif not level["defined"]:
        message = (
            f"Threshold {code} requires {level['code']}, which is not defined yet: "
            "a release needing it can never be approved"
        )
        yield Issue("warning", (*where, "required_level"), message)
    if not threshold["conditions"]:
        yield _error((*where, "conditions"), f"Threshold {code} needs a trigger condition")
    for j, condition in enumerate(threshold["conditions"]):
        problem = alert_on_wrong_side(
            condition["comparator"], condition["value"], condition.get("alert_value")
        )
        if problem:
            yield _error((*where, "conditions", j, "alert_value"), f"Threshold {code}: {problem}")


def _authorities(content: dict[str, Any]) -> Iterator[Issue]:
    for i, authority in enumerate(content["authorities"]):
        until = authority.get("valid_until")
        if until is not None and str(until) < str(authority["valid_from"]):
            message = (
                f"Authority {authority['username']}: valid until {until} "
                f"is before valid from {authority['valid_from']}"
            )
            yield _error(("authorities", i, "valid_until"), message)
        if not authority["powers"]:
            message = f"Authority {authority['username']} holds no power"
            yield _error(("authorities", i, "powers"), message)


def validate(content: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    for section, key, label in (
        ("levels", "code", "Level code"),
        ("domains", "code", "Domain code"),
        ("thresholds", "code", "Threshold code"),
        ("safeguards", "code", "Safeguard code"),
        ("authorities", "username", "Authority"),
    ):
        issues.extend(_duplicates(section, content[section], key, label))
    issues.extend(_rank_gaps(content["levels"]))
    issues.extend(_references(content))
    issues.extend(_authorities(content))
    return issues


def errors(content: dict[str, Any]) -> list[Issue]:
    return [issue for issue in validate(content) if issue.is_error]
