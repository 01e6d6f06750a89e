"""Fixtures for the test suite; shared helpers live in helpers.py.

- `rng`: a seeded `random.Random`, so every run draws the same numbers.
- `file_route`: runs a test twice, once as checkpoints are written on Linux (an
  unnamed O_TMPFILE, named once whole) and once as elsewhere (a named temporary file).
"""

from __future__ import annotations

import os
import random

import pytest
from helpers import SEED


@pytest.fixture
def rng() -> random.Random:
    """A random.Random with a fixed seed: each test gets the same sequence."""
    return random.Random(SEED)


@pytest.fixture(params=["unnamed", "named"])
def file_route(request, monkeypatch) -> str:
    """How checkpoint files are written: "unnamed" (O_TMPFILE) or "named" (without it)."""
    if request.param == "named":
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    elif not hasattr(os, "O_TMPFILE"):
        pytest.skip("this system has no O_TMPFILE")
    return request.param
