# Xuefa — `make help` lists the targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
PROD_ENV = DJANGO_SETTINGS_MODULE=xuefa.settings.production \
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/xuefa} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost} \
	SECRET_KEY=$${SECRET_KEY:-$$(cat .secret_key)} \
	SECURE_SSL_REDIRECT=false SECURE_COOKIES=false

.PHONY: help install run serve-prod migrate demo test test-browser lint format messages check reset-db bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Xuefa needs Python 3.11 (found %d.%d); set PYTHON=/path/to/python3.11" % sys.version_info[:2])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	touch $(STAMP)

# axe-core for the accessibility checks (tests/browser/test_accessibility.py), pinned
# in package-lock.json; without npm those checks skip (and fail in CI).
NODE_STAMP := node_modules/.xuefa-installed
$(NODE_STAMP): package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility checks (axe-core) will be skipped"; fi

install: $(STAMP) $(NODE_STAMP) ## Create .venv and install pinned dependencies (and axe-core with npm)

migrate: install ## Apply database migrations
	$(MANAGE) migrate --noinput

demo: migrate ## Load the demo organisation and content (idempotent)
	$(MANAGE) load_demo_data

run: demo ## Install, migrate, load demo data and serve http://127.0.0.1:8000
	$(MANAGE) runserver $(HOST):$(PORT)

# The same per-clone key the development settings make on first use (site/settings/dev.py);
# umask 077 so that it is never readable by others, not even for a moment.
.secret_key:
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

serve-prod: install .secret_key ## Serve with production settings, PostgreSQL, Redis, gunicorn and the tasks worker (plain HTTP, local)
	@createdb -h 127.0.0.1 -U postgres xuefa 2>/dev/null || true
	$(PROD_ENV) $(MANAGE) migrate --noinput
	$(PROD_ENV) $(MANAGE) collectstatic --noinput -v0
	$(PROD_ENV) $(MANAGE) load_demo_data
	$(PROD_ENV) $(MANAGE) db_worker & worker=$$!; \
	$(PROD_ENV) $(MANAGE) submit_expired_attempts --loop & expiry=$$!; \
	$(PROD_ENV) $(MANAGE) purge_export_jobs --loop & housekeeping=$$!; \
	trap "kill $$worker $$expiry $$housekeeping" EXIT; \
	$(PROD_ENV) GUNICORN_BIND=$(HOST):$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py

# The browser tests run in a process of their own after the rest: they need the rows
# the migrations made, which the other transactional tests in a worker flush away.
# A filter (PYTEST_ARGS="-k roster") may select no browser test; that is not an error.
test: install ## Run the whole test suite (SQLite unless DATABASE_URL is set)
	$(BIN)/pytest -n 2 -m "not browser" $(PYTEST_ARGS)
	@status=0; $(BIN)/pytest -m browser tests/browser $(PYTEST_ARGS) || status=$$?; \
	[ $$status -eq 0 ] || { [ $$status -eq 5 ] && [ -n "$(if $(strip $(PYTEST_ARGS)),filtered)" ]; }

test-browser: install ## Run the browser tests only (needs Debian's chromium)
	$(BIN)/pytest -m browser tests/browser $(PYTEST_ARGS)

check: install ## Django system checks and missing-migration check
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

format: install ## Apply ruff formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install ## Extract and compile translations (needs GNU gettext)
	$(MANAGE) makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=tests --ignore=bench
	$(MANAGE) compilemessages -l zh_Hans --ignore=.venv

reset-db: install ## Delete the SQLite database and load demo data afresh
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm
	$(MAKE) demo

bench: install ## Run the benchmarks in bench/ (each prints its figures)
	@set -e; for script in $(wildcard bench/*.py); do echo "== $$script"; $(BIN)/python $$script; done

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
