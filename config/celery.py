"""The Celery application.

Without REDIS_URL, tasks run eagerly in the web process after the surrounding transaction
commits. With Redis, a task is acknowledged only after it finishes (acks_late) and is given
back to the queue if its worker dies (reject_on_worker_lost), so a killed worker loses
nothing; prefetch 1 keeps a slow task from holding others hostage. Every task must therefore
be idempotent.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("governance", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
