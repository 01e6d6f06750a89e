"""draw_network: units in layer columns, weights as coloured lines, outputs and gradients.

Positions are read from the rendered plain output (x to the right, y upwards).
"""

from __future__ import annotations

import random
import re
import shlex
import xml.etree.ElementTree as ElementTree

import pytest
from test_labels import HOSTILE_LABELS, SVG
from test_labels import IDS as HOSTILE_IDS

from micrograd.engine import Value, no_grad
from micrograd.nn import MLP, Neuron
from micrograd.viz import draw_network
from micrograd.viz.text import format_number

XLINK = "{http://www.w3.org/1999/xlink}"


def placed(drawing) -> dict[str, tuple[float, float, str]]:
    """node id -> (x, y, label) as rendered."""
    found = {}
    for line in drawing.pipe(format="plain", encoding="utf-8").splitlines():
        words = shlex.split(line)
        if words[0] == "node":
            found[words[1]] = (float(words[2]), float(words[3]), words[6])
    return found


def model() -> MLP:
    return MLP(2, [3, 2, 1], activation="tanh", rng=random.Random(0))


def edges(drawing) -> list[tuple[str, str, str]]:
    """(tail, head, attributes) of each edge statement."""
    pattern = re.compile(r"^\s*(\w+) -> (\w+) \[(.*)\]$")
    return [m.groups() for m in map(pattern.match, drawing.source.splitlines()) if m]


@pytest.mark.usefixtures("renderer")
def test_units_stand_in_layer_columns_left_to_right_in_index_order():
    nodes = placed(draw_network(model()))
    columns = [["x0", "x1"], ["n1_0", "n1_1", "n1_2"], ["n2_0", "n2_1"], ["n3_0"]]
    xs = [{round(nodes[i][0], 3) for i in column} for column in columns]
    assert all(len(x) == 1 for x in xs)  # each column is one column
    lefts = [x.pop() for x in xs]
    assert lefts == sorted(lefts)
    for column in columns:
        ys = [nodes[i][1] for i in column]
        assert ys == sorted(ys, reverse=True)  # index 0 at the top


@pytest.mark.usefixtures("renderer")
def test_columns_are_titled_by_layer_role_and_activation():
    titles = [
        label for i, (_, _, label) in placed(draw_network(model())).items() if i.startswith("title")
    ]
    assert titles == [
        "inputs",
        "layer 0 · hidden (tanh)",
        "layer 1 · hidden (tanh)",
        "layer 2 · output (linear)",
    ]


def test_each_weight_is_a_line_blue_if_positive_red_if_negative_thicker_if_larger():
    net = model()
    found = edges(draw_network(net))
    assert len(found) == 2 * 3 + 3 * 2 + 2 * 1
    weights = [w.data for layer in net.layers for n in layer.neurons for w in n.w]
    widths = []
    for (_, _, attrs), w in zip(found, weights):
        colour = re.search(r'color="#(\w{6})', attrs).group(1)
        assert colour == ("2166ac" if w >= 0 else "b2182b")
        widths.append(float(re.search(r"penwidth=([\d.]+)", attrs).group(1)))
    assert sorted(range(len(weights)), key=lambda k: abs(weights[k])) == sorted(
        range(len(weights)), key=lambda k: widths[k]
    )


@pytest.mark.usefixtures("renderer")
def test_given_an_input_each_unit_shows_its_output():
    net = model()
    nodes = placed(draw_network(net, x=[0.5, -1.5]))
    with no_grad():
        hidden = net.layers[0]([0.5, -1.5])
    assert [nodes[f"n1_{j}"][2] for j in range(3)] == [format_number(h.data, 2) for h in hidden]
    assert nodes["x1"][2] == "x[1]\\n-1.50"  # two lines, as plain output writes them


@pytest.mark.usefixtures("renderer")
def test_given_a_root_after_backward_each_unit_shows_its_gradient():
    net = model()
    x = [Value(0.5), Value(-1.5)]
    hidden = net.layers[0](x)
    out = net.layers[2](net.layers[1](hidden))
    loss = (out - 1.0) ** 2
    loss.backward()
    nodes = placed(draw_network(net, root=loss))
    assert nodes["n1_2grad"][2] == f"grad {format_number(hidden[2].grad, 2)}"
    assert nodes["x0grad"][2] == f"grad {format_number(x[0].grad, 2)}"
    assert nodes["n3_0"][2] == format_number(out.data, 2)


@pytest.mark.usefixtures("renderer")
def test_given_a_root_before_backward_each_unit_shows_its_output_and_no_gradient():
    net = model()
    loss = (net([Value(0.5), Value(-1.5)]) - 1.0) ** 2
    drawing = draw_network(net, root=loss)
    nodes = placed(drawing)
    assert not [i for i in nodes if i.endswith("grad")]  # not "grad 0.00" everywhere
    assert nodes["n1_0"][2] != ""  # the outputs are known
    assert "grad = d root / d unit" not in drawing.source
    assert "root.backward()" in drawing.source  # the legend says how to see them


def test_a_root_not_computed_by_the_model_is_a_value_error():
    with pytest.raises(ValueError, match="root was not computed by this model"):
        draw_network(model(), root=Value(2.0) * 3)


def test_a_lone_neuron_is_one_unit_after_its_inputs():
    drawing = draw_network(Neuron(3, rng=random.Random(0)), x=[1.0, 2.0, 3.0])
    assert [(t, h) for t, h, _ in edges(drawing)] == [
        ("x0", "n1_0"),
        ("x1", "n1_0"),
        ("x2", "n1_0"),
    ]


def test_what_is_not_a_model_is_a_type_error():
    with pytest.raises(TypeError, match="draws an MLP, Layer or Neuron, got list"):
        draw_network([1, 2])


def test_x_and_root_together_are_a_value_error():
    with pytest.raises(ValueError, match="x= or root=, not both"):
        draw_network(model(), x=[1.0, 2.0], root=Value(1.0))


@pytest.mark.parametrize("given", [5, "ab", 3.5, {"a": 1}])
def test_inputs_that_are_not_a_list_are_a_type_error_saying_what_x_must_be(given):
    with pytest.raises(TypeError, match=r"x must be a list of the model's 2 inputs"):
        draw_network(model(), x=given)


@pytest.mark.parametrize(("given", "bad"), [(["a", "b"], "x\\[0\\]"), ([1.0, None], "x\\[1\\]")])
def test_an_input_that_is_not_a_number_is_a_type_error_naming_it(given, bad):
    with pytest.raises(TypeError, match=rf"{bad} must be a number or a Value, got "):
        draw_network(model(), x=given)


def test_the_wrong_number_of_inputs_is_a_value_error():
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        draw_network(model(), x=[1.0, 2.0, 3.0])


def test_a_root_from_a_batch_is_a_value_error_saying_what_to_pass():
    net = model()
    loss = net([1.0, 2.0]) + net([3.0, 4.0])
    with pytest.raises(ValueError, match="computes 2 times .* one example"):
        draw_network(net, root=loss)


class OddNeuron:
    """A neuron-like model from user code, whose activation name is any text."""

    def __init__(self, activation: str) -> None:
        self.w, self.b, self.activation = [Value(0.5), Value(-0.5)], Value(0.1), activation

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


def svg_of(drawing) -> ElementTree.Element:
    return ElementTree.fromstring(drawing.pipe(format="svg"))


@pytest.mark.usefixtures("renderer")
@pytest.mark.parametrize(("typed", "shown"), HOSTILE_LABELS, ids=HOSTILE_IDS)
def test_an_activation_name_is_shown_as_typed_in_the_column_title_and_the_units_tooltip(
    typed, shown
):
    svg = svg_of(draw_network(OddNeuron(typed)))
    texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    tooltips = [a.get(f"{XLINK}title") for a in svg.iter(f"{SVG}a")]
    assert f"neuron ({shown})" in texts
    assert f"neuron 0 ({shown}): b = 0.1" in tooltips


@pytest.mark.usefixtures("renderer")
def test_a_labelled_input_is_shown_by_its_label():
    net = model()
    loss = (net([Value(0.5, label="x0"), Value(-1.5, label="height")]) - 1.0) ** 2
    loss.backward()
    nodes = placed(draw_network(net, root=loss))
    assert nodes["x0"][2] == "x0\\n0.50"
    assert nodes["x1"][2] == "height\\n-1.50"


@pytest.mark.usefixtures("renderer")
def test_output_names_are_written_beside_the_output_units():
    net = MLP(2, [3, 3], rng=random.Random(0))
    nodes = placed(draw_network(net, x=[0.5, -1.5], output_names=["class 0", "class 1", "c<2>"]))
    for k, name in enumerate(["class 0", "class 1", "c<2>"]):
        x, y, label = nodes[f"n2_{k}name"]
        assert label == name
        assert x > nodes[f"n2_{k}"][0] and abs(y - nodes[f"n2_{k}"][1]) < 0.5  # right beside it


def test_output_names_must_be_one_string_per_output_unit():
    with pytest.raises(ValueError, match=r"output_names: the model has 1 output unit, got 2 names"):
        draw_network(model(), output_names=["a", "b"])
    with pytest.raises(TypeError, match=r"output_names\[0\] must be a str, got int 3"):
        draw_network(model(), output_names=[3])
