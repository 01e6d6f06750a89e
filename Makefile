# The README's commands: `make demo` and `make test` (its quick start), `make lint` and
# `make format` (style and types), `make clean`. Each but clean creates .venv when absent.
# `make playground` builds the playground page and serves it (it needs npm, Node.js's).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format clean playground

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("micrograd needs Python 3.9 or newer" if sys.version_info < (3, 9) else 0)'
	$(PYTHON) -m venv $(VENV)

# pip takes 10 s or more even when there is nothing to install, so each set of extras is
# installed once and again only when pyproject.toml is newer than its stamp file (make
# compares their times). The install is editable (-e): edits to the code need no reinstall.
$(VENV)/installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[plot,progress,render]"
	touch $@

$(VENV)/installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

$(VENV)/installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

# Train micrograd's classic two-moons demo and write its pictures into micrograd-demo/.
demo: $(VENV)/installed-demo
	$(BIN)/python -m micrograd demo

# Install the test extras and run the whole suite.
test: $(VENV)/installed-test
	$(BIN)/python -m pytest

# Style (ruff) and types (mypy, over micrograd/: see [tool.mypy] in pyproject.toml).
lint: $(VENV)/installed-dev
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

format: $(VENV)/installed-dev
	$(BIN)/python -m ruff format .
	$(BIN)/python -m ruff check --fix .

# Build the playground page into build/playground/ (playground/build.py: npm ci, micrograd's
# wheel, Pyodide's files) and serve it on http://127.0.0.1:$(PORT)/ until Ctrl-C.
PORT ?= 8000
playground: | $(BIN)/python
	$(BIN)/python playground/build.py --serve --port $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache .mypy_cache
