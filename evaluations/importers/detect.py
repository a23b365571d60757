from __future__ import annotations

import zipfile

from evaluations.importers import csv_results, inspect_log, lm_eval
from evaluations.importers.base import ImportFailed, ParsedFile, load_json
from evaluations.ingestion import RunInput


def parse(data: bytes, *, model_version: str | None) -> ParsedFile:
    """Recognise the format from the bytes themselves and parse them."""
    parsed = _parse(data, model_version=model_version)
    for run in parsed.runs:
        _plain_text(run)
    return parsed


def _plain_text(run: RunInput) -> None:
    """Refuse text that neither the database nor the audit chain can hold (NUL, a lone
    surrogate), naming the field, before it fails deep inside storage."""
    texts = {
        "model version": run.model_version,
        "evaluation": run.evaluation,
        "run id": run.run_id,
        "status": run.status,
        "harness": run.harness,
        "harness version": run.harness_version,
    }
    texts.update({f"metric name {n}": r.metric for n, r in enumerate(run.results, start=1)})
    for what, text in texts.items():
        if not _storable(text):
            raise ImportFailed(f"the {what} holds a NUL or a lone surrogate, which is not text")


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")  # fails on a lone surrogate
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _parse(data: bytes, *, model_version: str | None) -> ParsedFile:
    if not data:
        raise ImportFailed("the file is empty")
    if data[:4] == b"PK\x03\x04" or zipfile.is_zipfile(_Bytes(data)):
        return inspect_log.parse_eval(data, model_version=_need(model_version))
    stripped = data.lstrip()
    if stripped[:1] in (b"{", b"["):
        document = load_json(data, "the file")
        if inspect_log.looks_like(document):
            return inspect_log.parse_json(document, model_version=_need(model_version))
        if lm_eval.looks_like(document):
            return lm_eval.parse(document, data, model_version=_need(model_version))
        raise ImportFailed("JSON, but neither an Inspect AI log nor lm-evaluation-harness results")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportFailed("not a recognised format (not UTF-8 text, not a zip)") from None
    if csv_results.looks_like(text):
        return csv_results.parse(text, model_version=model_version)
    raise ImportFailed(
        "not a recognised format: expected an Inspect AI .eval or .json log, lm-evaluation-harness "
        "results JSON, or CSV with the header " + ",".join(csv_results.HEADER)
    )


def _need(model_version: str | None) -> str:
    if not model_version:
        raise ImportFailed("name the model version these results belong to")
    return model_version


class _Bytes:
    """Just enough of a file for zipfile.is_zipfile, without copying the data."""

    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: len(self.data)}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.position + size
        chunk = self.data[self.position : end]
        self.position += len(chunk)
        return chunk
