"""The permission matrix: every URL in the resolver, every persona.

Adding a URL without adding it here fails ``test_every_url_is_in_the_matrix``; a view without
an ``@access.requires`` declaration fails ``test_every_view_declares_who_may_call_it``.

Each persona gets exactly one answer per URL: the page (allowed), 404 (the URL names an object
the persona may not see: its existence must not leak), or 403 (the persona sees the object, or
the URL names none, but may not do this). The API is checked twice: with the session and with
an API token, the way machines call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core import access, audit, roles, signing
from governance import publishing, services
from tests.conftest import make_person
from tests.governance.factories import designate

PERSONAS = ("anonymous", "outsider", "owner", "lead", "authority", "auditor", "superuser")
SIGNED_IN = frozenset(PERSONAS) - {"anonymous"}


class World:
    """The objects URLs point at, built on first use inside the test's transaction."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def _register(self) -> dict[str, Any]:
        if "register" not in self._built:
            builder = make_person("builder", roles.GOVERNANCE_LEAD)
            published = services.template_load(actor=builder, name="rsp")
            reauth = signing.demo_reauthentication(builder)
            designate(published, builder)
            outcome = publishing.version_sign(actor=builder, version=published, reauth=reauth)
            draft = services.draft_start(actor=builder, policy=published.policy)
            self._built["register"] = {
                "published": published,
                "draft": draft,
                "signature": outcome.signature,
            }
        return self._built["register"]

    def event(self) -> dict[str, Any]:
        return {"seq": audit.record(action="core.test.happened", actor="system:tests").seq}

    def policy(self) -> dict[str, Any]:
        return {"slug": self._register()["published"].policy.slug}

    def published(self) -> dict[str, Any]:
        version = self._register()["published"]
        return {"slug": version.policy.slug, "number": version.number}

    def draft(self) -> dict[str, Any]:
        version = self._register()["draft"]
        return {"slug": version.policy.slug, "number": version.number}

    def signature(self) -> dict[str, Any]:
        return {**self.published(), "pk": self._register()["signature"].pk}

    def _models(self) -> dict[str, Any]:
        if "models" not in self._built:
            from django.contrib.auth import get_user_model

            from evaluations import services as evaluation_services

            self._register()
            lead = get_user_model().objects.get(username="builder")
            owner = get_user_model().objects.filter(username="omar").first() or make_person(
                "omar", roles.PRODUCT_OWNER
            )
            evaluation = evaluation_services.evaluation_create(
                actor=lead, key="bio_uplift_probe", name="Bio uplift probe"
            )
            model = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
            version = evaluation_services.model_version_create(
                actor=owner, model=model, label="orion-2.1"
            )
            self._built["models"] = {"model": model, "version": version, "evaluation": evaluation}
        return self._built["models"]

    def model(self) -> dict[str, Any]:
        return {"slug": self._models()["model"].slug}

    def model_version(self) -> dict[str, Any]:
        return {"label": self._models()["version"].label}

    def import_job(self) -> dict[str, Any]:
        if "job" not in self._built:
            from evaluations.models import ImportJob

            version = self._models()["version"]
            self._built["job"] = ImportJob.objects.create(
                filename="log.eval",
                size=1,
                model_version_label=version.label,
                requested_by=version.model.owner,
                state="failed",
                progress=100,
            )
        return {"job_id": self._built["job"].pk}

    def _release(self) -> Any:
        if "release" not in self._built:
            from releases import decisions
            from releases import services as release_services

            version = self._models()["version"]
            release = release_services.release_create(
                actor=version.model.owner, model_version=version, context="api", title="Orion API"
            )
            lead = version.created_by.__class__.objects.get(username="builder")
            decision = decisions.decision_propose(
                actor=lead,
                kind="pause",
                target=release,
                rationale="A matrix test needs a decision.",
            )
            self._built["release"] = (release, decision)
        return self._built["release"]

    def release(self) -> dict[str, Any]:
        return {"pk": self._release()[0].pk}

    def release_safeguard(self) -> dict[str, Any]:
        return {"pk": self._release()[0].pk, "code": "SEC-BASELINE"}

    def release_evidence(self) -> dict[str, Any]:
        if "evidence" not in self._built:
            from django.core.files.uploadedfile import SimpleUploadedFile

            from releases import evidence
            from releases.models import SafeguardStatus

            release = self._release()[0]
            file = evidence.check(SimpleUploadedFile("policy.txt", b"Access policy v3"))
            SafeguardStatus.objects.create(
                model_version=release.model_version,
                code="SEC-BASELINE",
                state="implemented",
                evidence_file=evidence.store(file),
                evidence_file_name=file.name,
                evidence_file_type=file.content_type,
            )
            self._built["evidence"] = True
        return self.release_safeguard()

    def signature_only(self) -> dict[str, Any]:
        return {"pk": self._register()["signature"].pk}

    def signature_file(self) -> dict[str, Any]:
        return {**self.signature_only(), "kind": "manifest.json"}

    def decision_only(self) -> dict[str, Any]:
        return {"pk": self._release()[1].pk}

    def decision(self) -> dict[str, Any]:
        release, decision = self._release()
        return {"pk": release.pk, "decision_pk": decision.pk}

    def evaluation(self) -> dict[str, Any]:
        return {"key": self._models()["evaluation"].key}

    def draft_level(self) -> dict[str, Any]:
        draft = self._register()["draft"]
        return {**self.draft(), "kind": "level", "pk": draft.levels.order_by("rank").first().pk}


@dataclass(frozen=True)
class Entry:
    allowed: frozenset[str]
    public: bool = False
    method: str = "get"
    kwargs: Callable[[World], dict[str, Any]] = field(default=lambda world: {})
    ok_status: tuple[int, ...] = (200,)
    api: bool = False  # anonymous callers get 401, not a login redirect
    # Signed-in personas who may not see the object the URL names: 404, as if it did not
    # exist. Every other persona not allowed gets 403.
    hidden: frozenset[str] = frozenset()


LEADS = frozenset({"lead", "superuser"})
AUDITORS = frozenset({"lead", "auditor", "superuser"})
OWNERS = frozenset({"owner", "superuser"})
# Who sees Orion (owned by the owner persona): its owner and every role with global read.
SEE_ORION = frozenset({"owner", "lead", "authority", "auditor", "superuser"})
NOT_ORION = frozenset({"outsider"})
# An import job is visible to the person who started it (the owner) and to superusers.
NOT_THE_JOB = frozenset({"outsider", "lead", "authority", "auditor"})


MATRIX: dict[str, Entry] = {
    "login": Entry(allowed=frozenset(PERSONAS), public=True),
    # Password reset: open to everyone (a signed-in person may reset too). The link here is a
    # forged one: the page says the link does not work.
    "password-reset": Entry(allowed=frozenset(PERSONAS), public=True),
    "password-reset-done": Entry(allowed=frozenset(PERSONAS), public=True),
    "password-reset-confirm": Entry(
        allowed=frozenset(PERSONAS),
        public=True,
        kwargs=lambda world: {"uidb64": "MQ", "token": "cx4vfk-0123456789abcdef0123456789abcdef"},
    ),
    "password-reset-complete": Entry(allowed=frozenset(PERSONAS), public=True),
    # 503 when a worker is down: the page itself is open to all.
    "healthz": Entry(allowed=frozenset(PERSONAS), public=True, ok_status=(200, 503)),
    "logout": Entry(allowed=SIGNED_IN, method="post", ok_status=(302,)),
    "dashboard": Entry(allowed=SIGNED_IN),
    # The auditor's view: those who read the history (governance leads and auditors) read it;
    # nobody else gets in, and nobody changes anything there (every page is a GET).
    "oversight:audit-list": Entry(allowed=AUDITORS),
    "oversight:audit-csv": Entry(allowed=AUDITORS),
    "oversight:audit-export": Entry(allowed=AUDITORS),
    "oversight:audit-detail": Entry(allowed=AUDITORS, kwargs=World.event),
    "oversight:signature": Entry(allowed=AUDITORS, kwargs=World.signature_only),
    "oversight:signature-download": Entry(allowed=AUDITORS, kwargs=World.signature_file),
    "oversight:decision": Entry(allowed=AUDITORS, kwargs=World.decision_only),
    "oversight:register-as-of": Entry(allowed=AUDITORS),
    "oversight:release-as-of": Entry(allowed=AUDITORS, kwargs=World.release),
    "oversight:obligations": Entry(allowed=AUDITORS),
    # The commitment register: everyone signed in reads; governance leads edit and sign.
    "governance:index": Entry(allowed=SIGNED_IN),
    "governance:policy": Entry(allowed=SIGNED_IN, kwargs=World.policy),
    "governance:version": Entry(allowed=SIGNED_IN, kwargs=World.published),
    "governance:version-diff": Entry(allowed=SIGNED_IN, kwargs=World.draft),
    "governance:version-export": Entry(allowed=SIGNED_IN, kwargs=World.published),
    "governance:signature-manifest": Entry(allowed=SIGNED_IN, kwargs=World.signature),
    "governance:signature-file": Entry(allowed=SIGNED_IN, kwargs=World.signature),
    "governance:policy-new": Entry(allowed=LEADS),
    "governance:import": Entry(allowed=LEADS),
    "governance:draft-start": Entry(
        allowed=LEADS, method="post", kwargs=World.policy, ok_status=(302,)
    ),
    "governance:version-settings": Entry(allowed=LEADS, kwargs=World.draft),
    "governance:draft-discard": Entry(
        allowed=LEADS, method="post", kwargs=World.draft, ok_status=(302,)
    ),
    "governance:version-sign": Entry(allowed=LEADS, kwargs=World.draft),
    "governance:item-add": Entry(
        allowed=LEADS, kwargs=lambda world: {**world.draft(), "kind": "level"}
    ),
    "governance:item-edit": Entry(allowed=LEADS, kwargs=World.draft_level),
    "governance:item-delete": Entry(
        allowed=LEADS, method="post", kwargs=World.draft_level, ok_status=(302,)
    ),
    "api-tokens": Entry(allowed=SIGNED_IN),
    # Models and evaluations: owners see and feed their own; leads, authorities, auditors read.
    "evaluations:index": Entry(allowed=SIGNED_IN),
    "evaluations:model-new": Entry(allowed=OWNERS),
    "evaluations:evaluations": Entry(allowed=SIGNED_IN),
    "evaluations:evaluation-new": Entry(allowed=LEADS),
    "evaluations:evaluation": Entry(allowed=SIGNED_IN, kwargs=World.evaluation),
    "evaluations:model": Entry(allowed=SEE_ORION, kwargs=World.model, hidden=NOT_ORION),
    "evaluations:version": Entry(allowed=SEE_ORION, kwargs=World.model_version, hidden=NOT_ORION),
    "evaluations:version-new": Entry(allowed=OWNERS, kwargs=World.model, hidden=NOT_ORION),
    # Signed overrides: governance leads, or authorities holding the approve power in scope
    # (the World's policy names none).
    "evaluations:override-new": Entry(allowed=LEADS, kwargs=World.model_version, hidden=NOT_ORION),
    # Imports: anyone signed in opens the page (it lists only what they may feed); a job is
    # visible to the person who started it.
    "evaluations:import-new": Entry(allowed=SIGNED_IN),
    "evaluations:import": Entry(allowed=OWNERS, kwargs=World.import_job, hidden=NOT_THE_JOB),
    "evaluations:import-status": Entry(allowed=OWNERS, kwargs=World.import_job, hidden=NOT_THE_JOB),
    "api:imports": Entry(allowed=SIGNED_IN, method="post", api=True, ok_status=(400,)),
    "api:import": Entry(allowed=OWNERS, api=True, kwargs=World.import_job, hidden=NOT_THE_JOB),
    # Releases: those who see the model see its releases; each move has its own people. The
    # World's policy names no authority, so nobody may approve or sign a decision in it.
    "releases:index": Entry(allowed=SIGNED_IN),
    "releases:release-new": Entry(allowed=SIGNED_IN),
    "releases:release": Entry(allowed=SEE_ORION, kwargs=World.release, hidden=NOT_ORION),
    "releases:submit": Entry(
        allowed=frozenset({"owner"}),
        method="post",
        kwargs=World.release,
        ok_status=(302,),
        hidden=NOT_ORION,
    ),
    # Recording a deployment: those who request releases of the model; the World's release is
    # not approved, so it is refused with a message on the release page.
    "releases:deploy": Entry(
        allowed=OWNERS, method="post", kwargs=World.release, ok_status=(302,), hidden=NOT_ORION
    ),
    "releases:withdraw": Entry(
        allowed=OWNERS, method="post", kwargs=World.release, ok_status=(302,), hidden=NOT_ORION
    ),
    "releases:implement": Entry(
        allowed=OWNERS,
        method="post",
        kwargs=World.release_safeguard,
        ok_status=(302,),
        hidden=NOT_ORION,
    ),
    "releases:verify": Entry(
        allowed=frozenset({"lead", "authority", "superuser"}),
        method="post",
        kwargs=World.release_safeguard,
        hidden=NOT_ORION,
        ok_status=(302,),
    ),
    "releases:approve": Entry(
        allowed=frozenset(), method="post", kwargs=World.release, hidden=NOT_ORION
    ),
    "releases:decision-propose": Entry(
        allowed=LEADS, method="post", kwargs=World.release, ok_status=(302,), hidden=NOT_ORION
    ),
    "releases:decision-sign": Entry(
        allowed=frozenset(), method="post", kwargs=World.decision, hidden=NOT_ORION
    ),
    # Proposing a lift: leads (the World's decision is not in effect, so it is refused with a
    # message on the release page).
    "releases:decision-lift": Entry(
        allowed=LEADS, method="post", kwargs=World.decision, ok_status=(302,), hidden=NOT_ORION
    ),
    "releases:evidence": Entry(allowed=SEE_ORION, kwargs=World.release_evidence, hidden=NOT_ORION),
    # The API: token or session; 401 without credentials.
    "api:evaluation-runs": Entry(allowed=SIGNED_IN, method="post", api=True, ok_status=(400,)),
    "api:model-versions": Entry(allowed=SIGNED_IN, api=True),
    "api:model-version": Entry(
        allowed=SEE_ORION, api=True, kwargs=World.model_version, hidden=NOT_ORION
    ),
    "api:release-gate": Entry(allowed=SEE_ORION, api=True, kwargs=World.release, hidden=NOT_ORION),
    # Approving needs the approve power (nobody holds it in the World): 400 for an empty body
    # comes only after that check passes, so everyone who sees the release gets 403.
    "api:release-approvals": Entry(
        allowed=frozenset(), method="post", api=True, kwargs=World.release, hidden=NOT_ORION
    ),
    # The same through the API: 409 (not approved, with the gate's reasons) for those who may.
    "api:release-deployment": Entry(
        allowed=OWNERS,
        method="post",
        api=True,
        kwargs=World.release,
        ok_status=(409,),
        hidden=NOT_ORION,
    ),
    "api:schema": Entry(allowed=SIGNED_IN, api=True),
    "api:docs": Entry(allowed=SIGNED_IN, api=True),
}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _walk(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{prefix}{pattern.name or ''}", pattern


def _app_urls():
    return {
        name: p for name, p in _walk(get_resolver().url_patterns) if not name.startswith("admin:")
    }


def _admin_urls():
    return {name: p for name, p in _walk(get_resolver().url_patterns) if name.startswith("admin:")}


def test_every_url_is_in_the_matrix():
    assert set(_app_urls()) == set(MATRIX)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_view_declares_who_may_call_it(name):
    rule = access.declared_rule(_app_urls()[name].callback)
    assert rule is not None, f"{name} has no @access.requires declaration"
    assert (rule is access.PUBLIC) == MATRIX[name].public


@pytest.fixture
def as_persona(client, request):
    def login(persona):
        if persona != "anonymous":
            client.force_login(request.getfixturevalue(persona))
        return client

    return login


def expected_status(name: str, persona: str) -> tuple[int, ...]:
    """The one answer ``persona`` may get from ``name`` (anonymous callers of the web pages
    are redirected to the login page instead)."""
    entry = MATRIX[name]
    if persona == "anonymous" and entry.api:
        return (401,)
    if persona in entry.allowed:
        return (302,) if (name == "login" and persona != "anonymous") else entry.ok_status
    return (404,) if persona in entry.hidden else (403,)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_hidden_personas_are_neither_allowed_nor_anonymous(name):
    entry = MATRIX[name]
    assert not entry.hidden & entry.allowed
    assert entry.hidden <= SIGNED_IN


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_the_matrix_holds(name, persona, as_persona):
    entry = MATRIX[name]
    client = as_persona(persona)
    url = reverse(name, kwargs=entry.kwargs(World()))
    response = getattr(client, entry.method)(url)
    if persona == "anonymous" and not entry.public and not entry.api:
        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse('login')}?next=")
    else:
        assert response.status_code in expected_status(name, persona)


API = sorted(name for name, entry in MATRIX.items() if entry.api)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", sorted(SIGNED_IN))
@pytest.mark.parametrize("name", API)
def test_the_api_matrix_holds_for_token_callers(name, persona, client, request):
    """Machines call the API with a token and no session: the same answers."""
    from core import tokens

    person = request.getfixturevalue(persona)
    key = tokens.token_create(actor=person, user=person, name="matrix").key
    entry = MATRIX[name]
    url = reverse(name, kwargs=entry.kwargs(World()))
    response = getattr(client, entry.method)(url, HTTP_AUTHORIZATION=f"Token {key}")
    assert "_auth_user_id" not in client.session
    assert response.status_code in expected_status(name, persona)


@pytest.mark.django_db
@pytest.mark.parametrize("name", API)
def test_the_api_refuses_a_wrong_token(name, client, owner):
    entry = MATRIX[name]
    url = reverse(name, kwargs=entry.kwargs(World()))
    response = getattr(client, entry.method)(url, HTTP_AUTHORIZATION="Token not-a-real-key")
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "superuser"])
def test_no_admin_console_page_opens_for_anyone_but_staff(persona, as_persona):
    client = as_persona(persona)
    urls = ["/admin/core/auditevent/1/", "/admin/no/such/page/"]  # unnamed patterns
    for name, pattern in _admin_urls().items():
        if name in ("admin:", "admin:login", "admin:logout"):
            continue
        kwargs = dict.fromkeys(pattern.pattern.regex.groupindex, "1")
        if name.endswith("app_list"):
            kwargs["app_label"] = "core"
        urls.append(reverse(name, kwargs=kwargs))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, f"{url} answered {response.status_code}"
        assert response["Location"].startswith(("/admin/login/", "/login/")), url


@pytest.mark.django_db
def test_the_admin_console_opens_for_superusers(as_persona):
    client = as_persona("superuser")
    assert client.get(reverse("admin:index")).status_code == 200
