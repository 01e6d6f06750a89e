"""Seeing the graph: drawings of a computation, and its forward and backward passes step by step.

    from micrograd.viz import draw_dot, backward_steps, step_through
    draw_dot(loss)                          # in Jupyter, the picture shows inline
    draw_dot(loss, model=mlp, cluster=True) # boxes around each neuron and layer
    for step in backward_steps(loss): ...   # backward(), one node at a time
    step_through(loss)                      # Jupyter: Prev / Next through the sweep

In a drawing each Value is a box `name | data | grad` and each operation a small
oval between its operands and its result. A Value without a label is named `#i`,
its position in the order of computation (micrograd.engine.topological_order):
the same names appear in the step-through tables.

The drawing is DOT text (Graphviz's graph language) held by a graphviz.Digraph;
micrograd.render turns it into a picture, with system Graphviz or the
graphviz-pure fallback.
"""

from __future__ import annotations

import html
import math
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import graphviz

from micrograd.engine import (
    BackwardStep,
    ForwardStep,
    ParentUpdate,
    Value,
    backward_steps,
    forward_steps,
    topological_order,
)
from micrograd.render import Drawing, source_with_hint

__all__ = [
    "OP_LABELS",
    "draw_dot",
    "forward_steps",
    "backward_steps",
    "step_through",
    "ForwardStep",
    "BackwardStep",
    "ParentUpdate",
    "StepThrough",
    "Frame",
]

# How each op is written in its oval. Ops not listed are shown by their name.
OP_LABELS = {
    "+": "+",
    "-": "-",
    "*": "*",
    "/": "/",
    "**": "**",
    "r-": "-",  # c - x
    "r/": "/",  # c / x
    "r**": "**",  # c ** x
    "neg": "neg",
    "abs": "abs",
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "exp": "exp",
    "log": "log",
    "sqrt": "sqrt",
    "sum": "Σ",
    "dot": "w·x+b",
    # a whole neuron fused into one node: the activation of its w·x+b
    "dot-relu": "relu(w·x+b)",
    "dot-tanh": "tanh(w·x+b)",
    "dot-sigmoid": "sigmoid(w·x+b)",
}

# Ops whose operand order matters. Graphviz places an op's inputs where the layout
# suits it, so their ovals spell out the order: "#3 - 1", "1 - x", "a / b".
_ORDERED_OPS = frozenset({"-", "/", "**", "r-", "r/", "r**"})
_INFIX_OPS = frozenset({"+", "-", "*", "/", "**", "r-", "r/", "r**"})
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
class _Options:
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
    options = _Options(
        rankdir, format, show_data, show_grad, max_nodes, model, cluster, color_grad,
        show_contributions,
    )  # fmt: skip
    return _draw(_Graph(root, options), options, _highlighted(highlight))


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


class _Graph:
    """What every drawing of one root needs, worked out once: order, names, roles, boxes."""

    def __init__(self, root: Value, options: _Options) -> None:
        self.root = root
        self.order = _trace(root, options.max_nodes)
        self.ids = {v: f"v{i}" for i, v in enumerate(self.order)}
        self.neurons = _model_neurons(options.model)
        self.parameters = set(options.model.parameters()) if options.model is not None else set()
        parameter_names = self._parameter_names(short=options.cluster)
        self.names = {
            v: v.label or parameter_names.get(v) or f"#{i}" for i, v in enumerate(self.order)
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


def _draw(
    graph: _Graph,
    options: _Options,
    highlight: set[Value],
    grads: Mapping[Value, float] | None = None,
    sent: set[Value] | None = None,
) -> Drawing:
    """The DOT drawing of `graph`.

    For a frame part-way through a backward pass, `grads` (node -> grad) stands in
    for each node's .grad, and only the nodes in `sent` have passed theirs on.
    """
    grad_of = grads.__getitem__ if grads is not None else _grad
    missing = highlight - graph.ids.keys()
    if missing:
        raise ValueError(f"highlight: {next(iter(missing))!r} is not in the graph being drawn")
    drawing = Drawing(format=options.format)
    drawing.attr(rankdir=options.rankdir)
    drawing.attr("node", shape="record", fontsize="11")
    drawing.attr("edge", fontsize="9")
    largest = 0.0
    if options.color_grad:
        finite = [abs(grad_of(v)) for v in graph.order if math.isfinite(grad_of(v))]
        largest = max(finite, default=0.0)
        drawing.attr(
            label="fill: blue = positive grad, red = negative; darker = larger |grad|",
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
                target.node(f"{node_id}c{k}", _constant(operand), **_CONSTANT_STYLE)

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
                attrs["label"] = _number(contribution)
                if options.color_grad and contribution != 0 and not math.isnan(contribution):
                    rgb = _POSITIVE_RGB if contribution > 0 else _NEGATIVE_RGB
                    attrs["color"] = attrs["fontcolor"] = "#{:02x}{:02x}{:02x}".format(*rgb)
            drawing.edge(graph.ids[operand], f"{node_id}op", **attrs)
        drawing.edge(f"{node_id}op", node_id)
    return drawing


def _grad(v: Value) -> float:
    """v's gradient as a number (after backward(create_graph=True) it is a Value)."""
    g = v.grad
    return g.data if isinstance(g, Value) else g


def _add_boxes(drawing: graphviz.Digraph, graph: _Graph, add_node) -> None:
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
                    box.attr(label=label, style="rounded", color="#9ca3af", fontsize="10")
                    for v in members[k]:
                        add_node(box, v)


@contextmanager
def _layer_box(drawing: graphviz.Digraph, layer: int | None) -> Iterator[graphviz.Digraph]:
    """A dashed, labelled box for one layer; the drawing itself for a lone Neuron (no layer)."""
    if layer is None:
        yield drawing
        return
    with drawing.subgraph(name=f"cluster_L{layer}") as box:
        box.attr(label=f"layer {layer}", style="dashed", color="#6b7280", fontsize="11")
        yield box


def _op_label(v: Value, names: Mapping[Value, str]) -> str:
    """The text of v's op oval: the op's symbol, or for - / ** the whole formula."""
    if v.op in _ORDERED_OPS:
        return _formula(v, names)
    return OP_LABELS.get(v.op, v.op)


def _record_label(name: str, data: float, grad: float, options: _Options) -> str:
    """`name | data 1.2345 | grad -0.5000`: one row of fields whatever the rankdir."""
    fields = [_escape_record(name)]
    if options.show_data:
        fields.append(f"data {_number(data, 4)}")
    if options.show_grad:
        fields.append(f"grad {_number(grad, 4)}")
    label = " | ".join(fields)
    # A record's fields run across the rank direction; braces turn them a quarter turn,
    # so that they read left to right in LR and RL drawings too.
    return f"{{ {label} }}" if options.rankdir in ("LR", "RL") else label


def _escape_record(text: str) -> str:
    """text with the characters that structure a record label escaped."""
    for char in '\\{}|<>"':
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def _number(x: float, decimals: int | None = None) -> str:
    """x for display: with `decimals` places ("1.2345"), or compact ("2", "0.1", "1e-07")."""
    x = x + 0.0  # -0.0 shows as 0
    if decimals is None:
        return f"{x:.4g}"
    if x == 0.0 or 10.0**-decimals <= abs(x) < 1e6:
        return f"{x:.{decimals}f}"
    return f"{x:.{decimals}g}"  # tiny, huge, inf and nan: "1.235e-07", "inf"


def _constant(c: float) -> str:
    """A plain-number operand as written, to 6 significant digits: "2", "0.1", "0.333333"."""
    return f"{c + 0.0:.6g}"


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


# ---- stepping through the backward pass -------------------------------------------


def step_through(
    root: Value,
    *,
    zero_grad: bool = True,
    widget: bool | None = None,
    **draw_options: Any,
) -> StepThrough:
    """The backward pass of root as frames to step through, drawn with the gradients so far.

    Runs the sweep at once (so root's graph ends with backward()'s gradients) and
    draws frames only when shown. In Jupyter with ipywidgets installed
    (`pip install "micrograd[widgets]"`), displaying the result shows Prev / Next
    buttons and a slider; otherwise it shows a table of the steps. Frame k (an
    index into the result) is the graph after k steps, with the current node
    outlined; `print()` the result for the table.

    - zero_grad: set every leaf's grad to 0 first, so the frames show this sweep
      alone; pass False to watch gradients accumulate on top of earlier ones.
    - widget: True or False to choose buttons or table; None: buttons when
      running in a Jupyter kernel with ipywidgets.
    - draw_options: any option of draw_dot but highlight (rankdir, model, ...).
    """
    options = _Options(**draw_options)
    graph = _Graph(root, options)
    if zero_grad:
        for v in graph.order:
            if v.is_leaf():
                v.grad = 0.0
    steps_iter = backward_steps(root)
    start = {v: _grad(v) for v in graph.order}  # root.grad is 1 and interior grads 0 now
    return StepThrough(graph, options, start, list(steps_iter), widget)


class Frame:
    """One frame of a StepThrough: the graph after `index` steps of the backward pass."""

    def __init__(self, owner: StepThrough, index: int) -> None:
        self._owner = owner
        self.index = index

    @property
    def step(self) -> BackwardStep | None:
        """The step this frame shows just done (None for frame 0, before any)."""
        return self._owner.steps[self.index - 1] if self.index else None

    @property
    def grads(self) -> dict[Value, float]:
        """Every node's gradient at this frame."""
        return self._owner.grads_at(self.index)

    @property
    def caption(self) -> str:
        """What happened in this step, in words and numbers."""
        return self._owner.caption(self.index)

    def draw(self) -> Drawing:
        """The drawing of this frame (display it in Jupyter, or .render() it)."""
        return self._owner.draw(self.index)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        return self.draw()._repr_mimebundle_(include, exclude, **kwargs)

    def __repr__(self) -> str:
        return f"<Frame {self.index} of {len(self._owner)}: {self.caption.splitlines()[0]}>"


class StepThrough(Sequence[Frame]):
    """The frames of one backward pass: frame 0 before any step, frame k after k steps."""

    def __init__(
        self,
        graph: _Graph,
        options: _Options,
        start: dict[Value, float],
        steps: list[BackwardStep],
        widget: bool | None,
    ) -> None:
        self.graph = graph
        self.options = options
        self.steps = steps
        self._start = start
        self._widget = widget
        self._html: dict[int, str] = {}  # frames rendered so far, for the widget

    def __len__(self) -> int:
        return len(self.steps) + 1

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(f"frame {index} out of range: there are {len(self)} frames")
        return Frame(self, index % len(self))

    def grads_at(self, index: int) -> dict[Value, float]:
        """Every node's gradient after `index` steps (replayed from the recorded totals)."""
        grads = dict(self._start)
        for step in self.steps[:index]:
            for update in step.updates:
                grads[update.parent] = update.total
        return grads

    def draw(self, index: int) -> Drawing:
        """Frame `index` drawn: the gradients so far, the current node outlined."""
        current = self.steps[index - 1].node if index else self.graph.root
        sent = {step.node for step in self.steps[:index]}
        return _draw(self.graph, self.options, {current}, self.grads_at(index), sent)

    def caption(self, index: int) -> str:
        """Frame `index` in words: the node, its grad, and what each parent receives."""
        names = self.graph.names
        root = names[self.graph.root]
        if index == 0:
            return f"start: {root}.grad = 1 (d{root}/d{root}); every other interior grad is 0"
        step = self.steps[index - 1]
        node = names[step.node]
        lines = [
            f"step {index} of {len(self.steps)}: {node} = {_formula(step.node, names)}, "
            f"grad {_number(step.grad, 4)}"
        ]
        for u in step.updates:
            lines.append(
                f"    {names[u.parent]}.grad += {_number(u.local_grad, 4)} x "
                f"{_number(step.grad, 4)} = {_number(u.contribution, 4)}  ->  "
                f"{_number(u.total, 4)}"
            )
        return "\n".join(lines)

    def table(self) -> str:
        """Every frame's caption, one after another: the whole sweep as text."""
        root = self.graph.names[self.graph.root]
        steps = f"{len(self.steps)} step{'' if len(self.steps) == 1 else 's'}"
        head = f"backward pass of {root}: {steps} (local x grad = contribution -> total)"
        return "\n".join([head, *(self.caption(i) for i in range(len(self)))])

    def frame_html(self, index: int) -> str:
        """Frame `index` as inline SVG (or its DOT source and the install hint), cached."""
        if index not in self._html:
            self._html[index] = _svg_html(self.draw(index))
        return self._html[index]

    def widget(self):
        """Prev / Next buttons and a slider over the frames (an ipywidgets.VBox).

        Frames are rendered when first shown, so it opens at once for any size.
        """
        try:
            import ipywidgets as widgets
        except ImportError:
            raise ImportError(
                'step_through\'s buttons need ipywidgets: pip install "micrograd[widgets]"'
            ) from None
        last = len(self) - 1
        slider = widgets.IntSlider(
            value=0, min=0, max=last, description="frame", continuous_update=False
        )
        previous = widgets.Button(description="◀ Prev", tooltip="the frame before")
        following = widgets.Button(description="Next ▶", tooltip="the next step")
        caption = widgets.HTML()
        picture = widgets.HTML()

        def show(_change=None) -> None:
            k = slider.value
            caption.value = f"<pre>{html.escape(self.caption(k))}</pre>"
            picture.value = self.frame_html(k)
            previous.disabled = k == 0
            following.disabled = k == last

        def go(delta: int) -> None:
            slider.value = min(last, max(0, slider.value + delta))

        slider.observe(show, names="value")
        previous.on_click(lambda _button: go(-1))
        following.on_click(lambda _button: go(+1))
        show()
        return widgets.VBox([widgets.HBox([previous, slider, following]), caption, picture])

    def _use_widget(self) -> bool:
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            return False
        return self._widget if self._widget is not None else "ipykernel" in sys.modules

    def _ipython_display_(self) -> None:
        """Jupyter's display: the buttons when possible, else the table (never an error)."""
        if self._use_widget():
            from IPython.display import display

            display(self.widget())
            return
        print(self.table())
        if self._widget:
            print('(for Prev / Next buttons: pip install "micrograd[widgets]")')

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        root = self.graph.names[self.graph.root]
        return (
            f"<StepThrough of {root}'s backward pass: {len(self)} frames; print() it for the table>"
        )


def _svg_html(drawing: Drawing) -> str:
    """The drawing as an inline <svg> element, or its source and the install hint."""
    try:
        svg = drawing.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return source_with_hint(drawing.source)["text/html"]
    return svg[svg.find("<svg") :]


def _formula(v: Value, names: Mapping[Value, str]) -> str:
    """How v was computed, in names: "#3 * 2", "tanh(#4)", "Σ(#1, #2, #3)"."""
    parts = [names[o] if isinstance(o, Value) else _constant(o) for o in v.operands]
    if v.op in _INFIX_OPS and len(parts) == 2:
        return f"{parts[0]} {OP_LABELS[v.op]} {parts[1]}"
    if v.op == "neg":
        return f"-{parts[0]}"
    if v.op == "abs":
        return f"|{parts[0]}|"
    if len(parts) > 8:
        parts = [*parts[:6], "...", parts[-1]]
    return f"{OP_LABELS.get(v.op, v.op)}({', '.join(parts)})"
