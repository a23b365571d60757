from __future__ import annotations

import os

import pytest
from django.conf import settings

from core import roles, services
from tests.audit_bypass import audit_guard_bypassed

PASSWORD = "correct-horse-battery-staple"


def services_enabled() -> bool:
    database, redis = bool(os.environ.get("DATABASE_URL")), bool(os.environ.get("REDIS_URL"))
    if database != redis:
        raise pytest.UsageError(
            "Set both DATABASE_URL and REDIS_URL for the services tier, or neither for the "
            "embedded default."
        )
    return database


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The services tier's tests need PostgreSQL, Redis and a worker process: on the embedded
    default they are deselected (reported as such), never skipped. The fault tests need a
    Redis of their own as well (``make faults``)."""
    services, faults = services_enabled(), bool(os.environ.get("FAULTS_REDIS_PORT"))
    keep, drop = [], []
    for item in items:
        unwanted = (item.get_closest_marker("services") and not services) or (
            item.get_closest_marker("faults") and not faults
        )
        (drop if unwanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", autouse=True)
def _empty_task_queue_afterwards():
    """Tasks enqueued (and never consumed) by services-tier tests are not left in Redis."""
    yield
    if services_enabled():
        from config.celery import app

        app.control.purge()


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process for this test, whatever the tier (the services tier has its
    own tests through a real worker)."""
    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def audit_tamper():
    """Switch the database's audit guard off inside a ``with`` block (tests only)."""
    return audit_guard_bypassed


def make_person(username: str, *role_list: roles.Role, superuser: bool = False):
    return services.user_create(
        actor="system:tests",
        username=username,
        email=f"{username}@example.org",
        first_name=username.capitalize(),
        password=PASSWORD,
        is_superuser=superuser,
        roles=role_list,
    )


@pytest.fixture
def lead(db):
    return make_person("lena", roles.GOVERNANCE_LEAD)


@pytest.fixture
def owner(db):
    return make_person("omar", roles.PRODUCT_OWNER)


@pytest.fixture
def authority(db):
    return make_person("ada", roles.AUTHORITY)


@pytest.fixture
def auditor(db):
    return make_person("audrey", roles.AUDITOR)


@pytest.fixture
def outsider(db):
    """Signed in, but holds no role."""
    return make_person("oscar")


@pytest.fixture
def superuser(db):
    return make_person("sam", superuser=True)


@pytest.fixture
def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
