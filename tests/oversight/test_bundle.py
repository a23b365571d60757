"""The export bundle verifies with its own verifier, outside the application, and names what
was altered."""

import io
import json
import subprocess
import sys
import zipfile

import pytest
from django.core.management import call_command

from core import audit, checkpoints
from core.models import AuditCheckpoint, AuditEvent
from evaluations import services as evaluation_services

pytestmark = pytest.mark.django_db

# The verifier with ``cryptography`` hidden: it must fall back to the openssl command.
WITHOUT_CRYPTOGRAPHY = (
    "import runpy, sys; sys.modules['cryptography'] = None; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _export(client, **filters):
    response = client.get("/audit/export/", filters)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="audit-bundle-')
    return b"".join(response.streaming_content)


def _unpack(data, into):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(into)
        (folder,) = {name.split("/")[0] for name in archive.namelist()}
    return into / folder


def _verify(folder, *, openssl=False):
    """Run the bundle's own verifier in a fresh interpreter, from inside the bundle."""
    script = folder / "verify_bundle.py"
    command = [sys.executable, "-I"]
    command += ["-c", WITHOUT_CRYPTOGRAPHY, str(script)] if openssl else [str(script)]
    done = subprocess.run(
        [*command, str(folder)], capture_output=True, text=True, cwd=folder, check=False
    )
    return done.returncode, done.stdout + done.stderr


def test_a_bundle_verifies_offline_and_a_flipped_byte_names_the_event(
    client, auditor, approved, pause, tmp_path
):
    checkpoints.checkpoint_create(verified=audit.verify_chain())
    audit.record(action="core.test.happened", actor="system:tests", after={"after": "checkpoint"})
    client.force_login(auditor)
    folder = _unpack(_export(client, release=approved.pk), tmp_path)
    manifest = json.loads((folder / "bundle.json").read_text())
    assert manifest["events"] > 20 and manifest["signatures"] == 4  # 2 approvals, 2 on the pause
    assert manifest["filters"] == {"release": str(approved.pk)}
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md", "bundle.json", "bundle.sig", "chain.csv", "checkpoints.jsonl",
        "events.jsonl", "public_key.pem", "signatures.jsonl", "verify_bundle.py",
    ]  # fmt: skip

    status, output = _verify(folder)
    assert (status, output.startswith("OK ")) == (0, True), output
    assert "4 signatures verified" in output and "1 checkpoints" in output
    status, output = _verify(folder, openssl=True)
    assert status == 0, output

    events = (folder / "events.jsonl").read_bytes().splitlines(keepends=True)
    victim = json.loads(events[5])
    events[5] = events[5].replace(b'"actor":"', b'"actor":"X', 1)
    (folder / "events.jsonl").write_bytes(b"".join(events))
    status, output = _verify(folder)
    assert status == 1
    assert f"FAIL event seq {victim['seq']} (events.jsonl line 6) has been altered" in output
    assert "FAIL events.jsonl: its SHA-256 is not the one bundle.json records" in output


def test_a_rewritten_chain_no_longer_matches_the_signed_checkpoint(
    client, auditor, approved, tmp_path
):
    checkpoints.checkpoint_create(verified=audit.verify_chain())
    client.force_login(auditor)
    folder = _unpack(_export(client), tmp_path)
    # Rewrite the chain consistently from its middle (what an attacker with the database
    # would do), re-sealing the file list: only the checkpoint can tell.
    rows = (folder / "chain.csv").read_text().splitlines()
    cut = len(rows) // 2
    header, kept, rest = rows[0], rows[1:cut], rows[cut:]
    rewritten, previous = [], kept[-1].split(",")[2]
    for row in rest:
        seq, _, _ = row.split(",")
        digest = f"{int(seq):064x}"
        rewritten.append(f"{seq},{previous},{digest}")
        previous = digest
    (folder / "chain.csv").write_text("\n".join([header, *kept, *rewritten]) + "\n")
    status, output = _verify(folder)
    assert status == 1
    signed = AuditCheckpoint.objects.get()
    assert (
        f"FAIL checkpoint at seq {signed.seq}: the chain no longer holds the hash it recorded"
        in output
    )
    assert "chain.csv: its SHA-256 is not the one bundle.json records" in output


def test_a_forged_bundle_manifest_fails_its_signature(client, auditor, approved, tmp_path):
    client.force_login(auditor)
    folder = _unpack(_export(client), tmp_path)
    manifest = json.loads((folder / "bundle.json").read_text())
    manifest["events"] += 1
    (folder / "bundle.json").write_text(json.dumps(manifest))
    status, output = _verify(folder)
    assert status == 1
    assert "bundle.json: its signature does not verify with public_key.pem" in output


def test_a_scoped_export_holds_only_the_model_and_still_verifies(
    client, superuser, owner, scoped_auditor, approved, tmp_path
):
    vega = evaluation_services.model_create(actor=owner, slug="vega", name="Vega")
    orion = approved.model_version.model
    evaluation_services.model_reader_grant(actor=superuser, model=orion, reader=scoped_auditor)
    client.force_login(scoped_auditor)
    folder = _unpack(_export(client, model="orion"), tmp_path)
    lines = (folder / "events.jsonl").read_text().splitlines()
    seqs = [json.loads(line)["seq"] for line in lines]
    scopes = set(AuditEvent.objects.filter(seq__in=seqs).values_list("scope_id", flat=True))
    assert scopes == {orion.pk} and vega.pk not in scopes
    status, output = _verify(folder)
    assert status == 0, output
    # The person who exported is on the record.
    exported = AuditEvent.objects.filter(action="oversight.export.created").latest("seq")
    assert (exported.actor_label, exported.after["events"]) == ("sol", len(lines))


def test_the_export_command_writes_the_same_kind_of_bundle(approved, tmp_path):
    target = tmp_path / "audit.zip"
    out = io.StringIO()
    call_command("export_audit", str(target), "--model", "orion", stdout=out)
    assert "events, chain seq" in out.getvalue()
    status, output = _verify(_unpack(target.read_bytes(), tmp_path / "unpacked"))
    assert status == 0, output
    # The verifier also reads the zip as it is.
    done = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "unpacked" / next(
            p.name for p in (tmp_path / "unpacked").iterdir()) / "verify_bundle.py"), str(target)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_bad_filter_is_a_clear_error(client, auditor):
    client.force_login(auditor)
    response = client.get("/audit/export/", {"since": "not-a-date"})
    assert response.status_code == 400
    with pytest.raises(Exception, match="invalid filter: since"):
        call_command("export_audit", "/dev/null", "--since", "yesterday")


def test_an_export_too_large_for_the_web_says_how_to_get_it(client, auditor, settings):
    settings.AUDIT_EXPORT_MAX_EVENTS = 3
    for n in range(5):
        audit.record(action="core.test.happened", actor="system:tests", after={"n": n})
    client.force_login(auditor)
    response = client.get("/audit/export/", {"action": "core.test"}, follow=True)
    assert response.redirect_chain[-1][0] == "/audit/?action=core.test"
    assert "That is more than 3 events" in response.content.decode()
    assert not AuditEvent.objects.filter(action="oversight.export.created").exists()
