"""The whole release journey, with a screenshot of every step. On the services tier it runs on
PostgreSQL and Redis with a real Celery worker process that recomputes levels and sends the
escalation email; on the embedded default, tasks run in-process and mail goes to the outbox."""

import http.client
import json
import re
import time
import urllib.parse

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from core import demo, tokens
from evaluations.demo import seed_models
from evaluations.models import ModelVersion
from governance.demo import seed_register
from releases.models import Decision, Release
from tests.browser.conftest import ARTIFACTS
from tests.conftest import services_enabled

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Worker:
    """Tasks on a real worker process; its console mail backend prints to its log."""

    def __init__(self, process):
        self.process = process

    def wait_for(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out; worker log:\n{self.process.log.read_text()[-4000:]}")

    def escalation_mail(self, notice):
        self.wait_for(lambda: notice in self.process.log.read_text())
        log = self.process.log.read_text()
        return re.findall(r"^To: (.*)$", log, re.MULTILINE)[-1].split(", "), log


class InProcess(Worker):
    """Tasks run in the server's thread as their transaction commits; mail in the outbox."""

    def __init__(self, outbox):
        self.outbox = outbox

    def wait_for(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)

    def escalation_mail(self, notice):
        self.wait_for(lambda: any(notice in m.body for m in self.outbox))
        mail = next(m for m in self.outbox if notice in m.body)
        assert mail.subject.startswith("Release blocked")
        return mail.to, mail.body


@pytest.fixture
def tasks(request):
    if services_enabled():
        return Worker(request.getfixturevalue("default_queue_worker"))
    request.getfixturevalue("eager_tasks")
    return InProcess(request.getfixturevalue("mailoutbox"))


@pytest.fixture
def demo_world(tmp_path, tasks):
    """The demo register and models, assessed before the journey starts."""
    passwords = demo.seed_people(password_file=tmp_path / "demo-passwords.json")
    people = get_user_model().objects.in_bulk(field_name="username")
    seed_register(lead=people["lead"], authorities=[people["authority"], people["authority2"]])
    seed_models(owner=people["owner"], lead=people["lead"])
    tasks.wait_for(
        lambda: (
            not ModelVersion.objects.filter(needs_recompute=True).exists()
            and ModelVersion.objects.get(label="orion-2.1").required_level == "ASL-3"
        )
    )
    pipeline = tokens.token_create(actor=people["owner"], user=people["owner"], name="ci").key
    return passwords, pipeline, tasks


class Journey:
    def __init__(self, page, passwords, live_url, pipeline):
        self.page, self.passwords, self.pipeline = page, passwords, pipeline
        self.server = urllib.parse.urlsplit(live_url)
        self.step = 0

    def sign_in(self, username):
        self.page.context.clear_cookies()
        self.page.goto("/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(self.passwords[username])
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", name="Dashboard")).to_be_visible()

    def shot(self, name):
        self.step += 1
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"release-journey-{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def api(self, method, path, body=None):
        """The pipeline's call: its token, over HTTP, to the live server."""
        connection = http.client.HTTPConnection(self.server.hostname, self.server.port, timeout=30)
        try:
            connection.request(
                method,
                path,
                body=json.dumps(body) if body is not None else None,
                headers={
                    "Authorization": f"Token {self.pipeline}",
                    "Content-Type": "application/json",
                },
            )
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    def gate(self, release):
        return self.api("GET", f"/api/v1/releases/{release.pk}/gate/")[1]

    def sign_with_password(self, button, username):
        self.page.get_by_label(f"Password to sign the {button}").fill(self.passwords[username])
        self.page.get_by_role("button", name=f"Sign {button}").click()
        expect(self.page.get_by_role("alert").filter(has_text="Decision signed")).to_be_visible()


def test_request_evidence_approval_escalation_pause_and_lift(page, live_server, demo_world):
    passwords, pipeline, tasks = demo_world
    journey = Journey(page, passwords, live_server.url, pipeline)

    # 1. The product owner requests a release of Orion 2.1 to general availability.
    journey.sign_in("owner")
    page.get_by_role("link", name="Releases", exact=True).click()
    page.get_by_role("link", name="Request a release").click()
    page.get_by_label("Model version").select_option("orion-2.1")
    page.get_by_label("Context").select_option("general_availability")
    page.get_by_label("Title").fill("Orion 2.1 general availability")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("alert").filter(has_text="Submitted")).to_be_visible()
    release = Release.objects.get(title="Orion 2.1 general availability")
    url = f"/releases/{release.pk}/"
    journey.shot("requested")

    # 2. The gate names the safeguards ASL-3 requires that are not verified.
    expect(page.get_by_test_id("gate-verdict")).to_have_text("denied")
    expect(page.get_by_test_id("gate-reasons")).to_contain_text("safeguards not verified")
    codes = [
        row.get_attribute("data-testid").removeprefix("safeguard-")
        for row in page.locator("[data-testid^=safeguard-]").all()
    ]
    assert "SEC-WEIGHTS" in codes and "DEP-CLASSIFIERS" in codes
    gate = journey.gate(release)
    assert gate["allowed"] is False and gate["required_level"] == "ASL-3"

    # 3. The owner records evidence for each: a report file for weight security.
    for code in codes:
        row = page.get_by_test_id(f"safeguard-{code}")
        row.get_by_label(f"Evidence for {code}").fill(f"{code} is in place: see the runbook.")
        if code == "SEC-WEIGHTS":
            row.get_by_label(f"File for {code}").set_input_files(
                {"name": "weights-pentest.pdf", "mimeType": "application/pdf", "buffer": PDF}
            )
        row.get_by_role("button", name="Record evidence").click()
        expect(
            page.get_by_role("alert").filter(has_text=f"Evidence for {code} recorded")
        ).to_be_visible()
    expect(page.get_by_test_id("evidence-file-SEC-WEIGHTS")).to_have_text("weights-pentest.pdf")
    journey.shot("evidence-recorded")

    # 4. The governance lead, not the owner, verifies each.
    journey.sign_in("lead")
    page.goto(url)
    for code in codes:
        page.get_by_role("button", name=f"Verify {code}").click()
        expect(page.get_by_role("alert").filter(has_text=f"{code} verified")).to_be_visible()
    expect(page.get_by_test_id("gate-reasons")).not_to_contain_text("safeguards not verified")
    journey.shot("safeguards-verified")

    # 5. Two authorities approve, each re-entering their password; the gate allows.
    for approver in ("authority", "authority2"):
        journey.sign_in(approver)
        page.goto(url)
        page.get_by_label("Password").fill(passwords[approver])
        page.get_by_role("button", name="Sign approval").click()
        expect(page.get_by_role("alert").filter(has_text="Approval signed")).to_be_visible()
    expect(page.get_by_test_id("gate-verdict")).to_have_text("may ship")
    assert journey.gate(release)["allowed"] is True
    journey.shot("approved-gate-allows")

    # The pipeline ships it and records the deployment.
    status, deployed = journey.api("POST", f"/api/v1/releases/{release.pk}/deployment/")
    assert (status, deployed["state"]) == (201, "deployed")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Deployed")
    journey.shot("deployed")

    # 6. A new evaluation result crosses CBRN-4; the worker raises the level to ASL-4.
    status, _ = journey.api(
        "POST",
        "/api/v1/evaluation-runs/",
        {
            "model_version": "orion-2.1",
            "evaluation": "bio_expert_protocol_probe",
            "run_id": "bio-expert-2026-11-27",
            "status": "success",
            "results": [{"metric": "model_graded_qa/accuracy", "value": 0.83}],
        },
    )
    assert status == 201
    tasks.wait_for(
        lambda: Release.objects.filter(pk=release.pk, blocked_since__isnull=False).exists()
    )

    # 7. The release is blocked, the authorities were emailed, the dashboard shows it.
    release.refresh_from_db()
    assert release.required_level == "ASL-4"
    assert release.state == "deployed"  # shipped, and now blocked: its gate denies
    assert not release.approvals.filter(assessment_sha256=release.assessment_sha256).exists()
    to, _ = tasks.escalation_mail("The required level of orion-2.1 rose from ASL-3 to ASL-4")
    assert to == ["authority2@example.org", "authority@example.org"]
    journey.sign_in("authority")
    expect(page.get_by_test_id("escalations")).to_contain_text("Orion 2.1 general availability")
    journey.shot("escalation-on-dashboard")
    page.goto(url)
    expect(page.get_by_test_id("gate-verdict")).to_have_text("denied")
    expect(page.get_by_test_id("gate-reasons")).to_contain_text("SEC-HARDENED")
    expect(page.get_by_test_id("gate")).to_contain_text("blocked for")
    journey.shot("blocked")

    # 8. The authority proposes and signs a pause of the whole model: the gate denies for it.
    page.get_by_text("Propose a pause or restriction").click()
    page.get_by_label("Kind").select_option("pause")
    page.get_by_label("Scope").select_option("model")
    page.get_by_label("Rationale").fill("CBRN-4 crossed: no deployment until ASL-4 is defined.")
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_role("alert").filter(has_text="Decision proposed")).to_be_visible()
    journey.sign_with_password("pause", "authority")
    expect(page.get_by_test_id("gate-reasons")).to_contain_text("paused by a decision on its model")
    gate = journey.gate(release)
    assert gate["allowed"] is False
    assert "paused by a decision on its model" in [r["message"] for r in gate["reasons"]]
    journey.shot("paused")

    # 9. The pause is lifted by signature; the gate no longer gives it as a reason.
    pause = Decision.objects.get(kind="pause")
    page.get_by_test_id(f"decision-{pause.pk}").get_by_text("Propose lifting it").click()
    page.get_by_label("Why lift it").fill("Superseded: the release stays blocked until ASL-4.")
    page.get_by_role("button", name="Propose lift").click()
    expect(page.get_by_role("alert").filter(has_text="Lift proposed")).to_be_visible()
    journey.sign_with_password("lift", "authority")
    expect(page.get_by_test_id("gate-reasons")).not_to_contain_text("paused")
    gate = journey.gate(release)
    assert not any("paused" in reason for reason in [r["message"] for r in gate["reasons"]])
    assert gate["allowed"] is False  # still blocked: ASL-4 safeguards are not in place
    pause.refresh_from_db()
    assert pause.state == "lifted"
    journey.shot("lifted")
