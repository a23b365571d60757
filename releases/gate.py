"""The release gate: one pure function, used by the release page, the gate API and deployment.

A release may ship only if all of these hold, and the verdict always says why not: it is
approved; its assessment is current (not pending a recompute or a refresh, and built from
register content that matches its signed hash); its approvals are current and at the quorum of
its required level; the required level is known and defined; every safeguard that level
requires is verified; no pause is in effect on the release, its model version or its model; and
no restriction in effect excludes its deployment context.

Each reason is data: a stable ``code`` that machines and the app's own escalation read, a
``message`` for people, and the ``subject`` it concerns (``type`` or ``type:id[,id…]``). A
verdict also carries the instant until which it holds (``valid_until``): the earliest moment
any evidence it rests on goes stale or an approver's authority expires. Past it, the verdict
must be recomputed before anyone is told yes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The reason codes, stable for pipelines (documented in the OpenAPI schema and the README).
NOT_APPROVED = "not_approved"
ASSESSMENT_PENDING = "assessment_pending"
LEVEL_UNDEFINED = "level_undefined"
SAFEGUARDS_UNVERIFIED = "safeguards_unverified"
APPROVALS_INCOMPLETE = "approvals_incomplete"
BLOCKED = "blocked"
PAUSED = "paused"
RESTRICTED = "restricted"
EVIDENCE_STALE = "evidence_stale"
REGISTER_INTEGRITY = "register_integrity"
REFRESH_FAILED = "refresh_failed"

CODES: dict[str, str] = {
    NOT_APPROVED: "the release is not in the approved or deployed state",
    ASSESSMENT_PENDING: "the release's assessment is being recomputed, or no policy assessed it",
    LEVEL_UNDEFINED: "the required level is not defined in the policy in force",
    SAFEGUARDS_UNVERIFIED: "a safeguard the required level calls for is not verified",
    APPROVALS_INCOMPLETE: "fewer current, eligible approvals than the level's quorum",
    BLOCKED: "blocked since its level rose above (or its evidence fell below) its safeguards",
    PAUSED: "a pause is in effect on the release, its model version or its model",
    RESTRICTED: "a restriction in effect does not allow the release's deployment context",
    EVIDENCE_STALE: "evidence a determination rested on went stale; a recompute is due",
    REGISTER_INTEGRITY: "the register in force does not match the content that was signed",
    REFRESH_FAILED: "the verdict could not be recomputed; the gate fails closed",
}


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    subject: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "subject": self.subject}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        return cls(str(data["code"]), str(data["message"]), str(data.get("subject", "")))


@dataclass(frozen=True)
class SafeguardFact:
    code: str
    state: str  # missing, in_progress, implemented, verified


@dataclass(frozen=True)
class DecisionFact:
    kind: str  # pause or restrict
    scope: str  # "release", "model version" or "model", for the reason text
    allowed_contexts: frozenset[str] = frozenset()
    pk: int = 0


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
    pending: bool = False  # the model version awaits a recompute
    evidence_stale: bool = False  # evidence an outcome rests on went stale since it was computed
    integrity: str = ""  # what does not match the signed register, if anything
    ineligible_approvals: int = 0  # current approvals that cannot count (separation, authority)
    valid_until: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: list[Reason] = field(default_factory=list)
    valid_until: datetime | None = None

    @property
    def messages(self) -> list[str]:
        return [reason.message for reason in self.reasons]

    @property
    def codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


def denied(code: str, message: str, subject: str = "release") -> Verdict:
    """A verdict that fails closed for one reason (a refresh that could not run, say)."""
    return Verdict(allowed=False, reasons=[Reason(code, message, subject)])


def verdict(facts: GateInput) -> Verdict:
    reasons: list[Reason] = []
    if facts.integrity:
        reasons.append(Reason(REGISTER_INTEGRITY, facts.integrity, "policy_version"))
    if facts.state not in ("approved", "deployed"):
        reasons.append(
            Reason(NOT_APPROVED, f"the release is {facts.state}, not approved", "release")
        )
    if facts.pending:
        reasons.append(
            Reason(
                ASSESSMENT_PENDING,
                "new evidence or a new policy awaits assessment of the model version",
                "model_version",
            )
        )
    if facts.evidence_stale:
        reasons.append(
            Reason(
                EVIDENCE_STALE,
                "evidence a determination rests on is older than the re-evaluation interval; "
                "the model version is being assessed again",
                "model_version",
            )
        )
    if not facts.required_level:
        reasons.append(
            Reason(
                ASSESSMENT_PENDING,
                "the required level is not known yet (no assessment under a policy in force)",
                "model_version",
            )
        )
    elif not facts.level_defined:
        level = facts.required_level
        reasons.append(
            Reason(
                LEVEL_UNDEFINED,
                f"{level} is not defined in the policy: no release needing it can be approved",
                f"level:{level}",
            )
        )
    missing = [s.code for s in facts.safeguards if s.state != "verified"]
    if missing:
        reasons.append(
            Reason(
                SAFEGUARDS_UNVERIFIED,
                f"safeguards not verified: {', '.join(missing)}",
                "safeguard:" + ",".join(missing),
            )
        )
    if facts.current_approvals < facts.approval_quorum:
        notes = [f"{facts.stale_approvals} stale"] if facts.stale_approvals else []
        if facts.ineligible_approvals:
            notes.append(f"{facts.ineligible_approvals} not eligible")
        reasons.append(
            Reason(
                APPROVALS_INCOMPLETE,
                f"approvals: {facts.current_approvals} of {facts.approval_quorum} current"
                + (f" ({', '.join(notes)})" if notes else ""),
                "approvals",
            )
        )
    if facts.blocked:
        reasons.append(
            Reason(
                BLOCKED, "blocked until the safeguards its level requires are verified", "release"
            )
        )
    for decision in facts.decisions:
        subject = f"decision:{decision.pk}" if decision.pk else decision.scope.replace(" ", "_")
        if decision.kind == "pause":
            reasons.append(Reason(PAUSED, f"paused by a decision on its {decision.scope}", subject))
        elif decision.kind == "restrict" and facts.context not in decision.allowed_contexts:
            allowed = ", ".join(sorted(decision.allowed_contexts)) or "no context"
            reasons.append(
                Reason(
                    RESTRICTED,
                    f"restricted by a decision on its {decision.scope} to {allowed}",
                    subject,
                )
            )
    return Verdict(allowed=not reasons, reasons=reasons, valid_until=facts.valid_until)
