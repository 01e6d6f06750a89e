"""Parity with PyTorch in float64: every op's value and gradient, and a small MLP.

Skipped when torch is not installed (`pip install -e ".[torch]"` to run it).
"""

from __future__ import annotations

import math
import random

import pytest

torch = pytest.importorskip("torch")

from helpers import (  # noqa: E402
    OP_CASES,
    POSITIVE,
    OpCase,
    assert_all_close,
    assert_close,
    ops_exercised,
)

from micrograd import engine  # noqa: E402
from micrograd.engine import Value  # noqa: E402
from micrograd.nn import MLP  # noqa: E402

REL = 1e-12  # float64 on both sides: only the last bits may differ
ABS = 1e-300  # lets exact zeros (e.g. relu's slope) compare equal


def t(x: float):
    """A float64 leaf tensor that records gradients."""
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def check_parity(f_ours, f_torch, xs):
    """f_ours on Values and f_torch on tensors give the same value and gradient at xs."""
    ours = [Value(x) for x in xs]
    out = f_ours(*ours)
    out.backward()
    theirs = [t(x) for x in xs]
    ref = f_torch(*theirs)
    ref.backward()
    assert_close(out.data, ref.item(), REL, ABS, what="value")
    expected = [0.0 if v.grad is None else v.grad.item() for v in theirs]
    assert_all_close([v.grad for v in ours], expected, REL, ABS)


# The cases are helpers.OP_CASES; PyTorch's limits are checked at a few more points.
EDGES = {
    "abs": [0.0],
    "relu": [0.0],
    "tanh": [-1000.0, 1000.0, 1e308],
    "sigmoid": [-1000.0, 1000.0, -1e308],
    "exp": [-700.0, 700.0],
    "sqrt": [0.0],
    "x ** 2": [0.0],
    "x ** 0": [0.0],
    "x ** 0.5": [0.0],
    "logaddexp(a, b)": [(1000.0, -1000.0), (-700.0, -700.0)],
}
MORE_CASES = [OpCase("0 ** x", lambda x: 0.0**x, [(x,) for x in POSITIVE])]


@pytest.mark.parametrize(
    ("ours", "theirs", "point"),
    [
        pytest.param(case.f, case.torch, point, id=f"{case.name}@{point}")
        for case in OP_CASES + MORE_CASES
        for point in case.points
        + [p if isinstance(p, tuple) else (p,) for p in EDGES.get(case.name, [])]
    ],
)
def test_every_op_matches_pytorch(ours, theirs, point):
    check_parity(ours, ours if theirs is None else theirs(torch), list(point))


def test_the_parity_cases_cover_every_op_of_one_or_two_operands():
    elementary = {name for name, row in engine.OPS.items() if row.arity}
    assert (
        ops_exercised(OP_CASES + MORE_CASES) >= elementary
    )  # a row added to the table needs a case


@pytest.mark.parametrize(("base", "exponent"), [(1e-200, -1.5), (-1e-200, -1.0), (-1e-150, -2.0)])
def test_power_whose_slope_overflows_matches_pytorch(base, exponent):
    check_parity(lambda x: x**exponent, lambda x: x**exponent, [base])


def test_negative_base_to_a_value_integer_power_matches_pytorch_including_nan():
    x, k = Value(-2.0), Value(3.0)
    y = x**k
    y.backward()
    tx, tk = t(-2.0), t(3.0)
    (tx**tk).backward()
    assert y.data == (tx**tk).item()
    assert_close(x.grad, tx.grad.item(), REL, ABS)
    assert math.isnan(k.grad) and math.isnan(tk.grad.item())


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("number_inputs", [False, True])
@pytest.mark.parametrize("n", [1, 5, 32])
def test_value_dot_matches_torch_dot(rng, n, bias, number_inputs):
    ws = [rng.uniform(-2, 2) for _ in range(n)]
    xs = [rng.uniform(-3, 3) for _ in range(n)]
    b = rng.uniform(-1, 1)
    w_ours = [Value(w) for w in ws]
    x_ours = list(xs) if number_inputs else [Value(x) for x in xs]
    b_ours = Value(b) if bias else None
    out = Value.dot(w_ours, x_ours, b_ours)
    out.backward()

    w_t = torch.tensor(ws, dtype=torch.float64, requires_grad=True)
    x_t = torch.tensor(xs, dtype=torch.float64, requires_grad=not number_inputs)
    b_t = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    ref = torch.dot(w_t, x_t) + (b_t if bias else 0.0)
    ref.backward()

    assert_close(out.data, ref.item(), REL, 1e-12, what="value")  # summation order differs
    assert_all_close([w.grad for w in w_ours], w_t.grad.tolist(), REL, ABS, "w.grad")
    if not number_inputs:
        assert_all_close([x.grad for x in x_ours], x_t.grad.tolist(), REL, ABS, "x.grad")
    if bias:
        assert b_ours.grad == b_t.grad.item()


@pytest.mark.parametrize("start", [None, 1.5])
@pytest.mark.parametrize("n", [1, 4, 50])
def test_value_sum_matches_torch_sum(rng, n, start):
    xs = [rng.uniform(-10, 10) for _ in range(n)]
    ours = [Value(x) for x in xs]
    out = Value.sum(ours) if start is None else Value.sum(ours, start)
    out.backward()
    x_t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    ref = x_t.sum() + (start or 0.0)
    ref.backward()
    assert_close(out.data, ref.item(), REL, 1e-12, what="value")
    assert [v.grad for v in ours] == x_t.grad.tolist()


def torch_copy(model: MLP):
    """Our MLP's parameters as torch tensors: per layer a weight matrix, a bias vector, σ."""
    layers = []
    for layer in model.layers:
        w = [[w.data for w in n.w] for n in layer.neurons]
        b = [n.b.data for n in layer.neurons]
        layers.append(
            (
                torch.tensor(w, dtype=torch.float64, requires_grad=True),
                torch.tensor(b, dtype=torch.float64, requires_grad=True),
                layer.neurons[0].activation,
            )
        )
    return layers


def torch_forward(layers, x: list[float]):
    h = torch.tensor(x, dtype=torch.float64)
    for w, b, activation in layers:
        h = w @ h + b
        if activation != "linear":
            h = getattr(torch, activation)(h)
    return h.squeeze()


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_forward_and_backward_match_pytorch(seed, activation, fused):
    rng = random.Random(seed)
    model = MLP(3, [4, 4, 1], activation=activation, fused=fused, rng=rng)
    layers = torch_copy(model)
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(4)]
    ys = [rng.uniform(-1, 1) for _ in range(4)]

    # a mean squared error over a small batch, built both ways
    outs = [model(x) for x in xs]
    loss = Value.sum((out - y) ** 2 for out, y in zip(outs, ys)) / len(xs)
    loss.backward()
    ref_outs = [torch_forward(layers, x) for x in xs]
    ref = sum((out - y) ** 2 for out, y in zip(ref_outs, ys)) / len(xs)
    ref.backward()

    assert_all_close([o.data for o in outs], [o.item() for o in ref_outs], REL, 1e-14, "output")
    assert_close(loss.data, ref.item(), REL, 1e-14, what="loss")
    theirs = []
    for w, b, _ in layers:
        for row, bias in zip(w.grad.tolist(), b.grad.tolist()):
            theirs.extend([*row, bias])  # our order: each neuron's weights, then its bias
    assert_all_close([p.grad for p in model.parameters()], theirs, REL, 1e-14, "parameter grad")
