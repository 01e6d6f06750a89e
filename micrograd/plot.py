"""Charts of training with matplotlib: loss and accuracy curves, and decision boundaries.

matplotlib is optional (`pip install "micrograd[plot]"`); it is imported only when a
chart is drawn. Each function returns a matplotlib Figure (shown inline in Jupyter)
and also saves it when given a path (whole or not at all).

Figures are made with `matplotlib.figure.Figure`, not pyplot, so a script that draws
opens no window and pyplot never tracks them (they are freed like any object). One
exception, in Jupyter only: the first chart imports pyplot and switches it to the
backend already chosen (normally the inline one), because loading that backend is
what teaches IPython to display a Figure that a cell returns.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any, Protocol, Union

from micrograd._checks import int_at_least
from micrograd.data import linspace
from micrograd.files import write_atomically
from micrograd.metrics import predict, predicted_class
from micrograd.nn import Module

if TYPE_CHECKING:
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

__all__ = ["plot_history", "plot_decision_boundary", "Curves", "CLASS_COLOURS", "class_colour",
           "class_colormap", "DecisionGrid", "decision_grid", "shade_classes"]  # fmt: skip

# One colour per class, in this order (matplotlib's "tab10"); past ten they repeat.
CLASS_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
                 "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan"]  # fmt: skip


def class_colour(c: int) -> str:
    """The colour of class `c`: of its points, and of the plane where it is predicted."""
    return CLASS_COLOURS[c % len(CLASS_COLOURS)]


def class_colormap(k: int) -> ListedColormap:
    """A colormap of k colours, the j-th class_colour(j): shading for classes 0..k-1."""
    from matplotlib.colors import ListedColormap

    return ListedColormap([class_colour(c) for c in range(k)])


Path = Union[str, "PathLike[str]"]

MARGIN = 0.5  # how far a decision grid reaches past the outermost points


@dataclass(frozen=True)
class DecisionGrid:
    """The model's verdict on a grid over 2-D points: what decision pictures shade.

    Rows run bottom to top (ys), columns left to right (xs). margins[c][i][j] is
    class c's score minus the best other class's score at (xs[j], ys[i]): > 0
    where c is predicted. A model with one output scores class 1 (> 0) against
    class 0, so its margins are -score and score. Being continuous, margins
    contour into smooth boundaries where a grid of classes would show its cells.
    """

    xs: list[float]
    ys: list[float]
    margins: list[list[list[float]]]
    classes: list[list[int]]  # the class predicted at each grid point (metrics.predicted_class)


def decision_grid(model: Module, X: Sequence[Sequence[float]], resolution: int) -> DecisionGrid:
    """The model evaluated on a resolution x resolution grid that covers the 2-D points X
    with a margin (see DecisionGrid)."""
    resolution = int_at_least("resolution", resolution, 2)
    xs = [x[0] for x in X]
    ys = [x[1] for x in X]
    gx = linspace(min(xs) - MARGIN, max(xs) + MARGIN, resolution)
    gy = linspace(min(ys) - MARGIN, max(ys) + MARGIN, resolution)
    scores = predict(model, [[a, b] for b in gy for a in gx])
    rows = [scores[i * resolution : (i + 1) * resolution] for i in range(resolution)]
    if isinstance(scores[0], list):
        k = len(scores[0])
        margins = [
            [[s[c] - max(s[:c] + s[c + 1 :], default=0.0) for s in row] for row in rows]
            for c in range(k)
        ]
    else:  # one score: class 1 where it is > 0
        margins = [[[-s for s in row] for row in rows], [list(row) for row in rows]]
    classes = [[predicted_class(s) for s in row] for row in rows]
    return DecisionGrid(gx, gy, margins, classes)


def shade_classes(ax: Any, grid: DecisionGrid, alpha: float = 0.3) -> None:
    """Shade each class's region of `grid` on the axes `ax` in class_colour(c), with a
    black line where the predicted class changes."""
    highest = max(m for field in grid.margins for row in field for m in row)
    for c, field in enumerate(grid.margins):
        if max(max(row) for row in field) > 0:  # the class is predicted somewhere
            ax.contourf(grid.xs, grid.ys, field, levels=[0.0, highest + 1.0],
                        colors=[class_colour(c)], alpha=alpha)  # fmt: skip
    # with two classes the one boundary is class 1's margin's zero; with more, each
    # class's zero line is where its region ends (two classes share each piece)
    for field in grid.margins[1:] if len(grid.margins) == 2 else grid.margins:
        if min(min(row) for row in field) < 0 < max(max(row) for row in field):
            ax.contour(grid.xs, grid.ys, field, levels=[0.0], colors="black", linewidths=0.8)


class Curves(Protocol):
    """What `plot_history` draws: a loss per step, and an accuracy per step or none.
    `micrograd.train.History` is one (and `History.plot()` calls plot_history)."""

    loss: list[float]
    accuracy: list[float]
    val_loss: list[float]  # on a validation set at every step, or empty
    val_accuracy: list[float]

    def __len__(self) -> int: ...


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError('plotting needs matplotlib: pip install "micrograd[plot]"') from None
    if "ipykernel" in sys.modules:
        # In Jupyter: load pyplot's (inline) backend, which teaches IPython to show a
        # Figure that a cell returns. matplotlib loads it lazily, only once pyplot draws.
        import matplotlib
        import matplotlib.pyplot

        matplotlib.pyplot.switch_backend(matplotlib.get_backend())
    return Figure(figsize=(width, height), layout="constrained")


def _save(fig: Figure, path: Path) -> None:
    """Save `fig` to `path` whole or not at all: a failure or a Ctrl-C half-way leaves the
    file as it was. The format is the extension's (.png, .svg, .pdf, ...), PNG without one."""
    extension = os.path.splitext(os.fspath(path))[1][1:]
    image = io.BytesIO()
    fig.savefig(image, format=extension or "png", dpi=100)
    write_atomically(path, image.getvalue())


def _legend_below(fig: Figure, ax) -> None:
    """One legend for the whole figure, below the axes, so that it never covers the data;
    its entries are the labelled artists of `ax` (in a chart of training, each colour is
    one data set, the same in every panel)."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(handles))


def plot_history(history: Curves, path: Path | None = None) -> Figure:
    """The loss (and accuracy, if recorded) at every step of a training run: on the
    step's batch, and on the validation set if there is one."""
    if not len(history):
        raise ValueError("the history is empty: there is nothing to plot")
    steps = range(len(history))
    fig = _figure(9 if history.accuracy else 4.5, 3.8)
    axes = fig.subplots(1, 2 if history.accuracy else 1, squeeze=False)[0]
    log_scale = min(history.loss + history.val_loss) > 0
    axes[0].plot(steps, history.loss, color="tab:blue", label="training (each step's batch)")
    if history.val_loss:
        axes[0].plot(steps, history.val_loss, color="tab:orange", label="validation (all of it)")
    axes[0].set(
        title="loss",
        xlabel="step",
        ylabel="loss (log scale)" if log_scale else "loss",
        yscale="log" if log_scale else "linear",
    )
    if history.accuracy:
        accuracy = [100 * a for a in history.accuracy]
        axes[1].plot(steps, accuracy, color="tab:blue")
        if history.val_accuracy:
            axes[1].plot(steps, [100 * a for a in history.val_accuracy], color="tab:orange")
        axes[1].set(title="accuracy", xlabel="step", ylabel="accuracy (%)", ylim=(0, 101))
    for ax in axes:
        ax.grid(alpha=0.3)
    _legend_below(fig, axes[0])
    if path is not None:
        _save(fig, path)
    return fig


def plot_decision_boundary(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence,
    path: Path | None = None,
    resolution: int = 50,
) -> Figure:
    """The class the model gives every point of the plane (shaded), and the data on top.

    `X` holds 2-D points; the model is evaluated on a `resolution` x `resolution` grid
    that covers them with a margin (see decision_grid). A single output is class 1
    where it is > 0.
    """
    if len(X) == 0 or any(len(x) != 2 for x in X):
        raise ValueError("plot_decision_boundary needs a non-empty list of 2-D points")
    resolution = int_at_least("resolution", resolution, 2)
    fig = _figure(5.5, 4.8)  # first: without matplotlib, fail before computing anything
    grid = decision_grid(model, X, resolution)
    k = len(grid.margins)
    xs = [x[0] for x in X]
    ys = [x[1] for x in X]
    point_classes = [int(t) if k > 2 else int(t > 0) for t in y]
    # name the classes as the labels do: hinge loss's -1/+1, or class indices
    signed = k == 2 and set(y) <= {-1, 1}
    names = {0: "y = -1", 1: "y = +1"} if signed else {c: f"class {c}" for c in set(point_classes)}

    ax = fig.subplots()
    shade_classes(ax, grid)
    for c in sorted(set(point_classes)):  # one scatter per class, for the legend
        ax.scatter(
            [a for a, t in zip(xs, point_classes) if t == c],
            [b for b, t in zip(ys, point_classes) if t == c],
            color=class_colour(c),
            s=24,
            edgecolors="black",
            linewidths=0.5,
            label=names[c],
        )
    ax.set(
        title="decision boundary (shading: the predicted class)",
        xlabel="x[0]",
        ylabel="x[1]",
        xlim=(grid.xs[0], grid.xs[-1]),
        ylim=(grid.ys[0], grid.ys[-1]),
    )
    _legend_below(fig, ax)
    if path is not None:
        _save(fig, path)
    return fig
