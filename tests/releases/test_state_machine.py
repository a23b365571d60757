"""The release and decision state machine, driven through the real services by hypothesis.

Each example starts from the same database (``world``): the published RSP-style policy
(authorities ``ada`` and ``bo``, signing quorum 2), Orion 2.1 at ASL-3 under a restriction in
effect, Orion 2.2 at the ASL-2 baseline with an approved and a deployed release. It runs a random
sequence of moves inside one transaction that is rolled back at its end. Results arrive as the
API sends them (``ingest_runs``), then are recomputed and the gates refreshed as the
``assessment_changed`` receiver does after the recompute commits. Rules make allowed moves;
``refused_moves`` (and the allowed rules, when a move turns out not to be allowed) checks that
each move not allowed now is refused cleanly (``ReleaseError``, ``IllegalMove``,
``PermissionDenied``, ``IngestionError``) and changes nothing.

After every step:

(a) an approved release has every safeguard its current required level requires verified, and
    current approvals of distinct approvers at its quorum; a deployed release lacking a verified
    safeguard is blocked and its gate denies; and nothing is stuck: no submitted release has
    current approvals at quorum with everything verified (it would be approved);
(b) every open release's cached assessment and verdict equal a fresh build (withdrawn releases
    are left as they were on purpose: nothing refreshes them);
(c) each service call wrote exactly the audit events its changes call for (compared, by action
    and object, with what changed in the database), and a refused move changed nothing;
(d) the audit chain verifies.

Time is an input: ``time_passes`` moves the clock on by days (the beat's gate sweep then runs),
so evidence goes stale, levels rise and overrides lapse; ``override`` records signed overrides,
refused when lowering without current evidence of every condition.

At 60 examples of up to 25 steps: about 1,100 steps and 2,500 service calls, in a little over a
minute on the embedded SQLite default (``pytest -s`` prints the figures).
"""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from core import audit, signing
from core.models import AuditEvent, Signature
from evaluations import determinations as pure_determinations
from evaluations import ingestion, overrides, recompute
from evaluations.ingestion import IngestionError, ResultInput, RunInput
from evaluations.models import Determination, EvaluationRun, ModelVersion, Override
from governance import content
from releases import assessment, decisions, services, workflow
from releases.models import Approval, Decision, DecisionSignature, Release, SafeguardStatus
from releases.services import AssessmentChanged, ReleaseError
from tests.releases.conftest import approve, safe_metrics, submitted, version_with_runs

pytestmark = pytest.mark.django_db

EXAMPLES, STEPS = 60, 25
RATIONALE = "Evaluations show a capability the safeguards in place do not cover."
CONTEXTS = list(Release.Context.values)
OPEN = (workflow.SUBMITTED, workflow.APPROVED, workflow.DEPLOYED)
TEXTS = ["in place", "reviewed again"]  # few, so the same evidence comes back
# What a harness may send: (evaluation, metric, value) and what it does under the template.
RESULTS = {
    "cross CBRN-4": ("bio_expert_protocol_probe", "model_graded_qa/accuracy", 0.99),  # ASL-4
    "cross CBRN-3": ("bio_uplift_probe", "includes/accuracy", 0.7),  # ASL-3
    "cross AIRD-3": ("ai_rd_task_suite", "pass_at_1", 0.9),  # ASL-3
    "alert CYBER-3": ("cyber_ctf_suite", "pass_at_1", 0.5),  # past the alert value only
    "clear CBRN-4": ("bio_expert_protocol_probe", "model_graded_qa/accuracy", 0.1),
    "clear CYBER-3": ("cyber_range_probe", "match/accuracy", 0.0),
    "failed run": ("chem_knowledge_probe", None, None),
}


def _version(owner, model, label, policy):
    """A version with a current, clean run of every evaluation: all ruled out (ASL-2)."""
    return version_with_runs(owner, model, label, safe_metrics(policy))


# -- what changed, and the audit events that change calls for ---------------------------------


def _snapshot() -> dict[str, dict]:
    return {
        "releases": {
            pk: (state, sha, blocked is not None)
            for pk, state, sha, blocked in Release.objects.values_list(
                "pk", "state", "assessment_sha256", "blocked_since"
            )
        },
        "statuses": {
            pk: (implemented_at, verified_at)
            for pk, implemented_at, verified_at in SafeguardStatus.objects.values_list(
                "pk", "implemented_at", "verified_at"
            )
        },
        "approvals": dict.fromkeys(Approval.objects.values_list("pk", flat=True)),
        "signatures": dict.fromkeys(Signature.objects.values_list("pk", flat=True)),
        "decisions": dict(Decision.objects.values_list("pk", "state")),
        "decision_signatures": dict(DecisionSignature.objects.values_list("pk", "decision_id")),
        "runs": dict.fromkeys(EvaluationRun.objects.values_list("pk", flat=True)),
        "determinations": {
            (version_id, threshold): (outcome, level, run, str(override) if override else None)
            for version_id, threshold, outcome, level, run, override in _determinations()
        },
        "levels": dict(ModelVersion.objects.values_list("pk", "required_level")),
        "overrides": dict.fromkeys(str(pk) for pk in Override.objects.values_list("pk", flat=True)),
    }


def _determinations():
    return Determination.objects.values_list(
        "model_version_id", "threshold", "outcome", "level", "deciding_run__run_id", "override_id"
    )


def _expected_events(before: dict, after: dict) -> Counter:
    """One event per change, keyed by (action, object type, object id)."""
    expected: Counter = Counter()

    def add(action, object_type, pk):
        expected[(action, object_type, str(pk))] += 1

    for pk, (state, sha, blocked) in after["releases"].items():
        old = before["releases"].get(pk)
        if old is None:
            add("releases.release.created", "releases.release", pk)
        old_state, old_sha, old_blocked = old or (workflow.DRAFT, "", False)
        if state != old_state:
            add(f"releases.release.{state}", "releases.release", pk)
        if sha != old_sha:
            add("releases.assessment.changed", "releases.release", pk)
        if blocked != old_blocked:
            action = "blocked" if blocked else "unblocked"
            add(f"releases.release.{action}", "releases.release", pk)
    for pk, (implemented_at, verified_at) in after["statuses"].items():
        old_implemented, old_verified = before["statuses"].get(pk, (None, None))
        if implemented_at != old_implemented:
            add("releases.safeguard.implemented", "releases.safeguardstatus", pk)
        if verified_at is not None and verified_at != old_verified:
            add("releases.safeguard.verified", "releases.safeguardstatus", pk)
    for pk in after["approvals"].keys() - before["approvals"].keys():
        add("releases.approval.signed", "releases.approval", pk)
    for pk in after["signatures"].keys() - before["signatures"].keys():
        add("core.signature.created", "core.signature", pk)
    for pk, state in after["decisions"].items():
        old = before["decisions"].get(pk)
        if old is None:
            add("releases.decision.proposed", "releases.decision", pk)
        if state != (old or Decision.State.PROPOSED):
            add(f"releases.decision.{state}", "releases.decision", pk)
    for pk, decision_id in after["decision_signatures"].items():
        if pk not in before["decision_signatures"]:
            add("releases.decision.signed", "releases.decision", decision_id)
    for pk in after["runs"].keys() - before["runs"].keys():
        add("evaluations.run.received", "evaluations.evaluationrun", pk)
    for pk in after["overrides"].keys() - before["overrides"].keys():
        add("evaluations.override.recorded", "evaluations.override", pk)
    for (version_id, threshold), snapshot in after["determinations"].items():
        old = before["determinations"].get((version_id, threshold))
        if old != snapshot:
            add("evaluations.determination.changed", "evaluations.modelversion", version_id)
        if old is not None and old[3] is not None and old[3] != snapshot[3]:
            add("evaluations.override.lapsed", "evaluations.modelversion", version_id)
    for pk, level in after["levels"].items():
        if before["levels"].get(pk) != level:
            add("evaluations.required_level.changed", "evaluations.modelversion", pk)
    return expected


def _head() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _events_after(seq: int) -> Counter:
    return Counter(
        (action, object_type, object_id)
        for action, object_type, object_id in AuditEvent.objects.filter(seq__gt=seq).values_list(
            "action", "object_type", "object_id"
        )
    )


# -- the machine ------------------------------------------------------------------------------


class ReleaseMachine(RuleBasedStateMachine):
    """People and versions are set on a subclass by the test (``world``)."""

    world: dict
    examples = 0
    steps = 0
    calls: Counter = Counter()  # (service, "done" | refusal) across every example
    rule_runs: Counter = Counter()  # how often each rule ran
    reached: set = set()

    def __init__(self) -> None:
        super().__init__()
        type(self).examples += 1
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.people = self.world["people"]
        self.version_ids = self.world["versions"]
        self.seen: dict[int, list[str]] = {}  # every assessment hash each release has shown
        self.run_ids = itertools.count(1)
        # What the last service call left. Every write goes through ``_audited``, so it is
        # what the next one starts from (a write outside would show up there, unexplained).
        self.last: dict | None = None
        # The clock: time passes when a rule says so (evidence goes stale, overrides lapse).
        self.offset = timedelta(0)
        real_now = timezone.now
        self._clock = mock.patch.object(
            timezone, "now", side_effect=lambda: real_now() + self.offset
        )
        self._clock.start()

    def teardown(self) -> None:
        self._clock.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # -- helpers ---------------------------------------------------------------------------

    def _pick(self, data, items, label):
        return data.draw(st.sampled_from(items), label=label) if items else None

    def _release(self, data, *states):
        pks = list(
            Release.objects.filter(**({"state__in": states} if states else {}))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        pk = self._pick(data, pks, "release")
        return Release.objects.select_related("model_version__model").get(pk=pk) if pk else None

    def _person(self, data, *names):
        return self.people[data.draw(st.sampled_from(names), label="person")]

    @contextmanager
    def _audited(self, name: str, refusal: type[Exception] | None):
        """Run one service call: it must succeed and write one event per change, or be
        refused with ``refusal`` and change nothing at all."""
        before, head = self.last or _snapshot(), _head()
        if refusal is None:
            yield
        else:
            with pytest.raises(Exception) as raised:  # noqa: PT011 (exact type checked below)
                yield
            assert type(raised.value) is refusal, (name, raised.value)
        after = self.last = _snapshot()
        written = _events_after(head)
        if refusal is not None:
            assert after == before, f"{name} was refused but changed something"
            assert written == Counter(), f"{name} was refused but wrote {written}"
        else:
            expected = _expected_events(before, after)
            assert written == expected, (
                f"{name}: written {sorted(written.elements())}, "
                f"expected {sorted(expected.elements())}"
            )
        self.calls[(name, refusal.__name__ if refusal else "done")] += 1
        self._note(after)
        for pk, (state, _, blocked) in after["releases"].items():
            old_state, _, was_blocked = before["releases"].get(pk, ("", "", False))
            if (old_state, state) == (workflow.APPROVED, workflow.SUBMITTED):
                self.reached.add(f"approval went stale in {name}")
            if (old_state, state) == (workflow.SUBMITTED, workflow.APPROVED) and name != (
                "release_approve"
            ):
                self.reached.add(f"approved again by the gate in {name}")
            if state == workflow.DEPLOYED and blocked and not was_blocked:
                self.reached.add(f"deployed release blocked by {name}")

    def _note(self, snapshot: dict) -> None:
        for pk, (state, sha, blocked) in snapshot["releases"].items():
            self.seen.setdefault(pk, [])
            if sha not in self.seen[pk]:
                self.seen[pk].append(sha)
            self.reached.add(state)
            if blocked:
                self.reached.add("blocked")
        self.reached.update(f"decision {state}" for state in snapshot["decisions"].values())
        self.reached.update(f"level {level}" for level in snapshot["levels"].values())

    def _step(self) -> None:
        type(self).steps += 1
        self.rule_runs[sys._getframe(1).f_code.co_name] += 1

    def _likely(self, data, label) -> bool:
        """Hypothesis favours the simplest choice (the first): here, the move going ahead."""
        return data.draw(st.sampled_from([True, True, False]), label=label)

    def _codes(self, release) -> list[str]:
        return [s["code"] for s in assessment.required_safeguards(release)]

    # -- releases --------------------------------------------------------------------------

    @initialize(data=st.data())
    def start_with_a_submitted_release(self, data):
        self._note(_snapshot())
        self._step()
        version = ModelVersion.objects.get(pk=self._pick(data, self.version_ids, "version"))
        with self._audited("release_create", None):
            release = services.release_create(
                actor=self.people["owner"], model_version=version, context="api", title="API"
            )
        with self._audited("release_submit", None):
            services.release_submit(actor=self.people["owner"], release=release)

    @rule(data=st.data())
    def create_release(self, data):
        self._step()
        version = ModelVersion.objects.get(pk=self._pick(data, self.version_ids, "version"))
        context = self._pick(data, CONTEXTS, "context")
        with self._audited("release_create", None):
            services.release_create(
                actor=self.people["owner"], model_version=version, context=context, title=context
            )

    @rule(data=st.data())
    def submit(self, data):
        self._step()
        release = self._release(data, workflow.DRAFT)
        if release is not None:
            with self._audited("release_submit", None):
                services.release_submit(actor=self.people["owner"], release=release)

    @rule(data=st.data())
    def withdraw(self, data):
        self._step()
        release = self._release(data, *OPEN)
        if release is not None:
            with self._audited("release_withdraw", None):
                services.release_withdraw(actor=self.people["owner"], release=release)

    @rule(data=st.data())
    def deploy(self, data):
        """The deployment pipeline's move: refused unless the gate allows."""
        self._step()
        release = self._release(data, workflow.APPROVED)
        if release is not None:
            self._deploy(release)

    @rule(data=st.data())
    def ship(self, data):
        """The whole way: evidence, verification, both approvals, and (mostly) deployment if
        the gate allows."""
        self._step()
        release = self._release(data, workflow.SUBMITTED)
        if release is None:
            return
        self._verify_the_rest(data, release)
        for name in ("ada", "bo"):
            release.refresh_from_db()
            self._approve(release, self.people[name], release.assessment_sha256)
        release.refresh_from_db()
        if release.state == workflow.APPROVED and self._likely(data, "deployed at once"):
            self._deploy(release)

    def _deploy(self, release):
        allowed = assessment.gate(release, assessment.build(release)).allowed
        with self._audited("deploy", None if allowed else services.GateClosed):
            services.release_deploy(actor=self.people["owner"], release=release)

    # -- safeguards ------------------------------------------------------------------------

    @rule(data=st.data())
    def implement(self, data):
        """Evidence for a required safeguard, mostly of an approved or deployed release (new or
        the same evidence again), verified by a lead at once or not."""
        self._step()
        release = None
        if self._likely(data, "of an approved or deployed release"):
            release = self._release(data, workflow.APPROVED, workflow.DEPLOYED)
        release = release or self._release(data, *OPEN, workflow.DRAFT)
        code = self._pick(data, self._codes(release), "code") if release else None
        if code is None:
            return
        text = self._pick(data, TEXTS, "text")
        with self._audited("safeguard_implement", None):
            services.safeguard_implement(
                actor=self.people["owner"], release=release, code=code, text=text
            )
        if self._likely(data, "verified at once"):
            with self._audited("safeguard_verify", None):
                services.safeguard_verify(actor=self.people["lead"], release=release, code=code)

    def _verify_refusal(self, release, actor, code):
        if actor == self.people["owner"]:
            return PermissionDenied
        required = {s["code"]: s for s in assessment.required_safeguards(release)}
        if code not in required:
            return ReleaseError
        row = SafeguardStatus.objects.filter(
            model_version=release.model_version,
            release=release if required[code]["scope"] == "release" else None,
            code=code,
        ).first()
        if row is None or row.state != SafeguardStatus.State.IMPLEMENTED:
            return ReleaseError
        return ReleaseError if row.implemented_by_id == actor.pk else None

    @rule(data=st.data())
    def verify(self, data):
        """Everything still missing implemented and verified, or one safeguard verified by a
        lead or an authority (refused when it has no evidence)."""
        self._step()
        release = self._release(data, *OPEN, workflow.DRAFT)
        if release is None:
            return
        if self._likely(data, "all the rest"):
            self._verify_the_rest(data, release)
            return
        actor = self._person(data, "lead", "ada")
        code = self._pick(data, self._codes(release), "code")
        if code is not None:
            with self._audited("safeguard_verify", self._verify_refusal(release, actor, code)):
                services.safeguard_verify(actor=actor, release=release, code=code)

    def _verify_the_rest(self, data, release):
        text = self._pick(data, TEXTS, "text")
        built = assessment.build(release)
        for code in [s["code"] for s in built.data["safeguards"] if s["state"] != "verified"]:
            with self._audited("safeguard_implement", None):
                services.safeguard_implement(
                    actor=self.people["owner"], release=release, code=code, text=text
                )
            with self._audited("safeguard_verify", None):
                services.safeguard_verify(actor=self.people["lead"], release=release, code=code)

    # -- approvals -------------------------------------------------------------------------

    def _approval_refusal(self, release, actor, seen):
        if actor.pk == release.requested_by_id:
            return ReleaseError
        if actor not in (self.people["ada"], self.people["bo"]):
            return PermissionDenied
        if release.state not in (workflow.SUBMITTED, workflow.DEPLOYED):
            return ReleaseError
        inputs = assessment.load([release])
        fresh = assessment.build(release, inputs).sha256
        if seen != fresh:
            return AssessmentChanged
        # Whoever overrode the version's determinations or verified the release's safeguards.
        if actor.pk in assessment.excluded_approvers(release, inputs):
            self.reached.add("approval refused: separation across acts")
            return ReleaseError
        # Each approver counts once per assessment: the same content signed again is refused.
        if Approval.objects.filter(
            release=release, approver=actor, assessment_sha256=fresh
        ).exists():
            return ReleaseError
        return None

    def _approve(self, release, actor, seen):
        refusal = self._approval_refusal(release, actor, seen)
        with self._audited("release_approve", refusal):
            services.release_approve(
                actor=actor,
                release=release,
                seen_sha256=seen,
                reauth=signing.demo_reauthentication(actor),
            )
        return refusal

    @rule(data=st.data())
    def approve(self, data):
        """One or both authorities approve what they see (refused if they already did); an
        approver who loaded the release before its assessment last changed is refused first."""
        self._step()
        release = self._release(data, workflow.SUBMITTED)
        if release is None:
            return
        earlier = [sha for sha in self.seen.get(release.pk, []) if sha != release.assessment_sha256]
        if earlier and not self._likely(data, "saw the current assessment"):
            seen = self._pick(data, earlier, "earlier sha256")
            self._approve(release, self._person(data, "ada", "bo"), seen)
        for name in data.draw(st.sampled_from([["ada", "bo"], ["ada"], ["bo"]]), "approvers"):
            release.refresh_from_db()
            self._approve(release, self.people[name], release.assessment_sha256)

    @rule(data=st.data())
    def reapprove_deployed(self, data):
        """A deployed release is approved again: refused while its approvals are current,
        taken when its assessment changed under it (evidence renewed and verified)."""
        self._step()
        release = self._release(data, workflow.DEPLOYED)
        if release is not None:
            actor = self._person(data, "ada", "bo")
            if self._approve(release, actor, release.assessment_sha256) is None:
                release.refresh_from_db()
                if release.gate_allowed:
                    self.reached.add("deployed release approved again, gate open")

    # -- decisions -------------------------------------------------------------------------

    def _target(self, data, release):
        scope = self._pick(data, ["release", "model version", "model"], "scope")
        return {"release": release, "model version": release.model_version}.get(
            scope, release.model_version.model
        )

    def _sign(self, decision, actor):
        decision = Decision.objects.select_related("lifts").get(pk=decision.pk)
        if actor not in (self.people["ada"], self.people["bo"]):
            refusal = PermissionDenied
        elif (
            decision.state != Decision.State.PROPOSED
            or decision.signatures.filter(signer=actor).exists()
            # What it lifts was lifted meanwhile: nothing is left to lift.
            or (decision.kind == "lift" and decision.lifts.state != Decision.State.IN_EFFECT)
        ):
            refusal = ReleaseError
        else:
            refusal = None
        with self._audited("decision_sign", refusal):
            decisions.decision_sign(
                actor=actor, decision=decision, reauth=signing.demo_reauthentication(actor)
            )

    def _decision(self, data, **filters):
        pks = list(Decision.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))
        pk = self._pick(data, pks, "decision")
        return Decision.objects.select_related("release", "model_version", "model").get(
            pk=pk
        ) if pk else None  # fmt: skip

    @rule(data=st.data())
    def decide(self, data):
        """A pause or a restriction proposed, then (mostly) signed by both authorities."""
        self._step()
        release = self._release(data)
        if release is None:
            return
        kind = self._pick(data, ["restrict", "pause"], "kind")
        contexts = data.draw(st.lists(st.sampled_from(CONTEXTS), min_size=1, max_size=3))
        with self._audited("decision_propose", None):
            decision = decisions.decision_propose(
                actor=self._person(data, "ada", "bo", "lead"),
                kind=kind,
                target=self._target(data, release),
                rationale=RATIONALE,
                allowed_contexts=contexts if kind == "restrict" else None,
            )
        if self._likely(data, "both sign now"):
            for name in ("ada", "bo"):
                self._sign(decision, self.people[name])

    @rule(data=st.data())
    def lift(self, data):
        """A lift of a decision in effect proposed, then (mostly) signed by both authorities."""
        self._step()
        lifted = self._decision(data, state=Decision.State.IN_EFFECT)
        if lifted is None:
            return
        with self._audited("decision_propose", None):
            lift = decisions.decision_propose(
                actor=self._person(data, "ada", "bo", "lead"),
                kind="lift",
                target=lifted.release or lifted.model_version or lifted.model,
                rationale="The safeguards were verified since then.",
                lifts=lifted,
            )
        if self._likely(data, "both sign now"):
            for name in ("ada", "bo"):
                self._sign(lift, self.people[name])

    @rule(data=st.data())
    def sign(self, data):
        """Signatures on a proposed decision (refused once signed, or if what it lifts was
        lifted meanwhile)."""
        self._step()
        decision = self._decision(data, state=Decision.State.PROPOSED)
        if decision is not None:
            for name in data.draw(st.sampled_from([["ada", "bo"], ["ada"], ["bo"]]), "signers"):
                self._sign(decision, self.people[name])

    # -- results ---------------------------------------------------------------------------

    @rule(data=st.data())
    def result_arrives(self, data):
        self._step()
        version = self._pick(data, self.version_ids, "version")
        self._result(version, self._pick(data, list(RESULTS), "result"))

    @rule(data=st.data())
    def level_rises(self, data):
        """Orion 2.2 crosses CBRN-3 (ASL-2 to ASL-3), or either version CBRN-4 (ASL-4)."""
        self._step()
        version, name = self._pick(
            data,
            [(self.version_ids[1], "cross CBRN-3"), (self.version_ids[1], "cross CBRN-4"),
             (self.version_ids[0], "cross CBRN-4")],
            "crossing",
        )  # fmt: skip
        self._result(version, name)

    def _run(self, version, name):
        evaluation, metric, value = RESULTS[name]
        return RunInput(
            model_version=version.label,
            evaluation=evaluation,
            run_id=f"sm-{next(self.run_ids)}",
            status="success" if metric else "error",
            completed_at=datetime.now(UTC),
            results=(ResultInput(metric, value),) if metric else (),
        )

    def _result(self, version_id, name):
        version = ModelVersion.objects.get(pk=version_id)
        with self._audited("ingest_runs", None):
            ingestion.ingest_runs(
                actor=self.people["owner"], runs=[self._run(version, name)], source="api"
            )
        with self._audited("recompute", None):
            outcome = recompute.recompute(version.pk)
        if not outcome.skipped:  # what the assessment_changed receiver does after the commit
            with self._audited("refresh_for_model_versions", None):
                services.refresh_for_model_versions([version.pk])

    # -- time and overrides ----------------------------------------------------------------

    @rule(data=st.data())
    def time_passes(self, data):
        """Days go by with nothing else happening; the beat's gate sweep runs (a reader would
        do the same). Past the 90-day interval, ruled-out evidence goes stale: levels rise,
        approvals go stale, overrides lapse."""
        self._step()
        self.offset += timedelta(days=self._pick(data, [1, 45, 100], "days"))
        with self._audited("sweep_gates", None):
            services.sweep_gates()
        self.reached.add(f"clock +{self.offset.days} days")

    @rule(data=st.data())
    def override(self, data):
        """A lead or an authority overrides a threshold: lowering needs a current successful
        run of every condition (else refused, nothing written); then the recompute and the
        gate refresh that follow the commit."""
        self._step()
        version = ModelVersion.objects.get(pk=self._pick(data, self.version_ids, "version"))
        person = self._person(data, "lead", "ada")
        threshold = self._pick(data, ["CBRN-3", "CBRN-4", "CYBER-3"], "threshold")
        outcome = self._pick(data, ["ruled_out", "crossed"], "outcome")
        spec = next(t for t in self.world["thresholds"] if t["code"] == threshold)
        missing = outcome == "ruled_out" and pure_determinations.without_current_evidence(
            spec,
            recompute.run_facts([version.pk])[version.pk],
            now=timezone.now(),
            interval_days=self.world["interval_days"],
        )
        with self._audited("override_record", overrides.OverrideRefused if missing else None):
            overrides.override_record(
                actor=person, version=version, threshold=threshold, outcome=outcome,
                rationale=RATIONALE, reauth=signing.demo_reauthentication(person),
            )  # fmt: skip
        if missing:
            return
        self.reached.add(f"override {outcome}")
        with self._audited("recompute", None):
            outcome_ = recompute.recompute(version.pk)
        if not outcome_.skipped:
            with self._audited("refresh_for_model_versions", None):
                services.refresh_for_model_versions([version.pk])

    # -- moves that must be refused --------------------------------------------------------

    @rule(data=st.data())
    def refused_moves(self, data):
        """Every move that is not allowed now, on a release and a decision: each refused
        cleanly, writing nothing."""
        self._step()
        owner, ada = self.people["owner"], self.people["ada"]
        version = ModelVersion.objects.get(pk=self._pick(data, self.version_ids, "version"))
        self._refuse([
            (services.release_create, PermissionDenied,
             {"actor": ada, "model_version": version, "context": "api", "title": "API"}),
            (services.release_create, ReleaseError,
             {"actor": owner, "model_version": version, "context": "moon", "title": "Moon"}),
            (ingestion.ingest_runs, IngestionError,
             {"actor": ada, "runs": [self._run(version, "cross CBRN-4")], "source": "api"}),
        ])  # fmt: skip
        release = self._release(data)
        if release is not None:
            self._refuse_on_release(release)
            self._refuse_approvals(data, release)
            self._refuse_proposals(data, release)
        decision = self._decision(data)
        if decision is not None:
            self._refuse_on_decision(decision)

    def _refuse(self, moves):
        for service, refusal, kwargs in moves:
            with self._audited(service.__name__, refusal):
                service(**kwargs)

    def _refuse_on_release(self, release):
        owner, lead, ada, bo = (self.people[n] for n in ("owner", "lead", "ada", "bo"))
        codes = self._codes(release)
        code = (codes or ["SEC-BASELINE"])[0]
        on = {"release": release}
        moves = [
            (services.release_submit, PermissionDenied, {"actor": ada, **on}),
            (services.release_withdraw, PermissionDenied, {"actor": bo, **on}),
            (services.release_deploy, PermissionDenied, {"actor": ada, **on}),
            (services.safeguard_implement, PermissionDenied,
             {"actor": lead, "code": code, "text": "x", **on}),
            (services.safeguard_verify, PermissionDenied, {"actor": owner, "code": code, **on}),
        ]  # fmt: skip
        for unrequired in sorted(set(self.world["codes"]) - set(codes))[:1]:  # not at ASL-4
            moves += [
                (services.safeguard_implement, ReleaseError,
                 {"actor": owner, "code": unrequired, "text": "x", **on}),
                (services.safeguard_verify, ReleaseError,
                 {"actor": lead, "code": unrequired, **on}),
            ]  # fmt: skip
        if release.state != workflow.DRAFT:
            moves.append((services.release_submit, workflow.IllegalMove, {"actor": owner, **on}))
        if release.state == workflow.WITHDRAWN:
            moves.append((services.release_withdraw, workflow.IllegalMove, {"actor": owner, **on}))
        if release.state != workflow.APPROVED:
            moves.append((services.release_deploy, workflow.IllegalMove, {"actor": owner, **on}))
        # A safeguard without evidence to verify, if there is one.
        moves += [
            (services.safeguard_verify, ReleaseError, {"actor": lead, "code": c, **on})
            for c in codes
            if self._verify_refusal(release, lead, c) is ReleaseError
        ][:1]
        self._refuse(moves)

    def _refuse_approvals(self, data, release):
        people, current = self.people, release.assessment_sha256
        self._approve(release, people["lead"], current)  # no power to approve
        self._approve(release, people["owner"], current)  # the requester
        if release.state != workflow.SUBMITTED:
            self._approve(release, people["ada"], current)
        earlier = [sha for sha in self.seen.get(release.pk, []) if sha != current]
        if release.state == workflow.SUBMITTED and earlier:
            self._approve(release, people["bo"], self._pick(data, earlier, "earlier sha256"))

    def _refuse_proposals(self, data, release):
        people, target = self.people, self._target(data, release)
        self._refuse([
            (decisions.decision_propose, refusal,
             {"actor": people[name], "kind": kind, "target": target, "rationale": rationale,
              "allowed_contexts": contexts})
            for name, kind, contexts, rationale, refusal in [
                ("owner", "pause", None, RATIONALE, PermissionDenied),
                ("ada", "recall", None, RATIONALE, PermissionDenied),
                ("lead", "recall", None, RATIONALE, ReleaseError),
                ("bo", "restrict", [], RATIONALE, ReleaseError),
                ("ada", "pause", None, "too short", ReleaseError),
            ]
        ])  # fmt: skip

    def _refuse_on_decision(self, decision):
        people = self.people
        for name in ("lead", "owner"):
            self._sign(decision, people[name])  # not an authority
        signed = set(decision.signatures.values_list("signer_id", flat=True))
        for name in ("ada", "bo"):
            if decision.state != Decision.State.PROPOSED or people[name].pk in signed:
                self._sign(decision, people[name])
        if decision.state != Decision.State.IN_EFFECT:
            target = decision.release or decision.model_version or decision.model
            self._refuse([
                (decisions.decision_propose, ReleaseError,
                 {"actor": people["ada"], "kind": "lift", "target": target, "lifts": decision,
                  "rationale": "The safeguards were verified since then."}),
            ])  # fmt: skip

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def invariants_hold(self):
        releases = list(Release.objects.select_related("model_version__model").order_by("pk"))
        inputs = assessment.load(releases)  # fresh: the same reads a gate refresh makes
        for release in releases:
            built = assessment.build(release, inputs)
            verdict = assessment.gate(release, built, inputs)
            _check_safeguards_and_approvals(release, built, verdict, inputs)
            _check_progress(release, built, inputs)
            if release.state != workflow.WITHDRAWN:
                _check_cache(release, built, verdict)
        report = audit.verify_chain()
        assert report.ok, report.problem


def _check_safeguards_and_approvals(release, built, verdict, inputs):
    """(a) An approved release has what its level requires verified, and current approvals of
    distinct approvers at quorum; a deployed one lacking a verified safeguard is blocked."""
    if release.state not in (workflow.APPROVED, workflow.DEPLOYED):
        return
    unverified = [s["code"] for s in built.data["safeguards"] if s["state"] != "verified"]
    if release.state == workflow.APPROVED:
        assert not unverified, (release.pk, "approved", unverified)
        approvers = assessment.current_approvers(release, built, inputs)
        signed = set(
            Approval.objects.filter(release=release, assessment_sha256=built.sha256).values_list(
                "approver_id", flat=True
            )
        )
        assert approvers <= signed
        assert release.requested_by_id not in approvers
        assert built.level_defined and len(approvers) >= built.approval_quorum, (
            release.pk,
            "approved without current approvals of distinct approvers at quorum",
            len(approvers),
            built.approval_quorum,
        )
    elif unverified:
        assert release.blocked_since is not None, (release.pk, "deployed", unverified)
        assert not verdict.allowed and not release.gate_allowed


def _check_progress(release, built, inputs):
    """(a') Nothing is stuck: a submitted release whose current assessment is approved at
    quorum, with everything it requires verified, is approved (its approvers are not asked to
    sign the same content twice, which they could not)."""
    if release.state == workflow.SUBMITTED:
        assert not assessment.approvable(release, built, inputs), (release.pk, "stuck")


def _check_cache(release, built, verdict):
    """(b) The cached assessment and verdict are what a fresh build says."""
    cached = (
        release.assessment_sha256, release.required_level, release.level_defined,
        release.approval_quorum, release.gate_allowed, release.gate_messages,
    )  # fmt: skip
    fresh = (
        built.sha256, built.required_level, built.level_defined,
        built.approval_quorum, verdict.allowed, verdict.messages,
    )  # fmt: skip
    assert cached == fresh, (release.pk, release.state, cached, fresh)


@pytest.fixture
def world(lead, owner, authority, authority2, policy, orion_21):
    """Where every example starts: Orion 2.1 (ASL-3) and 2.2 (ASL-2, quorum 1), an approved
    and a deployed release of 2.2, and a restriction of 2.1 in effect (something to lift)."""
    orion_22 = _version(owner, orion_21.model, "orion-2.2", policy)
    approved, deployed = (submitted(owner, orion_22, context) for context in ("internal", "api"))
    for release in (approved, deployed):
        release.refresh_from_db()
        for spec in assessment.build(release).data["safeguards"]:
            if spec["state"] != "verified":
                services.safeguard_implement(
                    actor=owner, release=release, code=spec["code"], text="in place"
                )
                services.safeguard_verify(actor=lead, release=release, code=spec["code"])
    for release in (approved, deployed):
        approve(authority, release)
    services.release_deploy(actor=owner, release=deployed)
    restriction = decisions.decision_propose(
        actor=lead, kind="restrict", target=orion_21, rationale=RATIONALE,
        allowed_contexts=["api", "internal", "trusted_testers"],
    )  # fmt: skip
    for person in (authority, authority2):
        decisions.decision_sign(
            actor=person, decision=restriction, reauth=signing.demo_reauthentication(person)
        )
    assert [r.state for r in Release.objects.order_by("pk")] == ["approved", "deployed"]
    data = content.version_content(content.load_version(policy.pk))
    return {
        "people": {"lead": lead, "owner": owner, "ada": authority, "bo": authority2},
        "versions": [orion_21.pk, orion_22.pk],
        "codes": sorted(s["code"] for s in data["safeguards"]),
        "thresholds": data["thresholds"],
        "interval_days": data["version"]["reevaluation_interval_days"],
    }


def test_the_release_and_decision_state_machine_keeps_its_invariants(world):
    from hypothesis.stateful import run_state_machine_as_test

    assert ModelVersion.objects.get(pk=world["versions"][0]).required_level == "ASL-3"
    assert ModelVersion.objects.get(pk=world["versions"][1]).required_level == "ASL-2"
    machine = type(
        "Machine",
        (ReleaseMachine,),
        {
            "world": world,
            "calls": Counter(),
            "rule_runs": Counter(),
            "reached": set(),
            "examples": 0,
            "steps": 0,
        },
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(  # the figures the README quotes (pytest -s, or -rP)
        f"\nstate machine: {machine.examples} examples, {machine.steps} steps, "
        f"{sum(machine.calls.values())} service calls; reached {sorted(machine.reached)}"
    )
    print("  rules: " + ", ".join(f"{name} {n}" for name, n in sorted(machine.rule_runs.items())))
    for (name, outcome), count in sorted(machine.calls.items()):
        print(f"  {name:28} {outcome:18} {count}")
    # Each example rolled back: nothing of them is left.
    assert Release.objects.count() == 2 and Decision.objects.count() == 1
    assert audit.verify_chain().ok
    # The walk went where the invariants bite, not only through refusals.
    assert machine.examples >= EXAMPLES
    for state in ("approved", "deployed", "blocked", "decision in_effect", "decision lifted"):
        assert state in machine.reached, (state, machine.reached)
    assert {"level ASL-4", "level ASL-3"} <= machine.reached
    assert "deployed release approved again, gate open" in machine.reached
    # An assessment coming back to content approved at quorum is rare here since whoever
    # re-verifies must not be an approver (separation across acts); it is pinned down
    # deterministically in test_found_sequences (approved again without new signatures).
    # The clock moved and overrides landed, and an approver who acted on the evidence was
    # refused, with the invariants checked after every step. (What time does to one release,
    # step by step, is pinned down in test_gate_truth: the walk's exact path varies with the
    # database's history, so only these are asserted here.)
    assert any(name.startswith("clock +") for name in machine.reached), machine.reached
    assert any(name.startswith("override ") for name in machine.reached), machine.reached
    assert "approval refused: separation across acts" in machine.reached, machine.reached
    for prefix in ("approval went stale in", "deployed release blocked by"):
        assert any(r.startswith(prefix) for r in machine.reached), (prefix, machine.reached)
    for name in ("release_approve", "decision_sign", "safeguard_verify", "deploy"):
        assert machine.calls[(name, "done")] > 0, name
    refusals = {outcome for _, outcome in machine.calls} - {"done"}
    assert refusals >= {
        "PermissionDenied", "ReleaseError", "AssessmentChanged", "IllegalMove", "IngestionError"
    }, refusals  # fmt: skip
