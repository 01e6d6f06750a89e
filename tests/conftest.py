"""Fixtures for the test suite; shared helpers live in helpers.py.

- `rng`: a seeded `random.Random`, so every run draws the same numbers.
"""

from __future__ import annotations

import random

import pytest
from helpers import SEED


@pytest.fixture
def rng() -> random.Random:
    """A random.Random with a fixed seed: each test gets the same sequence."""
    return random.Random(SEED)
