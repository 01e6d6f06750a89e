"""micrograd.plot: every legend stays clear of the data and inside the picture."""

from __future__ import annotations

import random

import pytest

from micrograd.data import make_moons, make_spirals
from micrograd.nn import MLP
from micrograd.train import History

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from micrograd.plot import plot_decision_boundary, plot_history  # noqa: E402


def assert_legends_clear_of_the_axes(fig) -> None:
    """Each legend of `fig` overlaps no axes (where the data is) and lies within the figure."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    assert legends, "the figure has no legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()
        figure_box = fig.bbox
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1


def test_the_history_chart_keeps_its_legend_off_the_curves():
    history = History(loss=[1.0, 0.5, 0.2], accuracy=[0.5, 0.8, 1.0], lr=[0.1] * 3)
    assert_legends_clear_of_the_axes(plot_history(history))


def test_the_loss_only_history_chart_keeps_its_legend_off_the_curve():
    history = History(loss=[1.0, 0.5, 0.2], accuracy=[], lr=[0.1] * 3)
    assert_legends_clear_of_the_axes(plot_history(history))


@pytest.mark.parametrize("classes", [2, 3])
def test_the_decision_boundary_keeps_its_legend_off_the_points(classes):
    if classes == 2:
        X, y = make_moons(40, seed=0)
        model = MLP(2, [4, 1], rng=random.Random(0))
    else:
        X, y = make_spirals(30, classes=3, seed=0)
        model = MLP(2, [4, 3], rng=random.Random(0))
    fig = plot_decision_boundary(model, X, y, resolution=10)
    assert_legends_clear_of_the_axes(fig)
