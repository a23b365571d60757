import random

import pytest

from core import audit, selectors
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    rng = random.Random(7)
    for n in range(300):
        audit.record(
            action="core.test.happened",
            actor="system:tests",
            subject=f"tests.thing:{rng.randrange(12)}",
            after={"n": n},
        )


@pytest.mark.parametrize("members", [200, 3])  # one compound query, or several merged
def test_newest_seqs_equals_the_plain_query(events, monkeypatch, members):
    monkeypatch.setattr(selectors, "_UNION_MEMBERS", members)
    subjects = [f"tests.thing:{n}" for n in (0, 3, 3, 7, 11, 99)]
    plain = AuditEvent.objects.filter(subject__in=subjects).order_by("-seq")
    expected = list(plain.values_list("seq", flat=True))
    assert selectors.newest_seqs("subject", subjects, limit=25) == expected[:25]
    middle = expected[30]
    older = list(plain.filter(seq__lt=middle).values_list("seq", flat=True)[:40])
    assert selectors.newest_seqs("subject", subjects, limit=40, before=middle) == older
    assert selectors.newest_seqs("subject", subjects, limit=10_000) == expected
    assert selectors.newest_seqs("subject", [], limit=5) == []


@pytest.mark.parametrize("members", [200, 3])
def test_newest_events_are_the_plain_query_s_events_with_their_fields(events, monkeypatch, members):
    monkeypatch.setattr(selectors, "_UNION_MEMBERS", members)
    subjects = [f"tests.thing:{n}" for n in (1, 4, 4, 8)]
    fields = ("action", "actor_label", "occurred_at")
    plain = AuditEvent.objects.filter(subject__in=subjects).order_by("-seq")[:20]
    found = selectors.newest_events("subject", subjects, limit=20, fields=fields)
    assert [(e.seq, e.action, e.actor_label, e.occurred_at) for e in found] == [
        (e.seq, e.action, e.actor_label, e.occurred_at) for e in plain
    ]
    assert found[0].occurred_at.tzinfo is not None  # converted as the ORM converts it
    assert selectors.newest_events("subject", [], limit=5, fields=fields) == []


def test_newest_seqs_reads_only_indexed_columns():
    with pytest.raises(ValueError, match="no \\(column, seq\\) index on 'action'"):
        selectors.newest_seqs("action", ["x"], limit=1)


def test_record_many_appends_in_order_under_one_head(db):
    audit.record(action="core.test.first", actor="system:tests")
    events = audit.record_many(
        [
            {"action": "core.test.happened", "actor": "system:tests", "after": {"n": n}}
            for n in range(5)
        ]
    )
    assert [e.after["n"] for e in events] == list(range(5))
    seqs = [e.seq for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert audit.record_many([]) == []
    report = audit.verify_chain()
    assert report.ok and report.head_seq == seqs[-1]
