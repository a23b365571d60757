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
    # Hot path of chain verification: exact-type checks first, recursion only into containers
    # and numbers that need rewriting; subclasses (e.g. SafeString) take the general path.
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            raise NotCanonicalisable("strings may not contain NUL")
        return value
    if value is None or kind is bool:
        return value
    if kind is int and -_PLAIN_LIMIT < value < _PLAIN_LIMIT:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                if not isinstance(key, str):
                    raise NotCanonicalisable(
                        f"object keys must be strings, not {type(key).__name__}"
                    )
                key = str(key)
            if "\x00" in key:
                raise NotCanonicalisable("strings may not contain NUL")
            item_kind = type(item)
            if item_kind is str and "\x00" not in item:
                out[key] = item
            else:
                out[key] = _normalise(item)
        return out
    if kind is list or kind is tuple:
        return [_normalise(item) for item in value]
    return _normalise_other(value)


def _normalise_other(value: Any) -> Any:
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value) if abs(value) < _PLAIN_LIMIT else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotCanonicalisable("NaN and infinity have no JSON form")
        if value.is_integer() and abs(value) < _PLAIN_LIMIT:
            return int(value)
        return float(value)
    if isinstance(value, str):
        return _normalise(str(value))
    if isinstance(value, dict):
        return _normalise(dict(value))
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
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
