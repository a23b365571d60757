"""Hostile files: every real log in tests/fixtures/evals/, mutated by Hypothesis (bytes flipped,
cut short, keys deleted or repeated, values of the wrong type, numbers too large for a float,
NaN, nesting 100,000 deep, zip members damaged, a wrong model version), goes through
``imports.import_bytes``. Each either imports or is refused with a clear message
(``ImportFailed``, ``IngestionError`` or ``RunConflict``) and stores nothing: no raw file, run,
result or audit event, and no file in storage. Any other exception is a crash, and Hypothesis
reports the recipe of the smallest input that causes it.

Deterministic: a fixed seed per log and no example database, so every run tries the same inputs.
"""

from __future__ import annotations

import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, given, note, seed, settings

from core import roles
from core.models import AuditEvent
from evaluations import importers, imports, ingestion
from evaluations import services as evaluation_services
from evaluations.models import EvaluationRun, RawFile, Result
from tests.conftest import make_person
from tests.hostile import mutants
from tests.hostile.mutants import LABEL, Log, Mutant

pytestmark = pytest.mark.django_db
EXAMPLES = {"eval": 40, "json": 30, "jsonl": 20, "csv": 150}  # per log of that kind
REFUSALS = (importers.ImportFailed, ingestion.IngestionError, ingestion.RunConflict)
FUZZ = settings(  # with a seed per log (below): the same inputs on every run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SWEPT = [
    "inspect/bio_uplift_probe-0.6.json",
    "lm_eval/local_bio_mc-results.json",
    "derived/inspect-runs.csv",
]


TASKS = [
    "bio_uplift_probe", "broken_task", "cyber_ctf_suite", "slow_task",
    "local_bio_mc", "local_chem_mc", "local_cbrn_mc", "local_gsm_like",
]  # fmt: skip


@pytest.fixture
def world(lead, owner, settings, tmp_path):
    """Every task of the logs registered; ``orion-2.1`` fed by the owner; a rival's ``vega-1``
    the owner may not feed."""
    settings.MEDIA_ROOT = tmp_path / "media"
    for key in TASKS:
        evaluation_services.evaluation_create(actor=lead, key=key, name=key)
    orion = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    evaluation_services.model_version_create(actor=owner, model=orion, label=LABEL)
    rival = make_person("rita", roles.PRODUCT_OWNER)
    vega = evaluation_services.model_create(actor=rival, slug="vega", name="Vega")
    evaluation_services.model_version_create(actor=rival, model=vega, label="vega-1")
    return owner


def _stored() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (RawFile, EvaluationRun, Result, AuditEvent))


def _files() -> set[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def _clear(message: str) -> bool:
    """Something a person can read in the import's status: words, not a traceback or bytes."""
    return (
        bool(message.strip())
        and len(message) <= 2000  # a few lines, not an echo of the hostile input
        and "Traceback" not in message
        and all(ch.isprintable() or ch == "\n" for ch in message)
    )


class Trial:
    """Imports mutants one at a time, each from the same database (a savepoint rolled back
    afterwards), and counts what became of them."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self.stored, self.files = _stored(), _files()
        self.outcomes: Counter = Counter()

    def __call__(self, mutant: Mutant) -> None:
        with transaction.atomic():
            refusal = result = None
            try:
                result = imports.import_bytes(
                    actor=self.owner,
                    data=mutant.data,
                    filename=Path(mutant.log).name,
                    model_version=mutant.model_version,
                )
            except REFUSALS as error:  # anything else is a crash: it fails the test
                refusal = str(error)
            if result is None:
                assert _clear(refusal), f"unclear message for {mutant}: {refusal[:300]!r}"
                assert _stored() == self.stored, f"{mutant} was refused but stored something"
                assert _files() == self.files, f"{mutant} was refused but left a file behind"
                self.outcomes["refused"] += 1
            else:
                raw = RawFile.objects.get(pk=result.raw_file.pk)
                assert raw.size == len(mutant.data) and raw.file.storage.exists(raw.file.name)
                assert all(run.raw_file_id == raw.pk for run in result.outcome.created)
                self.outcomes["imported"] += 1
            transaction.set_rollback(True)
        for path in _files() - self.files:  # what an accepted mutant wrote, now rolled back
            path.unlink()


def _seed(owner: Any, log: Log) -> None:
    """The real log, stored for real: a mutant with its run id then meets a stored run."""
    if log.kind == "jsonl":  # lm-eval's per-sample records are not a results file
        with pytest.raises(importers.ImportFailed, match="not valid JSON"):
            imports.import_bytes(actor=owner, data=log.data, filename="s", model_version=LABEL)
    else:
        stored = imports.import_bytes(actor=owner, data=log.data, filename="s", model_version=LABEL)
        assert stored.outcome.created, log.name


def _fuzz(owner: Any, log: Log) -> Trial:
    trial = Trial(owner)

    @seed(zlib.crc32(log.name.encode()))
    @settings(FUZZ, max_examples=EXAMPLES[log.kind])
    @given(mutants.mutants(log))
    def fuzz(mutant: Mutant) -> None:
        note(repr(mutant))  # shown with a crash: Hypothesis prints a composite's value blank
        trial(mutant)

    fuzz()
    return trial


def _families() -> dict[str, list[Log]]:
    found: dict[str, list[Log]] = {}
    for log in mutants.corpus().values():
        found.setdefault(log.kind, []).append(log)
    return found


@pytest.mark.parametrize("kind", ["eval", "json", "jsonl", "csv"])
def test_every_mutated_log_imports_or_is_refused_clearly_storing_nothing(world, tally, kind):
    logs = _families()[kind]
    assert logs, f"no {kind} fixture to mutate"
    outcomes: Counter = Counter()
    for log in logs:
        _seed(world, log)
        trial = _fuzz(world, log)
        assert trial.outcomes.total() == EXAMPLES[kind], (log.name, trial.outcomes)
        outcomes += trial.outcomes
    for outcome, count in outcomes.items():
        tally[f"importer fuzz (Hypothesis), {kind} logs: {outcome}"] += count
    # Both ends were reached: mutants stored through the whole path, and mutants refused.
    assert outcomes["refused"] > 0
    assert outcomes["imported"] > 0 or kind == "jsonl"


@pytest.mark.parametrize("name", SWEPT)
def test_every_field_the_importers_read_survives_every_kind_of_wrong_value(world, tally, name):
    log = mutants.corpus()[name]
    _seed(world, log)
    trial = Trial(world)
    swept = mutants.csv_sweep(log) if log.kind == "csv" else mutants.sweep(log)
    for mutant in swept:
        trial(mutant)
    for outcome, count in trial.outcomes.items():
        tally[f"importer sweep (every field read x each hostile kind): {outcome}"] += count
    assert trial.outcomes.total() == len(swept) > 100
    assert trial.outcomes["refused"] > 0 and trial.outcomes["imported"] > 0
