# Embedded default: `make run` (SQLite, demo cohort, worker) and `make test` (the whole suite).
# Production runs with docker compose; see README.md.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PATIENTS ?= 329
# The embedded setup is a development setup: DEBUG on, data under var/.
DEV := DEBUG=1
# Tests keep their broker and cache apart from a running `make run`.
TEST_ENV := DEBUG=1 VAR_DIR=var/test

.PHONY: install run test lint typecheck check-django worker clean help system-deps messages

help:
	@echo "make run    set up (venv, SQLite, demo cohort, demo users) and serve http://$(HOST):$(PORT)"
	@echo "make test   set up and run the whole test suite (lint, types, checks, tests)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Debian packages the tests need: Chromium for the browser tests, gettext for the catalogues.
# CI runs as root on Debian; elsewhere install them once by hand (sudo apt-get install ...).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	if [ -n "$$missing" ]; then \
		echo "Installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Refresh the French catalogue after changing texts, then translate the new entries.
messages: install
	$(DEV) $(BIN)/python manage.py makemessages -l fr --ignore=.venv --ignore=var --no-location --no-wrap
	$(DEV) $(BIN)/python manage.py compilemessages --ignore=.venv

run: install
	@mkdir -p var
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py seed_demo --patients $(DEMO_PATIENTS) --ongoing --if-empty
	$(DEV) $(BIN)/python manage.py create_demo_users
	@echo ""
	@echo "  Ketamine follow-up is starting at http://$(HOST):$(PORT)/"
	@echo "  Demo logins (password ketamine-demo): nurse, clinician, statistician, datamanager"
	@echo "  Stop with Ctrl-C."
	@echo ""
	@$(DEV) bash -c 'trap "kill 0" EXIT; \
		$(BIN)/celery -A config worker --beat --pool solo --queues celery,analysis --loglevel WARNING \
			--schedule var/celerybeat-schedule & \
		$(BIN)/python manage.py runserver $(HOST):$(PORT)'

worker: install
	$(DEV) $(BIN)/celery -A config worker --beat --pool solo --queues celery,analysis --loglevel INFO --schedule var/celerybeat-schedule

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

check-django: install
	$(TEST_ENV) $(BIN)/python manage.py check
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

test: install system-deps lint typecheck check-django
	$(TEST_ENV) $(BIN)/python -m pytest

clean:
	rm -rf var/test .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
