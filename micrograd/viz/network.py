"""The classic picture of a neural network: units as circles in layer columns, weights as lines.

    draw_network(mlp)                # the architecture and its weights
    draw_network(mlp, x=[0.5, -1.0]) # each unit shows its output for this input
    loss.backward()
    draw_network(mlp, root=loss)     # the outputs and gradients of the pass loss came from

The inputs stand in a column on the left, then each layer's neurons, top to bottom
in index order. A line joins each unit to each neuron of the next layer: blue for
a positive weight, red for a negative one, thicker for a larger |w|. Given an
input, each unit shows its output; given the root of a graph computed from one
forward pass (its output or a loss), its outputs and, after root.backward(), each
unit's gradient d root / d unit. A unit's tooltip (in an SVG) names its neuron and
gives its bias.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

from micrograd._checks import excerpt
from micrograd.engine import Value, no_grad, topological_order
from micrograd.viz.drawing import (
    INPUT_STYLE,
    NEGATIVE_RGB,
    PARAMETER_STYLE,
    POSITIVE_RGB,
    plain_grad,
)
from micrograd.viz.layout import text_width
from micrograd.viz.neurons import (
    ModelNeuron,
    find_passes,
    layer_title,
    model_neurons,
    one_pass_each,
)
from micrograd.viz.render import Drawing
from micrograd.viz.text import dot_label, dot_lines, dot_tooltip, format_number

__all__ = ["draw_network"]

UNIT = 30.0  # diameter of a unit, in points
PITCH = 36.0  # distance between two units of a column
COLUMN = 190.0  # distance between two columns
HEADER = 34.0  # room above the tallest column for its title
_LEGEND = "lines: blue w > 0, red w < 0, thicker = larger |w|"


def draw_network(
    model: Any,
    x: Sequence[float | Value] | None = None,
    *,
    root: Value | None = None,
    output_names: Sequence[str] | None = None,
    format: str = "svg",
) -> Drawing:
    """The network diagram of `model` (an MLP, Layer or Neuron), as a graphviz.Digraph.

    - x: inputs to run the model on (under no_grad): each unit shows its output.
    - root: instead of x, a Value computed from one forward pass of `model` (its
      output, or a loss): each unit shows its output in that pass and, once
      root.backward() has run (root.grad is then 1), its .grad, d root / d unit.
      Before that, no unit shows a grad, and the legend says how to see them.
      An input that is a labelled Value is shown by its label, any other as x[i].
    - output_names: a name for each output unit, written beside it (e.g. the class
      each score stands for).
    Displays itself in Jupyter; `.render("net")` writes net.svg (in `format`).
    """
    neurons = model_neurons(model)
    if not neurons:
        raise TypeError(f"draw_network draws an MLP, Layer or Neuron, got {type(model).__name__}")
    if x is not None and root is not None:
        raise ValueError("draw_network takes x= or root=, not both")
    layers: dict[int | None, list[ModelNeuron]] = {}
    for entry in neurons:
        layers.setdefault(entry.layer, []).append(entry)
    columns = list(layers.values())
    n_inputs = len(columns[0][0].neuron.w)
    names = _output_names(output_names, len(columns[-1]))
    input_names = [f"x[{i}]" for i in range(n_inputs)]
    if x is not None:
        inputs, outputs, grads = _run(model, columns, x, n_inputs)
    elif root is not None:
        inputs, outputs, grads = _trace(root, neurons, n_inputs)
    else:
        inputs, outputs, grads = [None] * n_inputs, {}, {}
    for i, value in enumerate(inputs):
        if isinstance(value, Value):
            input_names[i] = str(value.label) if value.label else input_names[i]
            inputs[i] = value.data

    drawing = Drawing(format=format, engine="neato")
    drawing.neato_no_op = 2  # every node has its position: draw it there
    drawing.attr(outputorder="edgesfirst", bgcolor="white")
    legend = _LEGEND
    if outputs:
        legend += "; in each unit: its output"
    if grads:
        legend += "; grad = d root / d unit"
    elif root is not None:
        legend += "; run root.backward() to see each unit's grad"
    drawing.attr(label=dot_label(legend), fontsize="10", labelloc="b")
    drawing.attr("node", shape="circle", fixedsize="true", width=f"{UNIT / 72:.3f}")
    drawing.attr("node", style="filled", fillcolor="white", fontsize="9")
    drawing.attr("edge", arrowhead="none")
    tallest = max(n_inputs, *(len(c) for c in columns))

    def y_of(row: int, count: int) -> float:
        return (tallest - 1) / 2 * PITCH - (row - (count - 1) / 2) * PITCH  # y grows upwards

    def title(column: int, text: str) -> None:
        drawing.node(
            f"title{column}", dot_label(text), shape="plaintext", fixedsize="false",
            fontsize="10", pos=f"{column * COLUMN:.1f},{y_of(-1, tallest) + 4:.1f}",
        )  # fmt: skip

    title(0, "inputs")
    for i, value in enumerate(inputs):
        name = input_names[i]
        lines = [name] if value is None else [name, format_number(value, 2)]
        drawing.node(
            f"x{i}", dot_lines(*lines), color=INPUT_STYLE["color"],
            fillcolor=INPUT_STYLE["fillcolor"],
            pos=f"0,{y_of(i, n_inputs):.1f}", tooltip=dot_tooltip(" = ".join(lines)),
        )  # fmt: skip
        _grad_note(drawing, f"x{i}", grads.get(("x", i)), 0.0, y_of(i, n_inputs))
    largest = max((abs(w.data) for e in neurons for w in e.neuron.w), default=0.0) or 1.0
    previous = [f"x{i}" for i in range(n_inputs)]
    for c, column in enumerate(columns, start=1):
        layer = column[0].layer
        where = "neuron" if layer is None else layer_title(layer, len(columns))
        title(c, f"{where} ({column[0].activation})")
        current = []
        for row, entry in enumerate(column):
            node_id = f"n{c}_{row}"
            current.append(node_id)
            y = y_of(row, len(column))
            out = outputs.get(id(entry.neuron))
            bias = entry.neuron.b.data
            drawing.node(
                node_id, dot_label("") if out is None else dot_label(format_number(out, 2)),
                color=PARAMETER_STYLE["color"], pos=f"{c * COLUMN:.1f},{y:.1f}",
                tooltip=dot_tooltip(f"{entry.title}: b = {format_number(bias)}"),
            )  # fmt: skip
            _grad_note(drawing, node_id, grads.get(id(entry.neuron)), c * COLUMN, y)
            if names and c == len(columns):
                drawing.node(
                    f"{node_id}name",
                    dot_label(names[row]),
                    shape="plaintext",
                    fixedsize="false",
                    fontsize="9",
                    style="filled",
                    fillcolor="white",
                    height="0.15",
                    margin="0.01,0",
                    pos=f"{c * COLUMN + UNIT / 2 + 4 + text_width(names[row], 9) / 2:.1f},{y:.1f}",
                )  # fmt: skip  (pos is the centre: the name starts just right of its unit)
            for tail, w in zip(previous, entry.neuron.w):
                rgb = POSITIVE_RGB if w.data >= 0 else NEGATIVE_RGB
                strength = min(1.0, abs(w.data) / largest)
                drawing.edge(  # a little transparent, so that crossing lines stay apart
                    tail, node_id, color="#{:02x}{:02x}{:02x}c0".format(*rgb),
                    penwidth=f"{0.4 + 2.6 * strength:.2f}",
                    tooltip=dot_tooltip(f"w = {format_number(w.data)}"),
                )  # fmt: skip
        previous = current
    return drawing


def _output_names(names: Sequence[str] | None, outputs: int) -> list[str]:
    """The names of the output units, checked: one str per unit (none: an empty list)."""
    if names is None:
        return []
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(
            f"draw_network: output_names must be a list of {outputs} str, "
            f"got {type(names).__name__} {excerpt(names)}"
        )
    for k, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(
                f"draw_network: output_names[{k}] must be a str, "
                f"got {type(name).__name__} {excerpt(name)}"
            )
    if len(names) != outputs:
        units = f"{outputs} output unit{'s' * (outputs != 1)}"
        raise ValueError(
            f"draw_network: output_names: the model has {units}, got {len(names)} names"
        )
    return list(names)


def _grad_note(drawing: Drawing, unit: str, grad: float | None, x: float, y: float) -> None:
    """`grad -0.12` in small print just below and right of a unit, when there is a grad."""
    if grad is None:
        return
    drawing.node(
        f"{unit}grad", dot_label(f"grad {format_number(grad, 2)}"), shape="plaintext",
        fixedsize="false", fontsize="8", fontcolor="#374151", style="filled",
        fillcolor="white", height="0.15", margin="0.01,0",
        pos=f"{x + UNIT / 2 + 26:.1f},{y - UNIT / 2 + 2:.1f}",
    )  # fmt: skip


def _run(model: Any, columns, x: Sequence, n_inputs: int):
    """(inputs, outputs by neuron, no grads) for a forward pass on x."""
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(
            f"draw_network: x must be a list of the model's {n_inputs} inputs (numbers or "
            f"Values), got {type(x).__name__} {excerpt(x)}"
        )
    for i, value in enumerate(x):
        if not isinstance(value, Value) and (
            isinstance(value, bool) or not isinstance(value, Real)
        ):
            raise TypeError(
                f"draw_network: x[{i}] must be a number or a Value, "
                f"got {type(value).__name__} {excerpt(value)}"
            )
    if len(x) != n_inputs:
        raise ValueError(f"draw_network: the model takes {n_inputs} inputs, got {len(x)}")
    values = [v.data if isinstance(v, Value) else float(v) for v in x]
    outputs: dict[int, float] = {}
    signal: list[Any] = list(values)
    with no_grad():
        for column in columns:
            signal = [entry.neuron(signal) for entry in column]
            for entry, out in zip(column, signal):
                outputs[id(entry.neuron)] = out.data
    return values, outputs, {}


def _trace(root: Value, neurons: list[ModelNeuron], n_inputs: int):
    """(inputs, outputs and grads by neuron) of the one forward pass root was computed from."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_network: root must be a Value, got {type(root).__name__}")
    passes = one_pass_each(
        find_passes(topological_order(root), neurons, expand=False), neurons, "draw_network"
    )
    if not passes:
        raise ValueError(
            "draw_network: root was not computed by this model (none of its neurons is in "
            "root's graph): pass the output, or a loss, of a forward pass through it"
        )
    backward_ran = plain_grad(root) != 0  # backward() sets root.grad to 1; until then, all 0
    outputs: dict[int, float] = {}
    grads: dict[Any, float] = {}
    inputs: list = [None] * n_inputs
    for k, p in passes.items():
        neuron = neurons[k].neuron
        out = p.output
        outputs[id(neuron)] = out.data
        if backward_ran:
            grads[id(neuron)] = plain_grad(out)
        if neurons[k].layer == neurons[0].layer:  # the first layer: its inputs are the model's
            for i, x in enumerate(p.inputs):
                inputs[i] = x  # a Value's label names it; draw_network shows its data
                if isinstance(x, Value) and backward_ran:
                    grads[("x", i)] = plain_grad(x)
    return inputs, outputs, grads
