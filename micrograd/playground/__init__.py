"""The playground: micrograd training live, with pictures that move, in a page or in Jupyter.

    from micrograd.playground import Playground
    Playground()                          # in Jupyter: the playground, computing in the kernel

The page (`make playground`) runs the same front-end with micrograd in the browser
(Pyodide). Both call one kernel, `micrograd.playground.session.Session`.
"""

from __future__ import annotations

from typing import Any

from micrograd.playground.session import Session, default_settings

__all__ = ["Playground", "Session", "default_settings"]


def __getattr__(name: str) -> Any:
    # Playground needs anywidget (the [playground] extra): imported only when asked for
    if name == "Playground":
        from micrograd.playground.widget import Playground

        return Playground
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
