from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, transaction

from core.models import AuditEvent
from evaluations import ingestion, recompute
from evaluations.ingestion import IngestionError, ResultInput, RunConflict, RunInput
from evaluations.models import Determination, EvaluationRun, ModelVersion, Result

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)


def _run(run_id="r1", value=0.65, *, evaluation="bio_uplift_probe", label="orion-2.1", **extra):
    return RunInput(
        model_version=label,
        evaluation=evaluation,
        run_id=run_id,
        status=extra.pop("status", "success"),
        results=extra.pop("results", (ResultInput("includes/accuracy", value, 0.1, 40),)),
        harness="inspect",
        completed_at=extra.pop("completed_at", NOW),
        **extra,
    )


def test_a_run_is_stored_with_its_results_audited_and_marked_for_recompute(owner, orion_21):
    orion_21.refresh_from_db()
    before = orion_21.evidence_watermark
    outcome = ingestion.ingest_runs(actor=owner, runs=[_run()], source="api")
    run = EvaluationRun.objects.get(run_id="r1")
    assert [run] == outcome.created
    assert list(run.results.values_list("metric", "value", "stderr", "samples")) == [
        ("includes/accuracy", 0.65, 0.1, 40)
    ]
    orion_21.refresh_from_db()
    assert (
        orion_21.needs_recompute is True
        or orion_21.assessed_watermark == orion_21.evidence_watermark
    )
    assert orion_21.evidence_watermark == before + 1
    event = AuditEvent.objects.get(action="evaluations.run.received")
    assert event.subject == f"evaluations.modelversion:{orion_21.pk}"
    assert event.after["results"] == {"includes/accuracy": 0.65}


def test_an_identical_replay_changes_nothing_and_a_conflicting_one_is_refused(owner, orion_21):
    ingestion.ingest_runs(actor=owner, runs=[_run()], source="api")
    events = AuditEvent.objects.count()
    replay = ingestion.ingest_runs(actor=owner, runs=[_run()], source="api")
    assert (len(replay.created), len(replay.replayed)) == (0, 1)
    assert AuditEvent.objects.count() == events
    with pytest.raises(RunConflict, match="r1"):
        ingestion.ingest_runs(actor=owner, runs=[_run(value=0.2)], source="api")
    assert Result.objects.get().value == 0.65


def test_a_batch_is_all_or_nothing(owner, orion_21):
    bad = _run("r2", results=(ResultInput("includes/accuracy", float("nan")),))
    with pytest.raises(IngestionError) as error:
        ingestion.ingest_runs(actor=owner, runs=[_run("r1"), bad], source="api")
    assert "runs[1].results[0].value" in error.value.errors
    assert not EvaluationRun.objects.exists()


@pytest.mark.parametrize(
    ("run", "field", "message"),
    [
        (_run(label="nope-1"), "runs[0].model_version", "unknown model version 'nope-1'"),
        (_run(evaluation="nope"), "runs[0].evaluation", "unknown evaluation 'nope'"),
        (_run(status="weird"), "runs[0].status", "must be one of"),
        (_run(status="error"), "runs[0].results", "did not succeed carries no results"),
        (_run(results=(ResultInput("m", 1e13),)), "runs[0].results[0].value", "within ±1e12"),
        (_run(results=(ResultInput("m", 1, -1),)), "runs[0].results[0].stderr", "zero or more"),
        (
            _run(results=(ResultInput("m", 1), ResultInput("m", 2))),
            "runs[0].results[1].metric",
            "twice",
        ),
        (_run(run_id=""), "runs[0].run_id", "1 to 200"),
        (
            _run(started_at=NOW, completed_at=NOW - timedelta(hours=1)),
            "runs[0].completed_at",
            "before",
        ),
    ],
)
def test_invalid_input_is_refused_naming_the_field(owner, orion_21, run, field, message):
    with pytest.raises(IngestionError) as error:
        ingestion.ingest_runs(actor=owner, runs=[run], source="api")
    assert message in " ".join(error.value.errors[field])
    assert not EvaluationRun.objects.exists()


def test_another_owner_cannot_see_or_feed_this_model(orion_21):
    from core import roles
    from tests.conftest import make_person

    rival = make_person("rita", roles.PRODUCT_OWNER)
    with pytest.raises(IngestionError) as error:
        ingestion.ingest_runs(actor=rival, runs=[_run()], source="api")
    assert "unknown model version 'orion-2.1'" in error.value.errors["runs[0].model_version"][0]


def test_a_failed_run_is_stored_without_results_and_never_counts(owner, orion_21):
    ingestion.ingest_runs(actor=owner, runs=[_run(status="error", results=())], source="api")
    recompute.recompute(orion_21.pk)
    cbrn3 = Determination.objects.get(model_version=orion_21, threshold="CBRN-3")
    assert cbrn3.outcome == "cannot_rule_out"
    assert "only failed or invalidated runs of bio_uplift_probe" in cbrn3.reason


def test_evidence_is_append_only_in_the_database(owner, orion_21):
    ingestion.ingest_runs(actor=owner, runs=[_run()], source="api")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Result.objects.update(value=0.1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Result.objects.all().delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        EvaluationRun.objects.update(status="error")


def test_a_crossing_raises_the_required_level_and_names_its_run(owner, orion_21):
    first = recompute.recompute(orion_21.pk)
    assert first.required_level == "ASL-4"  # no evidence: nothing can be ruled out
    ingestion.ingest_runs(actor=owner, runs=[_run("cross", 0.65)], source="api")
    recompute.recompute(orion_21.pk)
    cbrn3 = Determination.objects.get(model_version=orion_21, threshold="CBRN-3")
    assert (cbrn3.outcome, cbrn3.deciding_run.run_id, cbrn3.deciding_value) == (
        "crossed",
        "cross",
        0.65,
    )
    orion_21.refresh_from_db()
    assert (orion_21.needs_recompute, orion_21.assessed_watermark) == (
        False,
        orion_21.evidence_watermark,
    )


def test_recompute_is_idempotent_and_audits_only_real_changes(owner, orion_21):
    recompute.recompute(orion_21.pk)
    events = AuditEvent.objects.count()
    again = recompute.recompute(orion_21.pk)
    assert again.skipped is True
    forced = recompute.recompute(orion_21.pk, force=True)
    assert (forced.skipped, forced.changed) == (False, False)
    assert AuditEvent.objects.count() == events


def test_the_sweep_enqueues_what_is_still_marked(
    eager_tasks, owner, orion_21, django_capture_on_commit_callbacks
):
    ModelVersion.objects.filter(pk=orion_21.pk).update(needs_recompute=True)
    assert recompute.sweep() == 1  # eager: the recompute ran and cleared the mark
    orion_21.refresh_from_db()
    assert orion_21.needs_recompute is False


def test_stale_ruling_out_evidence_is_marked_daily(owner, orion_21, policy):
    old = NOW - timedelta(days=policy.reevaluation_interval_days + 5)
    runs = [
        _run(f"clean-{key}", evaluation=key, completed_at=old, results=tuple(results))
        for key, results in _clean_results(policy).items()
    ]
    ingestion.ingest_runs(actor=owner, runs=runs, source="api")
    recompute.recompute(orion_21.pk, now=old + timedelta(days=1))
    assert recompute.mark_stale(now=NOW) == 1


def _clean_results(policy):
    """One run per evaluation, with every metric far on the safe side of its threshold."""
    from governance import content

    data = content.version_content(content.load_version(policy.pk))
    results = {}
    for threshold in data["thresholds"]:
        for c in threshold["conditions"]:
            safe = 0.0 if c["comparator"] in (">=", ">") else 1e6
            results.setdefault(c["evaluation"], {})[c["metric"]] = ResultInput(c["metric"], safe)
    return {key: list(metrics.values()) for key, metrics in results.items()}


def test_run_ids_belong_to_their_model_version_so_owners_cannot_collide(
    owner, orion_21, evaluations
):
    from core import roles
    from evaluations import services
    from tests.conftest import make_person

    rival = make_person("rita", roles.PRODUCT_OWNER)
    vega = services.model_create(actor=rival, slug="vega", name="Vega")
    services.model_version_create(actor=rival, model=vega, label="vega-1")
    ingestion.ingest_runs(actor=rival, runs=[_run("run-42", label="vega-1")], source="api")
    outcome = ingestion.ingest_runs(actor=owner, runs=[_run("run-42")], source="api")
    assert len(outcome.created) == 1
    assert EvaluationRun.objects.filter(run_id="run-42").count() == 2
