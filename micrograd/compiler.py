"""A tracing compiler: a function of Values, traced once and written out as Python.

    from micrograd.compiler import trace
    f = trace(lambda x, y: (x * y).tanh() + y, 0.5, -1.0)
    print(f.source)                           # the forward pass and the chain rule, a line a node
    value, (dx, dy) = f.value_and_grad(0.3, 2.0)

`trace(fn, *args)` calls `fn` once, with a new leaf Value for each argument, and
records the graph it builds. Then it writes a Python function that computes that
graph with plain floats: the forward pass, a line per node in the order of
computation; then backpropagation, a line (or a few) per node from the result back,
each adding local derivative x gradient into its parents' gradients, exactly as
backward() does. The operations are the Value path's own, in the same order, so
every number is the same float, to the last bit. What is gone is the machinery: no
Value per node, no graph to search, nothing to dispatch on. `print(f.source)` shows
what backpropagation of your model really computes.

The numbers can change; the graph cannot:
- the arguments are the inputs: call with new numbers;
- every other leaf of the graph (a model's parameters, say) is read from its `.data`
  at each call, and its `.grad` gains the gradient as backward() adds it;
- plain numbers in the graph are constants of the program (so are the data of Values
  that `fn` itself made from numbers: pass numbers that change as arguments).
Where the graph passes a gradient on or not depending on the numbers, the program
branches: a relu is on or off, and a node whose gradient is 0 passes nothing back,
as in backward(). Anything else that would let `fn` choose its graph by the numbers
is refused while tracing: comparing Values, or making a float of one (reading `.data`
cannot be caught: do not let it decide the graph); so are ops written by hand with a
`_backward` closure, whose rule is code the compiler cannot see into.
"""

from __future__ import annotations

import keyword
import math
import re
import struct
from collections.abc import Callable, Iterator, Sequence
from numbers import Real
from typing import Any, NamedTuple

from micrograd.engine import (
    ACTIVATIONS,
    ADD,
    BY_HAND,
    FUSED,
    MUL,
    SUM,
    Op,
    Value,
    enable_grad,
    fused_parts,
    op_row,
    relu,
    sub,
    sum_terms,
    topological_order,
    tracing,
)

__all__ = ["trace", "Compiled", "Run", "TraceError"]

# Terms per line of a long sum: Python's compiler recurses once per `+` of an expression.
_TERMS_PER_LINE = 64
# How often trace() runs a new program before returning it (see _Program.compile).
_WARM_UP_CALLS = 10


class TraceError(TypeError):
    """A function the compiler cannot trace, with what to change."""


def trace(fn: Callable[..., Value | tuple[Value, Any]], *args: float) -> Compiled:
    """`fn`, traced once at `args` and compiled to Python: see the module docstring.

    `fn` takes one Value per argument (none is fine: a training loss that closes over
    a model and its data) and returns a Value, or a pair (value, outputs) where
    outputs are Values computed on the way (a list of them, or lists of lists: a
    model's scores, say) whose numbers each call gives too (`run(...).outputs`).
    The result is a Compiled function: call it with new numbers for the arguments.
    """
    if not callable(fn):
        raise TypeError(f"trace() needs a function, got {type(fn).__name__} {fn!r}")
    inputs = [Value(_as_number(x, i)) for i, x in enumerate(args)]
    reason = (
        "a compiled program computes one graph, so the function must not choose its "
        "graph by the numbers (micrograd.compiler follows relu's on and off, nothing else)"
    )
    with enable_grad(), tracing(reason):
        out = fn(*inputs)
    outputs: Any = None
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], Value):
        out, outputs = out
    if not isinstance(out, Value):
        raise TypeError(
            "trace(): the function must return a Value (or a pair: a Value and the Values "
            f"to report), got {type(out).__name__}"
        )
    return _Program(out, inputs, outputs).compile(getattr(fn, "__name__", "f"))


def _as_number(x: object, i: int) -> float:
    if isinstance(x, (Value, bool)) or not isinstance(x, Real):
        raise TypeError(
            f"trace() argument {i} must be a number (the Values are made from it), "
            f"got {type(x).__name__} {x!r}"
        )
    return float(x)


class Run(NamedTuple):
    """What one call of a compiled function computed."""

    value: float
    grads: tuple[float, ...]  # d(value)/d(each argument)
    outputs: Any  # the numbers of the Values the function reported, nested as they were


class Compiled:
    """A traced function, compiled: call it with numbers, read `.source` to see it.

    `f(*args)` returns the value; `f.value_and_grad(*args)` returns it with the
    gradients with respect to the arguments, and `f.run(*args)` with the reported
    outputs too. Each call adds d(value)/d(leaf) to every other leaf's `.grad`, as
    `value.backward()` would.
    """

    def __init__(
        self,
        name: str,
        source: str,
        function: Callable[..., Any],
        n_args: int,
        leaves: list[Value],
        shape: Any,
    ) -> None:
        self.name = name
        self.source = source
        self.leaves = tuple(leaves)  # read at each call; their .grad gains the gradient
        self._function = function
        self._n_args = n_args
        self._shape = shape  # how the reported outputs nest (see _nest)

    def __call__(self, *args: float) -> float:
        return self.run(*args).value

    def value_and_grad(self, *args: float) -> tuple[float, tuple[float, ...]]:
        """(the value, its gradient with respect to each argument), for new arguments."""
        result = self.run(*args)
        return result.value, result.grads

    def run(self, *args: float) -> Run:
        """The value, its gradients with respect to the arguments, and the outputs."""
        if len(args) != self._n_args:
            raise TypeError(
                f"{self.name} (compiled) takes {self._n_args} argument(s), got {len(args)}"
            )
        numbers = [_as_number(x, i) for i, x in enumerate(args)]
        leaves = self.leaves
        try:
            value, arg_grads, leaf_grads, outputs = self._function(
                numbers, [p.data for p in leaves], [p.grad for p in leaves]
            )
        except (ValueError, ZeroDivisionError, OverflowError) as error:
            raise type(error)(
                f"{self.name} (compiled): an op is undefined for these numbers "
                f"({error or type(error).__name__}); call the function on Values to see which"
            ) from None
        for p, g in zip(leaves, leaf_grads):
            p.grad = g
        return Run(value, arg_grads, _nest(self._shape, iter(outputs)))

    def __repr__(self) -> str:
        lines = self.source.count("\n")
        return (
            f"<compiled {self.name}: {self._n_args} argument(s), {len(self.leaves)} other "
            f"leaves, {lines} lines of Python; print(.source) to read it>"
        )


class _Program:
    """The Python source of one traced graph, written node by node."""

    def __init__(self, root: Value, inputs: list[Value], outputs: Any) -> None:
        self.root = root
        self.inputs = inputs
        self.outputs = outputs
        self.order = topological_order(root)  # every node after its parents
        self.names = {v: f"v{i}" for i, v in enumerate(self.order)}
        for x in inputs:  # an argument the function does not use: its gradient stays 0.0
            self.names.setdefault(x, f"v{len(self.names)}")
        # the globals of the program: op rules, and constants a literal cannot write
        self.namespace: dict[str, Any] = {"inf": math.inf}
        self.functions: dict[Any, str] = {}  # a row's forward or derivative -> its name here
        self.nans: dict[bytes, str] = {}  # a NaN's bits -> its name here
        self.forward: list[str] = []
        self.backward: list[str] = []

    # ---- how the program writes numbers, nodes and functions ------------------------

    def operand(self, x: Value | float) -> str:
        """A node's name, or a plain number as a literal (the same float: repr round-trips)."""
        if isinstance(x, Value):
            return self.names[x]
        if math.isnan(x):  # a name, not `nan`: NaNs differ in sign and payload bits
            key = struct.pack("<d", x)
            if key not in self.nans:
                self.nans[key] = self.global_name("nan")
                self.namespace[self.nans[key]] = x
            return self.nans[key]
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(float(x))

    def grad(self, v: Value) -> str:
        return "g" + self.names[v][1:]

    def function(self, f: Callable[..., Any], name: str) -> str:
        """A name for `f` in the program's namespace (each row's rule once), from `name`."""
        if f not in self.functions:
            self.functions[f] = self.global_name(name)
            self.namespace[self.functions[f]] = f
        return self.functions[f]

    def global_name(self, name: str) -> str:
        """`name` as an identifier no other global and no variable of the program has."""
        label = _identifier(name)
        # two ops of one name, or an op named like a variable (an op `v1` would be
        # shadowed by the node v1): a trailing _ tells them apart
        while label in self.namespace or _VARIABLE.fullmatch(label):
            label += "_"
        return label

    # ---- the program -------------------------------------------------------------------

    def compile(self, name: str) -> Compiled:
        leaves = [v for v in self.order if v.is_leaf() and v not in self.inputs]
        for v in self.order:
            if not v.is_leaf():
                self.write_node(v)
        interior = [v for v in self.order if not v.is_leaf()]
        sweep = list(reversed(interior))  # backward()'s order: reversed(topological_order)
        for v in sweep:
            self.write_step(v)
        # named last, once every global is: a function `tanh` must not replace the op's rule
        function_name = self.global_name(name)
        lines = [
            f"def {function_name}(args, data, grads):",
            f'    """{name}: the forward pass, then the chain rule (by micrograd.compiler)."""',
        ]
        if self.inputs:
            lines.append(f"    {_unpack([self.names[x] for x in self.inputs])} = args")
            lines.append(
                f"    {_unpack([self.grad(x) for x in self.inputs])} = {_zeros(len(self.inputs))}"
            )
        if leaves:
            lines.append(f"    {_unpack([self.names[p] for p in leaves])} = data")
            lines.append(f"    {_unpack([self.grad(p) for p in leaves])} = grads")
        lines.append("    # forward: each node from its operands, in the order of computation")
        lines += ["    " + line for line in self.forward]
        lines.append("    # backward: each node passes local derivative x its gradient back")
        if sweep:
            for start in range(0, len(sweep), 32):  # every interior gradient starts at 0
                names = " = ".join(self.grad(v) for v in sweep[start : start + 32])
                lines.append(f"    {names} = 0.0")
            lines.append(f"    {self.grad(self.root)} = 1.0")
            lines += ["    " + line for line in self.backward]
        else:  # the root is a leaf: d(root)/d(root) = 1
            lines.append(f"    {self.grad(self.root)} += 1.0")
        arg_grads = "".join(f"{self.grad(x)}, " for x in self.inputs)
        leaf_grads = "".join(f"{self.grad(p)}, " for p in leaves)
        shape, reported = _flatten(self.outputs)
        for v in reported:
            if v not in self.names:
                raise TraceError(
                    "trace(): a reported output is not computed on the way to the value; "
                    "report only Values that the value depends on"
                )
        outputs = "".join(f"{self.names[v]}, " for v in reported)
        root = self.names[self.root]
        lines.append(f"    return {root}, ({arg_grads}), ({leaf_grads}), ({outputs})")
        source = "\n".join(lines) + "\n"
        code = compile(source, f"<micrograd.compiler: {name}>", "exec")
        exec(code, self.namespace)  # defines the function in the namespace
        function = self.namespace[function_name]
        # Run it a few times on the traced numbers (it changes nothing: the caller writes
        # the gradients). CPython 3.11+ adapts each instruction to its operands once it
        # has run it a few times, and a straight-line program runs each just once a call:
        # without this its first 8 calls ran up to twice as slow (2.3 ms, then 1.0 ms, on
        # the demo). This is part of the time tracing takes.
        numbers = [x.data for x in self.inputs]
        data, grads = [p.data for p in leaves], [p.grad for p in leaves]
        for _ in range(_WARM_UP_CALLS):
            function(numbers, data, grads)
        return Compiled(name, source, function, len(self.inputs), leaves, shape)

    def write_node(self, v: Value) -> None:
        """The forward line(s) of node v."""
        row = op_row(v)
        assert row is not None
        out = self.names[v]
        if row.kind == BY_HAND:
            raise TraceError(
                f"cannot compile the op {row.name!r}: it was written by hand with a _backward "
                "closure; register it with micrograd.op(...) to compile it"
            )
        if row.kind == ADD:
            a, b = v.operands
            self.forward.append(f"{out} = {self.operand(a)} + {self.operand(b)}")
        elif row.kind == MUL:
            a, b = v.operands
            self.forward.append(f"{out} = {self.operand(a)} * {self.operand(b)}")
        elif row.kind == SUM:  # start + t1 + t2 + ..., left to right as Value.sum adds
            self.write_sum(out, [self.operand(t) for t in sum_terms(v)])
        elif row.kind == FUSED:
            self.write_fused(v, out)
        else:
            self.forward.append(f"{out} = {self.elementary(row, v)}")

    def elementary(self, row: Op, v: Value) -> str:
        """The expression of an op of one or two operands: its forward rule on floats."""
        operands = [self.operand(x) for x in v.operands]
        if row is sub:
            return f"{operands[0]} - {operands[1]}"
        if row is relu:
            return f"0.0 if {operands[0]} <= 0.0 else {operands[0]}"
        # the row's own forward function, so the same float (inlining it would risk that)
        rule = _forward_rule(row)
        forward = self.function(rule, rule.__name__)
        return f"{forward}({', '.join(operands)})"

    def write_sum(self, out: str, terms: list[str]) -> None:
        """out = terms[0] + terms[1] + ..., left to right, a line per _TERMS_PER_LINE terms."""
        head, rest = terms[0], terms[1:]
        for start in range(0, max(len(rest), 1), _TERMS_PER_LINE):
            chunk = rest[start : start + _TERMS_PER_LINE]
            self.forward.append(f"{out} = {' + '.join([head, *chunk])}")
            head = out

    def write_fused(self, v: Value, out: str) -> None:
        """s = b + w0*x0 + w1*x1 + ... (as the fused node adds), then out = σ(s)."""
        parts = fused_parts(v)
        assert parts is not None
        start = "0.0" if parts.bias is None else self.operand(parts.bias)
        weighted = [
            f"{self.operand(w)} * {self.operand(x)}" for w, x in zip(parts.weights, parts.inputs)
        ]
        if parts.activation in (None, "relu"):  # the sum is the node's own number...
            self.write_sum(out, [start, *weighted])
            if parts.activation == "relu":  # ...which relu then sets to 0 where s <= 0
                self.forward.append(f"if {out} <= 0.0: {out} = 0.0")
            return
        # σ's row: its forward, then its slope d(out)/d(s), as the fused node keeps it; both
        # come from s at once, so one name serves every neuron's sum
        self.write_sum("s", [start, *weighted])
        sigma = ACTIVATIONS[parts.activation]
        rule = _forward_rule(sigma)
        name = rule.__name__
        forward = self.function(rule, name)
        slope = self.function(sigma.derivatives[0], f"d_{name}")
        self.forward.append(f"{out} = {forward}(s)")
        self.forward.append(f"d{out[1:]} = {slope}(s, {out})")

    # ---- the backward steps --------------------------------------------------------------

    def write_step(self, v: Value) -> None:
        """The chain rule at v: what it adds to each parent's gradient (backward()'s order)."""
        row = op_row(v)
        assert row is not None
        g = self.grad(v)
        adds: list[str] = []
        condition = f"{g} != 0.0"  # a node whose gradient is 0 passes nothing back
        if row.kind == ADD:  # d(a+b)/da = 1, d(a+b)/db = 1
            adds = [f"{self.grad(x)} += {g}" for x in v.operands if isinstance(x, Value)]
        elif row.kind == MUL:  # d(a*b)/da = b, d(a*b)/db = a
            a, b = v.operands
            adds = [
                f"{self.grad(x)} += {self.operand(other)} * {g}"
                for x, other in ((a, b), (b, a))
                if isinstance(x, Value)
            ]
        elif row.kind == SUM:  # d(sum)/d(v_i) = 1
            adds = [f"{self.grad(p)} += {g}" for p in v.parents]
        elif row.kind == FUSED:
            condition, adds = self.fused_step(v, g)
        else:
            adds = self.elementary_step(row, v, g)
        if adds:
            self.backward.append(f"if {condition}:")
            self.backward += ["    " + add for add in adds]

    def fused_step(self, v: Value, g: str) -> tuple[str, list[str]]:
        """The chain rule at a fused neuron: the slope first, then d(s)/d(each parent)."""
        parts = fused_parts(v)
        assert parts is not None
        n = self.names[v][1:]
        condition, t = f"{g} != 0.0", g
        adds = []
        if parts.activation == "relu":  # d/ds relu(s) = 1 if s > 0; off passes nothing back
            condition += f" and {self.names[v]}"  # relu(s) is 0.0 exactly when it is off
        elif parts.activation is not None:  # times the slope, kept by the forward pass
            condition += f" and d{n} is not None"
            t = f"t{n}"
            adds.append(f"{t} = {g} * d{n}")
        # d(s)/dw_i = x_i for every weight, then d(s)/dx_i = w_i for each input that is a
        # Value, in backward()'s order. An input from a relu that is off is 0.0: it adds
        # 0 * t to its weight's gradient, which changes no gradient when t is finite
        # (but a -0.0 to 0.0, and zero_grad() and sums from its 0.0 never make one), and
        # its own gradient is never used (it passes nothing back). The program skips
        # both, in one test per input, where backward() does not: a third of the compiled
        # demo step. Not when t is inf or NaN: then 0 * t is NaN, so the test is
        # `if x or n`, where n = t - t is 0.0 (false) for a finite t and NaN (true) for
        # inf or NaN, worked out once per neuron (+4.7% instructions on the compiled
        # demo step; t - t in each test cost +7%). (A relu neuron is no weight, so taking
        # its two terms together keeps the order in which every gradient adds up.)
        later = []
        nonfinite = f"n{n}"
        if any(isinstance(x, Value) and _relu_neuron(x) for x in parts.inputs):
            adds.append(f"{nonfinite} = {t} - {t}")
        for w, x in zip(parts.weights, parts.inputs):
            to_weight = f"{self.grad(w)} += {self.operand(x)} * {t}"
            if isinstance(x, Value) and _relu_neuron(x):
                adds.append(f"if {self.names[x]} or {nonfinite}:")
                adds += [f"    {to_weight}", f"    {self.grad(x)} += {self.operand(w)} * {t}"]
            else:
                adds.append(to_weight)
                if isinstance(x, Value):
                    later.append(f"{self.grad(x)} += {self.operand(w)} * {t}")
        adds += later
        if parts.bias is not None:  # d(s)/dbias = 1
            adds.append(f"{self.grad(parts.bias)} += {t}")
        return condition, adds

    def elementary_step(self, row: Op, v: Value, g: str) -> list[str]:
        """The chain rule at an op of one or two operands, from its derivative rules."""
        operands = v.operands
        args = ", ".join([*(self.operand(x) for x in operands), self.names[v]])
        adds = []
        for i, x in enumerate(operands):
            if not isinstance(x, Value):
                continue
            if row is relu:  # d/dx relu(x) = 1 if x > 0; off passes nothing back
                adds.append(f"if not {self.operand(x)} <= 0.0:")
                adds.append(f"    {self.grad(x)} += 1.0 * {g}")
                continue
            which = "" if row.arity == 1 else f"_{'ab'[i]}"  # d_div_a, d_div_b
            name = f"d_{_forward_rule(row).__name__}{which}"
            derivative = self.function(row.derivatives[i], name)
            d = f"d{self.names[v][1:]}_{i}"
            adds.append(f"{d} = {derivative}({args})")
            adds.append(f"if {d} is not None:")
            adds.append(f"    {self.grad(x)} += {d} * {g}")
        return adds


def _forward_rule(row: Op) -> Callable[..., float]:
    """The forward rule of an elementary or activation row (only sum, dot and ops written
    by hand have none, and the program writes those itself or refuses them)."""
    assert row.forward is not None, f"the op {row.name!r} has no forward rule"
    return row.forward


def _relu_neuron(v: Value) -> bool:
    """Whether v is a fused neuron with a relu, whose output is 0.0 exactly when it is off."""
    parts = fused_parts(v)
    return parts is not None and parts.activation == "relu"


def _flatten(outputs: Any) -> tuple[Any, list[Value]]:
    """(the nesting of outputs, their Values in order): a Value's place is None, a list's
    the list of its items' places; no outputs at all is the empty tuple."""
    if outputs is None:
        return (), []
    found: list[Value] = []

    def shape_of(x: Any) -> Any:
        if isinstance(x, Value):
            found.append(x)
            return None
        if isinstance(x, (list, tuple)):
            return [shape_of(item) for item in x]
        raise TypeError(f"trace(): reported outputs must be Values (or lists of them), got {x!r}")

    return shape_of(outputs), found


def _nest(shape: Any, numbers: Iterator[float]) -> Any:
    """The numbers, nested as `shape` says (see _flatten)."""
    if shape == ():
        return None
    if shape is None:
        return next(numbers)
    return [_nest(item, numbers) for item in shape]


# The program's own variables: nodes v3, gradients g3, slopes d3 and derivatives d3_0,
# products t3, a neuron's sum s, and its arguments.
_VARIABLE = re.compile(r"[vgdtn][0-9]+(_[0-9]+)?|s|args|data|grads")


def _identifier(name: str) -> str:
    """`name` as a Python identifier ("_lambda_" for "<lambda>", "class_" for "class")."""
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not cleaned.isidentifier():  # empty, or starts with a digit
        cleaned = "f_" + cleaned
    return cleaned + "_" if keyword.iskeyword(cleaned) else cleaned


def _unpack(names: Sequence[str]) -> str:
    return names[0] + "," if len(names) == 1 else ", ".join(names)


def _zeros(n: int) -> str:
    return "0.0," if n == 1 else ", ".join(["0.0"] * n)
