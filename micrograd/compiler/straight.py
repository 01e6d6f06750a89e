"""The straight-line program: a line (or a few) per node, for any graph the compiler
cannot find loops in (micrograd.compiler.loops writes those that repeat).

The forward pass computes each node from its operands in the order of computation;
the backward pass takes the nodes in backward()'s order and adds local derivative x
gradient into each operand's gradient, with each op's code from its row's writer
(micrograd.compiler.rows). The same operations in the same order: the same floats.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from micrograd.compiler.rows import Namespace, writer
from micrograd.engine import SUM_OP, ElementaryStep, Op, Value, add, expand, mul, sum_terms

# Terms per line of a long sum: Python's compiler recurses once per `+` of an expression.
TERMS_PER_LINE = 64

# The program's own variables: nodes v3, gradients g3, slopes d3 and derivatives d3_0,
# products t3, a neuron's sum s, and its arguments.
VARIABLE = re.compile(r"[vgdtn][0-9]+(_[0-9]+)?|s|args|data|grads|consts")


class TraceError(TypeError):
    """A function the compiler cannot trace, with what to change."""


class Neuron(NamedTuple):
    """A fused neuron node as expand() gives it: its steps, and what they are made of."""

    steps: list[ElementaryStep]  # each weight's *, the + chain from the bias, then σ's row
    weights: list[Value]
    inputs: list[Value | float]
    bias: Value | None
    sigma: Op | None  # the activation's row; None for a plain dot


def fused_steps(v: Value) -> Neuron | None:
    """A fused neuron node as its elementary steps (None for any other node): the one
    place the compiler reads a fused node, through the engine's expand()."""
    if v._rule not in fused_rows():
        return None
    steps = expand(v)
    products = [step for step in steps if step.row is mul]
    first_sum = next((step for step in steps if step.row is add), None)
    bias = first_sum.operands[0] if first_sum is not None else None
    sigma = steps[-1].row if steps and steps[-1].row not in (add, mul) else None
    return Neuron(
        steps,
        [step.operands[0] for step in products],
        [step.operands[1] for step in products],
        bias if isinstance(bias, Value) else None,
        sigma,
    )


def layer_inputs(v: Value) -> tuple[tuple, list[float] | None, bool]:
    """(the inputs of fused neuron v as given, their numbers if every one is a plain
    number, whether every one is a Value), read from what its layer's neurons share."""
    split = v._b  # the engine's split of the inputs (see micrograd.engine._SplitInputs)
    positions = split.positions  # where the Values are; None: everywhere
    return split.inputs, (split.data if positions == [] else None), positions is None


def fused_rows() -> set[Op]:
    """The rows of fused neuron nodes: Value.dot's, and each activation's whole neuron."""
    from micrograd.engine import ACTIVATIONS, DOT_OP

    return {DOT_OP, *(row.fused for row in ACTIVATIONS.values() if row.fused is not None)}


def refuse_by_hand(row: Op) -> None:
    raise TraceError(
        f"cannot compile the op {row.name!r}: it was written by hand with a _backward "
        "closure; register it with micrograd.op(...) to compile it"
    )


class StraightProgram:
    """The Python source of one traced graph, written node by node."""

    def __init__(self, order: list[Value], root: Value, inputs: list[Value]) -> None:
        self.order = order  # every node after its parents; the root's graph first
        self.root = root
        self.inputs = inputs
        self.names = {v: f"v{i}" for i, v in enumerate(order)}
        for x in inputs:  # an argument the function does not use: its gradient stays 0.0
            self.names.setdefault(x, f"v{len(self.names)}")
        self.ns = Namespace(VARIABLE)
        self.forward: list[str] = []
        self.backward: list[str] = []

    def operand(self, x: Value | float) -> str:
        """A node's name, or a plain number as a literal."""
        return self.names[x] if isinstance(x, Value) else self.ns.number(x)

    def grad(self, v: Value) -> str:
        return "g" + self.names[v][1:]

    def straight_body(
        self, leaves: list[Value], swept: list[Value], reported: list[Value]
    ) -> list[str]:
        """The function's body: unpack, forward, backward (swept: backward()'s order),
        and the return of (value, argument gradients, leaf gradients, reported outputs)."""
        for v in self.order:
            if v._rule is not None:
                self.write_node(v)
        for v in swept:
            self.write_step(v)
        lines = []
        if self.inputs:
            lines.append(f"{_unpack([self.names[x] for x in self.inputs])} = args")
            lines.append(
                f"{_unpack([self.grad(x) for x in self.inputs])} = {_zeros(len(self.inputs))}"
            )
        if leaves:
            lines.append(f"{_unpack([self.names[p] for p in leaves])} = data")
            lines.append(f"{_unpack([self.grad(p) for p in leaves])} = grads")
        lines.append("# forward: each node from its operands, in the order of computation")
        lines += self.forward
        lines.append("# backward: each node passes local derivative x its gradient back;")
        lines.append("# a node whose gradient is 0 passes nothing back, as in backward()")
        if swept:
            for start in range(0, len(swept), 32):  # every interior gradient starts at 0
                names = " = ".join(self.grad(v) for v in swept[start : start + 32])
                lines.append(f"{names} = 0.0")
            lines.append(f"{self.grad(self.root)} = 1.0")
            lines += self.backward
        else:  # the root is a leaf: d(root)/d(root) = 1
            lines.append(f"{self.grad(self.root)} += 1.0")
        arg_grads = "".join(f"{self.grad(x)}, " for x in self.inputs)
        leaf_grads = "".join(f"{self.grad(p)}, " for p in leaves)
        values = "".join(f"{self.names[v]}, " for v in reported)
        lines.append(f"return {self.names[self.root]}, ({arg_grads}), ({leaf_grads}), ({values})")
        return lines

    # ---- forward --------------------------------------------------------------------

    def write_node(self, v: Value) -> None:
        """The forward line(s) of node v, from its row's writer."""
        row: Op = v._rule  # type: ignore[assignment]  # interior: it has a rule
        out = self.names[v]
        if row is SUM_OP:  # start + t1 + t2 + ..., left to right as Value.sum adds
            self.write_sum(out, [self.operand(t) for t in sum_terms(v)])
            return
        parts = fused_steps(v)
        if parts is not None:
            self.write_fused(v, out, parts)
            return
        if row.forward is None:
            refuse_by_hand(row)
        operands = [self.operand(x) for x in v.operands]
        self.forward.append(f"{out} = {writer(row).forward(row, self.ns, operands)}")

    def write_sum(self, out: str, terms: list[str]) -> None:
        """out = terms[0] + terms[1] + ..., left to right, a line per TERMS_PER_LINE terms."""
        head, rest = terms[0], terms[1:]
        for start in range(0, max(len(rest), 1), TERMS_PER_LINE):
            chunk = rest[start : start + TERMS_PER_LINE]
            self.forward.append(f"{out} = {' + '.join([head, *chunk])}")
            head = out

    def write_fused(self, v: Value, out: str, neuron: Neuron) -> None:
        """s = b + w0 * x0 + w1 * x1 + ... then out = σ(s): each step of expand(v) written
        by its row's writer (the sum as one expression, added in the steps' order)."""
        plain = neuron.sigma is None or neuron.sigma.name == "relu"
        target = out if plain else "s"
        total, terms = "0.0", 0  # a neuron without a bias adds from 0.0, as Value.dot does
        for step in neuron.steps:
            if step.row is add:
                total = self.step_expression(step, total)
                terms += 1
                if terms % TERMS_PER_LINE == 0:  # a line per TERMS_PER_LINE terms
                    self.forward.append(f"{target} = {total}")
                    total = target
        if plain:  # the sum is the node's number...
            self.forward.append(f"{out} = {total}")
            if neuron.sigma is not None:  # ...which relu then sets to 0 where s <= 0
                self.forward.append(f"if {out} <= 0.0: {out} = 0.0")
            return
        # σ's row: its forward, then its slope d(out)/d(s), as the fused node keeps it;
        # both come from s at once, so one name serves every neuron's sum
        sigma = neuron.sigma
        assert sigma is not None  # not plain
        self.forward.append(f"s = {total}")
        self.forward.append(f"{out} = {writer(sigma).forward(sigma, self.ns, ['s'])}")
        slope = self.ns.function(sigma.derivatives[0], f"d_{identifier_hint(sigma)}")
        self.forward.append(f"d{out[1:]} = {slope}(s, {out})")

    def step_expression(self, step: ElementaryStep, total: str) -> str:
        """The expression of a * or + step of a neuron's sum: its row's writer on its
        operands (the running sum for the earlier + step; a product needs no brackets
        in a sum, and a sum of sums added left to right needs none either)."""
        operands = [
            total if isinstance(x, ElementaryStep) and x.row is add else
            self.step_expression(x, total) if isinstance(x, ElementaryStep) else
            self.operand(x)
            for x in step.operands
        ]  # fmt: skip
        return writer(step.row).forward(step.row, self.ns, operands)

    # ---- backward ---------------------------------------------------------------------

    def write_step(self, v: Value) -> None:
        """The chain rule at v: what it adds to each parent's gradient (backward()'s order)."""
        row: Op = v._rule  # type: ignore[assignment]
        g = self.grad(v)
        condition = f"{g} != 0.0"  # a node whose gradient is 0 passes nothing back
        parts = fused_steps(v)
        if row is SUM_OP:  # d(sum)/d(v_i) = 1
            adds = [f"{self.grad(p)} += {g}" for p in v.parents]
        elif parts is not None:
            condition, adds = self.fused_step(v, g, parts)
        else:
            operands = v.operands
            grads = [self.grad(x) if isinstance(x, Value) else None for x in operands]
            temp = f"d{self.names[v][1:]}"
            adds = writer(row).backward(
                row, self.ns, [self.operand(x) for x in operands], self.names[v], g, grads, temp
            )
        if adds:
            self.backward.append(f"if {condition}:")
            self.backward += ["    " + add for add in adds]

    def fused_step(self, v: Value, g: str, neuron: Neuron) -> tuple[str, list[str]]:
        """The chain rule at a fused neuron: the slope first, then each step's local
        derivatives from its row's writer: d(w*x)/dw = x for every weight, then
        d(w*x)/dx = w for each input that is a Value, then d(b + ...)/db = 1: the order
        of backward()'s fused step, which decides the order of the adds."""
        n = self.names[v][1:]
        condition, t = f"{g} != 0.0", g
        adds = []
        sigma = neuron.sigma
        if sigma is not None and sigma.name == "relu":  # off passes nothing back
            condition += f" and {self.names[v]}"  # relu(s) is 0.0 exactly when it is off
        elif sigma is not None:  # times the slope, kept by the forward pass
            condition += f" and d{n} is not None"
            t = f"t{n}"
            adds.append(f"{t} = {g} * d{n}")
        # An input from a relu that is off is 0.0: it adds 0 * t to its weight's gradient,
        # which changes no gradient when t is finite (but a -0.0 to 0.0, and zero_grad()
        # and sums from its 0.0 never make one), and its own gradient is never used (it
        # passes nothing back). The program skips both, in one test per input, where
        # backward() does not: a third of a compiled step of relu layers. Not when t is
        # inf or NaN: then 0 * t is NaN, so the test is `if x or n`, where n = t - t is
        # 0.0 (false) for a finite t and NaN (true) for inf or NaN, worked out once per
        # neuron. Only for an input that is not also a weight of this neuron: then its
        # gradient is added to, and the order counts.
        products = [step for step in neuron.steps if step.row is mul]
        weights = set(neuron.weights)
        skippable = [
            isinstance(x, Value) and _relu_neuron(x) and x not in weights for x in neuron.inputs
        ]
        nonfinite = f"n{n}"
        if any(skippable):
            adds.append(f"{nonfinite} = {t} - {t}  # 0.0, or NaN if {t} is inf or NaN")
        later = []
        for step, skip in zip(products, skippable):
            w, x = step.operands
            operands = [self.operand(w), self.operand(x)]
            x_grad = self.grad(x) if isinstance(x, Value) else None
            to_weight = writer(mul).backward(
                mul, self.ns, operands, "", t, [self.grad(w), None], ""
            )
            to_input = writer(mul).backward(mul, self.ns, operands, "", t, [None, x_grad], "")
            if skip and isinstance(x, Value):
                adds.append(f"if {self.names[x]} or {nonfinite}:  # skips an input that is off")
                adds += ["    " + line for line in to_weight + to_input]
            else:
                adds += to_weight
                later += to_input
        adds += later
        sums = [step for step in neuron.steps if step.row is add]
        if neuron.bias is not None and sums:  # d(b + ...)/db = 1
            first = sums[0]
            adds += writer(add).backward(
                add,
                self.ns,
                [self.operand(neuron.bias), ""],
                "",
                t,
                [self.grad(neuron.bias), None],
                "",
            )
            del first
        return condition, adds


def activation_row(name: str) -> Op:
    from micrograd.engine import ACTIVATIONS

    return ACTIVATIONS[name]


def identifier_hint(row: Op) -> str:
    from micrograd.compiler.rows import rule_name

    assert row.forward is not None
    return rule_name(row, row.forward, row.name)


def _relu_neuron(v: Value) -> bool:
    """Whether v is a fused neuron with a relu, whose output is 0.0 exactly when it is off."""
    rule = v._rule
    return rule is not None and rule.name == "dot-relu" and rule in fused_rows()


def _unpack(names: list[str]) -> str:
    return names[0] + "," if len(names) == 1 else ", ".join(names)


def _zeros(n: int) -> str:
    return "0.0," if n == 1 else ", ".join(["0.0"] * n)


def program_order(root: Value, reported: list[Value]) -> list[Value]:
    """Every node the root depends on, each after its parents, then those only the
    reported outputs need (computed, but they pass nothing back)."""
    from micrograd.engine import topological_order

    order = topological_order(root)
    seen = set(order)
    for v in reported:
        if v not in seen:
            for node in topological_order(v):
                if node not in seen:
                    seen.add(node)
                    order.append(node)
    return order
