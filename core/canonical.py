"""Canonical JSON: one byte string for one value, whatever database stored it.

Rules (they define every hash in the audit chain and every signed manifest):

* UTF-8, no insignificant whitespace, separators ``,`` and ``:``, non-ASCII characters
  written as themselves (not ``\\u`` escapes);
* object keys sorted by Unicode code point; keys must be strings;
* numbers: an integer, or a float with an integral value, is written in plain decimal when
  its magnitude is below 10**21, otherwise as Python's ``repr`` of the float; other floats
  as Python's ``repr`` (the shortest string that reads back as the same double). This makes
  ``1e16`` and ``10000000000000000`` one number, because PostgreSQL's ``jsonb`` turns one
  into the other;
* NaN and infinities are refused, as are strings containing NUL (PostgreSQL cannot store it);
* datetimes are not JSON: callers convert them first (``format_timestamp``).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

_PLAIN_LIMIT = 10**21


class NotCanonicalisable(ValueError):
    pass


def _normalise(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < _PLAIN_LIMIT else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotCanonicalisable("NaN and infinity have no JSON form")
        if value.is_integer() and abs(value) < _PLAIN_LIMIT:
            return int(value)
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise NotCanonicalisable("strings may not contain NUL")
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalisable(f"object keys must be strings, not {type(key).__name__}")
            out[_normalise(key)] = _normalise(item)
        return out
    if isinstance(value, list | tuple):
        return [_normalise(item) for item in value]
    raise NotCanonicalisable(f"{type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        _normalise(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def format_timestamp(moment: datetime) -> str:
    """UTC, microsecond precision, ``Z`` suffix: ``2026-11-27T06:47:43.123456Z``."""
    if moment.tzinfo is None:
        raise NotCanonicalisable("naive datetimes are ambiguous")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
