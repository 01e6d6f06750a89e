"""Drawing a computation graph: draw_dot, and the DOT drawing of one traced graph.

Each Value is a box `name | data | grad` and each operation a small oval between
its operands and its result. A Value without a label is named `#i`, its position
in the order of computation (micrograd.engine.topological_order): the same names
appear in the step-through tables. The drawing is DOT text held by a
graphviz.Digraph; micrograd.viz.render turns it into a picture. Graphviz's `dot`
lays out a plain drawing; a drawing shaped like the network (cluster=True) is
laid out by micrograd.viz.layout, and Graphviz only draws it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from micrograd._checks import excerpt
from micrograd.engine import Value, topological_order
from micrograd.viz.layout import FrozenLayout, NetworkLayout, Shape
from micrograd.viz.neurons import NeuronPass, Node, Part, find_passes, model_neurons
from micrograd.viz.render import Drawing
from micrograd.viz.text import (
    dot_label,
    format_constant,
    format_number,
    op_formula,
    op_symbol,
    order_matters,
    record_label,
)

__all__ = [
    "draw_dot",
    "DrawOptions",
    "TracedGraph",
    "draw_graph",
    "Layout",
    "fixed_layout",
    "plain_grad",
    "INPUT_STYLE",
    "PARAMETER_STYLE",
    "POSITIVE_RGB",
    "NEGATIVE_RGB",
]

_RANKDIRS = ("LR", "TB", "RL", "BT")

# Styles, as Graphviz attributes (draw_network's units take their colours from these).
# Inputs and parameters differ by fill and border.
INPUT_STYLE = {"style": "filled", "fillcolor": "#e0f2fe", "color": "#0369a1", "penwidth": "1.5"}
PARAMETER_STYLE = {
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
# A plain number, as wide as it is written (a plaintext node is at least 0.75 in wide by
# default, and arrows would start far from the number). Not shape=plain: with it a node
# given a size (a step-through frame's, from the shared layout) is drawn 0 wide. Only the
# width: height=0 too made dot lay out a 90-op chain reusing one input in over 60 s, not 4 s.
_CONSTANT_STYLE = {
    "shape": "plaintext",
    "width": "0",
    "margin": "0.02,0",
    "fontsize": "10",
    "fontcolor": "#4b5563",
}
_HIGHLIGHT_STYLE = {"color": "#c026d3", "penwidth": "3"}
POSITIVE_RGB = (33, 102, 172)  # blue: increasing this node increases the root
NEGATIVE_RGB = (178, 24, 43)  # red: increasing this node decreases the root
_NAN_COLOR = "#d1d5db"
_BOX_STYLES = {  # the boxes around a layer and around each neuron, in a network-shaped drawing
    "layer": {"style": "dashed", "color": "#6b7280", "fontsize": "11"},
    "neuron": {"style": "rounded", "color": "#9ca3af", "fontsize": "10"},
}
_LEGEND = "fill: blue = positive grad, red = negative; darker = larger |grad|"


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
    expand: bool = False

    def __post_init__(self) -> None:
        if self.rankdir not in _RANKDIRS:
            raise ValueError(f"rankdir must be one of {_RANKDIRS}, got {self.rankdir!r}")
        if self.max_nodes is not None:
            if isinstance(self.max_nodes, bool) or not isinstance(self.max_nodes, int):
                raise TypeError(
                    f"max_nodes must be a positive int or None, got "
                    f"{type(self.max_nodes).__name__} {excerpt(self.max_nodes)}"
                )
            if self.max_nodes < 1:
                raise ValueError(f"max_nodes must be a positive int or None, got {self.max_nodes}")
        if self.model is not None and not hasattr(self.model, "parameters"):
            raise TypeError(
                f"model must have parameters() (an MLP, Layer, Neuron or Module), "
                f"got {type(self.model).__name__}"
            )
        if self.cluster and not model_neurons(self.model):
            raise ValueError(
                "cluster=True needs the model whose neurons to box: "
                "draw_dot(root, model=mlp, cluster=True) with an MLP, Layer or Neuron"
            )
        if self.cluster and self.rankdir != "LR":
            raise ValueError(
                f"cluster=True draws the network left to right: rankdir must be 'LR', "
                f"got {self.rankdir!r}"
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
    expand: bool = False,
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
    - model, cluster: with cluster=True, draw the graph shaped like the network:
      inputs in order on the left, then each layer of `model` as a column (a
      dashed box), its neurons top to bottom in index order, each in a box
      titled like "layer 0 · neuron 2 (tanh)" holding its weights in order, its
      bias last, and the nodes that compute it. One forward pass only.
    - color_grad: fill each Value by its gradient: blue positive, red negative,
      darker for larger magnitude (relative to the largest in the drawing).
    - show_contributions: label each operand -> op edge with what the last
      backward pass sent along it (local derivative x the result's grad): a
      Value used twice shows both contributions, which add up to its grad.
    - expand: draw each fused neuron (one Value.dot node) as the w[i]·x[i]
      products, running sums and activation that fused=False would build, with
      the numbers those nodes would hold, gradients included.
    """
    options = DrawOptions(
        rankdir, format, show_data, show_grad, max_nodes, model, cluster, color_grad,
        show_contributions, expand,
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
        raise ValueError(
            f"the graph has {len(order)} nodes, more than max_nodes={max_nodes}; "
            f"pass max_nodes={_rounded_up(len(order))} or draw a smaller piece "
            "(an intermediate Value)"
        )
    return order


def _rounded_up(count: int) -> int:
    """count rounded up to its leading digit: 1234 -> 2000, a max_nodes to suggest."""
    step = 10 ** (len(str(count)) - 1)
    return -(-count // step) * step


class TracedGraph:
    """What every drawing of one root needs, worked out once: nodes, names, neurons.

    `order` holds the nodes to draw, parents first: the Values root depends on,
    and with expand=True the Parts of each fused neuron, just before its node.
    Each node is drawn as op_of(node) applied to operands_of(node), which for an
    expanded fused node is its activation (or last +) instead of Value.dot.
    """

    def __init__(self, root: Value, options: DrawOptions) -> None:
        self.root = root
        self.values = values = _trace(root, options.max_nodes)  # the Values alone
        self.neurons = model_neurons(options.model)
        self.parameters = set(options.model.parameters()) if options.model is not None else set()
        self.passes: list[NeuronPass] = []
        if options.expand or options.cluster:
            self.passes = find_passes(values, self.neurons, options.expand)
        if options.cluster and not self.passes:
            raise ValueError(
                "cluster=True: root was not computed by this model (none of its neurons is "
                "in root's graph): pass the output, or a loss, of a forward pass through it"
            )
        self._drawn_as = {p.output: p.drawn_as for p in self.passes if p.drawn_as is not None}
        parts_of = {
            p.output: [n for n in p.nodes() if isinstance(n, Part)]
            for p in self.passes
            if p.drawn_as is not None
        }
        self.order: list[Node] = []
        self.ids: dict[Node, str] = {}
        self.names: dict[Node, str] = {}
        parameter_names = self._parameter_names(short=options.cluster)
        part_prefix = self._part_prefixes(short=options.cluster)
        for i, v in enumerate(values):
            for k, part in enumerate(parts_of.get(v, ())):
                self.order.append(part)
                self.ids[part] = f"v{i}p{k}"
                self.names[part] = part_prefix.get(v, "") + part.name
            self.order.append(v)
            self.ids[v] = f"v{i}"
            self.names[v] = str(v.label) if v.label else parameter_names.get(v) or f"#{i}"
        if options.max_nodes is not None and len(self.order) > options.max_nodes:
            drawn, steps = len(self.order), len(self.order) - len(values)
            raise ValueError(
                f"drawn expanded, the graph has {drawn} nodes ({len(values)} Values and "
                f"{steps} steps of fused neurons), more than max_nodes={options.max_nodes}; "
                f"pass max_nodes={_rounded_up(drawn)}, draw it without expand=True, or draw "
                "a smaller piece (an intermediate Value)"
            )

    def op_of(self, v: Node) -> str:
        return self._drawn_as[v][0] if v in self._drawn_as else v.op

    def operands_of(self, v: Node) -> tuple:
        return self._drawn_as[v][1] if v in self._drawn_as else tuple(v.operands)

    def local_grads_of(self, v: Node) -> tuple:
        return self._drawn_as[v][2] if v in self._drawn_as else tuple(v.local_grads)

    def grads(
        self, grads: Mapping[Value, float] | None = None, sent: set[Value] | None = None
    ) -> Callable[[Node], float]:
        """node -> its gradient: .grad, or `grads` for a frame where only `sent` have passed
        theirs on. A Part's is its share of its fused node's, once that node has passed it on."""
        value_grad = grads.__getitem__ if grads is not None else plain_grad

        def grad_of(v: Node) -> float:
            if isinstance(v, Part):
                if sent is not None and v.origin not in sent:
                    return 0.0
                return 0.0 + v.slope * value_grad(v.origin)  # as backward() accumulates it
            return value_grad(v)

        return grad_of

    def _parameter_names(self, short: bool) -> dict[Value, str]:
        """w[j] and b for each neuron's parameters, prefixed by L<layer>.N<neuron> unless short."""
        names: dict[Value, str] = {}
        for entry, prefix in zip(self.neurons, self._neuron_prefixes(short)):
            for i, w in enumerate(entry.neuron.w):
                names.setdefault(w, f"{prefix}.w[{i}]" if prefix else f"w[{i}]")
            names.setdefault(entry.neuron.b, f"{prefix}.b" if prefix else "b")
        return names

    def _neuron_prefixes(self, short: bool) -> list[str]:
        """L<layer>.N<neuron> for each neuron ("" when short, or for a lone neuron)."""
        if short or len(self.neurons) == 1:
            return [""] * len(self.neurons)
        return [
            f"N{e.index}" if e.layer is None else f"L{e.layer}.N{e.index}" for e in self.neurons
        ]

    def _part_prefixes(self, short: bool) -> dict[Value, str]:
        """For each expanded fused node, what its Parts' names start with: "L0.N1 " or ""."""
        prefixes = self._neuron_prefixes(short)
        return {
            p.output: f"{prefixes[p.neuron]} "
            if p.neuron is not None and prefixes[p.neuron]
            else ""
            for p in self.passes
        }


# Where a drawing's nodes and edges go, worked out from another drawing of the same graph:
# the frames of a step-through are all drawn where one of them was laid out.
Layout = Union[FrozenLayout, NetworkLayout]


def draw_graph(
    graph: TracedGraph,
    options: DrawOptions,
    highlight: set[Value],
    grads: Mapping[Value, float] | None = None,
    sent: set[Value] | None = None,
    layout: Layout | None = None,
) -> Drawing:
    """The DOT drawing of `graph`.

    For a frame part-way through a backward pass, `grads` (node -> grad) stands in
    for each node's .grad, and only the nodes in `sent` have passed theirs on;
    `layout` (see fixed_layout) puts every node and edge where it is there.
    """
    shapes, edges = _shapes_and_edges(graph, options, highlight, grads, sent)
    if options.cluster:
        if not isinstance(layout, NetworkLayout):
            layout = NetworkLayout(graph, shapes, edges)
        return _network_drawing(options, shapes, edges, layout)
    return _dot_drawing(
        options, shapes, edges, layout if isinstance(layout, FrozenLayout) else None
    )


def _dot_drawing(
    options: DrawOptions,
    shapes: list[Shape],
    edges: list[tuple[str, str, dict[str, str]]],
    frozen: FrozenLayout | None,
) -> Drawing:
    """The drawing laid out by Graphviz's dot, or drawn where `frozen` has every node and edge."""
    drawing = Drawing(format=options.format)
    if frozen is not None:
        drawing.engine, drawing.neato_no_op = "neato", 2  # draw where `frozen` says
    drawing.attr(rankdir=options.rankdir)
    # At most one pass per node of dot's x-positioning (network simplex): a Value reused
    # across many ranks made it run for minutes (181 Values: 582 s, now 5 s); drawings
    # of ordinary graphs converge well within the cap.
    drawing.attr(nslimit="1")
    drawing.attr("node", shape="record", fontsize="11")
    drawing.attr("edge", fontsize="9")
    if options.color_grad:
        drawing.attr(label=dot_label(_LEGEND), fontsize="10")
    across = options.rankdir in ("LR", "RL")
    for shape in shapes:
        place = frozen.node_attrs(shape.id) if frozen is not None else {}
        drawing.node(shape.id, _dot_label_of(shape, across), **{**shape.style, **place})
    seen: dict[tuple[str, str], int] = {}
    for tail, head, attrs in edges:
        nth = seen[(tail, head)] = seen.get((tail, head), -1) + 1
        place = frozen.edge_attrs(tail, head, nth, "label" in attrs) if frozen else {}
        drawing.edge(tail, head, **{**attrs, **place})
    return drawing


def fixed_layout(
    graph: TracedGraph,
    options: DrawOptions,
    grads: Mapping[Value, float],
    sent: set[Value],
    box_grads: Mapping[Node, float],
) -> Layout:
    """The layout of the drawing with these `grads` and `sent`, its boxes sized as if they
    showed `box_grads`, to draw other drawings of the graph in its places.

    A network-shaped drawing (cluster=True) is laid out here; any other by
    Graphviz's dot, which needs a renderer (graphviz.ExecutableNotFound without).
    """
    shapes, edges = _shapes_and_edges(graph, options, set(), grads, sent, box_grads)
    if options.cluster:
        return NetworkLayout(graph, shapes, edges)
    return FrozenLayout(_dot_drawing(options, shapes, edges, None))


def _shapes_and_edges(
    graph: TracedGraph,
    options: DrawOptions,
    highlight: set[Value],
    grads: Mapping[Value, float] | None,
    sent: set[Value] | None,
    box_grads: Mapping[Node, float] | None = None,
) -> tuple[list[Shape], list[tuple[str, str, dict[str, str]]]]:
    """What a drawing of `graph` draws: each node's shape, and each edge, in order.

    The gradients are `grads` (see draw_graph); the boxes show `box_grads` instead
    when given (to size them for numbers they show in other frames).
    """
    grad_of = graph.grads(grads, sent)
    box_grad_of = grad_of if box_grads is None else box_grads.__getitem__
    missing = highlight - graph.ids.keys()
    if missing:
        raise ValueError(f"highlight: {next(iter(missing))!r} is not in the graph being drawn")
    largest = 0.0
    if options.color_grad:
        finite = [abs(grad_of(v)) for v in graph.order if math.isfinite(grad_of(v))]
        largest = max(finite, default=0.0)

    # What to draw: each node's box, and for an op result its oval and constant operands.
    shapes: list[Shape] = []
    for v in graph.order:
        node_id = graph.ids[v]
        style: dict[str, str] = {}
        if v.is_leaf():
            style.update(PARAMETER_STYLE if v in graph.parameters else INPUT_STYLE)
        if options.color_grad:
            style.update(style="filled", fillcolor=_gradient_color(grad_of(v), largest))
        if v in highlight:
            style.update(_HIGHLIGHT_STYLE)
        fields = _record_fields(graph.names[v], v.data, box_grad_of(v), options)
        shapes.append(Shape(node_id, "record", fields, style))
        if v.is_leaf():
            continue
        op, operands = graph.op_of(v), graph.operands_of(v)
        text = op_formula(op, operands, graph.names) if order_matters(op) else op_symbol(op)
        shapes.append(Shape(f"{node_id}op", "oval", [text], _OP_STYLE))
        for k, operand in enumerate(operands):
            if not isinstance(operand, (Value, Part)):
                shapes.append(
                    Shape(f"{node_id}c{k}", "constant", [format_constant(operand)], _CONSTANT_STYLE)
                )

    # Edges, in the order of computation: operands -> op -> result.
    edges: list[tuple[str, str, dict[str, str]]] = []
    for v in graph.order:
        if v.is_leaf():
            continue
        node_id = graph.ids[v]
        locals_ = iter(graph.local_grads_of(v))
        done = sent is None or (v.origin if isinstance(v, Part) else v) in sent
        for k, operand in enumerate(graph.operands_of(v)):
            if not isinstance(operand, (Value, Part)):
                edges.append((f"{node_id}c{k}", f"{node_id}op", {}))
                continue
            local = next(locals_)
            attrs = {}
            if options.show_contributions and done:
                contribution = local * grad_of(v)
                attrs["label"] = dot_label(format_number(contribution, 4))  # as the boxes
                if options.color_grad and contribution != 0 and not math.isnan(contribution):
                    rgb = POSITIVE_RGB if contribution > 0 else NEGATIVE_RGB
                    attrs["color"] = attrs["fontcolor"] = "#{:02x}{:02x}{:02x}".format(*rgb)
            edges.append((graph.ids[operand], f"{node_id}op", attrs))
        edges.append((f"{node_id}op", node_id, {}))
    return shapes, edges


def _network_drawing(
    options: DrawOptions,
    shapes: list[Shape],
    edges: list[tuple[str, str, dict[str, str]]],
    layout: NetworkLayout,
) -> Drawing:
    """The drawing shaped like the network: every node and edge where `layout` has it."""
    shapes, edges = layout.drawn(shapes, edges)
    drawing = Drawing(format=options.format, engine="neato")
    drawing.neato_no_op = 2  # every node and edge has its position: draw them there
    # edges first, so that boxes and titles are drawn over them and stay readable
    drawing.attr(outputorder="edgesfirst", bgcolor="white")
    # every node is filled (white unless styled), to hide the edges that pass behind it
    drawing.attr("node", shape="record", fontsize="11", fixedsize="true", style="filled")
    drawing.attr("node", fillcolor="white")
    drawing.attr("edge", fontsize="9")
    if options.color_grad:
        drawing.attr(label=dot_label(_LEGEND), fontsize="10", labelloc="b")
    for box in layout.boxes:
        drawing.node(box.id, "", shape="box", **_BOX_STYLES[box.kind], **layout.node_attrs(box.id))
        drawing.node(
            f"{box.id}title",
            dot_label(box.title),
            shape="plaintext",
            style="filled",
            fillcolor="white",
            fontsize=_BOX_STYLES[box.kind]["fontsize"],
            **layout.node_attrs(f"{box.id}title"),
        )
    for shape in shapes:
        attrs = {**shape.style, **layout.node_attrs(shape.id)}
        drawing.node(shape.id, _dot_label_of(shape, across=False), **attrs)
    for tail, head, attrs in layout.routed_edges(edges):
        drawing.edge(tail, head, **attrs)
    return drawing


def _dot_label_of(shape: Shape, across: bool) -> str:
    """The DOT label of a shape: a record's fields, or its one line of text."""
    if shape.kind == "record":
        # A record's fields run across the rank direction; braces turn them a quarter turn,
        # so that they read left to right in LR and RL drawings too.
        return record_label(shape.text, across)
    return dot_label(shape.text[0])


def plain_grad(v: Value) -> float:
    """v's gradient as a number (after backward(create_graph=True) it is a Value)."""
    g = v.grad
    return g.data if isinstance(g, Value) else g


def _record_fields(name: str, data: float, grad: float, options: DrawOptions) -> list[str]:
    """`name`, `data 1.2345`, `grad -0.5000`: the fields of a Value's box."""
    fields = [name]
    if options.show_data:
        fields.append(f"data {format_number(data, 4)}")
    if options.show_grad:
        fields.append(f"grad {format_number(grad, 4)}")
    return fields


def _gradient_color(grad: float, largest: float) -> str:
    """A fill colour: white for 0, towards blue (positive) or red (negative) as |grad| grows."""
    if math.isnan(grad):
        return _NAN_COLOR
    if grad == 0.0 or largest == 0.0:
        return "#ffffff"
    # sqrt, so that small gradients still show; at most 80% of the way, so text stays legible
    strength = 0.8 * (1.0 if math.isinf(grad) else min(1.0, abs(grad) / largest) ** 0.5)
    rgb = POSITIVE_RGB if grad > 0 else NEGATIVE_RGB
    r, g, b = (round(255 + (c - 255) * strength) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"
