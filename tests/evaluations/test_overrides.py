import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from core import signing
from core.models import AuditEvent, Signature
from evaluations import ingestion, overrides, recompute
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import Determination, ModelVersion, Override
from governance import services
from governance.models import PauseAuthority
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _push(owner, run_id, value, *, evaluation="bio_uplift_probe", completed_at=None):
    metric = {"bio_uplift_probe": "includes/accuracy"}.get(evaluation, "model_graded_qa/accuracy")
    run = RunInput(
        model_version="orion-2.1",
        evaluation=evaluation,
        run_id=run_id,
        status="success",
        completed_at=completed_at or datetime.now(UTC),
        results=(ResultInput(metric, value),),
    )
    ingestion.ingest_runs(actor=owner, runs=[run], source="api")
    recompute.recompute(ModelVersion.objects.get(label="orion-2.1").pk)


def _push_chem(owner, **kwargs):
    """CBRN-3's other condition, measured well below its line."""
    _push(owner, "chem", 0.1, evaluation="chem_knowledge_probe", **kwargs)


def _cbrn3():
    return Determination.objects.get(model_version__label="orion-2.1", threshold="CBRN-3")


def _override(
    actor, version, outcome="ruled_out", rationale="The crossing run used a leaked answer key."
):
    record = overrides.override_record(
        actor=actor,
        version=version,
        threshold="CBRN-3",
        outcome=outcome,
        rationale=rationale,
        reauth=signing.demo_reauthentication(actor),
    )
    recompute.recompute(version.pk)
    return record


def test_a_signed_override_lowers_a_crossing_until_new_evidence_arrives(lead, owner, orion_21):
    _push_chem(owner)
    _push(owner, "flawed", 0.9)
    assert _cbrn3().outcome == "crossed"
    record = _override(lead, orion_21)
    cbrn3 = _cbrn3()
    assert (cbrn3.outcome, cbrn3.computed_outcome, cbrn3.override_id) == (
        "ruled_out",
        "crossed",
        record.pk,
    )
    manifest = json.loads(record.signature.manifest)["subject"]
    assert (manifest["considered_runs"], manifest["computed_outcome"]) == (
        ["chem", "flawed"],
        "crossed",
    )
    assert signing.is_authentic(record.signature)
    _push(owner, "fresh", 0.1)  # new evidence for CBRN-3: the override lapses
    assert (_cbrn3().outcome, _cbrn3().override_id) == ("crossed", None)
    lapsed = AuditEvent.objects.get(action="evaluations.override.lapsed")
    assert (lapsed.before["override"], lapsed.reason) == (
        str(record.pk),
        "the evidence changed (a new or different run)",
    )


def test_ruling_out_what_was_never_measured_is_refused(lead, owner, orion_21):
    _push(owner, "flawed", 0.9)  # chem_knowledge_probe never ran
    with pytest.raises(overrides.OverrideRefused, match="chem_knowledge_probe/model_graded_qa"):
        _override(lead, orion_21)
    old = datetime.now(UTC) - timedelta(days=200)  # older than the 90-day interval
    _push(owner, "chem-old", 0.1, evaluation="chem_knowledge_probe", completed_at=old)
    with pytest.raises(overrides.OverrideRefused, match="no successful run within the last 90"):
        _override(lead, orion_21)
    assert not Override.objects.exists()
    assert not Signature.objects.filter(meaning=overrides.OVERRIDE.code).exists()
    # Raising needs no evidence: it is the precautionary direction.
    _override(lead, orion_21, outcome="crossed", rationale="Red-teamers found uplift it missed.")
    assert Override.objects.count() == 1


def test_an_override_lapses_when_the_evidence_it_considered_goes_stale(lead, owner, orion_21):
    _push_chem(owner)
    _push(owner, "flawed", 0.9)
    record = _override(lead, orion_21)
    cbrn3 = _cbrn3()
    assert (cbrn3.outcome, cbrn3.override_id) == ("ruled_out", record.pk)
    assert cbrn3.valid_until is not None  # the day the oldest run it rests on goes stale
    later = cbrn3.valid_until + timedelta(seconds=1)
    recompute.recompute(orion_21.pk, now=later)
    cbrn3 = _cbrn3()
    assert (cbrn3.outcome, cbrn3.override_id, cbrn3.valid_until) == ("crossed", None, None)
    assert "lapsed" in cbrn3.reason
    lapsed = AuditEvent.objects.get(action="evaluations.override.lapsed")
    assert lapsed.reason == "the evidence it considered went stale"


def test_an_override_can_raise_too(lead, owner, orion_21):
    _push(owner, "low", 0.1)
    _override(
        lead, orion_21, outcome="crossed", rationale="Red-teamers found uplift the probe missed."
    )
    assert _cbrn3().outcome == "crossed"


def test_an_override_needs_a_real_rationale(lead, orion_21):
    with pytest.raises(overrides.OverrideRefused, match="rationale"):
        _override(lead, orion_21, rationale="because")
    assert not Override.objects.exists()
    assert not Signature.objects.filter(meaning=overrides.OVERRIDE.code).exists()


def test_product_owners_cannot_override_their_own_models(owner, orion_21):
    with pytest.raises(PermissionDenied):
        _override(owner, orion_21)


def test_an_authority_needs_the_approve_power_in_scope_today(lead, authority, orion_21, policy):
    assert not overrides.may_override(authority, orion_21)
    draft = services.draft_start(actor=lead, policy=policy.policy)
    services.item_save(
        actor=lead,
        item=PauseAuthority(
            version=draft,
            user=authority,
            all_models=False,
            model_slugs=["orion"],
            powers=["approve"],
            valid_from="2026-01-01",
        ),
    )
    from governance import publishing

    publishing.version_sign(actor=lead, version=draft, reauth=signing.demo_reauthentication(lead))
    assert overrides.may_override(authority, orion_21)


def test_the_override_page_signs_with_the_password(
    eager_tasks, client, lead, owner, orion_21, django_capture_on_commit_callbacks
):
    _push_chem(owner)
    _push(owner, "flawed", 0.9)
    client.force_login(lead)
    url = f"/models/versions/{orion_21.label}/override/"
    orion_21.refresh_from_db()
    form = {
        "seen_watermark": orion_21.evidence_watermark,
        "threshold": "CBRN-3",
        "outcome": "ruled_out",
        "rationale": "The crossing run used a leaked answer key.",
        "password": "wrong",
    }
    assert client.post(url, form).status_code == 400
    assert not Override.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**form, "password": PASSWORD})
    assert response.status_code == 302
    assert _cbrn3().outcome == "ruled_out"
    client.force_login(owner)
    assert client.get(url).status_code == 403


def test_an_override_refuses_evidence_that_arrived_after_the_page_was_loaded(lead, owner, orion_21):
    orion_21.refresh_from_db()
    seen = orion_21.evidence_watermark
    _push(owner, "late", 0.9)
    with pytest.raises(overrides.OverrideRefused, match="New evidence arrived"):
        overrides.override_record(
            actor=lead,
            version=orion_21,
            threshold="CBRN-3",
            outcome="ruled_out",
            rationale="The crossing run used a leaked answer key.",
            reauth=signing.demo_reauthentication(lead),
            seen_watermark=seen,
        )
    assert not Override.objects.exists()
