"""Races on the release gate, on PostgreSQL: threads released together by a barrier, each race
repeated to shake out orderings.

- two authorities approving at the same moment (and one of them twice): the quorum is reached
  exactly once, one state change, each event once;
- signatures on decisions at once (tests/releases/test_decisions_and_escalation.py races two
  signatures on one pause; here: on a lift, and the last signatures of two lifts of one pause);
- evidence for two releases of one model version at once (they share its safeguards);
- an approval racing a crossing result: whatever the order, never an approved release whose
  approvals are not current; either the approval lands and then goes stale, the release back
  to submitted, or it fails with ``AssessmentChanged``;
- a deployment racing a crossing result: the release is either deployed and then blocked, or
  refused the deployment; never deployed and unwatched above its verified safeguards.
"""

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.db import connection

from core import audit, signing
from core.models import AuditEvent
from evaluations import ingestion, recompute
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import ModelVersion
from releases import assessment, decisions, services, workflow
from releases.models import Approval, Decision, DecisionSignature, Release
from tests.releases import conftest as releases

# The published RSP-style policy (authorities Ada and Bo, quorum 2) and Orion 2.1 at ASL-3.
policy, authority2, orion_21 = releases.policy, releases.authority2, releases.orion_21

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REPEATS = 6
RATIONALE = "Evaluations show a capability the safeguards in place do not cover."


def race(*jobs, delays=None):
    """Run each job in its own thread, all released together; the outcome of each job (its
    return value, or the exception it raised) in order."""
    barrier = threading.Barrier(len(jobs))
    delays = delays or [0.0] * len(jobs)
    outcomes: list[object] = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=30)
            time.sleep(delays[index])
            outcomes[index] = job()
        except Exception as exc:  # the outcome; a thread's exception is otherwise lost
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return outcomes


def approve(person, release, seen=None):
    def job():
        return services.release_approve(
            actor=person,
            release=release,
            seen_sha256=seen or Release.objects.get(pk=release.pk).assessment_sha256,
            reauth=signing.demo_reauthentication(person),
        )

    return job


def sign(person, decision):
    def job():
        return decisions.decision_sign(
            actor=person, decision=decision, reauth=signing.demo_reauthentication(person)
        )

    return job


def implement(owner, release, code, text):
    def job():
        return services.safeguard_implement(actor=owner, release=release, code=code, text=text)

    return job


def ready(owner, lead, version, context):
    """A submitted release with every safeguard its level requires verified."""
    release = services.release_create(
        actor=owner, model_version=version, context=context, title=context
    )
    release = services.release_submit(actor=owner, release=release)
    for spec in assessment.build(release).data["safeguards"]:
        if spec["state"] != "verified":
            code = spec["code"]
            services.safeguard_implement(actor=owner, release=release, code=code, text="done")
            services.safeguard_verify(actor=lead, release=release, code=code)
    return Release.objects.get(pk=release.pk)


def events(action, obj):
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).count()


def assert_gate_is_fresh(release):
    """The cached assessment and verdict are what a fresh build says, and an approved release
    has current approvals of distinct approvers at its quorum."""
    release = Release.objects.select_related("model_version__model").get(pk=release.pk)
    built = assessment.build(release)
    verdict = assessment.gate(release, built)
    assert (release.assessment_sha256, release.gate_allowed, release.gate_messages) == (
        built.sha256,
        verdict.allowed,
        verdict.messages,
    )
    if release.state == workflow.APPROVED:
        approvers = set(
            Approval.objects.filter(release=release, assessment_sha256=built.sha256).values_list(
                "approver_id", flat=True
            )
        )
        assert len(approvers) >= built.approval_quorum, "approved on approvals not current"
    return release


def test_authorities_approving_at_the_same_moment_reach_the_quorum_exactly_once(
    lead, owner, authority, authority2, orion_21
):
    for context in list(Release.Context.values)[:REPEATS]:
        release = ready(owner, lead, orion_21, context)
        # Ada twice (a double submit) and Bo, at once: two approvals, one refused.
        outcomes = race(
            approve(authority, release), approve(authority2, release), approve(authority, release)
        )
        kinds = Counter(type(outcome).__name__ for outcome in outcomes)
        assert kinds == {"Approval": 2, "ReleaseError": 1}, outcomes
        release = assert_gate_is_fresh(release)
        assert (release.state, release.gate_allowed) == ("approved", True)
        assert sorted(
            Approval.objects.filter(release=release).values_list("approver__username", flat=True)
        ) == ["ada", "bo"]
        assert (
            AuditEvent.objects.filter(
                action="releases.approval.signed", subject=f"releases.release:{release.pk}"
            ).count()
            == 2
        )
        assert events("releases.release.approved", release) == 1
    assert audit.verify_chain().ok


def test_two_signatures_on_a_lift_at_once_lift_the_decision_exactly_once(
    owner, authority, authority2, orion_21
):
    for scope in ["release", "model version", "model"] * 2:
        release = services.release_create(
            actor=owner, model_version=orion_21, context="api", title=scope
        )
        target = {"release": release, "model version": orion_21}.get(scope, orion_21.model)
        pause = decisions.decision_propose(
            actor=authority, kind="pause", target=target, rationale=RATIONALE
        )
        race(sign(authority, pause), sign(authority2, pause))
        lift = decisions.decision_propose(
            actor=authority, kind="lift", target=target, rationale=RATIONALE, lifts=pause
        )
        outcomes = race(sign(authority, lift), sign(authority2, lift))
        assert all(isinstance(outcome, Decision) for outcome in outcomes), outcomes
        pause.refresh_from_db()
        lift.refresh_from_db()
        assert (pause.state, lift.state) == ("lifted", "in_effect")
        assert DecisionSignature.objects.filter(decision=lift).count() == 2
        assert events("releases.decision.in_effect", lift) == 1
        assert events("releases.decision.lifted", pause) == 1
        release = assert_gate_is_fresh(release)
        assert not any("paused" in reason for reason in release.gate_messages)
    assert audit.verify_chain().ok


def test_two_lifts_of_one_pause_completed_at_once_lift_it_once(
    owner, authority, authority2, orion_21
):
    for _ in range(REPEATS):
        release = services.release_create(
            actor=owner, model_version=orion_21, context="api", title="API"
        )
        pause = decisions.decision_propose(
            actor=authority, kind="pause", target=release, rationale=RATIONALE
        )
        race(sign(authority, pause), sign(authority2, pause))
        lifts = [
            decisions.decision_propose(
                actor=authority, kind="lift", target=release, rationale=RATIONALE, lifts=pause
            )
            for _ in range(2)
        ]
        for lift in lifts:
            sign(authority, lift)()
        # Each lift's last signature, at once: only one of them may take effect.
        outcomes = race(*(sign(authority2, lift) for lift in lifts))
        kinds = sorted(type(outcome).__name__ for outcome in outcomes)
        assert kinds == ["Decision", "ReleaseError"], outcomes
        assert "no longer in effect" in str(next(o for o in outcomes if isinstance(o, Exception)))
        states = sorted(Decision.objects.filter(lifts=pause).values_list("state", flat=True))
        assert states == ["in_effect", "proposed"]
        pause.refresh_from_db()
        assert pause.state == "lifted" and events("releases.decision.lifted", pause) == 1
        assert_gate_is_fresh(release)
    assert audit.verify_chain().ok


def test_evidence_for_two_releases_of_one_version_at_once_refreshes_both(owner, lead, orion_21):
    codes = {s["code"]: s["scope"] for s in assessment.required_safeguards(
        services.release_create(actor=owner, model_version=orion_21, context="api", title="A")
    )}  # fmt: skip
    shared = [code for code, scope in codes.items() if scope == "model_version"]
    own = [code for code, scope in codes.items() if scope == "release"]
    for n in range(REPEATS):
        first, second = (
            services.release_submit(
                actor=owner,
                release=services.release_create(
                    actor=owner, model_version=orion_21, context=context, title=f"{n}"
                ),
            )
            for context in ("internal", "trusted_testers")
        )
        text = f"evidence {n}"
        jobs = [
            implement(owner, first, shared[n % len(shared)], text),
            implement(owner, second, own[n % len(own)], text),
        ]
        outcomes = race(*jobs)
        assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
        for release in Release.objects.exclude(state=workflow.WITHDRAWN):
            assert_gate_is_fresh(release)
    assert audit.verify_chain().ok


def _version_at_asl3(owner, published, label):
    """Like Orion 2.1: every threshold ruled out but CBRN-3, which it crosses (ASL-3)."""
    model = ModelVersion.objects.get(label="orion-2.1").model
    return releases.version_with_runs(owner, model, label, releases.at_asl3(published))


CROSSINGS = {
    # CBRN-4: the level rises to ASL-4, which the policy leaves undefined.
    "ASL-4": ("bio_expert_protocol_probe", "model_graded_qa/accuracy", 0.99),
    # AIRD-3: the level stays ASL-3, but a determination changes (the assessment with it).
    "ASL-3": ("ai_rd_task_suite", "pass_at_1", 0.9),
}


def test_an_approval_racing_a_crossing_result_never_leaves_stale_approvals_approved(
    lead, owner, authority, authority2, orion_21, policy
):
    # Per repetition: which level the result leads to, and how long each racer waits after
    # the barrier (none: a true race; or long enough that one of them surely goes first).
    plan = [
        ("ASL-4", (0.0, 0.0)), ("ASL-3", (0.0, 0.0)), ("ASL-4", (0.0, 2.0)),
        ("ASL-3", (0.0, 2.0)), ("ASL-4", (2.0, 0.0)), ("ASL-3", (2.0, 0.0)),
        ("ASL-4", (0.0, 0.0)), ("ASL-3", (0.0, 0.0)),
    ]  # fmt: skip
    seen_outcomes = Counter()
    for n, (level, delays) in enumerate(plan):
        version = _version_at_asl3(owner, policy, f"orion-2.1-r{n}")
        release = ready(owner, lead, version, "api")
        approve(authority, release)()
        release = Release.objects.get(pk=release.pk)
        seen = release.assessment_sha256
        assert (release.state, release.required_level) == ("submitted", "ASL-3")
        evaluation, metric, value = CROSSINGS[level]

        def crossing(version=version, evaluation=evaluation, metric=metric, value=value, n=n):
            run = RunInput(
                model_version=version.label, evaluation=evaluation, run_id=f"cross-{n}",
                status="success", completed_at=datetime.now(UTC),
                results=(ResultInput(metric, value),),
            )  # fmt: skip
            ingestion.ingest_runs(actor=owner, runs=[run], source="api")
            recompute.recompute(version.pk)  # its receiver refreshes the gates on commit
            return services.refresh_for_model_versions([version.pk])  # again: a no-op

        approval, crossed = race(approve(authority2, release, seen), crossing, delays=delays)
        assert isinstance(crossed, list), crossed
        release = assert_gate_is_fresh(release)
        assert release.assessment_sha256 != seen
        assert release.required_level == level
        # Whichever came first, the release is not approved on what is no longer true.
        assert release.state == "submitted" and not release.gate_allowed
        assert not Approval.objects.filter(
            release=release, assessment_sha256=release.assessment_sha256
        ).exists()
        if isinstance(approval, Approval):
            # It landed first: it completed the quorum, then went stale with the result.
            seen_outcomes["approved, then stale"] += 1
            assert approval.assessment_sha256 == seen
            assert events("releases.release.approved", release) == 1
            assert events("releases.release.submitted", release) == 2  # by owner, by the gate
        else:
            assert isinstance(approval, services.AssessmentChanged), approval
            seen_outcomes["refused: assessment changed"] += 1
            assert Approval.objects.filter(release=release).count() == 1  # Ada's alone
            assert events("releases.release.approved", release) == 0
        assert events("releases.assessment.changed", release) >= 1
        if level == "ASL-4":  # above the verified safeguards: blocked, once
            assert release.blocked_since is not None
            assert events("releases.release.blocked", release) == 1
    # The delayed repetitions force both orders; the others are true races.
    assert set(seen_outcomes) == {"approved, then stale", "refused: assessment changed"}
    assert audit.verify_chain().ok


def test_an_approval_racing_a_pause_taking_effect_ends_paused_and_fresh(
    lead, owner, authority, authority2, orion_21
):
    for n, scope in enumerate(["release", "model version", "model"] * 2):
        release = ready(owner, lead, orion_21, list(Release.Context.values)[n % 5])
        approve(authority, release)()
        target = {"release": release, "model version": orion_21}.get(scope, orion_21.model)
        pause = decisions.decision_propose(
            actor=authority, kind="pause", target=target, rationale=RATIONALE
        )
        sign(authority, pause)()
        # Bo completes both at once: the approval's quorum and the pause's.
        approval, paused = race(approve(authority2, release), sign(authority2, pause))
        assert isinstance(approval, Approval) and isinstance(paused, Decision), (approval, paused)
        release = assert_gate_is_fresh(release)
        assert release.state == "approved" and not release.gate_allowed
        assert f"paused by a decision on its {scope}" in release.gate_messages
        assert events("releases.decision.in_effect", pause) == 1
    assert audit.verify_chain().ok


def test_a_deployment_racing_a_crossing_result_never_ships_unwatched(
    lead, owner, authority, authority2, orion_21, policy
):
    # The pipeline records its deployment as a result raises the level to ASL-4, whose
    # safeguards are not in place: either the deployment lands first and the result then
    # blocks the deployed release, or the result lands first and the deployment is refused.
    plan = [(0.0, 0.0), (0.0, 2.0), (2.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)]
    seen_outcomes = Counter()
    for n, delays in enumerate(plan):
        version = _version_at_asl3(owner, policy, f"orion-2.1-d{n}")
        release = ready(owner, lead, version, "api")
        for person in (authority, authority2):
            approve(person, release)()
        release = Release.objects.get(pk=release.pk)
        assert (release.state, release.gate_allowed) == ("approved", True)
        evaluation, metric, value = CROSSINGS["ASL-4"]

        def crossing(version=version, evaluation=evaluation, metric=metric, value=value, n=n):
            run = RunInput(
                model_version=version.label, evaluation=evaluation, run_id=f"deploy-{n}",
                status="success", completed_at=datetime.now(UTC),
                results=(ResultInput(metric, value),),
            )  # fmt: skip
            ingestion.ingest_runs(actor=owner, runs=[run], source="api")
            recompute.recompute(version.pk)
            return services.refresh_for_model_versions([version.pk])

        def deploy(release=release):
            return services.release_deploy(actor=owner, release=release)

        deployed, crossed = race(deploy, crossing, delays=delays)
        assert isinstance(crossed, list), crossed
        release = assert_gate_is_fresh(release)
        assert release.required_level == "ASL-4" and not release.gate_allowed
        if isinstance(deployed, Release):
            seen_outcomes["deployed, then blocked"] += 1
            assert release.state == "deployed" and release.blocked_since is not None
            assert events("releases.release.deployed", release) == 1
            assert events("releases.release.blocked", release) == 1
        else:
            # Refused by the gate recomputed under the lock (the level rose, the refresh is
            # still to come), or by the state the refresh already moved it back to.
            assert isinstance(deployed, (services.GateClosed, workflow.IllegalMove)), deployed
            seen_outcomes["refused: the gate closed"] += 1
            assert release.state == "submitted"  # the approvals went stale with the result
            assert events("releases.release.deployed", release) == 0
    assert set(seen_outcomes) == {"deployed, then blocked", "refused: the gate closed"}
    assert audit.verify_chain().ok
