import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import audit, signing
from core.models import AuditEvent, Signature
from evaluations import services as evaluation_services
from releases import decisions
from releases.models import Approval, Release
from tests.oversight.conftest import RATIONALE

pytestmark = pytest.mark.django_db


def _rows(response):
    """The data rows of a CSV download."""
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]


def _seqs(response):
    return [event.seq for event in response.context["page"].events]


def test_filters_by_model_release_subject_and_time(client, auditor, owner, approved, pause):
    other = evaluation_services.model_create(actor=owner, slug="vega", name="Vega")
    client.force_login(auditor)

    by_model = client.get("/audit/", {"model": "orion"})
    events = AuditEvent.objects.filter(seq__in=_seqs(by_model))
    assert events and all(e.scope_id == approved.model_version.model_id for e in events)
    assert not AuditEvent.objects.filter(seq__in=_seqs(by_model), scope_id=other.pk).exists()

    by_release = client.get("/audit/", {"release": approved.pk})
    listed = _rows(client.get("/audit/events.csv", {"release": approved.pk}))
    actions = {row[3] for row in listed}
    assert {"releases.release.created", "releases.approval.signed"} <= actions
    assert "releases.decision.in_effect" in actions  # the model-version pause covers it
    assert "evaluations.run.recorded" not in actions

    assert _seqs(by_release) == sorted(int(row[0]) for row in listed)[::-1][:50]
    own = _rows(client.get("/audit/events.csv", {"subject": f"releases.release:{approved.pk}"}))
    assert {row[0] for row in own} < {row[0] for row in listed}

    today = timezone.now().date()
    assert _seqs(client.get("/audit/", {"since": today, "until": today}))
    assert _seqs(client.get("/audit/", {"until": today - timedelta(days=1)})) == []
    backwards = client.get("/audit/", {"since": today, "until": today - timedelta(days=1)})
    assert backwards.status_code == 400
    assert b"The start date is after the end date." in backwards.content
    assert _seqs(client.get("/audit/", {"model": "no-such-model"})) == []


def test_a_scoped_auditor_reads_only_their_models_and_the_register(
    client, superuser, owner, scoped_auditor, approved
):
    vega = evaluation_services.model_create(actor=owner, slug="vega", name="Vega")
    vega_event = AuditEvent.objects.filter(scope_id=vega.pk).latest("seq")
    client.force_login(scoped_auditor)
    register_only = AuditEvent.objects.filter(seq__in=_seqs(client.get("/audit/")))
    assert register_only  # no model granted yet: the commitment register only
    assert all(e.subject.startswith("governance.") for e in register_only)
    assert client.get(f"/audit/{vega_event.seq}/").status_code == 404

    orion = approved.model_version.model
    evaluation_services.model_reader_grant(actor=superuser, model=orion, reader=scoped_auditor)
    seen = AuditEvent.objects.filter(seq__in=_seqs(client.get("/audit/")))
    assert {e.scope_id for e in seen} <= {orion.pk, 0}
    assert all(e.scope_id == orion.pk or e.subject.startswith("governance.") for e in seen)
    user_event = AuditEvent.objects.filter(action="core.user.created").latest("seq")
    assert client.get(f"/audit/{user_event.seq}/").status_code == 404
    assert client.get(f"/audit/{vega_event.seq}/").status_code == 404
    assert _seqs(client.get("/audit/", {"model": "vega"})) == []
    assert client.get(f"/releases/{approved.pk}/").status_code == 200
    csv_rows = list(csv.reader(io.StringIO(b"".join(client.get("/audit/events.csv")).decode())))
    assert {row[4] for row in csv_rows[1:]} <= {
        "releases.release", "releases.safeguardstatus", "core.signature", "releases.approval",
        "releases.decision", "evaluations.model", "evaluations.modelversion",
        "evaluations.evaluationrun", "evaluations.determination",
    } | {row[4] for row in csv_rows[1:] if row[4].startswith("governance.")}  # fmt: skip
    assert "core.user" not in {row[4] for row in csv_rows[1:]}


def test_an_event_shows_a_readable_diff_and_links_to_its_record_and_signature(
    client, auditor, approved
):
    client.force_login(auditor)
    moved = AuditEvent.objects.filter(action="releases.release.approved").latest("seq")
    page = client.get(f"/audit/{moved.seq}/")
    rows = {row.key: row for row in page.context["diff"]}
    assert (rows["state"].before, rows["state"].after, rows["state"].changed) == (
        "submitted",
        "approved",
        True,
    )
    assert f'href="/releases/{approved.pk}/"' in page.content.decode()

    signed = AuditEvent.objects.filter(action="core.signature.created").latest("seq")
    page = client.get(f"/audit/{signed.seq}/").content.decode()
    assert f'href="/audit/signatures/{signed.object_id}/"' in page


def test_a_signature_page_shows_the_manifest_signed_and_when_it_goes_stale(
    client, auditor, owner, approved
):
    approval = Approval.objects.filter(release=approved).first()
    client.force_login(auditor)
    page = client.get(f"/audit/signatures/{approval.signature_id}/")
    assert page.context["authentic"] is True
    assert page.context["signed"].current is True
    manifest = page.context["manifest"]
    assert approved.assessment_sha256 in manifest and '"required_level": "ASL-3"' in manifest
    raw = client.get(f"/audit/signatures/{approval.signature_id}/manifest.json").content
    assert raw == Signature.objects.get(pk=approval.signature_id).manifest.encode()

    from evaluations import ingestion, recompute
    from evaluations.ingestion import ResultInput, RunInput

    ingestion.ingest_runs(
        actor=owner,
        runs=[
            RunInput(
                model_version="orion-2.1",
                evaluation="bio_expert_protocol_probe",
                run_id="late",
                status="success",
                results=(ResultInput("model_graded_qa/accuracy", 0.9),),
            )
        ],
        source="api",
    )
    recompute.recompute(approved.model_version_id)
    from releases import services as release_services

    release_services.refresh_for_model_version(approved.model_version_id)
    signed = client.get(f"/audit/signatures/{approval.signature_id}/").context["signed"]
    assert (signed.current, signed.status.startswith("stale")) == (False, True)


def test_the_decision_page_shows_each_signed_manifest(client, auditor, pause):
    client.force_login(auditor)
    page = client.get(f"/audit/decisions/{pause.pk}/")
    assert len(page.context["signatures"]) == 2
    assert '"kind": "pause"' in page.context["signatures"][0]["manifest"]


def _query_counts(client, people, urls):
    counts = {}
    for person in people:
        client.force_login(person)
        for url in urls:
            client.get(url)  # warm: the register's content, the signing key
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200, url
            counts[person.username, url] = len(queries)
    return counts


def test_audit_pages_stay_within_a_constant_query_bound(
    client, auditor, scoped_auditor, superuser, authority, authority2, approved, pause
):
    evaluation_services.model_reader_grant(
        actor=superuser, model=approved.model_version.model, reader=scoped_auditor
    )
    signature = Approval.objects.filter(release=approved).first().signature_id
    urls = [
        "/audit/",
        "/audit/?model=orion",
        f"/audit/?release={approved.pk}",
        f"/audit/{AuditEvent.objects.filter(scope_id__isnull=False).latest('seq').seq}/",
        f"/audit/signatures/{signature}/",
        f"/audit/decisions/{pause.pk}/",
        f"/audit/releases/{approved.pk}/",
        "/audit/register/",
        "/obligations/",
    ]
    few = _query_counts(client, [auditor, scoped_auditor], urls)
    assert max(few.values()) <= 16, few
    # Many more events, decisions, signatures and escalations: not one query more.
    for n in range(150):
        audit.record(action="core.test.happened", actor="system:tests", after={"n": n})
    for _ in range(5):
        extra = decisions.decision_propose(
            actor=authority, kind="pause", target=approved, rationale=RATIONALE
        )
        decisions.decision_sign(
            actor=authority2, decision=extra, reauth=signing.demo_reauthentication(authority2)
        )
    Release.objects.filter(pk=approved.pk).update(blocked_since=timezone.now())
    many = _query_counts(client, [auditor, scoped_auditor], urls)
    assert {key: n for key, n in many.items() if n > few[key]} == {}


def test_the_csv_lists_every_matching_event_and_defuses_formulas(client, auditor):
    for n in range(3):
        audit.record(
            action="core.test.happened",
            actor="system:tests",
            object_type="tests.thing",
            object_id=str(n),
            object_repr='=HYPERLINK("http://evil")' if n == 0 else f"thing {n}",
        )
    client.force_login(auditor)
    response = client.get("/audit/events.csv", {"object_type": "tests.thing"})
    assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["seq", "occurred_at", "actor", "action"]
    assert [row[6] for row in rows[1:]] == ['\'=HYPERLINK("http://evil")', "thing 1", "thing 2"]


def test_verify_audit_counts_approvals_of_a_changed_assessment_as_stale(approved, owner):
    from django.core.management import call_command

    from evaluations import ingestion, recompute
    from evaluations.ingestion import ResultInput, RunInput
    from releases import services as release_services

    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert ", 0 stale" in out.getvalue()
    ingestion.ingest_runs(
        actor=owner,
        runs=[
            RunInput(model_version="orion-2.1", evaluation="bio_expert_protocol_probe",
                     run_id="late", status="success",
                     results=(ResultInput("model_graded_qa/accuracy", 0.9),))
        ],
        source="api",
    )  # fmt: skip
    recompute.recompute(approved.model_version_id)
    release_services.refresh_for_model_version(approved.model_version_id)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert ", 2 stale" in out.getvalue()  # both approvals were for the earlier assessment


def test_object_pages_link_to_their_history_for_those_who_read_it(
    client, auditor, owner, approved, policy
):
    pages = {
        f"/releases/{approved.pk}/": f"/audit/?release={approved.pk}",
        "/models/orion/": "/audit/?model=orion",
        "/models/versions/orion-2.1/": (
            f"/audit/?subject=evaluations.modelversion:{approved.model_version_id}"
        ),
        f"/register/{policy.policy.slug}/v{policy.number}/": (
            f"/audit/?subject=governance.policyversion:{policy.pk}"
        ),
    }
    client.force_login(auditor)
    for page, history in pages.items():
        content = client.get(page).content.decode()
        assert f'href="{history}" data-testid="history-link"' in content, page
        listed = client.get(history).context["page"].events
        assert listed, history
    client.force_login(owner)  # the owner reads the release but not the audit trail
    assert (
        'data-testid="history-link"' not in client.get(f"/releases/{approved.pk}/").content.decode()
    )


# Unfiltered: read from index ranges per scope; narrowed by action: the general query.
@pytest.mark.parametrize("action", ["", "evaluations."])
def test_a_scoped_auditors_pages_walk_their_events_newest_first_without_gaps(
    client, superuser, owner, scoped_auditor, approved, monkeypatch, action
):
    from oversight import access, selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 7)
    vega = evaluation_services.model_create(actor=owner, slug="vega", name="Vega")
    for model in (approved.model_version.model, vega):
        evaluation_services.model_reader_grant(actor=superuser, model=model, reader=scoped_auditor)
    for n in range(15):
        evaluation_services.model_version_create(actor=owner, model=vega, label=f"vega-{n}")
    client.force_login(scoped_auditor)
    walked, before = [], None
    while True:
        query = {"action": action, **({"before": before} if before else {})}
        page = client.get("/audit/", query).context["page"]
        walked += [event.seq for event in page.events]
        if not page.next_before:
            break
        before = page.next_before
    visible = access.visible_events(scoped_auditor).filter(action__startswith=action)
    expected = list(visible.order_by("-seq").values_list("seq", flat=True))
    assert walked == expected and len(expected) > 30


@pytest.mark.parametrize(
    "url",
    [
        "/audit/register/?on=9999-12-31",
        "/audit/?since=0001-01-01&until=9999-12-31",
        "/audit/events.csv?since=0001-01-01&until=9999-12-31",
    ],
)
def test_dates_at_the_end_of_the_calendar_are_refused_not_crashed_on(client, auditor, url):
    client.force_login(auditor)
    response = client.get(url)
    assert response.status_code == 400
    assert "Choose a date" in response.content.decode()
