import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from core import demo
from evaluations.demo import seed_models
from governance.demo import seed_register
from releases.demo import seed_releases
from releases.models import Release

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(tmp_path, eager_tasks):
    passwords = demo.seed_people(password_file=tmp_path / "demo-passwords.json")
    people = get_user_model().objects.in_bulk(field_name="username")
    seed_register(lead=people["lead"], authorities=[people["authority"], people["authority2"]])
    seed_models(owner=people["owner"], lead=people["lead"])
    release = seed_releases(owner=people["owner"])
    return passwords, release


def _as(page, username, password):
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_evidence_verification_and_two_signed_approvals_open_the_gate(page, world):
    passwords, release = world
    url = f"/releases/{release.pk}/"
    _as(page, "owner", passwords["owner"])
    page.goto(url)
    expect(page.get_by_test_id("gate-verdict")).to_have_text("denied")
    expect(page.get_by_test_id("gate-reasons")).to_contain_text("safeguards not verified")
    codes = [
        row.get_attribute("data-testid").removeprefix("safeguard-")
        for row in page.locator("[data-testid^=safeguard-]").all()
    ]
    assert codes
    for code in codes:
        row = page.get_by_test_id(f"safeguard-{code}")
        row.get_by_label(f"Evidence for {code}").fill(f"{code}: control in place, see the runbook")
        row.get_by_role("button", name="Record evidence").click()
        expect(
            page.get_by_role("alert").filter(has_text=f"Evidence for {code} recorded")
        ).to_be_visible()

    _as(page, "lead", passwords["lead"])
    page.goto(url)
    for code in codes:
        page.get_by_role("button", name=f"Verify {code}").click()
        expect(page.get_by_role("alert").filter(has_text=f"{code} verified")).to_be_visible()
    expect(page.get_by_test_id("gate-reasons")).not_to_contain_text("safeguards not verified")

    for approver in ("authority", "authority2"):
        _as(page, approver, passwords[approver])
        page.goto(url)
        page.get_by_label("Password").fill(passwords[approver])
        page.get_by_role("button", name="Sign approval").click()
        expect(page.get_by_role("alert").filter(has_text="Approval signed")).to_be_visible()

    expect(page.get_by_test_id("gate-verdict")).to_have_text("may ship")
    release.refresh_from_db()
    assert (release.state, release.gate_allowed) == ("approved", True)
    assert Release.objects.get(pk=release.pk).approvals.count() == 2
