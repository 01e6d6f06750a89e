"""Argument checks shared by the training stack (data, losses, optim, train, plot, ...).

One rule everywhere: an argument of the wrong type raises TypeError, an argument of
the right type with a bad value raises ValueError. Each message names the argument,
says what it must be and shows what it got, e.g. "steps must be an int >= 1, got 0".
bool is not accepted as a number (True is an int to Python, but never meant as one).
"""

from __future__ import annotations

import math
from numbers import Integral, Real


def excerpt(value: object, limit: int = 200) -> str:
    """repr(value), cut to about `limit` characters: an error message quotes what it got,
    but a value read from a file may be a megabyte long."""
    return shortened(repr(value), limit)


def shortened(text: str, limit: int = 200) -> str:
    """`text` itself if it has at most `limit` characters, else its start and its length."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 30]}... ({len(text):,} characters in all)"


def _type_name(value: object) -> str:
    return f"{type(value).__name__} {excerpt(value)}"


def int_at_least(name: str, value: object, minimum: int) -> int:
    """`value` as an int if it is an integer >= minimum; TypeError for a non-integer
    (a float such as 3.0 included), ValueError for one that is too small."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int >= {minimum}, got {_type_name(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {excerpt(value)}")
    return int(value)


def finite_number(name: str, value: object) -> float:
    """`value` as a float if it is a finite real number; TypeError for a non-number,
    ValueError for NaN, an infinity or an int too large for a float."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {_type_name(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got an int too large for a float") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def number_at_least(name: str, value: object, minimum: float) -> float:
    """`value` as a float if it is a finite number >= minimum (as finite_number)."""
    x = finite_number(name, value)
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return x


def positive_number(name: str, value: object) -> float:
    """`value` as a float if it is a finite number > 0 (as finite_number)."""
    x = finite_number(name, value)
    if x <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return x
