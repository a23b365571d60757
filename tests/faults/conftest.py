"""Fault injection on the services tier (``make faults``): a private Redis this suite may stop
and start, real Celery worker processes it may kill, and PostgreSQL connections it may cut.

Selected only when ``FAULTS_REDIS_PORT`` names that private Redis (``scripts/faults`` starts
it); otherwise deselected, never skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from core import signing, tokens
from evaluations import services as evaluation_services
from governance import publishing, services
from tests.governance.factories import designate
from tests.services.conftest import ROOT, _database_url


def wait_for(predicate, timeout=60.0, pause=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(pause)
    return False


class PrivateRedis:
    """The Redis on ``FAULTS_REDIS_PORT``: nothing else uses it, so it may go down."""

    def __init__(self, port: int) -> None:
        self.port = port

    def _cli(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            check=False,
        )

    def up(self) -> bool:
        return self._cli("ping").stdout.strip() == b"PONG"

    def stop(self) -> None:
        self._cli("shutdown", "nosave")
        assert wait_for(lambda: not self.up(), timeout=10), "Redis did not stop"

    def start(self) -> None:
        if not self.up():
            subprocess.run(
                ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port",
                 str(self.port), "--save", "", "--appendonly", "no"],
                check=True, capture_output=True,
            )  # fmt: skip
        assert wait_for(self.up, timeout=10), "Redis did not start"


@pytest.fixture
def private_redis():
    redis = PrivateRedis(int(os.environ["FAULTS_REDIS_PORT"]))
    redis.start()
    yield redis
    redis.start()  # whatever a test did, the next one finds it running


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def workers(transactional_db, tmp_path):
    """Start real worker processes (solo pool) on the default queue; each stops after the test.

    A worker counts as started when it logs that it is ready: one that takes a task at once and
    blocks on it (as the kill test wants) could not answer a ping.
    """
    from config.celery import app

    app.control.purge()
    started: list[Worker] = []

    def start() -> Worker:
        name = f"faults-{uuid.uuid4().hex[:6]}@localhost"
        log = tmp_path / f"{name}.log"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
               "DATABASE_URL": _database_url()}  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                 "--without-gossip", "--without-mingle", "--loglevel=INFO", "-Q", "celery",
                 "-n", name],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        worker = Worker(process, log)
        started.append(worker)
        ready = wait_for(lambda: b" ready." in log.read_bytes() or process.poll() is not None)
        assert ready and process.poll() is None, f"the worker did not start:\n{log.read_text()}"
        return worker

    yield start
    for worker in started:
        worker.process.terminate()
    for worker in started:
        try:
            worker.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.process.kill()


@pytest.fixture
def database():
    """A connection of its own to the test database, outside Django: to hold locks and to
    cut other connections."""
    with psycopg.connect(_database_url(), autocommit=True) as own:
        yield own


def backend_pid() -> int:
    """The PostgreSQL backend of Django's connection in this thread."""
    connection.ensure_connection()
    return connection.connection.info.backend_pid


@pytest.fixture
def world(transactional_db, lead, owner):
    """The RSP template in force, model Orion with three versions, and an API token."""
    policy = services.template_load(actor=lead, name="rsp")
    designate(policy, lead)
    publishing.version_sign(actor=lead, version=policy, reauth=signing.demo_reauthentication(lead))
    for key in ("bio_uplift_probe", "cyber_ctf_suite"):
        evaluation_services.evaluation_create(actor=lead, key=key, name=key)
    model = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    versions = [
        evaluation_services.model_version_create(actor=owner, model=model, label=f"orion-2.{n}")
        for n in range(3)
    ]
    return {
        "policy": policy,
        "versions": versions,
        "token": tokens.token_create(actor=owner, user=owner, name="faults").key,
    }


def run_body(label: str, run_id: str, value: float = 0.7) -> dict[str, object]:
    return {
        "model_version": label,
        "evaluation": "bio_uplift_probe",
        "run_id": run_id,
        "status": "success",
        "completed_at": datetime.now(UTC).isoformat(),
        "results": [{"metric": "includes/accuracy", "value": value}],
    }
