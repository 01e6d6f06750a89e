"""Stepping through the backward pass: step_through, and its frames and captions.

    frames = step_through(loss)   # runs backward() once, recording every step
    frames[k].draw()              # the graph after k steps, the current node outlined
    print(frames)                 # the whole sweep as a table

The steps themselves come from micrograd.engine.backward_steps; this module turns
them into frames to draw and words to read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, overload

import graphviz

from micrograd.engine import BackwardStep, Value, backward_steps
from micrograd.files import write_atomically
from micrograd.viz.drawing import (
    DrawOptions,
    Layout,
    TracedGraph,
    draw_graph,
    fixed_layout,
    plain_grad,
)
from micrograd.viz.layout import text_width
from micrograd.viz.neurons import Node, Part
from micrograd.viz.player import GIF_MAX_WIDTH, frame_milliseconds, gif_bytes, player_html
from micrograd.viz.render import Drawing, RenderTimeout, inline_svg, message_bundle
from micrograd.viz.text import format_number, formula
from micrograd.viz.widget import step_widget

__all__ = ["step_through", "StepThrough", "Frame"]

PNG_DPI = 96.0  # Graphviz's pixels per inch for PNG: 72 points are 96 pixels


def step_through(
    root: Value,
    *,
    zero_grad: bool = True,
    widget: bool | None = None,
    **draw_options: Any,
) -> StepThrough:
    """The backward pass of root as frames to step through, drawn with the gradients so far.

    Runs the sweep at once (so root's graph ends with backward()'s gradients) and
    draws frames only when shown. In Jupyter with ipywidgets installed
    (`pip install "micrograd[widgets]"`), displaying the result shows Prev / Next
    buttons and a slider; otherwise it shows a table of the steps. Frame k (an
    index into the result) is the graph after k steps, with the current node
    outlined; `print()` the result for the table.

    - zero_grad: set every leaf's grad to 0 first, so the frames show this sweep
      alone; pass False to watch gradients accumulate on top of earlier ones.
    - widget: True or False to choose buttons or table; None: buttons when
      running in a Jupyter kernel with ipywidgets.
    - draw_options: any option of draw_dot but highlight (rankdir, model, ...).
    """
    options = DrawOptions(**draw_options)
    graph = TracedGraph(root, options)
    if zero_grad:
        for v in graph.values:
            if v.is_leaf():
                v.grad = 0.0
    steps_iter = backward_steps(root)
    start = {v: plain_grad(v) for v in graph.values}  # root.grad is 1 and interior grads 0 now
    return StepThrough(graph, options, start, list(steps_iter), widget)


class Frame:
    """One frame of a StepThrough: the graph after `index` steps of the backward pass."""

    def __init__(self, owner: StepThrough, index: int) -> None:
        self._owner = owner
        self.index = index

    @property
    def step(self) -> BackwardStep | None:
        """The step this frame shows just done (None for frame 0, before any)."""
        return self._owner.steps[self.index - 1] if self.index else None

    @property
    def grads(self) -> dict[Value, float]:
        """Every node's gradient at this frame."""
        return self._owner.grads_at(self.index)

    @property
    def caption(self) -> str:
        """What happened in this step, in words and numbers."""
        return self._owner.caption(self.index)

    def draw(self) -> Drawing:
        """The drawing of this frame (display it in Jupyter, or .render() it)."""
        return self._owner.draw(self.index)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """What Jupyter shows: the drawing, or, if laying out the frames took too long,
        the message saying so (as a Drawing shows its own rendering's)."""
        try:
            drawing = self.draw()
        except RenderTimeout as error:
            return message_bundle(str(error))
        return drawing._repr_mimebundle_(include, exclude, **kwargs)

    def __repr__(self) -> str:
        return f"<Frame {self.index} of {len(self._owner)}: {self.caption.splitlines()[0]}>"


class StepThrough(Sequence[Frame]):
    """The frames of one backward pass: frame 0 before any step, frame k after k steps."""

    def __init__(
        self,
        graph: TracedGraph,
        options: DrawOptions,
        start: dict[Value, float],
        steps: list[BackwardStep],
        widget: bool | None,
    ) -> None:
        self.graph = graph
        self.options = options
        self.steps = steps
        self._start = start
        self._widget = widget
        self._html: dict[int, str] = {}  # frames rendered so far, for the widget
        self._layout: Layout | None = None  # where every frame is drawn, once worked out
        self._layout_known = False

    def __len__(self) -> int:
        return len(self.steps) + 1

    @overload
    def __getitem__(self, index: int) -> Frame: ...

    @overload
    def __getitem__(self, index: slice) -> list[Frame]: ...

    def __getitem__(self, index: int | slice) -> Frame | list[Frame]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(f"frame {index} out of range: there are {len(self)} frames")
        return Frame(self, index % len(self))

    def grads_at(self, index: int) -> dict[Value, float]:
        """Every node's gradient after `index` steps (replayed from the recorded totals)."""
        grads = dict(self._start)
        for step in self.steps[:index]:
            for update in step.updates:
                grads[update.parent] = update.total
        return grads

    def draw(self, index: int) -> Drawing:
        """Frame `index` drawn: the gradients so far, the current node outlined.

        Every frame puts each node where the last frame has it, so that stepping
        through moves nothing but numbers and the outline.
        """
        current = self.steps[index - 1].node if index else self.graph.root
        sent = {step.node for step in self.steps[:index]}
        grads = self.grads_at(index)
        return draw_graph(self.graph, self.options, {current}, grads, sent, self._frame_layout())

    def _frame_layout(self) -> Layout | None:
        """Where every frame puts each node and edge, worked out once.

        It is the layout of the last frame, which has every edge label, with each
        box sized for the widest gradient it shows in any frame, so that no frame's
        numbers outgrow their box. Without a renderer, frames show their DOT source
        and need no layout (None). Laying them out can take too long (RenderTimeout):
        then the next frame drawn tries again.
        """
        if not self._layout_known:
            last, sent = self.grads_at(len(self) - 1), {step.node for step in self.steps}
            try:  # a RenderTimeout or renderer error propagates: the next frame tries again
                self._layout = fixed_layout(
                    self.graph, self.options, last, sent, box_grads=self._widest_grads()
                )
            except graphviz.ExecutableNotFound:
                return None  # and once a renderer is installed, the next frame lays them out
            self._layout_known = True
        return self._layout

    def _widest_grads(self) -> dict[Node, float]:
        """Each node's gradient that takes the most room written out, over all the frames."""
        widest: dict[Node, float] = {}
        room: dict[Node, float] = {}

        def consider(node: Node, grad: float) -> None:
            width = text_width(format_number(grad, 4), 11)
            if width > room.get(node, -1.0):
                widest[node], room[node] = grad, width

        parts: dict[Value, list[Part]] = {}  # fused node -> its Parts, when drawn expanded
        for node in self.graph.order:
            if isinstance(node, Part):
                parts.setdefault(node.origin, []).append(node)
                consider(node, 0.0)  # its grad until its fused node passes it on
        grads = dict(self._start)
        for node, grad in grads.items():
            consider(node, grad)
        for step in self.steps:
            for part in parts.get(step.node, ()):
                consider(part, 0.0 + part.slope * grads[step.node])
            for update in step.updates:
                grads[update.parent] = update.total
                consider(update.parent, update.total)
        return widest

    def caption(self, index: int) -> str:
        """Frame `index` in words: the node, its grad, and what each parent receives."""
        names = self.graph.names
        root = names[self.graph.root]
        if index == 0:
            return f"start: {root}.grad = 1 (d{root}/d{root}); every other interior grad is 0"
        step = self.steps[index - 1]
        node = names[step.node]
        lines = [
            f"step {index} of {len(self.steps)}: {node} = {formula(step.node, names)}, "
            f"grad {format_number(step.grad, 4)}"
        ]
        for u in step.updates:
            lines.append(
                f"    {names[u.parent]}.grad += {format_number(u.local_grad, 4)} x "
                f"{format_number(step.grad, 4)} = {format_number(u.contribution, 4)}  ->  "
                f"{format_number(u.total, 4)}"
            )
        return "\n".join(lines)

    def table(self) -> str:
        """Every frame's caption, one after another: the whole sweep as text."""
        root = self.graph.names[self.graph.root]
        steps = f"{len(self.steps)} step{'' if len(self.steps) == 1 else 's'}"
        head = f"backward pass of {root}: {steps} (local x grad = contribution -> total)"
        return "\n".join([head, *(self.caption(i) for i in range(len(self)))])

    def frame_html(self, index: int) -> str:
        """Frame `index` as inline SVG, kept for the next time it is shown. Without a
        renderer, its DOT source and the install hint; past the time limit, the message
        saying so: neither is kept, so that asked again, it tries again."""
        if index in self._html:
            return self._html[index]
        try:
            picture = inline_svg(self.draw(index))
        except RenderTimeout as error:  # laying out the frames took too long
            return message_bundle(str(error))["text/html"]
        if picture.startswith("<svg"):
            self._html[index] = picture
        return picture

    def _svg(self, index: int) -> str:
        """Frame `index` as an inline <svg> element, kept once drawn; raises
        graphviz.ExecutableNotFound without a renderer, RenderTimeout past the time limit."""
        if index not in self._html:
            svg = self.draw(index).pipe(format="svg", encoding="utf-8")
            self._html[index] = svg[svg.find("<svg") :]
        return self._html[index]

    def to_html(self, full_page: bool = False, seconds_per_frame: float = 1.0) -> str:
        """The frames as a player that needs no kernel: every frame's picture and caption,
        with first / previous / play / next buttons, a slider and the arrow keys.

        An HTML fragment, for `IPython.display.HTML(...)` in a notebook (it plays on
        nbviewer too), or a whole page with full_page=True (see save_html). Like
        to_gif, it draws every frame or raises: graphviz.ExecutableNotFound (with the
        install hint) without a renderer, RenderTimeout past the time limit.
        """
        pictures = [self._svg(k) for k in range(len(self))]
        captions = [self.caption(k) for k in range(len(self))]
        root = self.graph.names[self.graph.root]
        title = f"backward pass of {root}, step by step"
        return player_html(pictures, captions, title, seconds_per_frame, full_page)

    def save_html(self, path: str | os.PathLike, seconds_per_frame: float = 1.0) -> None:
        """Save the player as a self-contained web page: it loads nothing, runs anywhere."""
        page = self.to_html(full_page=True, seconds_per_frame=seconds_per_frame)
        write_atomically(path, page.encode("utf-8"))

    def to_gif(self, seconds_per_frame: float = 1.0) -> bytes:
        """The frames as an animated GIF, each under its caption (needs Pillow), drawn
        at most GIF_MAX_WIDTH pixels wide and high: as a page shows them."""
        frame_seconds = frame_milliseconds(seconds_per_frame) / 1000  # checked before drawing
        pngs = [self._png(k) for k in range(len(self))]
        return gif_bytes(pngs, [self.caption(k) for k in range(len(self))], frame_seconds)

    def _png(self, index: int) -> bytes:
        """Frame `index` as a PNG, scaled down to fit GIF_MAX_WIDTH x GIF_MAX_WIDTH pixels."""
        drawing = self.draw(index)
        inches = GIF_MAX_WIDTH / PNG_DPI
        # Graphviz's size= only ever shrinks a drawing, to fit that many inches at dpi=
        drawing.attr(size=f"{inches:g},{inches:g}", dpi=f"{PNG_DPI:g}")
        return drawing.pipe(format="png")

    def save_gif(self, path: str | os.PathLike, seconds_per_frame: float = 1.0) -> None:
        """Save the frames as an animated GIF (see to_gif)."""
        write_atomically(path, self.to_gif(seconds_per_frame))

    def widget(self) -> Any:
        """Prev / Next buttons and a slider over the frames (an ipywidgets.VBox).

        Frames are rendered when first shown, so it opens at once for any size.
        """
        return step_widget(self)

    def _use_widget(self) -> bool:
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            return False
        return self._widget if self._widget is not None else "ipykernel" in sys.modules

    def _ipython_display_(self) -> None:
        """Jupyter's display: the buttons when possible, else the table (never an error)."""
        if self._use_widget():
            from IPython.display import display

            display(self.widget())
            return
        print(self.table())
        if self._widget:
            print('(for Prev / Next buttons: pip install "micrograd[widgets]")')

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        root = self.graph.names[self.graph.root]
        return (
            f"<StepThrough of {root}'s backward pass: {len(self)} frames; print() it for the table>"
        )
