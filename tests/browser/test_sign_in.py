import pytest
from playwright.sync_api import expect

from core import demo
from core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_logins(tmp_path):
    return demo.seed_people(password_file=tmp_path / "demo-passwords.json")


def _sign_in(page, username, password):
    page.goto("/")
    expect(page).to_have_url("/login/?next=/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize(
    ("username", "role_text", "nav"),
    [
        (
            "lead",
            "Governance lead.",
            [
                "Dashboard",
                "Register",
                "Models",
                "Releases",
                "Obligations",
                "Audit trail",
                "API tokens",
            ],
        ),
        ("owner", "Product owner.", ["Dashboard", "Register", "Models", "Releases", "API tokens"]),
        (
            "authority",
            "Designated authority.",
            ["Dashboard", "Register", "Models", "Releases", "API tokens"],
        ),
        (
            "authority2",
            "Designated authority.",
            ["Dashboard", "Register", "Models", "Releases", "API tokens"],
        ),
        (
            "auditor",
            "Auditor.",
            [
                "Dashboard",
                "Register",
                "Models",
                "Releases",
                "Obligations",
                "Audit trail",
                "API tokens",
            ],
        ),
        (
            "admin",
            "Administrator:",
            [
                "Dashboard",
                "Register",
                "Models",
                "Releases",
                "Obligations",
                "Audit trail",
                "API tokens",
                "Admin console",
            ],
        ),
    ],
)
def test_each_demo_role_signs_in_sees_its_dashboard_and_signs_out(
    page, demo_logins, username, role_text, nav
):
    _sign_in(page, username, demo_logins[username])
    expect(page).to_have_url("/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_test_id("role").first).to_contain_text(role_text)
    expect(page.get_by_role("navigation", name="Main navigation").get_by_role("link")).to_have_text(
        ["Scaling governance", *nav]
    )
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/login/")
    assert AuditEvent.objects.filter(action="core.session.logout", actor_label=username).exists()
    page.goto("/")
    expect(page).to_have_url("/login/?next=/")


def test_a_failed_sign_in_shows_an_error(page, demo_logins):
    _sign_in(page, "owner", "not-the-password")
    expect(page.get_by_test_id("login-error")).to_contain_text("correct username and password")
    expect(page).to_have_url("/login/?next=/")


def test_an_auditor_follows_the_dashboard_into_the_audit_trail(page, demo_logins):
    _sign_in(page, "auditor", demo_logins["auditor"])
    page.get_by_role("link", name="Open the audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    first_row = page.locator("tbody tr").first
    expect(first_row).to_contain_text("core.session.login")
    first_row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="core.session.login")).to_be_visible()


@pytest.mark.viewport({"width": 390, "height": 844})
def test_the_shell_works_on_a_phone(page, demo_logins):
    _sign_in(page, "lead", demo_logins["lead"])
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()
    page.get_by_role("button", name="Toggle navigation").click()
    expect(sign_out).to_be_visible()
    expect(page.get_by_role("link", name="Audit trail", exact=True)).to_be_visible()
