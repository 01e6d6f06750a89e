"""Read when a comparison of Values fails inside micrograd.compiler.trace: why it must.

While micrograd.compiler traces a function, comparing Values (or making a float of
one) would let the function choose its graph by the numbers, which a compiled
program cannot follow: the tracer says so for the time it traces, and Value's
comparisons and float() ask here first.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["tracing", "check_not_tracing"]

# Why comparing is refused just now: None when nothing is being traced.
_tracing: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "micrograd_tracing", default=None
)


@contextmanager
def tracing(reason: str) -> Iterator[None]:
    """Within this block, comparing Values or making a float of one raises TypeError,
    saying `reason`: micrograd.compiler traces a function in it, so that the function
    cannot choose its graph by the numbers without the compiler knowing."""
    token = _tracing.set(reason)
    try:
        yield
    finally:
        _tracing.reset(token)


def check_not_tracing(what: str) -> bool:
    """False, or a TypeError while a function is being traced (see `tracing`)."""
    refusal = _tracing.get()
    if refusal is not None:
        raise TypeError(f"{what} on a Value while tracing: {refusal}")
    return False
