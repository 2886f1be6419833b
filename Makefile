# Child contact directory: everyday commands. `make help` lists them.
#
# Everything runs from the project's virtualenv (.venv, Python 3.11). When
# DATABASE_URL / REDIS_URL are unset, `make run` and `make test` start embedded
# PostgreSQL and Redis under var/ (contactpoint/embedded.py).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
INSTALL_STAMP := var/.install-stamp
# What the installed environment is built from: re-install when one changes.
INSTALL_INPUTS := requirements/lock.txt $(wildcard package-lock.json package.json) \
	frontend/govuk.scss

# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k crypto -x"`.
PYTEST_ARGS ?=
# pytest-xdist workers; `make test PYTEST_WORKERS=0` runs serially.
PYTEST_WORKERS ?= 2

.PHONY: help install run test lint bench lock clean

# help: list the targets.
help:
	@grep -E '^# [a-z]+: ' $(MAKEFILE_LIST) | sed 's/^# /  make /'

# install: virtualenv, locked Python packages (with uv), npm assets, Chromium.
# Idempotent and fast when nothing changed (stamp file under var/).
install: $(INSTALL_STAMP)

$(INSTALL_STAMP): $(INSTALL_INPUTS) $(VENV)/pyvenv.cfg
	test -x $(UV) || $(PY) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) pip install --python $(PY) --require-hashes -r requirements/lock.txt
	# Bytecode for the installed packages, written even under
	# PYTHONDONTWRITEBYTECODE=1 (otherwise every process, every xdist worker,
	# compiles Django and friends again: seconds each).
	$(PY) -m compileall -q -j 0 $(VENV)/lib/python3.11/site-packages > /dev/null
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
		else npm install --no-audit --no-fund; fi
	npm run build:css
	if [ ! -x /usr/bin/chromium ]; then \
		apt-get update && apt-get install -y chromium; fi
	mkdir -p var && touch $@

$(VENV)/pyvenv.cfg:
	python3.11 -m venv $(VENV)

# run: the whole service locally (web, worker, beat) on http://127.0.0.1:8000.
run: install
	$(PY) scripts/run.py

# test: the test suite, on PYTEST_WORKERS xdist workers, plus PYTEST_ARGS.
# pytest's "no tests collected" (exit 5) is a failure, never a pass.
test: install
	@status=0; \
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) \
		|| status=$$?; \
	if [ $$status -eq 5 ]; then \
		echo "make test: FAILED: pytest collected no tests (exit 5)." >&2; fi; \
	exit $$status

# lint: ruff (lint and format check), mypy (strict), import-linter contracts,
# bandit, `check --deploy` on the production settings, no missing migration,
# and pip-audit over the lock (skipped, with a notice, where PyPI's
# vulnerability data cannot be reached).
# mypy loads the settings, which need a DATABASE_URL (it never connects).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DATABASE_URL=$${DATABASE_URL:-postgres://lint@localhost/lint} \
		$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/bandit --quiet -c pyproject.toml -r .
	$(PY) scripts/check_deploy.py
	# Reads the models and migration files only: the database is never
	# reached, so Django's warning about its migration history is dropped.
	DJANGO_SETTINGS_MODULE=contactpoint.settings.test \
		DATABASE_URL=postgres://lint@127.0.0.1:9/lint REDIS_URL=redis://127.0.0.1:9/0 \
		$(PY) -W "ignore:Got an error checking a consistent migration history" \
		manage.py makemigrations --check --dry-run
	$(PY) scripts/audit_dependencies.py

# bench: the benchmarks (python -m benchmarks).
bench: install
	$(PY) -m benchmarks

# lock: re-resolve requirements/lock.txt from pyproject.toml (then `make install`).
lock:
	test -x $(UV) || $(PY) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) pip compile pyproject.toml --extra dev --generate-hashes \
		--python-version 3.11 -o requirements/lock.txt

# clean: caches and build output. Keeps all server data under var/ and var/dev.env
# (the demo data cannot be decrypted without dev.env's keys).
clean:
	find . -path ./.venv -prune -o -path ./node_modules -prune -o \
		-type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .mypy_cache .ruff_cache test-results htmlcov .coverage
	rm -rf var/staticfiles $(INSTALL_STAMP)
