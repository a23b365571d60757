"""The if-then commitments, rendered from a version's content (never typed by hand).

If a model reaches CBRN-3, shown by bio_uplift_probe/includes/accuracy >= 0.5, then before
deployment: <the safeguards of ASL-3 and below>. If these cannot be in place, deployment is
paused or restricted by <the authorities holding those powers today>.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from governance.validation import number


@dataclass(frozen=True)
class Commitment:
    threshold: str
    domain: str
    level: str
    level_defined: bool
    triggers: list[str]
    safeguards: list[str]
    authorities: list[str]

    @property
    def sentence(self) -> str:
        triggers = " or ".join(self.triggers)
        if not self.level_defined:
            then = (
                f"then {self.level} applies, which is not defined yet: no deployment can be "
                "approved until it is"
            )
        else:
            then = f"then before deployment: {_join(self.safeguards) or 'no safeguard is listed'}"
        by = _join(self.authorities) or "nobody (no authority holds these powers today)"
        return (
            f"If a model reaches {self.threshold}, shown by {triggers}, {then}. If these cannot "
            f"be in place, deployment is paused or restricted by {by}."
        )


def _join(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def trigger_text(condition: Mapping[str, Any]) -> str:
    return (
        f"{condition['evaluation']}/{condition['metric']} "
        f"{condition['comparator']} {number(condition['value'])}"
    )


def required_safeguards(content: Mapping[str, Any], level_code: str) -> list[dict[str, Any]]:
    """Cumulative: a level requires every safeguard whose minimum level ranks at or below it."""
    ranks = {level["code"]: level["rank"] for level in content["levels"]}
    if level_code not in ranks:
        return []
    return [
        safeguard
        for safeguard in content["safeguards"]
        if ranks.get(safeguard["minimum_level"], float("inf")) <= ranks[level_code]
    ]


def authority_in_force(authority: Mapping[str, Any], on: date) -> bool:
    starts = str(authority["valid_from"]) <= on.isoformat()
    until = authority.get("valid_until")
    return starts and (until is None or on.isoformat() <= str(until))


def pausing_authorities(
    content: Mapping[str, Any], on: date, names: Mapping[str, str] | None = None
) -> list[str]:
    names = names or {}
    out = []
    for authority in content["authorities"]:
        if not authority_in_force(authority, on):
            continue
        if not {"pause", "restrict"} & set(authority["powers"]):
            continue
        name = names.get(authority["username"], authority["username"])
        scope = authority["scope"]
        out.append(name if scope == "all" else f"{name} (for {', '.join(scope)})")
    return out


def commitments(
    content: Mapping[str, Any], on: date, names: Mapping[str, str] | None = None
) -> list[Commitment]:
    levels = {level["code"]: level for level in content["levels"]}
    authorities = pausing_authorities(content, on, names)
    result = []
    for threshold in sorted(content["thresholds"], key=lambda t: (t["domain"], t["code"])):
        level = levels.get(threshold["required_level"], {})
        result.append(
            Commitment(
                threshold=threshold["code"],
                domain=threshold["domain"],
                level=threshold["required_level"],
                level_defined=bool(level.get("defined", False)),
                triggers=[trigger_text(c) for c in threshold["conditions"]],
                safeguards=[
                    f"{s['name']} ({s['code']})"
                    for s in required_safeguards(content, threshold["required_level"])
                ],
                authorities=authorities,
            )
        )
    return result
