"""A policy version as plain data: the document that is hashed, signed, exported and diffed.

The dict follows the YAML format of docs/policy-yaml.md exactly. Items are in a stable order
(levels by rank, everything else by code or username), so the same register always gives the
same bytes and the same hash. ``effective_from`` is a fact of publication, not of the content a
signer approves, so it is left out of the signed content.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from typing import Any

from django.db.models import Prefetch

from core.canonical import canonical_json
from governance import commitments
from governance.models import (
    CapabilityThreshold,
    PauseAuthority,
    PolicyVersion,
    Safeguard,
    TriggerCondition,
)

FORMAT = "scaling-policy/1"


class RegisterIntegrityError(Exception):
    """Published content that no longer has the hash its publishers signed: nothing may be
    decided on it (every gate denies with ``register_integrity``)."""


def load_version(version_id: int) -> PolicyVersion:
    """One version with everything the register pages and the content need, in 8 queries."""
    return (
        PolicyVersion.objects.select_related("policy", "baseline_level")
        .prefetch_related(
            "levels",
            "domains",
            Prefetch(
                "thresholds",
                queryset=CapabilityThreshold.objects.select_related(
                    "domain", "required_level"
                ).prefetch_related(Prefetch("conditions", queryset=TriggerCondition.objects.all())),
            ),
            Prefetch("safeguards", queryset=Safeguard.objects.select_related("minimum_level")),
            Prefetch(
                "authorities",
                queryset=PauseAuthority.objects.select_related("user", "granted_by"),
            ),
        )
        .get(pk=version_id)
    )


def condition_data(condition: TriggerCondition) -> dict[str, Any]:
    return {
        "evaluation": condition.evaluation_key,
        "metric": condition.metric_key,
        "comparator": condition.comparator,
        "value": condition.value,
        "alert_value": condition.alert_value,
    }


def authority_data(authority: PauseAuthority) -> dict[str, Any]:
    return {
        "username": authority.user.get_username(),
        "scope": "all" if authority.all_models else sorted(authority.model_slugs),
        "powers": [p for p in PauseAuthority.Power.values if p in authority.powers],
        "valid_from": authority.valid_from.isoformat(),
        "valid_until": authority.valid_until.isoformat() if authority.valid_until else None,
        "granted_by": authority.granted_by.get_username(),
    }


def version_content(version: PolicyVersion, *, with_publication: bool = False) -> dict[str, Any]:
    """``version`` should come from ``load_version`` (prefetched); otherwise this queries."""
    settings: dict[str, Any] = {
        "label": version.label,
        "changelog": version.changelog,
        "reevaluation_interval_days": version.reevaluation_interval_days,
        "baseline_level": version.baseline_level.code if version.baseline_level else None,
        "signing_quorum": version.signing_quorum,
    }
    # Only when set, so the content (and hash) of versions that never relaxed separation is
    # what it always was.
    if version.separation_waiver:
        settings["separation_waiver"] = version.separation_waiver
    if with_publication:
        settings["effective_from"] = (
            version.effective_from.isoformat() if version.effective_from else None
        )
    return {
        "format": FORMAT,
        "policy": {"name": version.policy.name, "slug": version.policy.slug},
        "version": settings,
        "levels": [
            {
                "rank": level.rank,
                "code": level.code,
                "name": level.name,
                "capability_bar": level.capability_bar,
                "defined": level.defined,
                "approval_quorum": level.approval_quorum,
            }
            for level in sorted(version.levels.all(), key=lambda level: level.rank)
        ],
        "domains": [
            {"code": d.code, "name": d.name, "description": d.description}
            for d in sorted(version.domains.all(), key=lambda d: d.code)
        ],
        "thresholds": [
            {
                "code": t.code,
                "domain": t.domain.code,
                "description": t.description,
                "required_level": t.required_level.code,
                "conditions": [
                    condition_data(c) for c in sorted(t.conditions.all(), key=_cond_key)
                ],
            }
            for t in sorted(version.thresholds.all(), key=lambda t: t.code)
        ],
        "safeguards": [
            {
                "code": s.code,
                "name": s.name,
                "family": s.family,
                "scope": s.scope,
                "description": s.description,
                "evidence_required": s.evidence_required,
                "minimum_level": s.minimum_level.code,
            }
            for s in sorted(version.safeguards.all(), key=lambda s: s.code)
        ],
        "authorities": [
            authority_data(a)
            for a in sorted(version.authorities.all(), key=lambda a: a.user.get_username())
        ],
    }


def _cond_key(condition: TriggerCondition) -> tuple[str, str, str, float]:
    return (condition.evaluation_key, condition.metric_key, condition.comparator, condition.value)


def content_sha256(content: dict[str, Any]) -> str:
    signed = {**content, "version": {k: v for k, v in content["version"].items()
                                     if k != "effective_from"}}  # fmt: skip
    return hashlib.sha256(canonical_json(signed)).hexdigest()


def in_force_content(version: PolicyVersion | int) -> dict[str, Any]:
    """``version_content`` of a published (or superseded) version, built once per process: its
    content never changes (the database refuses), so it is keyed by its hash. A draft's is
    built afresh each time. Callers get their own copy. Given the version row just read (the
    governing one, say), no query is needed to find the cached content.

    Published content is verified against its signed hash as it is loaded; content that does
    not match, or a version with an open integrity alarm, raises ``RegisterIntegrityError``."""
    if getattr(version, "integrity_alarm", False):
        raise RegisterIntegrityError(
            f"{version}: its stored content does not match what was signed (see the audit "
            "trail's integrity alarm)"
        )
    row = _cache_key(version)
    if row is None:
        return version_content(load_version(version if isinstance(version, int) else version.pk))
    return copy.deepcopy(_published(*row))


def required_safeguards(version: PolicyVersion, level: str) -> list[dict[str, Any]]:
    """The safeguards ``level`` requires under a version in force: what a release page and a
    gate need, without copying the whole content (cached like it)."""
    if getattr(version, "integrity_alarm", False):
        return []
    row = _cache_key(version)
    if row is None:
        return commitments.required_safeguards(in_force_content(version), level)
    try:
        return copy.deepcopy(_required(*row, level))
    except RegisterIntegrityError:
        return []  # the gate denies with the reason; no safeguard can be recorded meanwhile


def _cache_key(version: PolicyVersion | int) -> tuple[int, str, object] | None:
    """What a published version's cached content is keyed by; None for a draft."""
    if isinstance(version, int):
        row = (
            PolicyVersion.objects.filter(pk=version)
            .values_list("state", "content_sha256", "effective_from")
            .first()
        )
        if row is None:
            return None
        state, sha256, effective_from = row
    else:
        state, sha256, effective_from = (
            version.state,
            version.content_sha256,
            version.effective_from,
        )
    if state == PolicyVersion.State.DRAFT or not sha256:
        return None
    return (version if isinstance(version, int) else version.pk), sha256, effective_from


@functools.lru_cache(maxsize=128)
def _required(
    version_id: int, sha256: str, effective_from: object, level: str
) -> list[dict[str, Any]]:
    return commitments.required_safeguards(_published(version_id, sha256, effective_from), level)


@functools.lru_cache(maxsize=32)
def _published(version_id: int, sha256: str, effective_from: object) -> dict[str, Any]:
    version = load_version(version_id)
    data = version_content(version)
    if content_sha256(data) != sha256:  # not cached: raised again at every load
        raise RegisterIntegrityError(
            f"{version.policy.slug}:{version.number}: the stored content does not have the "
            f"signed hash {sha256}"
        )
    return data


def forget() -> None:
    """Drop this process's cached content (an integrity finding: load and verify again)."""
    _published.cache_clear()
    _required.cache_clear()
