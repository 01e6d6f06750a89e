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


def straight_three_class_model() -> MLP:
    """Scores x, -x and -10: class 0 right of x = 0, class 1 left of it, class 2 nowhere."""
    model = MLP(2, [3], rng=random.Random(0))
    for neuron, (w, b) in zip(model.layers[0].neurons, [([1, 0], 0), ([-1, 0], 0), ([0, 0], -10)]):
        for p, value in zip(neuron.w, w):
            p.data = float(value)
        neuron.b.data = float(b)
    return model


# grid lines at x = -1.5, -0.4, 0.7, 1.8: the boundary x = 0 falls between two of them
STRAIGHT_POINTS = [[-1.0, 0.0], [1.3, 1.0], [0.2, -1.0]]
STRAIGHT_LABELS = [1, 0, 0]


def boundary_xs(ax) -> list[float]:
    """The x of every vertex of the class boundaries drawn on `ax` (its unfilled contours)."""
    from matplotlib.contour import ContourSet

    lines = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    return [x for c in lines for path in c.get_paths() for x, _ in path.vertices]


def test_three_class_boundaries_are_drawn_where_the_scores_tie_not_on_the_grids_cells():
    fig = plot_decision_boundary(straight_three_class_model(), STRAIGHT_POINTS, STRAIGHT_LABELS,
                                 resolution=4)  # fmt: skip
    xs = boundary_xs(fig.axes[0])
    assert xs and max(abs(x) for x in xs) < 1e-9
