# syntax=docker/dockerfile:1
# One image for every process: web (gunicorn, the default command), Celery worker, Celery beat
# and the one-shot migration job. See docker-compose.yml and docs/production.md.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# A fixed, unprivileged UID, so that host files mounted into the container (the signing key)
# can be made readable by it alone: chown 10001 <file>.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first: this layer is rebuilt only when pyproject.toml changes. The project has
# no packages of its own ([tool.setuptools] packages = []); the source tree is used in place.
COPY pyproject.toml ./
RUN pip install . && rm -rf build ./*.egg-info

# The source stays owned by root: the application cannot modify its own code.
COPY . .

# Static files are collected into the image. Settings must import for that, so the build
# supplies throwaway values; nothing connects to the database and none of them persists.
# Uploaded files belong on a volume mounted at /app/var/media (docker-compose.yml does so); a
# new named volume takes this directory's ownership, so the application user can write to it.
ENV APP_VAR_DIR=/app/var
RUN DJANGO_SECRET_KEY=build-only-placeholder-not-a-secret-build-only-placeholder \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var/media \
 && chown app:app /app/var/media

USER app
EXPOSE 8000

# gunicorn reads its worker count from WEB_CONCURRENCY.
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "config.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--access-logfile", "-", \
     "--worker-tmp-dir", "/dev/shm"]
