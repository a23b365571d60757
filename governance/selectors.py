"""Reads for the register pages: one version, fully loaded, with everything derived from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q

from core.audit import subject_key
from core.models import AuditEvent
from governance import commitments, content, validation
from governance.models import (
    CapabilityThreshold,
    Policy,
    PolicyVersion,
    RiskDomain,
    Safeguard,
    SafetyLevel,
)


@dataclass
class LevelRow:
    level: SafetyLevel
    safeguards: list[Safeguard]


@dataclass
class DomainRow:
    domain: RiskDomain
    thresholds: list[CapabilityThreshold]


@dataclass
class RegisterView:
    version: PolicyVersion
    content: dict[str, Any]
    content_sha256: str
    issues: list[validation.Issue]
    commitments: list[commitments.Commitment]
    levels: list[LevelRow]
    domains: list[DomainRow]
    authorities_today: list[Any]
    undefined_levels: list[SafetyLevel]

    @property
    def errors(self) -> list[validation.Issue]:
        return [issue for issue in self.issues if issue.is_error]


def register_view(version_id: int, *, today: date) -> RegisterView:
    version = content.load_version(version_id)
    data = content.version_content(version, with_publication=True)
    names = {a.user.get_username(): a.user.get_full_name() or a.user.get_username()
             for a in version.authorities.all()}  # fmt: skip
    levels = sorted(version.levels.all(), key=lambda level: level.rank)
    safeguards = list(version.safeguards.all())
    rows = [
        LevelRow(level, [s for s in safeguards if s.minimum_level.rank <= level.rank])
        for level in levels
    ]
    thresholds = sorted(version.thresholds.all(), key=lambda t: t.code)
    domains = [
        DomainRow(domain, [t for t in thresholds if t.domain_id == domain.pk])
        for domain in sorted(version.domains.all(), key=lambda d: d.code)
    ]
    issues = validation.validate(data)
    if version.is_draft:  # who could approve, pause and lift under it (one query)
        from governance.publishing import eligibility_errors

        issues += [
            validation.Issue("error", ("authorities",), message)
            for message in eligibility_errors(data, today=today)
        ]
    return RegisterView(
        version=version,
        content=data,
        content_sha256=version.content_sha256 or content.content_sha256(data),
        issues=issues,
        commitments=commitments.commitments(data, today, names),
        levels=rows,
        domains=domains,
        authorities_today=[
            a
            for a in version.authorities.all()
            if commitments.authority_in_force(content.authority_data(a), today)
        ],
        undefined_levels=[level for level in levels if not level.defined],
    )


def history(version: PolicyVersion, *, limit: int = 100) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(subject=subject_key(version)).select_related("actor")
    return list(events.order_by("-seq")[:limit])


def in_force(policy: Policy) -> PolicyVersion | None:
    return policy.versions.filter(state=PolicyVersion.State.PUBLISHED).first()


def policies_overview() -> list[dict[str, Any]]:
    """Every policy with its version in force and its open draft, in two queries."""
    policies = list(Policy.objects.order_by("name"))
    versions = PolicyVersion.objects.filter(
        Q(state=PolicyVersion.State.PUBLISHED) | Q(state=PolicyVersion.State.DRAFT)
    ).only("id", "policy_id", "number", "label", "state", "effective_from", "published_at")
    by_policy: dict[int, dict[str, PolicyVersion]] = {}
    for version in versions:
        by_policy.setdefault(version.policy_id, {})[version.state] = version
    return [
        {
            "policy": policy,
            "in_force": by_policy.get(policy.pk, {}).get("published"),
            "draft": by_policy.get(policy.pk, {}).get("draft"),
        }
        for policy in policies
    ]
