"""Settings for every environment, read from environment variables (see README, "Configuration").

Unset variables mean the embedded default: a SQLite file under ``var/``, Celery tasks run
eagerly in-process after commit, mail printed to the console. Setting ``DATABASE_URL`` and
``REDIS_URL`` switches to PostgreSQL and a real Celery worker on Redis.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from core.env import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_url,
    parse_email_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("APP_VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")

DEBUG = env_bool("DJANGO_DEBUG", False)
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql"))
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
if DATABASE_URL and not REDIS_URL:
    # Without a broker, tasks would run inside web requests and periodic checks never run.
    raise ImproperlyConfiguredEnv("REDIS_URL must be set when DATABASE_URL is set")

# The embedded default is a single-machine demo: it may invent what production must be given.
EMBEDDED = DATABASE_URL is None


def _secret_key() -> str:
    configured = env_str("DJANGO_SECRET_KEY")
    if configured is not None:
        if len(configured) < 50:
            raise ImproperlyConfiguredEnv("DJANGO_SECRET_KEY must be at least 50 characters")
        return configured
    if not EMBEDDED:
        raise ImproperlyConfiguredEnv("DJANGO_SECRET_KEY must be set when DATABASE_URL is set")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG or EMBEDDED else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfiguredEnv("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "bootstrap",
    "core",
    "governance",
    "evaluations",
    "releases",
    "oversight",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Default deny: every view needs a logged-in user unless it is marked login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages (it leaves a note for the login page); the login-required check runs
    # later, in process_view, so an expired session is already anonymous by then.
    "core.sessions.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.RequestIdMiddleware",
    # Last, so that a lockout response replaces whatever the login view produced.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "core.context_processors.shell",
            ],
        },
    },
]


def _databases() -> dict[str, dict[str, object]]:
    if DATABASE_URL is None:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": VAR_DIR / "db.sqlite3",
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead
                # of failing with "database is locked" when a read turns into a write.
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            }
        }
    config = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True))
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # axes first: it refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# django-guardian: no anonymous user object; every permission needs a logged-in person.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "core.errors.locked_out"  # JSON under /api/, with Retry-After
AXES_VERBOSE = False
# Behind N reverse proxies the client address is the Nth from the right in X-Forwarded-For
# (core/clientip.py); without this every client would share the proxy's address.
PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_ip"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
if EMBEDDED:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and not EMBEDDED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or EMBEDDED
MEDIA_ROOT = VAR_DIR / "media"

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Absolute: a session ends this many seconds after sign-in however active it is. Idle: it ends
# after this long without a request (core/sessions.py enforces both).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
# A password-reset link works once (it hashes the password it replaces) and for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600, minimum=300)
# Reset e-mails asked for, at most, per address and per client address in an hour
# (core/throttle.py); past that the page answers as always and sends nothing.
PASSWORD_RESET_PER_ADDRESS_PER_HOUR = env_int("PASSWORD_RESET_PER_ADDRESS_PER_HOUR", 3, minimum=1)
PASSWORD_RESET_PER_CLIENT_PER_HOUR = env_int("PASSWORD_RESET_PER_CLIENT_PER_HOUR", 20, minimum=1)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe /healthz over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Celery -----------------------------------------------------------------------------------
# The longest task may run TASK_TIME_LIMIT seconds; Redis redelivers an unacknowledged task
# after the visibility timeout, so it must be longer or a slow task would run twice at once.
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * 3600,
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that enqueues while Redis is down gives up quickly; the work stays recorded in
# the database and the sweep enqueues it later (core/jobs.py).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "UTC"
# How often the audit chain's head is signed as a checkpoint (core/checkpoints.py).
AUDIT_CHECKPOINT_SECONDS = env_int("AUDIT_CHECKPOINT_SECONDS", 3600, minimum=60)
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {"task": "core.tasks.verify_audit_chain", "schedule": 3600.0},
    "audit-checkpoint": {
        "task": "core.tasks.audit_checkpoint",
        "schedule": float(AUDIT_CHECKPOINT_SECONDS),
    },
    "sweep-recompute": {"task": "evaluations.tasks.sweep_recompute", "schedule": 60.0},
    "mark-stale-evidence": {"task": "evaluations.tasks.mark_stale_evidence", "schedule": 60.0},
    "sweep-gates": {"task": "releases.tasks.sweep_gates", "schedule": 60.0},
}
# Without Redis, tasks run in-process when their transaction commits (delay_on_commit).
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
# A failing in-process task is logged, not turned into an error page for a saved change.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"

# --- Mail -------------------------------------------------------------------------------------
_email = parse_email_url("EMAIL_URL")
EMAIL_BACKEND = _email.backend
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.user
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_TLS = _email.use_tls
EMAIL_USE_SSL = _email.use_ssl
DEFAULT_FROM_EMAIL = _email.default_from
SERVER_EMAIL = _email.default_from

SIGNING_KEY_FILE = env_str("SIGNING_KEY_FILE")

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Scaling governance API",
    "DESCRIPTION": (
        "Evaluation harnesses push results; training pipelines register model versions; "
        "deployment pipelines ask the release gate. Authenticate with `Authorization: Token <key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"DeterminationOutcome": "evaluations.models.Determination.Outcome"},
}
# JSON bodies of the API may be this large; file imports have their own, larger limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
API_MAX_BODY_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_MEGABYTES", 200, minimum=1) * 1024 * 1024
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_MEGABYTES", 25, minimum=1) * 1024 * 1024
# An export bundle from the web is built in the request; larger ones: manage.py export_audit.
AUDIT_EXPORT_MAX_EVENTS = env_int("AUDIT_EXPORT_MAX_EVENTS", 250_000, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
    },
    "loggers": {"axes": {"level": "WARNING"}},
}
