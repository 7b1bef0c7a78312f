# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# axe-core for the browser tests, pinned by tests/browser/package-lock.json.
AXE := tests/browser/node_modules/.installed
# oidc-provider, the OpenID Connect provider of the single sign-on tests, pinned likewise.
OIDC := tests/oidc/node_modules/.installed

.PHONY: run test lint system-deps test-system-deps clean

# Links in the demo's mail name HOST and PORT, as `feedback360 run` does for its own mail.
run: $(VENV)/.installed-app system-deps
	$(BIN)/feedback360 db upgrade
	FEEDBACK360_SERVED_AT=http://$(HOST):$(PORT) $(BIN)/feedback360 demo
	@echo "Open http://$(HOST):$(PORT)/ and sign in as sam.taylor@example.org, password demo-password"
	$(BIN)/feedback360 run --host $(HOST) --port $(PORT)

# Two passes, each spread over every core: the whole suite on SQLite (the embedded
# default, and both databases where a test names them), then on PostgreSQL every test that
# uses the suite's database. Without a reachable server the second pass stops at once and
# says so (CI requires the server).
PYTEST := $(BIN)/python -m pytest -n auto $(PYTEST_ARGS)
test: $(VENV)/.installed-test test-system-deps $(AXE) $(OIDC)
	$(PYTEST)
	FEEDBACK360_TEST_DATABASE=postgresql $(PYTEST)

# Style, formatting, and the import layers of pyproject.toml's [tool.importlinter].
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

system-deps:
	@bash scripts/system-deps.sh

# The tests also need Chromium and npm (for axe-core).
test-system-deps:
	@bash scripts/system-deps.sh --browser

# Runs only when the lock file changes or node_modules is missing; npm ci installs exactly
# the locked versions (and sets old file times, hence a stamp of our own).
$(AXE): tests/browser/package-lock.json | test-system-deps
	cd tests/browser && npm ci --no-audit --no-fund
	@touch $@

$(OIDC): tests/oidc/package-lock.json | test-system-deps
	cd tests/oidc && npm ci --no-audit --no-fund
	@touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@ $(VENV)/.installed-app

clean:
	rm -rf $(VENV) instance dist build .pytest_cache .ruff_cache test-artifacts \
		tests/browser/node_modules tests/oidc/node_modules
