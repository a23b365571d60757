import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from core import signing
from core.models import AuditEvent
from governance import content, policy_yaml, publishing, services
from governance.models import (
    CapabilityThreshold,
    PauseAuthority,
    Policy,
    PolicyVersion,
    SafetyLevel,
    TriggerCondition,
)
from tests.governance.factories import designate

pytestmark = pytest.mark.django_db


def _hash(version):
    return content.content_sha256(content.version_content(content.load_version(version.pk)))


def _publish(lead, version):
    return publishing.version_sign(
        actor=lead, version=version, reauth=signing.demo_reauthentication(lead)
    )


@pytest.fixture
def draft(lead):
    return services.template_load(actor=lead, name="rsp")


@pytest.fixture
def published(lead, draft):
    designate(draft, lead)
    _publish(lead, draft)
    draft.refresh_from_db()
    return draft


def test_a_new_policy_starts_with_an_empty_draft_and_is_audited(lead):
    version = services.policy_create(actor=lead, name="Acme policy", slug="acme")
    assert (version.number, version.state, version.label) == (1, "draft", "1")
    events = AuditEvent.objects.filter(subject=f"governance.policy:{version.policy_id}")
    assert list(events.values_list("action", flat=True)) == ["governance.policy.created"]


def test_only_governance_leads_create_and_edit(owner, draft):
    with pytest.raises(PermissionDenied):
        services.policy_create(actor=owner, name="Mine", slug="mine")
    level = draft.levels.first()
    level.name = "Hijacked"
    with pytest.raises(PermissionDenied):
        services.item_save(actor=owner, item=level)
    assert not Policy.objects.filter(slug="mine").exists()
    assert SafetyLevel.objects.get(pk=level.pk).name != "Hijacked"


def test_a_template_loads_as_a_draft_with_its_content(draft):
    data = content.version_content(content.load_version(draft.pk))
    assert [level["code"] for level in data["levels"]] == ["ASL-1", "ASL-2", "ASL-3", "ASL-4"]
    assert data["version"]["baseline_level"] == "ASL-2"
    cbrn3 = next(t for t in data["thresholds"] if t["code"] == "CBRN-3")
    assert cbrn3["conditions"][0] == {
        "evaluation": "bio_uplift_probe", "metric": "includes/accuracy", "comparator": ">=",
        "value": 0.5, "alert_value": 0.4,
    }  # fmt: skip
    event = AuditEvent.objects.get(action="governance.policy_version.imported")
    assert event.reason == "template:rsp"
    assert event.after == data


def test_a_new_draft_copies_the_version_in_force(lead, published, authority):
    services.item_save(actor=lead, item=PauseAuthority(
        version=services.draft_start(actor=lead, policy=published.policy), user=authority,
        powers=["pause"], valid_from="2026-01-01",
    ))  # fmt: skip
    draft = published.policy.versions.get(state="draft")
    copied = content.version_content(content.load_version(draft.pk))
    original = content.version_content(content.load_version(published.pk))
    assert copied["version"]["label"] == "2"
    assert copied["authorities"][0]["username"] == "ada"
    copied.update(version=original["version"], authorities=original["authorities"])
    assert copied == original
    assert draft.based_on_id == published.pk


def test_there_is_one_draft_at_a_time(lead, draft):
    with pytest.raises(services.RegisterError, match="already has a draft"):
        services.draft_start(actor=lead, policy=draft.policy)
    assert draft.policy.versions.count() == 1


def test_an_item_edit_is_validated_and_audited_with_before_and_after(lead, draft):
    condition = TriggerCondition.objects.get(
        threshold__version=draft, threshold__code="CBRN-3", evaluation_key="bio_uplift_probe"
    )
    condition.value = 0.6
    services.item_save(actor=lead, item=condition)
    event = AuditEvent.objects.get(action="governance.condition.changed")
    assert (event.before["value"], event.after["value"]) == (0.5, 0.6)
    assert event.subject == f"governance.policyversion:{draft.pk}"
    condition.alert_value = 0.7
    with pytest.raises(ValidationError, match=r"must be below the threshold value 0\.6"):
        services.item_save(actor=lead, item=condition)
    assert TriggerCondition.objects.get(pk=condition.pk).alert_value == 0.4


def test_codes_are_unique_and_references_stay_inside_the_version(lead, draft):
    duplicate = SafetyLevel(version=draft, rank=9, code="ASL-3", name="Again")
    with pytest.raises(ValidationError):
        services.item_save(actor=lead, item=duplicate)
    other = services.policy_create(actor=lead, name="Other", slug="other")
    foreign = SafetyLevel.objects.create(version=other, rank=1, code="X-1", name="Elsewhere")
    threshold = CapabilityThreshold.objects.filter(version=draft).first()
    threshold.required_level = foreign
    with pytest.raises(ValidationError, match="Choose a level of this version"):
        services.item_save(actor=lead, item=threshold)


def test_a_level_in_use_cannot_be_removed(lead, draft):
    level = draft.levels.get(code="ASL-3")
    with pytest.raises(services.RegisterError, match="still used by"):
        services.item_delete(actor=lead, item=level)
    assert SafetyLevel.objects.filter(pk=level.pk).exists()


def test_a_published_version_refuses_every_change_through_the_services(lead, published):
    level = published.levels.first()
    level.name = "Rewritten"
    with pytest.raises(services.RegisterError, match="cannot change"):
        services.item_save(actor=lead, item=level)
    with pytest.raises(services.RegisterError):
        services.item_delete(actor=lead, item=published.safeguards.first())
    with pytest.raises(services.RegisterError):
        services.version_update(actor=lead, version=published, changes={"label": "x"})
    with pytest.raises(services.RegisterError):
        services.draft_discard(actor=lead, version=published)
    assert published.content_sha256 == _hash(published)


def _refused(sql, params):
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_the_database_itself_refuses_changes_to_a_published_version(published):
    level = published.levels.first()
    threshold = published.thresholds.first()
    condition = threshold.conditions.first()
    _refused("UPDATE governance_safetylevel SET name = 'x' WHERE id = %s", [level.pk])
    _refused("DELETE FROM governance_safeguard WHERE version_id = %s", [published.pk])
    _refused("UPDATE governance_triggercondition SET value = 0 WHERE id = %s", [condition.pk])
    _refused(
        "INSERT INTO governance_riskdomain (version_id, code, name, description) "
        "VALUES (%s, 'NEW', 'New', '')",
        [published.pk],
    )
    _refused("UPDATE governance_policyversion SET label = 'x' WHERE id = %s", [published.pk])
    _refused("UPDATE governance_policyversion SET state = 'draft' WHERE id = %s", [published.pk])
    _refused("DELETE FROM governance_policyversion WHERE id = %s", [published.pk])
    assert published.content_sha256 == _hash(published)


def test_the_database_lets_a_published_version_be_superseded_and_nothing_else(published):
    with transaction.atomic():
        PolicyVersion.objects.filter(pk=published.pk).update(state="superseded")
    _refused(
        "UPDATE governance_policyversion SET state = 'published' WHERE id = %s", [published.pk]
    )


def test_an_import_with_an_unknown_person_stores_nothing(lead):
    text = services.template_text("fsf").replace(
        "authorities: []",
        "authorities:\n  - {username: nobody, scope: all, powers: [pause], valid_from: 2026-01-01}",
    )
    with pytest.raises(services.RegisterError, match="nobody"):
        services.policy_import(actor=lead, text=text)
    assert not Policy.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="governance").exists()


def test_an_invalid_import_stores_nothing(lead):
    text = services.template_text("rsp").replace("alert_value: 0.4", "alert_value: 0.9", 1)
    with pytest.raises(policy_yaml.PolicyFileError, match=r"alert value 0\.9 must be below"):
        services.policy_import(actor=lead, text=text)
    assert not PolicyVersion.objects.exists()


def test_an_export_imports_back_to_the_same_content(lead, published):
    exported = services.policy_export(published)
    draft = services.policy_import(actor=lead, text=exported.replace("rsp-template", "copy"))
    assert draft.number == 1
    original = content.version_content(content.load_version(published.pk))
    imported = content.version_content(content.load_version(draft.pk))
    assert imported["levels"] == original["levels"]
    assert imported["thresholds"] == original["thresholds"]
    assert imported["safeguards"] == original["safeguards"]


def test_importing_a_known_slug_makes_its_next_draft(lead, published):
    draft = services.policy_import(actor=lead, text=services.policy_export(published))
    assert (draft.policy_id, draft.number, draft.state) == (published.policy_id, 2, "draft")


def test_a_discarded_draft_leaves_its_content_in_the_audit_trail(lead, draft):
    before = content.version_content(content.load_version(draft.pk))
    services.draft_discard(actor=lead, version=draft)
    assert not PolicyVersion.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.get(action="governance.policy_version.discarded").before == before
