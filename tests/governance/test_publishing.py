import json
import threading

import pytest
from celery.signals import after_task_publish, task_prerun
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from core import roles, signing
from core.models import AuditEvent, Signature
from governance import content, publishing, services
from governance.models import PauseAuthority, PolicyVersion, SafetyLevel
from governance.signals import policy_published
from tests.conftest import make_person
from tests.governance.factories import designate

pytestmark = pytest.mark.django_db


def _sign(person, version):
    return publishing.version_sign(
        actor=person, version=version, reauth=signing.demo_reauthentication(person)
    )


@pytest.fixture
def draft(lead):
    version = services.template_load(actor=lead, name="rsp")
    designate(version, lead)
    return version


def test_at_quorum_the_version_takes_effect_and_a_recompute_is_enqueued_on_commit(
    lead, draft, django_capture_on_commit_callbacks
):
    published_ids, tasks = [], []

    def on_published(sender, version_id, **kwargs):
        published_ids.append(version_id)

    def on_sent(sender=None, body=None, **kwargs):  # a real broker (services tier)
        tasks.append((sender, list(body[0])))

    def on_run(sender=None, args=None, **kwargs):  # eager, in-process (embedded default)
        tasks.append((sender.name, list(args)))

    policy_published.connect(on_published)
    after_task_publish.connect(on_sent)
    task_prerun.connect(on_run)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            outcome = _sign(lead, draft)
        assert published_ids == []  # nothing leaves the transaction before it commits
        for callback in callbacks:
            callback()
    finally:
        policy_published.disconnect(on_published)
        after_task_publish.disconnect(on_sent)
        task_prerun.disconnect(on_run)
    assert (outcome.published, outcome.signers, outcome.quorum) == (True, 1, 1)
    draft.refresh_from_db()
    assert draft.state == "published"
    assert draft.effective_from == timezone.now().date()
    assert draft.content_sha256 == content.content_sha256(
        content.version_content(content.load_version(draft.pk))
    )
    assert published_ids == [draft.pk]
    assert tasks == [("evaluations.tasks.recompute_all_model_versions", [draft.pk])]


def test_the_signature_binds_the_content_hash(lead, draft):
    outcome = _sign(lead, draft)
    draft.refresh_from_db()
    manifest = json.loads(outcome.signature.manifest)
    assert manifest["meaning"]["text"] == "I publish this policy version"
    assert manifest["subject"]["content_sha256"] == draft.content_sha256
    assert manifest["subject"]["version"] == draft.number
    assert signing.is_authentic(outcome.signature)


def test_publishing_supersedes_the_version_in_force(lead, draft):
    _sign(lead, draft)
    second = services.draft_start(actor=lead, policy=draft.policy)
    _sign(lead, second)
    states = dict(PolicyVersion.objects.values_list("number", "state"))
    assert states == {1: "superseded", 2: "published"}
    actions = AuditEvent.objects.filter(action__startswith="governance.policy_version.")
    assert "governance.policy_version.superseded" in actions.values_list("action", flat=True)


def test_a_quorum_of_two_needs_two_different_leads(lead, draft):
    services.version_update(actor=lead, version=draft, changes={"signing_quorum": 2})
    first = _sign(lead, draft)
    assert (first.published, first.signers) == (False, 1)
    with pytest.raises(services.RegisterError, match="already signed"):
        _sign(lead, draft)
    second_lead = make_person("lorna", roles.GOVERNANCE_LEAD)
    second = _sign(second_lead, draft)
    assert (second.published, second.signers) == (True, 2)


def test_an_edit_after_signing_makes_earlier_signatures_stale(lead, draft):
    services.version_update(actor=lead, version=draft, changes={"signing_quorum": 2})
    _sign(lead, draft)
    level = draft.levels.get(code="ASL-1")
    level.name = "Renamed after signing"
    services.item_save(actor=lead, item=level)
    digest = content.content_sha256(content.version_content(content.load_version(draft.pk)))
    statuses = publishing.signatures_of(draft, digest)
    assert [status.current for status in statuses] == [False]
    second_lead = make_person("lorna", roles.GOVERNANCE_LEAD)
    assert _sign(second_lead, draft).published is False  # the stale one no longer counts
    assert _sign(lead, draft).published is True


def test_a_version_with_errors_cannot_be_signed(lead, draft):
    SafetyLevel.objects.filter(version=draft, code="ASL-4").update(rank=7)
    with pytest.raises(services.RegisterError, match="rank 4 is missing"):
        _sign(lead, draft)
    assert not Signature.objects.exists()


def test_only_governance_leads_sign(owner, draft):
    with pytest.raises(PermissionDenied):
        _sign(owner, draft)
    assert not Signature.objects.exists()


def test_a_published_version_cannot_be_signed_again(lead, draft):
    _sign(lead, draft)
    with pytest.raises(services.RegisterError, match="cannot change"):
        _sign(lead, draft)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_leads_signing_at_the_same_moment_publish_exactly_once():
    leads = [make_person(f"lead{n}", roles.GOVERNANCE_LEAD) for n in range(3)]
    draft = services.template_load(actor=leads[0], name="rsp")
    designate(draft, leads[0])
    services.version_update(actor=leads[0], version=draft, changes={"signing_quorum": 2})
    barrier = threading.Barrier(len(leads))
    outcomes, errors = [], []

    def sign(person):
        try:
            barrier.wait(timeout=30)
            outcomes.append(_sign(person, draft))
        except services.RegisterError as exc:  # the third signer finds it published
            errors.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(person,)) for person in leads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcome.published for outcome in outcomes) == [False, True]
    assert len(errors) == 1 and "cannot change" in errors[0]
    assert AuditEvent.objects.filter(action="governance.policy_version.published").count() == 1
    assert AuditEvent.objects.filter(action="core.signature.created").count() == 2


def test_a_draft_cannot_lower_the_quorum_of_the_version_in_force(lead, draft):
    services.version_update(actor=lead, version=draft, changes={"signing_quorum": 2})
    second_lead = make_person("lorna", roles.GOVERNANCE_LEAD)
    _sign(lead, draft)
    _sign(second_lead, draft)
    following = services.draft_start(actor=lead, policy=draft.policy)
    with pytest.raises(services.RegisterError, match="cannot need fewer"):
        services.version_update(actor=lead, version=following, changes={"signing_quorum": 1})


def test_a_signer_who_lost_the_role_no_longer_counts(lead, draft):
    services.version_update(actor=lead, version=draft, changes={"signing_quorum": 2})
    second_lead = make_person("lorna", roles.GOVERNANCE_LEAD)
    _sign(second_lead, draft)
    second_lead.is_active = False
    second_lead.save()
    assert _sign(lead, draft).published is False


def test_a_register_no_one_could_approve_or_pause_under_cannot_be_published(lead, authority):
    draft = services.template_load(actor=lead, name="rsp")
    services.item_save(actor=lead, item=PauseAuthority(
        version=draft, user=authority, all_models=True, valid_from="2026-01-01",
        powers=["approve"],
    ))  # fmt: skip
    with pytest.raises(services.RegisterError) as refused:
        _sign(lead, draft)
    message = str(refused.value)
    assert "ASL-3 needs 2 approvals, but 1 designated authorities can approve" in message
    assert "A pause takes effect at 1 signatures, but 0 designated authorities" in message
    assert not Signature.objects.filter(meaning=publishing.PUBLISH.code).exists()
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_only_holders_of_the_authority_role_can_be_designated(lead, owner):
    draft = services.template_load(actor=lead, name="rsp")
    designate(draft, lead)
    services.item_save(actor=lead, item=PauseAuthority(
        version=draft, user=owner, all_models=True, valid_from="2026-01-01", powers=["pause"],
    ))  # fmt: skip
    with pytest.raises(services.RegisterError, match="Authority omar is not an active holder"):
        _sign(lead, draft)


def test_authorities_not_yet_valid_do_not_count_toward_the_quorums(lead):
    draft = services.template_load(actor=lead, name="rsp")
    designate(draft, lead)
    PauseAuthority.objects.filter(version=draft).update(valid_from="2099-01-01")
    with pytest.raises(services.RegisterError, match="but 0 designated authorities can approve"):
        _sign(lead, draft)
