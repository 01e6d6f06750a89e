"""Training that plays back: the decision boundary and the loss curve moving, step by step.

    recorder = TrainingRecorder(model, X, y, every=5)
    fit(model, X, y, ..., callbacks=[recorder])
    recorder.save_html("training.html")   # a page with play / step controls, no kernel
    recorder.save_gif("training.gif")     # plays wherever images do
    HTML(recorder.to_html())              # in a notebook (plays on nbviewer too)

Every `every` steps (and once before the first) the recorder evaluates the model on
a grid over the data's plane (micrograd.plot.decision_grid, as plot_decision_boundary
does) and keeps its verdict there; the loss comes from fit's History. The animation is made with matplotlib
(`pip install "micrograd[plot]"`, whose Pillow writes the GIF); the HTML player is
micrograd.viz.player's, frames embedded as images, as step_through's.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from micrograd._checks import int_at_least
from micrograd.files import write_atomically
from micrograd.nn import Module
from micrograd.plot import DecisionGrid, class_colour, decision_grid, shade_classes
from micrograd.viz.player import frame_milliseconds, gif_bytes, player_html

if TYPE_CHECKING:
    from matplotlib.animation import FuncAnimation

__all__ = ["TrainingRecorder"]


class TrainingRecorder:
    """A fit() callback that records a training run on 2-D points, to play it back.

    - every: record after every `every` steps (a frame each), and before the first.
    - resolution: the grid is resolution x resolution points over the data's plane.
    """

    def __init__(
        self,
        model: Module,
        X: Sequence[Sequence[float]],
        y: Sequence,
        every: int = 5,
        resolution: int = 40,
    ) -> None:
        if len(X) == 0 or any(len(x) != 2 for x in X):
            raise ValueError("TrainingRecorder needs a non-empty list of 2-D points")
        if len(y) != len(X):
            raise ValueError(f"TrainingRecorder got {len(X)} points and {len(y)} labels")
        self.every = int_at_least("every", every, 1)
        self.resolution = int_at_least("resolution", resolution, 2)
        self.model, self.X, self.y = model, [list(x) for x in X], list(y)
        self.steps: list[int] = []  # the step after which each frame was recorded
        self.grids: list[DecisionGrid] = []  # each frame's verdict on the grid
        self.loss: list[float] = []  # the loss at every step, from fit's History
        self._history: Any = None  # the History of the fit call running now
        self._earlier: list[float] = []  # the losses of the fit calls before it
        self._record(0)

    def __call__(self, step: int, history: Any) -> bool:
        """fit's callback: record after every `every` steps; never stops training.

        Each fit call has a History of its own and counts its steps from 0: a recorder
        used for several calls counts on from where the one before it stopped."""
        if history is not self._history:  # a new fit call
            self._earlier, self._history = list(self.loss), history
        self.loss = self._earlier + list(history.loss)
        if len(self.loss) % self.every == 0:
            self._record(len(self.loss))
        return False

    def _record(self, step: int) -> None:
        self.steps.append(step)
        self.grids.append(decision_grid(self.model, self.X, self.resolution))

    @property
    def fields(self) -> list[list[list[int]]]:
        """Each frame's predicted class at each grid point, rows bottom to top."""
        return [grid.classes for grid in self.grids]

    def __len__(self) -> int:
        return len(self.steps)

    def animation(self, seconds_per_frame: float = 0.25) -> FuncAnimation:
        """A matplotlib animation of the recording: the classes of the plane with the
        points on the left, the loss so far on the right, one frame per recording."""
        try:
            from matplotlib.animation import FuncAnimation
        except ImportError:
            raise ImportError('animations need matplotlib: pip install "micrograd[plot]"') from None
        interval = frame_milliseconds(seconds_per_frame)
        fig, show = self._figure()
        return FuncAnimation(fig, show, frames=len(self), interval=interval, blit=False)

    def _figure(self, dpi: float = 72) -> tuple[Any, Any]:
        """The figure, and a function that draws frame k of the recording on it."""
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError('animations need matplotlib: pip install "micrograd[plot]"') from None
        fig = Figure(figsize=(9, 3.9), dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)  # a canvas to draw frames on, with no window and no pyplot
        boundary, curve = fig.subplots(1, 2)
        classes = sorted({self._class_of(t) for t in self.y})
        steps = list(range(1, len(self.loss) + 1))
        log_scale = bool(self.loss) and min(self.loss) > 0
        curve.plot(steps, self.loss, color="0.85")  # the whole run, faint
        (so_far,) = curve.plot([], [], color="tab:blue")
        (now,) = curve.plot([], [], "o", color="tab:blue")
        curve.set(
            title="loss at each step", xlabel="step", yscale="log" if log_scale else "linear",
            xlim=(0, max(1, len(self.loss)) + 1),
        )  # fmt: skip
        curve.grid(alpha=0.3)

        def show(frame: int):
            step, grid = self.steps[frame], self.grids[frame]
            boundary.clear()  # the regions change shape: each frame draws them anew
            shade_classes(boundary, grid)
            for c in classes:
                boundary.scatter(
                    [x[0] for x, t in zip(self.X, self.y) if self._class_of(t) == c],
                    [x[1] for x, t in zip(self.X, self.y) if self._class_of(t) == c],
                    color=class_colour(c), s=18, edgecolors="black", linewidths=0.5,
                )  # fmt: skip
            boundary.set(xlabel="x[0]", ylabel="x[1]", xlim=(grid.xs[0], grid.xs[-1]),
                         ylim=(grid.ys[0], grid.ys[-1]),
                         title=f"the model's classes after {step} steps")  # fmt: skip
            so_far.set_data(steps[:step], self.loss[:step])
            now.set_data([step] if step else [], [self.loss[step - 1]] if step else [])
            return [*boundary.get_children(), so_far, now]

        show(0)

        return fig, show

    def _class_of(self, label: Any) -> int:
        """A label as a class index: hinge's -1/+1 as 0/1, class indices as they are."""
        t = int(label)
        return (t + 1) // 2 if set(map(int, self.y)) <= {-1, 1} else t

    def captions(self) -> list[str]:
        """What each frame shows, in words: how many steps it is after, and the loss at
        the last of them (History's: the batch loss before that step's update, as the
        curve beside it plots it)."""
        return [
            f"after {step} steps; loss at step {step}: {self.loss[step - 1]:.4f}"
            if step
            else "after 0 steps: untrained"
            for step in self.steps
        ]

    def frames_png(self, dpi: float = 72) -> list[bytes]:
        """Each frame as a PNG image."""
        fig, show = self._figure(dpi)
        pngs = []
        for frame in range(len(self)):
            show(frame)
            out = io.BytesIO()
            fig.savefig(out, format="png", dpi=dpi)
            pngs.append(out.getvalue())
        return pngs

    def to_html(self, full_page: bool = False, seconds_per_frame: float = 0.4) -> str:
        """The recording as a player that needs no kernel (micrograd.viz.player): every
        frame embedded as an image, with first / previous / play / next and a slider."""
        pictures = [
            f'<img alt="frame {k}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
            for k, png in enumerate(self.frames_png())
        ]
        return player_html(
            pictures, self.captions(), "training, step by step", seconds_per_frame, full_page
        )

    def save_html(self, path: str | os.PathLike, seconds_per_frame: float = 0.4) -> None:
        """Save the player as a web page that loads nothing and needs no kernel."""
        write_atomically(path, self.to_html(True, seconds_per_frame).encode("utf-8"))

    def to_gif(self, seconds_per_frame: float = 0.4) -> bytes:
        """The recording as an animated GIF, each frame under its caption (needs Pillow)."""
        return gif_bytes(self.frames_png(), self.captions(), seconds_per_frame)

    def save_gif(self, path: str | os.PathLike, seconds_per_frame: float = 0.4) -> None:
        """Save the recording as an animated GIF (see to_gif)."""
        write_atomically(path, self.to_gif(seconds_per_frame))
