"""Drawings shaped like the network (cluster=True), checked where the renderer put things.

Each test renders with each installed renderer (the `renderer` fixture) to
Graphviz's plain format and reads node positions and edge curves from it, so what
is checked is the picture, not only the DOT text. In plain output, x grows to the
right and y upwards, in inches.
"""

from __future__ import annotations

import collections
import os
import random
import shlex
from dataclasses import dataclass

import pytest

from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Neuron
from micrograd.viz import draw_dot, step_through
from micrograd.viz.layout import text_width

pytestmark = pytest.mark.usefixtures("renderer")


@dataclass
class Placed:
    """A node as rendered: its centre, size and label."""

    x: float
    y: float
    w: float
    h: float
    label: str

    @property
    def left(self) -> float:
        return self.x - self.w / 2

    @property
    def right(self) -> float:
        return self.x + self.w / 2

    @property
    def top(self) -> float:
        return self.y + self.h / 2

    @property
    def bottom(self) -> float:
        return self.y - self.h / 2

    def inside(self, box: Placed) -> bool:
        return (
            box.left <= self.left and self.right <= box.right
            and box.bottom <= self.bottom and self.top <= box.top
        )  # fmt: skip

    def overlaps(self, other: Placed) -> bool:
        return (
            self.left < other.right and other.left < self.right
            and self.bottom < other.top and other.bottom < self.top
        )  # fmt: skip


@dataclass
class Rendered:
    nodes: dict[str, Placed]
    edges: list[tuple[str, str, list[tuple[float, float]]]]  # tail, head, spline points
    labels: list[Placed]  # the edges' labels, each with a generous estimate of its size

    def named(self, name: str) -> list[str]:
        """Ids of the Value boxes whose name field is `name`."""
        return [i for i, n in self.nodes.items() if n.label.split("|")[0].strip() == name]

    def one(self, name: str) -> Placed:
        (found,) = self.named(name)
        return self.nodes[found]

    def box(self, title: str) -> Placed:
        """The box whose title is `title`."""
        (box_id,) = [i[: -len("title")] for i, n in self.nodes.items() if n.label == title]
        return self.nodes[box_id]

    def values(self) -> dict[str, Placed]:
        return {i: n for i, n in self.nodes.items() if i.startswith("v") and "op" not in i}


LABEL_EM = 0.64  # an edge label's width per character, in ems: DejaVu Serif's digits, the widest
LABEL_FONTSIZE = 9


def rendered(drawing) -> Rendered:
    nodes: dict[str, Placed] = {}
    edges = []
    labels = []
    for line in drawing.pipe(format="plain", encoding="utf-8").splitlines():
        words = shlex.split(line)
        if words[0] == "node":
            nodes[words[1]] = Placed(*map(float, words[2:6]), words[6])
        elif words[0] == "edge":
            n = int(words[3])
            coords = list(map(float, words[4 : 4 + 2 * n]))
            edges.append((words[1], words[2], list(zip(coords[::2], coords[1::2]))))
            if len(words) > 4 + 2 * n + 2:  # edge tail head n x1 y1 ... [label xl yl] style color
                text, x, y = words[4 + 2 * n], *map(float, words[5 + 2 * n : 7 + 2 * n])
                size = (len(text) * LABEL_EM * LABEL_FONTSIZE, 1.2 * LABEL_FONTSIZE)
                labels.append(Placed(x, y, size[0] / 72, size[1] / 72, text))
    return Rendered(nodes, edges, labels)


def mlp_loss(fused: bool = True, expand: bool = False, **options):
    model = MLP(2, [3, 1], activation="tanh", fused=fused, rng=random.Random(0))
    x = [Value(1.0, label="x0"), Value(-2.0, label="x1")]
    loss = (model(x) - 1.0) ** 2
    loss.backward()
    drawing = draw_dot(loss, model=model, cluster=True, expand=expand, **options)
    return model, x, loss, rendered(drawing)


KINDS = [
    pytest.param({"fused": True}, id="fused"),
    pytest.param({"fused": False}, id="elementary"),
    pytest.param({"fused": True, "expand": True}, id="expanded"),
]


@pytest.mark.parametrize("kind", KINDS)
def test_inputs_stand_in_order_in_the_leftmost_column(kind):
    _, _, _, picture = mlp_loss(**kind)
    x0, x1 = picture.one("x0"), picture.one("x1")
    assert x0.x == pytest.approx(x1.x)
    assert x0.y > x1.y  # x0 above x1
    others = [n for i, n in picture.nodes.items() if n not in (x0, x1)]
    assert min(n.left for n in others) > max(x0.right, x1.right)


@pytest.mark.parametrize("kind", KINDS)
def test_layers_are_boxes_side_by_side_left_to_right(kind):
    _, _, _, picture = mlp_loss(**kind)
    hidden, output = picture.box("layer 0 · hidden"), picture.box("layer 1 · output")
    assert hidden.right < output.left


@pytest.mark.parametrize("kind", KINDS)
def test_neurons_are_stacked_in_index_order_from_the_top(kind):
    _, _, _, picture = mlp_loss(**kind)
    boxes = [picture.box(f"layer 0 · neuron {j} (tanh)") for j in range(3)]
    assert boxes[0].bottom > boxes[1].top and boxes[1].bottom > boxes[2].top
    layer = picture.box("layer 0 · hidden")
    assert all(box.inside(layer) for box in boxes)
    assert picture.box("layer 1 · neuron 0 (linear)").inside(picture.box("layer 1 · output"))


@pytest.mark.parametrize("kind", KINDS)
def test_each_neurons_weights_stand_in_order_in_one_column_with_the_bias_last(kind):
    _, _, _, picture = mlp_loss(**kind)
    for title, names in [
        ("layer 0 · neuron 1 (tanh)", ["w[0]", "w[1]", "b"]),
        ("layer 1 · neuron 0 (linear)", ["w[0]", "w[1]", "w[2]", "b"]),
    ]:
        box = picture.box(title)
        inside = [p for p in picture.values().values() if p.inside(box)]
        column = [next(p for p in inside if p.label.split("|")[0].strip() == n) for n in names]
        assert len({round(p.x, 3) for p in column}) == 1
        ys = [p.y for p in column]
        assert ys == sorted(ys, reverse=True)


@pytest.mark.parametrize("kind", KINDS)
def test_a_neurons_box_holds_its_parameters_and_the_nodes_that_compute_it(kind):
    model, x, loss, picture = mlp_loss(**kind)
    box = picture.box("layer 0 · neuron 2 (tanh)")
    inside = [i for i, p in picture.nodes.items() if p.inside(box) and not i.startswith("neuron")]
    ovals = sorted(picture.nodes[i].label for i in inside if i.endswith("op"))
    expected = ["tanh(w·x+b)"] if kind == {"fused": True} else ["*", "*", "+", "+", "tanh"]
    assert ovals == expected
    names = [
        picture.nodes[i].label.split("|")[0].strip()
        for i in inside
        if "|" in picture.nodes[i].label
    ]
    assert {"w[0]", "w[1]", "b"} <= set(names)


def test_inputs_and_the_loss_are_outside_every_box():
    model, x, loss, picture = mlp_loss()
    boxes = [
        n
        for i, n in picture.nodes.items()
        if i.startswith(("layer", "neuron")) and "title" not in i
    ]
    outside = [picture.one("x0"), picture.one("x1")]
    # the loss: #19 = #18 - 1, #20 = #19 ** 2, each an oval and a box
    outside += [n for n in picture.nodes.values() if n.label.startswith(("#18 - 1", "#19", "#20"))]
    assert len(outside) == 6
    for node in outside:
        assert not any(node.inside(box) for box in boxes)


def assert_no_two_things_overlap(picture: Rendered) -> None:
    """No two nodes, box titles or edge labels overlap (boxes hold things: they are left out)."""
    things = [
        n for i, n in picture.nodes.items() if not i.startswith(("layer", "neuron")) or "title" in i
    ]
    things += picture.labels
    for a_index, a in enumerate(things):
        for b in things[a_index + 1 :]:
            assert not a.overlaps(b), (a.label, b.label)


@pytest.mark.parametrize("kind", KINDS)
def test_no_two_things_overlap(kind):
    assert_no_two_things_overlap(mlp_loss(**kind)[3])


@pytest.mark.parametrize("kind", KINDS)
def test_no_two_things_overlap_with_every_edge_labelled(kind):
    _, _, _, picture = mlp_loss(**kind, show_contributions=True)
    assert len(picture.labels) == sum(1 for e in picture.edges if e[1].endswith("op")) - 2
    assert_no_two_things_overlap(picture)


@pytest.mark.parametrize("kind", KINDS)
def test_no_two_things_overlap_in_any_frame_of_a_step_through(kind):
    model = MLP(2, [3, 1], activation="tanh", fused=kind["fused"], rng=random.Random(0))
    loss = (model([Value(1.0, label="x0"), Value(-2.0, label="x1")]) - 1.0) ** 2
    frames = step_through(
        loss, model=model, cluster=True, expand=kind.get("expand", False), show_contributions=True
    )
    for frame in frames:
        assert_no_two_things_overlap(rendered(frame.draw()))


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "elementary"])
def test_no_two_labels_overlap_where_many_edges_meet_outside_the_network(fused):
    model = MLP(2, [2, 1], fused=fused, rng=random.Random(0))
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    loss = (model(x) - 1.0) ** 2 + Value.sum(p * p for p in model.parameters())
    loss.backward()
    drawing = draw_dot(loss, model=model, cluster=True, show_contributions=True)
    assert_no_two_things_overlap(rendered(drawing))


@pytest.mark.parametrize("kind", KINDS)
def test_no_edge_crosses_a_box_title(kind):
    _, _, _, picture = mlp_loss(**kind)
    titles = [n for i, n in picture.nodes.items() if i.endswith("title")]
    for tail, head, points in picture.edges:
        for k in range(0, len(points) - 3, 3):
            for t in (i / 20 for i in range(21)):
                x, y = _bezier(points[k : k + 4], t)
                for title in titles:
                    assert not (title.left < x < title.right and title.bottom < y < title.top), (
                        tail, head, title.label,
                    )  # fmt: skip


def _bezier(points, t):
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    u = 1 - t
    return (
        u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
        u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3,
    )


@pytest.mark.parametrize("kind", KINDS[1:])
def test_an_elementary_neuron_puts_each_product_on_its_weights_row(kind):
    _, _, _, picture = mlp_loss(**kind)
    box = picture.box("layer 0 · neuron 0 (tanh)")
    inside = {i: p for i, p in picture.nodes.items() if p.inside(box)}
    weights = sorted(
        (p for p in inside.values() if p.label[:5] in ("w[0] ", "w[1] ")), key=lambda p: -p.y
    )
    products = sorted((p for i, p in inside.items() if p.label == "*"), key=lambda p: -p.y)
    assert len(weights) == len(products) == 2
    row = 40 / 72  # the distance between rows, in inches
    for weight, product in zip(weights, products):
        assert abs(weight.y - product.y) < row / 2
        assert weight.right < product.left


def test_titles_name_the_layer_and_neuron_by_their_indices_in_the_model():
    _, _, _, picture = mlp_loss()
    titles = sorted(n.label for i, n in picture.nodes.items() if i.endswith("title"))
    assert titles == [
        "layer 0 · hidden",
        "layer 0 · neuron 0 (tanh)",
        "layer 0 · neuron 1 (tanh)",
        "layer 0 · neuron 2 (tanh)",
        "layer 1 · neuron 0 (linear)",
        "layer 1 · output",
    ]


def test_plain_number_inputs_are_shown_once_each_in_the_inputs_column():
    model = MLP(2, [3, 1], rng=random.Random(0))
    picture = rendered(draw_dot(model([0.5, -1.5]), model=model, cluster=True))
    inputs = [n for n in picture.nodes.values() if n.label.startswith("x[")]
    assert [n.label for n in sorted(inputs, key=lambda n: -n.y)] == ["x[0] = 0.5", "x[1] = -1.5"]
    assert {round(n.x, 3) for n in inputs} == {round(inputs[0].x, 3)}


def test_a_layer_or_a_lone_neuron_can_be_the_model():
    layer, neuron = Layer(2, 2, rng=random.Random(0)), Neuron(2, rng=random.Random(0))
    x = [Value(1.0, label="x0"), Value(2.0, label="x1")]
    picture = rendered(draw_dot(Value.sum(layer(x)), model=layer, cluster=True))
    assert picture.box("layer 0 · neuron 1 (relu)").inside(picture.box("layer 0 · output"))
    picture = rendered(draw_dot(neuron(x), model=neuron, cluster=True))
    assert picture.box("neuron 0 (relu)")


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "elementary"])
def test_an_l2_term_of_parameters_is_drawn_outside_the_neuron_boxes(fused):
    model = MLP(2, [2, 1], fused=fused, rng=random.Random(0))
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    loss = (model(x) - 1.0) ** 2 + Value.sum(p * p for p in model.parameters())
    picture = rendered(draw_dot(loss, model=model, cluster=True))
    boxes = [n for i, n in picture.nodes.items() if i.startswith("neuron") and "title" not in i]
    squares = [n for i, n in picture.nodes.items() if i.endswith("op") and n.label == "*"]
    outside = [n for n in squares if not any(n.inside(b) for b in boxes)]
    assert len(outside) == model.num_parameters()  # every p*p
    assert len(squares) - len(outside) == (0 if fused else 2 * 2 + 2)  # each w*x is inside


def test_a_graph_through_the_model_twice_is_a_value_error_saying_what_to_draw():
    model = MLP(2, [2, 1], rng=random.Random(0))
    loss = model([1.0, 2.0]) + model([3.0, 4.0])
    with pytest.raises(ValueError, match=r"layer 0 · neuron 0 computes 2 times .* one example"):
        draw_dot(loss, model=model, cluster=True)


def test_a_root_another_model_computed_is_a_value_error_not_a_plain_drawing():
    model, other = MLP(2, [2, 1], rng=random.Random(0)), MLP(2, [2, 1], rng=random.Random(1))
    with pytest.raises(ValueError, match="not computed by this model"):
        draw_dot(other([1.0, 2.0]), model=model, cluster=True)


def test_cluster_draws_left_to_right_only():
    model = MLP(2, [2, 1], rng=random.Random(0))
    with pytest.raises(ValueError, match="rankdir must be 'LR'"):
        draw_dot(model([1.0, 2.0]), model=model, cluster=True, rankdir="TB")


@pytest.mark.parametrize("kind", KINDS[1:])
def test_the_bias_crosses_the_products_arrows_well_before_their_heads(kind):
    # A crossing just before an arrowhead reads as a join: as if the bias fed that +.
    _, _, _, picture = mlp_loss(**kind)
    box = picture.box("layer 1 · neuron 0 (linear)")
    inside = {i for i, p in picture.nodes.items() if p.inside(box)}
    (bias,) = [i for i in inside if picture.nodes[i].label.startswith("b |")]
    (climb,) = [points for tail, _, points in picture.edges if tail == bias]
    # where it rises: the x that its vertical stretch's points share
    corridor = collections.Counter(x for x, _ in climb).most_common(1)[0][0]
    rising = [y for x, y in climb if x == corridor]
    pluses = {i for i in inside if picture.nodes[i].label == "+"}
    crossed = [
        points
        for tail, head, points in picture.edges
        if head in pluses and tail != bias and points[0][0] < corridor < points[-1][0]
        and min(rising) < points[-1][1] < max(rising)
    ]  # fmt: skip
    assert len(crossed) == 2  # the products of rows 1 and 2 (row 0's + is the bias's own)
    for points in crossed:
        assert points[-1][0] - corridor >= 2 * 8 / 72  # two arrowheads' length before the head


FONT_FILE = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.mark.skipif(not os.path.exists(FONT_FILE), reason="DejaVu Sans is not installed")
def test_text_is_laid_out_at_least_as_wide_as_dejavu_sans_draws_it():
    image_font = pytest.importorskip("PIL.ImageFont")
    font = image_font.truetype(FONT_FILE, 1000)
    texts = [chr(c) for c in range(32, 127)]
    texts += ["grad -11.0000", "L0.N1 w[0]·x[0]", "layer 0 · neuron 2 (tanh)", "Σ(#1, …)", "WWW"]
    for text in texts:
        assert text_width(text, 11) >= font.getlength(text) / 1000 * 11, text
