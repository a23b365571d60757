"""CSV, one result per row, with this header (docs in the README):

    model_version,evaluation,run_id,status,metric,value,stderr,samples,completed_at

``model_version`` may be empty when the import names one; rows with the same ``run_id`` are
one run; a run whose ``status`` is not ``success`` has a single row with empty metric and value.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from typing import Any

from evaluations.importers.base import ImportFailed, ParsedFile, timestamp
from evaluations.ingestion import ResultInput, RunInput

HEADER = [
    "model_version",
    "evaluation",
    "run_id",
    "status",
    "metric",
    "value",
    "stderr",
    "samples",
    "completed_at",
]
MAX_ROWS = 200_000


def looks_like(text: str) -> bool:
    first = text.split("\n", 1)[0].strip().lstrip("\ufeff")
    return [column.strip() for column in first.split(",")] == HEADER


def _float(value: str, where: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise ImportFailed(f"{where}: {value!r} is not a number") from None


def _rows(reader: csv.DictReader[str]) -> Iterator[dict[str, Any]]:
    try:
        yield from reader
    except csv.Error as exc:  # e.g. a field longer than the csv module's limit
        raise ImportFailed(f"line {reader.line_num}: not readable as CSV ({exc})") from None


def parse(text: str, *, model_version: str | None) -> ParsedFile:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    runs: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(_rows(reader), start=2):
        if line > MAX_ROWS:
            raise ImportFailed(f"at most {MAX_ROWS} rows per file")
        where = f"line {line}"
        if None in row or any(value is None for value in row.values()):
            raise ImportFailed(f"{where}: expected {len(HEADER)} columns")
        label = row["model_version"].strip() or model_version
        if not label:
            raise ImportFailed(f"{where}: no model_version (fill the column or name one)")
        run = runs.setdefault(
            row["run_id"].strip(),
            {
                "model_version": label,
                "evaluation": row["evaluation"].strip(),
                "status": row["status"].strip() or "success",
                "results": [],
                "completed_at": timestamp(row["completed_at"].strip() or None),
                "line": line,
            },
        )
        if (run["model_version"], run["evaluation"]) != (label, row["evaluation"].strip()):
            raise ImportFailed(
                f"{where}: run {row['run_id']!r} changes model version or evaluation"
            )
        if row["metric"].strip():
            value = _float(row["value"], where)
            if value is None:
                raise ImportFailed(f"{where}: a metric needs a value")
            samples = _float(row["samples"], where)
            if samples is not None and not math.isfinite(samples):
                raise ImportFailed(f"{where}: {row['samples']!r} is not a number of samples")
            run["results"].append(
                ResultInput(
                    row["metric"].strip(),
                    value,
                    _float(row["stderr"], where),
                    int(samples) if samples is not None else None,
                )
            )
    if not runs:
        raise ImportFailed("the CSV file has a header but no rows")
    return ParsedFile(
        "csv",
        "csv",
        [
            RunInput(
                model_version=r["model_version"],
                evaluation=r["evaluation"],
                run_id=run_id,
                status=r["status"],
                results=tuple(r["results"]),
                harness="csv",
                completed_at=r["completed_at"],
            )
            for run_id, r in runs.items()
        ],
    )
