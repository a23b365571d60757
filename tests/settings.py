"""Test settings: the real settings, plus a test-only app and what plain-HTTP testing needs."""

import os

# Services-tier runs set DATABASE_URL, which makes a real secret key mandatory.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-" + "k" * 60)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

# tests.testapp first: its `flush` command (used between transactional tests) must win.
INSTALLED_APPS = ["tests.testapp", *INSTALLED_APPS]

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Fast hashing: the tests log people in thousands of times; production keeps PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_EAGER_PROPAGATES = True  # a failing task fails its test
# No collectstatic before tests: serve from the finders, without a manifest.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# One throw-away signing key per test run (the services tier has no embedded key).
if not os.environ.get("SIGNING_KEY_FILE"):
    import tempfile
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    SIGNING_KEY_FILE = str(Path(tempfile.mkdtemp(prefix="signing-")) / "signing-key.pem")
    Path(SIGNING_KEY_FILE).write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
