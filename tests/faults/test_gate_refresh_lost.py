"""A worker killed between a recompute's commit and the gate refresh that follows it.

The recompute commits a higher level; the refresh of the gates (the ``assessment_changed``
receiver, run after that commit) waits on a release row this test holds, and the worker is
killed there. The cached rows still say "may ship". Nothing serves them: the gate API answers
from a refresh of its own, and the sweep on a restarted worker brings every gate up to date.
"""

import json
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from core import roles, tokens
from evaluations import recompute
from evaluations.models import ModelVersion
from governance.models import PolicyVersion
from releases import services
from releases.models import Release
from releases.tasks import sweep_gates
from tests.conftest import make_person
from tests.faults.conftest import wait_for
from tests.releases.conftest import (
    approve,
    at_asl3,
    publish_with_authorities,
    submitted,
    verify_all,
    version_with_runs,
)

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_release(database) -> list[int]:
    """Backends (other than ours) blocked on a row lock while locking releases."""
    rows = database.execute(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query ILIKE '%%releases_release%%' AND pid <> pg_backend_pid()"
    ).fetchall()
    return [pid for (pid,) in rows]


def _approved(owner, lead, authorities, version, context):
    release = submitted(owner, version, context=context)
    verify_all(owner, lead, release)
    for person in authorities:
        approve(person, release)
    release.refresh_from_db()
    assert (release.state, release.gate_allowed) == ("approved", True)
    return release


def test_a_refresh_lost_with_its_worker_is_never_served_and_the_sweep_finishes_it(
    workers, database, client, lead, owner, authority
):
    from evaluations import services as evaluation_services

    authority2 = make_person("bo", roles.AUTHORITY)
    policy = publish_with_authorities(lead, authority, authority2)
    metrics = at_asl3(policy)
    for key in metrics:
        evaluation_services.evaluation_create(actor=lead, key=key, name=key)
    model = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    version = version_with_runs(owner, model, "orion-2.1", metrics)
    asked = _approved(owner, lead, (authority, authority2), version, "api")
    swept = _approved(owner, lead, (authority, authority2), version, "internal")
    seq = ModelVersion.objects.get(pk=version.pk).assessment_seq
    token = tokens.token_create(actor=owner, user=owner, name="pipeline").key

    def gate(release):
        response = client.get(
            f"/api/v1/releases/{release.pk}/gate/", HTTP_AUTHORIZATION=f"Token {token}"
        )
        assert response.status_code == 200
        return response.json()

    # Hold the first release's row: the refresh after the recompute's commit waits on it.
    database.execute("BEGIN")
    database.execute("SELECT 1 FROM releases_release WHERE id = %s FOR UPDATE", [asked.pk])
    crossing = {
        "model_version": version.label, "evaluation": "bio_expert_protocol_probe",
        "run_id": "cross-cbrn-4", "status": "success",
        "completed_at": datetime.now(UTC).isoformat(),
        "results": [{"metric": "model_graded_qa/accuracy", "value": 0.95}],
    }  # fmt: skip
    response = client.post(
        "/api/v1/evaluation-runs/", json.dumps(crossing), content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )  # fmt: skip
    assert response.status_code == 201
    doomed = workers()

    def recomputed_and_stuck():
        row = ModelVersion.objects.get(pk=version.pk)
        return (
            row.assessment_seq > seq and not row.needs_recompute and _waiting_on_a_release(database)
        )

    assert wait_for(recomputed_and_stuck), doomed.log.read_text()
    assert ModelVersion.objects.get(pk=version.pk).required_level == "ASL-4"
    stuck = _waiting_on_a_release(database)
    doomed.process.kill()  # SIGKILL, in the refresh's transaction
    doomed.process.wait(timeout=30)
    database.execute("ROLLBACK")
    assert wait_for(
        lambda: (
            not database.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", [stuck]
            ).fetchall()
        )
    )

    # In between: the cached rows say "may ship", and no reader may serve them.
    cached = {r.pk: r for r in Release.objects.select_related("model_version")}
    assert cached[asked.pk].gate_allowed and cached[swept.pk].gate_allowed
    governing = PolicyVersion.objects.governing().pk
    for release in cached.values():
        assert not services.holds(release, now=timezone.now(), governing_id=governing)
    assert set(services.behind().values_list("pk", flat=True)) == {asked.pk, swept.pk}
    answer = gate(asked)
    assert (answer["allowed"], answer["required_level"]) == (False, "ASL-4")
    assert "safeguards_unverified" in {r["code"] for r in answer["reasons"]}

    # After a restart, the beat's sweep brings the other gate up to date.
    workers()
    sweep_gates.delay()
    assert wait_for(lambda: not services.behind().exists(), timeout=60)
    converged = Release.objects.get(pk=swept.pk)
    assert (converged.gate_allowed, converged.state, converged.required_level) == (
        False,
        "submitted",
        "ASL-4",
    )
    assert gate(swept)["allowed"] is False
    assert recompute.sweep() == 0  # nothing left marked
