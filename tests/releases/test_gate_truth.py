"""The gate tells the truth at the moment it is asked, and fails closed.

Each test starts from a release the gate allows, changes one thing the register or the clock
says, and checks that whatever answers "may this ship?" (the gate API, the release page, a
deployment) says no, with a reason code, and that the database agrees.
"""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from core import signing, tokens
from core.models import AuditEvent
from evaluations import ingestion, overrides, recompute
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import Determination, ModelVersion
from governance import content, integrity, publishing
from governance import services as governance_services
from governance.models import IntegrityAlarm, PauseAuthority, PolicyVersion, TriggerCondition
from releases import gate, services
from releases.models import Release
from tests.audit_bypass import audit_guard_bypassed
from tests.governance.factories import designate
from tests.releases.conftest import approve, submitted, verify_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(owner, lead, authority, authority2, orion_21):
    release = submitted(owner, orion_21)
    verify_all(owner, lead, release)
    for person in (authority, authority2):
        approve(person, release)
    release.refresh_from_db()
    assert (release.state, release.gate_allowed) == ("approved", True)
    return release


def _gate(client, person, release):
    key = tokens.token_create(actor=person, user=person, name="pipeline").key
    response = client.get(f"/api/v1/releases/{release.pk}/gate/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    return response.json()


def _codes(body):
    return {reason["code"] for reason in body["reasons"]}


def _clean_run(owner, version, run_id):
    """A new successful run that changes no outcome (a clean re-run of CBRN-3's probe)."""
    run = RunInput(
        model_version=version.label,
        evaluation="bio_uplift_probe",
        run_id=run_id,
        status="success",
        completed_at=datetime.now(UTC),
        results=(ResultInput("includes/accuracy", 0.2),),
    )
    ingestion.ingest_runs(actor=owner, runs=[run], source="api")


def test_a_verdict_is_not_served_past_the_moment_its_evidence_goes_stale(client, owner, approved):
    """Nothing happens but time: the ruling-out evidence passes the re-evaluation interval.
    No beat runs; the gate API itself reassesses and denies, and deployment is refused."""
    body = _gate(client, owner, approved)
    assert body["allowed"] is True
    until = datetime.fromisoformat(body["valid_until"])
    first_stale = min(
        Determination.objects.filter(model_version=approved.model_version)
        .exclude(valid_until=None)
        .values_list("valid_until", flat=True)
    )
    assert until == first_stale
    later = until + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        with pytest.raises(services.GateClosed) as refused:
            services.release_deploy(actor=owner, release=approved)
        assert gate.APPROVALS_INCOMPLETE in [r.code for r in refused.value.reasons]
        assert Release.objects.get(pk=approved.pk).state == "approved"  # nothing written
        body = _gate(client, owner, approved)
        assert body["allowed"] is False
        assert {"not_approved", "approvals_incomplete"} <= _codes(body)
    release = Release.objects.get(pk=approved.pk)
    assert (release.state, release.gate_allowed) == ("submitted", False)
    stale = Determination.objects.filter(
        model_version=approved.model_version, outcome="cannot_rule_out"
    )
    assert any("older than 90 days" in d.reason for d in stale)


def test_the_cached_verdict_past_its_time_reads_as_evidence_stale_without_a_recompute(
    owner, approved
):
    """The pure verdict alone fails closed: given a clock past the evidence's interval and
    the same stored determinations, it denies with evidence_stale."""
    from releases import assessment

    release = Release.objects.select_related("model_version__model").get(pk=approved.pk)
    inputs = assessment.load([release])
    built = assessment.build(release, inputs)
    later = built.valid_until + timedelta(microseconds=1)
    verdict = assessment.gate(release, built, inputs, now=later)
    assert not verdict.allowed and gate.EVIDENCE_STALE in verdict.codes
    assert assessment.gate(release, built, inputs, now=built.valid_until - timedelta(1)).allowed


def test_a_refresh_lost_after_the_recompute_commits_is_finished_by_the_next_read(
    client, owner, approved
):
    """A crossing result is recomputed, but the refresh that follows the commit never runs
    (a worker died there). The cached row still says allowed; nothing serves it."""
    version = approved.model_version
    run = RunInput(
        model_version=version.label, evaluation="bio_expert_protocol_probe", run_id="cross-4",
        status="success", completed_at=datetime.now(UTC),
        results=(ResultInput("model_graded_qa/accuracy", 0.95),),
    )  # fmt: skip
    ingestion.ingest_runs(actor=owner, runs=[run], source="api")
    recompute.recompute(version.pk)  # its on-commit refresh is not run in this test
    cached = Release.objects.get(pk=approved.pk)
    assert cached.gate_allowed is True  # what a cache that failed open would serve
    assert list(services.behind()) == [cached]
    body = _gate(client, owner, approved)
    assert body["allowed"] is False
    assert body["required_level"] == "ASL-4"
    assert "safeguards_unverified" in _codes(body)
    assert not services.behind().exists()


def test_the_sweep_finishes_a_lost_refresh_when_nobody_asks(owner, approved):
    version = approved.model_version
    _clean_run(owner, version, "rerun")
    recompute.recompute(version.pk)
    assert services.behind().count() == 1
    assert services.sweep_gates() == 1
    release = Release.objects.get(pk=approved.pk)
    assert (release.gate_allowed, release.state) == (False, "submitted")
    assert not services.behind().exists()


def test_a_new_result_makes_the_approvals_stale_even_if_no_outcome_changes(
    owner, authority, approved
):
    """The approvers signed the evidence they saw: every run, by id and hash."""
    signed = approved.assessment_sha256
    _clean_run(owner, approved.model_version, "clean-rerun")
    outcome = recompute.recompute(approved.model_version_id)
    assert not outcome.changed  # same outcomes and level
    services.refresh_for_model_versions([approved.model_version_id])
    release = Release.objects.get(pk=approved.pk)
    assert release.assessment_sha256 != signed
    assert (release.state, release.gate_allowed) == ("submitted", False)
    assert "approvals: 0 of 2 current (2 stale)" in release.gate_messages
    assert ["clean-rerun", mock.ANY] in AuditEvent.objects.filter(
        action="releases.assessment.changed"
    ).latest("seq").after["evidence"]


def test_who_verified_a_safeguard_cannot_approve_the_release(
    owner, authority, authority2, orion_21
):
    release = submitted(owner, orion_21)
    verify_all(owner, authority, release)
    with pytest.raises(services.ReleaseError, match="verified a safeguard"):
        approve(authority, release)
    approve(authority2, release)
    release.refresh_from_db()
    assert release.state == "submitted"
    assert "approvals: 1 of 2 current" in release.gate_messages


def test_who_overrode_a_determination_does_not_count_toward_the_quorum(
    owner, lead, authority, authority2, orion_21, approved
):
    """An authority who overrode CBRN-3 to crossed (raising; no new evidence needed) and then
    approved: the override comes after their approval, so their approval stops counting."""
    overrides.override_record(
        actor=authority, version=orion_21, threshold="CBRN-3", outcome="crossed",
        rationale="Red-teamers found uplift the probe missed.",
        reauth=signing.demo_reauthentication(authority),
    )  # fmt: skip
    recompute.recompute(orion_21.pk)
    services.refresh_for_model_versions([orion_21.pk])
    release = Release.objects.get(pk=approved.pk)
    assert (release.state, release.gate_allowed) == ("submitted", False)
    with pytest.raises(services.ReleaseError, match="overrode a determination"):
        approve(authority, release)


def test_an_approval_stops_counting_when_its_signer_loses_the_power(
    lead, authority, authority2, approved
):
    """A new policy version no longer designates one approver: their signature on the same
    content no longer counts, and the release goes back for approval."""
    draft = governance_services.draft_start(actor=lead, policy=approved_policy())
    # authority2 keeps every power, but over another model only.
    PauseAuthority.objects.filter(version=draft, user=authority2).update(
        all_models=False, model_slugs=["vega"]
    )
    _publish_as_both_leads(draft)
    version_id = approved.model_version_id
    recompute.recompute(version_id)
    services.refresh_for_model_versions([version_id])
    release = Release.objects.get(pk=approved.pk)
    assert not release.gate_allowed
    assert "approvals_incomplete" in release.gate_codes


def _publish_as_both_leads(draft):
    """The policy's two leads sign the draft: its quorum of two publishes it."""
    for person in User.objects.filter(username__in=["lena", "lorna"]).order_by("username"):
        publishing.version_sign(
            actor=person, version=draft, reauth=signing.demo_reauthentication(person)
        )


def approved_policy():
    return PolicyVersion.objects.governing().policy


def test_an_authority_that_ends_bounds_the_verdict(lead, authority, authority2, approved):
    """An approver designated until a date: the verdict holds until the end of that day."""
    from releases import assessment

    ends = datetime.now(UTC).date() + timedelta(days=10)
    data = content.in_force_content(PolicyVersion.objects.governing())
    for entry in data["authorities"]:
        entry["valid_until"] = ends.isoformat()
    release = Release.objects.select_related("model_version__model").get(pk=approved.pk)
    inputs = assessment.load([release])
    inputs = assessment.Inputs(**{**inputs.__dict__, "data": data})
    built = assessment.build(release, inputs)
    verdict = assessment.gate(release, built, inputs)
    assert verdict.allowed
    assert verdict.valid_until == min(built.valid_until, assessment._end_of(ends))
    after = assessment._end_of(ends)
    assert not assessment.gate(release, built, inputs, now=after).allowed


def test_one_lead_cannot_replace_the_governing_policy_alone(lead, approved):
    """A second policy with a signing quorum of one needs the quorum of the policy in force
    (two) to take over; until then nothing changes."""
    governing = PolicyVersion.objects.governing()
    other = governance_services.template_load(actor=lead, name="preparedness")
    with pytest.raises(governance_services.RegisterError, match="cannot need fewer"):
        governance_services.version_update(actor=lead, version=other, changes={"signing_quorum": 1})
    PolicyVersion.objects.filter(pk=other.pk).update(signing_quorum=1)  # as imported YAML says
    designate(other, lead, count=3)
    other.refresh_from_db()
    outcome = publishing.version_sign(
        actor=lead, version=other, reauth=signing.demo_reauthentication(lead)
    )
    assert (outcome.published, outcome.quorum) == (False, governing.signing_quorum)
    assert PolicyVersion.objects.governing() == governing
    second = User.objects.get(username="lorna")  # the policy's second lead
    outcome = publishing.version_sign(
        actor=second, version=other, reauth=signing.demo_reauthentication(second)
    )
    assert outcome.published
    assert PolicyVersion.objects.governing().pk == other.pk
    assert PolicyVersion.objects.get(pk=governing.pk).state == "superseded"
    assert PolicyVersion.objects.filter(state="published").count() == 1


def test_a_published_threshold_edited_behind_the_guard_blocks_every_gate(client, owner, approved):
    policy = PolicyVersion.objects.governing()
    condition = TriggerCondition.objects.get(
        threshold__version=policy, threshold__code="CBRN-3", evaluation_key="bio_uplift_probe"
    )
    with audit_guard_bypassed():
        TriggerCondition.objects.filter(pk=condition.pk).update(value=0.99)
    content.forget()  # a process that loads the register after the edit
    release = Release.objects.select_related("model_version__model").get(pk=approved.pk)
    services.gate_refresh(release)
    assert "register_integrity" in release.gate_codes and not release.gate_allowed
    with pytest.raises(content.RegisterIntegrityError), transaction.atomic():
        recompute.recompute(approved.model_version_id, force=True)
    # The checkpoint job (and verify_audit) find it and raise an alarm every process reads.
    problems = integrity.check_published()
    assert problems == [
        f"{policy.policy.slug}:{policy.number} thresholds[CBRN-3].conditions[0].value: "
        "0.5 signed, 0.99 stored"
    ]
    alarm = IntegrityAlarm.objects.get(version=policy, cleared_at=None)
    assert alarm.problems == problems
    assert AuditEvent.objects.filter(action="governance.register.integrity_failed").exists()
    with pytest.raises(CommandError, match=r"conditions\[0\]\.value"):
        call_command("verify_audit", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # Every process now denies, whatever it has cached: the alarm is read with the policy.
    with audit_guard_bypassed():
        TriggerCondition.objects.filter(pk=condition.pk).update(value=0.5)
    Release.objects.filter(pk=approved.pk).update(gate_allowed=True, gate_reasons=[])
    body = _gate(client, owner, approved)
    assert body["allowed"] is False and "register_integrity" in _codes(body)
    # Restored, the next check clears the alarm and the gate opens again.
    assert integrity.check_published() == []
    content.forget()
    body = _gate(client, owner, approved)
    assert body["allowed"] is True, body


def test_the_reason_codes_are_documented_in_the_schema(client, owner):
    client.force_login(owner)
    schema = client.get("/api/v1/schema/?format=json").json()
    schemas = schema["components"]["schemas"]
    code = schemas["GateReason"]["properties"]["code"]
    ref = code["allOf"][0]["$ref"].rsplit("/", 1)[1]
    assert set(schemas[ref]["enum"]) == set(gate.CODES)
    for name, meaning in gate.CODES.items():
        assert f"`{name}` - {meaning}" in code["description"]


def test_the_gate_api_reads_a_bounded_number_of_queries(
    client, owner, approved, django_assert_max_num_queries
):
    key = tokens.token_create(actor=owner, user=owner, name="pipeline").key
    url = f"/api/v1/releases/{approved.pk}/gate/"
    client.get(url, HTTP_AUTHORIZATION=f"Token {key}")
    with django_assert_max_num_queries(6):  # token, release (with policy in force): cached
        assert client.get(url, HTTP_AUTHORIZATION=f"Token {key}").json()["allowed"]
    assert ModelVersion.objects.get(pk=approved.model_version_id).needs_recompute is False


def test_a_policy_may_relax_separation_only_with_a_recorded_reason(
    client, lead, owner, authority, authority2, orion_21
):
    reason = "A two-person team: the authorities also review the evidence."
    draft = governance_services.draft_start(actor=lead, policy=approved_policy())
    governance_services.version_update(
        actor=lead, version=draft, changes={"separation_waiver": reason}
    )
    _publish_as_both_leads(draft)
    assert (
        content.in_force_content(PolicyVersion.objects.governing())["version"]["separation_waiver"]
        == reason
    )
    recompute.recompute(orion_21.pk)
    release = submitted(owner, orion_21)
    verify_all(owner, authority, release)
    for person in (authority, authority2):
        approve(person, release)
    release.refresh_from_db()
    assert (release.state, release.gate_allowed) == ("approved", True)
    client.force_login(lead)
    page = client.get(f"/register/{draft.policy.slug}/v{draft.number}/")
    assert reason in page.content.decode()


def test_deactivating_a_counted_approver_closes_the_gate_at_the_next_ask(
    client, owner, authority, admin_console_actor, approved
):
    """A console change to who may act (deactivated, renamed) moves the people counter in its
    transaction: no cached verdict built before it is served."""
    from core import services as core_services

    assert _gate(client, owner, approved)["allowed"] is True
    before = core_services.user_snapshot(authority)
    authority.is_active = False
    authority.save(update_fields=["is_active"])
    core_services.user_saved_in_console(
        actor=admin_console_actor, user=authority, before=before, changed_fields=["is_active"]
    )
    body = _gate(client, owner, approved)
    assert body["allowed"] is False
    assert "approvals: 1 of 2 current (1 not eligible)" in [r["message"] for r in body["reasons"]]
    assert Release.objects.get(pk=approved.pk).state == "submitted"


def test_an_approver_stripped_of_the_authority_role_no_longer_counts(
    client, owner, authority, admin_console_actor, approved
):
    from core import roles as core_roles
    from core import services as core_services

    core_services.role_revoke(actor=admin_console_actor, user=authority, role=core_roles.AUTHORITY)
    with pytest.raises(services.GateClosed, match="1 not eligible"):
        services.release_deploy(actor=owner, release=approved)
    body = _gate(client, owner, approved)
    assert body["allowed"] is False and body["state"] == "submitted"


def test_an_authority_designated_until_the_end_of_time_can_approve(
    lead, owner, authority, authority2, orion_21
):
    draft = governance_services.draft_start(actor=lead, policy=approved_policy())
    PauseAuthority.objects.filter(version=draft).update(valid_until="9999-12-31")
    _publish_as_both_leads(draft)
    recompute.recompute(orion_21.pk)
    release = submitted(owner, orion_21)
    verify_all(owner, lead, release)
    for person in (authority, authority2):
        approve(person, release)
    release.refresh_from_db()
    assert (release.state, release.gate_allowed) == ("approved", True)


@pytest.fixture
def admin_console_actor(superuser):
    return superuser
