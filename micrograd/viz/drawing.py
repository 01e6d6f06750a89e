"""Drawing a computation graph: draw_dot, and the DOT drawing of one traced graph.

Each Value is a box `name | data | grad` and each operation a small oval between
its operands and its result. A Value without a label is named `#i`, its position
in the order of computation (micrograd.engine.topological_order): the same names
appear in the step-through tables. The drawing is DOT text held by a
graphviz.Digraph; micrograd.render turns it into a picture.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import graphviz

from micrograd.engine import Value, topological_order
from micrograd.render import Drawing
from micrograd.viz.text import (
    dot_label,
    format_constant,
    format_number,
    formula,
    op_symbol,
    order_matters,
    record_label,
)

__all__ = ["draw_dot", "DrawOptions", "TracedGraph", "draw_graph", "plain_grad"]

_RANKDIRS = ("LR", "TB", "RL", "BT")

# Styles, as Graphviz attributes. Inputs and parameters differ by fill and border.
_INPUT_STYLE = {"style": "filled", "fillcolor": "#e0f2fe", "color": "#0369a1", "penwidth": "1.5"}
_PARAMETER_STYLE = {
    "style": "filled",
    "fillcolor": "#fef3c7",
    "color": "#b45309",
    "penwidth": "1.5",
}
_OP_STYLE = {
    "shape": "ellipse",
    "style": "filled",
    "fillcolor": "#f3f4f6",
    "fontsize": "10",
    "height": "0.3",
    "margin": "0.04,0.02",
}
_CONSTANT_STYLE = {"shape": "plaintext", "fontsize": "10", "fontcolor": "#4b5563"}
_HIGHLIGHT_STYLE = {"color": "#c026d3", "penwidth": "3"}
_POSITIVE_RGB = (33, 102, 172)  # blue: increasing this node increases the root
_NEGATIVE_RGB = (178, 24, 43)  # red: increasing this node decreases the root
_NAN_COLOR = "#d1d5db"


# ---- drawing ------------------------------------------------------------------


@dataclass(frozen=True)
class DrawOptions:
    """draw_dot's options other than the root and highlight (shared by step_through's frames)."""

    rankdir: str = "LR"
    format: str = "svg"
    show_data: bool = True
    show_grad: bool = True
    max_nodes: int | None = 500
    model: Any = None
    cluster: bool = False
    color_grad: bool = False
    show_contributions: bool = False

    def __post_init__(self) -> None:
        if self.rankdir not in _RANKDIRS:
            raise ValueError(f"rankdir must be one of {_RANKDIRS}, got {self.rankdir!r}")
        if self.max_nodes is not None and self.max_nodes < 1:
            raise ValueError(f"max_nodes must be a positive int or None, got {self.max_nodes!r}")
        if self.model is not None and not hasattr(self.model, "parameters"):
            raise TypeError(
                f"model must have parameters() (an MLP, Layer, Neuron or Module), "
                f"got {type(self.model).__name__}"
            )
        if self.cluster and not _model_neurons(self.model):
            raise ValueError(
                "cluster=True needs the model whose neurons to box: "
                "draw_dot(root, model=mlp, cluster=True) with an MLP, Layer or Neuron"
            )


def draw_dot(
    root: Value,
    rankdir: str = "LR",
    format: str = "svg",
    show_data: bool = True,
    show_grad: bool = True,
    highlight: Value | Iterable[Value] | None = None,
    max_nodes: int | None = 500,
    *,
    model: Any = None,
    cluster: bool = False,
    color_grad: bool = False,
    show_contributions: bool = False,
) -> Drawing:
    """A drawing of everything `root` was computed from, as a graphviz.Digraph.

    In Jupyter it shows itself; elsewhere `.render("graph")` writes graph.svg (in
    `format`) and `.source` is the DOT text. Each Value is a box `name | data |
    grad`; each op an oval with edges operand -> op -> result; a plain-number
    operand is a small grey number. Leaves are inputs (blue) unless they are
    parameters of `model` (amber, named like `L0.N1.w[2]`, i.e.
    `model.layers[0].neurons[1].w[2]`).

    - rankdir: "LR" (left to right) or "TB" (top to bottom), or "RL", "BT".
    - show_data, show_grad: which numbers the boxes show.
    - highlight: a Value (or several) to outline in magenta.
    - max_nodes: a larger graph raises ValueError rather than making Graphviz
      grind for minutes on a picture nobody can read; None for no limit.
    - model, cluster: with cluster=True, box each neuron (its parameters, its
      w·x+b and its activation) and each layer of `model`.
    - color_grad: fill each Value by its gradient: blue positive, red negative,
      darker for larger magnitude (relative to the largest in the drawing).
    - show_contributions: label each operand -> op edge with what the last
      backward pass sent along it (local derivative x the result's grad): a
      Value used twice shows both contributions, which add up to its grad.
    """
    options = DrawOptions(
        rankdir, format, show_data, show_grad, max_nodes, model, cluster, color_grad,
        show_contributions,
    )  # fmt: skip
    return draw_graph(TracedGraph(root, options), options, _highlighted(highlight))


def _highlighted(highlight: Value | Iterable[Value] | None) -> set[Value]:
    if highlight is None:
        return set()
    if isinstance(highlight, Value):
        return {highlight}
    values = set(highlight)
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"highlight takes Values, got {type(v).__name__} {v!r}")
    return values


def _check_root(root: object) -> None:
    if not isinstance(root, Value):
        hint = "; draw one of them, or Value.sum(outputs)" if isinstance(root, list) else ""
        raise TypeError(f"expected a Value, got {type(root).__name__}{hint}")


def _trace(root: Value, max_nodes: int | None) -> list[Value]:
    """Every node root depends on, parents first; a ValueError past max_nodes."""
    _check_root(root)
    order = topological_order(root)  # iterative: any depth works
    if max_nodes is not None and len(order) > max_nodes:
        step = 10 ** (len(str(len(order))) - 1)
        suggestion = -(-len(order) // step) * step  # the count, rounded up
        raise ValueError(
            f"the graph has {len(order)} nodes, more than max_nodes={max_nodes}; "
            f"pass max_nodes={suggestion} or draw a smaller piece (an intermediate Value)"
        )
    return order


def _model_neurons(model: Any) -> list[tuple[int | None, int, Any]]:
    """(layer index, neuron index, neuron) for each neuron of an MLP, Layer or Neuron."""
    if model is None:
        return []
    if hasattr(model, "layers"):  # an MLP
        return [
            (i, j, neuron)
            for i, layer in enumerate(model.layers)
            for j, neuron in enumerate(layer.neurons)
        ]
    if hasattr(model, "neurons"):  # a Layer
        return [(0, j, neuron) for j, neuron in enumerate(model.neurons)]
    if hasattr(model, "w") and hasattr(model, "b"):  # a Neuron
        return [(None, 0, model)]
    return []  # some other Module: its parameters are styled, not named or boxed


def _assign_neurons(order: list[Value], neurons: list) -> dict[Value, int]:
    """Which neuron (an index into `neurons`) computed each node, by identity of parameters.

    A neuron owns its parameters and the nodes that compute it: fused, its one
    node (w·x+b, or σ(w·x+b)); unfused, each w*x (one of its weights times a
    non-parameter), the + that adds its bias to the first, each + that adds
    another of its w*x, and its activation applied to that sum. Everything else,
    such as a loss or an L2 term p*p computed from parameters, belongs to no neuron.
    """
    owner: dict[Value, int] = {}
    bias_of: dict[Value, int] = {}
    for k, (_, _, neuron) in enumerate(neurons):
        for p in neuron.parameters():
            owner.setdefault(p, k)
        bias_of.setdefault(neuron.b, k)
    parameters = set(owner)
    summing: set[Value] = set()  # nodes that compute part of a neuron's Σ w·x + b
    for v in order:
        parents = v.parents
        if not parents or v in owner:
            continue
        k = None
        if v.op.startswith("dot"):  # a fused neuron: one node
            k = next((owner[p] for p in parents if p in parameters), None)
        elif v.op == "*" and len(parents) == 2:  # w * x, one of them a weight
            weights = [p for p in parents if p in parameters]
            if len(weights) == 1 and weights[0] not in bias_of:
                k = owner[weights[0]]
        elif v.op == "+" and len(parents) == 2:  # b + w*x, or (the sum so far) + w*x
            first, term = parents
            if term in summing and term.op == "*":
                k = owner[term]
                if bias_of.get(first) != k and not (first in summing and owner[first] == k):
                    k = None
        elif len(parents) == 1 and parents[0] in summing:
            j = owner[parents[0]]
            if v.op == getattr(neurons[j][2], "activation", None):
                owner[v] = j  # the neuron's activation
            continue
        if k is not None:
            owner[v] = k
            summing.add(v)
    return owner


class TracedGraph:
    """What every drawing of one root needs, worked out once: order, names, roles, boxes."""

    def __init__(self, root: Value, options: DrawOptions) -> None:
        self.root = root
        self.order = _trace(root, options.max_nodes)
        self.ids = {v: f"v{i}" for i, v in enumerate(self.order)}
        self.neurons = _model_neurons(options.model)
        self.parameters = set(options.model.parameters()) if options.model is not None else set()
        parameter_names = self._parameter_names(short=options.cluster)
        self.names = {
            v: str(v.label) if v.label else parameter_names.get(v) or f"#{i}"
            for i, v in enumerate(self.order)
        }
        self.owner = _assign_neurons(self.order, self.neurons) if options.cluster else {}

    def _parameter_names(self, short: bool) -> dict[Value, str]:
        """w[j] and b for each neuron's parameters, prefixed by L<layer>.N<neuron> unless short."""
        names: dict[Value, str] = {}
        for layer, j, neuron in self.neurons:
            if short or len(self.neurons) == 1:
                prefix = ""
            elif layer is None:
                prefix = f"N{j}."
            else:
                prefix = f"L{layer}.N{j}."
            for i, w in enumerate(neuron.w):
                names.setdefault(w, f"{prefix}w[{i}]")
            names.setdefault(neuron.b, f"{prefix}b")
        return names


def draw_graph(
    graph: TracedGraph,
    options: DrawOptions,
    highlight: set[Value],
    grads: Mapping[Value, float] | None = None,
    sent: set[Value] | None = None,
) -> Drawing:
    """The DOT drawing of `graph`.

    For a frame part-way through a backward pass, `grads` (node -> grad) stands in
    for each node's .grad, and only the nodes in `sent` have passed theirs on.
    """
    grad_of = grads.__getitem__ if grads is not None else plain_grad
    missing = highlight - graph.ids.keys()
    if missing:
        raise ValueError(f"highlight: {next(iter(missing))!r} is not in the graph being drawn")
    drawing = Drawing(format=options.format)
    drawing.attr(rankdir=options.rankdir)
    # At most one pass per node of dot's x-positioning (network simplex): a Value reused
    # across many ranks made it run for minutes (181 Values: 582 s, now 5 s); drawings
    # of ordinary graphs converge well within the cap.
    drawing.attr(nslimit="1")
    drawing.attr("node", shape="record", fontsize="11")
    drawing.attr("edge", fontsize="9")
    largest = 0.0
    if options.color_grad:
        finite = [abs(grad_of(v)) for v in graph.order if math.isfinite(grad_of(v))]
        largest = max(finite, default=0.0)
        drawing.attr(
            label=dot_label("fill: blue = positive grad, red = negative; darker = larger |grad|"),
            fontsize="10",
        )

    def add_node(target: graphviz.Digraph, v: Value) -> None:
        """v's box, and for an op result its oval and constant operands, into target."""
        node_id = graph.ids[v]
        style = {}
        if v.is_leaf():
            style.update(_PARAMETER_STYLE if v in graph.parameters else _INPUT_STYLE)
        if options.color_grad:
            style.update(style="filled", fillcolor=_gradient_color(grad_of(v), largest))
        if v in highlight:
            style.update(_HIGHLIGHT_STYLE)
        target.node(node_id, _record_label(graph.names[v], v.data, grad_of(v), options), **style)
        if v.is_leaf():
            return
        target.node(f"{node_id}op", _op_label(v, graph.names), **_OP_STYLE)
        for k, operand in enumerate(v.operands):
            if not isinstance(operand, Value):
                target.node(
                    f"{node_id}c{k}", dot_label(format_constant(operand)), **_CONSTANT_STYLE
                )

    # Nodes: each neuron's inside its box (inside its layer's), in model order; then the rest.
    if graph.owner:
        _add_boxes(drawing, graph, add_node)
    for v in graph.order:
        if v not in graph.owner:
            add_node(drawing, v)

    # Edges, in the order of computation: operands -> op -> result.
    for v in graph.order:
        if v.is_leaf():
            continue
        node_id = graph.ids[v]
        locals_ = iter(v.local_grads)
        for k, operand in enumerate(v.operands):
            if not isinstance(operand, Value):
                drawing.edge(f"{node_id}c{k}", f"{node_id}op")
                continue
            local = next(locals_)
            attrs = {}
            if options.show_contributions and (sent is None or v in sent):
                contribution = local * grad_of(v)
                attrs["label"] = dot_label(format_number(contribution))
                if options.color_grad and contribution != 0 and not math.isnan(contribution):
                    rgb = _POSITIVE_RGB if contribution > 0 else _NEGATIVE_RGB
                    attrs["color"] = attrs["fontcolor"] = "#{:02x}{:02x}{:02x}".format(*rgb)
            drawing.edge(graph.ids[operand], f"{node_id}op", **attrs)
        drawing.edge(f"{node_id}op", node_id)
    return drawing


def plain_grad(v: Value) -> float:
    """v's gradient as a number (after backward(create_graph=True) it is a Value)."""
    g = v.grad
    return g.data if isinstance(g, Value) else g


def _add_boxes(drawing: graphviz.Digraph, graph: TracedGraph, add_node) -> None:
    """A labelled box (a Graphviz cluster) per neuron, inside one per layer, with its nodes."""
    members: dict[int, list[Value]] = {}  # neuron -> its nodes, in the order of computation
    for v in graph.order:
        if v in graph.owner:
            members.setdefault(graph.owner[v], []).append(v)
    layers: dict[int | None, list[int]] = {}  # layer -> its neurons that appear in the graph
    for k in sorted(members):
        layers.setdefault(graph.neurons[k][0], []).append(k)
    for layer, neurons in layers.items():
        with _layer_box(drawing, layer) as layer_box:
            for k in neurons:
                _, j, neuron = graph.neurons[k]
                label = f"neuron {j}" if layer is None else f"neuron {layer}.{j}"
                activation = getattr(neuron, "activation", "")
                label += f" ({activation})" if activation else ""
                with layer_box.subgraph(name=f"cluster_N{k}") as box:
                    box.attr(
                        label=dot_label(label), style="rounded", color="#9ca3af", fontsize="10"
                    )
                    for v in members[k]:
                        add_node(box, v)


@contextmanager
def _layer_box(drawing: graphviz.Digraph, layer: int | None) -> Iterator[graphviz.Digraph]:
    """A dashed, labelled box for one layer; the drawing itself for a lone Neuron (no layer)."""
    if layer is None:
        yield drawing
        return
    with drawing.subgraph(name=f"cluster_L{layer}") as box:
        box.attr(label=dot_label(f"layer {layer}"), style="dashed", color="#6b7280", fontsize="11")
        yield box


def _op_label(v: Value, names: Mapping[Value, str]) -> str:
    """The text of v's op oval: the op's symbol, or for - / ** the whole formula."""
    return dot_label(formula(v, names) if order_matters(v.op) else op_symbol(v.op))


def _record_label(name: str, data: float, grad: float, options: DrawOptions) -> str:
    """`name | data 1.2345 | grad -0.5000`: one row of fields whatever the rankdir."""
    fields = [name]
    if options.show_data:
        fields.append(f"data {format_number(data, 4)}")
    if options.show_grad:
        fields.append(f"grad {format_number(grad, 4)}")
    # A record's fields run across the rank direction; braces turn them a quarter turn,
    # so that they read left to right in LR and RL drawings too.
    return record_label(fields, across=options.rankdir in ("LR", "RL"))


def _gradient_color(grad: float, largest: float) -> str:
    """A fill colour: white for 0, towards blue (positive) or red (negative) as |grad| grows."""
    if math.isnan(grad):
        return _NAN_COLOR
    if grad == 0.0 or largest == 0.0:
        return "#ffffff"
    # sqrt, so that small gradients still show; at most 80% of the way, so text stays legible
    strength = 0.8 * (1.0 if math.isinf(grad) else min(1.0, abs(grad) / largest) ** 0.5)
    rgb = _POSITIVE_RGB if grad > 0 else _NEGATIVE_RGB
    r, g, b = (round(255 + (c - 255) * strength) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"
