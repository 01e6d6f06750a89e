"""The playground as a Jupyter widget: the page's front-end, computing in the kernel.

    from micrograd.playground import Playground
    Playground()                      # micrograd's demo: two moons, MLP(2, [16, 16, 1])
    Playground(dataset="xor", hidden=[4], lr=0.1)

It needs anywidget (`pip install "micrograd[playground]"`), which ships one ES module to
JupyterLab, Notebook, VS Code and Colab alike. The front-end is the page's own
(static/playground.js), with a host that sends each call to the kernel's Session.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

try:
    import anywidget
except ImportError:
    raise ImportError(
        'the playground widget needs anywidget: pip install "micrograd[playground]"'
    ) from None

from micrograd.nn import MLP
from micrograd.playground.session import Session

__all__ = ["Playground"]

STATIC = Path(__file__).resolve().parent / "static"


class Playground(anywidget.AnyWidget):
    """The playground in a notebook; `session` is its kernel, and `train(n)` trains from Python."""

    # one module: the front-end, then the widget's host, which calls its `mount`
    _esm = (STATIC / "playground.js").read_text(encoding="utf-8") + (
        STATIC / "widget.js"
    ).read_text(encoding="utf-8")
    _css = (STATIC / "playground.css").read_text(encoding="utf-8")

    def __init__(
        self,
        model: MLP | None = None,
        data: tuple[Sequence[Sequence[float]], Sequence[int]] | None = None,
        **settings: Any,
    ) -> None:
        """A playground with these settings (micrograd.playground.session.Settings' names;
        the defaults are micrograd's demo); a bad one raises ValueError or TypeError.

        `model` (an MLP with 2 inputs) and `data` ((X, y): 2-D points and their classes)
        are one's own, used instead of the settings' (see Session)."""
        super().__init__()
        # drawings come back as SVG, rendered here by micrograd's renderer
        self.session = Session(settings, render=True, model=model, data=data)
        self.on_msg(self._answer)

    def train(self, steps: int) -> dict[str, Any]:
        """Train `steps` steps from Python; the playground shows the new state. Returns it."""
        state = self.session.train(steps)
        self.send({"show": json.dumps(state, allow_nan=False)})
        return state

    def _answer(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Run one call of the front-end on the session and send back its answer."""
        if not isinstance(content, dict) or "id" not in content:
            return
        try:
            answer = self.session.call(
                str(content.get("method")), json.dumps(content.get("params") or {})
            )
        except Exception as error:  # a bug, not bad input: say so in the page, not only the log
            self.send({"id": content["id"], "error": f"{type(error).__name__}: {error}"})
        else:
            self.send({"id": content["id"], "json": answer})
