import pytest

from core import roles, signing
from releases import decisions, services
from tests.conftest import make_person
from tests.releases.conftest import authority2, orion_21, policy  # noqa: F401

PASSWORD = "correct-horse-battery-staple"
RATIONALE = "Red-team found a working jailbreak for the bio classifier."


def sign_all(release, verifier, approvers):
    """Evidence by the requester, verification by ``verifier``, approvals by ``approvers``."""
    release.refresh_from_db()
    for spec in services.assessment.required_safeguards(release):
        services.safeguard_implement(
            actor=release.requested_by, release=release, code=spec["code"], text="in place"
        )
        services.safeguard_verify(actor=verifier, release=release, code=spec["code"])
    for person in approvers:
        release.refresh_from_db()
        services.release_approve(
            actor=person,
            release=release,
            reauth=signing.demo_reauthentication(person),
            seen_sha256=release.assessment_sha256,
        )
    release.refresh_from_db()
    return release


@pytest.fixture
def release(owner, orion_21):  # noqa: F811
    release = services.release_create(
        actor=owner, model_version=orion_21, context="api", title="Orion on the API"
    )
    return services.release_submit(actor=owner, release=release)


@pytest.fixture
def approved(release, lead, authority, authority2):  # noqa: F811
    return sign_all(release, lead, [authority, authority2])


@pytest.fixture
def pause(approved, authority, authority2):  # noqa: F811
    decision = decisions.decision_propose(
        actor=authority, kind="pause", target=approved.model_version, rationale=RATIONALE
    )
    for person in (authority, authority2):
        decisions.decision_sign(
            actor=person, decision=decision, reauth=signing.demo_reauthentication(person)
        )
    decision.refresh_from_db()
    return decision


@pytest.fixture
def scoped_auditor(db):
    return make_person("sol", roles.SCOPED_AUDITOR)
