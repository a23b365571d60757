"""Content-Security-Policy: every page carries one that allows only the app's own scripts, and
no template relies on what that policy forbids (inline scripts, event-handler attributes,
inline styles)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.core.test_permission_matrix import MATRIX, World

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path for path in (ROOT / "templates").rglob("*") if path.suffix in (".html", ".txt")
)
# Swagger UI sets inline styles; its page alone allows them (config/api_urls.py). Scripts are
# restricted there as everywhere.
INLINE_STYLES_ALLOWED = {"api:docs"}
UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:")


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def effective(policy: dict[str, list[str]], directive: str) -> list[str]:
    return policy.get(directive, policy.get("default-src", []))


def assert_strict(header: str, *, inline_styles: bool = False) -> None:
    policy = directives(header)
    scripts = effective(policy, "script-src")
    assert scripts, f"no script-src nor default-src in {header!r}"
    assert not set(scripts) & set(UNSAFE), header
    assert not any(source.startswith("'nonce-") for source in scripts), header
    if not inline_styles:
        assert "'unsafe-inline'" not in effective(policy, "style-src"), header
    assert effective(policy, "object-src") == ["'none'"], header
    assert policy.get("frame-ancestors") in (["'none'"], None), header
    if "sandbox" not in policy:
        assert policy.get("base-uri") == ["'self'"], header


def test_the_checker_refuses_lax_policies():
    strict = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'"
    assert_strict(strict)
    for lax in (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'none'",
        "default-src 'self'; script-src 'self' 'unsafe-eval'; object-src 'none'",
        "default-src *; object-src 'none'",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'",
        "script-src 'self'",
    ):
        with pytest.raises(AssertionError):
            assert_strict(lax)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_page_carries_a_strict_policy(name, client, superuser):
    """As a superuser every page opens; a page that only takes POST answers 405, which must
    carry the policy too."""
    client.force_login(superuser)
    response = client.get(reverse(name, kwargs=MATRIX[name].kwargs(World())))
    assert response.status_code in (200, 302, 405, 503), response.status_code
    assert_strict(response["Content-Security-Policy"], inline_styles=name in INLINE_STYLES_ALLOWED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/login/", "/password-reset/", "/no/such/page/", "/admin/login/", "/healthz"]
)
def test_pages_for_anonymous_visitors_carry_it_too(url, client):
    response = client.get(url)
    assert_strict(response["Content-Security-Policy"])


@pytest.mark.django_db
def test_the_evidence_download_is_sandboxed(client, superuser):
    client.force_login(superuser)
    url = reverse("releases:evidence", kwargs=World().release_evidence())
    response = client.get(url)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"] and "sandbox" in policy
    assert response["Content-Disposition"].startswith("attachment")


# --- The templates ----------------------------------------------------------------------------

TAG = re.compile(r"<[a-zA-Z][^<>]*>", re.DOTALL)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)
PROBLEMS = {
    "an on* event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "a style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an hx-on handler (needs eval)": re.compile(r"\shx-on", re.IGNORECASE),
    "a javascript: URL": re.compile(r"=\s*[\"']?\s*javascript:", re.IGNORECASE),
}


def problems_in(text: str) -> list[str]:
    found = []
    for match in SCRIPT.finditer(text):
        attributes, body = match.groups()
        if body.strip():
            found.append(f"an inline script: {body.strip()[:40]!r}")
        if "src=" not in attributes:
            found.append("a script without src")
    if re.search(r"<style\b", text, re.IGNORECASE):
        found.append("a <style> element")
    for tag in TAG.findall(text):
        found += [f"{what}: {tag[:60]!r}" for what, rule in PROBLEMS.items() if rule.search(tag)]
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<script nonce="{{ request.csp_nonce }}">go()</script>',
        "<script></script>",
        '<button onclick="go()">',
        '<a href="#"\n   onMouseOver="go()">',
        '<div class="x" style="color: red">',
        "<style>p { color: red }</style>",
        '<div hx-on::after-request="go()">',
        '<a href="javascript:go()">',
    ],
)
def test_the_template_check_finds_what_the_policy_forbids(snippet):
    assert problems_in(f"<p>before</p>{snippet}<p>after</p>")


def test_the_template_check_passes_what_the_policy_allows():
    allowed = (
        "<script src=\"{% static 'app.js' %}\" defer></script>"
        '<a href="/x" data-on="1" class="one-style">Go on=now</a><p>style= is text here</p>'
    )
    assert problems_in(allowed) == []


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 30
    assert ROOT / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_relies_on_what_the_policy_forbids(path):
    assert problems_in(path.read_text()) == []
