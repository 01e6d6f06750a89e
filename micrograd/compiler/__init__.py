"""A tracing compiler: a function of Values, traced once and written out as Python.

    from micrograd.compiler import trace
    f = trace(lambda x, y: (x * y).tanh() + y, 0.5, -1.0)
    print(f.source)                           # the forward pass, then the chain rule
    value, (dx, dy) = f.value_and_grad(0.3, 2.0)

`trace(fn, *args)` calls `fn` once, with a new leaf Value for each argument, and
records the graph it builds. Then it writes a Python function that computes that
graph with plain floats: the forward pass in the order of computation, then
backpropagation from the result back, each node adding local derivative x gradient
into its operands' gradients, exactly as backward() does. The operations are the
Value path's own, in the same order, so every number is the same float, to the last
bit. What is gone is the machinery: no Value per node, no graph to search, nothing to
dispatch on. `print(f.source)` shows what backpropagation of your model computes.

Where the graph repeats (a training loss: the same layers and ops for every sample)
the program is a loop over the samples, in which each layer is a loop over its
neurons, with the model's parameters as W0[j][k] and b0[j] (micrograd.compiler.loops);
any other graph is written a line per node (micrograd.compiler.straight). Each op's
code comes from its row (micrograd.compiler.rows), so an op registered with
micrograd.op compiles like a built-in one.

The numbers can change; the graph cannot:
- the arguments are the inputs: call with new numbers;
- every other leaf of the graph (a model's parameters, say) is read from its `.data`
  at each call, and its `.grad` gains the gradient as backward() adds it;
- plain numbers in the graph are constants of the program (so are the data of Values
  that `fn` itself made from numbers: pass numbers that change as arguments); in a
  loop, the numbers that differ by sample are data the program reads, so tracing a
  batch of the same shape with other numbers gives the same program, compiled once.
Where the graph passes a gradient on or not depending on the numbers, the program
branches: a relu is on or off, and a node whose gradient is 0 passes nothing back,
as in backward(). Anything else that would let `fn` choose its graph by the numbers
is refused while tracing: comparing Values, or making a float of one (reading `.data`
cannot be caught: do not let it decide the graph); so are ops written by hand with a
`_backward` closure, whose rule is code the compiler cannot see into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from numbers import Real
from typing import Any, NamedTuple

from micrograd.compiler.loops import LoopProgram, Unsupported
from micrograd.compiler.straight import StraightProgram, TraceError, program_order
from micrograd.engine import Value, enable_grad, tracing

__all__ = ["trace", "Compiled", "Run", "TraceError"]

# How often trace() runs a new program before returning it (see _compile).
_WARM_UP_CALLS = 10
# The longest program trace() compiles: Python's compiler needs about 3 KB a line (a
# 40,000-op chain, 121,000 lines, took 360 MB), where backward() needs 150 bytes a node.
MAX_LINES = 200_000


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
    name = getattr(fn, "__name__", "f")
    return _compile(out, inputs, outputs, name if isinstance(name, str) else "f")


def _compile(root: Value, inputs: list[Value], outputs: Any, name: str) -> Compiled:
    """The program of root's graph, compiled and warmed up."""
    shape, reported = _flatten(outputs)
    order = program_order(root, reported)
    try:  # loops where the graph repeats...
        loops = LoopProgram(order, root, inputs, reported)
        body, leaves, consts = loops.body()
        ns = loops.ns
        warm_up = 0  # a loop has run its instructions many times by the end of one call
    except Unsupported:  # ...or a line per node
        input_set = set(inputs)
        leaves = [v for v in order if v._rule is None and v not in input_set]
        program = StraightProgram(order, root, inputs)
        swept = [v for v in reversed(order[: order.index(root) + 1]) if v._rule is not None]
        body = program.straight_body(leaves, swept, reported)
        ns, consts, warm_up = program.ns, [], _WARM_UP_CALLS
    if len(body) > MAX_LINES:  # refused before Python's compiler takes the memory
        raise TraceError(
            f"trace(): the graph of {len(order):,} nodes needs {len(body):,} lines of Python, "
            f"more than the compiler compiles ({MAX_LINES:,}: about 3 KB of memory a line); "
            "use backward() on a graph this size"
        )
    # The function's name is made an ASCII identifier, and only that is written: nothing
    # the user wrote ever reaches the source.
    function_name = ns.name_for(name)
    lines = [
        f"def {function_name}(args, data, grads, consts):",
        f'    """{function_name}: the forward pass, then the chain rule (by micrograd.compiler)."""',
        *("    " + line for line in body),
    ]
    source = "\n".join(lines) + "\n"
    function = _function(source, function_name, ns.values)
    # Run a straight-line program a few times on the traced numbers (it changes nothing:
    # the caller writes the gradients). CPython 3.11+ adapts each instruction to its
    # operands once it has run it a few times, and a straight-line program runs each just
    # once a call: without this its first 8 calls ran up to twice as slow (2.3 ms, then
    # 1.0 ms, on the demo). This is part of the time tracing takes.
    numbers = [x.data for x in inputs]
    data, grads = [p.data for p in leaves], [p.grad for p in leaves]
    for _ in range(warm_up):
        function(numbers, data, grads, consts)
    return Compiled(name, source, function, len(inputs), leaves, shape, consts)


# Programs compiled lately, by their source and the objects their names stand for: a
# batch of the same shape writes the same program, which is then not compiled again.
_PROGRAMS: dict[Any, Callable[..., Any]] = {}
_KEPT_PROGRAMS = 8


def _function(source: str, name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """The function `name` that source defines, in namespace (compiled once per program)."""
    key = (source, tuple((k, id(v)) for k, v in namespace.items()))
    function = _PROGRAMS.get(key)
    if function is None:
        exec(compile(source, f"<micrograd.compiler: {name}>", "exec"), namespace)
        function = namespace[name]
        if len(_PROGRAMS) >= _KEPT_PROGRAMS:
            del _PROGRAMS[next(iter(_PROGRAMS))]
        _PROGRAMS[key] = function
    return function


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
        consts: Any = (),
    ) -> None:
        self.name = name
        self.source = source
        self.leaves = tuple(leaves)  # read at each call; their .grad gains the gradient
        self._function = function
        self._n_args = n_args
        self._shape = shape  # how the reported outputs nest (see _nest)
        self._consts = consts  # the numbers the program reads that are not in its source

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
                numbers, [p.data for p in leaves], [p.grad for p in leaves], self._consts
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
