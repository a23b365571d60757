"""A release's assessment: what an approver sees and signs, and what the gate decides on.

The assessment is plain data built from the database in a bounded number of queries, the same
for one release or a thousand (``load``): the policy version in force, the model version's
required level and determinations (with the runs that decided them), the identity and hash of
every run of the model version (so a new result, or any change in the evidence, makes earlier
approvals stale), and the status and evidence hash of each safeguard that level requires. Its
SHA-256 changes whenever any of that changes.

Whom an approval counts for is decided each time it is counted (``eligible_approvers``): the
approver must still hold the approve power over the model under the policy in force, and, unless
that policy records a reason to relax it, must not have overridden one of the version's current
determinations or verified one of the release's safeguards: one person does not decide what is
evidence, check it and approve on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core import counters, roles
from core.canonical import canonical_json
from evaluations.models import Determination, EvaluationRun
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
    valid_until: datetime | None = None  # when the evidence it rests on first goes stale


@dataclass(frozen=True)
class ApprovalFact:
    digest: str  # the assessment hash it signed
    approver: int
    username: str
    active: bool


@dataclass(frozen=True)
class Inputs:
    """Everything the assessments and gates of some releases read, loaded together: seven
    queries however many releases (one release is a batch of one)."""

    policy: PolicyVersion | None
    data: dict[str, Any] | None
    integrity: str  # what of the policy in force does not match its signed hash
    policies: dict[int, PolicyVersion]  # the versions' assessed policies, by pk
    statuses: dict[tuple[str, int, str], SafeguardStatus]  # ("version" | "release", pk, code)
    determinations: dict[int, list[dict[str, Any]]]  # by model version
    valid_until: dict[int, datetime | None]  # by model version: its determinations' earliest
    overriders: dict[int, set[int]]  # by model version: who signed its current overrides
    evidence: dict[int, list[list[str]]]  # by model version: [run id, run hash], sorted
    approvals: dict[int, list[ApprovalFact]]  # by release
    decisions: list[Decision]  # pauses and restrictions in effect that cover any of them
    people_epoch: int = 0  # core.counters.PEOPLE as read with the approvals


def _determinations(
    version_ids: set[int],
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, datetime | None], dict[int, set[int]]]:
    determinations: dict[int, list[dict[str, Any]]] = {pk: [] for pk in version_ids}
    valid_until: dict[int, datetime | None] = dict.fromkeys(version_ids)
    overriders: dict[int, set[int]] = {pk: set() for pk in version_ids}
    for version_id, threshold, outcome, level, run_id, until, overrider in (
        Determination.objects.filter(model_version__in=version_ids)
        .order_by("model_version_id", "threshold")
        .values_list(
            "model_version_id",
            "threshold",
            "outcome",
            "level",
            "deciding_run__run_id",
            "valid_until",
            "override__created_by_id",
        )
    ):
        determinations[version_id].append(
            {"threshold": threshold, "outcome": outcome, "level": level, "deciding_run": run_id}
        )
        if until is not None:
            held = valid_until[version_id]
            valid_until[version_id] = until if held is None else min(held, until)
        if overrider is not None:
            overriders[version_id].add(overrider)
    return determinations, valid_until, overriders


def load(releases: Sequence[Release]) -> Inputs:
    policy = PolicyVersion.objects.governing()
    release_ids = [r.pk for r in releases]
    version_ids = {r.model_version_id for r in releases}
    model_ids = {r.model_version.model_id for r in releases}
    assessed = {r.model_version.assessed_policy_id for r in releases} - {None}
    policies = {policy.pk: policy} if policy else {}
    if assessed - policies.keys():
        policies.update(PolicyVersion.objects.in_bulk(assessed - policies.keys()))
    data, integrity = None, ""
    if policy is not None:
        try:
            data = content.in_force_content(policy)
        except content.RegisterIntegrityError as error:
            integrity = str(error)
    statuses: dict[tuple[str, int, str], SafeguardStatus] = {}
    for row in SafeguardStatus.objects.select_related("implemented_by", "verified_by").filter(
        Q(model_version__in=version_ids, release=None) | Q(release__in=release_ids)
    ):
        key = ("release", row.release_id) if row.release_id else ("version", row.model_version_id)
        statuses[(*key, row.code)] = row
    determinations, valid_until, overriders = _determinations(version_ids)
    evidence: dict[int, list[list[str]]] = {pk: [] for pk in version_ids}
    for version_id, run_id, fingerprint in (
        EvaluationRun.objects.filter(model_version__in=version_ids)
        .order_by("model_version_id", "run_id")
        .values_list("model_version_id", "run_id", "fingerprint")
    ):
        evidence[version_id].append([run_id, fingerprint])
    approvals: dict[int, list[ApprovalFact]] = {pk: [] for pk in release_ids}
    # An approver counts only while an active holder of the authority role (checked here, at
    # every count, not only when the register designated them).
    holds_role = Exists(
        User.groups.through.objects.filter(
            user_id=OuterRef("approver_id"), group__name=roles.AUTHORITY.name
        )
    )
    for release_id, digest, approver_id, username, active, role in (
        Approval.objects.filter(release__in=release_ids)
        .annotate(holds_role=holds_role)
        .values_list(
            "release_id",
            "assessment_sha256",
            "approver_id",
            "approver__username",
            "approver__is_active",
            "holds_role",
        )
    ):
        approvals[release_id].append(ApprovalFact(digest, approver_id, username, active and role))
    decisions = list(
        Decision.objects.filter(
            state=Decision.State.IN_EFFECT, kind__in=["pause", "restrict"]
        ).filter(
            Q(release__in=release_ids) | Q(model_version__in=version_ids) | Q(model__in=model_ids)
        )
    )
    return Inputs(
        # Read with the policy in force (one query less); with none in force nothing counts.
        people_epoch=policy.people_epoch if policy else counters.value(counters.PEOPLE),  # type: ignore[attr-defined]
        policy=policy,
        data=data,
        integrity=integrity,
        policies=policies,
        statuses=statuses,
        determinations=determinations,
        valid_until=valid_until,
        overriders=overriders,
        evidence=evidence,
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
    safeguards = required_safeguards(release, inputs.policy) if data else []
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
        "evidence": inputs.evidence.get(version.pk, []),
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
        valid_until=inputs.valid_until.get(version.pk),
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
    return DecisionFact(decision.kind, scope, frozenset(decision.allowed_contexts), decision.pk)


def _end_of(day: date) -> datetime:
    """The first instant after ``day`` in the site's time zone (authority dates are local)."""
    return datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )


def _approve_until(
    inputs: Inputs, username: str, model_slug: str, today: date
) -> datetime | date | None:
    """Whether ``username`` holds the approve power over the model today under the policy in
    force: the end of that designation (a datetime), ``date.max`` for one without end, or
    None if they hold no such power."""
    for authority in (inputs.data or {}).get("authorities", []):
        if authority["username"] != username or "approve" not in authority["powers"]:
            continue
        scope = authority["scope"]
        if scope != "all" and model_slug not in scope:
            continue
        if not commitments.authority_in_force(authority, today):
            continue
        until = authority["valid_until"]
        if until is None or date.fromisoformat(until) == date.max:
            return date.max
        return _end_of(date.fromisoformat(until))
    return None


def separation_relaxed(inputs: Inputs) -> bool:
    return bool((inputs.data or {}).get("version", {}).get("separation_waiver"))


def excluded_approvers(release: Release, inputs: Inputs) -> set[int]:
    """Who acted on this release's evidence: the signers of its version's current overrides
    and the verifiers of its safeguards (none when the policy relaxes separation)."""
    if separation_relaxed(inputs):
        return set()
    people = set(inputs.overriders.get(release.model_version_id, set()))
    for (kind, pk, _code), row in inputs.statuses.items():
        mine = (kind == "version" and pk == release.model_version_id) or (
            kind == "release" and pk == release.pk
        )
        if mine and row.verified_by_id is not None:
            people.add(row.verified_by_id)
    return people


@dataclass(frozen=True)
class Count:
    eligible: set[int]  # approvers of this assessment who count now
    ineligible: int  # approvers of this assessment who do not (separation, power, account)
    stale: int  # approvals of an earlier assessment
    valid_until: datetime | None  # when the first counted approver's designation ends


def count_approvals(
    release: Release, assessment: Assessment, inputs: Inputs, *, now: datetime | None = None
) -> Count:
    """The approvals of this very assessment that count at this moment: each approver once,
    still active, still holding the approve power over the model under the policy in force,
    and not among those who acted on its evidence."""
    today = timezone.localdate(now or timezone.now())
    slug = release.model_version.model.slug
    excluded = excluded_approvers(release, inputs)
    eligible: set[int] = set()
    ineligible: set[int] = set()
    ends: list[datetime] = []
    approvals = inputs.approvals.get(release.pk, [])
    for fact in approvals:
        if fact.digest != assessment.sha256:
            continue
        until = _approve_until(inputs, fact.username, slug, today) if fact.active else None
        if until is None or fact.approver in excluded:
            ineligible.add(fact.approver)
            continue
        eligible.add(fact.approver)
        if isinstance(until, datetime):
            ends.append(until)
    stale = sum(1 for fact in approvals if fact.digest != assessment.sha256)
    return Count(eligible, len(ineligible - eligible), stale, min(ends) if ends else None)


def current_approvers(release: Release, assessment: Assessment, inputs: Inputs) -> set[int]:
    """The people whose approval of this very assessment counts now: each counts once."""
    return count_approvals(release, assessment, inputs).eligible


def approvable(
    release: Release, assessment: Assessment, inputs: Inputs, *, now: datetime | None = None
) -> bool:
    """Approvals of distinct approvers at the quorum of this assessment, at a defined level, with
    every safeguard it requires verified: what makes a submitted release approved."""
    return bool(
        assessment.required_level
        and assessment.level_defined
        and not inputs.integrity
        and all(s["state"] == "verified" for s in assessment.data["safeguards"])
        and len(count_approvals(release, assessment, inputs, now=now).eligible)
        >= assessment.approval_quorum
    )


def pending(release: Release, inputs: Inputs) -> bool:
    """The model version awaits a recompute: new evidence, or a policy that has not assessed
    it (the release row was read under the version's lock)."""
    version = release.model_version
    governing = inputs.policy.pk if inputs.policy else None
    return version.needs_recompute or version.assessed_policy_id != governing


def gate(
    release: Release,
    assessment: Assessment,
    inputs: Inputs | None = None,
    *,
    now: datetime | None = None,
) -> Verdict:
    inputs = inputs or load([release])
    now = now or timezone.now()
    count = count_approvals(release, assessment, inputs, now=now)
    ends = [t for t in (assessment.valid_until, count.valid_until) if t is not None]
    stale = assessment.valid_until is not None and now >= assessment.valid_until
    facts = GateInput(
        state=release.state,
        context=release.context,
        required_level=assessment.required_level,
        level_defined=assessment.level_defined,
        approval_quorum=assessment.approval_quorum,
        current_approvals=len(count.eligible),
        stale_approvals=count.stale,
        ineligible_approvals=count.ineligible,
        safeguards=[SafeguardFact(s["code"], s["state"]) for s in assessment.data["safeguards"]],
        decisions=[decision_fact(d) for d in inputs.decisions if _covers(d, release)],
        blocked=release.blocked_since is not None,
        pending=pending(release, inputs),
        evidence_stale=stale,
        integrity=inputs.integrity,
        valid_until=min(ends) if ends else None,
    )
    return verdict(facts)
