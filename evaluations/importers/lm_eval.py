"""lm-evaluation-harness results JSON. Evaluation key = task name; metric key = the metric name,
with ``/filter`` appended when the filter is not ``none`` (``acc,none`` → ``acc``,
``exact_match,strict-match`` → ``exact_match/strict-match``); ``<metric>_stderr,<filter>`` is that
metric's standard error. The file has no run id: each task's run id is derived from the file's
SHA-256, so the same file imported twice is the same run."""

from __future__ import annotations

import hashlib
from typing import Any

from evaluations.importers.base import ImportFailed, ParsedFile, number, timestamp
from evaluations.ingestion import ResultInput, RunInput


def looks_like(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("results"), dict)
        and any(key in document for key in ("config", "versions", "n-samples", "lm_eval_version"))
    )


def _metric_key(key: str) -> tuple[str, bool] | None:
    """("acc", False) for "acc,none"; ("acc", True) for "acc_stderr,none"; None otherwise."""
    name, sep, flt = key.partition(",")
    if not sep or not name:
        return None
    stderr = name.endswith("_stderr")
    base = name[: -len("_stderr")] if stderr else name
    return (base if flt == "none" else f"{base}/{flt}"), stderr


def parse(document: dict[str, Any], raw: bytes, *, model_version: str) -> ParsedFile:
    if not looks_like(document):
        raise ImportFailed("this is not an lm-evaluation-harness results file")
    digest = hashlib.sha256(raw).hexdigest()[:16]
    counts = document.get("n-samples")
    samples: dict[str, Any] = counts if isinstance(counts, dict) else {}
    version = str(document.get("lm_eval_version") or document.get("git_hash") or "")[:50]
    started = timestamp(
        document.get("start_time") if isinstance(document.get("start_time"), str) else None
    )
    completed = timestamp(document.get("date"))
    runs = []
    for task, metrics in sorted(document["results"].items()):
        if not isinstance(metrics, dict):
            raise ImportFailed(f"results for {task!r} are not a mapping")
        runs.append(
            RunInput(
                model_version=model_version,
                evaluation=task,
                run_id=f"lm-eval:{digest}:{task}"[:200],
                status="success",
                results=_results(metrics, samples.get(task)),
                harness="lm-eval",
                harness_version=version,
                started_at=started,
                completed_at=completed,
            )
        )
    if not runs:
        raise ImportFailed("the results file holds no task")
    return ParsedFile("lm-eval", "lm-eval", runs)


def _results(metrics: dict[str, Any], counts: Any) -> tuple[ResultInput, ...]:
    values: dict[str, float] = {}
    spreads: dict[str, float] = {}
    for key, value in metrics.items():
        parsed = _metric_key(key)
        figure = number(value)
        if parsed is None or figure is None:
            continue  # "alias", or "N/A" for a metric without a standard error
        name, is_stderr = parsed
        (spreads if is_stderr else values)[name] = figure
    samples = counts.get("effective") if isinstance(counts, dict) else None
    samples = samples if isinstance(samples, int) and samples >= 0 else None
    return tuple(
        ResultInput(name, value, spreads.get(name), samples) for name, value in values.items()
    )
