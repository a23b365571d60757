"""Inspect AI logs (inspect-ai 0.3.x): ``.eval`` (a zip of Zstandard-compressed JSON members)
and ``.json``. Evaluation key = task name; metric key = ``scorer/metric``; a scorer's
``stderr`` metric becomes the standard error of its other metrics. A log whose status is not
``success`` becomes a failed run without results."""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib
from typing import Any

import zstandard

from evaluations.importers.base import (
    MAX_JSON_BYTES,
    ImportFailed,
    ParsedFile,
    load_json,
    number,
    timestamp,
)
from evaluations.ingestion import ResultInput, RunInput

ZSTD_METHOD = 93
STATUS = {"success": "success", "error": "error", "cancelled": "cancelled"}
SPREAD_METRICS = {"stderr", "std"}


def _member(archive: zipfile.ZipFile, data: bytes, name: str) -> bytes:
    """One member's bytes. zipfile cannot decompress Zstandard (method 93), so read the local
    header ourselves and decompress with a hard output limit (a zip bomb stops there)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ImportFailed(f"this .eval file has no {name}") from None
    if info.file_size > MAX_JSON_BYTES:
        raise ImportFailed(f"{name} would expand beyond {MAX_JSON_BYTES // (1024 * 1024)} MB")
    if info.compress_type != ZSTD_METHOD:
        try:
            with archive.open(info) as member:
                return member.read(MAX_JSON_BYTES + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
            raise ImportFailed(f"{name} cannot be read ({exc})") from None
        except (zlib.error, lzma.LZMAError):  # damaged Deflate or LZMA data
            raise ImportFailed(f"{name} cannot be decompressed") from None
        except RuntimeError:  # zipfile's answer to an encrypted member
            raise ImportFailed(f"{name} is encrypted") from None
    offset = info.header_offset
    header = data[offset : offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ImportFailed(f"{name} has a damaged local header")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    compressed = data[start : start + info.compress_size]
    if len(compressed) < info.compress_size:
        raise ImportFailed(f"{name} is truncated")
    try:
        # A member over 200 MiB is written as several frames: read across them.
        reader = zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(compressed), read_across_frames=True
        )
        content = reader.read(MAX_JSON_BYTES + 1)
    except zstandard.ZstdError as exc:
        raise ImportFailed(f"{name} cannot be decompressed ({exc})") from None
    if len(content) > MAX_JSON_BYTES:
        raise ImportFailed(f"{name} expands beyond {MAX_JSON_BYTES // (1024 * 1024)} MB")
    return content


def parse_eval(data: bytes, *, model_version: str) -> ParsedFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # ValueError: a name not UTF-8
        raise ImportFailed(f"not a readable .eval archive ({exc})") from None
    with archive:
        if len(archive.infolist()) > 100_000:
            raise ImportFailed("the archive has too many members to be a real log")
        header = load_json(_member(archive, data, "header.json"), "header.json")
    return ParsedFile("inspect-eval", "inspect", [_run(header, model_version)])


def parse_json(document: dict[str, Any], *, model_version: str) -> ParsedFile:
    return ParsedFile("inspect-json", "inspect", [_run(document, model_version)])


def looks_like(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("eval"), dict)
        and "status" in document
    )


def _run(log: Any, model_version: str) -> RunInput:
    if not looks_like(log):
        raise ImportFailed("this is not an Inspect AI log (no eval and status)")
    spec = log["eval"]
    task, eval_id = spec.get("task"), spec.get("eval_id") or spec.get("run_id")
    if not isinstance(task, str) or not task or not isinstance(eval_id, str) or not eval_id:
        raise ImportFailed("the log names no task or no eval id")
    status = STATUS.get(log["status"]) if isinstance(log["status"], str) else None
    if status is None:
        raise ImportFailed(
            f"the log's status is {log.get('status')!r}: only finished logs can be imported"
        )
    stats = log.get("stats") if isinstance(log.get("stats"), dict) else {}
    packages = spec.get("packages") if isinstance(spec.get("packages"), dict) else {}
    results = _results(log.get("results")) if status == "success" else ()
    if status == "success" and not results:
        raise ImportFailed("the log succeeded but reports no metric")
    return RunInput(
        model_version=model_version,
        evaluation=task,
        run_id=f"inspect:{eval_id}",
        status=status,
        results=results,
        harness="inspect",
        harness_version=str(packages.get("inspect_ai", ""))[:50],
        started_at=timestamp(stats.get("started_at")),
        completed_at=timestamp(stats.get("completed_at")),
    )


def _results(results: Any) -> tuple[ResultInput, ...]:
    if not isinstance(results, dict) or not isinstance(results.get("scores"), list):
        return ()
    out: list[ResultInput] = []
    for score in results["scores"]:
        if not isinstance(score, dict) or not isinstance(score.get("metrics"), dict):
            continue
        scorer = score.get("name") or score.get("scorer")
        metrics = {
            name: number(metric.get("value") if isinstance(metric, dict) else None)
            for name, metric in score["metrics"].items()
        }
        spread = metrics.get("stderr")
        samples = score.get("scored_samples")
        for name, value in metrics.items():
            if name in SPREAD_METRICS or value is None:
                continue
            out.append(
                ResultInput(
                    f"{scorer}/{name}",
                    value,
                    spread,
                    samples if isinstance(samples, int) and samples >= 0 else None,
                )
            )
    return tuple(out)
