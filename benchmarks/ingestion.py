"""Evaluation ingestion throughput and latency.

    make bench-ingest                                   # embedded default (SQLite)
    DATABASE_URL=… REDIS_URL=… make bench-ingest        # PostgreSQL, and a real Celery worker

Measures, on a scratch database (Django's test-database machinery, dropped afterwards):
1. batch ingestion through ``ingest_runs`` (validation, audit events, recompute mark):
   results per second, batches of 100 runs x 20 results;
2. a 50,000-result CSV import through ``import_bytes``;
3. with REDIS_URL: from a crossing result's commit to the updated required level, done by a real
   ``celery worker`` process, p50 and p95 over 30 results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess  # nosec B404  # starts a Celery worker, fixed arguments
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-" + "b" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")


def _setup(scratch: Path) -> None:
    import django
    from django.conf import settings

    if os.environ.get("DATABASE_URL") and not os.environ.get("SIGNING_KEY_FILE"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = scratch / "signing.pem"
        key.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        os.environ["SIGNING_KEY_FILE"] = str(key)
    os.environ.setdefault("APP_VAR_DIR", str(scratch / "var"))
    django.setup()
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(scratch / "bench.sqlite3")
    settings.MEDIA_ROOT = scratch / "media"


def _world():
    from core import roles, services, signing
    from evaluations import services as ev
    from governance import publishing
    from governance import services as gov

    lead = services.user_create(
        actor="system:bench", username="lead", password="x" * 20, roles=[roles.GOVERNANCE_LEAD]
    )
    owner = services.user_create(
        actor="system:bench", username="owner", password="x" * 20, roles=[roles.PRODUCT_OWNER]
    )
    policy = gov.template_load(actor=lead, name="rsp")
    publishing.version_sign(actor=lead, version=policy, reauth=signing.demo_reauthentication(lead))
    for n in range(20):
        ev.evaluation_create(actor=lead, key=f"bench_eval_{n}", name=f"Bench {n}")
    ev.evaluation_create(actor=lead, key="bio_uplift_probe", name="Bio uplift probe")
    model = ev.model_create(actor=owner, slug="orion", name="Orion")
    return lead, owner, model


def bench_batches(owner, model, *, batches: int) -> float:
    from evaluations import ingestion
    from evaluations import services as ev
    from evaluations.ingestion import ResultInput, RunInput

    ev.model_version_create(actor=owner, model=model, label="batch-target")
    now = datetime.now(UTC)
    total, elapsed = 0, 0.0
    for b in range(batches):
        runs = [
            RunInput(
                model_version="batch-target",
                evaluation=f"bench_eval_{r % 20}",
                run_id=f"b{b}-r{r}",
                status="success",
                completed_at=now,
                results=tuple(ResultInput(f"metric_{m}", 0.01 * m, 0.001, 100) for m in range(20)),
            )
            for r in range(100)
        ]
        started = time.perf_counter()
        ingestion.ingest_runs(actor=owner, runs=runs, source="api")
        elapsed += time.perf_counter() - started
        total += 2000
    return total / elapsed


def bench_csv_import(owner, model, *, results: int) -> float:
    from evaluations import imports
    from evaluations import services as ev

    ev.model_version_create(actor=owner, model=model, label="csv-target")
    lines = ["model_version,evaluation,run_id,status,metric,value,stderr,samples,completed_at"]
    per_run = 100
    for n in range(results):
        lines.append(
            f"csv-target,bench_eval_{(n // per_run) % 20},csv-{n // per_run},success,"
            f"metric_{n % per_run},{(n % 97) / 100},0.01,50,2026-11-27T00:00:00Z"
        )
    data = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    imports.import_bytes(actor=owner, data=data, filename="bench.csv", model_version=None)
    return time.perf_counter() - started


def bench_worker_latency(owner, model, *, samples: int, scratch: Path) -> list[float]:
    """Commit a crossing result, then wait for the worker to raise the level."""
    from django.db import connection

    from evaluations import ingestion
    from evaluations import services as ev
    from evaluations.ingestion import ResultInput, RunInput
    from evaluations.models import ModelVersion

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url}
    log = (scratch / "worker.log").open("wb")
    worker = subprocess.Popen(  # nosec B603  # fixed argv, no shell
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            "celery",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    from config.celery import app

    app.control.purge()
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if time.monotonic() > deadline:
            raise RuntimeError("worker did not start")
    latencies = []
    try:
        for n in range(samples):
            label = f"latency-{n}"
            version = ev.model_version_create(actor=owner, model=model, label=label)
            while ModelVersion.objects.filter(pk=version.pk, needs_recompute=True).exists():
                time.sleep(0.01)  # the first assessment (no evidence) done by the worker
            before = ModelVersion.objects.get(pk=version.pk).assessed_watermark
            run = RunInput(
                model_version=label,
                evaluation="bio_uplift_probe",
                run_id=f"lat-{n}",
                status="success",
                completed_at=datetime.now(UTC),
                results=(ResultInput("includes/accuracy", 0.9),),
            )
            started = time.perf_counter()
            ingestion.ingest_runs(actor=owner, runs=[run], source="api")
            while not ModelVersion.objects.filter(
                pk=version.pk, needs_recompute=False, assessed_watermark__gt=before
            ).exists():
                time.sleep(0.005)
            latencies.append(time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--csv-results", type=int, default=50_000)
    parser.add_argument("--latency-samples", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        _setup(Path(scratch))
        from django.db import connection

        name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            _lead, owner, model = _world()
            print(f"database: {connection.vendor}")
            rate = bench_batches(owner, model, batches=args.batches)
            shape = f"{args.batches} batches of 100 runs x 20 results"
            print(f"batch ingestion: {rate:,.0f} results/s ({shape})")
            seconds = bench_csv_import(owner, model, results=args.csv_results)
            print(f"CSV import of {args.csv_results:,} results: {seconds:.1f} s")
            if os.environ.get("REDIS_URL") and connection.vendor == "postgresql":
                lat = bench_worker_latency(
                    owner, model, samples=args.latency_samples, scratch=Path(scratch)
                )
                p95 = statistics.quantiles(lat, n=20)[-1]
                p50 = statistics.median(lat)
                print(
                    "result commit -> required level via a real worker: "
                    f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms ({len(lat)} results)"
                )
        finally:
            connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
