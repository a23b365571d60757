import hashlib

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from core import audit
from core.canonical import canonical_json, format_timestamp
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _record_many(count, actor="system:tests"):
    return [
        audit.record(
            action="core.test.happened",
            actor=actor,
            object_type="tests.thing",
            object_id=str(n),
            object_repr=f"thing {n}",
            after={"n": n, "score": n / 3, "big": 1e16, "text": "naïve ✓"},
            reason=f"because {n}",
        )
        for n in range(count)
    ]


def test_events_form_a_gapless_chain_from_genesis():
    first, second, third = _record_many(3)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash


def test_the_hash_is_sha256_of_the_documented_canonical_form(outsider):
    event = audit.record(action="core.test.happened", actor=outsider, obj=outsider, reason="r")
    event.refresh_from_db()
    payload = {
        "v": 1,
        "seq": event.seq,
        "occurred_at": format_timestamp(event.occurred_at),
        "actor_id": outsider.pk,
        "actor": "oscar",
        "action": "core.test.happened",
        "object_type": "auth.user",
        "object_id": str(outsider.pk),
        "object_repr": "oscar",
        "subject": "",
        "before": None,
        "after": None,
        "reason": "r",
        "request_id": "",
        "prev_hash": event.prev_hash,
    }
    assert event.hash == hashlib.sha256(canonical_json(payload)).hexdigest()


def test_values_read_back_from_the_database_rehash_identically():
    (event,) = _record_many(1)
    stored = AuditEvent.objects.get(seq=event.seq)
    assert stored.after == {"n": 0, "score": 0, "big": 10**16, "text": "naïve ✓"}
    assert audit.verify_chain().ok


def test_record_joins_the_callers_transaction():
    _record_many(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        _record_many(2)
        raise RuntimeError("the change failed")
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1]
    assert audit.record(action="core.test.happened", actor="system:tests").seq == 2


def test_request_ids_tag_events_written_inside_the_block():
    with audit.bound_request_id("req:abc"):
        (event,) = _record_many(1)
    (later,) = _record_many(1)
    assert (event.request_id, later.request_id) == ("req:abc", "")


@pytest.mark.parametrize("action", ["Core.Thing", "core", "core..x", "core.thing!", ""])
def test_malformed_actions_are_refused(action):
    with pytest.raises(ValueError, match="dotted lower-case"):
        audit.record(action=action, actor="system:tests")
    assert not AuditEvent.objects.exists()


def test_non_user_actors_must_name_a_system_task():
    with pytest.raises(ValueError, match="system:<task>"):
        audit.record(action="core.test.happened", actor="somebody")


def test_unhashable_data_is_refused_before_anything_is_written():
    with pytest.raises(ValueError, match="NaN"):
        audit.record(action="core.test.happened", actor="system:tests", after={"x": float("nan")})
    assert not AuditEvent.objects.exists()


def test_verify_reports_an_intact_chain_and_its_head():
    events = _record_many(5)
    report = audit.verify_chain(chunk_size=2)
    assert report.ok
    assert (report.entries, report.head_seq, report.head_hash) == (5, 5, events[-1].hash)


def test_an_empty_chain_is_intact():
    report = audit.verify_chain()
    assert report.ok and report.entries == 0


# --- the database refuses edits -----------------------------------------------------------------


def _refused(statement, params=()):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, params)


def test_the_database_refuses_update_and_delete_of_audit_rows(on_postgres):
    _record_many(2)
    _refused("UPDATE core_auditevent SET action = 'core.test.rewritten' WHERE seq = 1")
    _refused("DELETE FROM core_auditevent WHERE seq = 2")
    _refused("DELETE FROM core_auditevent")
    if on_postgres:
        with connection.cursor() as cursor:  # fire the deferred FK checks of the inserts above,
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # which would block TRUNCATE first
        _refused("TRUNCATE core_auditevent")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2
    assert audit.verify_chain().ok


# --- tampering is caught ---------------------------------------------------------------------


def _fields(event):
    return {name: getattr(event, name) for name in audit._VERIFY_FIELDS if name != "hash"}


def _assert_broken_at(seq, fragment):
    report = audit.verify_chain()
    assert not report.ok
    assert report.first_bad_seq == seq
    assert fragment in report.problem
    with pytest.raises(CommandError, match=f"broken at seq {seq}"):
        call_command("verify_audit")


def test_a_modified_row_is_caught(audit_tamper):
    _record_many(5)
    with audit_tamper():
        AuditEvent.objects.filter(seq=3).update(reason="nothing to see here")
    _assert_broken_at(3, "altered")


def test_a_deleted_row_is_caught(audit_tamper):
    _record_many(5)
    with audit_tamper():
        AuditEvent.objects.filter(seq=3).delete()
    _assert_broken_at(3, "missing")


def test_an_inserted_row_is_caught_even_with_a_well_formed_hash(audit_tamper):
    events = _record_many(5)
    forged = _fields(events[2]) | {"seq": 3, "prev_hash": events[1].hash, "reason": "forged"}
    forged["hash"] = audit.event_hash(forged)
    with audit_tamper():
        for seq in (5, 4, 3):  # make room, highest first
            AuditEvent.objects.filter(seq=seq).update(seq=seq + 1)
        AuditEvent.objects.create(**forged)
    _assert_broken_at(4, "does not link")


def test_reordered_rows_are_caught(audit_tamper):
    events = _record_many(5)
    second, third = events[1], events[2]
    with audit_tamper():  # swap the two rows' contents; hashes are unique, so via a placeholder
        AuditEvent.objects.filter(seq=2).update(**(_fields(third) | {"seq": 2, "hash": "x"}))
        AuditEvent.objects.filter(seq=3).update(
            **(_fields(second) | {"seq": 3, "hash": second.hash})
        )
        AuditEvent.objects.filter(seq=2).update(hash=third.hash)
    _assert_broken_at(2, "does not link")


def test_events_removed_from_the_end_are_caught_against_a_recorded_head(audit_tamper, capsys):
    events = _record_many(5)
    call_command("verify_audit", expect=f"5:{events[4].hash}")
    with audit_tamper():
        AuditEvent.objects.filter(seq__gte=4).delete()
    assert audit.verify_chain().ok  # the rest of the chain is intact ...
    with pytest.raises(CommandError, match="events were removed from the end"):
        call_command("verify_audit", expect=f"5:{events[4].hash}")  # ... but not the recorded head
    with pytest.raises(CommandError, match="no longer has the hash"):
        call_command("verify_audit", expect=f"3:{events[4].hash}")


@pytest.mark.parametrize(
    "value",
    [
        1 / 3,
        1e-7,
        1.5e300,
        5e-324,
        2**53 + 1,
        12345678901234567890,
        -0.0,
        "1e5",
        "é",
        [[{"a": [1.25]}]],
    ],
)
def test_awkward_values_survive_the_database_round_trip(value):
    audit.record(action="core.test.happened", actor="system:tests", after={"v": value})
    assert audit.verify_chain().ok


def test_verify_audit_command_reports_speed_on_success(capsys):
    _record_many(3)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "audit chain intact: 3 events checked" in out
    assert "events/s" in out
