"""Blocks that Ctrl-C cannot split: a signal that arrives inside one acts after it.

An update changes many numbers one after another; a KeyboardInterrupt raised between
two of them would leave some changed and some not. Inside `interrupts_deferred()` a
SIGINT is only noted, and once the block is over it is delivered again to the handler
that was in place (by default the one that raises KeyboardInterrupt), so the block
runs whole or, if it raises before it starts changing things, not at all.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["interrupts_deferred"]


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Run the block with SIGINT held back until it ends (then delivered as usual).

    Python runs signal handlers in the main thread only, so only there can a
    KeyboardInterrupt split a block; in other threads, and where the SIGINT handler
    was not installed by Python (it cannot be put back), the block runs as it is.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = False

    def note(signum: int, frame: FrameType | None) -> None:
        nonlocal caught
        caught = True

    signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:  # deliver it now, to the handler that was in place
            signal.raise_signal(signal.SIGINT)
