"""Helpers shared by the test files: reference gradients and comparisons.

Test modules import them directly (`from helpers import numerical_grad`); pytest
puts this folder on sys.path because the tests are not a package. Fixtures live
in conftest.py.

- `numerical_grad(f, xs)`: the gradient of a plain-float function by central
  differences, the reference every analytic gradient is checked against.
- `assert_close(actual, expected)`: a relative + absolute comparison with a
  message that shows both numbers; FD_REL / FD_ABS are the tolerances that suit
  central differences (error ~ eps**2 from truncation, ~ 1e-16/eps from rounding).
- `call`, `chain_sum`: the float references for unary ops and fused sums.
- `bits(x)`: a float's exact bits, for comparing results to the last bit.
- `random_graph(seed)`: a random graph that uses every op, the same for the same seed.
- `moons(n, seed)`: two-moons points with labels -1/+1, as the demo trains on.
- `recorded_training(every, steps)`: a training run recorded for the players' tests.
- `ROOT`: the checkout's root folder, for the project-level checks in tests/project/.
"""

from __future__ import annotations

import contextlib
import functools
import math
import operator
import random
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from micrograd.engine import Value, logaddexp

ROOT = Path(__file__).resolve().parent.parent

# The seed of the `rng` fixture (conftest.py).
SEED = 20240607

# Central differences with eps = 1e-6 are good to about 1e-9 for smooth functions
# of moderate size; 1e-6 leaves room for curvature without hiding a wrong formula.
FD_EPS = 1e-6
FD_REL = 1e-6
FD_ABS = 1e-6


def numerical_grad(
    f: Callable[[list[float]], float], xs: Sequence[float], eps: float = FD_EPS
) -> list[float]:
    """d f / d xs[i] for each i, by central differences (f(x+h) - f(x-h)) / 2h.

    f takes a list of floats and returns a float. The step h is eps scaled by
    max(1, |x_i|), so large arguments are perturbed relative to their size.
    """
    grads = []
    for i, x in enumerate(xs):
        h = eps * max(1.0, abs(x))
        up = list(xs)
        down = list(xs)
        up[i] = x + h
        down[i] = x - h
        grads.append((f(up) - f(down)) / ((x + h) - (x - h)))
    return grads


def is_close(actual: float, expected: float, rel: float = FD_REL, abs_: float = FD_ABS) -> bool:
    """|actual - expected| <= max(rel * max(|actual|, |expected|), abs_); infinities must match."""
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)


def assert_close(
    actual: float, expected: float, rel: float = FD_REL, abs_: float = FD_ABS, what: str = ""
) -> None:
    """Assert is_close(actual, expected), saying which quantity differed and by how much."""
    assert is_close(actual, expected, rel, abs_), (
        f"{what or 'value'}: got {actual!r}, expected {expected!r} "
        f"(difference {actual - expected!r}; rel {rel}, abs {abs_})"
    )


def assert_all_close(
    actual: Sequence[float],
    expected: Sequence[float],
    rel: float = FD_REL,
    abs_: float = FD_ABS,
    what: str = "grad",
) -> None:
    """assert_close element by element, naming the index that differed."""
    assert len(actual) == len(expected), f"{what}: {len(actual)} values, expected {len(expected)}"
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert_close(a, e, rel, abs_, what=f"{what}[{i}]")


# The unary ops of the engine as plain float functions, the reference for Values.
FLOAT_FUNCS = {
    "relu": lambda x: x if x > 0.0 else 0.0,
    "tanh": math.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x)),
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
}


def call(name: str, x):
    """x.name() for a Value, the same function from math for a float."""
    return getattr(x, name)() if isinstance(x, Value) else FLOAT_FUNCS[name](x)


def chain_sum(values, start=0.0):
    """start + v0 + v1 + ..., added left to right, as a chain of Value additions is.

    The reference for fused sums: the built-in sum() of floats compensates its
    rounding from Python 3.12 on, so it is not the same float on every Python.
    """
    return functools.reduce(operator.add, values, start)


def ops_exercised(cases) -> set[str]:
    """The names of the ops that a list of (name, f, points, ...) test cases applies.

    Each f is run on Values at its first point and every node of the result is read,
    so that a test can check its cases cover every row of the op table.
    """
    from micrograd.engine import topological_order

    seen: set[str] = set()
    for case in cases:
        f, points = case[1], case[2]
        point = points[0] if isinstance(points[0], tuple) else (points[0],)
        out = f(*(Value(x) for x in point))
        seen.update(v.op for v in topological_order(out) if v.op)
    return seen


def random_graph(seed: int) -> tuple[Value, list[Value]]:
    """A random graph using every op, with shared nodes and leaves holding old gradients.

    The same seed builds the same graph, so two builds can be compared node by node.
    """
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(-2, 2), label=f"x{i}") for i in range(rng.randint(1, 4))]
    for leaf in leaves:
        leaf.grad = rng.choice([0.0, rng.uniform(-1, 1)])  # left over from earlier sweeps
    nodes = list(leaves)
    ops = [
        lambda a, b, c: a + b,
        lambda a, b, c: a - b,
        lambda a, b, c: a * b,
        lambda a, b, c: a / b,
        lambda a, b, c: a**b,
        lambda a, b, c: a + c,
        lambda a, b, c: c - a,
        lambda a, b, c: a * c,
        lambda a, b, c: c / a,
        lambda a, b, c: a ** rng.choice([2, 3, 0.5, -1]),
        lambda a, b, c: abs(c) ** a,
        lambda a, b, c: -a,
        lambda a, b, c: abs(a),
        lambda a, b, c: a.relu(),
        lambda a, b, c: a.tanh(),
        lambda a, b, c: a.sigmoid(),
        lambda a, b, c: a.exp(),
        lambda a, b, c: a.log(),
        lambda a, b, c: a.sqrt(),
        lambda a, b, c: Value.sum([a, b, a], c),
        lambda a, b, c: Value.dot([a, b], [b, c], a),
        lambda a, b, c: Value.dot([a, b], [b, c], a, rng.choice(["relu", "tanh", "sigmoid"])),
    ]
    for _ in range(rng.randint(1, 30)):
        a, b, c = rng.choice(nodes), rng.choice(nodes), rng.uniform(-2, 2)
        with contextlib.suppress(ValueError, ZeroDivisionError, OverflowError):
            nodes.append(rng.choice(ops)(a, b, c))  # outside the op's domain: no node
    # The root depends on most nodes, through one binary op so that its parents are slots.
    root = Value.sum(rng.sample(nodes, k=min(len(nodes), 5))) * nodes[-1]
    return root, [*nodes, root]


def bits(x: float) -> bytes:
    """x's exact bits, so that NaNs compare equal to themselves."""
    return struct.pack("<d", x)


def moons(n: int = 100, seed: int | random.Random = 1337) -> tuple[list, list[int]]:
    """n two-moons points (noise 0.1, as micrograd's demo) and their labels as -1/+1,
    the labels hinge loss takes; seed 1337 draws micrograd's own points."""
    from micrograd.data import make_moons

    X, y = make_moons(n, noise=0.1, seed=seed)
    return X, [2 * t - 1 for t in y]


def recorded_training(every: int, steps: int):
    """A TrainingRecorder of a small hinge-loss fit on 40 two-moons points, recording
    every `every` steps of `steps` (skips the test without matplotlib)."""
    import pytest

    pytest.importorskip("matplotlib")
    from micrograd.animate import TrainingRecorder
    from micrograd.nn import MLP
    from micrograd.train import fit

    X, y = moons(40, seed=0)
    model = MLP(2, [8, 1], rng=random.Random(0))
    recorder = TrainingRecorder(model, X, y, every=every, resolution=12)
    fit(model, X, y, loss="hinge", steps=steps, progress=False, callbacks=[recorder])
    return recorder


# ---- gradients by backward(), checked against finite differences -------------------------


def grads_of(f, xs: list[float]) -> tuple[float, list[float]]:
    """f's value and gradient at xs by backward(), with f applied to fresh Value leaves."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    return out.data, [v.grad for v in leaves]


def check_against_fd(f, xs: list[float]) -> None:
    """f (which works on floats and on Values alike) has the value and gradient it should."""
    data, grads = grads_of(f, xs)
    assert_close(data, f(*xs), rel=1e-15, abs_=1e-300, what="forward value")
    assert_all_close(grads, numerical_grad(lambda v: f(*v), xs))


# ---- the op-case table: every op of one or two operands, once, for every suite -------------------
# test_ops checks each case against finite differences, test_gradients its second derivative,
# test_torch_parity against PyTorch; each asks `ops_exercised` that the cases cover the table.

POINTS = [-3.7, -1.2, -0.3, 0.25, 0.9, 2.5, 4.0]
POSITIVE = [0.01, 0.25, 0.9, 2.5, 17.0]
PAIRS = [(a, b) for a in (-2.5, -0.7, 0.4, 1.9) for b in (-3.1, -0.6, 0.8, 2.2)]
POSITIVE_BASE_PAIRS = [(a, b) for a in (0.3, 1.0, 1.7, 3.2) for b in (-2.1, -0.5, 0.0, 0.7, 2.4)]


class OpCase(NamedTuple):
    """One case: `f` applies an op, on floats and on Values alike, at each of `points`
    (tuples of inputs). `torch` is PyTorch's function given the torch module, or None
    when `f` itself works on tensors (operator syntax)."""

    name: str
    f: Callable[..., Any]
    points: list[tuple[float, ...]]
    torch: Callable[[Any], Callable[..., Any]] | None = None


def _one(points: list[float]) -> list[tuple[float, ...]]:
    return [(x,) for x in points]


OP_CASES = [
    OpCase("neg", lambda x: -x, _one(POINTS)),
    OpCase("abs", lambda x: abs(x), _one(POINTS)),
    OpCase("relu", lambda x: call("relu", x), _one(POINTS), lambda torch: torch.relu),
    OpCase("tanh", lambda x: call("tanh", x), _one(POINTS), lambda torch: torch.tanh),
    OpCase("sigmoid", lambda x: call("sigmoid", x), _one(POINTS), lambda torch: torch.sigmoid),
    OpCase("exp", lambda x: call("exp", x), _one(POINTS), lambda torch: torch.exp),
    OpCase("log", lambda x: call("log", x), _one(POSITIVE), lambda torch: torch.log),
    OpCase("sqrt", lambda x: call("sqrt", x), _one(POSITIVE), lambda torch: torch.sqrt),
    OpCase("x + 3", lambda x: x + 3, _one(POINTS)),
    OpCase("3 + x", lambda x: 3 + x, _one(POINTS)),
    OpCase("x - 2.5", lambda x: x - 2.5, _one(POINTS)),
    OpCase("2.5 - x", lambda x: 2.5 - x, _one(POINTS)),
    OpCase("x * -1.5", lambda x: x * -1.5, _one(POINTS)),
    OpCase("-1.5 * x", lambda x: -1.5 * x, _one(POINTS)),
    OpCase("x / 0.7", lambda x: x / 0.7, _one(POINTS)),
    OpCase("0.7 / x", lambda x: 0.7 / x, _one(POINTS)),
    OpCase("x ** 2", lambda x: x**2, _one(POINTS)),
    OpCase("x ** 3", lambda x: x**3, _one(POINTS)),
    OpCase("x ** -2", lambda x: x**-2, _one(POINTS)),
    OpCase("x ** 0", lambda x: x**0, _one(POINTS)),
    OpCase("x ** 0.5", lambda x: x**0.5, _one(POSITIVE)),
    OpCase("x ** -1.5", lambda x: x**-1.5, _one(POSITIVE)),
    OpCase("2 ** x", lambda x: 2.0**x, _one(POINTS)),
    OpCase("0.3 ** x", lambda x: 0.3**x, _one(POINTS)),
    OpCase("3 ** x (an int base)", lambda x: 3**x, _one(POINTS)),
    OpCase("x * x", lambda x: x * x, _one(POINTS)),
    OpCase("a + b", lambda a, b: a + b, PAIRS),
    OpCase("a - b", lambda a, b: a - b, PAIRS),
    OpCase("a * b", lambda a, b: a * b, PAIRS),
    OpCase("a / b", lambda a, b: a / b, PAIRS),
    OpCase("a ** b", lambda a, b: a**b, POSITIVE_BASE_PAIRS),
    OpCase("a * a + b", lambda a, b: a * a + b, PAIRS),
    OpCase("logaddexp(a, b)", lambda a, b: logaddexp(a, b), PAIRS, lambda torch: torch.logaddexp),
    OpCase(
        "logaddexp(0, x)",
        lambda x: logaddexp(0.0, x),
        _one(POINTS),
        lambda torch: lambda x: torch.logaddexp(torch.zeros((), dtype=torch.float64), x),
    ),
    OpCase(
        "logaddexp(a, a + 1000)",
        lambda a, b: logaddexp(a, a + 1000.0),
        PAIRS,
        lambda torch: lambda a, b: torch.logaddexp(a, a + 1000.0),
    ),
]


def op_case_params(cases: Sequence[OpCase], every: int = 1) -> list[Any]:
    """pytest params (f, point) for each case at every `every`-th of its points."""
    import pytest

    return [
        pytest.param(case.f, point, id=f"{case.name}@{','.join(map(str, point))}")
        for case in cases
        for point in case.points[::every]
    ]
