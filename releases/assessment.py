"""A release's assessment: what an approver sees and signs, and what the gate decides on.

The assessment is plain data built from the database in a bounded number of queries: the policy
version in force, the model version's required level and determinations (with the runs that
decided them), and the status and evidence hash of each safeguard that level requires. Its
SHA-256 changes whenever any of that changes, which makes earlier approvals stale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from core.canonical import canonical_json
from governance import commitments, content
from governance.models import PolicyVersion
from releases.gate import DecisionFact, GateInput, SafeguardFact, Verdict, verdict
from releases.models import Approval, Decision, Release, SafeguardStatus


@dataclass(frozen=True)
class Assessment:
    data: dict[str, Any]
    sha256: str
    required_level: str
    level_defined: bool
    approval_quorum: int


def required_safeguards(release: Release) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    policy = PolicyVersion.objects.governing()
    if policy is None:
        return None, []
    data = content.in_force_content(policy.pk)
    level = release.model_version.required_level
    return data, commitments.required_safeguards(data, level) if level else []


def statuses_for(release: Release, safeguards: list[dict[str, Any]]) -> dict[str, SafeguardStatus]:
    """Each required safeguard's status row: shared by the model version for model-version
    scope, the release's own for release scope (absent rows are missing)."""
    per_version = [s["code"] for s in safeguards if s["scope"] == "model_version"]
    per_release = [s["code"] for s in safeguards if s["scope"] == "release"]
    rows = SafeguardStatus.objects.select_related("implemented_by", "verified_by").filter(
        Q(model_version=release.model_version, release=None, code__in=per_version)
        | Q(release=release, code__in=per_release)
    )
    return {row.code: row for row in rows}


def build(release: Release) -> Assessment:
    data, safeguards = required_safeguards(release)
    version = release.model_version
    statuses = statuses_for(release, safeguards)
    levels = {level["code"]: level for level in (data or {}).get("levels", [])}
    level = levels.get(version.required_level, {})
    determinations = [
        {
            "threshold": d.threshold,
            "outcome": d.outcome,
            "level": d.level,
            "deciding_run": d.deciding_run.run_id if d.deciding_run else None,
        }
        for d in version.determinations.select_related("deciding_run").order_by("threshold")
    ]
    body = {
        "release": release.pk,
        "context": release.context,
        "model_version": version.label,
        "policy_version": f"{data['policy']['slug']}:{version.assessed_policy.number}"
        if data and version.assessed_policy
        else None,
        "required_level": version.required_level or None,
        "determinations": determinations,
        "safeguards": [
            {
                "code": s["code"],
                "scope": s["scope"],
                "state": statuses[s["code"]].state if s["code"] in statuses else "missing",
                "evidence_sha256": statuses[s["code"]].evidence_sha256
                if s["code"] in statuses
                else "",
            }
            for s in safeguards
        ],
    }
    return Assessment(
        data=body,
        sha256=hashlib.sha256(canonical_json(body)).hexdigest(),
        required_level=version.required_level,
        level_defined=bool(level.get("defined", False)),
        approval_quorum=int(level.get("approval_quorum", 1)),
    )


def covering(release: Release) -> Q:
    """Decisions scoped to the release, its model version or its whole model."""
    version = release.model_version
    return Q(release=release) | Q(model_version=version) | Q(model=version.model_id)


def decision_fact(decision: Decision) -> DecisionFact:
    """A pause or restriction as the gate sees it."""
    scope = (
        "release"
        if decision.release_id
        else "model version"
        if decision.model_version_id
        else "model"
    )
    return DecisionFact(decision.kind, scope, frozenset(decision.allowed_contexts))


def decisions_in_effect(release: Release) -> list[Decision]:
    return list(
        Decision.objects.filter(
            state=Decision.State.IN_EFFECT, kind__in=["pause", "restrict"]
        ).filter(covering(release))
    )


def gate(release: Release, assessment: Assessment) -> Verdict:
    approvals = list(
        Approval.objects.filter(release=release).values_list("assessment_sha256", flat=True)
    )
    current = sum(1 for digest in approvals if digest == assessment.sha256)
    facts = GateInput(
        state=release.state,
        context=release.context,
        required_level=assessment.required_level,
        level_defined=assessment.level_defined,
        approval_quorum=assessment.approval_quorum,
        current_approvals=current,
        stale_approvals=len(approvals) - current,
        safeguards=[SafeguardFact(s["code"], s["state"]) for s in assessment.data["safeguards"]],
        decisions=[decision_fact(d) for d in decisions_in_effect(release)],
        blocked=release.blocked_since is not None,
    )
    return verdict(facts)
