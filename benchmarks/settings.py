"""Settings for the scale benchmark's gunicorn: the production settings, served over plain
HTTP on loopback, with one extra, trivial page as the floor the other pages are measured
against (``benchmarks/urls.py``)."""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

ROOT_URLCONF = "benchmarks.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# No collectstatic before a run: plain static URLs (the pages, not the assets, are measured).
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
