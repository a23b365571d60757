"""The stack the scale benchmark runs: a fresh database, gunicorn and a Celery worker, and wrk."""

from __future__ import annotations

import http.client
import json
import os
import subprocess  # nosec B404  # starts gunicorn, Celery and wrk, fixed arguments
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


def _env(scratch: Path, database_url: str, redis_url: str) -> dict[str, str]:
    key = scratch / "signing-key.pem"
    if not key.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": "scale-benchmark-only-" + "s" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SIGNING_KEY_FILE": str(key),
        "APP_VAR_DIR": str(scratch / "var"),
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "LOG_LEVEL": "WARNING",
    }


def _manage(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(  # nosec B603  # fixed argv, no shell
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True
    )
    return time.perf_counter() - started


def _fresh_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _analyze(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("ANALYZE")


def _start(env: dict[str, str], scratch: Path) -> list[subprocess.Popen[bytes]]:
    logs = scratch / "logs"
    logs.mkdir(exist_ok=True)
    web = subprocess.Popen(  # nosec B603  # fixed argv, no shell
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(logs / "gunicorn.log").open("wb"),
    )
    worker = subprocess.Popen(  # nosec B603  # fixed argv, no shell
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=(logs / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _ = _http("GET", "/login/")
            if status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or web.poll() is not None:
            raise RuntimeError(f"gunicorn did not start: {(logs / 'gunicorn.log').read_text()}")
        time.sleep(0.2)
    from config.celery import app

    while not app.control.ping(timeout=0.5):
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError(f"the worker did not start: {(logs / 'worker.log').read_text()}")
    return [web, worker]


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _http(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(
            method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- Load with wrk ----------------------------------------------------------------------------
def _wrk(url: str, headers: dict[str, str], concurrency: int, seconds: int) -> dict[str, float]:
    command = [
        "wrk",
        f"-t{min(concurrency, 2)}",
        f"-c{concurrency}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(ROOT / "benchmarks" / "bench.lua"),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(  # nosec B603  # fixed argv and our own URL, no shell
        [*command, BASE + url], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["bad_status"] or figures["socket_errors"]:
        raise RuntimeError(f"{url}: {figures['bad_status']} bad answers, {done.stdout}")
    return {
        "p50_ms": figures["p50_us"] / 1000,
        "p95_ms": figures["p95_us"] / 1000,
        "rps": figures["requests"] / figures["seconds"],
    }


# --- What is measured -------------------------------------------------------------------------
