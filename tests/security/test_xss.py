"""Stored and reflected XSS: every free text people can write holds a payload, written through
the app's own services and forms, and every page that shows it shows it escaped.

Each field gets its own marker (``xss012x``) in front of the payload, so the test also proves
that each field is really shown somewhere (a payload nobody renders proves nothing). Pages
that are not HTML (JSON, YAML, CSV, downloads) may carry the text as it is, provided no browser
can take them for HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core import roles, signing, tokens
from core import services as core_services
from core.models import AuditEvent, Signature
from evaluations import ingestion, overrides, recompute
from evaluations import services as evaluation_services
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import ImportJob
from governance import content, publishing, services
from governance.models import (
    CapabilityThreshold,
    PauseAuthority,
    RiskDomain,
    Safeguard,
    SafetyLevel,
    TriggerCondition,
)
from releases import decisions
from releases import services as release_services
from releases.models import Decision, SafeguardStatus
from tests.conftest import PASSWORD, make_person
from tests.core.test_permission_matrix import MATRIX

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "<svg onload=alert(1)>"
# What an unescaped payload leaves in a page.
RAW = (SCRIPT, "<img src=x onerror", SVG)
SCRIPT_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)
HTML_TYPES = ("text/html", "application/xhtml", "image/svg", "text/xml", "application/xml")
# Stored, but no page shows them (the API and the audit bundle carry them as data).
NOT_SHOWN = {"run harness", "run harness version"}


@dataclass
class Payloads:
    """Hands out one marked payload per field, as long as the field can hold."""

    markers: dict[str, str] = field(default_factory=dict)

    def __call__(self, name: str, limit: int = 200, *, file_name: bool = False) -> str:
        marker = f"xss{len(self.markers):03d}x"
        self.markers[name] = marker
        for body in (f"{SCRIPT}{IMG}", IMG, SCRIPT, SVG):
            # An uploaded file's name keeps what follows its last slash only.
            if len(marker + body) <= limit and not (file_name and "/" in body):
                return marker + body
        raise ValueError(f"{name}: {limit} characters hold no payload")


def _yaml_with_payloads(text: Payloads, authorities: list[str]) -> str:
    data = yaml.safe_load(services.template_text("rsp"))
    data["policy"] = {"name": text("policy name"), "slug": "xss-policy"}
    data["version"]["label"] = text("version label", 50)
    data["version"]["changelog"] = text("version changelog", 2000)
    data["version"]["signing_quorum"] = 1
    for level in data["levels"]:
        level["name"] = text(f"level {level['code']} name", 100)
        level["capability_bar"] = text(f"level {level['code']} capability bar", 2000)
    for domain in data["domains"]:
        domain["name"] = text(f"domain {domain['code']} name", 100)
        domain["description"] = text(f"domain {domain['code']} description", 2000)
    for threshold in data["thresholds"]:
        threshold["description"] = text(f"threshold {threshold['code']} description", 2000)
    for safeguard in data["safeguards"]:
        safeguard["name"] = text(f"safeguard {safeguard['code']} name", 150)
        safeguard["description"] = text(f"safeguard {safeguard['code']} description", 2000)
        safeguard["evidence_required"] = text(f"safeguard {safeguard['code']} evidence", 2000)
    data["authorities"] = [
        {"username": username, "scope": "all", "valid_from": "2026-01-01",
         "powers": ["pause", "restrict", "lift", "approve"]}
        for username in authorities
    ]  # fmt: skip
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _register(text: Payloads, people: dict[str, Any]) -> dict[str, Any]:
    """The register, imported from YAML full of payloads, published by Xena (whose own name is
    a payload), then a new draft edited through the web forms."""
    xena = people["xena"]
    source = _yaml_with_payloads(text, ["ada", "bo", "xena"])
    published = services.policy_import(actor=xena, text=source)
    publishing.version_sign(
        actor=xena, version=published, reauth=signing.demo_reauthentication(xena)
    )
    published.refresh_from_db()
    assert published.state == "published"
    draft = services.draft_start(actor=xena, policy=published.policy)
    web = _signed_in(xena)
    slug, number = draft.policy.slug, draft.number
    settings_url = reverse("governance:version-settings", args=[slug, number])
    response = web.post(settings_url, {
        "label": text("draft label (form)", 50),
        "changelog": text("draft changelog (form)", 2000),
        "reevaluation_interval_days": 90,
        "baseline_level": draft.baseline_level_id,
        "signing_quorum": 1,
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    level = draft.levels.order_by("rank").first()
    edit_url = reverse("governance:item-edit", args=[slug, number, "level", level.pk])
    response = web.post(edit_url, {
        "rank": level.rank, "code": level.code, "name": text("level name (form)", 100),
        "capability_bar": text("capability bar (form)", 2000), "defined": "on",
        "approval_quorum": level.approval_quorum,
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    return {"published": published, "draft": draft}


def _evaluations(text: Payloads, people: dict[str, Any], published) -> dict[str, Any]:
    xena, owner = people["xena"], people["owner"]
    data = content.version_content(content.load_version(published.pk))
    metrics: dict[str, dict[str, float]] = {}
    for threshold in data["thresholds"]:
        for condition in threshold["conditions"]:
            safe = 0.0 if condition["comparator"] in (">=", ">") else 1e6
            metrics.setdefault(condition["evaluation"], {})[condition["metric"]] = safe
    for key in metrics:
        evaluation_services.evaluation_create(
            actor=xena, key=key, name=text(f"evaluation {key} name"),
            domain=text(f"evaluation {key} domain", 30),
            harness=text(f"evaluation {key} harness", 50),
            description=text(f"evaluation {key} description", 2000),
        )  # fmt: skip
    model = evaluation_services.model_create(
        actor=owner, slug="orion", name=text("model name"), family=text("model family", 100)
    )
    version = evaluation_services.model_version_create(actor=owner, model=model, label="orion-2.1")
    metrics["bio_uplift_probe"]["includes/accuracy"] = 0.65
    now = datetime.now(UTC)
    runs = [
        RunInput(model_version="orion-2.1", evaluation=key, run_id=f"r-{key}", status="success",
                 completed_at=now, results=tuple(ResultInput(m, v) for m, v in values.items()))
        for key, values in metrics.items()
    ]  # fmt: skip
    # What a harness pushes is free text too: its run id, its name and version, metric names.
    runs.append(RunInput(
        model_version="orion-2.1", evaluation="bio_uplift_probe", run_id=text("run id"),
        status="success", completed_at=now, harness=text("run harness", 50),
        harness_version=text("run harness version", 50),
        results=(ResultInput(text("metric name", 100), 0.1),),
    ))  # fmt: skip
    ingestion.ingest_runs(actor=owner, runs=runs, source="api")
    recompute.recompute(version.pk)
    version.refresh_from_db()
    threshold = data["thresholds"][0]["code"]
    overrides.override_record(
        actor=xena, version=version, threshold=threshold, outcome="crossed",
        rationale=text("override rationale", 2000), reauth=signing.demo_reauthentication(xena),
    )  # fmt: skip
    return {"model": model, "version": version, "evaluations": sorted(metrics)}


def _import_job(text: Payloads, people: dict[str, Any], on_commit) -> ImportJob:
    """A CSV log uploaded through the web form under a payload name, naming an evaluation
    nobody registered (the error message repeats it)."""
    web = _signed_in(people["owner"])
    header = "model_version,evaluation,run_id,status,metric,value,stderr,samples,completed_at\n"
    row = f"orion-2.1,{text('csv evaluation key', 100).replace(',', ' ')},r-1,success,acc,0.5,,,\n"
    upload = SimpleUploadedFile(
        f"{text('import file name', 200, file_name=True)}.csv", (header + row).encode(), "text/csv"
    )
    with on_commit(execute=True):  # the import runs in-process once the upload commits
        response = web.post(
            reverse("evaluations:import-new"), {"file": upload, "model_version": "orion-2.1"}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get()
    assert job.state == "failed", (job.state, job.errors)
    return job


def _releases(text: Payloads, people: dict[str, Any], version) -> dict[str, Any]:
    xena, owner, authority = people["xena"], people["owner"], people["authority"]
    release = release_services.release_create(
        actor=owner, model_version=version, context="api", title=text("release title")
    )
    release = release_services.release_submit(actor=owner, release=release)
    code = Safeguard.objects.filter(version=version.assessed_policy).order_by("pk").first().code
    web = _signed_in(owner)
    link = f"https://example.org/{text('evidence link', 400)}".replace(" ", "%20")
    upload = SimpleUploadedFile(
        f"{text('evidence file name', 150, file_name=True)}.txt",
        b"The access policy, version 3.",
        "text/plain",
    )
    response = web.post(
        reverse("releases:implement", args=[release.pk, code]),
        {"text": text("evidence text", 2000), "link": link, "file": upload},
    )
    assert response.status_code == 302
    row = SafeguardStatus.objects.get(code=code)
    assert row.evidence_text.startswith(text.markers["evidence text"])
    assert row.evidence_link == link and row.evidence_file_name.endswith(".txt")
    release_services.safeguard_verify(actor=xena, release=release, code=code)
    pause = decisions.decision_propose(
        actor=xena, kind="pause", target=release, rationale=text("decision rationale", 2000)
    )
    decisions.decision_sign(
        actor=authority, decision=pause, reauth=signing.demo_reauthentication(authority)
    )
    pause.refresh_from_db()
    assert pause.state == Decision.State.IN_EFFECT, pause.state
    lift = decisions.decision_propose(
        actor=xena, kind="lift", target=release, lifts=pause,
        rationale=text("lift rationale", 2000),
    )  # fmt: skip
    return {"release": release, "code": code, "pause": pause, "lift": lift}


@pytest.fixture
def stored(
    eager_tasks, owner, authority, superuser, settings, tmp_path,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    """Every free text of the app holding a marked payload."""
    settings.MEDIA_ROOT = tmp_path / "media"
    text = Payloads()
    xena = core_services.user_create(
        actor="system:tests", username="xena", email="xena@example.org",
        first_name=text("person first name", 150), last_name=text("person last name", 150),
        password=PASSWORD, roles=[roles.GOVERNANCE_LEAD, roles.AUTHORITY],
    )  # fmt: skip
    people = {
        "xena": xena,
        "owner": owner,
        "authority": authority,
        "authority2": make_person("bo", roles.AUTHORITY),
        "superuser": superuser,
    }
    world: dict[str, Any] = {"text": text, "people": people}
    world.update(_register(text, people))
    world.update(_evaluations(text, people, world["published"]))
    world["job"] = _import_job(text, people, django_capture_on_commit_callbacks)
    world.update(_releases(text, people, world["version"]))
    tokens.token_create(actor=superuser, user=superuser, name=text("api token name", 100))
    return world


def _draft_items(draft) -> list[tuple[str, int]]:
    kinds = [
        ("level", SafetyLevel.objects.filter(version=draft)),
        ("domain", RiskDomain.objects.filter(version=draft)),
        ("threshold", CapabilityThreshold.objects.filter(version=draft)),
        ("condition", TriggerCondition.objects.filter(threshold__version=draft)),
        ("safeguard", Safeguard.objects.filter(version=draft)),
        ("authority", PauseAuthority.objects.filter(version=draft)),
    ]
    return [(kind, pk) for kind, items in kinds for pk in items.values_list("pk", flat=True)]


def pages(world: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every GET page of the matrix, with each object of the world that it can show."""
    published, draft = world["published"], world["draft"]
    release, job, version = world["release"], world["job"], world["version"]
    slug = published.policy.slug
    versions = [{"slug": slug, "number": v.number} for v in (published, draft)]
    signatures = Signature.objects.values_list("pk", flat=True)
    register_signature = Signature.objects.get(object_type="governance.policyversion").pk
    found: list[tuple[str, dict[str, Any]]] = [
        (name, {})
        for name in (
            "dashboard", "api-tokens", "governance:index", "governance:policy-new",
            "governance:import", "evaluations:index", "evaluations:model-new",
            "evaluations:evaluations", "evaluations:evaluation-new", "evaluations:import-new",
            "releases:index", "releases:release-new", "oversight:audit-list",
            "oversight:audit-csv", "oversight:audit-export", "oversight:register-as-of",
            "oversight:obligations", "api:model-versions", "api:schema", "api:docs",
            "password-reset", "password-reset-done", "password-reset-complete",
        )
    ]  # fmt: skip
    found += [
        ("healthz", {}),
        ("password-reset-confirm", {"uidb64": "MQ", "token": "forged-0123456789abcdef"}),
        ("governance:policy", {"slug": slug}),
    ]
    found += [("governance:version", kwargs) for kwargs in versions]
    found += [("governance:version-export", kwargs) for kwargs in versions]
    draft_kwargs = {"slug": slug, "number": draft.number}
    for name in (
        "governance:version-diff",
        "governance:version-settings",
        "governance:version-sign",
    ):
        found.append((name, draft_kwargs))
    found += [
        ("governance:signature-manifest", {**versions[0], "pk": register_signature}),
        ("governance:signature-file", {**versions[0], "pk": register_signature}),
    ]
    found += [("governance:item-add", {**draft_kwargs, "kind": kind}) for kind in
              ("level", "domain", "threshold", "safeguard", "authority")]  # fmt: skip
    found += [
        ("governance:item-edit", {**draft_kwargs, "kind": kind, "pk": pk})
        for kind, pk in _draft_items(draft)
    ]
    found += [("evaluations:evaluation", {"key": key}) for key in world["evaluations"]]
    found += [
        ("evaluations:model", {"slug": "orion"}),
        ("evaluations:version-new", {"slug": "orion"}),
        ("evaluations:version", {"label": version.label}),
        ("evaluations:override-new", {"label": version.label}),
        ("evaluations:import", {"job_id": job.pk}),
        ("evaluations:import-status", {"job_id": job.pk}),
        ("api:import", {"job_id": job.pk}),
        ("api:model-version", {"label": version.label}),
        ("releases:release", {"pk": release.pk}),
        ("releases:evidence", {"pk": release.pk, "code": world["code"]}),
        ("oversight:release-as-of", {"pk": release.pk}),
        ("api:release-gate", {"pk": release.pk}),
    ]
    found += [("oversight:signature", {"pk": pk}) for pk in signatures]
    found += [
        ("oversight:signature-download", {"pk": pk, "kind": kind})
        for pk in signatures
        for kind in ("manifest.json", "signature.bin")
    ]
    found += [("oversight:decision", {"pk": world[k].pk}) for k in ("pause", "lift")]
    found += [
        ("oversight:audit-detail", {"seq": seq})
        for seq in AuditEvent.objects.values_list("seq", flat=True)
    ]
    # The administrators' console shows people and the audit trail too.
    xena, newest = world["people"]["xena"], AuditEvent.objects.order_by("-seq").first()
    found += [
        ("admin:auth_user_changelist", {}),
        ("admin:auth_user_change", {"object_id": xena.pk}),
        ("admin:core_auditevent_changelist", {}),
        ("admin:core_auditevent_change", {"object_id": newest.pk}),
    ]
    return found


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def problems_in(response, where: str) -> list[str]:
    """What is wrong with how ``response`` carries the payloads."""
    kind = response.get("Content-Type", "")
    if not kind.startswith("text/html"):
        wrong = [f"{where}: served as {kind}"] if kind.startswith(HTML_TYPES) else []
        if response.get("X-Content-Type-Options") != "nosniff":
            wrong.append(f"{where}: {kind} without X-Content-Type-Options: nosniff")
        return wrong
    text = _body(response).decode()
    wrong = [f"{where}: unescaped {raw!r}" for raw in RAW if raw in text]
    return wrong + [f"{where}: a javascript: URL" for _ in SCRIPT_URL.findall(text)]


def _walk(client: Client, world, **headers) -> tuple[list[str], set[str], set[str]]:
    problems: list[str] = []
    shown: set[str] = set()
    walked: set[str] = set()
    markers = world["text"].markers.values()
    for name, kwargs in pages(world):
        url = reverse(name, kwargs=kwargs)
        response = client.get(url, **headers)
        where = f"{name} {url}"
        expected = MATRIX[name].ok_status if name in MATRIX else (200,)
        if response.status_code not in expected:  # healthz: 503 without a worker
            problems.append(f"{where}: answered {response.status_code}")
            continue
        walked.add(name)
        problems += problems_in(response, where)
        if response.get("Content-Type", "").startswith("text/html"):
            text = _body(response).decode()
            shown.update(marker for marker in markers if marker in text)
    return problems, shown, walked


def test_every_page_shows_every_payload_escaped(stored):
    client = _signed_in(stored["people"]["superuser"])
    problems, shown, walked = _walk(client, stored)
    assert problems == []
    # Every GET page of the matrix was walked (but the login page, which sends signed-in people
    # to the dashboard and shows nobody's text) ...
    get_pages = {name for name, entry in MATRIX.items() if entry.method == "get"} - {"login"}
    assert get_pages - walked == set()
    # ... and every field written is shown on some page (escaped, since nothing raw is).
    markers = stored["text"].markers
    assert {name for name, marker in markers.items() if marker not in shown} <= NOT_SHOWN
    assert len(markers) >= 40


def test_the_inline_editors_show_them_escaped_too(stored):
    """htmx asks for fragments (the register's inline forms, the import progress)."""
    client = _signed_in(stored["people"]["superuser"])
    problems, shown, _ = _walk(client, stored, HTTP_HX_REQUEST="true")
    assert problems == []
    assert stored["text"].markers["level name (form)"] in shown


def test_the_signed_in_persons_own_name_is_escaped(stored):
    client = _signed_in(stored["people"]["xena"])
    response = client.get(reverse("dashboard"))
    assert problems_in(response, "dashboard as xena") == []
    assert stored["text"].markers["person first name"] in response.content.decode()


def test_messages_repeating_what_was_typed_are_escaped(stored):
    from core.models import ApiToken

    superuser = stored["people"]["superuser"]
    client = _signed_in(superuser)
    token = ApiToken.objects.get(user=superuser)
    response = client.post(reverse("api-tokens"), {"revoke": token.pk}, follow=True)
    assert problems_in(response, "revoked token") == []
    assert f"Revoked {stored['text'].markers['api token name']}" in response.content.decode()
    # A safeguard code is taken from the address; the refusal repeats it.
    release = stored["release"]
    owner = _signed_in(stored["people"]["owner"])
    url = f"/releases/{release.pk}/safeguards/{SVG}/implement/"
    response = owner.post(url, {"text": "x"}, follow=True)
    assert response.status_code == 200
    assert problems_in(response, "unknown safeguard") == []
    assert "&lt;svg onload=alert(1)&gt; is not a safeguard" in response.content.decode()


def test_a_javascript_link_is_refused_as_evidence(stored):
    release, code = stored["release"], stored["code"]
    before = SafeguardStatus.objects.get(code=code).evidence_link
    client = _signed_in(stored["people"]["owner"])
    for link in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
                 "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)"):  # fmt: skip
        response = client.post(
            reverse("releases:implement", args=[release.pk, code]),
            {"text": "A link to the policy.", "link": link},
            follow=True,
        )
        assert b"Nothing was recorded" in response.content
        assert problems_in(response, link) == []
        assert SafeguardStatus.objects.get(code=code).evidence_link == before


def test_forms_sent_back_with_errors_escape_what_was_typed(stored):
    """Reflected: a form that fails validation shows the typed values and errors again."""
    client = _signed_in(stored["people"]["superuser"])
    payload = f"{SCRIPT}{IMG}"
    draft = stored["draft"]
    cases = [
        (reverse("api-tokens"), {"name": payload * 3}),
        (reverse("governance:policy-new"), {"name": payload, "slug": payload}),
        (reverse("evaluations:model-new"), {"name": payload, "slug": payload}),
        (reverse("evaluations:evaluation-new"), {"key": payload, "name": payload}),
        (reverse("releases:release-new"), {"model_version": payload, "title": payload}),
        (
            reverse("governance:version-settings", args=[draft.policy.slug, draft.number]),
            {"label": payload, "changelog": payload, "reevaluation_interval_days": payload},
        ),
        (
            reverse("governance:item-add", args=[draft.policy.slug, draft.number, "level"]),
            {"code": payload, "name": payload, "rank": payload},
        ),
        (reverse("governance:import"), {"text": f"format: {payload}\npolicy: [{payload}]"}),
        (reverse("password-reset"), {"email": payload}),
    ]
    for url, data in cases:
        response = client.post(url, data)
        assert response.status_code in (200, 400), (url, response.status_code)
        assert problems_in(response, url) == []
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode(), url


def test_the_checker_finds_an_unescaped_payload():
    from django.http import HttpResponse, JsonResponse

    page = HttpResponse(f"<p>{SCRIPT}</p>")
    assert problems_in(page, "page") == [f"page: unescaped {SCRIPT!r}"]
    link = HttpResponse('<a href="javascript:alert(1)">x</a>')
    assert problems_in(link, "link") == ["link: a javascript: URL"]
    sniffable = JsonResponse({"x": SCRIPT})
    assert problems_in(sniffable, "json") == [
        "json: application/json without X-Content-Type-Options: nosniff"
    ]
    assert problems_in(HttpResponse("<p>&lt;script&gt;</p>"), "escaped") == []
