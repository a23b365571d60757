"""An auditor follows a release's history to a signed approval, downloads the bundle, and
verifies it with the bundle's own verifier: it passes, and fails naming an altered event."""

import json
import subprocess
import sys
import zipfile

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from core import audit, checkpoints, demo, signing
from evaluations.demo import seed_models
from governance.demo import seed_register
from releases import services
from releases.demo import seed_releases
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def approved_release(tmp_path, eager_tasks):
    passwords = demo.seed_people(password_file=tmp_path / "demo-passwords.json")
    people = get_user_model().objects.in_bulk(field_name="username")
    seed_register(lead=people["lead"], authorities=[people["authority"], people["authority2"]])
    seed_models(owner=people["owner"], lead=people["lead"])
    release = seed_releases(owner=people["owner"])
    for spec in services.assessment.required_safeguards(release):
        services.safeguard_implement(
            actor=people["owner"], release=release, code=spec["code"], text="in place"
        )
        services.safeguard_verify(actor=people["lead"], release=release, code=spec["code"])
    for name in ("authority", "authority2"):
        release.refresh_from_db()
        services.release_approve(
            actor=people[name],
            release=release,
            reauth=signing.demo_reauthentication(people[name]),
            seen_sha256=release.assessment_sha256,
        )
    checkpoints.checkpoint_create(verified=audit.verify_chain())
    release.refresh_from_db()
    return passwords, release


def _verify(folder):
    done = subprocess.run(
        [sys.executable, "-I", str(folder / "verify_bundle.py"), str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout


def test_an_auditor_follows_a_release_to_its_signatures_and_verifies_the_bundle(
    page, approved_release, tmp_path
):
    passwords, release = approved_release
    page.goto("/login/")
    page.get_by_label("Username").fill("auditor")
    page.get_by_label("Password").fill(passwords["auditor"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Audit trail", exact=True).click()

    page.get_by_label("Release").fill(str(release.pk))
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="releases.approval.signed").first).to_be_visible()
    row = page.get_by_role("row").filter(has_text="core.signature.created").first
    row.get_by_role("link").click()
    page.get_by_test_id("signature-link").click()
    expect(page.get_by_test_id("authentic")).to_contain_text("verifies")
    expect(page.get_by_test_id("current")).to_contain_text("current")
    expect(page.get_by_test_id("manifest")).to_contain_text(release.assessment_sha256)
    expect(page.get_by_test_id("manifest")).to_contain_text("I approve this release as assessed")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "auditor-signed-manifest.png"), full_page=True)

    page.go_back()
    page.go_back()
    with page.expect_download() as download:
        page.get_by_test_id("download-bundle").click()
    archive = tmp_path / download.value.suggested_filename
    download.value.save_as(archive)
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(tmp_path / "bundle")
    (folder,) = (tmp_path / "bundle").iterdir()

    status, output = _verify(folder)
    assert status == 0, output
    assert output.startswith("OK ") and "2 signatures verified" in output

    events = folder / "events.jsonl"
    data = bytearray(events.read_bytes())
    first_line = bytes(data).split(b"\n", 1)[0]
    seq = json.loads(first_line)["seq"]
    at = first_line.index(b'"action":"') + len(b'"action":"')
    data[at] ^= 0x01  # one bit of one byte of the first event
    events.write_bytes(bytes(data))
    status, output = _verify(folder)
    assert status == 1
    assert f"FAIL event seq {seq} (events.jsonl line 1) has been altered" in output
