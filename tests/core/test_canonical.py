import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.canonical import NotCanonicalisable, canonical_json, format_timestamp


def test_keys_are_sorted_and_whitespace_removed():
    assert (
        canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (1e16, 10**16),  # PostgreSQL jsonb returns 1e16 as an integer
        (1e21, 10**21),
        (2.0, 2),
        (-0.0, 0),
    ],
)
def test_a_number_has_one_form_whether_integer_or_float(left, right):
    assert canonical_json([left]) == canonical_json([right])


def test_non_integral_floats_keep_their_shortest_round_trip_form():
    assert canonical_json([0.1, 1e-07, 0.65]) == b"[0.1,1e-07,0.65]"
    assert json.loads(canonical_json([0.1]))[0] == 0.1


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "a\x00b", {1: "x"}, {1, 2}])
def test_values_without_a_stable_json_form_are_refused(value):
    with pytest.raises(NotCanonicalisable):
        canonical_json({"v": value})


def test_timestamps_are_utc_with_microseconds():
    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(moment) == "2026-01-02T01:04:05.000006Z"
    with pytest.raises(NotCanonicalisable):
        format_timestamp(datetime(2026, 1, 2))
    assert format_timestamp(datetime(2026, 1, 2, tzinfo=UTC)).endswith(".000000Z")
