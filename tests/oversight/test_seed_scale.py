"""manage.py seed_scale at a small size: what it writes is what was asked for, deterministic,
and what the services would have written (their own code finds nothing to change)."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from core import roles
from core.models import AuditEvent, Signature
from evaluations import recompute
from evaluations.models import EvaluationRun, Model, ModelVersion, Result
from governance.models import CapabilityThreshold, Policy, PolicyVersion, Safeguard
from oversight import history, scale
from releases import services
from releases.models import Approval, DecisionSignature, Release

# About a thousandth of the defaults, with enough of each kind to meet every path.
SMALL = scale.Sizes(
    policies=2, thresholds=9, safeguards=9, models=2, model_versions=6, releases=12,
    results=400, signatures=60, users=12, events=3_000,
)  # fmt: skip


class _RolledBack(Exception):
    pass


def _seed_and_roll_back(sizes: scale.Sizes, seed: int = 0) -> tuple[str, str]:
    """The content digest and chain head of a seed, leaving the database as it was."""
    try:
        with transaction.atomic():
            report = scale.seed(sizes, seed=seed, password="pw")
            raise _RolledBack(scale.content_digest(), report.head_hash)
    except _RolledBack as done:
        return done.args[0], done.args[1]


def test_scaled_sizes_keep_their_minimums():
    sizes = scale.Sizes.scaled(0.001)
    assert sizes == scale.Sizes(
        policies=1, thresholds=1, safeguards=1, models=1, model_versions=1, releases=1,
        results=200, signatures=10, users=9, events=1_000,
    )  # fmt: skip
    assert scale.Sizes.scaled(0.5, models=3).models == 3
    assert scale.Sizes(models=5, model_versions=2).problems() == [
        "model versions must be at least 5 (not 2)"
    ]


@pytest.mark.django_db
def test_the_command_seeds_what_was_asked_for_and_refuses_a_second_time():
    out = StringIO()
    call_command("seed_scale", "--scale", "0.001", "--results", "300", stdout=out)
    sizes = scale.Sizes.scaled(0.001, results=300)
    assert User.objects.count() == sizes.users
    assert Policy.objects.count() == sizes.policies
    assert CapabilityThreshold.objects.count() == sizes.thresholds
    assert Safeguard.objects.count() == sizes.safeguards
    assert Model.objects.count() == sizes.models
    assert ModelVersion.objects.count() == sizes.model_versions
    assert Release.objects.count() == sizes.releases
    assert Result.objects.count() == sizes.results
    signed = Approval.objects.count() + DecisionSignature.objects.count()
    assert signed == sizes.signatures
    assert AuditEvent.objects.count() == sizes.events
    assert "Seeded in" in out.getvalue() and "Every seeded person's password:" in out.getvalue()

    with pytest.raises(CommandError, match="already holds data"):
        call_command("seed_scale", "--scale", "0.001", stdout=StringIO())


@pytest.mark.django_db
def test_counts_match_the_sizes_and_verify_audit_passes():
    report = scale.seed(SMALL, password="pw")
    counts = report.counts
    assert counts["people"] == SMALL.users
    assert counts["policies"] == SMALL.policies
    assert counts["thresholds"] == SMALL.thresholds
    assert counts["safeguards"] == SMALL.safeguards
    assert counts["models"] == SMALL.models
    assert counts["model versions"] == SMALL.model_versions
    assert counts["releases"] == SMALL.releases
    assert counts["results"] == SMALL.results
    assert counts["approvals"] + counts["decision signatures"] == SMALL.signatures
    assert counts["audit events"] == SMALL.events == report.head_seq
    # Publishing signatures come on top of the approvals' and decisions'.
    assert counts["signatures"] == SMALL.signatures + 2 * counts["policy versions"]
    # Exactly one version governs, whichever policy it belongs to: the others are superseded.
    assert PolicyVersion.objects.filter(state="published").count() == 1
    assert PolicyVersion.objects.filter(state="superseded").count() == counts["policy versions"] - 1
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "audit chain intact: 3,000 events" in out.getvalue()
    assert (
        f"signatures: {counts['signatures']:,} checked, {counts['signatures']:,} bound, 0 failing"
        in out.getvalue()
    )


@pytest.mark.django_db
def test_every_event_carries_the_scope_record_would_give_it():
    scale.seed(SMALL, password="pw")
    register = AuditEvent.objects.filter(subject__startswith="governance.")
    assert register.exists() and not register.exclude(scope_id=0).exists()
    for prefix in ("evaluations.model", "releases.release:", "releases.decision:"):
        scoped = AuditEvent.objects.filter(subject__startswith=prefix)
        assert scoped.exists() and not scoped.filter(scope_id=None).exists()
    assert not AuditEvent.objects.filter(object_type="auth.user").exclude(scope_id=None).exists()
    model_of = dict(Release.objects.values_list("pk", "model_version__model"))
    for subject, scope in AuditEvent.objects.filter(subject__startswith="releases.release:")\
            .values_list("subject", "scope_id"):  # fmt: skip
        assert model_of[int(subject.rpartition(":")[2])] == scope


@pytest.mark.django_db
def test_the_services_find_nothing_to_change():
    scale.seed(SMALL, password="pw")
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    releases = list(Release.objects.select_related("model_version__model").order_by("pk"))
    assert {r.state for r in releases} >= {"approved", "submitted"}
    assert Approval.objects.exclude(assessment_sha256__in=[r.assessment_sha256 for r in releases])
    for release in releases:
        seeded = (release.assessment_sha256, release.assessment_version, release.gate_allowed,
                  release.gate_messages, release.state)  # fmt: skip
        # A verdict holds until a stated instant: refreshed at the seed's last moment (when its
        # own checks refreshed every gate), not at whatever the clock says today.
        services.gate_refresh(release, now=release.assessed_at)
        release.refresh_from_db()
        assert seeded == (release.assessment_sha256, release.assessment_version,
                          release.gate_allowed, release.gate_messages, release.state)  # fmt: skip
        # The release as it stood, rebuilt from its audit events, is the release as it is.
        past = history.release_at(release, release.assessed_at)
        assert (past.state, past.assessment_sha256, past.assessment_version) == (
            release.state,
            release.assessment_sha256,
            release.assessment_version,
        )
        assert past.verdict is not None and past.verdict.allowed == release.gate_allowed
        assert past.verdict.messages == release.gate_messages
    for version in ModelVersion.objects.order_by("pk"):
        outcome = recompute.recompute(version.pk, now=version.assessed_at, force=True)
        assert not outcome.changed and outcome.required_level == version.required_level
    assert AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() == head


@pytest.mark.django_db
def test_runs_are_what_ingestion_would_have_stored():
    scale.seed(SMALL, password="pw")
    run = EvaluationRun.objects.filter(status="success").select_related(
        "model_version", "evaluation"
    ).first()  # fmt: skip
    assert run is not None
    event = AuditEvent.objects.get(object_type="evaluations.evaluationrun", object_id=str(run.pk))
    assert event.after["results"] == dict(run.results.values_list("metric", "value"))
    assert event.subject == f"evaluations.modelversion:{run.model_version.pk}"
    assert event.occurred_at == run.received_at


@pytest.mark.django_db
def test_seeded_pages_render():
    scale.seed(SMALL, password="pw")
    release = Release.objects.filter(state="approved").first()
    assert release is not None
    auditor = User.objects.get(groups__name=roles.AUDITOR.name)
    client = Client()
    client.force_login(auditor)
    for url in (
        reverse("releases:release", args=[release.pk]),
        reverse("oversight:audit-list"),
        reverse("oversight:audit-list") + f"?release={release.pk}",
        reverse("oversight:release-as-of", args=[release.pk]),
        reverse("oversight:signature", args=[Signature.objects.order_by("pk").last().pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    owner = release.requested_by
    client.force_login(owner)
    assert client.get(reverse("releases:release", args=[release.pk])).status_code == 200
    client.force_login(User.objects.get(groups__name=roles.SCOPED_AUDITOR.name))
    assert client.get(reverse("oversight:audit-list")).status_code == 200


@pytest.mark.django_db
def test_the_same_options_give_the_same_data():
    first = _seed_and_roll_back(SMALL)
    assert not Release.objects.exists()
    assert _seed_and_roll_back(SMALL) == first
    assert _seed_and_roll_back(SMALL, seed=1)[0] != first[0]


@pytest.mark.django_db
def test_a_database_with_data_is_refused():
    scale.seed(scale.Sizes.scaled(0.001), password="pw")
    with pytest.raises(scale.ScaleError, match=r"already holds data \(1,000 audit events"):
        scale.seed(scale.Sizes.scaled(0.001), password="pw")
