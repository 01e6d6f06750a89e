"""Finding a model's neurons in a graph, and drawing a fused neuron as its elementary chain.

A drawing given `model=` names and styles its parameters; with `cluster=True` it
lays the graph out like the network, which needs to know, for each neuron, which
nodes of the graph compute it and what each of them is: the products w[i]·x[i],
the running sums, the activation. find_passes() works that out, for neurons built
with fused=False (one node per *, + and activation) and for fused ones (one
Value.dot node), which `expand=True` turns into the same chain of Parts: stand-ins
that hold the numbers the elementary graph would hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from micrograd.engine import ElementaryStep, Value, fused_parts
from micrograd.engine import expand as expand_node

__all__ = [
    "Part",
    "Node",
    "ModelNeuron",
    "NeuronPass",
    "model_neurons",
    "find_passes",
    "one_pass_each",
    "layer_title",
]


class Part:
    """One node of a fused neuron drawn expanded, as `fused=False` would have built it.

    `op` is "*", "+" or an activation name; `operands` are drawn nodes (Values or
    Parts) and plain numbers, in the order written; `local_grads` are the local
    derivatives for the operands that are nodes. `origin` is the fused node it
    comes from: a Part's gradient is its share of the origin's gradient.
    """

    __slots__ = ("data", "op", "operands", "local_grads", "origin", "slope", "name")

    label = ""  # a Part has no label of its own: drawings name it by its role

    def __init__(
        self,
        data: float,
        op: str,
        operands: tuple,
        local_grads: tuple[float, ...],
        origin: Value,
        slope: float,
        name: str,
    ) -> None:
        self.data = data
        self.op = op
        self.operands = operands
        self.local_grads = local_grads
        self.origin = origin
        self.slope = slope  # d(origin)/d(this part): its grad is slope * origin's grad
        self.name = name

    def is_leaf(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<Part {self.name}: {self.op} = {self.data!r}>"


Node = Union[Value, Part]  # what a drawing draws: a Value of the graph, or a Part
# how an expanded fused node is drawn: (op, operands, local derivatives), as its last Part would be
DrawnAs = tuple[str, tuple[Node, ...], tuple[float, ...]]


@dataclass(frozen=True)
class ModelNeuron:
    """A neuron of the model being drawn: `layer` None for a lone Neuron, `index` in its layer."""

    layer: int | None
    index: int
    neuron: Any  # a micrograd.nn.Neuron, or anything with w, b and parameters()

    @property
    def activation(self) -> str:
        return str(getattr(self.neuron, "activation", "") or "")

    @property
    def where(self) -> str:
        """`layer 0 · neuron 3`: indices as in model.layers[0].neurons[3]."""
        if self.layer is None:
            return f"neuron {self.index}"
        return f"layer {self.layer} · neuron {self.index}"

    @property
    def title(self) -> str:
        """`layer 0 · neuron 3 (tanh)`: where it is, and its activation."""
        return f"{self.where} ({self.activation})" if self.activation else self.where


def layer_title(layer: int, count: int) -> str:
    """`layer 0 · hidden` or, for the last of `count` layers, `layer 2 · output`."""
    role = "output" if layer == count - 1 else "hidden"
    return f"layer {layer} · {role}"


@dataclass
class NeuronPass:
    """The nodes that compute one neuron for one input, in the order of the chain.

    Elementary (fused=False or expanded): products[i] = w[i]·x[i], sums[0] = b +
    products[0], sums[i] = sums[i-1] + products[i], then the activation (None for a
    linear neuron). Fused and not expanded: only `fused`, the one Value.dot node.
    `inputs[i]` is x[i]: a Value or a plain number.
    """

    neuron: int | None  # index into the list of model_neurons(); None: no neuron of the model
    inputs: list = field(default_factory=list)
    products: list = field(default_factory=list)
    sums: list = field(default_factory=list)
    activation: Value | None = None  # a Value, for an expanded pass too: the fused node
    fused: Value | None = None
    drawn_as: DrawnAs | None = None  # an expanded fused node, drawn as the chain's last node

    @property
    def output(self) -> Value:
        """The Value holding the neuron's output (the fused node, for an expanded pass too)."""
        if self.fused is not None:
            return self.fused
        if self.activation is not None:
            return self.activation
        return self.sums[-1]

    def nodes(self) -> list[Node]:
        """Every non-leaf node of the pass, parents first."""
        if self.fused is not None:
            return [self.fused]
        chain: list[Node] = []
        for i, product in enumerate(self.products):
            chain.append(product)
            if i < len(self.sums) and self.sums[i] not in chain:
                chain.append(self.sums[i])
        return chain + ([self.activation] if self.activation is not None else [])


def model_neurons(model: Any) -> list[ModelNeuron]:
    """Each neuron of an MLP, Layer or Neuron, in model order; [] for other models."""
    if model is None:
        return []
    if hasattr(model, "layers"):  # an MLP
        return [
            ModelNeuron(i, j, neuron)
            for i, layer in enumerate(model.layers)
            for j, neuron in enumerate(layer.neurons)
        ]
    if hasattr(model, "neurons"):  # a Layer
        return [ModelNeuron(0, j, neuron) for j, neuron in enumerate(model.neurons)]
    if hasattr(model, "w") and hasattr(model, "b"):  # a Neuron
        return [ModelNeuron(None, 0, model)]
    return []  # some other Module: its parameters are styled, not named or boxed


def find_passes(
    order: Sequence[Value], neurons: Sequence[ModelNeuron], expand: bool
) -> list[NeuronPass]:
    """The passes through `neurons` that compute nodes of `order`, by identity of parameters.

    A neuron's pass is its one fused node (w·x+b, or σ(w·x+b)), or, built
    elementary: each w*x (one of its weights times a non-parameter), the + that
    adds its bias to the first, each + that adds another of its w*x, and its
    activation applied to that sum. Everything else, such as a loss or an L2 term
    p*p computed from parameters, belongs to no neuron. With `expand`, each fused
    pass is returned as the elementary chain of Parts.
    """
    owner: dict[Value, int] = {}  # parameter -> its neuron
    weight_index: dict[Value, int] = {}
    bias_of: dict[Value, int] = {}
    for k, entry in enumerate(neurons):
        for p in entry.neuron.parameters():
            owner.setdefault(p, k)
        for i, w in enumerate(entry.neuron.w):
            weight_index.setdefault(w, i)
        bias_of.setdefault(entry.neuron.b, k)
    passes: list[NeuronPass] = []
    open_pass: dict[Value, NeuronPass] = {}  # the latest node of an elementary chain -> its pass
    for v in order:
        parents = v.parents
        if not parents or v in owner:
            continue
        parts = fused_parts(v)
        if parts is not None:
            neuron_index = owner.get(parts.weights[0]) if parts.weights else None
            if neuron_index is None or any(owner.get(w) != neuron_index for w in parts.weights):
                neuron_index = None  # a Value.dot of the user's own: expanded all the same
            if neuron_index is not None or expand:
                passes.append(_fused_pass(v, neuron_index, parts, expand))
        elif v.op == "*" and len(v.operands) == 2:  # w * x: it starts or continues a chain
            weights = [o for o in v.operands if isinstance(o, Value) and o in owner]
            if len(weights) == 1 and weights[0] not in bias_of:
                w = weights[0]
                x = v.operands[1] if v.operands[0] is w else v.operands[0]
                open_pass[v] = NeuronPass(owner[w], inputs=[x], products=[v])
        elif v.op == "+" and len(parents) == 2:  # b + w*x, or (the sum so far) + w*x
            first, term = v.operands
            if not isinstance(first, Value) or not isinstance(term, Value):
                continue
            chain = open_pass.get(term)
            if chain is None:
                continue
            if not chain.sums and bias_of.get(first) == chain.neuron:  # b + w[0]*x[0]
                del open_pass[term]
                chain.sums.append(v)
                open_pass[v] = chain
                passes.append(chain)
            elif first in open_pass and open_pass[first].neuron == chain.neuron:
                whole = open_pass.pop(first)  # the sum so far, + the next product
                del open_pass[term]
                whole.inputs += chain.inputs
                whole.products += chain.products
                whole.sums.append(v)
                open_pass[v] = whole
        elif len(parents) == 1 and parents[0] in open_pass:
            chain = open_pass[parents[0]]
            if (
                chain.sums
                and chain.neuron is not None  # always so for a chain started at w * x
                and v.op == neurons[chain.neuron].activation
            ):
                chain.activation = v
                del open_pass[parents[0]]
    return passes


def one_pass_each(
    passes: Sequence[NeuronPass], neurons: Sequence[ModelNeuron], drawing: str
) -> dict[int, NeuronPass]:
    """Each model neuron's pass, by its index in `neurons`, in that order; a ValueError
    if one computes more than once, as in a batch: `drawing` (what is being drawn,
    "cluster=True", say) shows one forward pass."""
    count: dict[int, int] = {}
    for p in passes:
        if p.neuron is not None:
            count[p.neuron] = count.get(p.neuron, 0) + 1
    for k, times in count.items():
        if times > 1:
            raise ValueError(
                f"{drawing} draws one forward pass through the model, but "
                f"{neurons[k].where} computes {times} times in this graph (a batch?): "
                "draw the output or loss of one example"
            )
    return dict(
        sorted(((p.neuron, p) for p in passes if p.neuron is not None), key=lambda kp: kp[0])
    )


def _fused_pass(node: Value, k: int | None, parts: Any, expand: bool) -> NeuronPass:
    """The pass of a fused node: the node alone, or expanded into Parts with its numbers.

    The Parts are engine.expand(node)'s elementary steps, whose numbers and local
    derivatives come from the rows of *, + and the activation, drawn with their roles.
    """
    inputs = list(parts.inputs)
    if not expand or not parts.weights or parts.bias is None:
        return NeuronPass(k, inputs=inputs, fused=node)
    steps = expand_node(node)  # [w0*x0, b + ..., w1*x1, ... + ..., (activation)]
    n, has_activation = len(parts.weights), parts.activation is not None
    # d(node)/d(the weighted sum): each Part's gradient is this share of the node's
    slope = (steps[-1].local_grads[0] or 0.0) if has_activation else 1.0
    drawn: dict[int, Part] = {}  # id of a step -> its Part

    def as_drawn(x: Any) -> Any:
        return drawn[id(x)] if isinstance(x, ElementaryStep) else x

    def part(step: ElementaryStep, name: str) -> Part:
        # local derivatives for the operands that are drawn as nodes, not for numbers
        local = tuple(
            d
            for x, d in zip(step.operands, step.local_grads)
            if isinstance(x, (Value, ElementaryStep))
        )
        made = Part(
            step.data, step.row.name, tuple(map(as_drawn, step.operands)), local, node, slope, name
        )
        drawn[id(step)] = made
        return made

    products: list[Part] = []
    sums: list[Part] = []
    for i in range(n):
        products.append(part(steps[2 * i], f"w[{i}]·x[{i}]"))
        if i == n - 1 and not has_activation:  # the fused node itself is the last sum
            break
        name = "w·x + b" if i == n - 1 else "b + w[0]·x[0]" if i == 0 else f"… + w[{i}]·x[{i}]"
        sums.append(part(steps[2 * i + 1], name))
    drawn_as: DrawnAs
    if not has_activation:  # the fused node itself is the last sum
        last = steps[-1]
        drawn_as = ("+", tuple(map(as_drawn, last.operands)), last.local_grads)
        return NeuronPass(k, inputs, products, [*sums, node], drawn_as=drawn_as)
    drawn_as = (str(parts.activation), (sums[-1],), (slope,))
    return NeuronPass(k, inputs, products, sums, activation=node, drawn_as=drawn_as)
