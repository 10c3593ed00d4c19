# peppol-onboarding: every command installs what it needs on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
STAGE ?= dev
PORT ?= 3000
# Test processes (pytest-xdist): the suite is mostly one process waiting for another, so two
# keep two cores busy. TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export PYTHONDONTWRITEBYTECODE := 1
# uv trusts the platform's certificate store (where proxies and companies add their CAs).
export UV_SYSTEM_CERTS := 1

.PHONY: help dev test test-fast synth lint bench deploy deploy-tenant tenant-file diff openapi layer lock browser clean operator signing-keys

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install -q -p $(PY) -r requirements-dev.lock
	touch $@

node_modules/.installed: package-lock.json
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

# The common layer as Lambda sees it: dependencies for Python 3.12 on arm64 (no Docker:
# manylinux wheels only) plus the layer's own package.
build/layer/.deps: requirements-layer.lock $(VENV)/.installed
	rm -rf build/layer && mkdir -p build/layer/python
	$(VENV)/bin/uv pip install -q --target build/layer/python --python-version 3.12 \
	  --python-platform aarch64-manylinux2014 --only-binary :all: --no-deps -r requirements-layer.lock
	touch $@

layer: build/layer/.deps  ## build the common Lambda layer into build/layer
	rm -rf build/layer/python/onboarding
	cp -r layers/common/python/onboarding build/layer/python/onboarding
	find build/layer/python/onboarding -name __pycache__ -prune -exec rm -rf {} +

browser:  ## install Chromium for the browser tests (Debian package; needs root or sudo)
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

dev: $(VENV)/.installed  ## run the whole platform locally on http://127.0.0.1:3000 (PORT=... for another port)
	PORT=$(PORT) $(PY) -m infra.local

test: $(VENV)/.installed layer browser  ## run every test (unit, integration, infra, e2e, schemathesis)
	$(PY) -m infra.openapi --check
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup

test-fast: $(VENV)/.installed  ## unit and integration tests only
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup tests/unit tests/integration

synth: $(VENV)/.installed node_modules/.installed layer  ## synthesize CloudFormation into cdk.out (no AWS account needed)
	npx cdk synth --quiet -c stage=$(STAGE)
	@echo "templates in cdk.out/"

deploy: $(VENV)/.installed node_modules/.installed layer  ## deploy a stage: make deploy STAGE=acc
	npx cdk deploy --all -c stage=$(STAGE) --require-approval broadening

# Only the tenant's stack (--exclusively): the platform's stack is deployed by `make deploy`.
deploy-tenant: tenant-file $(VENV)/.installed node_modules/.installed layer  ## deploy one tenant's stack: make deploy-tenant TENANT=acme STAGE=acc
	npx cdk deploy PeppolOnboarding-$(STAGE)-tenant-$(TENANT) --exclusively -c stage=$(STAGE) --require-approval broadening

tenant-file:
	@test -n "$(TENANT)" || { echo "usage: make deploy-tenant TENANT=<slug> [STAGE=<stage>]" >&2; exit 2; }
	@test -f "$${TENANTS_DIR:-tenants}/$(TENANT).json" || { echo "there is no tenant file $${TENANTS_DIR:-tenants}/$(TENANT).json" >&2; exit 2; }

diff: $(VENV)/.installed node_modules/.installed layer  ## what a deploy would change
	npx cdk diff --all -c stage=$(STAGE)

lint: $(VENV)/.installed  ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(VENV)/.installed  ## cold-start import ratios and AWS calls per route (RUNS=9 for more samples)
	$(PY) -m bench

openapi: $(VENV)/.installed  ## regenerate the OpenAPI document from the resolvers
	$(PY) -m infra.openapi

operator: $(VENV)/.installed  ## make a user an operator on a running `make dev`: make operator USERNAME=alice
	PYTHONPATH=layers/common/python $(PY) -m infra.local.operator "$(USERNAME)"

signing-keys: $(VENV)/.installed  ## print a new signing key set for the Microsoft bridge (see the README)
	@$(PY) -m infra.keys

lock: $(VENV)/.installed  ## re-resolve the lock files after changing pyproject.toml or layers/common/requirements.in
	$(VENV)/bin/uv pip compile pyproject.toml --group dev --python-version 3.11 --universal -o requirements-dev.lock -q
	$(VENV)/bin/uv pip compile layers/common/requirements.in --python-version 3.12 \
	  --python-platform aarch64-manylinux2014 -o requirements-layer.lock -q

clean:  ## remove build output (keeps the venv)
	rm -rf build cdk.out .pytest_cache .mypy_cache .ruff_cache
