"""Reading the commitment register through HTTP: query counts, what a product owner sees and may
not do, the YAML export, the diff page and the signature downloads."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import signing
from core.models import AuditEvent, Signature
from governance import content, policy_yaml, services
from governance.models import CapabilityThreshold, PolicyVersion, SafetyLevel, TriggerCondition
from tests.conftest import PASSWORD
from tests.governance.builders import without_granted_by
from tests.governance.factories import build_register, build_with_draft, content_hash

pytestmark = pytest.mark.django_db

# Measured: index 7, policy 14, version 15, version-diff 22 queries, with 5 and with 50
# thresholds and safeguards alike. Each bound is that count + 2.
BOUNDS = {
    "governance:index": 9,
    "governance:policy": 16,
    "governance:version": 17,
    "governance:version-diff": 24,
}
EDIT_CONTROLS = ("Edit", "Remove", "Add a", "Sign to publish", "Start a new draft", "Settings")


def _urls(published, draft):
    slug = published.policy.slug
    return {
        "governance:index": reverse("governance:index"),
        "governance:policy": reverse("governance:policy", args=[slug]),
        "governance:version": reverse("governance:version", args=[slug, draft.number]),
        "governance:version-diff": reverse("governance:version-diff", args=[slug, draft.number]),
    }


def _counts(client, published, draft):
    counts = {}
    for name, url in _urls(published, draft).items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, name
        counts[name] = len(queries.captured_queries)
    return counts


def _commitments(response) -> int:
    return response.content.decode().count('data-testid="commitment"')


# --- query counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 50])
@pytest.mark.parametrize("page", sorted(BOUNDS))
def test_each_register_page_stays_within_one_query_bound_whatever_its_size(
    client, lead, django_assert_max_num_queries, page, size
):
    published, draft, _ = build_with_draft(lead, thresholds=size, safeguards=size)
    client.force_login(lead)

    with django_assert_max_num_queries(BOUNDS[page]):
        response = client.get(_urls(published, draft)[page])

    assert response.status_code == 200
    assert CapabilityThreshold.objects.filter(version=draft).count() == size
    if page in ("governance:policy", "governance:version"):
        assert _commitments(response) == size


def test_the_query_count_of_each_page_is_the_same_for_5_and_for_50_items(client, lead):
    client.force_login(lead)
    small = _counts(client, *build_with_draft(lead, thresholds=5, safeguards=5, slug="small")[:2])
    large = _counts(client, *build_with_draft(lead, thresholds=50, safeguards=50, slug="large")[:2])

    print(f"queries with 5 items: {small}; with 50 items: {large}")
    assert large == small
    assert all(small[page] <= BOUNDS[page] for page in BOUNDS)


# --- a product owner reads and cannot write ------------------------------------------------------


def test_a_product_owner_reads_the_commitments_without_any_edit_control(client, lead, owner):
    published, draft, _ = build_with_draft(lead, thresholds=4, safeguards=3)
    slug = published.policy.slug
    client.force_login(owner)

    pages = [
        client.get(reverse("governance:policy", args=[slug])),
        client.get(reverse("governance:version", args=[slug, draft.number])),
    ]

    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        assert _commitments(response) == 4 == draft.thresholds.count()
        assert "If a model reaches T-000, shown by probe_0/accuracy &gt;= 0.5" in html
        for control in EDIT_CONTROLS:
            assert control not in html, control
    # A lead sees these controls: the strings above are the real ones.
    client.force_login(lead)
    html = client.get(reverse("governance:version", args=[slug, draft.number])).content.decode()
    assert all(control in html for control in EDIT_CONTROLS if control != "Start a new draft")


def _owner_posts(draft):
    slug, number = draft.policy.slug, draft.number
    condition = TriggerCondition.objects.filter(threshold__version=draft).order_by("id").first()
    level = SafetyLevel.objects.get(version=draft, rank=1)
    changed_condition = {"evaluation_key": "x", "metric_key": "y", "comparator": ">=",
                         "value": "0.9", "alert_value": "0.8"}  # fmt: skip
    return {
        "item-edit": (
            reverse("governance:item-edit", args=[slug, number, "condition", condition.pk]),
            changed_condition,
        ),
        "item-delete": (
            reverse("governance:item-delete", args=[slug, number, "level", level.pk]),
            {},
        ),
        "version-settings": (
            reverse("governance:version-settings", args=[slug, number]),
            {"label": "hijacked", "reevaluation_interval_days": "1", "signing_quorum": "1"},
        ),
        "draft-start": (reverse("governance:draft-start", args=[slug]), {}),
        "version-sign": (
            reverse("governance:version-sign", args=[slug, number]),
            {"password": PASSWORD, "confirm": "on"},
        ),
    }


@pytest.mark.parametrize(
    "name", ["item-edit", "item-delete", "version-settings", "draft-start", "version-sign"]
)
def test_a_product_owner_posting_directly_is_refused_and_nothing_changes(client, lead, owner, name):
    published, draft, _ = build_with_draft(lead)
    url, data = _owner_posts(draft)[name]
    client.force_login(owner)  # records core.session.login: count the events after it
    before = (content_hash(published), content_hash(draft))
    events, versions, signatures = (
        AuditEvent.objects.count(), PolicyVersion.objects.count(), Signature.objects.count()
    )  # fmt: skip

    response = client.post(url, data)

    assert response.status_code == 403
    assert (content_hash(published), content_hash(draft)) == before
    assert AuditEvent.objects.count() == events
    assert PolicyVersion.objects.count() == versions
    assert Signature.objects.count() == signatures
    assert PolicyVersion.objects.get(pk=draft.pk).state == "draft"


# --- export ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["published", "draft"])
def test_the_yaml_export_is_an_attachment_that_parses_back_to_the_same_content(
    client, lead, auditor, which
):
    published, draft, _ = build_with_draft(lead, thresholds=6, safeguards=5)
    version = published if which == "published" else draft
    client.force_login(auditor)

    response = client.get(
        reverse("governance:version-export", args=[version.policy.slug, version.number])
    )

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "application/yaml"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{version.policy.slug}-v{version.number}.yaml"'
    )
    parsed = policy_yaml.parse(response.content.decode())
    stored = content.version_content(content.load_version(version.pk))
    for section in ("levels", "domains", "thresholds", "safeguards"):
        assert parsed[section] == stored[section], section
    assert len(parsed["thresholds"]) == 6 and len(parsed["safeguards"]) == 5
    assert parsed == without_granted_by(stored)


# --- diff -----------------------------------------------------------------------------------------


def test_the_diff_shows_a_changed_required_level_of_a_threshold(client, lead, owner):
    published, draft, _ = build_with_draft(lead)
    threshold = draft.thresholds.get(code="T-000")
    assert threshold.required_level.code == "L2"
    threshold.required_level = draft.levels.get(code="L3")
    services.item_save(actor=lead, item=threshold)
    client.force_login(owner)

    response = client.get(
        reverse("governance:version-diff", args=[draft.policy.slug, draft.number])
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "since version 1" in html
    assert "Changed <strong>T-000</strong>" in html
    assert "required_level: <del>L2</del> → <ins>L3</ins>" in html
    assert "Changed <strong>T-001</strong>" not in html
    assert CapabilityThreshold.objects.get(pk=threshold.pk).required_level.code == "L3"
    assert published.thresholds.get(code="T-000").required_level.code == "L2"


@pytest.mark.parametrize(("against", "status"), [("abc", 400), ("999", 404), ("1", 200)])
def test_the_diff_answers_a_bad_or_unknown_version_to_compare_with(
    client, lead, owner, against, status
):
    _, draft, _ = build_with_draft(lead)
    client.force_login(owner)

    url = reverse("governance:version-diff", args=[draft.policy.slug, draft.number])
    response = client.get(url, {"against": against})

    assert response.status_code == status
    assert PolicyVersion.objects.filter(policy=draft.policy).count() == 2


# --- signature downloads -------------------------------------------------------------------------


def test_the_signature_downloads_are_the_stored_manifest_and_signature_bytes(client, lead, auditor):
    published, _, signature = build_with_draft(lead)
    args = [published.policy.slug, published.number, signature.pk]
    client.force_login(auditor)

    manifest = client.get(reverse("governance:signature-manifest", args=args))
    raw = client.get(reverse("governance:signature-file", args=args))

    assert manifest.status_code == raw.status_code == 200
    stored = Signature.objects.get(pk=signature.pk)
    assert manifest.content == stored.manifest.encode("utf-8")
    assert manifest["Content-Type"] == "application/json"
    assert raw.content == base64.b64decode(stored.signature)
    assert raw["Content-Type"] == "application/octet-stream"
    assert json.loads(manifest.content)["subject"]["content_sha256"] == published.content_sha256
    assert signing.is_authentic(stored)


def test_a_signature_of_another_version_is_not_found_under_this_one(client, lead, auditor):
    published, draft, signature = build_with_draft(lead)
    other = build_register(lead, slug="other")
    client.force_login(auditor)

    wrong = [
        (draft.policy.slug, draft.number, signature.pk),  # same policy, the draft
        (other.policy.slug, 1, signature.pk),  # another policy's version 1
        (published.policy.slug, 1, other.signature.pk),
    ]
    for name in ("governance:signature-manifest", "governance:signature-file"):
        for args in wrong:
            assert client.get(reverse(name, args=args)).status_code == 404, (name, args)
    assert Signature.objects.get(pk=signature.pk).object_id == str(published.pk)
