from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    """The URL of the test database pytest-django created, for processes we start."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, queue: str, name: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.queue, self.name, self.process, self.log = queue, name, process, log


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real ``celery worker`` process on Redis and the test database, on a private queue."""
    yield from _worker(f"test-{uuid.uuid4().hex[:12]}", tmp_path)


@pytest.fixture
def default_queue_worker(transactional_db, tmp_path):
    """A real worker on the default queue: it runs what the application itself enqueues."""
    from config.celery import app

    app.control.purge()  # nothing left over from earlier tests
    yield from _worker("celery", tmp_path)


def _worker(queue, tmp_path):
    from config.celery import app

    name = f"{queue}-{uuid.uuid4().hex[:6]}@localhost"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
             "--without-gossip", "--without-mingle", "--loglevel=INFO", "-Q", queue, "-n", name],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text()}")
        yield WorkerProcess(queue, name, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
