"""The release gate: one pure function, used by the release page and the gate API.

A release may ship only if all of these hold, and the verdict always says why not:
it is approved; its approvals are current and at the quorum of its required level; the required
level is known and defined; every safeguard that level requires is verified; no pause is in
effect on the release, its model version or its model; and no restriction in effect excludes
its deployment context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SafeguardFact:
    code: str
    state: str  # missing, in_progress, implemented, verified


@dataclass(frozen=True)
class DecisionFact:
    kind: str  # pause or restrict
    scope: str  # "release", "model version" or "model", for the reason text
    allowed_contexts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class GateInput:
    state: str
    context: str
    required_level: str
    level_defined: bool
    approval_quorum: int
    current_approvals: int
    stale_approvals: int
    safeguards: Sequence[SafeguardFact] = ()
    decisions: Sequence[DecisionFact] = ()
    blocked: bool = False


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: list[str] = field(default_factory=list)


def verdict(facts: GateInput) -> Verdict:
    reasons: list[str] = []
    if facts.state not in ("approved", "deployed"):
        reasons.append(f"the release is {facts.state}, not approved")
    if not facts.required_level:
        reasons.append(
            "the required level is not known yet (no assessment under a policy in force)"
        )
    elif not facts.level_defined:
        level = facts.required_level
        reasons.append(
            f"{level} is not defined in the policy: no release needing it can be approved"
        )
    missing = [s.code for s in facts.safeguards if s.state != "verified"]
    if missing:
        reasons.append(f"safeguards not verified: {', '.join(missing)}")
    if facts.current_approvals < facts.approval_quorum:
        reasons.append(
            f"approvals: {facts.current_approvals} of {facts.approval_quorum} current"
            + (f" ({facts.stale_approvals} stale)" if facts.stale_approvals else "")
        )
    if facts.blocked:
        reasons.append("blocked until the safeguards its level requires are verified")
    for decision in facts.decisions:
        if decision.kind == "pause":
            reasons.append(f"paused by a decision on its {decision.scope}")
        elif decision.kind == "restrict" and facts.context not in decision.allowed_contexts:
            allowed = ", ".join(sorted(decision.allowed_contexts)) or "no context"
            reasons.append(f"restricted by a decision on its {decision.scope} to {allowed}")
    return Verdict(allowed=not reasons, reasons=reasons)
