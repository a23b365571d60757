"""The releases phase: each release's life played in time order, and decisions."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.db import models

from core import roles
from core.canonical import canonical_json
from core.models import Signature
from oversight.scale.common import (
    _CONTEXT_LABELS,
    _CONTEXTS,
    _LIFT_RATIONALES,
    _RATIONALES,
    Row,
    _json,
)
from oversight.scale.plans import (
    _DecisionPlan,
    _evidence,
    _partial,
    _Person,
    _ReleasePlan,
    _scope_of,
    _Status,
    _Step,
    _VersionPlan,
)
from oversight.scale.runs import _Runs
from releases import gate
from releases.decisions import MEANINGS
from releases.evidence import evidence_sha256
from releases.models import Approval, Decision, DecisionSignature, Release, SafeguardStatus
from releases.services import APPROVE


class _Releases(_Runs):
    """Releases, evidence, approvals and decisions."""

    def _phase_releases(self) -> str:
        rng = self._rng("releases")
        for order in range(self.sizes.releases):
            version = rng.choice(self.versions)
            pick = rng.random()
            final = ("draft" if pick < 0.1 else "submitted" if pick < 0.4 else
                     "approved" if pick < 0.85 else
                     rng.choice(("withdrawn_submitted", "withdrawn_approved")))  # fmt: skip
            if final.endswith("approved") and not self.levels[version.required_level]["defined"]:
                final = final.replace("approved", "submitted")  # nobody can approve it
            context = rng.choice(_CONTEXTS)
            title = f"{version.model.name} {version.label} for {_CONTEXT_LABELS[context].lower()}"
            release = _ReleasePlan(order, version, context, title, version.model.owner, final,
                                   version.created_at)  # fmt: skip
            version.releases.append(release)
            self.releases.append(release)
        approvals = self._plan_rounds(rng)
        for version in self.versions:
            self._script_version(rng, version)
        self._plan_decisions(rng, self.sizes.signatures - approvals)
        self._allocate_ids()
        rows = self._play_releases()
        self._play_decisions(rows)
        self._insert(Release, sorted(
            (self._release_row(release) for release in self.releases), key=lambda r: r["id"]
        ))  # fmt: skip
        for model in (SafeguardStatus, Signature, Approval, Decision, DecisionSignature):
            self._insert(model, sorted(rows[model], key=lambda row: row["id"]))
        states = Counter(release.state for release in self.releases)
        return (
            f"{len(self.releases):,} releases ("
            + ", ".join(f"{state}: {n:,}" for state, n in sorted(states.items()))
            + f"), {len(rows[SafeguardStatus]):,} safeguard statuses, "
            f"{len(rows[Approval]):,} approvals, {len(self.decisions):,} decisions "
            f"({len(rows[DecisionSignature]):,} signatures)"
        )

    def _quorum(self, version: _VersionPlan) -> int:
        return int(self.levels.get(version.required_level, {}).get("approval_quorum", 1))

    def _plan_rounds(self, rng: random.Random) -> int:
        """Rounds of approvals per approved release: a round after the first follows a rework
        of its evidence, which makes the earlier approvals stale. About half the signatures go
        to approvals, the rest to decisions. Returns the number of approvals."""
        budget, spent = self.sizes.signatures, 0
        approved = [release for release in self.releases if release.final.endswith("approved")]
        for release in approved:
            if spent + self._quorum(release.version) > budget:
                release.final = release.final.replace("approved", "submitted")
            else:
                release.rounds = 1
                spent += self._quorum(release.version)
        target = min(budget, max(spent, budget // 2))
        reworkable = [
            release
            for release in approved
            if release.rounds
            and any(s["scope"] == "release" for s in self.required[release.version.required_level])
        ]
        while any(spent + self._quorum(r.version) <= target for r in reworkable):
            for release in reworkable:
                if spent + self._quorum(release.version) <= target and rng.random() < 0.5:
                    release.rounds += 1
                    spent += self._quorum(release.version)
        return spent

    def _script_version(self, rng: random.Random, version: _VersionPlan) -> None:
        """The steps of each release of one version, one release after another. The first
        release completes the evidence of the version's shared safeguards (unless it is also
        the last), so that no release's assessment is left behind by a later one."""
        specs = self.required.get(version.required_level, [])
        shared = [s["code"] for s in specs if s["scope"] == "model_version"]
        own = [s["code"] for s in specs if s["scope"] == "release"]
        quorum = self._quorum(version)
        authorities = self.people[roles.AUTHORITY.slug]
        # Leads verify, authorities approve: nobody approves a release whose safeguards they
        # verified (releases.assessment.excluded_approvers), so every approval counts.
        verifiers = self.people[roles.GOVERNANCE_LEAD.slug]
        at = version.assessed_at + timedelta(hours=rng.uniform(1, 72))
        done: set[str] = set()
        for index, release in enumerate(version.releases):
            owner, final = release.requester, release.final
            approved = final.endswith("approved")
            release.created_at = at
            steps = [_Step(at, "create", owner)]
            if final != "draft":
                at += timedelta(minutes=rng.uniform(10, 180))
                steps.append(_Step(at, "submit", owner))
            todo = [code for code in shared if code not in done]
            last = index == len(version.releases) - 1
            if approved or not last:
                work = [(code, True) for code in todo]
            else:
                work = _partial(rng, todo, verify=final != "draft")
            work += [(c, True) for c in own] if approved else _partial(rng, own, final != "draft")
            for code, verified in work:
                at += timedelta(minutes=rng.uniform(10, 120))
                steps.append(_Step(at, "implement", owner, code, *_evidence(rng, version, code)))
                if verified:
                    at += timedelta(minutes=rng.uniform(30, 1200))
                    steps.append(_Step(at, "verify", rng.choice(verifiers), code))
                    done.add(code)
            for round_number in range(release.rounds):
                if round_number:  # new evidence for one safeguard: verified again, re-approved
                    code = rng.choice(own)
                    text, link = _evidence(rng, version, code)
                    at += timedelta(days=rng.uniform(1, 4))
                    steps.append(_Step(at, "implement", owner, code,
                                       f"{text} Revision {round_number + 1}.", link))  # fmt: skip
                    at += timedelta(minutes=rng.uniform(60, 1200))
                    steps.append(_Step(at, "verify", rng.choice(verifiers), code))
                for approver in rng.sample(authorities, quorum):
                    at += timedelta(minutes=rng.uniform(10, 360))
                    steps.append(_Step(at, "approve", approver))
            if final.startswith("withdrawn"):
                at += timedelta(hours=rng.uniform(1, 120))
                steps.append(_Step(at, "withdraw", owner))
            release.steps = steps
            at += timedelta(hours=rng.uniform(1, 120))

    def _plan_decisions(self, rng: random.Random, budget: int) -> None:
        """Pauses and restrictions on releases, model versions and models, most of them lifted
        later, taking exactly ``budget`` signatures."""
        quorum = self.governing.signing_quorum
        authorities = self.people[roles.AUTHORITY.slug]
        while budget > 0:
            pick = rng.random()
            if budget >= 2 * quorum and pick < 0.8:
                signed = [quorum, quorum]  # a decision, then its lift
            elif budget >= quorum and (pick < 0.92 or quorum == 1):
                signed = [quorum]
            else:
                signed = [min(budget, quorum - 1)]  # proposed, short of its quorum
            budget -= sum(signed)
            where = rng.random()
            target: dict[str, Any] = {}
            if self.releases and where < 0.6:
                target["release"] = release = rng.choice(self.releases)
                start = release.created_at
            elif where < 0.9:
                target["version"] = version = rng.choice(self.versions)
                start = version.assessed_at
            else:
                target["model"] = model = rng.choice(self.models)
                start = model.created_at
            kind = "pause" if rng.random() < (0.6 if len(signed) == 2 else 0.2) else "restrict"
            at = start + timedelta(hours=rng.uniform(1, 336))
            decision = self._decision(rng, kind, at, signed[0], quorum, authorities, target)
            if kind == "restrict":
                decision.allowed_contexts = sorted(rng.sample(_CONTEXTS, rng.randint(1, 3)))
            if len(signed) == 2:
                assert decision.in_effect_at is not None  # nosec B101  # signed at quorum
                at = decision.in_effect_at + timedelta(hours=rng.uniform(1, 168))
                lift = self._decision(rng, "lift", at, signed[1], quorum, authorities, target)
                lift.lifts, decision.state = decision, "lifted"

    def _decision(
        self, rng: random.Random, kind: str, at: datetime, signatures: int, quorum: int,
        authorities: list[_Person], target: dict[str, Any],
    ) -> _DecisionPlan:  # fmt: skip
        signers, moment = [], at
        for person in rng.sample(authorities, signatures):
            moment += timedelta(minutes=rng.uniform(5, 180))
            signers.append((person, moment))
        rationale = rng.choice(_LIFT_RATIONALES if kind == "lift" else _RATIONALES)
        decision = _DecisionPlan(kind, rationale, rng.choice(authorities), at, signers, quorum,
                                 **target)  # fmt: skip
        if signatures >= quorum:
            decision.state, decision.in_effect_at = "in_effect", signers[quorum - 1][1]
        self.decisions.append(decision)
        return decision

    def _allocate_ids(self) -> None:
        """Ids in the order the rows would have been created."""
        for release in sorted(self.releases, key=lambda r: (r.created_at, r.order)):
            release.pk = self._id(Release)
        for decision in sorted(self.decisions, key=lambda d: d.proposed_at):
            decision.pk = self._id(Decision)
            decision.signature_pks = [0] * len(decision.signers)
            decision.row_pks = [0] * len(decision.signers)
        signed: list[tuple[datetime, int, _Step | tuple[_DecisionPlan, int]]] = [
            (step.at, release.pk, step)
            for release in self.releases
            for step in release.steps
            if step.kind == "approve"
        ]
        signed += [
            (at, -d.pk, (d, n)) for d in self.decisions for n, (_, at) in enumerate(d.signers)
        ]
        for _, _, item in sorted(signed, key=lambda entry: entry[:2]):
            if isinstance(item, _Step):
                item.signature_pk, item.approval_pk = self._id(Signature), self._id(Approval)
            else:
                decision, n = item
                decision.signature_pks[n] = self._id(Signature)
                decision.row_pks[n] = self._id(DecisionSignature)

    def _play_releases(self) -> dict[type[models.Model], list[Row]]:
        """Every release's steps, a version's releases one after another, as the release
        services play them: rows, signatures and audit events."""
        rng = self._rng("release-events")
        implemented = sorted(
            ((step.at, release.pk, release, step) for release in self.releases
             for step in release.steps if step.kind == "implement"),
            key=lambda item: item[:2],
        )  # fmt: skip
        status_pks: dict[tuple[int, int, str], int] = {}  # in the order of first evidence
        for _, _, release, step in implemented:
            key = self._status_key(release, step.code)
            if key not in status_pks:
                status_pks[key] = self._id(SafeguardStatus)
        rows: dict[type[models.Model], list[Row]] = {
            model: [] for model in (SafeguardStatus, Signature, Approval, Decision,
                                    DecisionSignature)
        }  # fmt: skip
        for version in self.versions:
            shared: dict[str, _Status] = {}
            for release in version.releases:
                self._play(rng, release, shared, status_pks, rows)
                rows[SafeguardStatus] += [status.row() for status in release.own.values()]
            rows[SafeguardStatus] += [status.row() for status in shared.values()]
        return rows

    def _status_key(self, release: _ReleasePlan, code: str) -> tuple[int, int, str]:
        """Shared by the version's releases (0), or the release's own."""
        scope = _scope_of(self.required[release.version.required_level], code)
        return release.version.pk, release.pk if scope == "release" else 0, code

    def _play(
        self,
        rng: random.Random,
        release: _ReleasePlan,
        shared: dict[str, _Status],
        status_pks: dict[tuple[int, int, str], int],
        rows: dict[type[models.Model], list[Row]],
    ) -> None:
        version = release.version
        specs = self.required.get(version.required_level, [])
        level = self.levels.get(version.required_level, {})
        scope, subject = version.model.pk, f"releases.release:{release.pk}"
        me = ("releases.release", release.pk, release.label)
        governing = f"{self.governing_content['policy']['slug']}:{self.governing.number}"

        def status_of(code: str) -> _Status | None:
            return (shared if _scope_of(specs, code) == "model_version" else release.own).get(code)

        def body() -> Row:  # releases.assessment.build
            safeguards = []
            for spec in specs:
                status = status_of(spec["code"])
                safeguards.append({"code": spec["code"], "scope": spec["scope"],
                                   "state": status.state if status else "missing",
                                   "evidence_sha256": status.sha if status else ""})  # fmt: skip
            return {
                "release": release.pk, "context": release.context,
                "model_version": version.label, "policy_version": governing,
                "required_level": version.required_level or None,
                "determinations": version.determinations, "evidence": version.evidence,
                "safeguards": safeguards,
            }  # fmt: skip

        def approvable() -> bool:  # releases.assessment.approvable
            current = sum(1 for _, sha in release.approvals if sha == release.sha)
            return bool(
                version.required_level and level.get("defined")
                and all(s["state"] == "verified" for s in release.body["safeguards"])
                and current >= self._quorum(version)
            )  # fmt: skip

        def move(actor: _Person | str, target: str, at: datetime, request: str) -> None:
            before, release.state, release.state_changed_at = release.state, target, at
            self._event(at, f"releases.release.{target}", actor, obj=me, subject=subject,
                        before={"state": before}, after={"state": target},
                        request_id=request, scope=scope)  # fmt: skip

        def refresh(  # releases.services.gate_refresh
            at: datetime, request: str, actor: _Person | str = "system:gate"
        ) -> None:
            current = body()
            digest = hashlib.sha256(canonical_json(current)).hexdigest()
            release.assessed_at, release.body = at, current
            changed = digest != release.sha
            if changed:
                release.assessment_version += 1
                release.sha = digest
            if release.state == "approved" and (changed or not approvable()):
                move(actor, "submitted", at, request)
            if release.state == "submitted" and approvable():
                move(actor, "approved", at, request)
            if changed:
                self._event(at, "releases.assessment.changed", actor, obj=me, subject=subject,
                            after={**current, "assessment_version": release.assessment_version},
                            request_id=request, scope=scope)  # fmt: skip

        release.state_changed_at = release.created_at
        for step in release.steps:
            request, at, person = self._request(rng), step.at, step.person
            if step.kind == "create":
                self._event(at, "releases.release.created", person, obj=me, subject=subject,
                            after={"model_version": version.label, "context": release.context,
                                   "title": release.title},
                            request_id=request, scope=scope)  # fmt: skip
            elif step.kind == "submit":
                move(person, "submitted", at, request)
            elif step.kind == "withdraw":
                move(person, "withdrawn", at, request)
            elif step.kind == "implement":
                status = status_of(step.code)
                if status is None:
                    key = self._status_key(release, step.code)
                    status = _Status(status_pks[key], step.code, version,
                                     release if key[1] else None)  # fmt: skip
                    (release.own if key[1] else shared)[step.code] = status
                before = {"state": status.state, "evidence_sha256": status.sha}
                status.state, status.text, status.link = "implemented", step.text, step.link
                status.sha = evidence_sha256(step.text, step.link, "")
                status.implemented_by, status.implemented_at = person, at
                status.verified_by = status.verified_at = None
                self._event(at, "releases.safeguard.implemented", person,
                            obj=("releases.safeguardstatus", status.pk,
                                 f"{step.code}: implemented"),
                            subject=subject, before=before,
                            after={"code": step.code, "evidence_sha256": status.sha,
                                   "file": None},
                            request_id=request, scope=scope)  # fmt: skip
            elif step.kind == "verify":
                status = status_of(step.code)
                assert status is not None  # nosec B101  # type narrowing: planned above
                status.state, status.verified_by, status.verified_at = "verified", person, at
                self._event(at, "releases.safeguard.verified", person,
                            obj=("releases.safeguardstatus", status.pk, f"{step.code}: verified"),
                            subject=subject,
                            after={"code": step.code, "evidence_sha256": status.sha},
                            request_id=request, scope=scope)  # fmt: skip
            elif step.kind == "approve":  # releases.services.release_approve
                refresh(at, request)
                row, after, printed = self._sign(
                    step.signature_pk, person, APPROVE, ("releases.release", release.pk),
                    {"type": "releases.release", **release.body,
                     "assessment_version": release.assessment_version,
                     "assessment_sha256": release.sha}, at,
                )  # fmt: skip
                rows[Signature].append(row)
                self._event(at, "core.signature.created", person,
                            obj=("core.signature", step.signature_pk, printed), subject=subject,
                            after=after, request_id=request, scope=scope)  # fmt: skip
                release.approvals.append((step.approval_pk, release.sha))
                rows[Approval].append({
                    "id": step.approval_pk, "release": release.pk, "approver": person.pk,
                    "signature": step.signature_pk,
                    "assessment_version": release.assessment_version,
                    "assessment_sha256": release.sha, "created_at": at,
                })  # fmt: skip
                self._event(at, "releases.approval.signed", person,
                            obj=("releases.approval", step.approval_pk,
                                 f"{person.username} approves {release.label}"),
                            subject=subject,
                            after={"assessment_sha256": release.sha,
                                   "signature": step.signature_pk},
                            request_id=request, scope=scope)  # fmt: skip
                refresh(at, request, person)  # approved at quorum, in the approver's name
            refresh(at, request)

    def _play_decisions(self, rows: dict[type[models.Model], list[Row]]) -> None:
        """As releases.decisions.decision_propose and decision_sign write them."""
        rng = self._rng("decision-events")
        for decision in self.decisions:
            scope, subject = decision.model_id, f"releases.decision:{decision.pk}"
            proposed = ("releases.decision", decision.pk, decision.display("proposed"))
            self._event(decision.proposed_at, "releases.decision.proposed", decision.proposed_by,
                        obj=proposed, subject=subject,
                        after={"kind": decision.kind, "target": decision.target,
                               "quorum": decision.quorum,
                               "allowed_contexts": decision.allowed_contexts,
                               "rationale": decision.rationale},
                        request_id=self._request(rng), scope=scope)  # fmt: skip
            signed = {
                "type": "releases.decision", "decision": decision.pk, "kind": decision.kind,
                "target": decision.target, "allowed_contexts": decision.allowed_contexts,
                "rationale": decision.rationale,
                "lifts": decision.lifts.pk if decision.lifts else None,
            }  # fmt: skip
            for n, (signer, at) in enumerate(decision.signers):
                request, pk = self._request(rng), decision.signature_pks[n]
                row, after, printed = self._sign(
                    pk, signer, MEANINGS[decision.kind], ("releases.decision", decision.pk),
                    signed, at,
                )  # fmt: skip
                rows[Signature].append(row)
                rows[DecisionSignature].append({"id": decision.row_pks[n],
                                                "decision": decision.pk, "signer": signer.pk,
                                                "signature": pk, "created_at": at})  # fmt: skip
                self._event(at, "core.signature.created", signer,
                            obj=("core.signature", pk, printed), subject=subject, after=after,
                            request_id=request, scope=scope)  # fmt: skip
                self._event(at, "releases.decision.signed", signer, obj=proposed,
                            subject=subject, after={"signature": pk}, request_id=request,
                            scope=scope)  # fmt: skip
                if n + 1 < decision.quorum:
                    continue
                self._event(at, "releases.decision.in_effect", signer,
                            obj=("releases.decision", decision.pk, decision.display("in_effect")),
                            subject=subject, after={"kind": decision.kind}, request_id=request,
                            scope=scope)  # fmt: skip
                lifted = decision.lifts
                if lifted is not None:
                    self._event(at, "releases.decision.lifted", signer,
                                obj=("releases.decision", lifted.pk, lifted.display("in_effect")),
                                subject=f"releases.decision:{lifted.pk}",
                                after={"lifted_by": decision.pk}, request_id=request,
                                scope=lifted.model_id)  # fmt: skip
            rows[Decision].append({
                "id": decision.pk, "kind": decision.kind,
                "release": decision.release.pk if decision.release else None,
                "model_version": decision.version.pk if decision.version else None,
                "model": decision.model.pk if decision.model else None,
                "allowed_contexts": _json(decision.allowed_contexts),
                "lifts": decision.lifts.pk if decision.lifts else None,
                "rationale": decision.rationale, "quorum": decision.quorum,
                "state": decision.state, "proposed_by": decision.proposed_by.pk,
                "proposed_at": decision.proposed_at, "in_effect_at": decision.in_effect_at,
            })  # fmt: skip

    def _release_row(self, release: _ReleasePlan) -> Row:
        """The release as gate_refresh leaves it, with the verdict of releases.gate."""
        version = release.version
        level = self.levels.get(version.required_level, {})
        current = sum(1 for _, sha in release.approvals if sha == release.sha)
        in_effect = sorted(
            (d for d in self.decisions if d.state == "in_effect" and d.kind != "lift"
             and d.covers(release)),
            key=lambda d: d.proposed_at, reverse=True,  # as Decision's ordering
        )  # fmt: skip
        # Every approver is eligible (an authority over every model, without end, who verified
        # nothing); the evidence is current until the version's valid_until (checked against
        # the seed's last moment in _phase_checks); nothing awaits a recompute.
        release.verdict = gate.verdict(gate.GateInput(
            state=release.state, context=release.context, required_level=version.required_level,
            level_defined=bool(level.get("defined", False)),
            approval_quorum=int(level.get("approval_quorum", 1)), current_approvals=current,
            stale_approvals=len(release.approvals) - current,
            safeguards=[gate.SafeguardFact(s["code"], s["state"])
                        for s in release.body["safeguards"]],
            decisions=[gate.DecisionFact(d.kind, "release" if d.release else
                                         "model version" if d.version else "model",
                                         frozenset(d.allowed_contexts), d.pk)
                       for d in in_effect],
            valid_until=version.valid_until,
        ))  # fmt: skip
        return {
            "id": release.pk, "model_version": version.pk, "context": release.context,
            "title": release.title, "requested_by": release.requester.pk,
            "state": release.state, "created_at": release.created_at,
            "state_changed_at": release.state_changed_at,
            "required_level": version.required_level,
            "level_defined": bool(level.get("defined", False)),
            "approval_quorum": int(level.get("approval_quorum", 1)),
            "assessment_version": release.assessment_version,
            "assessment_sha256": release.sha, "assessed_at": release.assessed_at,
            "gate_allowed": release.verdict.allowed,
            "gate_reasons": _json([reason.as_dict() for reason in release.verdict.reasons]),
            "blocked_since": None, "gate_valid_until": release.verdict.valid_until,
            "assessed_seq": version.assessment_seq,
            # People and roles are seeded as rows, not through core.services: the counter of
            # who may act has not moved (core.counters.PEOPLE reads 0).
            "people_epoch": 0,
        }  # fmt: skip

    # -- the audit chain
