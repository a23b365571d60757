"""The auditor's view at scale: the event list at page 1 and deep in the chain, and exports.

    make bench-audit                                   # embedded default (a scratch SQLite file)
    DATABASE_URL=postgres://… REDIS_URL=redis://… make bench-audit    # a throw-away test_… db
    .venv/bin/python benchmarks/audit_views.py --events 1000000 --export 100000

It builds a chain of ``--events`` events in a scratch database (one in ten filed under the model
``orion``, the rest under ``vega``), then times, through the whole Django stack (test client,
middleware, templates), the audit list as an auditor of everything and as an auditor of
``orion`` only, at page 1 and at a page near the oldest event; then an export bundle of
``--export`` events. Figures are printed; the README quotes them.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.audit_chain import _bulk_chain, _setup  # Django on a scratch database


def _people_and_models() -> dict[str, object]:
    from core import roles, services
    from evaluations import services as evaluation_services

    def person(name: str, *role: roles.Role, superuser: bool = False) -> object:
        return services.user_create(
            actor="system:benchmark", username=name, email=f"{name}@example.org",
            password=secrets.token_urlsafe(16), roles=role, is_superuser=superuser,
        )  # fmt: skip

    admin = person("admin", superuser=True)
    owner = person("owner", roles.PRODUCT_OWNER)
    auditor = person("auditor", roles.AUDITOR)
    scoped = person("scoped", roles.SCOPED_AUDITOR)
    orion = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    vega = evaluation_services.model_create(actor=owner, slug="vega", name="Vega")
    evaluation_services.model_reader_grant(actor=admin, model=orion, reader=scoped)
    return {"auditor": auditor, "scoped": scoped, "orion": orion, "vega": vega}


def _determination(orion: int, vega: int) -> Callable[[int], dict[str, object]]:
    """Event content: one in ten filed under ``orion``, the rest under ``vega``."""

    def content(n: int) -> dict[str, object]:
        model = orion if n % 10 == 0 else vega
        return {
            "actor_id": None, "actor_label": "system:benchmark",
            "action": "evaluations.determination.changed",
            "object_type": "evaluations.determination", "object_id": str(n),
            "object_repr": f"determination {n}", "subject": f"evaluations.model:{model}",
            "before": {"outcome": "ruled_out"}, "after": {"outcome": "alert", "value": n / 7},
            "reason": "", "request_id": f"task:{n}", "scope_id": model,
        }  # fmt: skip

    return content


def _latencies(client: object, url: str, samples: int) -> tuple[float, float]:
    client.get(url)  # type: ignore[attr-defined]  # warm: templates, the database's cache
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)  # nosec B101  # self-check
    return statistics.median(timings), statistics.quantiles(timings, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--export", type=int, default=100_000, help="events in the export")
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        _setup(Path(scratch))
        from django.conf import settings
        from django.db import connection
        from django.test import Client

        settings.ALLOWED_HOSTS = ["testserver"]
        settings.SECURE_SSL_REDIRECT = False
        # Pages render without collectstatic: plain static URLs, as in the tests.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            world = _people_and_models()
            started = time.perf_counter()
            _bulk_chain(args.events, _determination(world["orion"].pk, world["vega"].pk))  # type: ignore[attr-defined]
            print(f"database: {connection.vendor}; built {args.events:,} events in "
                  f"{time.perf_counter() - started:.0f} s")  # fmt: skip
            deep = 1_000  # the oldest pages: 20,000 pages of 50 from the head
            for who in ("auditor", "scoped"):
                client = Client()
                client.force_login(world[who])
                pages = (
                    ("page 1", "/audit/"),
                    ("deep page", f"/audit/?before={deep}"),
                    ("model orion, deep", f"/audit/?model=orion&before={deep}"),
                )
                for label, url in pages:
                    p50, p95 = _latencies(client, url, args.samples)
                    print(f"audit list as {who:7} {label:18} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
            _export(args.export)
        finally:
            connection.creation.destroy_test_db(name, verbosity=0)


def _export(count: int) -> None:
    """A bundle of the ``count`` most recent orion events."""
    from core.models import AuditEvent
    from oversight import bundle

    orion_events = AuditEvent.objects.filter(subject__startswith="evaluations.model:")
    scope = orion_events.order_by("-seq").values_list("scope_id", flat=True).first()
    boundary = (
        AuditEvent.objects.filter(scope_id=scope).order_by("-seq").values_list("seq", flat=True)
    )[count - 1]
    events = AuditEvent.objects.filter(scope_id=scope, seq__gte=boundary)
    with tempfile.TemporaryFile() as out:
        summary = bundle.write_bundle(
            out, events=events, filters={"model": "orion"}, generated_by="benchmark"
        )
        size = out.tell()
    print(f"export: {summary.events:,} events (chain rows {summary.chain_from:,}.."
          f"{summary.chain_to:,}) in {summary.seconds:.1f} s = "
          f"{summary.events / summary.seconds:,.0f} events/s, {size / 1e6:.0f} MB zip")  # fmt: skip


if __name__ == "__main__":
    main()
