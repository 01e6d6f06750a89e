"""Loops where the graph repeats: the program a person would write for a model
trained on a batch (Unsupported for a graph whose repeats it does not recognise:
then micrograd.compiler.straight writes it a line per node).

A training loss is the same few steps for every sample: each layer of the model
(a run of fused neurons that share their inputs: one `fused_layer` call), then the
loss's ops on the model's output. The graph, in the order of computation, is a
list of *units* (a layer, or one node); `find_loops` finds where a block of units
repeats with the same layers and ops, each iteration's operands in the same places,
and only plain numbers (the sample's inputs, its label) differing. Such a block
becomes a loop over the samples; in it, a layer is a loop over its neurons, each
neuron's sum written out (`b + w[0] * a0 + w[1] * a1 + ...`; past 32 inputs, the
helpers `weighted_sum` and `add_scaled`, which keep the same order). The rest is
written straight, a unit at a time. The loop's numbers are data (`consts`), not
source: a batch of the same shape with other numbers runs the same program.

Exactness: each unit's backward code adds into each gradient in backward()'s order.
The sweep visits the nodes in reverse order of computation, so the program goes
through the units backwards, the samples from last to first, and a layer's neurons
from last to first; each weight gains one term per sample, and each input's gradient
the terms of the neurons above it, in that order, starting from 0.0.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
import struct
from collections.abc import Sequence
from typing import Any, NamedTuple

from micrograd.compiler.rows import Namespace, writer
from micrograd.compiler.straight import fused_rows, fused_steps, layer_inputs, refuse_by_hand
from micrograd.engine import SUM_OP, Op, Value, relu, sum_terms

# The program's own variable names (no rule or helper of its namespace takes one).
VARIABLE = re.compile(
    r"g?[A-Za-z][0-9]+(_[0-9]+)?|g?arg[0-9]+|[a-z](_[0-9]+)?|args|data|grads|consts|layout|saved[0-9]*"
)

# A unit's operand: ("u", unit, output) a computed number (output: which neuron of a
# layer, None for a node), ("p", leaf) a parameter, ("a", i) an argument, ("c", x) a
# plain number, ("v", [numbers]) a layer's plain-number inputs.
Ref = tuple


# ---- the helpers the programs call: each an idiom exactness needs, with its name ------------


def weighted_sum(start: float, w: Sequence[float], x: Sequence[float]) -> float:
    """start + w[0]*x[0] + w[1]*x[1] + ..., added left to right, as Value.dot adds."""
    return functools.reduce(operator.add, map(operator.mul, w, x), start)


def add_scaled(g: Sequence[float], x: Sequence[float], t: float) -> list[float]:
    """[g[k] + x[k] * t for each k]: each gradient gains its term, as backward() adds it."""
    return list(map(operator.add, g, map(operator.mul, x, itertools.repeat(t))))


def unpack(flat: Sequence[float], layout: Sequence[tuple[int, int, int]]) -> list[Any]:
    """The program's parameters from a flat list: a layer's weights as rows, its biases
    as a list, a lone parameter as a number (layout: (start, rows, columns) each;
    columns 0 for biases, rows 0 for a lone number)."""
    parts: list[Any] = []
    for start, rows, columns in layout:
        if rows == 0:
            parts.append(flat[start])
        elif columns == 0:
            parts.append(list(flat[start : start + rows]))
        else:
            parts.append(
                [list(flat[start + j * columns : start + (j + 1) * columns]) for j in range(rows)]
            )
    return parts


def flatten(parts: Sequence[Any]) -> list[float]:
    """unpack's parts back into one flat list (the gradients, for the caller)."""
    flat: list[float] = []
    for part in parts:
        if isinstance(part, float):
            flat.append(part)
        elif part and isinstance(part[0], list):
            for row in part:
                flat.extend(row)
        else:
            flat.extend(part)
    return flat


HELPERS = {
    "weighted_sum": weighted_sum,
    "add_scaled": add_scaled,
    "unpack": unpack,
    "flatten": flatten,
}


# The most inputs a layer may have to have its dot products written out (see _written_out).
_WRITTEN_OUT = 32
# How many periods find_loops tries at each unit (the distances to the next units like it).
_TRIES = 4


class Unsupported(Exception):
    """The graph has a part the loop writer does not recognise: write it straight."""


# ---- the units ---------------------------------------------------------------------------------


class Layer:
    """The parameters of a run of neurons: W[j][k], b[j], and their activation."""

    def __init__(
        self,
        index: int,
        rows: list[tuple[Value, ...]],
        biases: list[Value] | None,
        sigma: Op | None,
        row: Op | None,
    ):
        self.row = row  # the fused row of its neurons' nodes
        self.index = index
        self.rows = rows
        self.biases = biases
        self.sigma = sigma  # the activation's row; None for a linear layer


class Unit:
    """One step of the forward pass: a layer applied to one input vector, or one node."""

    __slots__ = ("kind", "nodes", "layer", "refs", "row")

    def __init__(
        self,
        kind: str,
        nodes: list[Value],
        refs: list[Ref],
        layer: Layer | None = None,
        row: Op | None = None,
    ):
        self.kind = kind  # "layer", "node", "sum" or "squares"
        self.nodes = nodes
        self.refs = refs
        self.layer = layer
        self.row = row


class Loop(NamedTuple):
    start: int  # the first unit
    period: int  # units per iteration
    iterations: int


def structure(
    order: list[Value], inputs: list[Value]
) -> tuple[list[Unit], list[Layer], list[Value], dict[Value, tuple[int, Any]]]:
    """The units of a graph (its nodes in the order of computation), its layers, the
    leaves that are no layer's, and where each node is computed; Unsupported for
    anything else."""
    argument = {x: i for i, x in enumerate(inputs)}
    where: dict[Value, tuple[int, int | None]] = {}  # node -> (unit, neuron of a layer)
    units: list[Unit] = []
    layers: list[Layer] = []
    layer_of: dict[Any, Layer] = {}  # the neurons' parameter tuples -> their layer
    owner: dict[Value, Layer] = {}  # a leaf -> the layer it is a parameter of

    def ref(x: Any) -> Ref:
        if not isinstance(x, Value):
            return ("c", x)
        if x in where:
            return ("u", *where[x])
        if x in argument:
            return ("a", argument[x])
        if x._rule is None:
            return ("p", x)
        raise Unsupported("an operand computed after its use")

    fused = fused_rows()
    i, n = 0, len(order)
    while i < n:
        v = order[i]
        if v._rule is None:  # a leaf: an argument or a parameter, read at each call
            i += 1
            continue
        if v._rule not in fused:
            row: Op = v._rule
            if row is SUM_OP:
                refs = [ref(t) for t in sum_terms(v)]
                kind = "sum"
            else:
                if row.forward is None:
                    refuse_by_hand(row)
                refs = [ref(x) for x in v.operands]
                kind = "node"
            where[v] = (len(units), None)
            units.append(Unit(kind, [v], refs, row=row))
            i += 1
            continue
        # a run of fused neurons on the same inputs: one layer, applied once
        split = v._b  # the inputs the run shares (see _layer_inputs)
        run = [v]
        i += 1
        while i < n:  # the run's neurons, with their parameters (leaves) between them
            w = order[i]
            if w._rule is not None:
                if w._b is not split or w._rule not in fused:
                    break
                run.append(w)
            i += 1
        given, numbers, every_value = layer_inputs(v)
        if every_value and given and given[0]._rule is None:  # a dot of parameters: Σ p²
            units.append(_squares(run, owner, layers))
            where[v] = (len(units) - 1, None)
            continue
        key = tuple(map(id, (node._a for node in run)))  # the neurons' parameter tuples
        layer = layer_of.get(key)
        if layer is None:
            layer = _new_layer(run, len(layers), owner)
            layers.append(layer)
            layer_of[key] = layer
        elif v._rule is not layer.row:
            raise Unsupported("one set of neurons with two activations")
        if numbers is not None:  # every input a plain number: the sample's, say
            refs = [("v", numbers)]
        elif every_value and given[0] in where:
            source_unit, first = where[given[0]]
            if first != 0 or units[source_unit].nodes != list(given):
                raise Unsupported("a layer's inputs are not one layer's outputs")
            refs = [("u", source_unit, "all")]
        else:
            raise Unsupported("a layer's inputs mix numbers and computed values")
        for k, node in enumerate(run):
            where[node] = (len(units), k)
        units.append(Unit("layer", run, refs, layer=layer))
    lone = [v for v in order if v._rule is None and v not in argument and v not in owner]
    return units, layers, lone, where


def _new_layer(run: list[Value], index: int, owner: dict[Value, Layer]) -> Layer:
    parts = [fused_steps(node) for node in run]  # each neuron as expand() gives it
    sigmas = {p.sigma for p in parts}  # type: ignore[union-attr]
    with_bias = {p.bias is not None for p in parts}  # type: ignore[union-attr]
    if len(sigmas) != 1 or len(with_bias) != 1:
        raise Unsupported("neurons of one layer differ in activation or bias")
    sigma = sigmas.pop()
    rows = [tuple(p.weights) for p in parts]  # type: ignore[union-attr]
    biases: list[Value] | None = None
    if with_bias.pop():
        biases = [p.bias for p in parts]  # type: ignore[union-attr,misc]
    layer = Layer(index, rows, biases, sigma, run[0]._rule)
    for p in [*itertools.chain(*rows), *(biases or [])]:
        if p._rule is not None or p in owner:
            raise Unsupported("a layer's parameter is computed, or another layer's too")
        owner[p] = layer
    return layer


def _squares(run: list[Value], owner: dict[Value, Layer], layers: list[Layer]) -> Unit:
    """Σ p² over every parameter of the layers, layer by layer (an L2 penalty)."""
    if len(run) != 1:
        raise Unsupported("a layer of parameter dots")
    node = run[0]
    parents = node.parents  # its weights, then its inputs (Values here), then a bias
    n = len(parents) // 2
    if node.op != "dot" or len(parents) % 2 or parents[:n] != parents[n:]:
        raise Unsupported("a dot of parameters other than Σ p²")
    expected: list[Value] = []
    for layer in layers:
        for j, w in enumerate(layer.rows):
            expected.extend(w)
            if layer.biases is not None:
                expected.append(layer.biases[j])
    if list(parents[:n]) != expected:
        raise Unsupported("a sum of squares over some of the parameters")
    return Unit("squares", run, [])


# ---- finding the loops --------------------------------------------------------------------------


def _head(unit: Unit) -> Any:
    if unit.kind == "layer":
        return ("L", unit.layer.index)  # type: ignore[union-attr]
    if unit.kind == "squares":
        return ("Q", id(unit))  # never repeats
    return (unit.kind, unit.row, len(unit.refs))


def _signature(units: list[Unit], i: int, block: int, start: int) -> Any:
    """Unit i as seen from the block starting at `block` of a loop starting at `start`:
    None if it reads a unit of another iteration."""
    unit = units[i]
    refs: list[Any] = []
    for r in unit.refs:
        kind = r[0]
        if kind == "u":
            j = r[1]
            if block <= j < i:
                refs.append(("in", j - block, r[2]))
            elif j < start:
                refs.append(r)
            else:
                return None
        elif kind == "c":
            refs.append(("c",))
        elif kind == "v":
            refs.append(("v", len(r[1])))
        else:
            refs.append(r)
    return (_head(unit), tuple(refs))


def find_loops(units: list[Unit]) -> list[Loop]:
    """Where a block of units repeats (at least twice), greedily from the first unit."""
    loops: list[Loop] = []
    heads = [_head(u) for u in units]
    upcoming: dict[Any, list[int]] = {}
    for i, h in enumerate(heads):
        upcoming.setdefault(h, []).append(i)
    s, m = 0, len(units)
    while s < m:
        found = None
        same = upcoming[heads[s]]
        after = bisect.bisect_right(same, s)
        for t in same[after : after + _TRIES]:  # the next few units like s: period t - s
            p = t - s
            if s + 2 * p > m:
                break
            first = [_signature(units, s + k, s, s) for k in range(p)]
            if None in first:
                continue
            count = 1
            while s + (count + 1) * p <= m and all(
                _signature(units, s + count * p + k, s + count * p, s) == first[k] for k in range(p)
            ):
                count += 1
            if count >= 2:
                found = Loop(s, p, count)
                break
        if found is None:
            s += 1
        else:
            loops.append(found)
            s += found.period * found.iterations
    return loops


# ---- writing the program ----------------------------------------------------------------------


class LoopProgram:
    """The source of a graph with loops: see the module docstring."""

    def __init__(self, order: list[Value], root: Value, inputs: list[Value], reported: list[Value]):
        units, layers, lone, where = structure(order, inputs)
        if not units or units[-1].nodes[-1] is not root:
            raise Unsupported("the root is not the last node computed")
        loops = find_loops(units)
        if not loops:
            raise Unsupported("nothing repeats")
        if loops[-1].start + loops[-1].period * loops[-1].iterations == len(units):
            raise Unsupported("the root is in a loop")
        self.units, self.layers, self.lone, self.where = units, layers, lone, where
        self.loops, self.inputs, self.reported = loops, inputs, reported
        self.loop_of: dict[int, Loop] = {}
        for loop in loops:
            for u in range(loop.start, loop.start + loop.period * loop.iterations):
                self.loop_of[u] = loop
        self.ns = Namespace(VARIABLE)
        self.ns.values.update(HELPERS)
        self.place: dict[Value, tuple[Layer, int, int | None]] = {}  # W[j][k], or b[j] (None)
        for layer in layers:
            for j, row in enumerate(layer.rows):
                for k, w in enumerate(row):
                    self.place[w] = (layer, j, k)
                if layer.biases is not None:
                    self.place[layer.biases[j]] = (layer, j, None)
        self.lone_name = {p: f"p{i}" for i, p in enumerate(lone)}
        self.counter = itertools.count()
        self.names: dict[Any, str] = {}  # a unit outside loops, or (loop, position) -> name
        self.exported: set[tuple[Loop, int]] = set()
        self.consts: list[Any] = []
        self.const_names: list[str] = []
        self._operand_memo: dict[int, list[str]] = {}
        for u in range(len(units)):  # named in the order of computation
            self.name(u)
        self._find_exports()

    # ---- names ------------------------------------------------------------------------

    def name(self, u: int) -> str:
        """The variable of unit u (for a unit in a loop: of its place in the iteration)."""
        loop = self.loop_of.get(u)
        key: Any = u if loop is None else (loop, (u - loop.start) % loop.period)
        if key not in self.names:
            unit = self.units[u]
            self.names[key] = f"{'h' if unit.kind == 'layer' else 'v'}{next(self.counter)}"
        return self.names[key]

    def export(self, loop: Loop, t: int) -> str:
        """The list of the number(s) of place t of every iteration, for code after the loop."""
        return self.name(loop.start + t).upper()

    def const(self, values: Any, hint: str) -> str:
        """A number (or table) the program reads from consts, not from its source: the
        loops' counts n, n_1, ..., the samples' inputs x, x_1, ..., and the numbers
        that differ by sample (c0, c1, ...: a label, say)."""
        used = sum(name.startswith(hint) for name in self.const_names)
        name = f"c{used}" if hint == "c" else hint if used == 0 else f"{hint}_{used}"
        self.consts.append(values)
        self.const_names.append(name)
        return name

    def _find_exports(self) -> None:
        for u, unit in enumerate(self.units):
            for r in unit.refs:
                if r[0] == "u" and r[1] in self.loop_of:
                    loop = self.loop_of[r[1]]
                    if self.loop_of.get(u) is not loop:
                        self.exported.add((loop, (r[1] - loop.start) % loop.period))
        for v in self.reported:
            if v not in self.where:
                raise Unsupported("a reported output is off the way to the value")
            u = self.where[v][0]
            if u in self.loop_of:
                loop = self.loop_of[u]
                self.exported.add((loop, (u - loop.start) % loop.period))

    # ---- operands, as the code at unit `at` reads them ------------------------------------------

    def value(self, r: Ref, at: int, grad: bool = False) -> str | None:
        """The expression of operand r of unit `at` (of its gradient with grad=True; None
        for a plain number, which has none)."""
        kind = r[0]
        g = "g" if grad else ""
        if kind == "c":
            return None if grad else self.ns.number(r[1])
        if kind == "a":
            return f"{g}arg{r[1]}"
        if kind == "p":
            p = r[1]
            if p in self.place:
                layer, j, k = self.place[p]
                return (
                    f"{g}W{layer.index}[{j}][{k}]" if k is not None else f"{g}b{layer.index}[{j}]"
                )
            return f"{g}{self.lone_name[p]}"
        j, o = r[1], r[2]
        loop = self.loop_of.get(j)
        if loop is not None and self.loop_of.get(at) is not loop:  # from after the loop
            k, t = divmod(j - loop.start, loop.period)
            text = f"{g}{self.export(loop, t)}[{k}]"
        else:
            text = g + self.name(j)
        return text if o is None or o == "all" else f"{text}[{o}]"

    # ---- the program ----------------------------------------------------------------------------

    def body(self) -> tuple[list[str], list[Value], list[Any]]:
        """(the function's body, the leaves in the order of its data, its consts)."""
        leaves: list[Value] = []
        layout: list[tuple[int, int, int]] = []
        arrays: list[str] = []
        for layer in self.layers:
            rows = len(layer.rows)
            columns = len(layer.rows[0])
            layout.append((len(leaves), rows, columns))
            leaves.extend(itertools.chain(*layer.rows))
            arrays.append(f"W{layer.index}")
            if layer.biases is not None:
                layout.append((len(leaves), rows, 0))
                leaves.extend(layer.biases)
                arrays.append(f"b{layer.index}")
        for p in self.lone:
            layout.append((len(leaves), 0, 0))
            leaves.append(p)
            arrays.append(self.lone_name[p])
        forward: list[str] = []
        backward: list[str] = []
        segments = self._segments()
        for segment in segments:
            if isinstance(segment, Loop):
                forward += self._loop_forward(segment)
            else:
                forward += self._forward(segment)
        root = len(self.units) - 1
        straight = [u for u in range(len(self.units)) if u not in self.loop_of]
        scalars = [
            f"g{self.name(u)}" for u in straight if u != root and self.units[u].kind != "layer"
        ]
        backward.append("# backward: the chain rule, from the loss back, in backward()'s order;")
        backward.append("# a node whose gradient is 0 passes nothing back, as in backward()")
        for start in range(0, len(scalars), 16):  # every gradient starts at 0
            backward.append(f"{' = '.join(scalars[start : start + 16])} = 0.0")
        for u in straight:
            if self.units[u].kind == "layer" and u != root:
                backward.append(f"g{self.name(u)} = [0.0] * {len(self.units[u].nodes)}")
        for loop, t in sorted(self.exported, key=lambda e: (e[0].start, e[1])):
            unit = self.units[loop.start + t]
            zero = "0.0" if unit.kind != "layer" else f"[0.0] * {len(unit.nodes)}"
            count = self.const_names[self._count_index[loop]]
            if unit.kind == "layer":
                backward.append(
                    f"g{self.export(loop, t)} = [[0.0] * {len(unit.nodes)} for _ in range({count})]"
                )
            else:
                backward.append(f"g{self.export(loop, t)} = [{zero}] * {count}")
        backward.append(f"g{self.name(root)} = 1.0")
        for segment in reversed(segments):
            if isinstance(segment, Loop):
                backward += self._loop_backward(segment)
            else:
                backward += self._backward(segment)
        lines = []
        if self.inputs:
            names = [f"arg{i}" for i in range(len(self.inputs))]
            lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = args")
            lines.append(f"{' = '.join('g' + n for n in names)} = 0.0")
        lines.append(
            f"{', '.join(['layout', *self.const_names])}{'' if self.const_names else ','} = consts"
        )
        if arrays:
            lines.append(
                "# the parameters: W0[j][k] is weight k of neuron j of layer 0, b0[j] its bias"
            )
            lines.append(
                f"{', '.join(arrays)}{',' if len(arrays) == 1 else ''} = unpack(data, layout)"
            )
            lines.append(
                f"{', '.join('g' + a for a in arrays)}{',' if len(arrays) == 1 else ''} = unpack(grads, layout)"
            )
        lines += forward + backward
        arg_grads = "".join(f"garg{i}, " for i in range(len(self.inputs)))
        grads = f"flatten([{', '.join('g' + a for a in arrays)}])"
        lines.append(f"return {self.name(root)}, ({arg_grads}), {grads}, {self._outputs()}")
        return lines, leaves, [tuple(layout), *self.consts]

    def _segments(self) -> list[Any]:
        segments: list[Any] = []
        u = 0
        starts = {loop.start: loop for loop in self.loops}
        self._count_index: dict[Loop, int] = {}
        while u < len(self.units):
            if u in starts:
                loop = starts[u]
                self._count_index[loop] = len(self.consts)
                self.const(loop.iterations, "n")
                segments.append(loop)
                u += loop.period * loop.iterations
            else:
                segments.append(u)
                u += 1
        return segments

    def _outputs(self) -> str:
        reported = self.reported
        if not reported:
            return "()"
        places = [self.where[v] for v in reported]
        first = places[0][0]
        loop = self.loop_of.get(first)
        if loop is not None and len(reported) == loop.iterations:  # one place of every iteration
            t = (first - loop.start) % loop.period
            expected = [
                (loop.start + k * loop.period + t, places[0][1]) for k in range(loop.iterations)
            ]
            if places == expected:
                o = places[0][1]
                pick = "" if o is None else f"[{o}]"
                return f"[e{pick} for e in {self.export(loop, t)}]"
        return "(" + "".join(f"{self.value(('u', u, o), -1)}, " for u, o in places) + ")"

    # ---- one unit, forward and backward -----------------------------------------------------------

    def _operands(self, u: int, loop: Loop | None) -> list[str]:
        """The expressions of unit u's operands (a number that differs by iteration: a
        column of consts, read at [i])."""
        if u in self._operand_memo:
            return self._operand_memo[u]
        unit = self.units[u]
        out: list[str] = []
        self._operand_memo[u] = out
        for q, r in enumerate(unit.refs):
            if r[0] == "c" and loop is not None:
                t = (u - loop.start) % loop.period
                column = [
                    self.units[loop.start + k * loop.period + t].refs[q][1]
                    for k in range(loop.iterations)
                ]
                if len({struct.pack("<d", x) for x in column}) > 1:
                    out.append(f"{self.const(column, 'c')}[i]")
                    continue
            if r[0] == "v":
                if loop is None:
                    out.append(self.const(r[1], "x"))
                else:
                    t = (u - loop.start) % loop.period
                    table = [
                        self.units[loop.start + k * loop.period + t].refs[q][1]
                        for k in range(loop.iterations)
                    ]
                    out.append(f"{self.const(table, 'x')}[i]")
                continue
            out.append(self.value(r, u))  # type: ignore[arg-type]
        return out

    def _forward(self, u: int, loop: Loop | None = None) -> list[str]:
        unit = self.units[u]
        out = self.name(u)
        if unit.kind == "node":
            row: Op = unit.row  # type: ignore[assignment]
            return [f"{out} = {writer(row).forward(row, self.ns, self._operands(u, loop))}"]
        if unit.kind == "sum":
            return self._sum_forward(u, out, loop)
        if unit.kind == "squares":
            return self._squares_forward(out)
        return self._layer_forward(u, out, loop)

    def _sum_forward(self, u: int, out: str, loop: Loop | None) -> list[str]:
        unit = self.units[u]
        terms = self._operands(u, loop)
        whole = self._whole_export(unit.refs[1:], u)
        if whole is not None:
            return [
                f"{out} = {terms[0]}",
                f"for e in {whole}:",
                f"    {out} += e  # left to right, as Value.sum adds",
            ]
        lines = []
        head = terms[0]
        for start in range(1, max(len(terms), 2), 64):
            lines.append(f"{out} = {' + '.join([head, *terms[start : start + 64]])}")
            head = out
        return lines

    def _whole_export(self, refs: list[Ref], at: int) -> str | None:
        """The export list, if refs are one place of every iteration of a loop, in order."""
        if not refs or refs[0][0] != "u" or refs[0][1] not in self.loop_of or self.loop_of.get(at):
            return None
        loop = self.loop_of[refs[0][1]]
        t = (refs[0][1] - loop.start) % loop.period
        expected = [("u", loop.start + k * loop.period + t, None) for k in range(loop.iterations)]
        if list(refs) != expected or self.units[loop.start + t].kind == "layer":
            return None
        return self.export(loop, t)

    def _squares_forward(self, out: str) -> list[str]:
        lines = [
            "# Σ p² over every parameter, layer by layer, as Value.dot adds them",
            f"{out} = 0.0",
        ]
        for layer in self.layers:
            i = layer.index
            if layer.biases is None:
                lines += [f"for w in W{i}:", f"    {out} = weighted_sum({out}, w, w)"]
            else:
                lines += [
                    f"for w, b in zip(W{i}, b{i}):",
                    f"    {out} = weighted_sum({out}, w, w) + b * b",
                ]
        return lines

    def _layer_forward(self, u: int, out: str, loop: Loop | None) -> list[str]:
        unit = self.units[u]
        layer: Layer = unit.layer  # type: ignore[assignment]
        i = layer.index
        x = self._operands(u, loop)[0]
        sigma = layer.sigma
        what = f"W{i} · {x} + b{i}" if layer.biases is not None else f"W{i} · {x}"
        lines = [
            f"# layer {i}: {what if sigma is None else f'{sigma.name}({what})'}, neuron by neuron"
        ]
        if self._written_out(u):
            return lines + self._layer_forward_written_out(u, out, x)
        sums = f"weighted_sum(b, w, {x}) for w, b in zip(W{i}, b{i})"
        if layer.biases is None:
            sums = f"weighted_sum(0.0, w, {x}) for w in W{i}"
        if sigma is None:
            return lines + [f"{out} = [{sums}]"]
        s = f"s{out[1:]}"
        lines.append(f"{s} = [{sums}]")
        y = writer(sigma).forward(sigma, self.ns, ["s"])
        lines.append(f"{out} = [{y} for s in {s}]")
        if sigma is not relu:  # the slope d(out)/d(s) of each neuron, as the fused node keeps it
            slope = self.ns.function(sigma.derivatives[0], f"d_{sigma.name}")
            lines.append(f"d{out[1:]} = [{slope}(s, y) for s, y in zip({s}, {out})]")
        return lines

    def _backward(self, u: int, loop: Loop | None = None) -> list[str]:
        unit = self.units[u]
        name = self.name(u)
        g = f"g{name}"
        if unit.kind == "layer":
            return self._layer_backward(u, name, loop)
        if unit.kind == "squares":
            lines = [
                f"if {g} != 0.0:  # each p is weight and input: it gains p * g twice, as backward() adds"
            ]
            for layer in self.layers:
                i = layer.index
                lines += [
                    f"    for j, w in enumerate(W{i}):",
                    f"        gW{i}[j] = add_scaled(add_scaled(gW{i}[j], w, {g}), w, {g})",
                ]
                if layer.biases is not None:
                    lines.append(
                        f"    gb{i} = [e + b * {g} + b * {g} for e, b in zip(gb{i}, b{i})]"
                    )
            return lines
        if unit.kind == "sum":
            whole = self._whole_export(unit.refs[1:], u)
            if whole is not None:
                return [f"if {g} != 0.0:", f"    g{whole} = [e + {g} for e in g{whole}]"]
            adds = [f"{self.value(r, u, grad=True)} += {g}" for r in unit.refs if r[0] != "c"]
        else:
            row: Op = unit.row  # type: ignore[assignment]
            operands = self._operands(u, loop)
            grads = [self.value(r, u, grad=True) for r in unit.refs]
            adds = writer(row).backward(row, self.ns, operands, name, g, grads, f"d{name[1:]}")
        if not adds:
            return []
        return [f"if {g} != 0.0:", *("    " + a for a in adds)]

    def _layer_backward(self, u: int, name: str, loop: Loop | None) -> list[str]:
        unit = self.units[u]
        layer: Layer = unit.layer  # type: ignore[assignment]
        i = layer.index
        sigma = layer.sigma
        x = self._operands(u, loop)[0]
        gx = self.value(unit.refs[0], u, grad=True) if unit.refs[0][0] == "u" else None
        if self._written_out(u):
            return self._layer_backward_written_out(u, name, x, gx)
        lines = [
            f"# backward through layer {i}, its neurons last to first",
            f"for j in range({len(unit.nodes) - 1}, -1, -1):",
            f"    t = g{name}[j]",
        ]
        if sigma is None:
            lines.append("    if t != 0.0:")
        elif sigma is relu:
            lines.append(f"    if t != 0.0 and {name}[j]:  # relu: 0.0 exactly where it is off")
        else:
            d = f"d{name[1:]}[j]"
            lines += [f"    if t != 0.0 and {d} is not None:", f"        t = t * {d}"]
        lines.append(f"        gW{i}[j] = add_scaled(gW{i}[j], {x}, t)")
        if gx is not None:
            lines.append(f"        {gx} = add_scaled({gx}, W{i}[j], t)")
        if layer.biases is not None:
            lines.append(f"        gb{i}[j] += t")
        return lines

    # ---- a layer of few inputs, its dot products written out -----------------------------------
    # A neuron's sum as `b + w[0] * x[0] + w[1] * x[1] + ...` runs about three times as fast
    # as weighted_sum (each * and + an instruction CPython adapts to floats, not a call
    # through map and reduce); the adds are in the same order, so every float is the same.

    def _written_out(self, u: int) -> bool:
        """Whether layer unit u has few enough inputs to write its sums out."""
        layer: Layer = self.units[u].layer  # type: ignore[assignment]
        return len(layer.rows[0]) <= _WRITTEN_OUT

    def _layer_forward_written_out(self, u: int, out: str, x: str) -> list[str]:
        layer: Layer = self.units[u].layer  # type: ignore[assignment]
        i, sigma = layer.index, layer.sigma
        columns = len(layer.rows[0])
        names = [f"a{k}" for k in range(columns)]  # the inputs, as local names: faster
        products = [f"w[{k}] * {a}" for k, a in enumerate(names)]
        lines = [f"{out} = []", *_targets(names, x)]
        if layer.biases is None:
            lines.append(f"for w in W{i}:")
            lines += _wrapped("    s = ", ["0.0", *products], " + ")  # 0.0 + p: -0.0 is 0.0
        else:
            lines.append(f"for w, b in zip(W{i}, b{i}):")
            lines += _wrapped("    s = ", ["b", *products], " + ")
        if sigma is None:
            return lines + [f"    {out}.append(s)"]
        if sigma is relu:
            return lines + [f"    {out}.append({writer(relu).forward(relu, self.ns, ['s'])})"]
        slope = self.ns.function(sigma.derivatives[0], f"d_{sigma.name}")
        lines.insert(0, f"d{out[1:]} = []  # the slope d(out)/d(s) of each neuron")
        return lines + [
            f"    y = {writer(sigma).forward(sigma, self.ns, ['s'])}",
            f"    {out}.append(y)",
            f"    d{out[1:]}.append({slope}(s, y))",
        ]

    def _layer_backward_written_out(self, u: int, name: str, x: str, gx: str | None) -> list[str]:
        unit = self.units[u]
        layer: Layer = unit.layer  # type: ignore[assignment]
        i, sigma = layer.index, layer.sigma
        columns = len(layer.rows[0])
        names = [f"a{k}" for k in range(columns)]
        lines = [f"# backward through layer {i}, its neurons last to first"]
        lines += _targets(names, x)
        grad_names = [f"ga{k}" for k in range(columns)]  # the inputs' gradients, as names
        if gx is not None:
            lines += _targets(grad_names, gx)
        lines += [f"for j in range({len(unit.nodes) - 1}, -1, -1):", f"    t = g{name}[j]"]
        if sigma is None:
            lines.append("    if t != 0.0:")
        elif sigma is relu:
            lines.append(f"    if t != 0.0 and {name}[j]:  # relu: 0.0 exactly where it is off")
        else:
            d = f"d{name[1:]}[j]"
            lines += [f"    if t != 0.0 and {d} is not None:", f"        t = t * {d}"]
        lines.append(f"        g = gW{i}[j]")
        lines += _wrapped(
            f"        gW{i}[j] = [",
            [f"g[{k}] + {a} * t" for k, a in enumerate(names)],
            ", ",
            "]",
        )
        if gx is not None:
            lines.append(f"        w = W{i}[j]")
            sums = [f"{g} + w[{k}] * t" for k, g in enumerate(grad_names)]
            lines += _targets(grad_names, sums, "        ")
        if layer.biases is not None:
            lines.append(f"        gb{i}[j] += t")
        if gx is not None:
            lines += _wrapped(f"{gx} = [", grad_names, ", ", "]")
        return lines

    # ---- a loop over the samples ------------------------------------------------------------------

    def _locals(self, loop: Loop) -> list[str]:
        names = []
        for t in range(loop.period):
            unit = self.units[loop.start + t]
            name = self.name(loop.start + t)
            names.append(name)
            if unit.kind == "layer" and unit.layer.sigma not in (None, relu):  # type: ignore[union-attr]
                names.append(f"d{name[1:]}")
        return names

    def _loop_forward(self, loop: Loop) -> list[str]:
        count = self.const_names[self._count_index[loop]]
        saved = f"saved{loop.start}"
        lines = ["# forward, sample by sample (i), the same steps for each", f"{saved} = []"]
        exports = sorted(t for (other, t) in self.exported if other is loop)
        for t in exports:
            lines.append(f"{self.export(loop, t)} = []")
        lines.append(f"for i in range({count}):")
        body: list[str] = []
        for t in range(loop.period):
            body += self._forward(loop.start + t, loop)
        local = self._locals(loop)
        body.append(f"{saved}.append(({_tuple(local)}))  # what the backward pass needs")
        for t in exports:
            body.append(f"{self.export(loop, t)}.append({self.name(loop.start + t)})")
        return lines + ["    " + line for line in body]

    def _loop_backward(self, loop: Loop) -> list[str]:
        count = self.const_names[self._count_index[loop]]
        saved = f"saved{loop.start}"
        lines = [
            "# backward, sample by sample, last to first",
            f"for i in range({count} - 1, -1, -1):",
        ]
        exports = {t for (other, t) in self.exported if other is loop}
        # What reaches an iteration comes through its exported numbers; if none of their
        # gradients is other than 0 (NaN is), no node of it passes anything back
        incoming = [
            f"not any(g{self.export(loop, t)}[i])"
            if self.units[loop.start + t].kind == "layer"
            else f"g{self.export(loop, t)}[i] == 0.0"
            for t in sorted(exports)
        ]
        body = []
        if incoming:
            body += [f"if {' and '.join(incoming)}:", "    continue  # nothing reaches this sample"]
        body.append(f"{_tuple(self._locals(loop))} = {saved}[i]")
        for t in range(loop.period):
            unit = self.units[loop.start + t]
            g = f"g{self.name(loop.start + t)}"
            if t in exports:
                body.append(f"{g} = g{self.export(loop, t)}[i]")
            elif unit.kind == "layer":
                body.append(f"{g} = [0.0] * {len(unit.nodes)}")
            else:
                body.append(f"{g} = 0.0")
        for t in reversed(range(loop.period)):
            body += self._backward(loop.start + t, loop)
        return lines + ["    " + line for line in body]


def _tuple(names: list[str]) -> str:
    return names[0] + "," if len(names) == 1 else ", ".join(names)


def _targets(names: list[str], value: str | list[str], indent: str = "") -> list[str]:
    """`names = value` over lines if long; value is an expression, or the items of a tuple."""
    if isinstance(value, str):
        one = f"{indent}{_tuple(names)} = {value}"
        return [one] if len(one) <= 96 else _wrapped(indent + "(", names, ", ", f") = {value}")
    pad = indent + "    "
    return [*_wrapped(indent + "(", names, ", ", ") = ("), *_wrapped(pad, value, ", ", ")")]


def _wrapped(head: str, items: list[str], separator: str, tail: str = "") -> list[str]:
    """head + the items joined by separator (", " or " + ") + tail, on lines of at most
    about 96 characters; a sum goes in brackets, so that it can go on over lines."""
    one = head + separator.join(items) + tail
    if len(one) <= 96:
        return [one]
    plus = separator.strip() == "+"
    if plus:
        head, tail = head + "(", ")" + tail
    indent = " " * len(head)
    lines, line = [], head + items[0]
    for item in items[1:]:
        if len(line) + len(separator) + len(item) > 96:
            lines.append(line if plus else line + ",")
            line = indent + ("+ " if plus else "") + item
        else:
            line += separator + item
    lines.append(line + tail)
    return lines
