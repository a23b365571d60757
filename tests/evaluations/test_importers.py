"""The parsers, on logs written by the real tools (tests/fixtures/evals, made by
scripts/eval_fixtures/generate.sh) and on damaged and hostile files."""

import struct
import zlib
from pathlib import Path

import pytest
import zstandard

from evaluations.importers import ImportFailed, parse
from evaluations.importers.base import MAX_JSON_BYTES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evals"


def _read(name):
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("suffix", ["eval", "json"])
def test_an_inspect_log_gives_a_run_keyed_by_task_with_scorer_metrics(suffix):
    parsed = parse(_read(f"inspect/bio_uplift_probe-0.6.{suffix}"), model_version="orion-2.1")
    (run,) = parsed.runs
    assert parsed.format == f"inspect-{suffix}"
    assert (run.evaluation, run.status, run.harness) == ("bio_uplift_probe", "success", "inspect")
    assert run.run_id.startswith("inspect:")
    assert run.harness_version.startswith("0.3.")
    ((metric, value, stderr, samples),) = [
        (r.metric, r.value, r.stderr, r.samples) for r in run.results
    ]
    assert (metric, value, samples) == ("includes/accuracy", 0.6, 5)
    assert stderr == pytest.approx(0.2449, abs=1e-3)
    assert run.completed_at is not None and run.started_at <= run.completed_at


def test_several_scorers_give_several_metrics():
    (run,) = parse(_read("inspect/cyber_ctf_suite-multiscorer.eval"), model_version="v").runs
    assert {r.metric: round(r.value, 3) for r in run.results} == {
        "includes/accuracy": 0.833,
        "match/accuracy": 0.5,
    }


def test_a_multi_epoch_log_reports_the_reduced_score():
    (run,) = parse(_read("inspect/bio_uplift_probe-3-epochs.eval"), model_version="v").runs
    assert [(r.metric, r.value) for r in run.results] == [("includes/accuracy", 0.6)]


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("broken_task-error.eval", "error"),
        ("broken_task-error.json", "error"),
        ("slow_task-cancelled.eval", "cancelled"),
        ("slow_task-cancelled.json", "cancelled"),
    ],
)
def test_an_errored_or_cancelled_log_is_a_failed_run_without_results(name, status):
    (run,) = parse(_read(f"inspect/{name}"), model_version="v").runs
    assert (run.status, run.results) == (status, ())


def test_lm_eval_results_give_one_run_per_task_with_filters_in_the_metric_key():
    parsed = parse(_read("lm_eval/combined-results.json"), model_version="v")
    runs = {run.evaluation: run for run in parsed.runs}
    assert parsed.format == "lm-eval"
    assert set(runs) == {"local_bio_mc", "local_gsm_like"}
    assert {r.metric for r in runs["local_bio_mc"].results} == {"acc", "acc_norm"}
    assert {r.metric for r in runs["local_gsm_like"].results} == {
        "exact_match/strict-match",
        "exact_match/flexible-extract",
    }
    acc = next(r for r in runs["local_bio_mc"].results if r.metric == "acc")
    assert acc.stderr is not None and acc.samples == 8
    assert len({run.run_id for run in parsed.runs}) == 2  # one id per task, from the file hash


def test_csv_with_the_documented_header():
    text = (
        "model_version,evaluation,run_id,status,metric,value,stderr,samples,completed_at\n"
        "orion-2.1,bio_uplift_probe,c-1,success,includes/accuracy,0.55,0.1,40,2026-11-01T10:00:00Z\n"
        "orion-2.1,bio_uplift_probe,c-1,success,includes/f1,0.5,,,2026-11-01T10:00:00Z\n"
        ",cyber_ctf_suite,c-2,error,,,,,\n"
    )
    runs = {run.run_id: run for run in parse(text.encode(), model_version="orion-2.2").runs}
    assert [(r.metric, r.value) for r in runs["c-1"].results] == [
        ("includes/accuracy", 0.55),
        ("includes/f1", 0.5),
    ]
    assert (runs["c-2"].model_version, runs["c-2"].status, runs["c-2"].results) == (
        "orion-2.2",
        "error",
        (),
    )


def _zip(name, payload, *, method=93, declared=None):
    """A one-member zip written by hand (zipfile cannot write Zstandard members)."""
    data = zstandard.ZstdCompressor().compress(payload) if method == 93 else payload
    size = len(payload) if declared is None else declared
    crc = zlib.crc32(payload)
    raw = name.encode()
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 63, 0, method, 0, 0, crc, len(data), size, len(raw), 0
    )
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        63,
        63,
        0,
        method,
        0,
        0,
        crc,
        len(data),
        size,
        len(raw),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    offset = len(local) + len(raw) + len(data)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(raw), offset, 0)
    return local + raw + data + central + raw + end


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (_read("inspect/bio_uplift_probe-0.6.eval")[:5000], "not a readable .eval archive"),
        (_zip("header.json", b"\0" * (MAX_JSON_BYTES + 10)), "would expand beyond"),
        (_zip("header.json", b"\0" * (MAX_JSON_BYTES + 10), declared=100), "expands beyond"),
        (_zip("other.json", b"{}"), "has no header.json"),
        (_zip("header.json", b"{not json"), "header.json is not valid JSON"),
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"hello": "world"}', "neither an Inspect AI log nor lm-evaluation-harness"),
        (b"\xff\xfe\x00garbage", "not a recognised format"),
        (b"a,b\n1,2\n", "not a recognised format"),
        (
            b'{"version": 2, "status": "started", "eval": {"task": "t", "eval_id": "e"}}',
            "only finished logs can be imported",
        ),
    ],
    ids=[
        "empty",
        "truncated",
        "zip-bomb",
        "zip-bomb-lying-size",
        "no-header",
        "bad-json",
        "deep-nesting",
        "unknown-json",
        "binary",
        "unknown-csv",
        "unfinished",
    ],
)
def test_damaged_and_hostile_files_get_a_clear_error(data, message):
    with pytest.raises(ImportFailed, match=message):
        parse(data, model_version="v")


def test_a_log_needs_a_model_version():
    with pytest.raises(ImportFailed, match="name the model version"):
        parse(_read("inspect/bio_uplift_probe-0.6.json"), model_version=None)
