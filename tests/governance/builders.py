"""Small, valid policy contents to vary in the governance tests (pure data, no database).

The default content has three contiguous levels (L1 < L2 < L3), two domains, one threshold per
domain, one safeguard per level and one authority. Its items carry exactly the fields
``policy_yaml.parse`` produces, plus ``granted_by`` on authorities as the database export does.
"""

from __future__ import annotations

import copy
from typing import Any

from governance.content import FORMAT


def level(rank: int, code: str, **fields: Any) -> dict[str, Any]:
    return {
        "rank": rank,
        "code": code,
        "name": f"Level {code}",
        "capability_bar": "",
        "defined": True,
        "approval_quorum": 1,
        **fields,
    }


def domain(code: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "name": f"Domain {code}", "description": "", **fields}


def condition(comparator: str = ">=", value: float = 0.5, alert_value: float | None = 0.4,
              **fields: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "evaluation": "bio_uplift_probe",
        "metric": "includes/accuracy",
        "comparator": comparator,
        "value": value,
        "alert_value": alert_value,
        **fields,
    }


def threshold(code: str, domain: str, required_level: str, conditions: list[dict] | None = None,
              **fields: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "code": code,
        "domain": domain,
        "description": "",
        "required_level": required_level,
        "conditions": [condition()] if conditions is None else conditions,
        **fields,
    }


def safeguard(code: str, minimum_level: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"Safeguard {code}",
        "family": "security",
        "scope": "model_version",
        "description": "",
        "evidence_required": "",
        "minimum_level": minimum_level,
        **fields,
    }


def authority(username: str, **fields: Any) -> dict[str, Any]:
    return {
        "username": username,
        "scope": "all",
        "powers": ["pause", "restrict", "lift", "approve"],
        "valid_from": "2026-01-01",
        "valid_until": None,
        "granted_by": "lead",
        **fields,
    }


def content(*, version: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
    """The default content, with ``version`` settings merged in and whole sections replaced."""
    base = {
        "format": FORMAT,
        "policy": {"name": "Example Scaling Policy", "slug": "example"},
        "version": {
            "label": "1.0",
            "changelog": "",
            "reevaluation_interval_days": 90,
            "baseline_level": None,
            "signing_quorum": 1,
            **(version or {}),
        },
        "levels": [level(1, "L1"), level(2, "L2"), level(3, "L3")],
        "domains": [domain("BIO"), domain("CYBER")],
        "thresholds": [threshold("BIO-1", "BIO", "L2"), threshold("CYBER-1", "CYBER", "L3")],
        "safeguards": [safeguard("SG-A", "L1"), safeguard("SG-B", "L2"), safeguard("SG-C", "L3")],
        "authorities": [authority("alice")],
    }
    unknown = set(sections) - set(base)
    assert not unknown, f"not a section: {unknown}"
    base.update(copy.deepcopy(sections))
    return base


def without_granted_by(data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for item in out["authorities"]:
        item.pop("granted_by", None)
    return out
