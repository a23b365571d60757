"""A request that fails on the server: 503 with Retry-After when the database could not be
reached (nothing was stored; trying again is safe), a plain 500 otherwise; JSON for the API,
a page without the database for the rest. The fault suite cuts real PostgreSQL connections
(tests/faults/test_database_cut.py); here the failure is raised where the database would."""

import json

import pytest
from django.db import OperationalError
from django.test import Client

from core import dashboard, tokens
from evaluations import ingestion

pytestmark = pytest.mark.django_db


def _boom(error):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.fixture
def client_500():
    return Client(raise_request_exception=False)


def test_an_unreachable_database_gives_the_api_a_503_to_retry(client_500, owner, monkeypatch):
    key = tokens.token_create(actor=owner, user=owner, name="ci").key
    monkeypatch.setattr(
        ingestion, "ingest_runs", _boom(OperationalError("server closed the connection"))
    )
    response = client_500.post(
        "/api/v1/evaluation-runs/",
        json.dumps({"model_version": "x", "evaluation": "y", "run_id": "z", "results": []}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert (response.status_code, response["Retry-After"]) == (503, "30")
    assert response.json() == {
        "detail": "The database is unavailable; nothing was stored. Try again in a moment."
    }


def test_an_unreachable_database_gives_a_page_a_503(client_500, owner, monkeypatch):
    client_500.force_login(owner)
    monkeypatch.setattr(dashboard, "panels_for", _boom(OperationalError("connection refused")))
    response = client_500.get("/")
    assert response.status_code == 503
    assert b"nothing of what you sent was stored" in response.content


def test_any_other_failure_is_a_plain_500(client_500, owner, monkeypatch):
    client_500.force_login(owner)
    monkeypatch.setattr(dashboard, "panels_for", _boom(ValueError("a bug")))
    response = client_500.get("/")
    assert response.status_code == 500
    assert not response.has_header("Retry-After")
    assert b"Something went wrong" in response.content
