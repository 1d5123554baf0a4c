# merchex: `make run` starts the site for development, `make test` runs every check and test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEV := DJANGO_DEBUG=true

.DEFAULT_GOAL := help
# Debian packages the tests use for real: the PostgreSQL server, Chromium for the browser
# tests, Java for the Nu HTML Checker, Redis for the cache tests, nginx for the picture serving tests.
TEST_PACKAGES := postgresql chromium openjdk-17-jre-headless redis-server nginx

.PHONY: help run serve bench soak lighthouse screenshots test test-sqlite test-postgres system-deps lint format migrations-check admin-password

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The site's own packages (make run, make serve); the test and lint tools on top (.installed).
$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed: $(VENV)/.run requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# `make run` also needs the offline Stripe test server (requirements-run.txt), not the test tools.
$(VENV)/.run: $(VENV)/.runtime requirements-run.txt
	$(PY) -m pip install --quiet -r requirements-run.txt
	touch $@

run: $(VENV)/.run  ## Set up (venv, deps, SQLite, demo data, admin, test payments) and serve http://127.0.0.1:8000.
	scripts/run

serve: $(VENV)/.runtime  ## Serve as in production: collectstatic, migrate, gunicorn (see README).
	scripts/serve

bench: $(VENV)/.installed  ## Benchmark every fan page and admin list at 100,000 listings, SQLite and PostgreSQL.
	scripts/system-deps wrk postgresql chromium nginx
	$(PY) scripts/bench.py --label SQLite
	scripts/postgres $(PY) scripts/bench.py --label PostgreSQL

soak: $(VENV)/.installed  ## Hostile requests, overlapping writes, steady writes under reads: SQLite, PostgreSQL.
	scripts/system-deps wrk postgresql
	$(PY) scripts/soak.py --label SQLite
	scripts/postgres $(PY) scripts/soak.py --label PostgreSQL

LIGHTHOUSE_NPM := scripts/lighthouse-runner

$(LIGHTHOUSE_NPM)/node_modules/.installed: $(LIGHTHOUSE_NPM)/package.json $(LIGHTHOUSE_NPM)/package-lock.json
	cd $(LIGHTHOUSE_NPM) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

lighthouse: $(VENV)/.installed $(LIGHTHOUSE_NPM)/node_modules/.installed  ## Lighthouse (mobile) on the fan pages with pictures, behind nginx.
	scripts/system-deps chromium nginx
	$(PY) scripts/lighthouse.py

screenshots: $(VENV)/.installed  ## Refresh the README's screenshots (docs/screenshots/).
	scripts/system-deps chromium
	$(PY) scripts/screenshots.py

admin-password: $(VENV)/.runtime  ## Print a new random password for the 'admin' user.
	$(DEV) $(PY) manage.py demoadmin --reset

lint: $(VENV)/.installed  ## ruff (pinned rule set in pyproject.toml) and formatting.
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed  ## Apply ruff's fixes and formatting.
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

migrations-check: $(VENV)/.installed  ## Fail if a model change has no migration.
	$(DEV) $(PY) manage.py makemigrations --check --dry-run

system-deps:
	scripts/system-deps $(TEST_PACKAGES)

node_modules/.installed: package.json package-lock.json  ## axe-core and vnu-jar, as locked.
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

test: lint migrations-check test-sqlite test-postgres  ## Set up and run every check and test.

test-sqlite: $(VENV)/.installed system-deps node_modules/.installed  ## The test suite on SQLite.
	$(PY) -m pytest

test-postgres: $(VENV)/.installed system-deps node_modules/.installed  ## The suite on a throwaway PostgreSQL.
	scripts/postgres $(PY) -m pytest
