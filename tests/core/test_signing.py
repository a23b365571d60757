import base64
import hashlib
import json
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import keys, signing
from core.models import AuditEvent, Signature
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

MEANING = signing.Meaning("tests.thing.approve", "I approve this thing")


@pytest.fixture
def http_request():
    request = RequestFactory().post("/sign/")
    request.session = {}
    return request


def _sign(person, reauth, **subject):
    return signing.sign(
        signer=person, meaning=MEANING, obj=person, subject=subject or {"x": 1}, reauth=reauth
    )


def test_the_right_password_proves_the_signer(http_request, lead):
    reauth = signing.reauthenticate(request=http_request, user=lead, password=PASSWORD)
    assert reauth == signing.Reauthentication(user_id=lead.pk, method="password")


def test_a_wrong_password_is_refused_logged_and_audited(http_request, lead, caplog):
    with pytest.raises(signing.ReauthenticationFailed, match="password is not correct"):
        signing.reauthenticate(request=http_request, user=lead, password="nope")
    assert "signature refused for lena" in caplog.text
    event = AuditEvent.objects.get(action="core.signature.refused")
    assert (event.actor_id, event.reason) == (lead.pk, "wrong password")
    assert not Signature.objects.exists()


def test_wrong_passwords_count_towards_the_lockout(http_request, lead, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        with pytest.raises(signing.ReauthenticationFailed):
            signing.reauthenticate(request=http_request, user=lead, password="nope")
    with pytest.raises(signing.ReauthenticationFailed):
        signing.reauthenticate(request=http_request, user=lead, password=PASSWORD)
    assert getattr(http_request, "axes_locked_out", False) is True


def test_a_confirmed_totp_device_requires_a_current_code(http_request, lead):
    device = TOTPDevice.objects.create(user=lead, name="phone", confirmed=True)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    reauth = signing.reauthenticate(
        request=http_request, user=lead, password=PASSWORD, otp_token=code
    )
    assert reauth.method == "password+totp"
    with pytest.raises(signing.ReauthenticationFailed, match="one-time code"):
        signing.reauthenticate(request=http_request, user=lead, password=PASSWORD)
    with pytest.raises(signing.ReauthenticationFailed, match="one-time code"):  # no replays
        signing.reauthenticate(request=http_request, user=lead, password=PASSWORD, otp_token=code)
    assert AuditEvent.objects.filter(action="core.signature.refused").count() == 2


def test_an_unconfirmed_device_does_not_count(http_request, lead):
    TOTPDevice.objects.create(user=lead, name="half-enrolled", confirmed=False)
    assert (
        signing.reauthenticate(request=http_request, user=lead, password=PASSWORD).method
        == "password"
    )


def test_a_signature_binds_exactly_the_manifest(lead):
    signature = _sign(lead, signing.demo_reauthentication(lead), content_sha256="ab" * 32)
    manifest = json.loads(signature.manifest)
    assert manifest["meaning"] == {"code": "tests.thing.approve", "text": "I approve this thing"}
    assert manifest["signer"] == {"id": lead.pk, "username": "lena", "name": "Lena"}
    assert manifest["subject"] == {"content_sha256": "ab" * 32}
    assert manifest["key_id"] == signature.key_id == keys.signing_key().key_id
    assert manifest["signed_at"].endswith("Z")
    assert signature.manifest_sha256 == hashlib.sha256(signature.manifest.encode()).hexdigest()
    assert signing.is_authentic(signature)
    forged = Signature(**{f.attname: getattr(signature, f.attname) for f in Signature._meta.fields})
    forged.manifest = signature.manifest.replace('"ab', '"cd', 1)
    assert not signing.is_authentic(forged)
    event = AuditEvent.objects.get(action="core.signature.created")
    assert event.after["manifest_sha256"] == signature.manifest_sha256


def test_someone_elses_reauthentication_cannot_sign(lead, authority):
    with pytest.raises(signing.ReauthenticationFailed):
        _sign(lead, signing.demo_reauthentication(authority))
    assert not Signature.objects.exists()


def test_signatures_are_append_only_in_the_database(lead):
    signature = _sign(lead, signing.demo_reauthentication(lead))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).update(meaning_text="I reject this thing")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).delete()


def test_export_public_key_prints_the_verifying_key(capsys):
    call_command("export_public_key")
    out = capsys.readouterr()
    assert out.out.startswith("-----BEGIN PUBLIC KEY-----")
    assert keys.signing_key().key_id in out.err


def test_openssl_verifies_a_signature_offline(lead, tmp_path):
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed for this test (Debian: apt-get install openssl)"
    signature = _sign(lead, signing.demo_reauthentication(lead), content_sha256="ef" * 32)
    (tmp_path / "public.pem").write_text(keys.signing_key().public_pem())
    (tmp_path / "manifest.json").write_text(signature.manifest, encoding="utf-8")
    (tmp_path / "signature.bin").write_bytes(base64.b64decode(signature.signature))

    def verify():
        return subprocess.run(
            [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-rawin",
             "-in", "manifest.json", "-sigfile", "signature.bin"],
            cwd=tmp_path, capture_output=True, text=True, check=False,
        )  # fmt: skip

    assert verify().returncode == 0
    (tmp_path / "manifest.json").write_text(signature.manifest.replace("ef", "ee", 1))
    assert verify().returncode != 0
