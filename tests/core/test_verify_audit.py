"""``manage.py verify_audit``: the chain, its checkpoints and every signature, one verdict."""

import json

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import connections

from core import audit, signing
from core.models import AuditCheckpoint, AuditEvent, Signature

pytestmark = pytest.mark.django_db

MEANING = signing.Meaning("tests.thing.approve", "I approve this thing")


def _sign(person, **subject):
    return signing.sign(
        signer=person,
        meaning=MEANING,
        obj=person,
        subject=subject,
        reauth=signing.demo_reauthentication(person),
    )


def _verify(capsys, *args):
    call_command("verify_audit", *args)
    return capsys.readouterr().out


@pytest.fixture
def stale_when_version_is_old(monkeypatch):
    """Staleness the way an app defines it: here, a person's signature is stale when it was
    given over a ``version`` lower than 2. One call per batch."""
    calls = []

    def check(signatures):
        calls.append(len(signatures))
        return {s.pk for s in signatures if json.loads(s.manifest)["subject"]["version"] < 2}

    monkeypatch.setitem(signing._staleness, "auth.user", check)
    return calls


def test_an_intact_trail_reports_every_part_and_the_speed(
    capsys, lead, authority, stale_when_version_is_old
):
    _sign(lead, version=1)
    _sign(authority, version=2)
    call_command("verify_audit", "--checkpoint")
    out = _verify(capsys)
    head = AuditEvent.objects.order_by("-seq").first()
    assert f"audit chain intact: {head.seq} events checked in " in out
    assert "events/s" in out and f"head seq {head.seq}, hash {head.hash}" in out
    checkpoint = AuditCheckpoint.objects.get()
    assert f"checkpoints: 1 checked, 0 failing; latest: checkpoint {checkpoint.pk} at seq" in out
    assert "signatures: 2 checked, 2 bound, 0 failing, 1 stale" in out
    assert stale_when_version_is_old == [2, 2]  # one batch per run, never one per signature


def test_checkpoint_writes_one_after_a_successful_verification(capsys):
    assert "no new checkpoint: the audit chain is empty" in _verify(capsys, "--checkpoint")
    audit.record(action="core.test.happened", actor="system:tests")
    out = _verify(capsys, "--checkpoint")
    checkpoint = AuditCheckpoint.objects.get()
    assert f"checkpoint {checkpoint.pk} written: seq 1, hash {checkpoint.head_hash}" in out
    assert "has not moved since the last one" in _verify(capsys, "--checkpoint")
    assert AuditCheckpoint.objects.count() == 1


def test_exit_status_is_zero_when_intact_and_one_naming_the_failure(
    capsys, audit_tamper, monkeypatch
):
    # As from the shell, but in this process: keep the test's database connection open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    for n in range(3):
        audit.record(action="core.test.happened", actor="system:tests", after={"n": n})
    execute_from_command_line(["manage.py", "verify_audit"])  # returns: exit status 0
    with audit_tamper():
        AuditEvent.objects.filter(seq=2).update(after={"n": 99})
    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["manage.py", "verify_audit", "--checkpoint"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "audit chain broken at seq 2: seq 2 has been altered" in err
    assert not AuditCheckpoint.objects.exists()  # nothing is vouched for after a failure


def test_every_failure_is_named_in_one_verdict(capsys, lead, audit_tamper):
    signature = _sign(lead, version=2)
    call_command("verify_audit", "--checkpoint")
    checkpoint = AuditCheckpoint.objects.get()
    head = checkpoint.seq
    with audit_tamper():
        AuditEvent.objects.filter(seq=head).delete()  # the signature's own event
        Signature.objects.filter(pk=signature.pk).update(printed_name="Somebody Else")
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    message = str(failure.value)
    assert (
        f"the chain ends at seq {head - 1} but checkpoint {checkpoint.pk} recorded seq {head}"
        in message
    )
    assert (
        f"signature {signature.pk} (tests.thing.approve on auth.user:{lead.pk}, by Somebody "
        "Else): the row differs from its signed manifest (printed_name)" in message
    )
    out = capsys.readouterr().out
    assert "audit chain intact" in out  # the chain alone cannot tell
    assert "checkpoints: 1 checked, 1 failing" in out
    assert "signatures: 1 checked, 0 bound, 1 failing, 0 stale" in out


def test_a_signature_that_does_not_verify_fails(capsys, lead, audit_tamper):
    signature = _sign(lead, version=2)
    manifest = signature.manifest.replace('"version":2', '"version":3')
    with audit_tamper():
        Signature.objects.filter(pk=signature.pk).update(manifest=manifest)
    with pytest.raises(CommandError, match="the signature does not verify over the manifest"):
        call_command("verify_audit")
    assert "signatures: 1 checked, 0 bound, 1 failing" in capsys.readouterr().out


def test_expect_still_catches_a_head_recorded_earlier(capsys, audit_tamper):
    events = [audit.record(action="core.test.happened", actor="system:tests") for _ in range(3)]
    out = _verify(capsys, "--expect", f"3:{events[2].hash}")
    assert "expected head: seq 3 still has that hash" in out
    with audit_tamper():
        AuditEvent.objects.filter(seq=3).delete()
    with pytest.raises(CommandError, match="events were removed from the end"):
        call_command("verify_audit", "--expect", f"3:{events[2].hash}")
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("verify_audit", "--expect", "3:abc")


def test_checking_signatures_takes_a_query_per_batch(
    lead, authority, django_assert_max_num_queries, stale_when_version_is_old
):
    for version in range(3):
        _sign(lead, version=version)
        _sign(authority, version=version)
    with django_assert_max_num_queries(1):
        report = signing.verify_signatures()
    assert (report.checked, report.bound, report.stale) == (6, 6, 4)
    with django_assert_max_num_queries(2):
        report = signing.verify_signatures(batch_size=4)
    assert (report.checked, report.bound, report.stale) == (6, 6, 4)
    assert stale_when_version_is_old == [6, 4, 2]


def test_a_staleness_check_is_registered_once_per_object_type(monkeypatch):
    monkeypatch.setattr(signing, "_staleness", {})

    def check(signatures):
        return set()

    signing.register_staleness("tests.thing", check)
    signing.register_staleness("tests.thing", check)  # the same one again is harmless
    with pytest.raises(ValueError, match="already registered"):
        signing.register_staleness("tests.thing", lambda signatures: set())
