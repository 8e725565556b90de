# botbill — `make run` serves a demo on SQLite, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run serve test lint typecheck check bench bench-quick soak fuzz crash-test clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/botbill demo

serve: setup
	$(BIN)/botbill serve

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache botbill.db

bench: setup
	$(BIN)/python -m bench.run --size full

bench-quick: setup
	$(BIN)/python -m bench.run --size quick

# Mixed load against a server, then exact counts; a benchmark, never part of test or CI.
soak: setup
	$(BIN)/python -m bench.soak

# Generated requests against the served OpenAPI on both databases (a bounded run is in CI).
fuzz: setup
	$(BIN)/python -m bench.fuzz

# SIGKILL the server at random instants under load, 20 rounds, then check money and counts.
crash-test: setup
	$(BIN)/python -m bench.crash
