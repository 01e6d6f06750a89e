"""Fixtures for the test suite; shared helpers live in helpers.py.

- `rng`: a seeded `random.Random`, so every run draws the same numbers.
- `file_route`: runs a test twice, once as micrograd writes files on Linux (an
  unnamed O_TMPFILE, named once whole) and once as elsewhere (a named temporary file).
- `op_table`: leaves the op table as it found it, for tests that register ops.
- `renderer`: runs a test once with each installed renderer (system dot, graphviz-pure),
  the other hidden; skips a renderer that is not installed.
"""

from __future__ import annotations

import os
import random

import pytest
from helpers import SEED

from micrograd import engine
from micrograd.engine import Value


@pytest.fixture
def rng() -> random.Random:
    """A random.Random with a fixed seed: each test gets the same sequence."""
    return random.Random(SEED)


@pytest.fixture(params=["unnamed", "named"])
def file_route(request, monkeypatch) -> str:
    """How micrograd writes files: "unnamed" (O_TMPFILE) or "named" (without it)."""
    if request.param == "named":
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    elif not hasattr(os, "O_TMPFILE"):
        pytest.skip("this system has no O_TMPFILE")
    return request.param


@pytest.fixture
def op_table():
    """The op table, put back as it was after the test: ops it registers are removed."""
    ops, activations = dict(engine.OPS), dict(engine.ACTIVATIONS)
    methods = set(vars(Value))
    yield engine.OPS
    engine.OPS.clear()
    engine.OPS.update(ops)
    engine.ACTIVATIONS.clear()
    engine.ACTIVATIONS.update(activations)
    for name in set(vars(Value)) - methods:
        delattr(Value, name)


@pytest.fixture(params=["dot", "graphviz-pure"])
def renderer(request, monkeypatch) -> str:
    """The name of the one renderer micrograd.viz.render will find during this test."""
    render = pytest.importorskip("micrograd.viz.render")
    if request.param == "dot":
        if render.find_dot() is None:
            pytest.skip("system Graphviz (dot) is not installed")
        monkeypatch.setattr(render, "find_graphviz_pure", lambda: None)
    else:
        if render.find_graphviz_pure() is None:
            pytest.skip('graphviz-pure is not installed (pip install "micrograd[render]")')
        monkeypatch.setattr(render, "find_dot", lambda: None)
    return request.param
