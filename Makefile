# Two commands: `make run` (set up and serve the embedded default) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check faults venv browser worker beat bench bench-audit bench-scale bench-ingest clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11")'
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "Python's venv module is missing: sudo apt-get install python3-venv" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip || { rm -rf $(VENV); exit 1; }

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet '.[test,dev]'
	@touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed-run

# The embedded default: SQLite under var/, Celery eager, demo data. Safe to run again.
run: $(VENV)/.installed-run
	env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=true $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=true $(BIN)/python manage.py seed_demo
	@echo "Serving http://$(HOST):$(PORT)/ (Ctrl-C stops)"
	env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=true $(BIN)/python manage.py runserver $(HOST):$(PORT)

browser:
	@scripts/ensure-chromium

# Whole suite on the embedded default; with DATABASE_URL and REDIS_URL set, on PostgreSQL
# plus the tests that need a real Celery worker on Redis.
test: $(VENV)/.installed-test browser
	$(BIN)/pytest $(PYTEST_ARGS)

# Faults injected on the services tier: a worker killed mid-task, Redis stopped, database
# connections cut, tasks delivered twice (tests/faults; PostgreSQL must be running).
faults: $(VENV)/.installed-test
	scripts/faults $(PYTEST_ARGS)

check: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u DATABASE_URL -u REDIS_URL $(BIN)/mypy
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/bandit -c pyproject.toml -r core governance evaluations releases oversight config benchmarks -q

# Production-like processes for a services setup (DATABASE_URL and REDIS_URL set).
worker: $(VENV)/.installed-run
	$(BIN)/celery -A config worker --loglevel=INFO
beat: $(VENV)/.installed-run
	mkdir -p var
	$(BIN)/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/artifacts

bench: $(VENV)/.installed-run
	$(BIN)/python benchmarks/audit_chain.py

# The app at scale on PostgreSQL + Redis, gunicorn and a worker, loaded by wrk (installed here).
bench-scale: $(VENV)/.installed-run
	@scripts/ensure-wrk
	$(BIN)/python benchmarks/scale.py $(BENCH_ARGS)

bench-audit: $(VENV)/.installed-run
	$(BIN)/python benchmarks/audit_views.py

bench-ingest: $(VENV)/.installed-run
	$(BIN)/python benchmarks/ingestion.py
