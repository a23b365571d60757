"""The fast re-hash of raw audit rows writes exactly the bytes of the hash's definition."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import audit, chainhash
from core.canonical import canonical_json
from core.models import AuditEvent

# JSON values as record() receives them: any nesting, awkward numbers, any text but NUL and
# lone surrogates (neither can be stored; canonical_json refuses the first).
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e16, 1e21, 1e22, -0.0, 5e-324, 1.5e300, 2.0**53 + 1, 0.1, 1 / 3]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, text),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(text, children, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.one_of(st.none(), st.dictionaries(text, json_values, max_size=5))
moments = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)


def _stored_json(value):
    """As record() stores it: canonical JSON read back."""
    return None if value is None else json.loads(canonical_json(value))


@given(json_values)
def test_json_column_text_re_encodes_to_canonical_json(value):
    expected = canonical_json(value).decode()
    # SQLite keeps Django's json.dumps text; PostgreSQL prints jsonb with spaces and its own
    # key order, and numbers as plain decimals: whatever the spelling, one canonical form.
    for spelling in (
        json.dumps(value),
        json.dumps(value, ensure_ascii=False, separators=(", ", ": ")),
        canonical_json(value).decode(),
    ):
        assert chainhash.canonical_json_text(spelling) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"big": 1' + "0" * 300 + "}", '{"big":1e+300}'),  # jsonb prints 1e300 in full
        ('{"tiny": 0.' + "0" * 323 + "5}", '{"tiny":5e-324}'),
        ('{"n": 1.0, "m": 1e16, "z": -0.0}', '{"m":10000000000000000,"n":1,"z":0}'),
        ('{"b": [], "a": {}}', '{"a":{},"b":[]}'),
    ],
)
def test_number_spellings_of_the_databases_have_one_canonical_form(text, expected):
    assert chainhash.canonical_json_text(text) == expected


@pytest.mark.parametrize(
    "text", ["NaN", '{"x": Infinity}', "1e400", '{"x": 1} ', ' {"x": 1}', "{", '"a\x00"', 5]
)
def test_json_text_the_orm_might_read_otherwise_is_not_taken(text):
    with pytest.raises((ValueError, TypeError, StopIteration)):
        chainhash.canonical_json_text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27 09:39:06.367305", "2026-11-27T09:39:06.367305Z"),  # SQLite
        ("2026-11-27 09:39:06", "2026-11-27T09:39:06.000000Z"),  # SQLite, whole second
        ("2026-11-27 09:39:06.36+00", "2026-11-27T09:39:06.360000Z"),  # PostgreSQL
        ("2026-11-27 09:39:06+00", "2026-11-27T09:39:06.000000Z"),
        ("0999-01-02 03:04:05.000006+00", "0999-01-02T03:04:05.000006Z"),
    ],
)
def test_plain_timestamps_are_rearranged_into_the_canonical_form(text, expected):
    assert chainhash.canonical_timestamp_text(text, naive_is_utc=True) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30 09:39:06.367305",  # no such day
        "2026-11-27 25:39:06",
        "2026-11-27T09:39:06.367305",
        "2026-11-27 09:39:06.367+01",
        "2026-11-27 09:39:06.3673051",
        "2026-11-27 09:39:06+00:00",
        "\uff12026-11-27 09:39:06",  # a fullwidth digit
        "",
    ],
)
def test_other_timestamp_spellings_are_not_taken(text):
    with pytest.raises(ValueError, match=r"not a plain timestamp|out of range|must be in"):
        chainhash.canonical_timestamp_text(text, naive_is_utc=True)


def test_a_naive_timestamp_is_not_taken_when_the_connection_is_not_in_utc():
    with pytest.raises(ValueError, match="not in UTC"):
        chainhash.canonical_timestamp_text("2026-11-27 09:39:06", naive_is_utc=False)
    row_hash = chainhash.row_hasher(1, timezone(timedelta(hours=2)))
    assert row_hash(_raw_row(_fields(), timestamp="2026-11-27 09:39:06")) is None


def _fields(**overrides):
    fields = {
        "seq": 7,
        "occurred_at": datetime(2026, 11, 27, 9, 39, 6, 367305, tzinfo=UTC),
        "actor_id": 3,
        "actor_label": "lena",
        "action": "core.test.happened",
        "object_type": "tests.thing",
        "object_id": "12",
        "object_repr": "thing 12",
        "subject": "tests.thing:12",
        "before": None,
        "after": {"n": 1},
        "reason": "",
        "request_id": "req:1",
        "prev_hash": "ab" * 32,
    }
    return fields | overrides


def _raw_row(fields, *, postgres=False, timestamp=None):
    """The row as ``chainhash.rows`` returns it from each database."""
    moment = fields["occurred_at"].astimezone(UTC).replace(tzinfo=None)
    if timestamp is None:
        timestamp = str(moment)  # what Django stores on SQLite
        if postgres:  # the fraction without its trailing zeros, and no point when none
            whole, fraction = moment.isoformat(sep=" ", timespec="microseconds").split(".")
            fraction = fraction.rstrip("0")
            timestamp = f"{whole}.{fraction}+00" if fraction else f"{whole}+00"
    spell = (lambda v: json.dumps(v, separators=(", ", ": "))) if postgres else json.dumps
    return (
        fields["seq"], timestamp, fields["actor_id"], fields["actor_label"], fields["action"],
        fields["object_type"], fields["object_id"], fields["object_repr"], fields["subject"],
        None if fields["before"] is None else spell(fields["before"]),
        None if fields["after"] is None else spell(fields["after"]),
        fields["reason"], fields["request_id"], fields["prev_hash"], "",
    )  # fmt: skip


@given(
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    moment=moments,
    actor_id=st.none() | st.integers(min_value=1, max_value=2**63 - 1),
    strings=st.lists(text, min_size=7, max_size=7),
    before=json_objects,
    after=json_objects,
    postgres=st.booleans(),
)
def test_the_fast_hash_is_the_defined_hash(seq, moment, actor_id, strings, before, after, postgres):
    names = (
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "subject",
        "reason",
    )
    fields = _fields(
        seq=seq,
        occurred_at=moment,
        actor_id=actor_id,
        before=_stored_json(before),
        after=_stored_json(after),
        **dict(zip(names, strings, strict=True)),
    )
    row_hash = chainhash.row_hasher(audit.HASH_VERSION, UTC)
    fast = row_hash(_raw_row(fields, postgres=postgres))
    if fast is None:
        # The fast path declines only text holding an escaped backslash before "u0000" (it
        # cannot tell it from an escaped NUL); verify_chain then hashes the row the slow way.
        assert "\\u0000" in json.dumps([before, after, strings])
    else:
        assert fast == audit.event_hash(fields)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (0, "7"),  # seq of the wrong type
        (2, "3"),  # actor id of the wrong type
        (2, True),
        (3, None),  # NOT NULL text column holding NULL
        (3, 12),
        (11, "a\x00b"),  # canonical_json refuses NUL
        (10, '{"x": "a\\u0000b"}'),
        (10, '{"x": NaN}'),
        (10, b'{"x": 1}'),
        (1, "2026-11-27T09:39:06"),
    ],
)
def test_rows_off_the_plain_shape_are_left_to_the_definition(column, value):
    row = list(_raw_row(_fields()))
    row_hash = chainhash.row_hasher(audit.HASH_VERSION, UTC)
    assert row_hash(row) == audit.event_hash(_fields())
    row[column] = value
    assert row_hash(row) is None


def test_the_row_columns_are_the_hashed_fields_in_order():
    columns = {field.column for field in AuditEvent._meta.concrete_fields}
    assert set(chainhash.FIELDS) <= columns
    assert chainhash.FIELDS[0] == "seq" and chainhash.FIELDS[13:] == ("prev_hash", "hash")
    assert audit._VERIFY_FIELDS == chainhash.FIELDS


# --- through the database ----------------------------------------------------------------


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=json_objects, after=json_objects, reason=text, repr_=text)
def test_whatever_record_stores_is_re_hashed_fast_and_identically(before, after, reason, repr_):
    event = audit.record(
        action="core.test.happened",
        actor="system:tests",
        object_type="tests.thing",
        object_repr=repr_,
        before=before,
        after=after,
        reason=reason,
    )
    row_hash = chainhash.row_hasher(audit.HASH_VERSION, UTC)
    from django.db import connection

    (row,) = [row for row in chainhash.rows(connection, chunk_size=100) if row[0] == event.seq]
    assert row_hash(row) == event.hash


@pytest.mark.django_db
def test_a_row_the_fast_path_declines_is_judged_by_the_definition():
    audit.record(action="core.test.happened", actor="system:tests", reason="plain")
    # A literal backslash-u0000 (not a NUL) is valid; the fast path declines it all the same.
    audit.record(action="core.test.happened", actor="system:tests", reason="\\u0000 literally")
    report = audit.verify_chain()
    assert report.ok, report.problem
    assert (report.entries, report.rechecked) == (2, 1)


@pytest.mark.django_db
def test_a_walk_after_a_verified_seq_checks_only_the_events_after_it():
    events = [audit.record(action="core.test.happened", actor="system:tests") for _ in range(4)]
    report = audit.verify_chain(after=(2, events[1].hash))
    assert (report.ok, report.entries, report.head_seq) == (True, 2, 4)
    assert report.head_hash == events[3].hash
    wrong = audit.verify_chain(after=(2, events[0].hash))
    assert (wrong.ok, wrong.first_bad_seq, wrong.entries) == (False, 3, 0)
    assert "does not link" in wrong.problem
    assert audit.verify_chain(after=(4, events[3].hash)).entries == 0
