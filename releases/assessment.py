"""A release's assessment: what an approver sees and signs, and what the gate decides on.

The assessment is plain data built from the database in a bounded number of queries, the same
for one release or a thousand (``load``): the policy version in force, the model version's
required level and determinations (with the runs that decided them), and the status and
evidence hash of each safeguard that level requires. Its
SHA-256 changes whenever any of that changes, which makes earlier approvals stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from core.canonical import canonical_json
from evaluations.models import Determination
from governance import content
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


@dataclass(frozen=True)
class Inputs:
    """Everything the assessments and gates of some releases read, loaded together: five
    queries however many releases (one release is a batch of one)."""

    policy: PolicyVersion | None
    data: dict[str, Any] | None
    policies: dict[int, PolicyVersion]  # the versions' assessed policies, by pk
    statuses: dict[tuple[str, int, str], SafeguardStatus]  # ("version" | "release", pk, code)
    determinations: dict[int, list[dict[str, Any]]]  # by model version
    approvals: dict[int, list[tuple[str, int]]]  # (hash approved, approver), by release
    decisions: list[Decision]  # pauses and restrictions in effect that cover any of them


def load(releases: Sequence[Release]) -> Inputs:
    policy = PolicyVersion.objects.governing()
    release_ids = [r.pk for r in releases]
    version_ids = {r.model_version_id for r in releases}
    model_ids = {r.model_version.model_id for r in releases}
    assessed = {r.model_version.assessed_policy_id for r in releases} - {None}
    policies = {policy.pk: policy} if policy else {}
    if assessed - policies.keys():
        policies.update(PolicyVersion.objects.in_bulk(assessed - policies.keys()))
    statuses: dict[tuple[str, int, str], SafeguardStatus] = {}
    for row in SafeguardStatus.objects.select_related("implemented_by", "verified_by").filter(
        Q(model_version__in=version_ids, release=None) | Q(release__in=release_ids)
    ):
        key = ("release", row.release_id) if row.release_id else ("version", row.model_version_id)
        statuses[(*key, row.code)] = row
    determinations: dict[int, list[dict[str, Any]]] = {pk: [] for pk in version_ids}
    for version_id, threshold, outcome, level, run_id in (
        Determination.objects.filter(model_version__in=version_ids)
        .order_by("model_version_id", "threshold")
        .values_list("model_version_id", "threshold", "outcome", "level", "deciding_run__run_id")
    ):
        determinations[version_id].append(
            {"threshold": threshold, "outcome": outcome, "level": level, "deciding_run": run_id}
        )
    approvals: dict[int, list[tuple[str, int]]] = {pk: [] for pk in release_ids}
    for release_id, digest, approver_id in Approval.objects.filter(
        release__in=release_ids
    ).values_list("release_id", "assessment_sha256", "approver_id"):
        approvals[release_id].append((digest, approver_id))
    decisions = list(
        Decision.objects.filter(
            state=Decision.State.IN_EFFECT, kind__in=["pause", "restrict"]
        ).filter(
            Q(release__in=release_ids) | Q(model_version__in=version_ids) | Q(model__in=model_ids)
        )
    )
    return Inputs(
        policy=policy,
        data=content.in_force_content(policy) if policy else None,
        policies=policies,
        statuses=statuses,
        determinations=determinations,
        approvals=approvals,
        decisions=decisions,
    )


def required_safeguards(
    release: Release, policy: PolicyVersion | None = None
) -> list[dict[str, Any]]:
    """The safeguards the release's required level calls for under the governing policy
    (``policy``, when the caller has just read it)."""
    policy = policy or PolicyVersion.objects.governing()
    level = release.model_version.required_level
    if policy is None or not level:
        return []
    return content.required_safeguards(policy, level)


def _status(inputs: Inputs, release: Release, spec: dict[str, Any]) -> SafeguardStatus | None:
    """A model-version-scope safeguard's row is shared by the version's releases; a
    release-scope one is the release's own (an absent row is missing)."""
    if spec["scope"] == "model_version":
        return inputs.statuses.get(("version", release.model_version_id, spec["code"]))
    return inputs.statuses.get(("release", release.pk, spec["code"]))


def statuses_for(release: Release, safeguards: list[dict[str, Any]]) -> dict[str, SafeguardStatus]:
    """Each required safeguard's status row (absent rows are missing)."""
    per_version = [s["code"] for s in safeguards if s["scope"] == "model_version"]
    per_release = [s["code"] for s in safeguards if s["scope"] == "release"]
    rows = SafeguardStatus.objects.select_related("implemented_by", "verified_by").filter(
        Q(model_version=release.model_version, release=None, code__in=per_version)
        | Q(release=release, code__in=per_release)
    )
    return {row.code: row for row in rows}


def build(release: Release, inputs: Inputs | None = None) -> Assessment:
    inputs = inputs or load([release])
    data = inputs.data
    version = release.model_version
    safeguards = required_safeguards(release, inputs.policy) if inputs.policy else []
    levels = {level["code"]: level for level in (data or {}).get("levels", [])}
    level = levels.get(version.required_level, {})
    assessed = inputs.policies.get(version.assessed_policy_id or 0)
    states = {s["code"]: _status(inputs, release, s) for s in safeguards}
    body = {
        "release": release.pk,
        "context": release.context,
        "model_version": version.label,
        "policy_version": f"{data['policy']['slug']}:{assessed.number}"
        if data and assessed
        else None,
        "required_level": version.required_level or None,
        "determinations": inputs.determinations.get(version.pk, []),
        "safeguards": [
            {
                "code": s["code"],
                "scope": s["scope"],
                "state": row.state if (row := states[s["code"]]) else "missing",
                "evidence_sha256": row.evidence_sha256 if row else "",
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


def _covers(decision: Decision, release: Release) -> bool:
    return (
        decision.release_id == release.pk
        or decision.model_version_id == release.model_version_id
        or decision.model_id == release.model_version.model_id
    )


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


def current_approvers(release: Release, assessment: Assessment, inputs: Inputs) -> set[int]:
    """The people whose approval signs this very assessment: each counts once."""
    return {
        approver
        for digest, approver in inputs.approvals.get(release.pk, [])
        if digest == assessment.sha256
    }


def approvable(release: Release, assessment: Assessment, inputs: Inputs) -> bool:
    """Approvals of distinct approvers at the quorum of this assessment, at a defined level, with
    every safeguard it requires verified: what makes a submitted release approved."""
    return bool(
        assessment.required_level
        and assessment.level_defined
        and all(s["state"] == "verified" for s in assessment.data["safeguards"])
        and len(current_approvers(release, assessment, inputs)) >= assessment.approval_quorum
    )


def gate(release: Release, assessment: Assessment, inputs: Inputs | None = None) -> Verdict:
    inputs = inputs or load([release])
    approvals = inputs.approvals.get(release.pk, [])
    current = current_approvers(release, assessment, inputs)
    facts = GateInput(
        state=release.state,
        context=release.context,
        required_level=assessment.required_level,
        level_defined=assessment.level_defined,
        approval_quorum=assessment.approval_quorum,
        current_approvals=len(current),
        stale_approvals=sum(1 for digest, _ in approvals if digest != assessment.sha256),
        safeguards=[SafeguardFact(s["code"], s["state"]) for s in assessment.data["safeguards"]],
        decisions=[decision_fact(d) for d in inputs.decisions if _covers(d, release)],
        blocked=release.blocked_since is not None,
    )
    return verdict(facts)
