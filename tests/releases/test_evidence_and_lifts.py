import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core import signing
from core.models import AuditEvent
from releases import decisions, evidence, services
from releases.models import Decision, SafeguardStatus

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
RATIONALE = "Red-team found a working jailbreak for the bio classifier."


@pytest.fixture
def release(owner, orion_21):
    release = services.release_create(
        actor=owner, model_version=orion_21, context="api", title="API"
    )
    return services.release_submit(actor=owner, release=release)


def _upload(client, release, code, name, data, **fields):
    return client.post(
        f"/releases/{release.pk}/safeguards/{code}/implement/",
        {"text": "", **fields, "file": SimpleUploadedFile(name, data)},
        follow=True,
    )


def test_an_evidence_file_is_stored_by_hash_and_bound_into_the_evidence_hash(
    client, owner, lead, release
):
    client.force_login(owner)
    response = _upload(client, release, "SEC-WEIGHTS", "pentest.pdf", PDF, text="Pen test report")
    assert "Evidence for SEC-WEIGHTS recorded." in response.content.decode()
    row = SafeguardStatus.objects.get(code="SEC-WEIGHTS")
    digest = hashlib.sha256(PDF).hexdigest()
    assert (row.evidence_file.name, row.evidence_file_sha256) == (f"evidence/{digest}", digest)
    assert (row.evidence_file_name, row.evidence_file_size) == ("pentest.pdf", len(PDF))
    assert row.evidence_file_type == "application/pdf"
    assert row.evidence_sha256 == evidence.evidence_sha256("Pen test report", "", digest)
    event = AuditEvent.objects.filter(action="releases.safeguard.implemented").latest("seq")
    assert event.after["file"] == {"name": "pentest.pdf", "sha256": digest, "size": len(PDF)}
    # The approver's manifest carries the hash that binds the file.
    release.refresh_from_db()
    shown = {s["code"]: s for s in services.assessment.build(release).data["safeguards"]}
    assert shown["SEC-WEIGHTS"]["evidence_sha256"] == row.evidence_sha256

    client.force_login(lead)  # a verifier downloads exactly the bytes that were uploaded
    download = client.get(f"/releases/{release.pk}/safeguards/SEC-WEIGHTS/evidence/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"] == 'attachment; filename="pentest.pdf"'
    assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert download["X-Evidence-SHA256"] == digest


def test_the_same_file_twice_is_stored_once(client, owner, release):
    client.force_login(owner)
    _upload(client, release, "SEC-WEIGHTS", "a.pdf", PDF)
    _upload(client, release, "SEC-INSIDER", "b.pdf", PDF)
    names = set(SafeguardStatus.objects.values_list("evidence_file", flat=True))
    assert names == {f"evidence/{hashlib.sha256(PDF).hexdigest()}"}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", "tool.exe is not a type we accept as evidence"),
        ("report.pdf", b"<html><script>alert(1)</script>", "does not contain what a .pdf"),
        ("notes.txt", b"binary\x00data", "does not contain what a .txt"),
        ("results.json", b"{not json", "does not contain what a .json"),
        ("empty.md", b"", "The submitted file is empty."),
    ],
)
def test_a_refused_file_says_why_and_writes_nothing(client, owner, release, name, data, message):
    client.force_login(owner)
    events = AuditEvent.objects.count()
    response = _upload(client, release, "SEC-WEIGHTS", name, data, text="see file")
    assert message in response.content.decode()
    assert not SafeguardStatus.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_file_over_the_limit_is_refused(client, owner, release, settings):
    settings.EVIDENCE_MAX_BYTES = 64
    client.force_login(owner)
    response = _upload(client, release, "SEC-WEIGHTS", "big.pdf", PDF)
    assert "big.pdf is larger than 64\xa0bytes." in response.content.decode()
    assert not SafeguardStatus.objects.exists()

    settings.EVIDENCE_MAX_BYTES = 1
    huge = _upload(client, release, "SEC-WEIGHTS", "huge.pdf", PDF + b" " * (1024 * 1024 + 1))
    assert huge.status_code == 413
    assert not SafeguardStatus.objects.exists()


def test_evidence_files_are_not_served_to_those_who_cannot_see_the_release(
    client, owner, outsider, auditor, release
):
    client.force_login(owner)
    _upload(client, release, "SEC-WEIGHTS", "pentest.pdf", PDF)
    url = f"/releases/{release.pk}/safeguards/SEC-WEIGHTS/evidence/"
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(auditor)
    assert client.get(url).status_code == 200
    assert client.get(f"/releases/{release.pk}/safeguards/SEC-INSIDER/evidence/").status_code == 404


def _sign(client, person, release, decision):
    client.force_login(person)
    return client.post(
        f"/releases/{release.pk}/decisions/{decision.pk}/sign/",
        {"password": "correct-horse-battery-staple"},
        follow=True,
    )


def test_a_model_wide_pause_is_signed_and_lifted_from_a_release_page(
    client, authority, authority2, owner, release
):
    client.force_login(authority)
    client.post(
        f"/releases/{release.pk}/decisions/",
        {"kind": "pause", "scope": "model", "rationale": RATIONALE},
    )
    pause = Decision.objects.get(kind="pause")
    assert pause.model == release.model_version.model
    page = client.get(f"/releases/{release.pk}/").content.decode()
    assert "proposed (0 of 2 signatures)" in page  # a model-wide proposal shows on the release
    _sign(client, authority, release, pause)
    response = _sign(client, authority2, release, pause)
    assert "Sign pause" not in response.content.decode()
    release.refresh_from_db()
    assert "paused by a decision on its model" in release.gate_messages
    timeline = client.get(f"/releases/{release.pk}/").context["timeline"]
    assert [e.action for e in timeline[:2]] == [
        "releases.decision.in_effect",  # filed under the model-wide decision, shown here too
        "releases.decision.signed",
    ]

    client.force_login(owner)  # an owner holds no power to lift
    assert (
        client.post(
            f"/releases/{release.pk}/decisions/{pause.pk}/lift/", {"rationale": RATIONALE}
        ).status_code
        == 403
    )
    client.force_login(authority)
    short = client.post(
        f"/releases/{release.pk}/decisions/{pause.pk}/lift/", {"rationale": "ok"}, follow=True
    )
    assert "rationale of 20 characters" in short.content.decode()
    client.post(f"/releases/{release.pk}/decisions/{pause.pk}/lift/", {"rationale": RATIONALE})
    lift = Decision.objects.get(kind="lift")
    assert (lift.lifts, lift.model) == (pause, pause.model)
    _sign(client, authority, release, lift)
    release.refresh_from_db()
    assert "paused by a decision on its model" in release.gate_messages  # one of two signatures
    _sign(client, authority2, release, lift)
    pause.refresh_from_db()
    release.refresh_from_db()
    assert pause.state == "lifted"
    assert not any("paused" in reason for reason in release.gate_messages)


def test_a_lift_is_scoped_like_the_decision_it_lifts(authority, authority2, release):
    pause = decisions.decision_propose(
        actor=authority, kind="pause", target=release.model_version, rationale=RATIONALE
    )
    for person in (authority, authority2):
        decisions.decision_sign(
            actor=person, decision=pause, reauth=signing.demo_reauthentication(person)
        )
    with pytest.raises(services.ReleaseError, match="scoped like the decision it lifts"):
        decisions.decision_propose(
            actor=authority, kind="lift", target=release, rationale=RATIONALE, lifts=pause
        )


def test_a_lift_of_a_decision_on_another_release_is_404(client, authority, owner, release):
    other = services.release_create(
        actor=owner, model_version=release.model_version, context="internal", title="Internal"
    )
    pause = decisions.decision_propose(
        actor=authority, kind="pause", target=other, rationale=RATIONALE
    )
    client.force_login(authority)
    response = client.post(
        f"/releases/{release.pk}/decisions/{pause.pk}/lift/", {"rationale": RATIONALE}
    )
    assert response.status_code == 404
