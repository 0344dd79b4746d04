# bcone: `make demo` to try it, `make test` to check it, `make bench` to measure it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: demo test lint typecheck imports unit bench serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

## demo: virtualenv, install, embedded database, demo brand, console at http://127.0.0.1:8000
demo: $(VENV)/.runtime
	$(BIN)/bcone demo

serve: $(VENV)/.runtime
	$(BIN)/bcone serve

## test: dev dependencies, then lint, types, import rules and the whole suite
test: lint typecheck imports unit

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.dev
	$(BIN)/mypy

imports: $(VENV)/.dev
	$(BIN)/lint-imports

unit: $(VENV)/.dev
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

## bench: every script in bench/, each printing one JSON object on its last line
bench: $(VENV)/.dev
	@set -e; for f in bench/*.py; do echo "== $$f"; $(PY) $$f; done

clean:
	rm -rf $(VENV) bcone-data .pytest_cache .mypy_cache .ruff_cache
