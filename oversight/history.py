"""Past states: the register in force on a date, and a release as it stood at a moment,
rebuilt from the audit chain and the append-only rows (approvals, decisions, signatures)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q

from core.canonical import canonical_json
from core.models import AuditEvent
from governance import content
from governance.models import PolicyVersion
from releases import gate
from releases import selectors as release_selectors
from releases.assessment import covering, decision_fact
from releases.models import Approval, Decision, Release


def pretty_manifest(text: str) -> str:
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True)


def register_on(day: date) -> list[PolicyVersion]:
    """Each policy's version in force at the end of ``day`` (UTC): published by then and not yet
    superseded. The first one listed governed model assessments then."""
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
    return list(
        PolicyVersion.objects.select_related("policy")
        .filter(published_at__lt=end)
        .filter(Q(superseded_at=None) | Q(superseded_at__gte=end))
        .order_by("-published_at", "-pk")
    )


@dataclass
class PastApproval:
    approval: Approval
    current: bool


@dataclass
class PastRelease:
    at: datetime
    existed: bool
    state: str = ""
    assessment: dict[str, Any] = field(default_factory=dict)
    assessment_version: int = 0
    assessment_sha256: str = ""
    blocked: bool = False
    approvals: list[PastApproval] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    verdict: gate.Verdict | None = None
    events: list[AuditEvent] = field(default_factory=list)


def release_at(release: Release, at: datetime) -> PastRelease:
    """The release at ``at``: its state, the assessment it had, the approvals given by then and
    whether they matched that assessment, the decisions in effect then, and the gate's verdict
    on those facts (the same pure function the live gate uses)."""
    events = list(
        AuditEvent.objects.filter(
            subject__in=release_selectors.history_subjects(release), occurred_at__lte=at
        ).order_by("seq")
    )
    past = PastRelease(at=at, existed=any(e.subject == f"releases.release:{release.pk}"
                                          for e in events))  # fmt: skip
    if not past.existed:
        return past
    for event in events:
        after = event.after or {}
        if event.action == "releases.assessment.changed":
            past.assessment = {k: v for k, v in after.items() if k != "assessment_version"}
            past.assessment_version = after.get("assessment_version", 0)
        elif event.action == "releases.release.blocked":
            past.blocked = True
        elif event.action == "releases.release.unblocked":
            past.blocked = False
        elif event.action.startswith("releases.release.") and "state" in after:
            past.state = after["state"]
    past.state = past.state or "draft"
    past.assessment_sha256 = hashlib.sha256(canonical_json(past.assessment)).hexdigest()
    past.approvals = [
        PastApproval(approval, approval.assessment_version == past.assessment_version)
        for approval in Approval.objects.filter(release=release, created_at__lte=at)
        .select_related("approver")
        .order_by("created_at")
    ]
    past.decisions = _decisions_in_effect(release, at)
    past.verdict = _verdict(release, past)
    past.events = events[-30:][::-1]
    return past


def _decisions_in_effect(release: Release, at: datetime) -> list[Decision]:
    candidates = list(
        Decision.objects.filter(covering(release), kind__in=["pause", "restrict"])
        .filter(in_effect_at__lte=at)
        .select_related("release", "model_version", "model")
    )
    lifted = set(
        Decision.objects.filter(
            kind="lift", in_effect_at__lte=at, lifts__in=[d.pk for d in candidates]
        ).values_list("lifts_id", flat=True)
    )
    return [d for d in candidates if d.pk not in lifted]


def _level(policy_ref: str | None, code: str) -> dict[str, Any]:
    if not policy_ref or not code:
        return {}
    slug, _, number = policy_ref.partition(":")
    version = PolicyVersion.objects.filter(policy__slug=slug, number=number or 0).first()
    if version is None:
        return {}
    data = content.in_force_content(version)
    return next((level for level in data["levels"] if level["code"] == code), {})


def _verdict(release: Release, past: PastRelease) -> gate.Verdict:
    data = past.assessment
    required = data.get("required_level") or ""
    level = _level(data.get("policy_version"), required)
    current = sum(1 for a in past.approvals if a.current)
    facts = gate.GateInput(
        state=past.state,
        context=release.context,
        required_level=required,
        level_defined=bool(level.get("defined", False)),
        approval_quorum=int(level.get("approval_quorum", 1)),
        current_approvals=current,
        stale_approvals=len(past.approvals) - current,
        safeguards=[gate.SafeguardFact(s["code"], s["state"]) for s in data.get("safeguards", [])],
        decisions=[decision_fact(d) for d in past.decisions],
        blocked=past.blocked,
    )
    return gate.verdict(facts)
