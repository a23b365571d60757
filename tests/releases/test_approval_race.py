import threading

import pytest
from django.db import connection

from core import signing
from releases import assessment, services
from releases.models import Approval, Release

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_an_approval_racing_a_change_never_counts_for_what_it_did_not_see(
    owner, authority, orion_21
):
    release = services.release_create(
        actor=owner, model_version=orion_21, context="api", title="API"
    )
    release = services.release_submit(actor=owner, release=release)
    seen = release.assessment_sha256
    code = assessment.required_safeguards(release)[0]["code"]
    barrier = threading.Barrier(2)
    outcomes = {}

    def approve():
        try:
            barrier.wait(timeout=30)
            services.release_approve(
                actor=authority,
                release=release,
                seen_sha256=seen,
                reauth=signing.demo_reauthentication(authority),
            )
            outcomes["approve"] = "signed"
        except services.AssessmentChanged:
            outcomes["approve"] = "conflict"
        finally:
            connection.close()

    def change():
        try:
            barrier.wait(timeout=30)
            services.safeguard_implement(actor=owner, release=release, code=code, text="new")
            outcomes["change"] = "done"
        finally:
            connection.close()

    threads = [threading.Thread(target=approve), threading.Thread(target=change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes["change"] == "done" and outcomes["approve"] in ("signed", "conflict")
    current = Release.objects.get(pk=release.pk)
    assert current.assessment_sha256 != seen
    # Whichever came first, no approval counts for the assessment that is now true.
    assert not Approval.objects.filter(
        release=current, assessment_sha256=current.assessment_sha256
    ).exists()
    for approval in Approval.objects.all():
        assert approval.assessment_sha256 == seen
