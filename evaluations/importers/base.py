from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from evaluations.ingestion import RunInput

MAX_JSON_BYTES = 64 * 1024 * 1024  # a decompressed header or results document


class ImportFailed(ValueError):
    """The file cannot be imported; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class ParsedFile:
    format: str  # "inspect-eval", "inspect-json", "lm-eval", "csv"
    source: str  # EvaluationRun.Source value
    runs: list[RunInput]


def load_json(data: bytes, what: str) -> Any:
    if len(data) > MAX_JSON_BYTES:
        raise ImportFailed(f"{what} is larger than {MAX_JSON_BYTES // (1024 * 1024)} MB")
    try:
        return json.loads(data)
    except RecursionError:
        raise ImportFailed(f"{what} is nested too deeply to be a real log") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailed(f"{what} is not valid JSON ({exc})") from None
    except ValueError:  # an integer of more than 4,300 digits (Python's limit on reading one)
        raise ImportFailed(f"{what} holds a number too long to read") from None


def timestamp(value: Any) -> datetime | None:
    """ISO 8601 text or a Unix time; naive times are taken as UTC."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(float(value), tz=UTC)
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise ImportFailed(f"{value!r} is not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float: ingestion refuses it as not finite
        return math.inf if value > 0 else -math.inf
