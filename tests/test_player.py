"""Backprop and training that play without a kernel: HTML players and animated GIFs.

What the pages do in a browser is tested in tests/test_browser.py; here, what they
hold, and the files.
"""

from __future__ import annotations

import io
import json
import random
import re
import shlex

import graphviz
import pytest
from helpers import recorded_training

from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.viz import player, render, step_through
from micrograd.viz.drawing import draw_graph
from micrograd.viz.player import GIF_MAX_WIDTH, gif_bytes, player_html

needs_renderer = pytest.mark.skipif(render.find_renderer() is None, reason="no renderer")


def small_steps(label: str = "a"):
    a, b, c = Value(2.0, label=label), Value(-3.0, label="b"), Value(10.0, label="c")
    loss = (a * b + c) * a
    loss.label = "L"
    return step_through(loss, show_contributions=True)


def links(page: str) -> list[str]:
    """Every URL the page could fetch: src and href attributes, and url(...) in CSS."""
    found = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
    found += re.findall(r"url\(([^)]*)\)", page)
    return [u for u in found if not u.startswith(("data:", "#"))]


def frames_in(page: str) -> list[str]:
    """Each frame's picture as the page's script puts it together: its pieces, joined."""
    (pool,) = re.findall(r'<script type="application/json" class="mg-pieces">(.*?)</script>', page)
    pieces = json.loads(pool)
    return [
        "".join(pieces[int(i)] for i in indices.split())
        for indices in re.findall(r'data-pieces="([^"]*)"', page)
    ]


@needs_renderer
def test_a_step_through_page_holds_every_frame_and_caption():
    steps = small_steps()
    page = steps.to_html(full_page=True)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('class="mg-frame"') == len(steps) == 4
    assert frames_in(page) == [steps.frame_html(k) for k in range(len(steps))]
    assert 'data-caption="step 3 of 3: #2 = a * b' in page


def test_a_page_stores_each_piece_its_frames_share_once():
    # 200 frames of a 200-group picture, frame k changing group k: the pieces that
    # change, not frames x picture
    box = '<polygon points="' + " ".join(["10.5,-20.25"] * 25) + '"/>'  # as big as dot's
    groups = [f'<g id="node{i}">{box}<text>grad 0.0000</text></g>' for i in range(200)]
    pictures = []
    for k in range(200):
        groups[k] = groups[k].replace("0.0000", "1.0000")
        pictures.append("<svg>" + "".join(groups) + "</svg>")
    page = player_html(pictures, ["caption"] * 200, "title")
    assert frames_in(page) == pictures
    assert len(page) < 3 * len(pictures[0]) + 200 * 200 * 4 + 20_000
    assert len(page) < sum(map(len, pictures)) / 20


def test_no_piece_of_a_picture_can_end_the_pages_script():
    picture = "<svg></script><script>alert(1)</script></svg>"
    page = player_html([picture], ["caption"], "title")
    assert page.count("</script>") == 2  # the pieces' and the player's own
    assert frames_in(page) == [picture]


@needs_renderer
def test_a_page_loads_nothing_from_anywhere():
    assert links(small_steps().to_html(full_page=True)) == []


@needs_renderer
def test_the_same_frames_give_the_same_page():
    assert small_steps().to_html(full_page=True) == small_steps().to_html(full_page=True)


@needs_renderer
def test_labels_reach_the_page_as_text_not_markup():
    page = small_steps(label='<script>alert("x")</script>').to_html()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def placed(drawing) -> dict[str, tuple[float, float, float, float]]:
    """node id -> (x, y, width, height) as rendered, in inches."""
    plain = drawing.pipe(format="plain", encoding="utf-8")
    return {
        w[1]: tuple(map(float, w[2:6]))
        for w in map(shlex.split, plain.splitlines())
        if w[0] == "node"
    }


def frame_alone(steps, k: int):
    """Frame k drawn on its own, laid out for its own numbers alone."""
    sent = {step.node for step in steps.steps[:k]}
    return draw_graph(steps.graph, steps.options, set(), steps.grads_at(k), sent)


def cancelling(**options):
    """a*12345 + a*(-12345): a's grad is -12345 part-way through, and 0 at the end."""
    a = Value(1.0, label="a")
    y = a * 12345 + a * (-12345)
    y.label = "y"
    return step_through(y, **options)


def mlp_steps(**options):
    model = MLP(2, [2, 1], rng=random.Random(0))
    loss = (model([Value(1.0, label="x0"), Value(-2.0, label="x1")]) * 12345.0 - 1.0) ** 2
    return step_through(loss, model=model, **options)


FRAMES = [
    pytest.param(small_steps, id="small"),
    pytest.param(cancelling, id="cancelling"),
    pytest.param(lambda: mlp_steps(cluster=True), id="cluster"),
    pytest.param(lambda: mlp_steps(cluster=True, show_contributions=True), id="cluster-labelled"),
]


@needs_renderer
@pytest.mark.parametrize("make", FRAMES)
def test_every_frame_puts_each_node_where_the_last_frame_has_it(make):
    steps = make()
    last = placed(steps.draw(len(steps) - 1))
    assert all(placed(steps.draw(k)) == last for k in range(len(steps)))


@needs_renderer
@pytest.mark.parametrize("make", FRAMES)
def test_every_frames_boxes_are_as_wide_as_its_own_numbers_need(make):
    steps = make()
    for k in range(len(steps)):
        alone = placed(frame_alone(steps, k))
        for node, (_, _, width, _) in placed(steps.draw(k)).items():
            assert width >= alone[node][2] - 0.01, (k, node)


@needs_renderer
def test_a_gif_has_a_frame_per_step_all_the_same_size():
    image = pytest.importorskip("PIL.Image")
    steps = small_steps()
    gif = image.open(io.BytesIO(steps.to_gif()))
    assert gif.format == "GIF" and gif.n_frames == len(steps)
    sizes = set()
    for k in range(gif.n_frames):
        gif.seek(k)
        sizes.add(gif.size)
    assert len(sizes) == 1


def chain_steps(links: int):
    """The frames of a chain of `links` * and + nodes that all reuse x: wide when drawn."""
    x = Value(0.5, label="x")
    y = x
    for _ in range(links):
        y = y * 1.01 + x
    return step_through(y)


@needs_renderer
def test_a_gif_of_a_wide_graph_is_drawn_no_wider_than_a_page_shows_it():
    image = pytest.importorskip("PIL.Image")
    steps = chain_steps(10)
    assert steps.draw(0).pipe(format="png")[16:20] > (1400).to_bytes(4, "big")  # wider at 96 dpi
    gif = image.open(io.BytesIO(steps.to_gif()))
    assert gif.width <= GIF_MAX_WIDTH == 1400
    assert gif.n_frames == len(steps)


def test_a_gif_that_would_hold_too_many_pixels_is_refused_by_name(monkeypatch):
    image = pytest.importorskip("PIL.Image")
    png = io.BytesIO()
    image.new("RGB", (100, 50), "white").save(png, format="PNG")
    monkeypatch.setattr(player, "GIF_MAX_PIXELS", 100_000)
    gif_bytes([png.getvalue()] * 10, ["caption"] * 10)  # 10 frames of 100 x 79 px: 79,000
    with pytest.raises(ValueError) as error:
        gif_bytes([png.getvalue()] * 20, ["caption"] * 20)
    assert str(error.value).startswith(
        "a GIF of 20 frames of 100 x 79 px would hold 158,000 pixels, more than 100,000: "
    )


def test_a_gif_is_wide_enough_for_a_caption_wider_than_its_pictures():
    image = pytest.importorskip("PIL.Image")
    small = io.BytesIO()
    image.new("RGB", (40, 30), "white").save(small, format="PNG")
    caption = "pre_activation.grad += 0.7864 x 1.0000 = 0.7864  ->  0.7864"
    gif = image.open(io.BytesIO(gif_bytes([small.getvalue()], [caption])))
    # every pixel of the caption's text is inside the frame: its right end is not cut off
    frame = gif.convert("RGB")
    text_ends = max(
        x for x in range(frame.width) for y in range(4, 20) if frame.getpixel((x, y))[0] < 100
    )
    assert text_ends < gif.width - 4  # the text stops before the frame's right edge


@needs_renderer
def test_save_html_and_save_gif_write_their_files(tmp_path):
    pytest.importorskip("PIL")
    steps = small_steps()
    steps.save_html(tmp_path / "steps.html")
    steps.save_gif(tmp_path / "steps.gif")
    assert (tmp_path / "steps.html").read_text(encoding="utf-8") == steps.to_html(full_page=True)
    assert (tmp_path / "steps.gif").read_bytes().startswith(b"GIF89a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.gif", "steps.html"]


@pytest.mark.parametrize("save", ["save_html", "save_gif"])
def test_without_a_renderer_a_page_and_a_gif_alike_refuse_with_the_install_hint(
    save, tmp_path, monkeypatch
):
    pytest.importorskip("PIL")
    monkeypatch.setattr(render, "find_dot", lambda: None)
    monkeypatch.setattr(render, "find_graphviz_pure", lambda: None)
    with pytest.raises(graphviz.ExecutableNotFound, match=r'pip install "micrograd\[render\]"'):
        getattr(small_steps(), save)(tmp_path / "steps")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), -1.0, 0])
def test_seconds_per_frame_must_be_a_positive_number(seconds):
    with pytest.raises(ValueError, match="seconds_per_frame must be"):
        player_html(["<svg/>"], ["caption"], "title", seconds_per_frame=seconds)
    with pytest.raises(ValueError, match="seconds_per_frame must be"):
        gif_bytes([b""], ["caption"], seconds_per_frame=seconds)


@pytest.mark.parametrize("seconds", ["1", None, True])
def test_seconds_per_frame_that_is_not_a_number_is_a_type_error(seconds):
    with pytest.raises(TypeError, match="seconds_per_frame must be a number, got "):
        player_html(["<svg/>"], ["caption"], "title", seconds_per_frame=seconds)
    with pytest.raises(TypeError, match="seconds_per_frame must be a number, got "):
        gif_bytes([b""], ["caption"], seconds_per_frame=seconds)


@pytest.mark.parametrize("seconds", [1e306, 656.0, 1e-9, 0.001])
def test_seconds_per_frame_outside_what_gifs_and_browsers_play_is_refused_by_name(seconds):
    # a GIF holds a frame's time in hundredths of a second, at most 655.35 s, and
    # browsers play a frame shorter than 0.02 s as 0.1 s
    with pytest.raises(ValueError, match=r"seconds_per_frame must be from 0.02 to 655.35 s, got "):
        player_html(["<svg/>"], ["caption"], "title", seconds_per_frame=seconds)
    with pytest.raises(ValueError, match=r"seconds_per_frame must be from 0.02 to 655.35 s, got "):
        gif_bytes([b""], ["caption"], seconds_per_frame=seconds)


def test_the_training_animation_takes_seconds_per_frame_as_the_players_do():
    pytest.importorskip("matplotlib")
    from micrograd.animate import TrainingRecorder

    recorder = TrainingRecorder(MLP(2, [1]), [[1.0, 2.0]], [1])
    with pytest.raises(ValueError, match=r"seconds_per_frame must be from 0.02 to 655.35 s"):
        recorder.animation(seconds_per_frame=1e306)


def test_a_player_needs_a_caption_per_picture():
    with pytest.raises(ValueError, match="one caption per picture"):
        player_html(["<svg/>", "<svg/>"], ["only one"], "title")


# ---- training -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorder():
    return recorded_training(every=4, steps=12)


@pytest.mark.parametrize("classes", [3, 7, 12])
def test_each_class_is_shaded_in_the_colour_of_its_points(classes):
    colors = pytest.importorskip("matplotlib.colors")
    from matplotlib.contour import ContourSet

    from micrograd.animate import TrainingRecorder
    from micrograd.data import make_spirals

    X, y = make_spirals(5 * classes, classes=classes, noise=0.05, seed=0)
    model = MLP(2, [8, classes], rng=random.Random(0))
    recorder = TrainingRecorder(model, X, y, every=5, resolution=8)
    fig, _ = recorder._figure()
    ax = fig.axes[0]
    shades = {
        colors.to_hex(c.get_facecolor()[0])
        for c in ax.collections
        if isinstance(c, ContourSet) and c.filled
    }
    points = [c for c in ax.collections if not isinstance(c, ContourSet)]
    predicted = {c for row in recorder.fields[0] for c in row}
    assert len(shades) == len(predicted)  # one shade per class predicted somewhere
    for c in predicted:
        assert colors.to_hex(points[c].get_facecolor()[0]) in shades, c


def test_the_recorders_boundaries_are_drawn_where_the_scores_tie_as_the_charts_are():
    pytest.importorskip("matplotlib")
    from test_plot import STRAIGHT_LABELS, STRAIGHT_POINTS, boundary_xs, straight_three_class_model

    from micrograd.animate import TrainingRecorder

    model = straight_three_class_model()
    fig, _ = TrainingRecorder(model, STRAIGHT_POINTS, STRAIGHT_LABELS, resolution=4)._figure()
    xs = boundary_xs(fig.axes[0])
    assert xs and max(abs(x) for x in xs) < 1e-9


def test_a_recorder_keeps_a_frame_before_training_and_every_few_steps(recorder):
    assert recorder.steps == [0, 4, 8, 12]
    assert len(recorder.loss) == 12
    assert recorder.captions()[0] == "after 0 steps: untrained"
    # the loss of step 12 is History's: computed before that step's update
    assert recorder.captions()[-1] == f"after 12 steps; loss at step 12: {recorder.loss[11]:.4f}"


def test_a_recorded_frame_is_the_class_the_model_gave_each_cell_then(recorder):
    assert recorder.fields[0] != recorder.fields[-1]  # training moved the boundary
    assert all(len(row) == 12 for row in recorder.fields[-1])


def test_a_training_page_holds_every_frame_and_loads_nothing(recorder):
    page = recorder.to_html(full_page=True)
    assert page.count('class="mg-frame"') == 4
    assert page.count("data:image/png;base64,") == 4
    assert links(page) == []


def test_a_training_gif_has_a_frame_per_recording(recorder):
    image = pytest.importorskip("PIL.Image")
    gif = image.open(io.BytesIO(recorder.to_gif()))
    assert gif.n_frames == len(recorder) == 4


def test_a_recorder_used_for_two_fits_counts_on_through_the_second():
    pytest.importorskip("matplotlib")
    from micrograd.animate import TrainingRecorder
    from micrograd.data import make_moons
    from micrograd.train import fit

    X, y = make_moons(20, noise=0.1, seed=0)
    model = MLP(2, [4, 1], rng=random.Random(0))
    recorder = TrainingRecorder(model, X, [2 * t - 1 for t in y], every=2, resolution=4)
    runs = [
        fit(model, X, [2 * t - 1 for t in y], loss="hinge", steps=4, progress=False,
            callbacks=[recorder])
        for _ in range(2)
    ]  # fmt: skip
    assert recorder.steps == [0, 2, 4, 6, 8]
    assert recorder.loss == runs[0].loss + runs[1].loss
    assert recorder.captions()[-1] == f"after 8 steps; loss at step 8: {runs[1].loss[-1]:.4f}"


def test_a_recorder_refuses_points_that_are_not_2d():
    pytest.importorskip("matplotlib")
    from micrograd.animate import TrainingRecorder

    with pytest.raises(ValueError, match="2-D points"):
        TrainingRecorder(MLP(3, [1]), [[1.0, 2.0, 3.0]], [1])
