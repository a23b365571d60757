import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, transaction

from core import signing
from core.models import AuditEvent
from releases import services
from releases.models import Approval, Release, SafeguardStatus
from tests.releases.conftest import approve, verify_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(owner, orion_21):
    release = services.release_create(
        actor=owner, model_version=orion_21, context="api", title="Orion API"
    )
    return services.release_submit(actor=owner, release=release)


def _all_safeguards(release):
    from releases import assessment

    return [s["code"] for s in assessment.required_safeguards(release)]


def test_a_new_release_shows_its_level_and_every_reason_it_cannot_ship(release):
    assert (release.state, release.required_level, release.approval_quorum) == (
        "submitted",
        "ASL-3",
        2,
    )
    assert release.gate_allowed is False
    reasons = " | ".join(release.gate_messages)
    assert "the release is submitted, not approved" in reasons
    assert "safeguards not verified: " in reasons
    assert "approvals: 0 of 2 current" in reasons


def test_evidence_is_verified_by_someone_else(owner, lead, release):
    code = _all_safeguards(release)[0]
    services.safeguard_implement(
        actor=owner, release=release, code=code, link="https://example.org/e"
    )
    with pytest.raises(PermissionDenied):
        services.safeguard_verify(actor=owner, release=release, code=code)
    status = services.safeguard_verify(actor=lead, release=release, code=code)
    assert (status.state, status.verified_by) == ("verified", lead)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database says so too
        SafeguardStatus.objects.filter(pk=status.pk).update(verified_by=owner)


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/evidence",
        "https://example.org/" + "e" * 500,
        "not a link",
    ],
)
def test_an_evidence_link_is_a_web_address_or_nothing_is_recorded(owner, release, link):
    code = _all_safeguards(release)[0]
    events = AuditEvent.objects.count()
    with pytest.raises(services.ReleaseError, match="evidence link"):
        services.safeguard_implement(actor=owner, release=release, code=code, link=link)
    assert not SafeguardStatus.objects.filter(release=release, evidence_link=link).exists()
    assert AuditEvent.objects.count() == events


def test_the_implementer_cannot_verify_even_with_the_permission(lead, release):
    from core import access as core_access

    core_access.grant(
        lead, "evaluations.feed_model", release.model_version.model
    )  # a lead who also feeds
    code = _all_safeguards(release)[0]
    services.safeguard_implement(actor=lead, release=release, code=code, text="done")
    with pytest.raises(services.ReleaseError, match="cannot verify it"):
        services.safeguard_verify(actor=lead, release=release, code=code)
    assert SafeguardStatus.objects.get(code=code).state == "implemented"


def test_two_approvals_on_the_current_assessment_open_the_gate(
    owner, lead, authority, authority2, release
):
    verify_all(owner, lead, release)
    approve(authority, release)
    release.refresh_from_db()
    assert release.state == "submitted"
    approval = approve(authority2, release)
    release.refresh_from_db()
    assert (release.state, release.gate_allowed, release.gate_messages) == ("approved", True, [])
    manifest = json.loads(approval.signature.manifest)["subject"]
    assert manifest["required_level"] == "ASL-3"
    assert manifest["assessment_sha256"] == release.assessment_sha256
    assert {d["threshold"]: d["deciding_run"] for d in manifest["determinations"]}[
        "CBRN-3"
    ] == "r-bio_uplift_probe"
    assert signing.is_authentic(approval.signature)


def test_the_requester_and_people_without_the_power_cannot_approve(owner, lead, release):
    with pytest.raises(services.ReleaseError, match="requested a release cannot approve"):
        approve(owner, release)
    with pytest.raises(PermissionDenied):
        approve(lead, release)
    assert not Approval.objects.exists()


def test_an_approval_of_an_assessment_that_changed_is_refused(owner, authority, release):
    release.refresh_from_db()
    seen = release.assessment_sha256
    services.safeguard_implement(
        actor=owner, release=release, code=_all_safeguards(release)[0], text="x"
    )
    with pytest.raises(services.AssessmentChanged, match="changed after you loaded it"):
        services.release_approve(
            actor=authority,
            release=release,
            seen_sha256=seen,
            reauth=signing.demo_reauthentication(authority),
        )
    assert not Approval.objects.exists()


def test_an_approval_goes_stale_when_the_evidence_changes(
    owner, lead, authority, authority2, release
):
    verify_all(owner, lead, release)
    approve(authority, release)
    approve(authority2, release)
    release.refresh_from_db()
    assert release.state == "approved"
    code = _all_safeguards(release)[0]
    services.safeguard_implement(actor=owner, release=release, code=code, text="new evidence")
    release.refresh_from_db()
    assert release.state == "submitted"  # approvals no longer match what is true
    assert "approvals: 0 of 2 current (2 stale)" in release.gate_messages
    assert AuditEvent.objects.filter(
        action="releases.release.submitted", actor_label="system:gate"
    ).exists()


def test_each_approver_counts_once_in_the_database(owner, lead, authority, release):
    verify_all(owner, lead, release)
    approval = approve(authority, release)
    with pytest.raises(services.ReleaseError, match="already approved"):
        approve(authority, release)
    with pytest.raises(DatabaseError), transaction.atomic():
        Approval.objects.create(
            release=approval.release,
            approver=authority,
            signature=approval.signature,
            assessment_version=approval.assessment_version,
            assessment_sha256="x",
        )


def test_illegal_moves_are_refused(owner, release):
    from releases import workflow

    withdrawn = services.release_withdraw(actor=owner, release=release)
    assert withdrawn.state == "withdrawn"
    with pytest.raises(workflow.IllegalMove):
        services.release_submit(actor=owner, release=withdrawn)
    assert Release.objects.get().state == "withdrawn"
