import threading
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection

from core import audit, signing
from core.models import AuditEvent
from evaluations import ingestion, recompute
from evaluations.ingestion import ResultInput, RunInput
from releases import decisions, services
from releases.models import DecisionSignature, Release

pytestmark = pytest.mark.django_db
RATIONALE = "Uplift evaluations show a capability jump the safeguards do not cover."


def _sign(person, decision):
    return decisions.decision_sign(
        actor=person, decision=decision, reauth=signing.demo_reauthentication(person)
    )


@pytest.fixture
def release(owner, orion_21):
    release = services.release_create(
        actor=owner, model_version=orion_21, context="api", title="API"
    )
    return services.release_submit(actor=owner, release=release)


def test_a_pause_takes_effect_at_quorum_and_the_gate_denies_at_once(authority, authority2, release):
    decision = decisions.decision_propose(
        actor=authority, kind="pause", target=release.model_version, rationale=RATIONALE
    )
    assert decision.quorum == 2
    _sign(authority, decision)
    decision.refresh_from_db()
    assert decision.state == "proposed"
    _sign(authority2, decision)
    decision.refresh_from_db()
    release.refresh_from_db()
    assert decision.state == "in_effect"
    assert "paused by a decision on its model version" in release.gate_messages


def test_a_lift_takes_the_same_quorum(authority, authority2, release):
    pause = decisions.decision_propose(
        actor=authority, kind="pause", target=release, rationale=RATIONALE
    )
    _sign(authority, pause)
    _sign(authority2, pause)
    lift = decisions.decision_propose(
        actor=authority,
        kind="lift",
        target=release,
        rationale="Safeguards verified by the red team since.",
        lifts=pause,
    )
    _sign(authority, lift)
    pause.refresh_from_db()
    assert pause.state == "in_effect"
    _sign(authority2, lift)
    pause.refresh_from_db()
    release.refresh_from_db()
    assert pause.state == "lifted"
    assert not any("paused" in reason for reason in release.gate_messages)


def test_a_restriction_allows_only_its_contexts(authority, authority2, release):
    restrict = decisions.decision_propose(
        actor=authority,
        kind="restrict",
        target=release.model_version.model,
        rationale=RATIONALE,
        allowed_contexts=["internal"],
    )
    _sign(authority, restrict)
    _sign(authority2, restrict)
    release.refresh_from_db()
    assert "restricted by a decision on its model to internal" in release.gate_messages


def test_authorities_out_of_scope_or_validity_cannot_sign(lead, authority, owner, release, policy):
    from governance.models import PauseAuthority

    decision = decisions.decision_propose(
        actor=lead, kind="pause", target=release, rationale=RATIONALE
    )
    with pytest.raises(PermissionDenied):
        _sign(lead, decision)  # leads propose; designated authorities sign
    with pytest.raises(PermissionDenied):
        _sign(owner, decision)
    # Validity dates are checked at the moment of signing.
    from releases import access

    assert access.holds_power(authority, "pause", "orion", on=datetime(2026, 6, 1).date())
    assert not access.holds_power(authority, "pause", "orion", on=datetime(2025, 6, 1).date())
    assert PauseAuthority.objects.filter(version=policy).count() == 2


def test_a_signer_counts_once_and_signing_is_audited_per_signature(authority, release):
    decision = decisions.decision_propose(
        actor=authority, kind="pause", target=release, rationale=RATIONALE
    )
    _sign(authority, decision)
    with pytest.raises(services.ReleaseError, match="already signed"):
        _sign(authority, decision)
    assert AuditEvent.objects.filter(action="releases.decision.signed").count() == 1


def test_a_rising_level_blocks_an_open_release_and_notifies_the_authorities(
    owner, release, eager_tasks
):
    version = release.model_version
    assert release.required_level == "ASL-3"
    run = RunInput(
        model_version=version.label,
        evaluation="bio_expert_protocol_probe",
        run_id="cross-4",
        status="success",
        completed_at=datetime.now(UTC),
        results=(ResultInput("model_graded_qa/accuracy", 0.99),),
    )
    ingestion.ingest_runs(actor=owner, runs=[run], source="api")
    recompute.recompute(version.pk)  # sends assessment_changed after commit
    services.refresh_for_model_version(version.pk)  # what the receiver does after that commit
    release.refresh_from_db()
    assert release.required_level == "ASL-4"
    assert release.blocked_since is not None
    assert "blocked until the safeguards its level requires are verified" in release.gate_messages
    assert AuditEvent.objects.filter(
        action="releases.release.blocked", object_id=str(release.pk)
    ).exists()


def test_escalation_emails_go_to_authorities_in_scope(
    owner, release, authority, authority2, django_capture_on_commit_callbacks
):
    authority.email, authority2.email = "ada@example.org", "bo@example.org"
    authority.save()
    authority2.save()
    with django_capture_on_commit_callbacks(execute=True):
        decisions.notify_authorities(release, "Release blocked", "body")
    assert sorted(mail.outbox[0].to) == ["ada@example.org", "bo@example.org"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_authorities_signing_at_the_same_moment_reach_the_quorum_exactly_once(
    lead, owner, orion_21, authority, authority2
):
    release = services.release_create(
        actor=owner, model_version=orion_21, context="api", title="API"
    )
    decision = decisions.decision_propose(
        actor=authority, kind="pause", target=release, rationale=RATIONALE
    )
    signers = [authority, authority2]
    barrier = threading.Barrier(len(signers))
    errors = []

    def sign(person):
        try:
            barrier.wait(timeout=30)
            _sign(person, decision)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(p,)) for p in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    decision.refresh_from_db()
    assert decision.state == "in_effect"
    assert DecisionSignature.objects.filter(decision=decision).count() == 2
    assert AuditEvent.objects.filter(action="releases.decision.signed").count() == 2
    assert AuditEvent.objects.filter(action="releases.decision.in_effect").count() == 1
    assert Release.objects.get(pk=release.pk).gate_allowed is False


@pytest.mark.parametrize("count", [2, 5])
def test_gates_are_refreshed_in_batches_and_each_escalation_is_audited_once(
    owner,
    orion_21,
    authority,
    count,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    authority.email = "ada@example.org"
    authority.save()
    contexts = list(Release.Context.values)[:count]
    releases = [
        services.release_submit(
            actor=owner,
            release=services.release_create(
                actor=owner, model_version=orion_21, context=context, title=context
            ),
        )
        for context in contexts
    ]
    run = RunInput(
        model_version=orion_21.label,
        evaluation="bio_expert_protocol_probe",
        run_id="cross-4",
        status="success",
        completed_at=datetime.now(UTC),
        results=(ResultInput("model_graded_qa/accuracy", 0.99),),
    )
    ingestion.ingest_runs(actor=owner, runs=[run], source="api")
    recompute.recompute(orion_21.pk)
    # Lock, inputs (policy, statuses, determinations, approvals, decisions), the governing
    # policy and authorities for the emails, the audit chain (savepoints, head, insert); one row
    # update per release.
    with (
        django_capture_on_commit_callbacks(execute=True),
        django_assert_max_num_queries(16 + count),
    ):
        refreshed = services.refresh_for_model_versions([orion_21.pk])
    assert sorted(r.pk for r in refreshed) == sorted(r.pk for r in releases)
    for release in releases:
        release.refresh_from_db()
        assert (release.required_level, release.blocked_since is not None) == ("ASL-4", True)
        assert (
            AuditEvent.objects.filter(
                action="releases.release.blocked", object_id=str(release.pk)
            ).count()
            == 1
        )
    assert len(mail.outbox) == count
    assert audit.verify_chain().ok
