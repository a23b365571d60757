"""The scale benchmark: the app at the size of a large lab, against floors measured in the
same run, on PostgreSQL + Redis with gunicorn (2 workers) and a real Celery worker.

    make bench-scale                      # defaults: the full seed_scale sizes, 10 s per load
    .venv/bin/python benchmarks/scale.py --scale 0.1 --duration 5   # a quicker, smaller run

It (1) creates a fresh database (``--database``, dropped first) and fills it with
``manage.py seed_scale``; (2) starts gunicorn and a Celery worker on it; (3) measures the
floors: a trivial page through the same stack, a no-op task round trip, a raw psycopg insert
of result rows, SHA-256 of canonical audit bytes; (4) loads each page with wrk over loopback at
concurrency 1 and 8 (p50, p95, requests/s); (5) measures batch ingestion through the API,
result-to-level latency through the worker, a full recompute after a policy is published,
verify_audit and export rates; (6) keeps EXPLAIN (ANALYZE, BUFFERS) of each page's slowest
query; (7) writes the table, with ratios to the floors and each target met or missed, to
``--out`` (default ``bench/results-<UTC time>.md``; ``--baseline`` writes ``bench/baseline.md``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH = ROOT / "bench"

from benchmarks.scale_report import Load, Results, _machine, _report  # noqa: E402
from benchmarks.stack import (  # noqa: E402
    _analyze,
    _env,
    _fresh_database,
    _http,
    _manage,
    _start,
    _stop,
    _wrk,
)


def _world() -> dict[str, Any]:
    """Who and what the pages are loaded as and for, chosen from the seeded data."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.test import Client

    from core import tokens
    from core.models import AuditEvent
    from evaluations.models import Model, ModelVersion
    from releases.models import Release

    users = get_user_model().objects
    superuser = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
    model = Model.objects.order_by("pk").first()
    owner = model.owner
    version = (
        ModelVersion.objects.filter(model__owner=owner)
        .annotate(run_count=Count("runs"))
        .order_by("-run_count", "pk")
        .first()
    )
    release = Release.objects.filter(model_version__model__owner=owner).order_by("pk").first()

    def cookie(user: Any) -> str:
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}"

    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    return {
        "superuser": cookie(superuser),
        "owner": cookie(owner),
        "owner_user": owner,
        "token": tokens.token_create(actor=owner, user=owner, name="scale benchmark").key,
        "version": version,
        "release": release,
        "deep_before": min(1_000, head),
        "head": head,
    }


def _pages(world: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    su = {"Cookie": world["superuser"]}
    owner = {"Cookie": world["owner"]}
    release, version = world["release"], world["version"]
    return [
        ("trivial page (floor)", "/bench/trivial", su),
        ("dashboard", "/", su),
        ("register", "/register/", su),
        ("models list", "/models/", su),
        ("model version page", f"/models/versions/{version.label}/", su),
        ("release list, superuser", "/releases/", su),
        ("release list, scoped owner", "/releases/", owner),
        ("release page", f"/releases/{release.pk}/", su),
        ("audit list, page 1", "/audit/", su),
        ("audit list, deep page", f"/audit/?before={world['deep_before']}", su),
        (
            "gate API (live freshness)",
            f"/api/v1/releases/{release.pk}/gate/",
            {"Authorization": f"Token {world['token']}"},
        ),
    ]


def _floors(results: Results, samples: int = 200) -> None:
    import psycopg
    from django.db import connection

    from core import audit, chainhash
    from core.canonical import canonical_json
    from core.models import AuditEvent
    from core.tasks import echo

    timings = []
    for n in range(samples):
        started = time.perf_counter()
        assert echo.delay(str(n)).get(timeout=30) == str(n)  # nosec B101  # self-check
        timings.append((time.perf_counter() - started) * 1000)
    results.floors["no-op task round trip p50 ms"] = statistics.median(timings)
    results.floors["no-op task round trip p95 ms"] = statistics.quantiles(timings, n=20)[-1]

    # The same rows batch ingestion writes: 20,000 results, inserted by psycopg directly.
    rows = [(n // 20 + 1, f"metric_{n % 20}", 0.01 * n, 0.001, 100) for n in range(20_000)]
    settings = connection.settings_dict
    dsn = (
        f"host={settings['HOST']} port={settings['PORT'] or 5432} dbname={settings['NAME']} "
        f"user={settings['USER']}"
    )
    with psycopg.connect(dsn) as raw:
        # Same columns, identity and indexes (the unique run + metric one too), no triggers.
        raw.execute("CREATE TEMP TABLE floor_result (LIKE evaluations_result INCLUDING ALL)")
        started = time.perf_counter()
        with raw.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO floor_result (run_id, metric, value, stderr, samples) "
                "VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
        raw.commit()
        results.floors["raw insert results/s"] = len(rows) / (time.perf_counter() - started)

    # SHA-256 of the canonical bytes of 100,000 events (the bytes built beforehand).
    fields = chainhash.FIELDS
    payloads = [
        canonical_json(audit.hash_payload(dict(zip(fields, row, strict=True))))
        for row in AuditEvent.objects.order_by("seq").values_list(*fields)[:100_000]
    ]
    started = time.perf_counter()
    for payload in payloads:
        hashlib.sha256(payload).hexdigest()
    results.floors["sha256 of canonical events/s"] = len(payloads) / (time.perf_counter() - started)


def _ingestion(world: dict[str, Any], results: Results, batches: int = 10) -> None:
    """Batches of 100 runs x 20 results through the API, as a pipeline would send them."""
    from evaluations.models import Evaluation

    keys = list(Evaluation.objects.order_by("key").values_list("key", flat=True)[:20])
    label = world["version"].label
    headers = {"Authorization": f"Token {world['token']}"}
    total, elapsed = 0, 0.0
    for b in range(batches):
        body = [
            {
                "model_version": label,
                "evaluation": keys[r % len(keys)],
                "run_id": f"scale-bench-{b}-{r}",
                "status": "success",
                "results": [
                    {
                        "metric": f"bench_metric_{m}",
                        "value": 0.01 * m,
                        "stderr": 0.001,
                        "samples": 100,
                    }
                    for m in range(20)
                ],
            }
            for r in range(100)
        ]
        started = time.perf_counter()
        status, answer = _http("POST", "/api/v1/evaluation-runs/", body, headers)
        elapsed += time.perf_counter() - started
        if status != 201:
            raise RuntimeError(f"ingestion answered {status}: {answer[:500]!r}")
        total += 2_000
    results.figures["batch ingestion results/s"] = total / elapsed


def _result_to_level(world: dict[str, Any], results: Results, samples: int = 20) -> None:
    """From a crossing result's answer (201) to the required level the worker computes."""
    from evaluations import services
    from evaluations.models import ModelVersion
    from governance import content
    from governance.models import PolicyVersion

    policy = PolicyVersion.objects.governing()
    data = content.version_content(content.load_version(policy.pk))
    threshold = max(data["thresholds"], key=lambda t: t["required_level"])
    condition = threshold["conditions"][0]
    crossing = condition["value"] + 1 if condition["comparator"] in (">=", ">") else -1
    owner, model = world["owner_user"], world["version"].model
    headers = {"Authorization": f"Token {world['token']}"}
    timings = []
    for n in range(samples):
        version = services.model_version_create(actor=owner, model=model, label=f"lat-{n}")
        _wait(
            lambda v=version: (
                not ModelVersion.objects.filter(pk=v.pk, needs_recompute=True).exists()
            )
        )
        before = ModelVersion.objects.get(pk=version.pk).assessed_watermark
        body = {
            "model_version": version.label,
            "evaluation": condition["evaluation"],
            "run_id": f"lat-{n}",
            "status": "success",
            "results": [{"metric": condition["metric"], "value": crossing}],
        }
        started = time.perf_counter()
        status, _ = _http("POST", "/api/v1/evaluation-runs/", body, headers)
        assert status == 201, status  # nosec B101  # self-check
        _wait(
            lambda v=version, b=before: ModelVersion.objects.filter(
                pk=v.pk, needs_recompute=False, assessed_watermark__gt=b
            ).exists(),
            pause=0.005,
        )
        timings.append(time.perf_counter() - started)
    results.figures["result-to-level p50 ms"] = statistics.median(timings) * 1000
    results.figures["result-to-level p95 ms"] = statistics.quantiles(timings, n=20)[-1] * 1000


def _full_recompute(results: Results) -> None:
    """Publish a new version of the governing policy, signed by as many governance leads as
    its quorum needs: every model version is reassessed by the worker."""
    from django.contrib.auth import get_user_model

    from core import roles, signing
    from evaluations.models import ModelVersion
    from governance import publishing, services
    from governance.models import PolicyVersion

    policy = PolicyVersion.objects.governing()
    leads = list(
        get_user_model()
        .objects.filter(groups__name=roles.GOVERNANCE_LEAD.name, is_active=True)
        .order_by("pk")
    )
    draft = services.draft_start(actor=leads[0], policy=policy.policy)
    started = time.perf_counter()  # the last signature publishes: the clock runs from there
    for lead in leads:
        started = time.perf_counter()
        publishing.version_sign(
            actor=lead, version=draft, reauth=signing.demo_reauthentication(lead)
        )
        draft.refresh_from_db()
        if draft.state == PolicyVersion.State.PUBLISHED:
            break
    _wait(
        lambda: (
            not ModelVersion.objects.exclude(assessed_policy=draft, needs_recompute=False).exists()
        ),
        timeout=600,
    )
    results.figures["full recompute seconds"] = time.perf_counter() - started
    results.figures["model versions recomputed"] = ModelVersion.objects.count()


def _audit_rates(results: Results) -> None:
    from core import audit
    from core.models import AuditEvent
    from oversight import bundle

    report = audit.verify_chain()
    assert report.ok, report.problem  # nosec B101  # self-check
    results.figures["verify_audit events/s"] = report.rate
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    with tempfile.TemporaryFile() as out:
        summary = bundle.write_bundle(
            out,
            events=AuditEvent.objects.filter(seq__gt=head - 100_000),
            filters={},
            generated_by="benchmark",
        )
    results.figures["export events/s"] = summary.events / summary.seconds
    results.figures["export events"] = summary.events
    results.figures["export seconds"] = summary.seconds


def _explain(world: dict[str, Any], results: Results) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest query of each page, as the page runs it."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    for name, url, headers in _pages(world)[1:]:
        client = Client(HTTP_HOST="127.0.0.1")
        if "Cookie" in headers:
            client.cookies.load(headers["Cookie"])
        extra = (
            {"HTTP_AUTHORIZATION": headers["Authorization"]} if "Authorization" in headers else {}
        )
        client.get(url, **extra)
        with CaptureQueriesContext(connection) as queries:
            client.get(url, **extra)
        slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        results.explains[name] = (
            f"-- {name}: {url} ({len(queries.captured_queries)} queries; the slowest, "
            f"{float(slowest['time']) * 1000:.1f} ms)\n{slowest['sql']}\n\n{plan}\n"
        )


def _wait(predicate: Any, timeout: float = 120, pause: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for the worker")
        time.sleep(pause)


# --- The report -------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/governance_scale_bench"
        ),
    )
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    )
    parser.add_argument("--scale", type=float, default=1.0, help="seed_scale sizes x this")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--baseline", action="store_true", help="write bench/baseline.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: run `make bench-scale`, which installs it")

    results = Results()
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as scratch_name:
        scratch = Path(scratch_name)
        env = _env(scratch, args.database, args.redis)
        os.environ.update(
            {
                k: v
                for k, v in env.items()
                if k not in os.environ
                or k
                in (
                    "DATABASE_URL",
                    "REDIS_URL",
                    "DJANGO_SECRET_KEY",
                    "DJANGO_ALLOWED_HOSTS",
                    "SIGNING_KEY_FILE",
                    "APP_VAR_DIR",
                    "DJANGO_SETTINGS_MODULE",
                    "LOG_LEVEL",
                )
            }
        )
        print("database: fresh, migrated, seeded …", flush=True)
        _fresh_database(args.database)
        _manage(env, "migrate", "-v0")
        results.seed_seconds = _manage(env, "seed_scale", "--scale", str(args.scale))
        _analyze(args.database)  # what autovacuum does after a bulk load, done before measuring

        import django

        django.setup()
        from config.celery import app

        app.control.purge()
        processes = _start(env, scratch)
        try:
            results.counts = _counts()
            world = _world()
            print("floors …", flush=True)
            _floors(results)
            for name, url, headers in _pages(world):
                load = Load(name)
                load.c1 = _wrk(url, headers, 1, args.duration)
                load.c8 = _wrk(url, headers, 8, args.duration)
                results.loads.append(load)
                print(
                    f"{name:32} c=1 p50 {load.c1['p50_ms']:7.1f} ms p95 {load.c1['p95_ms']:7.1f}"
                    f" ms | c=8 p95 {load.c8['p95_ms']:7.1f} ms {load.c8['rps']:7.0f}/s",
                    flush=True,
                )
            print("ingestion, latency, recompute, audit …", flush=True)
            _ingestion(world, results)
            _result_to_level(world, results)
            _explain(world, results)
            _audit_rates(results)
            _full_recompute(results)
            machine = _machine()
        finally:
            _stop(processes)
    report = _report(results, args, machine)
    BENCH.mkdir(exist_ok=True)
    out = args.out or (
        BENCH
        / ("baseline.md" if args.baseline else f"results-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.md")
    )
    out.write_text(report)
    # The baseline's plans are committed in bench/explain/; any other run's sit beside its report.
    explain_dir = BENCH / "explain" if args.baseline else out.with_name(f"{out.stem}-explain")
    explain_dir.mkdir(parents=True, exist_ok=True)
    for name, plan in results.explains.items():
        slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
        (explain_dir / f"{slug}.txt").write_text(plan)
    print(report)
    print(f"written to {out}")


def _counts() -> dict[str, int]:
    from django.contrib.auth import get_user_model

    from core.models import AuditEvent, Signature
    from evaluations.models import ModelVersion, Result
    from releases.models import Release

    return {
        "users": get_user_model().objects.count(),
        "model versions": ModelVersion.objects.count(),
        "releases": Release.objects.count(),
        "results": Result.objects.count(),
        "signatures": Signature.objects.count(),
        "audit events": AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        or 0,
    }


if __name__ == "__main__":
    main()
