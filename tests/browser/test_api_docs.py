import pytest
from playwright.sync_api import expect

from core import demo

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_documentation_renders_from_the_app_itself(page, tmp_path):
    passwords = demo.seed_people(password_file=tmp_path / "demo-passwords.json")
    page.goto("/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(passwords["owner"])
    page.get_by_role("button", name="Sign in").click()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/api/v1/docs/")
    expect(page.get_by_text("Scaling governance API")).to_be_visible()
    expect(page.get_by_text("/api/v1/evaluation-runs/").first).to_be_visible()
    base = page.url.split("/api/")[0]
    assert all(url.startswith(base) for url in requests), "everything is served by the app"
