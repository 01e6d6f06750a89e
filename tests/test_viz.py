"""Drawing graphs: what draw_dot's DOT source says, whatever renders it.

These tests read the DOT text (no renderer needed); tests/test_render.py renders it.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys

import graphviz
import pytest

from micrograd.engine import OPS, Op, Value, topological_order
from micrograd.nn import MLP
from micrograd.viz import draw_dot, step_through
from micrograd.viz.drawing import DrawOptions, TracedGraph

# ---- reading DOT source -----------------------------------------------------------

_NODE = re.compile(r"^\s*(\w+) \[(.*)\]$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")


def nodes(drawing: graphviz.Digraph) -> dict[str, str]:
    """Node id -> its attribute text, for every node statement in the source."""
    found = {}
    for line in drawing.source.splitlines():
        match = _NODE.match(line)
        if match and match.group(1) not in ("node", "edge", "graph") and "->" not in line:
            found[match.group(1)] = match.group(2)
    return found


def edges(drawing: graphviz.Digraph) -> list[tuple[str, str]]:
    return [m.groups()[:2] for m in map(_EDGE.match, drawing.source.splitlines()) if m]


def edge_attributes(drawing: graphviz.Digraph) -> list[str]:
    return [m.group(3) or "" for m in map(_EDGE.match, drawing.source.splitlines()) if m]


def records(drawing: graphviz.Digraph) -> dict[str, str]:
    """Value boxes: node id -> label text."""
    return {i: label(a) for i, a in nodes(drawing).items() if re.fullmatch(r"v\d+(p\d+)?", i)}


def ovals(drawing: graphviz.Digraph) -> dict[str, str]:
    """Op nodes: node id -> label text."""
    return {i: label(a) for i, a in nodes(drawing).items() if i.endswith("op")}


def label(attributes: str) -> str:
    match = re.search(r'label=("(?:[^"\\]|\\.)*"|\S+)', attributes)
    text = match.group(1)
    return text[1:-1] if text.startswith('"') else text


def id_of(drawing: graphviz.Digraph, name: str) -> str:
    """The node id of the Value box whose name field is `name`."""
    (found,) = [
        i for i, text in records(drawing).items() if text.split(" | ")[0].strip("{ ") == name
    ]
    return found


# ---- boxes, ovals, edges --------------------------------------------------------------


def test_draw_dot_returns_a_graphviz_digraph_in_the_requested_format():
    drawing = draw_dot(Value(1.0), format="png")
    assert isinstance(drawing, graphviz.Digraph)
    assert drawing.format == "png"


def test_each_value_is_a_box_with_its_name_data_and_grad():
    x = Value(1.5, label="x")
    x.grad = -0.5
    assert records(draw_dot(x)) == {"v0": "{ x | data 1.5000 | grad -0.5000 }"}


def test_unlabelled_values_are_named_by_their_place_in_the_order_of_computation():
    a, b = Value(2.0, label="a"), Value(3.0)
    names = [text.split(" | ")[0] for text in records(draw_dot(a * b, rankdir="TB")).values()]
    assert names == ["a", "#1", "#2"]


def test_each_op_is_an_oval_with_edges_from_its_operands_and_to_its_result():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    drawing = draw_dot(a * b)
    assert len(records(drawing)) == 3
    assert ovals(drawing) == {"v2op": "*"}
    assert edges(drawing) == [("v0", "v2op"), ("v1", "v2op"), ("v2op", "v2")]


def test_a_value_used_twice_by_one_op_has_two_edges_into_it():
    x = Value(3.0, label="x")
    assert edges(draw_dot(x * x)).count(("v0", "v1op")) == 2


def test_a_value_used_by_two_ops_has_an_edge_into_each():
    x = Value(3.0, label="x")
    drawing = draw_dot(x.tanh() + x.exp())
    assert {e for e in edges(drawing) if e[0] == "v0"} == {("v0", "v1op"), ("v0", "v2op")}


def _example_of(row: Op, x: Value, y: Value) -> Value:
    """A node of the op `row`, with operands x (and y)."""
    if row.name == "sum":
        return Value.sum([x, y, x])
    if row.name.startswith("dot"):  # "dot", or a fused neuron "dot-<activation>"
        return Value.dot([x, y], [y, x], x, activation=row.name[len("dot-") :] or None)
    return row(x) if row.arity == 1 else row(x, y)


def test_every_op_of_the_engine_is_drawn_with_its_symbol_or_its_formula():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    for row in OPS.values():
        (oval,) = ovals(draw_dot(_example_of(row, x, y))).values()
        expected = f"x {row.symbol} y" if row.arity == 2 and not row.commutative else row.symbol
        assert oval == expected, row


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("+", "+"),
        ("*", "*"),
        ("neg", "neg"),
        ("abs", "abs"),
        ("relu", "relu"),
        ("tanh", "tanh"),
        ("sigmoid", "sigmoid"),
        ("exp", "exp"),
        ("log", "log"),
        ("sqrt", "sqrt"),
        ("sum", "Σ"),
        ("dot", "w·x+b"),
    ],
)
def test_an_op_whose_operand_order_does_not_matter_shows_its_symbol(op, expected):
    result = _example_of(OPS[op], Value(2.0, label="x"), Value(3.0, label="y"))
    assert list(ovals(draw_dot(result)).values()) == [expected]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda x, y: x - y, "x - y"),
        (lambda x, y: x / y, "x / y"),
        (lambda x, y: x**y, "x ** y"),
        (lambda x, y: 1 - x, "1 - x"),
        (lambda x, y: 1 / x, "1 / x"),
    ],
    ids=["x-y", "x/y", "x**y", "1-x", "1/x"],
)
def test_an_op_whose_operand_order_matters_spells_out_the_formula(make, expected):
    result = make(Value(2.0, label="x"), Value(3.0, label="y"))
    assert list(ovals(draw_dot(result)).values()) == [expected]


def test_a_power_with_a_number_base_spells_out_the_formula():
    assert list(ovals(draw_dot(2 ** Value(3.0, label="x"))).values()) == ["2 ** x"]


def test_a_plain_number_operand_is_a_small_grey_node_feeding_the_op():
    x = Value(3.0, label="x")
    drawing = draw_dot(x * 2)
    constant = nodes(drawing)["v1c1"]
    assert label(constant) == "2"
    assert "shape=plaintext" in constant
    assert ("v1c1", "v1op") in edges(drawing)


@pytest.mark.usefixtures("renderer")
@pytest.mark.parametrize("number", [2, -12345, 0.333333])
def test_the_arrow_from_a_plain_number_starts_at_the_number(number):
    x = Value(3.0, label="x")
    plain = draw_dot(x * number).pipe(format="plain", encoding="utf-8").splitlines()
    (node,) = [line.split() for line in plain if line.startswith("node v1c1 ")]
    (edge,) = [line.split() for line in plain if line.startswith("edge v1c1 ")]
    centre, width, text = float(node[2]), float(node[4]), node[6]
    generous = (len(text) * 0.64 * 10 + 6) / 72  # the text at 10 points, and 3 points each side
    assert width <= generous  # a plaintext node is at least 0.75 in wide: arrows start far off
    assert float(edge[4]) <= centre + width / 2 + 2 / 72


def test_constants_are_written_compactly_to_six_significant_digits():
    x = Value(3.0, label="x")
    assert label(nodes(draw_dot(x / 3.0))["v1c1"]) == "3"
    assert label(nodes(draw_dot(x + 1 / 3))["v1c1"]) == "0.333333"


def test_unlabelled_ops_oval_formulas_use_position_names():
    y = Value(3.0) ** 2
    assert list(ovals(draw_dot(y)).values()) == ["#0 ** 2"]


def test_show_data_and_show_grad_false_leave_only_the_name():
    x = Value(1.0, label="x")
    assert records(draw_dot(x, show_data=False, show_grad=False)) == {"v0": "{ x }"}


def test_left_to_right_boxes_read_across_and_so_do_top_to_bottom_ones():
    x = Value(1.0, label="x")
    assert records(draw_dot(x, rankdir="LR"))["v0"].startswith("{ x |")
    assert records(draw_dot(x, rankdir="TB"))["v0"].startswith("x |")
    assert "rankdir=TB" in draw_dot(x, rankdir="TB").source


def test_an_unknown_rankdir_is_a_value_error():
    with pytest.raises(ValueError, match="rankdir must be one of"):
        draw_dot(Value(1.0), rankdir="up")


def test_characters_that_structure_a_record_are_escaped_in_labels():
    x = Value(1.0, label='a|b{c}<d>"e')
    assert records(draw_dot(x))["v0"].startswith(r"{ a\|b\{c\}\<d\>\"e |")


def test_huge_tiny_nan_and_infinite_numbers_are_shown():
    values = [Value(x) for x in (1e300, 1e-300, float("nan"), float("-inf"))]
    texts = [records(draw_dot(v))["v0"] for v in values]
    assert [t.split(" | ")[1] for t in texts] == [
        "data 1e+300",
        "data 1e-300",
        "data nan",
        "data -inf",
    ]


def test_negative_zero_is_shown_as_zero():
    assert "data 0.0000" in records(draw_dot(Value(-0.0)))["v0"]


def test_gradients_that_are_values_after_create_graph_are_shown_as_numbers():
    x = Value(3.0, label="x")
    y = x * x
    y.backward(create_graph=True)
    assert records(draw_dot(y, color_grad=True))["v0"] == "{ x | data 3.0000 | grad 6.0000 }"


def test_a_non_value_root_is_a_type_error_that_suggests_what_to_draw():
    with pytest.raises(TypeError, match=r"got list; draw one of them, or Value.sum"):
        draw_dot([Value(1.0), Value(2.0)])


# ---- determinism ------------------------------------------------------------------------


def _example() -> Value:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + b**2
    d = Value.sum([c, a, c.tanh()]) / 2 + abs(a - b)
    d.backward()
    return d


def test_the_same_graph_gives_the_same_source_byte_for_byte():
    assert (
        draw_dot(_example(), color_grad=True).source == draw_dot(_example(), color_grad=True).source
    )


def test_the_source_does_not_depend_on_the_process_or_its_hash_seed():
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import test_viz; "
        "from micrograd.viz import draw_dot; "
        "print(draw_dot(test_viz._example(), show_contributions=True).source)"
    )
    here = os.path.dirname(__file__)
    sources = {
        subprocess.run(
            [sys.executable, "-c", script, here],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(sources) == 1
    assert sources == {draw_dot(_example(), show_contributions=True).source + "\n"}


# ---- size: deep and large graphs -----------------------------------------------------


def _chain(length: int) -> Value:
    y = Value(1.0, label="x")
    for _ in range(length):
        y = y + 1
    return y


def test_a_graph_larger_than_max_nodes_is_a_value_error_saying_how_to_draw_it():
    with pytest.raises(ValueError) as error:
        draw_dot(_chain(1233))
    assert str(error.value) == (
        "the graph has 1234 nodes, more than max_nodes=500; pass max_nodes=2000 "
        "or draw a smaller piece (an intermediate Value)"
    )


def test_a_100000_node_graph_is_traced_without_recursion_error():
    with pytest.raises(ValueError, match="the graph has 100001 nodes"):
        draw_dot(_chain(100_000))


def test_a_graph_deeper_than_the_recursion_limit_is_drawn_whole_with_max_nodes_none():
    depth = sys.getrecursionlimit() * 3
    drawing = draw_dot(_chain(depth), max_nodes=None)
    assert len(records(drawing)) == depth + 1
    assert len(ovals(drawing)) == depth


def test_max_nodes_must_be_positive():
    with pytest.raises(ValueError, match="max_nodes must be a positive int or None"):
        draw_dot(Value(1.0), max_nodes=0)


@pytest.mark.parametrize("given", ["10", 2.5, True, [10]])
def test_max_nodes_that_is_not_an_int_is_a_type_error_naming_it(given):
    with pytest.raises(TypeError, match=r"max_nodes must be a positive int or None, got "):
        draw_dot(Value(1.0), max_nodes=given)


# ---- highlighting ----------------------------------------------------------------------


def test_highlight_outlines_the_given_values():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    drawing = draw_dot(a * b, highlight=[a])
    outlined = [i for i, attrs in nodes(drawing).items() if "penwidth=3" in attrs]
    assert outlined == ["v0"]


def test_highlighting_a_value_outside_the_graph_is_a_value_error():
    with pytest.raises(ValueError, match="is not in the graph being drawn"):
        draw_dot(Value(1.0), highlight=Value(2.0))


# ---- models: parameters, names and clusters -----------------------------------------------


def _mlp_loss(fused: bool = True) -> tuple[MLP, list[Value], Value]:
    random.seed(0)
    model = MLP(2, [3, 1], activation="tanh", fused=fused)
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    loss = (model(x) - 1.0) ** 2
    loss.backward()
    return model, x, loss


def fill(drawing: graphviz.Digraph, node_id: str) -> str | None:
    """The fill colour of a node, or None when it has none."""
    match = re.search(r'fillcolor="([^"]+)"', nodes(drawing)[node_id])
    return match and match.group(1)


def test_without_a_model_every_leaf_is_styled_as_an_input():
    model, x, loss = _mlp_loss()
    drawing = draw_dot(loss)
    fills = [fill(drawing, i) for i in records(drawing)]
    assert fills.count("#e0f2fe") == len(model.parameters()) + len(x)
    assert set(fills) == {"#e0f2fe", None}


def test_parameters_of_the_model_are_styled_apart_from_inputs():
    model, x, loss = _mlp_loss()
    drawing = draw_dot(loss, model=model)
    assert fill(drawing, id_of(drawing, "x0")) == "#e0f2fe"
    assert fill(drawing, id_of(drawing, "L0.N1.w[0]")) == "#fef3c7"


def test_parameters_are_named_by_layer_neuron_and_index():
    model, x, loss = _mlp_loss()
    names = {
        text.split(" | ")[0].strip("{ ") for text in records(draw_dot(loss, model=model)).values()
    }
    assert {"L0.N0.w[0]", "L0.N2.w[1]", "L0.N2.b", "L1.N0.w[2]", "L1.N0.b"} <= names


def test_a_labelled_parameter_keeps_its_label():
    model, x, loss = _mlp_loss()
    model.layers[1].neurons[0].b.label = "bias"
    names = {
        text.split(" | ")[0].strip("{ ") for text in records(draw_dot(loss, model=model)).values()
    }
    assert "bias" in names and "L1.N0.b" not in names


def test_cluster_without_a_model_is_a_value_error():
    with pytest.raises(ValueError, match=r"cluster=True needs the model"):
        draw_dot(Value(1.0), cluster=True)


def test_a_model_without_parameters_is_a_type_error():
    with pytest.raises(TypeError, match="model must have parameters"):
        draw_dot(Value(1.0), model=object())


# ---- gradient colours and contributions -------------------------------------------------------


def test_color_grad_fills_positive_blue_negative_red_zero_white_darker_for_larger():
    a, b, c = Value(1.0, label="a"), Value(-2.0, label="b"), Value(5.0, label="c")
    y = a * b + 0 * c  # dy/da = -2, dy/db = 1, dy/dc = 0
    y.backward()
    drawing = draw_dot(y, color_grad=True)

    def rgb(name: str) -> tuple[int, int, int]:
        colour = fill(drawing, id_of(drawing, name))
        return tuple(int(colour[k : k + 2], 16) for k in (1, 3, 5))

    negative, positive, zero = rgb("a"), rgb("b"), rgb("c")
    assert negative[0] > negative[2]  # reddish
    assert positive[2] > positive[0]  # bluish
    assert zero == (255, 255, 255)
    assert sum(negative) < sum(positive)  # |-2| > |1|: darker


def test_color_grad_explains_its_colours_in_a_legend():
    assert "darker = larger |grad|" in draw_dot(Value(1.0), color_grad=True).source


def test_show_contributions_labels_each_edge_with_local_derivative_times_grad():
    x = Value(3.0, label="x")
    y = x * 2 + x * x  # dy/dx = 2 + 2x = 8, in two paths: 2 and 6 (3 + 3)
    y.backward()
    drawing = draw_dot(y, show_contributions=True)
    from_x = [
        label(a)
        for (tail, _), a in zip(edges(drawing), edge_attributes(drawing))
        if tail == id_of(drawing, "x")
    ]
    assert sorted(from_x) == ["2.0000", "3.0000", "3.0000"]
    assert sum(map(float, from_x)) == x.grad


def test_edge_labels_are_written_with_4_decimals_as_the_boxes_are():
    a, b = Value(2.0, label="a"), Value(-1 / 3, label="b")
    c = a * b
    c.backward()
    drawing = draw_dot(c, show_contributions=True)
    assert sorted(label(a) for a in edge_attributes(drawing) if "label=" in a) == [
        "-0.3333",
        "2.0000",
    ]
    assert "grad -0.3333" in drawing.source and "grad 2.0000" in drawing.source


def test_constants_edges_carry_no_contribution():
    x = Value(3.0, label="x")
    y = x * 2
    y.backward()
    drawing = draw_dot(y, show_contributions=True)
    assert [a for e, a in zip(edges(drawing), edge_attributes(drawing)) if e[0] == "v1c1"] == [""]


# ---- imports ---------------------------------------------------------------------------------


def test_import_micrograd_does_not_import_graphviz():
    code = (
        "import sys, micrograd, micrograd.engine, micrograd.nn; "
        "print('graphviz' in sys.modules, 'micrograd.viz' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


# ---- expand: a fused neuron drawn as its elementary chain ---------------------------------------


def _fused_and_elementary(activation: str, inputs: list) -> tuple:
    """The same MLP built fused and elementary, after backward() of the same loss."""
    losses = []
    for fused in (True, False):
        model = MLP(3, [4, 3, 1], activation=activation, fused=fused, rng=random.Random(3))
        x = [Value(v, label=f"x{i}") if i % 2 == 0 else v for i, v in enumerate(inputs)]
        loss = (model(x) - 0.5) ** 2
        loss.backward()
        losses.append((model, loss))
    return losses


def _chains(model, loss) -> list[list[tuple[str, float, float]]]:
    """For each neuron: (op, data, grad) of every node of its chain, as a drawing has them."""
    graph = TracedGraph(loss, DrawOptions(model=model, expand=True))
    grad_of = graph.grads()
    passes = sorted(graph.passes, key=lambda p: p.neuron)
    return [[(graph.op_of(n), n.data, grad_of(n)) for n in p.nodes()] for p in passes]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_an_expanded_neuron_holds_the_floats_of_the_elementary_graph(activation):
    (fused, fused_loss), (plain, plain_loss) = _fused_and_elementary(activation, [0.7, -1.3, 2.1])
    assert len(_chains(fused, fused_loss)) == 4 + 3 + 1
    # data and gradients bit for bit, node for node, relus that are off included
    assert _chains(fused, fused_loss) == _chains(plain, plain_loss)


def test_an_expanded_drawing_shows_the_numbers_of_the_elementary_drawing():
    (fused, fused_loss), (plain, plain_loss) = _fused_and_elementary("tanh", [0.7, -1.3, 2.1])

    def numbers(drawing):
        return sorted(text.split(" | ", 1)[1] for text in records(drawing).values())

    expanded = draw_dot(fused_loss, model=fused, expand=True, show_contributions=True)
    elementary = draw_dot(plain_loss, model=plain, show_contributions=True)
    assert numbers(expanded) == numbers(elementary)
    unnamed = [
        sorted(re.sub(r"#\d+", "#", t) for t in ovals(d).values()) for d in (expanded, elementary)
    ]
    assert unnamed[0] == unnamed[1]
    assert sorted(edge_attributes(expanded)) == sorted(edge_attributes(elementary))


def test_expanded_parts_are_named_by_what_they_compute():
    (fused, fused_loss), _ = _fused_and_elementary("tanh", [0.7, -1.3, 2.1])
    names = {
        text.split(" | ")[0].strip("{ ")
        for text in records(draw_dot(fused_loss, model=fused, expand=True)).values()
    }
    assert {
        "L0.N2 w[1]·x[1]",
        "L0.N2 b + w[0]·x[0]",
        "L0.N2 … + w[1]·x[1]",
        "L0.N2 w·x + b",
    } <= names


def test_max_nodes_counts_the_nodes_drawn_after_expanding_fused_neurons():
    model = MLP(3, [4, 3, 1], rng=random.Random(3))
    loss = (model([0.7, -1.3, 2.1]) - 0.5) ** 2
    values = len(topological_order(loss))
    drawn = len(TracedGraph(loss, DrawOptions(model=model, expand=True, max_nodes=None)).order)
    assert drawn > values
    draw_dot(loss, model=model, max_nodes=values)  # fits unexpanded
    with pytest.raises(ValueError) as error:
        draw_dot(loss, model=model, expand=True, max_nodes=values)
    assert str(error.value).startswith(
        f"drawn expanded, the graph has {drawn} nodes ({values} Values and "
        f"{drawn - values} steps of fused neurons), more than max_nodes={values}; pass "
    )


def test_expand_without_a_model_expands_every_fused_node():
    x = [Value(1.0, label="a"), Value(2.0, label="b")]
    w = [Value(0.5), Value(-0.25)]
    y = Value.dot(w, x, Value(0.1), activation="tanh")
    y.backward()
    assert sorted(ovals(draw_dot(y, expand=True)).values()) == ["*", "*", "+", "+", "tanh"]


def test_a_frame_shows_an_expanded_neurons_gradients_once_its_node_has_passed_them_on():
    random.seed(0)
    model = MLP(2, [1], activation="tanh")
    loss = model([Value(1.0), Value(2.0)]) * 3
    frames = step_through(loss, model=model, expand=True)
    graph = frames.graph
    (chain,) = graph.passes
    parts = [n for n in chain.nodes() if n is not chain.output]
    before, after = graph.grads(frames.grads_at(1), {frames.steps[0].node}), graph.grads()
    assert [before(p) for p in parts] == [0.0] * len(parts)  # step 1: only the * 3 is done
    assert all(after(p) != 0.0 for p in parts)
