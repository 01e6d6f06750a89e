"""Stepping through the passes: forward_steps, backward_steps and step_through."""

from __future__ import annotations

import random
import shlex
import stat
import sys
import time

import pytest
from helpers import bits, random_graph

from micrograd import viz
from micrograd.engine import Value, topological_order
from micrograd.nn import MLP
from micrograd.viz import (
    BackwardStep,
    ParentUpdate,
    backward_steps,
    forward_steps,
    render,
    step_through,
)

# ---- backward_steps -----------------------------------------------------------------------------


def test_exhausting_backward_steps_gives_backward_gradients_bit_for_bit_on_random_graphs():
    for seed in range(300):
        root, nodes = random_graph(seed)
        root.backward()
        expected = [bits(v.grad) for v in nodes]
        root, nodes = random_graph(seed)  # the same graph, built afresh
        for _ in backward_steps(root):
            pass
        assert [bits(v.grad) for v in nodes] == expected, f"seed {seed}"


def test_backward_steps_after_backward_gives_the_same_as_backward_twice():
    root, nodes = random_graph(7)
    root.backward()
    root.backward()
    expected = [bits(v.grad) for v in nodes]
    root, nodes = random_graph(7)
    root.backward()
    list(backward_steps(root))
    assert [bits(v.grad) for v in nodes] == expected


def test_backward_steps_visit_the_interior_nodes_in_reverse_topological_order():
    root, _ = random_graph(3)
    interior = [v for v in reversed(topological_order(root)) if not v.is_leaf()]
    assert [s.node for s in backward_steps(root)] == interior


def test_each_step_records_the_nodes_grad_and_what_each_parent_receives():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    (step,) = backward_steps(c)
    assert step == BackwardStep(
        index=0,
        node=c,
        grad=1.0,
        updates=(ParentUpdate(a, 3.0, 3.0, 3.0), ParentUpdate(b, 2.0, 2.0, 2.0)),
    )


def test_a_parent_reached_twice_shows_its_running_total():
    x = Value(3.0, label="x")
    y = x * x  # two paths into x: 3 then 3 more
    (step,) = backward_steps(y)
    assert [(u.contribution, u.total) for u in step.updates] == [(3.0, 3.0), (3.0, 6.0)]


def test_calling_backward_steps_resets_interior_grads_and_seeds_the_root_at_once():
    x = Value(2.0, label="x")
    h = x.tanh()
    y = h * 3
    h.grad, y.grad = 5.0, 5.0
    backward_steps(y)  # not iterated
    assert (y.grad, h.grad, x.grad) == (1.0, 0.0, 0.0)


def test_stopping_early_leaves_the_gradients_part_way():
    x = Value(2.0, label="x")
    y = x.tanh() * 3
    steps = backward_steps(y)
    next(steps)
    assert x.grad == 0.0  # the tanh step, which reaches x, has not run


def test_backward_steps_of_a_leaf_has_no_steps_and_adds_one_to_its_grad():
    x = Value(2.0)
    x.grad = 0.5
    assert list(backward_steps(x)) == []
    assert x.grad == 1.5


def test_backward_steps_of_a_non_value_is_a_type_error():
    with pytest.raises(TypeError, match="expected a Value"):
        backward_steps(2.0)


# ---- forward_steps -----------------------------------------------------------------------------


def test_forward_steps_follow_the_order_of_computation():
    root, _ = random_graph(11)
    steps = list(forward_steps(root))
    assert [s.node for s in steps] == topological_order(root)
    assert [s.index for s in steps] == list(range(len(steps)))


def test_forward_steps_record_op_operands_and_result():
    x = Value(3.0, label="x")
    y = 1 - x
    leaf, result = forward_steps(y)
    assert (leaf.node, leaf.op, leaf.operands, leaf.data) == (x, "", (), 3.0)
    assert (result.node, result.op, result.operands, result.data) == (y, "-", (1.0, x), -2.0)


def test_a_100000_node_graph_steps_forward_and_backward_without_recursion_error():
    x = Value(1.0, label="x")
    y = x
    for _ in range(100_000):
        y = y * 1.0
    assert sum(1 for _ in forward_steps(y)) == 100_001
    assert sum(1 for _ in backward_steps(y)) == 100_000
    assert x.grad == 1.0


# ---- step_through ------------------------------------------------------------------------------


def small_graph() -> tuple[Value, Value, Value]:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    loss = (a * b).tanh() + a
    loss.label = "L"
    return loss, a, b


def test_step_through_has_a_frame_before_any_step_and_one_after_each():
    loss, _, _ = small_graph()
    frames = step_through(loss)
    assert len(frames) == len(frames.steps) + 1 == 4
    assert frames[0].step is None
    assert [f.step.node for f in frames[1:]] == [s.node for s in frames.steps]


def test_step_through_first_frame_has_only_the_roots_grad():
    loss, _, _ = small_graph()
    grads = step_through(loss)[0].grads
    assert grads[loss] == 1.0
    assert [g for v, g in grads.items() if v is not loss] == [0.0] * (len(grads) - 1)


def test_step_through_last_frame_and_the_graph_hold_backwards_gradients():
    loss, a, b = small_graph()
    loss.backward()
    expected = {v: v.grad for v in topological_order(loss)}
    frames = step_through(loss)
    assert frames[-1].grads == expected
    assert {v: v.grad for v in topological_order(loss)} == expected


def test_step_through_zeroes_leaf_grads_first_unless_told_not_to():
    loss, a, b = small_graph()
    a.grad = 100.0
    step_through(loss)
    assert a.grad < 100.0
    a.grad = 100.0
    step_through(loss, zero_grad=False)
    assert a.grad > 100.0


def test_step_through_frames_outline_the_current_node():
    loss, a, b = small_graph()
    frames = step_through(loss)
    for frame, expected in [(frames[0], loss), (frames[2], frames.steps[1].node)]:
        node_id = frames.graph.ids[expected]
        outlined = [line for line in frame.draw().source.splitlines() if "penwidth=3" in line]
        assert [line.split()[0] for line in outlined] == [node_id]


def test_step_through_frames_draw_the_gradients_so_far():
    loss, a, b = small_graph()
    frames = step_through(loss)
    assert "{ a | data 2.0000 | grad 0.0000 }" in frames[0].draw().source
    assert f"{{ a | data 2.0000 | grad {a.grad:.4f} }}" in frames[-1].draw().source


def test_step_through_frames_label_only_the_edges_that_have_carried_gradient():
    loss, a, b = small_graph()
    frames = step_through(loss, show_contributions=True)
    labelled = [
        line for line in frames[1].draw().source.splitlines() if "-> " in line and "label=" in line
    ]
    assert len(labelled) == 2  # the root's two operands; the tanh and * have not run yet
    labelled = [
        line for line in frames[-1].draw().source.splitlines() if "-> " in line and "label=" in line
    ]
    assert len(labelled) == 5


def test_step_through_captions_say_what_each_parent_receives():
    loss, a, b = small_graph()
    caption = step_through(loss)[1].caption
    assert caption.splitlines() == [
        "step 1 of 3: L = #3 + a, grad 1.0000",
        "    #3.grad += 1.0000 x 1.0000 = 1.0000  ->  1.0000",
        "    a.grad += 1.0000 x 1.0000 = 1.0000  ->  1.0000",
    ]


def test_step_through_prints_as_a_table_of_every_frame():
    loss, _, _ = small_graph()
    frames = step_through(loss)
    table = str(frames)
    assert table.splitlines()[0].startswith("backward pass of L: 3 steps")
    for frame in frames:
        assert frame.caption in table


def test_step_through_passes_draw_options_to_its_frames():
    random.seed(0)
    model = MLP(2, [2, 1])
    loss = model([Value(1.0), Value(2.0)]) ** 2
    frames = step_through(loss, model=model, rankdir="TB", show_contributions=True)
    source = frames[1].draw().source
    assert "rankdir=TB" in source and "L0.N1.w[0]" in source


def test_step_through_rejects_an_unknown_option():
    with pytest.raises(TypeError, match="colour"):
        step_through(Value(1.0), colour=True)


def test_a_frame_displays_as_its_drawing_in_jupyter(monkeypatch):
    monkeypatch.setattr(render, "find_dot", lambda: None)
    monkeypatch.setattr(render, "find_graphviz_pure", lambda: None)
    loss, _, _ = small_graph()
    bundle = step_through(loss)[1]._repr_mimebundle_()
    assert "digraph {" in bundle["text/plain"]


@pytest.fixture
def slow_first_rendering(monkeypatch, tmp_path):
    """A renderer whose first run never finishes (stopped after 0.5 s); later runs render."""
    real = render.find_renderer()
    if real is None:
        pytest.skip("no renderer is installed")
    marker, program = tmp_path / "ran-once", tmp_path / "slow-once-dot"
    program.write_text(
        f"#!{sys.executable}\nimport os, sys, time\n"
        f"if not os.path.exists({str(marker)!r}):\n"
        f"    open({str(marker)!r}, 'w').close()\n"
        f"    time.sleep(60)\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(render, "find_dot", lambda: str(program))
    monkeypatch.setattr(render.Drawing, "timeout", 0.5)


def plain_positions(drawing) -> dict[str, tuple[str, str]]:
    plain = drawing.pipe(format="plain", encoding="utf-8")
    return {w[1]: (w[2], w[3]) for w in map(shlex.split, plain.splitlines()) if w[0] == "node"}


def test_a_frame_whose_layout_timed_out_shows_the_message_and_later_frames_share_a_layout(
    slow_first_rendering,
):
    loss, _, _ = small_graph()
    frames = step_through(loss)
    bundle = frames[1]._repr_mimebundle_()  # laying out the frames times out
    assert bundle["text/plain"].startswith("rendering took longer than 0.5 s")
    assert "rendering took longer" in bundle["text/html"]
    last = plain_positions(frames[len(frames) - 1].draw())
    assert all(plain_positions(frame.draw()) == last for frame in frames)


def test_a_frame_whose_layout_timed_out_is_the_message_in_the_player(slow_first_rendering):
    loss, _, _ = small_graph()
    frames = step_through(loss)
    assert frames.frame_html(1).startswith("<pre>rendering took longer than 0.5 s")
    assert frames.frame_html(1).startswith("<svg")  # rendered once the renderer recovers


def test_inline_svg_of_a_drawing_that_times_out_is_the_message(slow_first_rendering):
    assert render.inline_svg(Value(1.0).draw()).startswith("<pre>rendering took longer")


# ---- step_through without ipywidgets ----------------------------------------------------


@pytest.fixture
def no_ipywidgets(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now fails


def test_without_ipywidgets_jupyter_prints_the_table_not_an_error(no_ipywidgets, capsys):
    loss, _, _ = small_graph()
    frames = step_through(loss, widget=True)
    frames._ipython_display_()
    out = capsys.readouterr().out
    assert str(frames) in out
    assert 'pip install "micrograd[widgets]"' in out


def test_without_ipywidgets_asking_for_the_widget_explains_how_to_get_it(no_ipywidgets):
    loss, _, _ = small_graph()
    with pytest.raises(ImportError, match=r'pip install "micrograd\[widgets\]"'):
        step_through(loss).widget()


def test_outside_a_jupyter_kernel_the_table_is_shown(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    loss, _, _ = small_graph()
    frames = step_through(loss)
    frames._ipython_display_()
    assert str(frames) in capsys.readouterr().out


# ---- step_through with ipywidgets ------------------------------------------------------------


def buttons(box):
    """The Prev button, the slider and the Next button of a step_through widget."""
    controls, caption, picture = box.children
    previous, slider, following = controls.children
    return previous, slider, following, caption, picture


def test_the_widget_has_prev_and_next_buttons_and_a_slider_over_the_frames():
    pytest.importorskip("ipywidgets")
    loss, _, _ = small_graph()
    frames = step_through(loss)
    previous, slider, following, caption, picture = buttons(frames.widget())
    assert (previous.description, following.description) == ("◀ Prev", "Next ▶")
    assert (slider.min, slider.max, slider.value) == (0, len(frames) - 1, 0)
    assert previous.disabled and not following.disabled


def test_next_and_prev_move_through_the_frames_and_show_each_caption():
    pytest.importorskip("ipywidgets")
    loss, _, _ = small_graph()
    frames = step_through(loss)
    previous, slider, following, caption, picture = buttons(frames.widget())
    following.click()
    following.click()
    assert slider.value == 2
    assert "step 2 of 3" in caption.value
    previous.click()
    assert slider.value == 1
    for _ in range(5):
        following.click()
    assert slider.value == len(frames) - 1 and following.disabled


def test_the_widget_renders_frames_only_when_shown(monkeypatch):
    pytest.importorskip("ipywidgets")
    rendered = []
    monkeypatch.setattr(
        viz.frames, "inline_svg", lambda drawing: rendered.append(drawing) or "<svg/>"
    )
    loss, _, _ = small_graph()
    frames = step_through(loss)
    previous, slider, following, caption, picture = buttons(frames.widget())
    assert len(rendered) == 1
    following.click()
    previous.click()  # frame 0 again: already rendered
    assert len(rendered) == 2


@pytest.mark.skipif(render.find_renderer() is None, reason="no renderer is installed")
def test_the_widget_shows_each_frame_as_inline_svg():
    pytest.importorskip("ipywidgets")
    loss, _, _ = small_graph()
    previous, slider, following, caption, picture = buttons(step_through(loss).widget())
    assert picture.value.startswith("<svg")


def test_the_widget_without_a_renderer_shows_the_source_and_the_hint(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(render, "find_dot", lambda: None)
    monkeypatch.setattr(render, "find_graphviz_pure", lambda: None)
    loss, _, _ = small_graph()
    previous, slider, following, caption, picture = buttons(step_through(loss).widget())
    assert picture.value.startswith("<pre>No renderer:")
    assert "digraph {" in picture.value


def test_in_a_jupyter_kernel_with_ipywidgets_the_widget_is_displayed(monkeypatch):
    pytest.importorskip("ipywidgets")
    display = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(display, "display", shown.append)
    loss, _, _ = small_graph()
    step_through(loss, widget=True)._ipython_display_()
    assert type(shown[0]).__name__ == "VBox"


def test_a_100_node_graph_opens_and_steps_quickly():
    pytest.importorskip("ipywidgets")
    random.seed(0)
    model = MLP(3, [6, 6, 1])
    loss = (model([Value(1.0), Value(-2.0), Value(0.5)]) - 1) ** 2
    assert 80 <= len(topological_order(loss)) <= 120
    start = time.perf_counter()
    frames = step_through(loss, model=model, cluster=True)
    previous, slider, following, caption, picture = buttons(frames.widget())
    following.click()
    assert time.perf_counter() - start < 3.0  # two frames rendered, whatever the renderer
