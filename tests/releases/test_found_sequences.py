"""Sequences the release state machine (``test_state_machine.py``) found faults in, kept as
plain tests: each failed before its fix."""

import pytest

from core import signing
from core.models import AuditEvent
from releases import assessment, decisions, services, workflow
from releases.models import Approval
from releases.services import ReleaseError
from tests.releases.conftest import approve, submitted, verify_all

pytestmark = pytest.mark.django_db

RATIONALE = "Evaluations show a capability the safeguards in place do not cover."


def _fresh(release):
    release.refresh_from_db()
    return assessment.build(release).sha256


def test_evidence_of_a_model_version_safeguard_refreshes_every_release_of_the_version(
    owner, lead, orion_21
):
    api, internal = submitted(owner, orion_21), submitted(owner, orion_21, "internal")
    services.safeguard_implement(actor=owner, release=api, code="SEC-WEIGHTS", text="in place")
    internal.refresh_from_db()
    # The row is the version's: the other release's assessment changed too, and says so.
    assert internal.assessment_sha256 == _fresh(internal)
    assert AuditEvent.objects.filter(
        action="releases.assessment.changed", object_id=str(internal.pk)
    ).count() == 2  # created, then this evidence  # fmt: skip


def test_approvals_at_quorum_leave_a_release_with_unverified_safeguards_submitted(
    owner, authority, authority2, orion_21
):
    release = submitted(owner, orion_21)
    approve(authority, release)
    approve(authority2, release)
    release.refresh_from_db()
    assert release.state == "submitted" and not release.gate_allowed
    assert "safeguards not verified" in " ".join(release.gate_messages)


def test_an_approver_counts_once_for_an_assessment_that_comes_back(
    owner, lead, authority, orion_21
):
    release = submitted(owner, orion_21)
    verify_all(owner, lead, release)
    approve(authority, release)
    signed = _fresh(release)
    # The same evidence again, verified again: the assessment is the one already signed.
    services.safeguard_implement(actor=owner, release=release, code="SEC-WEIGHTS", text="in place")
    services.safeguard_verify(actor=lead, release=release, code="SEC-WEIGHTS")
    assert _fresh(release) == signed
    with pytest.raises(ReleaseError, match="already approved"):
        approve(authority, release)
    release.refresh_from_db()
    assert release.state == "submitted"
    assert Approval.objects.filter(release=release).count() == 1


def test_an_assessment_that_comes_back_to_one_approved_at_quorum_is_approved_again(
    owner, lead, authority, authority2, orion_21
):
    release = submitted(owner, orion_21)
    verify_all(owner, lead, release)
    approve(authority, release)
    approve(authority2, release)
    signed = _fresh(release)
    services.safeguard_implement(actor=owner, release=release, code="SEC-WEIGHTS", text="in place")
    release.refresh_from_db()
    assert (release.state, release.gate_allowed) == ("submitted", False)
    # Verified again: the very content both approvers signed. Nobody is asked to sign it twice
    # (they could not): the gate approves it again, and it may ship.
    services.safeguard_verify(actor=lead, release=release, code="SEC-WEIGHTS")
    release.refresh_from_db()
    assert _fresh(release) == signed
    assert (release.state, release.gate_allowed, release.gate_messages) == ("approved", True, [])
    moves = AuditEvent.objects.filter(action="releases.release.approved", object_id=str(release.pk))
    assert [e.actor_label for e in moves.order_by("seq")] == ["bo", "system:gate"]
    with pytest.raises(ReleaseError, match="this one is approved"):
        approve(authority, release)
    assert Approval.objects.filter(release=release).count() == 2


def test_new_evidence_for_a_deployed_release_blocks_it_until_verified_again(
    owner, lead, authority, authority2, orion_21, mailoutbox, django_capture_on_commit_callbacks
):
    deployed, draft = submitted(owner, orion_21), submitted(owner, orion_21, "internal")
    verify_all(owner, lead, deployed)
    approve(authority, deployed)
    approve(authority2, deployed)
    services.release_deploy(actor=owner, release=deployed)
    # Through another release of the same version: the row is shared.
    with django_capture_on_commit_callbacks(execute=True):
        services.safeguard_implement(actor=owner, release=draft, code="SEC-WEIGHTS", text="renewed")
    deployed.refresh_from_db()
    assert deployed.blocked_since is not None and not deployed.gate_allowed
    assert AuditEvent.objects.filter(
        action="releases.release.blocked", object_id=str(deployed.pk)
    ).count() == 1  # fmt: skip
    assert [(m.subject, sorted(m.to)) for m in mailoutbox] == [
        (f"Release blocked: {deployed}", ["ada@example.org", "bo@example.org"])
    ]
    services.safeguard_verify(actor=lead, release=draft, code="SEC-WEIGHTS")
    deployed.refresh_from_db()
    assert deployed.blocked_since is None
    assert AuditEvent.objects.filter(
        action="releases.release.unblocked", object_id=str(deployed.pk)
    ).count() == 1  # fmt: skip
    # Verified, but not what the approvers signed: the gate stays shut until they approve the
    # new assessment, which they may do while it is deployed.
    assert not deployed.gate_allowed
    assert "approvals: 0 of 2 current (2 stale)" in deployed.gate_messages
    approve(authority, deployed)
    approve(authority2, deployed)
    deployed.refresh_from_db()
    assert (deployed.state, deployed.gate_allowed, deployed.gate_messages) == ("deployed", True, [])


def test_the_requester_cannot_send_an_approved_release_back_to_submitted(
    owner, lead, authority, authority2, orion_21
):
    release = submitted(owner, orion_21)
    verify_all(owner, lead, release)
    approve(authority, release)
    approve(authority2, release)
    release.refresh_from_db()
    assert release.state == "approved"
    with pytest.raises(workflow.IllegalMove):
        services.release_submit(actor=owner, release=release)
    release.refresh_from_db()
    assert (release.state, release.gate_allowed) == ("approved", True)


def test_a_second_lift_of_a_decision_already_lifted_is_refused(
    owner, authority, authority2, orion_21
):
    release = submitted(owner, orion_21)

    def sign(person, decision):
        decisions.decision_sign(
            actor=person, decision=decision, reauth=signing.demo_reauthentication(person)
        )

    pause = decisions.decision_propose(
        actor=authority, kind="pause", target=release, rationale=RATIONALE
    )
    sign(authority, pause)
    sign(authority2, pause)
    first, second = (
        decisions.decision_propose(
            actor=authority, kind="lift", target=release, rationale=RATIONALE, lifts=pause
        )
        for _ in range(2)
    )
    sign(authority, second)
    sign(authority2, second)
    # Proposed while the pause was in effect; there is nothing left for it to lift.
    for person in (authority, authority2):
        with pytest.raises(ReleaseError, match="no longer in effect"):
            sign(person, first)
    first.refresh_from_db()
    assert (first.state, first.signatures.count()) == ("proposed", 0)
    assert AuditEvent.objects.filter(action="releases.decision.lifted").count() == 1
