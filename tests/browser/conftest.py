"""Browser tests: Playwright for Python driving the distribution's Chromium (never a download)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

# The journey on the services tier runs the application's own tasks on a real worker.
from tests.services.conftest import default_queue_worker  # noqa: F401

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _viewport(request):
    marker = request.node.get_closest_marker("viewport")
    return marker.args[0] if marker else {"width": 1280, "height": 800}


@pytest.fixture
def page(browser, request, live_server):
    context = browser.new_context(viewport=_viewport(request), base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console_errors, broken_assets = [], []

    def on_console(message):
        # A refused form (400) is an expected answer; broken assets are caught below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            console_errors.append(message.text)

    def on_response(response):
        if response.status >= 400 and response.request.resource_type != "document":
            broken_assets.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[1])
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    # A script or style the CSP blocked, a script error, or a missing asset fails the test.
    assert console_errors == []
    assert broken_assets == []
