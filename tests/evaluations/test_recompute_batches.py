"""Recomputing many model versions together: the same determinations, levels and audit events
as one at a time, in a number of statements that does not grow with the batch."""

from datetime import UTC, datetime

import pytest

from core import audit
from core.canonical import canonical_json
from core.models import AuditEvent
from evaluations import ingestion, recompute
from evaluations import services as evaluation_services
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import Determination, ModelVersion
from tests.evaluations.test_ingestion import _clean_results

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)


def _versions(owner, orion, policy, count):
    """Versions of which every other one has clean runs of every evaluation (its level is the
    baseline) and the rest have one run crossing CBRN-3 (nothing else can be ruled out)."""
    versions = [
        evaluation_services.model_version_create(actor=owner, model=orion, label=f"orion-3.{n}")
        for n in range(count)
    ]
    runs = [
        RunInput(
            model_version=v.label,
            evaluation=key,
            run_id=f"r-{v.label}-{key}",
            status="success",
            completed_at=NOW,
            results=tuple(results),
        )
        for v in versions[::2]
        for key, results in _clean_results(policy).items()
    ] + [
        RunInput(
            model_version=v.label,
            evaluation="bio_uplift_probe",
            run_id=f"r-{v.label}",
            status="success",
            completed_at=NOW,
            results=(ResultInput("includes/accuracy", 0.7),),
        )
        for v in versions[1::2]
    ]
    ingestion.ingest_runs(actor=owner, runs=runs, source="api")
    return versions


def _state(versions, since):
    """Levels, determinations and the recompute's audit events after ``since``."""
    levels = dict(
        ModelVersion.objects.filter(pk__in=[v.pk for v in versions]).values_list(
            "label", "required_level"
        )
    )
    rows = sorted(
        Determination.objects.filter(model_version__in=versions).values_list(
            "model_version__label", "threshold", "outcome", "level", "deciding_run__run_id",
            "reason", "evidence",
        )
    )  # fmt: skip
    events = sorted(
        (e.object_repr, e.action, canonical_json(e.before), canonical_json(e.after))
        for e in AuditEvent.objects.filter(seq__gt=since, actor_label=recompute.ACTOR)
    )
    return levels, rows, events


def _head():
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()


def test_a_batch_stores_what_one_at_a_time_would(owner, orion, evaluations, policy):
    versions = _versions(owner, orion, policy, 6)
    since = _head()
    for version in versions:
        recompute.recompute(version.pk, now=NOW)
    one_at_a_time = _state(versions, since)
    assert len(set(one_at_a_time[0].values())) == 2  # the baseline, and the highest level
    # The same versions, reassessed together from scratch.
    Determination.objects.filter(model_version__in=versions).delete()
    ModelVersion.objects.filter(pk__in=[v.pk for v in versions]).update(
        required_level="", required_rank=None, assessed_policy=None, assessed_watermark=0
    )
    since = _head()
    outcomes = recompute.recompute_many([v.pk for v in reversed(versions)], now=NOW)
    assert [o.version_id for o in outcomes] == sorted(v.pk for v in versions)
    assert all(o.changed and not o.skipped for o in outcomes)
    assert _state(versions, since) == one_at_a_time


def test_a_batch_audits_each_changed_determination_once(owner, orion, evaluations, policy):
    versions = _versions(owner, orion, policy, 4)
    before = AuditEvent.objects.filter(action="evaluations.determination.changed").count()
    recompute.recompute_many([v.pk for v in versions], now=NOW)
    thresholds = Determination.objects.filter(model_version__in=versions).count()
    after = AuditEvent.objects.filter(action="evaluations.determination.changed").count()
    assert after - before == thresholds  # every determination is new
    again = recompute.recompute_many([v.pk for v in versions], now=NOW, force=True)
    assert not any(o.changed for o in again)
    assert AuditEvent.objects.filter(action="evaluations.determination.changed").count() == after
    assert audit.verify_chain().ok


@pytest.mark.parametrize("count", [2, 12])
def test_a_batch_runs_a_bounded_number_of_statements(
    owner, orion, evaluations, policy, count, django_assert_max_num_queries
):
    versions = _versions(owner, orion, policy, count)
    # Lock, policy, facts (3), overrides, determinations, deciding runs, delete, insert, one
    # update per distinct level, and the audit chain's lock, head and insert, with savepoints:
    # 23 on PostgreSQL, whatever the number of versions.
    with django_assert_max_num_queries(23):
        recompute.recompute_many([v.pk for v in versions], now=NOW)


def test_versions_that_no_longer_exist_are_left_out(owner, orion, evaluations, policy):
    version = _versions(owner, orion, policy, 1)[0]
    outcomes = recompute.recompute_many([version.pk, 10_000_000], now=NOW)
    assert [o.version_id for o in outcomes] == [version.pk]
    with pytest.raises(ModelVersion.DoesNotExist):
        recompute.recompute(10_000_000)
