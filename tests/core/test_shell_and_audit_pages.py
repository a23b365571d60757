import re

import pytest
from django.urls import reverse

from core import audit

pytestmark = pytest.mark.django_db


def _nav_labels(response):
    return re.findall(
        r'class="nav-link[^"]*" href="[^"]+"\s*(?:aria-current="page")?>([^<]+)<',
        response.content.decode(),
    )


def _events(count):
    for n in range(count):
        audit.record(
            action="core.test.happened",
            actor="system:tests",
            object_type="tests.thing",
            object_id=str(n % 3),
            object_repr=f"thing {n}",
            after={"n": n},
        )


@pytest.mark.parametrize(
    ("persona", "labels"),
    [
        ("outsider", ["Dashboard", "Register", "Models", "Releases", "API tokens"]),
        ("owner", ["Dashboard", "Register", "Models", "Releases", "API tokens"]),
        ("authority", ["Dashboard", "Register", "Models", "Releases", "API tokens"]),
        (
            "lead",
            [
                "Dashboard",
                "Register",
                "Models",
                "Releases",
                "Obligations",
                "Audit trail",
                "API tokens",
            ],
        ),
        (
            "auditor",
            [
                "Dashboard",
                "Register",
                "Models",
                "Releases",
                "Obligations",
                "Audit trail",
                "API tokens",
            ],
        ),
        (
            "superuser",
            [
                "Dashboard",
                "Register",
                "Models",
                "Releases",
                "Obligations",
                "Audit trail",
                "API tokens",
                "Admin console",
            ],
        ),
    ],
)
def test_navigation_shows_what_each_role_may_open(client, request, persona, labels):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("dashboard"))
    assert _nav_labels(response) == labels


def test_the_dashboard_names_the_persons_roles(client, lead):
    client.force_login(lead)
    content = client.get(reverse("dashboard")).content.decode()
    assert "Governance lead." in content
    assert "Maintains the commitment register" in content


def test_the_dashboard_shows_the_chain_only_to_audit_readers(client, owner, auditor):
    _events(3)
    client.force_login(owner)
    assert b"chain-entries" not in client.get(reverse("dashboard")).content
    client.force_login(auditor)
    content = client.get(reverse("dashboard")).content.decode()
    # 3 test events + the auditor's and owner's creation and role grants
    assert f'<span data-testid="chain-entries">{audit.verify_chain().entries}</span>' in content


def test_the_dashboard_query_count_is_bounded(client, auditor, django_assert_max_num_queries):
    _events(30)
    client.force_login(auditor)
    with django_assert_max_num_queries(12):  # the audit panel and the releases panel
        assert client.get(reverse("dashboard")).status_code == 200


def test_the_audit_list_pages_newest_first_by_keyset(client, auditor, monkeypatch):
    from oversight import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 10)
    _events(25)
    client.force_login(auditor)
    newest = audit.verify_chain().head_seq
    first = client.get(reverse("oversight:audit-list"))
    seqs = [event.seq for event in first.context["page"].events]
    assert seqs == list(range(newest, newest - 10, -1))
    second = client.get(
        reverse("oversight:audit-list"), {"before": first.context["page"].next_before}
    )
    assert second.context["page"].events[0].seq == newest - 10


def test_the_audit_list_filters_by_object_and_action(client, auditor):
    _events(9)
    client.force_login(auditor)
    response = client.get(
        reverse("oversight:audit-list"), {"object_type": "tests.thing", "object_id": "1"}
    )
    events = response.context["page"].events
    assert [event.object_repr for event in events] == ["thing 7", "thing 4", "thing 1"]
    response = client.get(reverse("oversight:audit-list"), {"action": "core.role"})
    assert {event.action for event in response.context["page"].events} == {"core.role.granted"}


def test_a_bad_page_position_is_a_clear_400(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("oversight:audit-list"), {"before": "abc"})
    assert response.status_code == 400
    assert b"Invalid page position" in response.content


def test_the_audit_list_query_count_is_bounded(client, auditor, django_assert_max_num_queries):
    _events(120)
    client.force_login(auditor)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("oversight:audit-list"), {"before": 100})
    assert len(response.context["page"].events) == 50


def test_an_event_page_shows_its_hashes_and_data(client, auditor, django_assert_max_num_queries):
    event = audit.record(action="core.test.happened", actor=auditor, after={"why": "<script>"})
    client.force_login(auditor)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("oversight:audit-detail", kwargs={"seq": event.seq}))
    content = response.content.decode()
    assert event.hash in content and event.prev_hash in content
    assert "&lt;script&gt;" in content and "<script>" not in content.split("</head>")[1]


def test_a_missing_event_is_a_404(client, auditor):
    client.force_login(auditor)
    assert client.get(reverse("oversight:audit-detail", kwargs={"seq": 10**6})).status_code == 404


def test_every_response_carries_a_request_id_and_security_headers(client, owner, settings):
    client.force_login(owner)
    chosen = client.get(reverse("dashboard"), HTTP_X_REQUEST_ID="abc-123")
    assert chosen["X-Request-ID"] != "abc-123"  # a client does not choose audit request ids
    settings.PROXY_COUNT = 1
    response = client.get(reverse("dashboard"), HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    hostile = client.get(reverse("dashboard"), HTTP_X_REQUEST_ID="<bad id>")
    assert re.fullmatch(r"[0-9a-f]{32}", hostile["X-Request-ID"])


def test_error_pages_leak_nothing(client, owner):
    client.force_login(owner)
    response = client.get("/no/such/page/secret-token")
    assert response.status_code == 404
    assert b"secret-token" not in response.content
    assert b"Not found" in response.content


def test_a_forbidden_page_says_so_and_nothing_more(client, owner):
    client.force_login(owner)
    response = client.get(reverse("oversight:audit-list"))
    assert response.status_code == 403
    assert b"You do not have permission to do this." in response.content
    assert b"core.view_auditevent" not in response.content


def test_the_server_error_page_renders_without_a_request_context(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"Traceback" not in response.content
