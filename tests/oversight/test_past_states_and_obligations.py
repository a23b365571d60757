from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from core import signing
from evaluations.models import EvaluationRun
from governance import publishing
from governance import services as governance_services
from governance.models import PolicyVersion
from oversight import history, obligations
from releases import decisions
from releases.models import Release, SafeguardStatus
from tests.oversight.conftest import RATIONALE, sign_all

pytestmark = pytest.mark.django_db


def _moment(event_action, release):
    from core.models import AuditEvent

    return (
        AuditEvent.objects.filter(action=event_action, subject=f"releases.release:{release.pk}")
        .latest("seq")
        .occurred_at
    )


def test_a_release_as_it_stood_before_and_after_approval_and_pause(
    client, auditor, release, lead, authority, authority2
):
    submitted_at = _moment("releases.release.submitted", release)
    approved = sign_all(release, lead, [authority, authority2])
    approved_at = _moment("releases.release.approved", approved)
    pause = decisions.decision_propose(
        actor=authority, kind="pause", target=approved, rationale=RATIONALE
    )
    for person in (authority, authority2):
        decisions.decision_sign(
            actor=person, decision=pause, reauth=signing.demo_reauthentication(person)
        )

    before = history.release_at(approved, submitted_at)
    assert (before.state, before.approvals, before.decisions) == ("submitted", [], [])
    assert "safeguards not verified" in " ".join(before.verdict.messages)

    then = history.release_at(approved, approved_at)
    assert then.state == "approved"
    assert [a.current for a in then.approvals] == [True, True]
    assert then.verdict.allowed is True
    assert then.assessment_sha256 == Release.objects.get(pk=approved.pk).assessment_sha256

    now = history.release_at(approved, timezone.now())
    assert now.decisions == [pause]
    assert now.verdict.messages == ["paused by a decision on its release"]
    assert now.verdict.messages == Release.objects.get(pk=approved.pk).gate_messages

    never = history.release_at(approved, submitted_at - timedelta(days=1))
    assert never.existed is False

    client.force_login(auditor)
    page = client.get(
        f"/audit/releases/{approved.pk}/", {"at": approved_at.strftime("%Y-%m-%d %H:%M:%S.%f")}
    )
    assert page.status_code == 200
    assert page.context["past"].verdict.allowed is True
    assert client.get(f"/audit/releases/{approved.pk}/", {"at": "soon"}).status_code == 400


def test_the_register_on_a_date(client, auditor, lead, policy, audit_tamper):
    published = policy
    assert history.register_on(published.published_at.date()) == [published]
    assert history.register_on(published.published_at.date() - timedelta(days=1)) == []

    draft = governance_services.draft_start(actor=lead, policy=published.policy)
    from core.roles import GOVERNANCE_LEAD
    from tests.conftest import make_person

    second = make_person("lucia", GOVERNANCE_LEAD)
    for person in (lead, second):
        publishing.version_sign(
            actor=person, version=draft, reauth=signing.demo_reauthentication(person)
        )
    later = datetime.now(UTC).date() + timedelta(days=1)
    assert [v.number for v in history.register_on(later)] == [2]
    with audit_tamper():  # as if version 1 had been published a month ago
        PolicyVersion.objects.filter(pk=published.pk).update(
            published_at=published.published_at - timedelta(days=30)
        )
    month_ago = (timezone.now() - timedelta(days=20)).date()
    assert [v.number for v in history.register_on(month_ago)] == [1]

    client.force_login(auditor)
    page = client.get("/audit/register/", {"on": month_ago.isoformat()})
    assert [v.number for v in page.context["versions"]] == [1]
    assert client.get("/audit/register/", {"on": "someday"}).status_code == 400


def test_obligations_list_what_is_due(
    client, auditor, scoped_auditor, lead, authority, release, policy
):
    now = timezone.now()
    sign_all(release, lead, [])
    SafeguardStatus.objects.filter(code="SEC-WEIGHTS").update(verified_at=now - timedelta(days=400))
    Release.objects.filter(pk=release.pk).update(blocked_since=now - timedelta(days=3))
    governance_services.draft_start(actor=lead, policy=policy.policy)
    short = decisions.decision_propose(
        actor=authority, kind="pause", target=release, rationale=RATIONALE
    )

    client.force_login(auditor)
    due = client.get("/obligations/").context
    assert due["stale"] == []  # the runs are fresh: nothing lapses in the next 30 days
    # 80 days on, the ruling-out runs are 10 days from the 90-day re-evaluation interval.
    later = obligations.due(auditor, now=now + timedelta(days=80))
    stale = {row["model_version__label"]: row for row in later["stale"]}
    run = EvaluationRun.objects.filter(model_version=release.model_version).earliest("completed_at")
    assert stale["orion-2.1"]["due"] == run.completed_at + timedelta(days=90)
    assert stale["orion-2.1"]["overdue"] is False
    assert obligations.due(auditor, now=now + timedelta(days=91))["stale"][0]["overdue"]
    assert [s.code for s in due["verifications"]] == ["SEC-WEIGHTS"]
    assert [r.pk for r in due["escalations"]] == [release.pk]
    assert [v.number for v in due["drafts"]] == [2]
    assert [(d.pk, d.signed) for d in due["proposed"]] == [(short.pk, 0)]

    client.force_login(scoped_auditor)  # no model granted: only the register's drafts
    scoped = client.get("/obligations/").context
    assert (scoped["stale"], scoped["verifications"], scoped["escalations"]) == ([], [], [])
    assert scoped["proposed"] == [] and [v.number for v in scoped["drafts"]] == [2]


def test_an_administrator_scopes_an_auditor_to_a_model_from_the_command_line(
    client, scoped_auditor, release
):
    from django.core.management import CommandError, call_command

    client.force_login(scoped_auditor)
    assert client.get(f"/releases/{release.pk}/").status_code == 404
    call_command("grant_model_reader", "sol", "orion")
    assert client.get(f"/releases/{release.pk}/").status_code == 200
    assert client.get("/audit/", {"release": release.pk}).context["page"].events
    call_command("grant_model_reader", "sol", "orion", "--revoke")
    assert client.get(f"/releases/{release.pk}/").status_code == 404
    with pytest.raises(CommandError, match="no model has the slug 'nope'"):
        call_command("grant_model_reader", "sol", "nope")
