# The developer loop: `make check` is format, lint, types, layers and tests, as in CI.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install check format lint types layers test bench

install:
	python3 -m venv $(VENV) && $(PY) -m pip install -q -e '.[test]'

format:
	$(VENV)/bin/ruff format src tests bench

lint:
	$(VENV)/bin/ruff check src tests

types:
	$(VENV)/bin/mypy

layers:
	$(VENV)/bin/lint-imports

test:
	bash scripts/test.sh

check: lint types layers test

bench:
	$(PY) -m bench
