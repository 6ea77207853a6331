# Two commands: `make run` serves on http://127.0.0.1:8000, `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test e2e faults cluster downstream migrate lint clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

migrate: $(VENV)/.runtime
	$(BIN)/flask db upgrade

run: migrate
	@echo "API docs: http://$${HOST:-127.0.0.1}:$${PORT:-8000}/docs (contract: docs/API.md)"
	@$(BIN)/flask dev first-start
	@echo "Demo users: SEED_DEMO_USERS=true on first start, or .venv/bin/flask users seed-demo"
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: $(VENV)/.dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Live gunicorn server, example clients and headless Debian Chromium (tests/e2e);
# Chromium is installed when missing and we are root (CI), else its tests skip.
# newman (runs examples/postman's collection) and oidc-provider go into .e2e-node/,
# from npm.
CHROMIUM_PATH ?= /usr/bin/chromium
NEWMAN_VERSION := 6.2.2
E2E_NODE := .e2e-node
NEWMAN_STAMP := $(E2E_NODE)/.newman-$(NEWMAN_VERSION)
$(NEWMAN_STAMP):
	npm install --prefix $(E2E_NODE) --no-audit --no-fund --loglevel=error \
		newman@$(NEWMAN_VERSION)
	touch $@

# oidc-provider (OpenID Certified, node): the real provider of tests/e2e/test_oidc.py.
OIDC_PROVIDER_VERSION := 9.13.3
OIDC_PROVIDER_STAMP := $(E2E_NODE)/.oidc-provider-$(OIDC_PROVIDER_VERSION)
$(OIDC_PROVIDER_STAMP):
	npm install --prefix $(E2E_NODE) --no-audit --no-fund --loglevel=error \
		oidc-provider@$(OIDC_PROVIDER_VERSION)
	touch $@

# examples/jwks-verifier's jose, from its lockfile (tests/e2e/test_jwks_verifier.py).
JWKS_VERIFIER := examples/jwks-verifier
$(JWKS_VERIFIER)/node_modules/.package-lock.json: $(JWKS_VERIFIER)/package-lock.json
	npm ci --prefix $(JWKS_VERIFIER) --no-audit --no-fund --loglevel=error

e2e: $(VENV)/.dev $(NEWMAN_STAMP) $(OIDC_PROVIDER_STAMP) $(JWKS_VERIFIER)/node_modules/.package-lock.json
	@if [ ! -x "$(CHROMIUM_PATH)" ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	CHROMIUM_PATH=$(CHROMIUM_PATH) E2E=1 timeout -s INT -k 30 900 \
		$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

# Dependency outages (tests/faults): a PostgreSQL cluster and a redis-server of the
# tests' own, stopped and SIGSTOPped under gunicorn. Debian's packages are installed
# when missing and we are root (CI), else the tests skip.
faults: $(VENV)/.dev
	@if [ "$$(id -u)" = 0 ] && { ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| ! command -v redis-server >/dev/null; }; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			postgresql redis-server; \
	fi
	FAULTS=1 timeout -s INT -k 30 600 $(BIN)/python -m pytest tests/faults $(PYTEST_ARGS)

# docs/deployment.md on one machine (tests/cluster): nginx with TLS in front of two
# app hosts in network namespaces, on the CI machine's PostgreSQL (database
# `cluster`, its Unix socket) and a redis-server of the test's own; then the alert
# rules' unit tests and the deploy files' checks. Root: namespaces, ports 80/443.
# Debian's packages are installed when missing, without starting their services.
CLUSTER_TOOLS := nginx:nginx openssl:openssl ip:iproute2 redis-server:redis-server \
	promtool:prometheus systemd-analyze:systemd psql:postgresql-client
cluster: $(VENV)/.dev $(JWKS_VERIFIER)/node_modules/.package-lock.json
	@if [ "$$(id -u)" != 0 ]; then echo "make cluster runs as root"; exit 1; fi
	@missing=""; for tool in $(CLUSTER_TOOLS); do \
		command -v $${tool%%:*} >/dev/null 2>&1 || missing="$$missing $${tool#*:}"; \
	done; [ -x "$(CHROMIUM_PATH)" ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing; status=$$?; \
		rm -f /usr/sbin/policy-rc.d; exit $$status; \
	fi
	promtool check rules deploy/prometheus/auth-server-alerts.yml
	promtool test rules deploy/prometheus/auth-server-alerts.test.yml
	CLUSTER=1 CHROMIUM_PATH=$(CHROMIUM_PATH) timeout -s INT -k 30 900 \
		$(BIN)/python -m pytest tests/ops/test_deploy_files.py tests/cluster $(PYTEST_ARGS)

# The verifier package (verifier/), installed as a downstream service would, and the
# proof that revocations reach a Flask and a FastAPI service within 1 s
# (tests/downstream: the auth server under gunicorn, each service its own process).
downstream: $(VENV)/.dev
	@# Its dependencies (PyJWT, cryptography) are runtime requirements already.
	$(BIN)/pip install --quiet --force-reinstall --no-deps ./verifier
	DOWNSTREAM=1 timeout -s INT -k 30 300 $(BIN)/python -m pytest tests/downstream \
		$(PYTEST_ARGS)

# Load test against gunicorn (bench/README.md); needs Debian's wrk, a few minutes.
# Its verifier scenario loads the downstream services of tests/downstream (FastAPI
# and uvicorn are test dependencies) with the verifier package installed.
bench: $(VENV)/.dev
	@for tool in wrk redis-server; do \
		command -v $$tool >/dev/null 2>&1 && continue; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$tool; \
		else echo "make bench needs $$tool: apt-get install -y $$tool"; exit 1; fi; \
	done
	$(BIN)/pip install --quiet --force-reinstall --no-deps ./verifier
	$(BIN)/python bench/run.py

lint: $(VENV)/.dev
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests

clean:
	rm -rf $(VENV) $(E2E_NODE) .pytest_cache
