"""The evaluation pages: what each person sees, and query counts that do not grow with data."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluations import ingestion, recompute, services
from evaluations.ingestion import ResultInput, RunInput

pytestmark = pytest.mark.django_db


def _populate(owner, orion, versions, runs_each, *, start=0):
    labels = []
    for n in range(start, start + versions):
        label = f"orion-{n}"
        version = services.model_version_create(actor=owner, model=orion, label=label)
        runs = [
            RunInput(
                model_version=label,
                evaluation="bio_uplift_probe",
                run_id=f"{label}-{r}",
                status="success",
                completed_at=datetime.now(UTC),
                results=(
                    ResultInput("includes/accuracy", 0.1 + 0.01 * r),
                    ResultInput("includes/f1", 0.2),
                ),
            )
            for r in range(runs_each)
        ]
        if runs:
            ingestion.ingest_runs(actor=owner, runs=runs, source="api")
        recompute.recompute(version.pk)
        labels.append(label)
    return labels


PAGES = {
    "models": lambda labels: "/models/",
    "model": lambda labels: "/models/orion/",
    "version": lambda labels: f"/models/versions/{labels[0]}/",
    "evaluations": lambda labels: "/models/evaluations/",
    "evaluation chart": lambda labels: "/models/evaluations/bio_uplift_probe/",
    "import page": lambda labels: "/models/import/",
}


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_queries_do_not_grow_with_versions_and_runs(client, owner, orion, evaluations, page):
    client.force_login(owner)
    labels = _populate(owner, orion, 2, 2)
    small = _count(client, PAGES[page](labels))
    _populate(owner, orion, 6, 12, start=2)
    large = _count(client, PAGES[page](labels))
    assert large <= small, f"{page}: {small} queries with little data, {large} with more"
    assert large <= 16


def test_the_heat_map_shows_each_versions_worst_outcome_per_domain(
    client, owner, orion, evaluations
):
    _populate(owner, orion, 1, 0)
    run = RunInput(
        model_version="orion-0",
        evaluation="bio_uplift_probe",
        run_id="x",
        status="success",
        completed_at=datetime.now(UTC),
        results=(ResultInput("includes/accuracy", 0.9),),
    )
    ingestion.ingest_runs(actor=owner, runs=[run], source="api")
    recompute.recompute(orion.versions.get().pk)
    client.force_login(owner)
    content = client.get("/models/").content.decode()
    assert 'badge text-bg-danger">crossed' in content
    page = client.get("/models/versions/orion-0/").content.decode()
    assert "bio_uplift_probe/includes/accuracy = 0.9 in run x" in page


def test_the_chart_draws_each_versions_best_score_against_the_threshold(
    client, owner, orion, evaluations
):
    _populate(owner, orion, 3, 2)
    client.force_login(owner)
    content = client.get("/models/evaluations/bio_uplift_probe/").content.decode()
    assert content.count("<circle") == 3
    assert "threshold 0.5" in content and "alert 0.4" in content


def test_a_person_without_access_sees_404_for_a_model_and_nothing_in_lists(
    client, orion_21, outsider
):
    client.force_login(outsider)
    assert client.get("/models/orion/").status_code == 404
    assert client.get("/models/versions/orion-2.1/").status_code == 404
    assert b"orion-2.1" not in client.get("/models/").content


def test_the_heat_map_and_a_versions_runs_come_a_page_at_a_time(
    client, owner, orion, evaluations, monkeypatch
):
    from evaluations import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
    monkeypatch.setattr(selectors, "RUNS_SHOWN", 4)
    labels = _populate(owner, orion, 4, 0) + _populate(owner, orion, 1, 6, start=4)
    client.force_login(owner)
    first = client.get("/models/").context["heat"]
    second = client.get("/models/", {"page": 2}).context["heat"]
    assert [v.label for v, _ in first.rows] + [v.label for v, _ in second.rows] == labels
    assert (first.more, second.more) == (True, False)
    assert client.get("/models/", {"page": "x"}).context["heat"].page == 1
    page = client.get(f"/models/versions/{labels[-1]}/")
    assert [run.run_id for run in page.context["runs"]] == [f"orion-4-{r}" for r in (5, 4, 3, 2)]
    assert "The latest 4 of 6 runs" in page.content.decode()
