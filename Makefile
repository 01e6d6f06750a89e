# The two commands of the README's quick start. Each creates .venv when it is absent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("micrograd needs Python 3.9 or newer" if sys.version_info < (3, 9) else 0)'
	$(PYTHON) -m venv $(VENV)

# Train micrograd's classic two-moons demo and write its pictures into micrograd-demo/.
demo: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[plot,progress,render]"
	$(BIN)/python -m micrograd demo

# Install the test extras and run the whole suite.
test: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	$(BIN)/python -m pytest

lint: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

format: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m ruff format .
	$(BIN)/python -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
