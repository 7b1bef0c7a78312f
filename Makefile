# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint system-deps clean

run: $(VENV)/.installed-app system-deps
	$(BIN)/feedback360 db upgrade
	$(BIN)/feedback360 demo
	@echo "Open http://$(HOST):$(PORT)/ and sign in as sam.taylor@example.org, password demo-password"
	$(BIN)/feedback360 run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test system-deps
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

system-deps:
	@bash scripts/system-deps.sh

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
	rm -rf $(VENV) instance dist build .pytest_cache .ruff_cache
