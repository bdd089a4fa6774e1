VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTHON ?= python3

.PHONY: install install-dev run test lint format screenshots messages

# What serving needs (make run, make serve); the tests, lint and benchmarks add requirements-dev.txt.
install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The web server and the background worker together, as production runs them (docs/operations.md),
# showing the site as its patients see it: DEBUG off (the site's own 404 and 500 pages), over plain
# HTTP on this machine, mail printed here, links in emails and calendars to this PORT (SITE_URL).
# `DEBUG=1 make run` gives Django's debug pages instead (tracebacks, a 404 listing the URLs).
# Payments go to a local stand-in for Mercado Pago on MERCADOPAGO_PORT (payments/standin.py): its
# checkout page approves or rejects without a card, and it signs its notifications with the same
# demo secret the site checks them with. No money moves; no Mercado Pago account is needed.
DEBUG ?= 0
MERCADOPAGO_PORT ?= 8001
RUN_ENV = DEBUG=$(DEBUG) SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost} SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-0} \
	EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.console.EmailBackend} \
	SECRET_KEY=$${SECRET_KEY:-$$(cat .secret_key)} \
	MERCADOPAGO_API_URL=http://127.0.0.1:$(MERCADOPAGO_PORT) \
	MERCADOPAGO_ACCESS_TOKEN=$${MERCADOPAGO_ACCESS_TOKEN:-demo-access-token} \
	MERCADOPAGO_WEBHOOK_SECRET=$${MERCADOPAGO_WEBHOOK_SECRET:-demo-webhook-secret}

run: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_series
	$(PY) manage.py outbox_sweep
	@# A local key that survives restarts (sessions stay valid), as `make serve` keeps; never committed.
	@[ -s .secret_key ] || $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' >.secret_key
	@export $(RUN_ENV); $(PY) manage.py collectstatic --noinput -v0; \
	$(PY) manage.py mercadopago_standin --port $(MERCADOPAGO_PORT) & standin=$$!; \
	$(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker $$standin 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(PORT)

test: install-dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Regenerates the catalogs from every template and Python file of ours and compiles them (needs
# gettext). Then translate what is new in locale/es_AR, and run it again to compile.
messages: install-dev
	$(PY) manage.py messages

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

screenshots: install-dev
	SCREENSHOT_DIR=docs/screenshots $(VENV)/bin/pytest -m browser

# Production: migrate is a release step, run before starting the new servers
# (docs/operations.md); serve starts without the database and answers 503 until it is back.
.PHONY: migrate serve worker bench bench-quick

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

serve: install
	bench/serve.sh

# Runs background tasks (reminders, expiries, the outbox). Run one or more per machine.
worker: install
	$(PY) manage.py outbox_sweep
	$(PY) manage.py db_worker

# The load (wrk: req/s, latency, queries) and then the instructions per request (callgrind);
# docs/performance.md. BENCH_ARGS go to the first, INSTRUCTIONS_ARGS to the second.
bench: install-dev
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.instructions $(INSTRUCTIONS_ARGS)

bench-quick: install-dev
	$(PY) -m bench.run --quick $(BENCH_ARGS)
	$(PY) -m bench.instructions --quick $(INSTRUCTIONS_ARGS)
