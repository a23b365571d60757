"""Changing the commitment register through HTTP: editing a draft's items (plain and htmx),
refusals on published versions, signing to publish, importing YAML and templates, new policies."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent, Signature
from governance import services
from governance.models import Policy, PolicyVersion, SafetyLevel, TriggerCondition
from tests.conftest import PASSWORD
from tests.governance.factories import build_with_draft, content_hash

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
WRONG_SIDE = {"evaluation_key": "probe_0", "metric_key": "accuracy", "comparator": ">=",
              "value": "0.5", "alert_value": "0.7"}  # fmt: skip
GOOD = {"evaluation_key": "probe_new", "metric_key": "accuracy", "comparator": ">=",
        "value": "0.65", "alert_value": "0.55"}  # fmt: skip


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _version_url(version, section=""):
    url = reverse("governance:version", args=[version.policy.slug, version.number])
    return f"{url}#{section}" if section else url


@pytest.fixture
def register(lead, client):
    """Version 1 in force, version 2 its draft; the lead signed in (its login already audited)."""
    published, draft, _ = build_with_draft(lead)
    client.force_login(lead)
    return published, draft


def _condition(version):
    conditions = TriggerCondition.objects.filter(threshold__version=version, metric_key="accuracy")
    return conditions.select_related("threshold").get(threshold__code="T-000")


def _edit_url(version, condition):
    args = [version.policy.slug, version.number, "condition", condition.pk]
    return reverse("governance:item-edit", args=args)


def _as_tuple(condition):
    condition.refresh_from_db()
    fields = ("evaluation_key", "metric_key", "comparator", "value", "alert_value")
    return tuple(getattr(condition, name) for name in fields)


# --- editing a trigger condition ----------------------------------------------------------------


def test_a_lead_changes_a_trigger_condition_and_the_change_is_audited(client, register):
    published, draft = register
    condition = _condition(draft)

    response = client.post(_edit_url(draft, condition), GOOD)

    assert response.status_code == 302
    assert response["Location"] == _version_url(draft, "thresholds")
    assert _as_tuple(condition) == ("probe_new", "accuracy", ">=", 0.65, 0.55)
    event = AuditEvent.objects.get(action="governance.condition.changed")
    assert event.subject == f"governance.policyversion:{draft.pk}"
    assert event.actor_id == draft.created_by_id
    assert (event.before["evaluation_key"], event.before["value"]) == ("probe_0", 0.5)
    assert event.before["alert_value"] == 0.4
    assert (event.after["evaluation_key"], event.after["value"]) == ("probe_new", 0.65)
    assert event.after["alert_value"] == 0.55
    assert event.before["threshold"] == event.after["threshold"] == "T-000"
    assert _as_tuple(_condition(published)) == ("probe_0", "accuracy", ">=", 0.5, 0.4)


def test_an_alert_value_on_the_wrong_side_is_refused_with_its_reason(client, register):
    _, draft = register
    condition = _condition(draft)
    before, events = content_hash(draft), AuditEvent.objects.count()

    response = client.post(_edit_url(draft, condition), WRONG_SIDE)

    assert response.status_code == 400
    assert "must be below the threshold value" in response.content.decode()
    assert _as_tuple(condition) == ("probe_0", "accuracy", ">=", 0.5, 0.4)
    assert content_hash(draft) == before
    assert AuditEvent.objects.count() == events
    assert not AuditEvent.objects.filter(action="governance.condition.changed").exists()


# --- htmx ---------------------------------------------------------------------------------------


def test_with_htmx_the_form_comes_back_as_a_partial(client, register):
    _, draft = register
    url = _edit_url(draft, _condition(draft))

    partial = client.get(url, **HTMX)
    page = client.get(url)

    assert partial.status_code == page.status_code == 200
    assert b"<html" not in partial.content and b"<html" in page.content
    assert f'hx-post="{url}"'.encode() in partial.content
    assert b'name="evaluation_key"' in partial.content and b'value="probe_0"' in partial.content


def test_with_htmx_a_form_with_errors_comes_back_as_200_and_changes_nothing(client, register):
    _, draft = register
    condition = _condition(draft)
    events = AuditEvent.objects.count()

    response = client.post(_edit_url(draft, condition), WRONG_SIDE, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<form" in html
    assert "must be below the threshold value" in html
    assert _as_tuple(condition) == ("probe_0", "accuracy", ">=", 0.5, 0.4)
    assert AuditEvent.objects.count() == events


def test_with_htmx_a_saved_form_refreshes_the_page(client, register):
    _, draft = register
    condition = _condition(draft)

    response = client.post(_edit_url(draft, condition), GOOD, **HTMX)

    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    assert _as_tuple(condition) == ("probe_new", "accuracy", ">=", 0.65, 0.55)
    assert AuditEvent.objects.filter(action="governance.condition.changed").count() == 1


# --- a published version is frozen ----------------------------------------------------------------


def test_editing_or_removing_an_item_of_a_published_version_is_refused(client, register):
    published, _ = register
    condition = _condition(published)
    before, events = content_hash(published), AuditEvent.objects.count()
    level = SafetyLevel.objects.get(version=published, rank=1)
    delete_url = reverse(
        "governance:item-delete", args=[published.policy.slug, 1, "level", level.pk]
    )

    edited = client.post(_edit_url(published, condition), GOOD)
    shown = client.get(edited["Location"])  # shows (and so consumes) the message
    removed = client.post(delete_url)

    assert edited.status_code == removed.status_code == 302
    assert edited["Location"] == removed["Location"] == _version_url(published)
    assert _messages(edited) == ["Only a draft can be edited."]
    assert "Only a draft can be edited." in shown.content.decode()
    assert _messages(removed) == [
        "Version 1 is in force and cannot change: start a new draft instead."
    ]
    assert content_hash(published) == before == published.content_sha256
    assert AuditEvent.objects.count() == events
    assert _as_tuple(condition) == ("probe_0", "accuracy", ">=", 0.5, 0.4)


# --- signing ------------------------------------------------------------------------------------


def _sign_url(version):
    return reverse("governance:version-sign", args=[version.policy.slug, version.number])


def _signatures(version):
    return Signature.objects.filter(
        object_type="governance.policyversion", object_id=str(version.pk)
    )


def test_the_signing_page_shows_what_is_signed(client, register):
    _, draft = register

    response = client.get(_sign_url(draft))

    assert response.status_code == 200
    html = response.content.decode()
    assert "I publish this policy version" in html
    assert content_hash(draft) in html
    assert not _signatures(draft).exists()


def test_a_wrong_password_signs_nothing_and_is_audited(client, lead, register):
    _, draft = register

    response = client.post(
        _sign_url(draft),
        {"password": "not-my-password", "confirm": "on", "content_sha256": content_hash(draft)},
    )

    assert response.status_code == 400
    assert "That password is not correct. Nothing was signed." in response.content.decode()
    assert not _signatures(draft).exists()
    refused = AuditEvent.objects.get(action="core.signature.refused")
    assert (refused.actor_id, refused.reason) == (lead.pk, "wrong password")
    assert PolicyVersion.objects.get(pk=draft.pk).state == "draft"


def test_signing_with_the_password_publishes_the_draft_and_supersedes_the_old_version(
    client, lead, register
):
    published, draft = register
    digest = content_hash(draft)

    response = client.post(
        _sign_url(draft), {"password": PASSWORD, "confirm": "on", "content_sha256": digest}
    )

    assert response.status_code == 302
    assert response["Location"] == _version_url(draft)
    assert _messages(response) == ["Signed. Version 2 is now in force."]
    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.state, draft.effective_from) == ("published", timezone.localdate())
    assert draft.content_sha256 == digest
    assert published.state == "superseded" and published.superseded_at is not None
    signature = _signatures(draft).get()
    assert signature.signer_id == lead.pk and signature.reauthenticated_with == "password"
    subject = json.loads(signature.manifest)["subject"]
    assert subject["content_sha256"] == draft.content_sha256
    assert (subject["policy"], subject["version"]) == (draft.policy.slug, 2)
    assert AuditEvent.objects.filter(action="governance.policy_version.superseded").count() == 1


def test_a_draft_with_a_validation_error_cannot_be_signed(client, register):
    published, draft = register
    SafetyLevel.objects.filter(version=draft, rank=3).update(rank=5)  # ranks 1, 2, 5

    response = client.post(
        _sign_url(draft),
        {"password": PASSWORD, "confirm": "on", "content_sha256": content_hash(draft)},
    )

    assert response.status_code == 302
    assert response["Location"] == _version_url(draft)
    [message] = _messages(response)
    assert message.startswith("This version cannot be published yet: ")
    assert "rank 3 is missing" in message
    assert not _signatures(draft).exists()
    assert PolicyVersion.objects.get(pk=draft.pk).state == "draft"
    assert PolicyVersion.objects.get(pk=published.pk).state == "published"


# --- import ---------------------------------------------------------------------------------------


def _counts():
    return Policy.objects.count(), PolicyVersion.objects.count()


def test_an_import_with_an_error_names_its_line_and_stores_nothing(client, register):
    text = services.template_text("rsp")
    good = "value: 0.5\n        alert_value: 0.4\n"
    assert good in text
    bad = text.replace(good, "value: 0.5\n        alert_value: 0.7\n", 1)
    line = bad.splitlines().index("        alert_value: 0.7") + 1
    before = _counts()

    response = client.post(reverse("governance:import"), {"text": bad})

    assert response.status_code == 400
    html = response.content.decode()
    problems = re.search(r'data-testid="import-problems".*?</div>', html, re.S).group(0)
    assert f"line {line}: Threshold CBRN-3: the alert value 0.7 must be below" in problems
    assert _counts() == before


def test_a_valid_upload_becomes_a_new_draft(client, register):
    text = services.template_text("rsp").replace("slug: rsp-template", "slug: uploaded")
    upload = SimpleUploadedFile("policy.yaml", text.encode(), content_type="application/yaml")

    response = client.post(reverse("governance:import"), {"file": upload})

    version = PolicyVersion.objects.get(policy__slug="uploaded")
    assert response.status_code == 302
    assert response["Location"] == _version_url(version)
    assert (version.number, version.state) == (1, "draft")
    assert version.levels.count() == 4 and version.thresholds.exists()
    event = AuditEvent.objects.get(action="governance.policy_version.imported")
    assert (event.subject, event.reason) == (f"governance.policyversion:{version.pk}", "yaml")


def test_loading_a_template_by_name_makes_a_draft(client, register):
    response = client.post(reverse("governance:import"), {"template": "fsf"})

    version = PolicyVersion.objects.get(policy__slug="fsf-template")
    assert response.status_code == 302
    assert response["Location"] == _version_url(version)
    assert version.state == "draft"
    assert list(version.levels.values_list("rank", flat=True)) == [1, 2, 3]


def test_an_unknown_template_is_refused_with_a_clear_problem(client, register):
    before = _counts()

    response = client.post(reverse("governance:import"), {"template": "nope"})

    assert response.status_code == 400
    html = response.content.decode()
    problems = re.search(r'data-testid="import-problems".*?</div>', html, re.S).group(0)
    assert "There is no template called &#x27;nope&#x27;: choose one of rsp" in problems
    assert _counts() == before


# --- a new policy ---------------------------------------------------------------------------------


# docs/policy-yaml.md and the form's help text: "lower-case letters, digits and hyphens". A slug
# outside that rule would make the policy's own YAML export fail to import again.
@pytest.mark.parametrize("slug", ["not a slug!", "Upper-Case", "under_score", "-leading"])
def test_a_new_policy_with_an_invalid_slug_is_refused(client, lead, slug):
    client.force_login(lead)

    response = client.post(reverse("governance:policy-new"), {"name": "Acme", "slug": slug})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="id_slug_helptext id_slug_error"' in html  # the slug's own error
    assert html.count('class="invalid-feedback d-block"') == 1
    assert not Policy.objects.exists()


def test_a_new_policy_starts_as_an_empty_draft_version_1(client, lead):
    client.force_login(lead)

    response = client.post(reverse("governance:policy-new"), {"name": "Acme", "slug": "acme-2"})

    version = PolicyVersion.objects.get(policy__slug="acme-2")
    assert response.status_code == 302
    assert response["Location"] == _version_url(version)
    assert (version.number, version.state, version.policy.name) == (1, "draft", "Acme")
    assert not version.levels.exists()
    event = AuditEvent.objects.get(action="governance.policy.created")
    assert event.subject == f"governance.policy:{version.policy_id}"
    assert event.after == {"name": "Acme", "slug": "acme-2"}


def test_content_changed_after_the_page_was_loaded_is_not_signed(client, lead, register):
    _, draft = register
    seen = content_hash(draft)
    SafetyLevel.objects.filter(version=draft, rank=1).update(name="Changed meanwhile")

    response = client.post(
        _sign_url(draft), {"password": PASSWORD, "confirm": "on", "content_sha256": seen}
    )

    assert response.status_code == 302
    assert "changed after you loaded it" in _messages(response)[0]
    assert not _signatures(draft).exists()
