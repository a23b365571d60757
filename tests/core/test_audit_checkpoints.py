import base64
import json
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import DatabaseError, transaction

from core import audit, checkpoints, keys, tasks
from core.canonical import canonical_json, format_timestamp
from core.models import AuditCheckpoint, AuditEvent

pytestmark = pytest.mark.django_db


def _record(count):
    return [
        audit.record(action="core.test.happened", actor="system:tests", after={"n": n})
        for n in range(count)
    ]


def _checkpoint():
    return checkpoints.checkpoint_create(verified=audit.verify_chain())


def _problems():
    return checkpoints.verify_checkpoints(audit.verify_chain()).problems


def test_a_checkpoint_signs_the_chain_head():
    events = _record(3)
    checkpoint = _checkpoint()
    assert (checkpoint.seq, checkpoint.head_hash) == (3, events[-1].hash)
    checkpoint.refresh_from_db()
    assert json.loads(checkpoint.manifest) == {
        "type": "audit.checkpoint",
        "seq": 3,
        "head_hash": events[-1].hash,
        "created_at": format_timestamp(checkpoint.created_at),
    }
    assert checkpoint.manifest.encode() == canonical_json(json.loads(checkpoint.manifest))
    key = keys.signing_key()
    assert checkpoint.key_id == key.key_id
    key.public.verify(base64.b64decode(checkpoint.signature), checkpoint.manifest.encode())
    assert _problems() == []


def test_openssl_verifies_a_checkpoint_offline(tmp_path):
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed for this test (Debian: apt-get install openssl)"
    _record(2)
    checkpoint = _checkpoint()
    (tmp_path / "public.pem").write_text(keys.signing_key().public_pem())
    (tmp_path / "manifest.json").write_text(checkpoint.manifest, encoding="utf-8")
    (tmp_path / "signature.bin").write_bytes(base64.b64decode(checkpoint.signature))

    def verify():
        return subprocess.run(
            [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-rawin",
             "-in", "manifest.json", "-sigfile", "signature.bin"],
            cwd=tmp_path, capture_output=True, text=True, check=False,
        )  # fmt: skip

    assert verify().returncode == 0
    (tmp_path / "manifest.json").write_text(checkpoint.manifest.replace('"seq":2', '"seq":9'))
    assert verify().returncode != 0


def test_no_checkpoint_while_the_head_has_not_moved():
    assert _checkpoint() is None  # an empty chain has nothing to vouch for
    _record(2)
    first = _checkpoint()
    assert _checkpoint() is None
    _record(1)
    second = _checkpoint()
    assert (first.seq, second.seq) == (2, 3)
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [2, 3]


def test_creating_a_checkpoint_records_no_audit_event():
    _record(2)
    _checkpoint()
    assert AuditEvent.objects.count() == 2


def test_events_appended_after_the_walk_are_checked_and_covered():
    _record(2)
    walked = audit.verify_chain()
    later = _record(2)
    checkpoint = checkpoints.checkpoint_create(verified=walked)
    assert (checkpoint.seq, checkpoint.head_hash) == (4, later[-1].hash)


def test_a_change_after_the_walk_is_refused(audit_tamper):
    _record(2)
    walked = audit.verify_chain()
    _record(1)
    with audit_tamper():
        AuditEvent.objects.filter(seq=3).update(reason="rewritten meanwhile")
    with pytest.raises(checkpoints.CheckpointRefused, match="changed since it was verified"):
        checkpoints.checkpoint_create(verified=walked)
    assert not AuditCheckpoint.objects.exists()


def test_a_broken_chain_is_never_checkpointed(audit_tamper):
    _record(3)
    with audit_tamper():
        AuditEvent.objects.filter(seq=2).update(after={"n": 99})
    with pytest.raises(checkpoints.CheckpointRefused, match="broken at seq 2"):
        _checkpoint()
    assert not AuditCheckpoint.objects.exists()


def test_checkpoints_are_append_only_in_the_database(on_postgres):
    _record(1)
    checkpoint = _checkpoint()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(seq=99)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).delete()
    if on_postgres:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE core_auditcheckpoint")
    assert AuditCheckpoint.objects.get().seq == 1


# --- what only checkpoints catch ---------------------------------------------------------------


def test_events_removed_from_the_end_are_caught(audit_tamper):
    _record(5)
    checkpoint = _checkpoint()
    with audit_tamper():
        AuditEvent.objects.filter(seq__gte=4).delete()
    assert audit.verify_chain().ok  # what is left is a well-formed chain ...
    assert _problems() == [  # ... that no longer reaches the signed head
        f"the chain ends at seq 3 but checkpoint {checkpoint.pk} recorded seq 5: events were "
        "removed from the end"
    ]
    with pytest.raises(checkpoints.CheckpointRefused, match="removed from the end"):
        _checkpoint()


def _rewrite_chain(audit_tamper, **changes):
    """Replace every event with a consistent forgery: each links to the one before and
    re-hashes correctly, so the chain alone cannot tell."""
    prev_hash = audit.GENESIS_HASH
    with audit_tamper():
        for event in AuditEvent.objects.order_by("seq"):
            fields = {name: getattr(event, name) for name in audit._VERIFY_FIELDS}
            fields |= changes | {"prev_hash": prev_hash}
            fields["hash"] = audit.event_hash(fields)
            AuditEvent.objects.filter(seq=event.seq).update(**fields)
            prev_hash = fields["hash"]


def test_a_wholesale_rewrite_is_caught(audit_tamper):
    _record(3)
    early = _checkpoint()
    _record(2)
    late = _checkpoint()
    _rewrite_chain(audit_tamper, reason="nothing happened")
    assert audit.verify_chain().ok
    assert _problems() == [
        f"seq 3 no longer has the hash checkpoint {early.pk} recorded: the chain was rewritten",
        f"seq 5 no longer has the hash checkpoint {late.pk} recorded: the chain was rewritten",
    ]
    with pytest.raises(checkpoints.CheckpointRefused, match="rewritten"):
        _checkpoint()


def _forge(**overrides):
    """A checkpoint row written by someone without the deployment key."""
    fields = {
        "seq": 2,
        "head_hash": AuditEvent.objects.get(seq=2).hash,
        "created_at": AuditEvent.objects.get(seq=2).occurred_at,
        "key_id": keys.signing_key().key_id,
    }
    fields |= overrides
    manifest = checkpoints.manifest_bytes(
        seq=fields["seq"], head_hash=fields["head_hash"], created_at=fields["created_at"]
    )
    signature = Ed25519PrivateKey.generate().sign(manifest)
    return AuditCheckpoint.objects.create(
        manifest=manifest.decode(), signature=base64.b64encode(signature).decode(), **fields
    )


def test_a_forged_checkpoint_signature_is_caught():
    _record(2)
    forged = _forge()
    assert _problems() == [
        f"checkpoint {forged.pk}: its signature does not verify over its manifest: it was forged"
    ]
    with pytest.raises(checkpoints.CheckpointRefused, match="forged"):
        _checkpoint()


def test_a_checkpoint_of_another_key_is_reported():
    _record(2)
    other = _forge(key_id="0123456789abcdef")
    (problem,) = _problems()
    assert problem.startswith(f"checkpoint {other.pk} was signed with key 0123456789abcdef")


def test_a_checkpoint_row_changed_after_signing_is_caught(audit_tamper):
    events = _record(3)
    checkpoint = _checkpoint()
    with audit_tamper():  # point it at another event: its manifest still says seq 3
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(seq=2, head_hash=events[1].hash)
    assert _problems() == [
        f"checkpoint {checkpoint.pk}: its columns differ from its signed manifest: the row was "
        "altered"
    ]


def test_checking_checkpoints_takes_two_queries_however_many(
    audit_tamper, django_assert_max_num_queries
):
    for _ in range(6):
        _record(1)
        _checkpoint()
    intact = audit.verify_chain()
    with django_assert_max_num_queries(1):
        assert checkpoints.verify_checkpoints(intact).checked == 6
    with audit_tamper():
        AuditEvent.objects.filter(seq=3).update(reason="x")
        AuditEvent.objects.filter(seq=6).delete()
    broken = audit.verify_chain()  # stops at seq 3: the head is looked up, one more query
    with django_assert_max_num_queries(2):
        result = checkpoints.verify_checkpoints(broken)
    assert result.checked == 6
    assert [problem.split(":")[0] for problem in result.problems] == [
        f"the chain ends at seq 5 but checkpoint {result.latest.pk} recorded seq 6"
    ]


# --- the periodic job ----------------------------------------------------------------------------


def test_beat_runs_the_checkpoint_task_at_the_configured_interval():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == tasks.audit_checkpoint.name == "core.tasks.audit_checkpoint"
    assert entry["schedule"] == float(settings.AUDIT_CHECKPOINT_SECONDS)


def test_the_checkpoint_interval_comes_from_the_environment():
    from core.env import ImproperlyConfiguredEnv, env_int

    def interval(environ):
        return env_int("AUDIT_CHECKPOINT_SECONDS", 3600, minimum=60, environ=environ)

    assert interval({}) == 3600
    assert interval({"AUDIT_CHECKPOINT_SECONDS": "900"}) == 900
    with pytest.raises(ImproperlyConfiguredEnv, match="AUDIT_CHECKPOINT_SECONDS"):
        interval({"AUDIT_CHECKPOINT_SECONDS": "10"})


def test_the_beat_task_writes_a_checkpoint_once_per_new_head(eager_tasks):
    events = _record(3)
    result = tasks.audit_checkpoint.delay().get()
    checkpoint = AuditCheckpoint.objects.get()
    assert result == {"ok": True, "checkpoint": checkpoint.pk, "seq": 3, "problem": ""}
    assert checkpoint.head_hash == events[-1].hash
    assert tasks.audit_checkpoint.delay().get()["checkpoint"] is None
    assert AuditCheckpoint.objects.count() == 1


def test_the_beat_task_refuses_a_broken_chain(eager_tasks, audit_tamper, caplog):
    _record(3)
    with audit_tamper():
        AuditEvent.objects.filter(seq=2).update(reason="x")
    result = tasks.audit_checkpoint.delay().get()
    assert (result["ok"], result["checkpoint"]) == (False, None)
    assert "broken at seq 2" in result["problem"]
    assert "no audit checkpoint written: the audit chain is broken at seq 2" in caplog.text
    assert not AuditCheckpoint.objects.exists()


def test_the_hourly_check_reports_failing_checkpoints(audit_tamper, caplog):
    _record(3)
    _checkpoint()
    assert tasks.verify_audit_chain.apply().get()["ok"] is True
    with audit_tamper():
        AuditEvent.objects.filter(seq=3).delete()
    result = tasks.verify_audit_chain.apply().get()
    assert result["ok"] is False and result["first_bad_seq"] is None
    (problem,) = result["checkpoint_problems"]
    assert "events were removed from the end" in problem
    assert "audit checkpoint failed" in caplog.text
