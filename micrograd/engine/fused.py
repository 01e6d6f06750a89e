"""Read when you want the fast nodes: Value.sum and fused neurons, one node for many ops.

`Value.sum(values)` adds many Values as one node, and `Value.dot(w, x, b, "tanh")`
computes a whole neuron, σ(b + Σ w·x), as one node: nn's layers are made of them.
Each gives the same floats as the elementary graph of +, * and σ nodes it stands
for, but costs one node instead of 2n + 1. `expand(node)` gives those elementary
steps back, with their numbers and local derivatives, from the rows' own rules:
the sweep's slow paths, the drawings (`expand=True`, step-through) and the compiler
read a fused node through it. The sweep's fast steps below write the same rules
out; tests pin them to expand's, bit for bit.

How a fused neuron node is stored: its weights and bias in `_a` (a tuple its neuron
shares among its nodes), its inputs in `_b` (split once per layer into numbers and
Values, and shared by the layer's neurons), and in `_s` the slope of its activation
at its weighted sum (None when it passes nothing back: a relu that is off). The
sweep multiplies the gradient by the slope first and then by each d(sum)/d(parent),
the order in which the elementary graph multiplies, so a fused neuron's gradients
are the elementary graph's floats, bit for bit, when each Value appears once among
its weights and inputs (as in nn's neurons). A Value that appears twice gathers its
two contributions in another order than the chain's, which can differ in the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol

from micrograd.engine.op import FUSED, SUM, Op
from micrograd.engine.value import (
    ACTIVATIONS,
    LINEAR,
    Operand,
    Value,
    _grad_enabled,
    _node,
    add,
    as_float,
    compute,
    mul,
    new_value,
)

__all__ = [
    "fused_layer",
    "fused_parts",
    "FusedParts",
    "expand",
    "ElementaryStep",
    "parameter_tuple",
    "NeuronLike",
    "sum_terms",
    "SUM_OP",
    "DOT_OP",
]


# ---- Value.sum: many terms, one node ----------------------------------------------------------


def value_sum(values: Iterable[Operand], start: Operand = 0.0) -> Value:
    """start + v0 + v1 + ... as one node with one parent per Value.

    Adds left to right, as the built-in sum() of Values does, so the result is the
    same float, but the graph has one node instead of one per addition.
    """
    total = start.data if isinstance(start, Value) else as_float(start, "Value.sum()")
    written: list[Value | float] = [start if isinstance(start, Value) else total]
    for v in values:
        if isinstance(v, Value):
            total += v.data
            written.append(v)
        else:
            c = as_float(v, "Value.sum()")
            total += c
            written.append(c)
    parents = tuple(v for v in written if isinstance(v, Value))
    if not parents:  # only numbers: a constant
        return Value(total)
    # _b keeps the terms as added, numbers included (drawings and the compiler show them)
    return _node(total, SUM_OP, parents, tuple(written))


def _sum_step(node: Value) -> None:
    # d(sum)/d(v_i) = 1: each term's grad gains the node's grad
    g = node.grad
    if g == 0.0:
        return
    for parent in node._a:
        parent.grad += g


def _sum_local_derivatives(node: Value, as_values: bool) -> tuple[Sequence[Any], list[Any], Any]:
    return node._a, [1.0] * len(node._a), 1.0  # d(sum)/d(v_i) = 1


def own_parents(node: Value) -> tuple[Value, ...]:
    """The parents of a node that keeps them as a tuple in `_a` (a sum, a hand-built node)."""
    return node._a  # a tuple of Values


def push_each_parent(node: Value, stack: list, visited: set, leaves: bool, search: object) -> None:
    """The graph search's step at a node that keeps its parents as a tuple in `_a`:
    push them, last first, so that the first is finished first."""
    for parent in reversed(node._a):
        if (leaves or parent._a is not None) and parent not in visited:
            stack.append(parent)


def sum_terms(node: Value) -> tuple[Value | float, ...]:
    """What a node made by Value.sum added up, in order: its start, then each term,
    Values and plain numbers alike (its parents are only the Values)."""
    if node._rule is not SUM_OP:
        raise ValueError(f"sum_terms() needs a node made by Value.sum, got op {node.op!r}")
    return node._b


# ---- Value.dot and fused layers: a whole neuron, one node --------------------------------------


def value_dot(
    weights: Sequence[Value],
    inputs: Sequence[Operand],
    bias: Value | None = None,
    activation: str | None = None,
) -> Value:
    """bias + w0*x0 + w1*x1 + ..., as one node: a neuron's pre-activation.

    Multiplies and adds in the same order as `sum((w*x for w, x in ...), bias)`, so
    the number is the same float as the elementary graph's. Inputs may be Values or
    plain numbers (constants, which get no gradient); weights and bias are Values.
    With `activation` (a name in ACTIVATIONS: "relu", "tanh", "sigmoid", or an op
    registered with activation=True) the node is a whole neuron, σ(Σ w·x + b): still
    one node.
    """
    if not (hasattr(weights, "__len__") and hasattr(inputs, "__len__")):
        raise TypeError(
            "Value.dot() needs weights and inputs as sequences (lists, tuples, arrays), "
            f"got {type(weights).__name__} and {type(inputs).__name__}"
        )
    if len(weights) != len(inputs):
        raise ValueError(
            f"Value.dot() needs as many weights as inputs, got {len(weights)} and {len(inputs)}"
        )
    for i, w in enumerate(weights):
        if not isinstance(w, Value):
            raise TypeError(f"Value.dot() weights[{i}] must be a Value, got {w!r}")
    if bias is not None and not isinstance(bias, Value):
        raise TypeError(f"Value.dot() bias must be a Value or None, got {bias!r}")
    sigma = activation_row(activation)
    if not weights and bias is None:  # nothing to depend on: a constant
        return Value(0.0 if sigma is None else compute(sigma, [0.0], [0.0]))
    return _fused_neurons(_split_inputs(inputs), [_Neuron(weights, bias, activation)])[0]


def activation_row(name: str | None) -> Op | None:
    """The activation op called `name` (None for None or LINEAR), or a ValueError listing them."""
    if name is None or name == LINEAR:
        return None
    row = ACTIVATIONS.get(name)  # one look-up: a re-registration never leaves a gap
    if row is None:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {sorted([LINEAR, *ACTIVATIONS])} or None"
        )
    return row


_ONLY_VALUES = {Value}


class _SplitInputs:
    """A dot product's inputs, split once and shared by every neuron of a layer."""

    __slots__ = ("inputs", "data", "values", "positions", "leaf_parameters", "searched")

    def __init__(self, inputs: tuple, data: list[float], values: tuple, positions: Any) -> None:
        self.inputs = inputs  # as given: Values and plain numbers
        self.data = data  # their numbers
        self.values = values  # the inputs that are Values: parents of the neurons' nodes
        self.positions: list[int] | None = positions  # where those are; None: every input
        # whether every weight and bias of the neurons on these inputs is a leaf (an
        # nn parameter): then backward()'s search need not look at them
        self.leaf_parameters = False
        self.searched: object = None  # the last search that pushed these inputs


def _split_inputs(inputs: Sequence[Operand]) -> _SplitInputs:
    """Split inputs once: a layer shares the result among its neurons, which halves
    the cost of its forward pass."""
    inputs = tuple(inputs)
    if set(map(type, inputs)) == _ONLY_VALUES:  # the common case, checked in C: 4x faster
        # every input is a Value, as checked, which mypy cannot narrow a tuple by
        data = [x.data for x in inputs]  # type: ignore[union-attr]
        return _SplitInputs(inputs, data, inputs, None)
    positions = [i for i, x in enumerate(inputs) if isinstance(x, Value)]
    data = [x.data if isinstance(x, Value) else as_float(x, "Value.dot()") for x in inputs]
    return _SplitInputs(inputs, data, tuple(inputs[i] for i in positions), positions)


class NeuronLike(Protocol):
    """What a fused neuron node is made from: an nn.Neuron, or any object with these."""

    @property
    def w(self) -> Sequence[Value]: ...  # its weights

    @property
    def b(self) -> Value | None: ...  # its bias

    @property
    def activation(self) -> str | None: ...  # a name in ACTIVATIONS; None or LINEAR: none

    def fused_parameters(self) -> tuple[tuple[Value, ...], bool]:
        """(its weights then its bias as a tuple, whether each is a leaf): see parameter_tuple."""
        ...


def parameter_tuple(weights: Sequence[Value], bias: Value | None) -> tuple[tuple[Value, ...], bool]:
    """(weights then bias as a tuple, whether all of them are leaves): what a fused
    neuron node keeps of its neuron. nn.Neuron keeps the result while its parameters
    stay the same Values, so that its nodes share one tuple instead of each copying
    it: on the demo step that saves 3,300 tuples, a tenth of the step's time."""
    parameters = tuple(weights) if bias is None else (*weights, bias)
    return parameters, all(p._rule is None for p in parameters)


class _Neuron(NamedTuple):
    w: Sequence[Value]
    b: Value | None
    activation: str | None

    def fused_parameters(self) -> tuple[tuple[Value, ...], bool]:
        return parameter_tuple(self.w, self.b)


def fused_layer(inputs: Sequence[Operand], neurons: Sequence[NeuronLike]) -> list[Value]:
    """A layer's forward pass: one fused node σ(b + Σ w·x) per neuron, on the same inputs.

    Each neuron has weights `w`, a bias `b` (or None) and an `activation` name, as
    nn.Neuron does. The inputs are split into Values and numbers once, and shared.
    """
    return _fused_neurons(_split_inputs(inputs), neurons)


def _fused_neurons(split: _SplitInputs, neurons: Iterable[NeuronLike]) -> list[Value]:
    """The node σ(b + Σ w_i x_i) of each neuron, on the same split inputs.

    The forward rules of mul, add and σ, written out (a layer's neurons in one loop,
    read straight from the neurons, cost a third less than a call per neuron); tests
    pin them to those rows, bit for bit.
    """
    data = split.data
    recording = _grad_enabled.get()
    relu = ACTIVATIONS["relu"]
    sigmas: dict[str | None, Op | None] = {None: None, LINEAR: None, "relu": relu}
    leaf_parameters = True
    outputs: list[Value] = []
    for neuron in neurons:
        bias, name = neuron.b, neuron.activation
        # b + w0*x0 + w1*x1 + ..., added left to right as the elementary chain does
        total = 0.0 if bias is None else bias.data
        for w, x in zip(neuron.w, data):
            total += w.data * x
        sigma = sigmas[name] if name in sigmas else sigmas.setdefault(name, activation_row(name))
        rule: Op
        y: float
        slope: float | None
        if sigma is relu:  # relu's rules, written out: d/ds relu(s) = 1 if s > 0, else off
            rule = relu.fused  # type: ignore[assignment]  # an activation has its fused op
            if total <= 0.0:
                y, slope = 0.0, None
            else:
                y, slope = total, 1.0
        elif sigma is None:
            rule, y, slope = DOT_OP, total, 1.0
        else:
            rule = sigma.fused  # type: ignore[assignment]  # an activation has its fused op
            try:
                y = sigma.forward(total)  # type: ignore[misc]  # an activation has a forward rule
            except (ValueError, ZeroDivisionError, OverflowError):
                y = compute(sigma, [total], [total])  # raises the error that names the op
            slope = sigma.derivatives[0](total, y)  # d(out)/d(s); None: passes nothing back
        # _node's body, written out: calling it here costs 2.3M more instructions per
        # forward pass of the demo (+5%, callgrind), one call for each of 3,300 neurons
        out = new_value(Value)
        out.data = y
        out.grad = 0.0
        if recording:
            parameters, leaves = neuron.fused_parameters()
            leaf_parameters = leaf_parameters and leaves
            out._rule = rule
            out._a = parameters
            out._b = split
            out._s = slope
        else:
            out._rule = out._a = out._b = out._s = None
        outputs.append(out)
    split.leaf_parameters = leaf_parameters
    return outputs


# ---- what a fused neuron node is made of --------------------------------------------------------


class FusedParts(NamedTuple):
    """What a fused neuron node computes: activation(bias + Σ weights[i] * inputs[i])."""

    weights: tuple[Value, ...]
    inputs: tuple[Value | float, ...]  # Values and plain numbers, as given
    bias: Value | None
    activation: str | None  # a name in ACTIVATIONS, or None for the plain sum


def fused_parts(node: Value) -> FusedParts | None:
    """The weights, inputs, bias and activation of a node made by Value.dot (None otherwise)."""
    rule = node._rule
    if rule is None or rule.kind != FUSED or node._a is None:
        return None
    split: _SplitInputs = node._b
    parameters = node._a  # the weights, then the bias
    n = len(split.data)
    return FusedParts(
        parameters[:n],
        tuple(x if isinstance(x, Value) else float(x) for x in split.inputs),
        parameters[n] if len(parameters) > n else None,
        None if rule.unfused is None else rule.unfused.name,
    )


class ElementaryStep(NamedTuple):
    """One op of a fused node's elementary graph: `row` applied to `operands`.

    Operands are the fused node's weights, inputs and bias (Values or plain numbers)
    or earlier steps of the same expansion. `data` is the step's result and
    `local_grads` d(step)/d(operand) for each operand, by the row's own rules (None:
    passes nothing back, as a relu that is off).
    """

    row: Op
    operands: tuple[Any, ...]
    data: float
    local_grads: tuple[Any, ...]


def expand(node: Value) -> list[ElementaryStep]:
    """A fused neuron node as the elementary steps `fused=False` would have built.

    For σ(b + w0*x0 + w1*x1 + ...): the `*` of each weight and its input, the `+`
    chain from the bias in Value.dot's order (from 0.0 when there is no bias), then
    the activation (none for a plain dot). Every number and local derivative comes
    from the rows of *, + and σ, so the last step's data is the node's, bit for bit.
    """
    parts = fused_parts(node)
    if parts is None:
        raise ValueError(f"expand() needs a fused neuron node (Value.dot), got op {node.op!r}")

    def step(row: Op, operands: tuple[Any, ...]) -> ElementaryStep:
        xs = [x.data if isinstance(x, (Value, ElementaryStep)) else x for x in operands]
        y = compute(row, operands, xs)
        return ElementaryStep(row, operands, y, tuple(d(*xs, y) for d in row.derivatives))

    steps: list[ElementaryStep] = []
    total: Any = 0.0 if parts.bias is None else parts.bias
    for w, x in zip(parts.weights, parts.inputs):
        product = step(mul, (w, x))
        total = step(add, (total, product))
        steps += [product, total]
    activation = node._rule.unfused  # type: ignore[union-attr]  # the row it was made with
    if activation is not None:
        steps.append(step(activation, (total,)))
    return steps


# ---- the sweep's steps at a fused neuron ----------------------------------------------------


def _fused_step(node: Value) -> None:
    # d(out)/d(s) = the slope, then d(s)/dw_i = x_i, d(s)/dx_i = w_i, d(s)/dbias = 1:
    # expand()'s rules written out (a call per elementary step would double the sweep)
    g = node.grad
    if g == 0.0:
        return
    slope = node._s
    if slope is None:  # a relu that is off passes nothing back
        return
    g *= slope
    parameters = node._a  # the weights, then the bias
    split = node._b
    for w, x in zip(parameters, split.data):
        w.grad += x * g
    if split.positions is None:  # every input a Value
        for x, w in zip(split.inputs, parameters):
            x.grad += w.data * g
    else:
        for x, i in zip(split.values, split.positions):
            x.grad += parameters[i].data * g
    if len(parameters) > len(split.data):  # d(s)/dbias = 1
        parameters[-1].grad += g


def _fused_local_derivatives(node: Value, as_values: bool) -> tuple[Sequence[Any], list[Any], Any]:
    """(parents, d(s)/d(parent) for each, slope = d(node)/d(s)), s the weighted sum:
    each weight's and input's from its `*` step of expand(), the bias's from the first
    `+`; the slope as the forward pass stored it (on Values, the activation's rule again)."""
    steps = expand(node)
    parts = fused_parts(node)
    assert parts is not None  # expand() has checked
    activation = node._rule.unfused  # type: ignore[union-attr]  # the row it was made with
    slope = node._s  # d(node)/d(s), as the forward pass found it (expand()'s last step's)
    if slope is not None and as_values and activation is not None:
        s = value_dot(parts.weights, parts.inputs, parts.bias)  # the weighted sum, as a Value
        slope = activation.derivatives[0](s, node)
    products = steps[0::2][: len(parts.weights)]
    if as_values:  # d(w*x)/dw = x, d(w*x)/dx = w, as the Values themselves
        by_weight = [product.operands[1] for product in products]
        by_input = [product.operands[0] for product in products]
    else:
        by_weight = [product.local_grads[0] for product in products]
        by_input = [product.local_grads[1] for product in products]
    is_value = [isinstance(x, Value) for x in parts.inputs]
    local_grads = [*by_weight, *(d for d, value in zip(by_input, is_value) if value)]
    if parts.bias is not None:
        # d(b + w0*x0)/db, from the first +; with no weights, the sum is the bias itself
        local_grads.append(steps[1].local_grads[0] if parts.weights else 1.0)
    return _fused_parents(node), local_grads, slope


def _fused_parents(node: Value) -> tuple[Value, ...]:
    split: _SplitInputs = node._b  # weights, Value inputs, bias
    n = len(split.data)
    a = node._a
    return (*a[:n], *split.values, *a[n:])


def _push_fused_parents(
    node: Value, stack: list, visited: set, leaves: bool, search: object
) -> None:
    """The graph search's step at a fused neuron: its weights, inputs and bias, last
    first. The inputs are shared by a layer's neurons: the first one expanded pushes
    them, and the search has finished them before it reaches the next (all were made
    in one call), so the others need not look at them (marked with `search`)."""
    a = node._a
    split: _SplitInputs = node._b
    if not leaves and split.leaf_parameters:  # all parameters are leaves (nn's): skip them
        if split.searched is not search:
            split.searched = search
            for x in reversed(split.values):
                if x._a is not None and x not in visited:
                    stack.append(x)
        return
    parameters = reversed(a)
    if len(a) > len(split.data):  # the bias, last
        bias = next(parameters)
        if (leaves or bias._a is not None) and bias not in visited:
            stack.append(bias)
    if split.searched is not search:
        split.searched = search
        for x in reversed(split.values):
            if (leaves or x._a is not None) and x not in visited:
                stack.append(x)
    for w in parameters:
        if (leaves or w._a is not None) and w not in visited:
            stack.append(w)


def fused_row(activation: Op | None) -> Op:
    """The row of a whole neuron, activation(w·x + b) as one node (dot for None)."""
    if activation is None:
        name, symbol, doc = "dot", "w·x+b", "b + Σ w·x as one node."
    else:
        name = f"dot-{activation.name}"
        symbol = f"{activation.symbol}(w·x+b)"
        doc = f"A whole neuron, {activation.name}(w·x + b), as one node."
    return Op(
        name,
        None,
        (),
        kind=FUSED,
        symbol=symbol,
        doc=doc,
        step=_fused_step,
        local_derivatives=_fused_local_derivatives,
        parents=_fused_parents,
        push_parents=_push_fused_parents,
        unfused=activation,
    )


SUM_OP = Op(
    "sum",
    None,
    (),
    kind=SUM,
    symbol="Σ",
    doc="v0 + v1 + ... as one node.",
    step=_sum_step,
    local_derivatives=_sum_local_derivatives,
    parents=own_parents,
    push_parents=push_each_parent,
)
DOT_OP = fused_row(None)

# Value's ops of many operands (declared in value.py's class, for type checkers)
Value.sum = staticmethod(value_sum)  # type: ignore[method-assign]
Value.dot = staticmethod(value_dot)  # type: ignore[method-assign]
