import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from core import demo
from governance import content
from governance.demo import seed_register
from governance.models import PolicyVersion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_world(tmp_path):
    passwords = demo.seed_people(password_file=tmp_path / "demo-passwords.json")
    people = get_user_model().objects.in_bulk(field_name="username")
    seed_register(lead=people["lead"], authorities=[people["authority"], people["authority2"]])
    return passwords


def _sign_in(page, username, password):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_a_lead_drafts_from_the_template_fixes_an_error_and_publishes(page, demo_world):
    _sign_in(page, "lead", demo_world["lead"])
    page.get_by_role("link", name="Register", exact=True).click()
    page.get_by_role("link", name="Import or load a template").click()
    page.get_by_test_id("load-rsp").click()
    expect(page.get_by_role("heading", name="Version 2")).to_be_visible()
    expect(page.get_by_test_id("undefined-levels")).to_contain_text("ASL-4")

    threshold = page.get_by_test_id("threshold-CBRN-3")
    threshold.get_by_test_id("edit-condition-bio_uplift_probe").click()
    editor = page.locator("#editor-thresholds form")
    expect(editor).to_be_visible()
    editor.get_by_label("Alert value").fill("0.7")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_contain_text("must be below the threshold value 0.5")

    editor.get_by_label("Alert value").fill("0.45")
    editor.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="Saved trigger condition")).to_be_visible()
    expect(page.get_by_test_id("threshold-CBRN-3")).to_contain_text("(alert at 0.45)")

    page.get_by_role("link", name="Sign to publish").click()
    expect(page.get_by_test_id("meaning")).to_contain_text("I publish this policy version")
    page.get_by_label("Password").fill("not my password")
    page.get_by_label("I have read the content I am signing.").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("That password is not correct. Nothing was signed.")).to_be_visible()
    page.get_by_label("Password").fill(demo_world["lead"])
    page.get_by_label("I have read the content I am signing.").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Version 2 is now in force")).to_be_visible()

    page.get_by_role("link", name="Responsible Scaling Policy (template)").first.click()
    expect(page.get_by_test_id("in-force")).to_contain_text("version 2")
    expect(page.get_by_test_id("commitment").first).to_be_visible()
    version = PolicyVersion.objects.get(number=2)
    assert version.state == "published"
    condition = version.thresholds.get(code="CBRN-3").conditions.get(
        evaluation_key="bio_uplift_probe"
    )
    assert condition.alert_value == 0.45


def test_a_product_owner_reads_the_register_but_cannot_edit_it(page, demo_world):
    lead = get_user_model().objects.get(username="lead")
    from governance import services

    draft = services.draft_start(actor=lead, policy=PolicyVersion.objects.get().policy)
    before = content.content_sha256(content.version_content(content.load_version(draft.pk)))

    _sign_in(page, "owner", demo_world["owner"])
    page.get_by_role("link", name="Register", exact=True).click()
    page.get_by_role("link", name="Responsible Scaling Policy (template)").click()
    expect(page.get_by_test_id("commitment").first).to_contain_text("If a model reaches")
    expect(page.get_by_role("button", name="Start a new draft")).to_have_count(0)
    page.goto(f"/register/rsp-template/v{draft.number}/")
    expect(page.get_by_role("heading", name=f"Version {draft.number}")).to_be_visible()
    for name in ("Edit", "Remove", "Add a level", "Sign to publish", "Settings"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)

    level = draft.levels.order_by("rank").first()
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"/register/rsp-template/v{draft.number}/level/{level.pk}/edit/",
        form={"rank": "1", "code": "HACKED", "name": "x", "approval_quorum": "1"},
        headers={"X-CSRFToken": token, "Referer": page.url},
    )
    assert response.status == 403
    after = content.content_sha256(content.version_content(content.load_version(draft.pk)))
    assert after == before
