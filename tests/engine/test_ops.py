"""The op table: every fact about an op comes from its row, and code written out for
speed gives exactly the floats of the rows it inlines.

backward() writes out the rules of +, * and the fused neuron, and the forward pass of
+, * and a fused relu neuron is written out too. Each is pinned here to its row on
many random inputs, bit for bit: `bits` compares floats by their bytes, so -0.0 and
0.0 differ and NaN equals NaN.
"""

from __future__ import annotations

import math
import random
import struct

import pytest

from micrograd import engine
from micrograd.engine import ACTIVATIONS, OPS, Value, add, backward_steps, mul, relu
from micrograd.nn import Neuron


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def random_number(rng: random.Random) -> float:
    """Mostly ordinary numbers, sometimes an exact zero of either sign, a huge or tiny one."""
    return rng.choice(
        [rng.uniform(-3, 3)] * 6 + [0.0, -0.0, rng.choice([1e300, -1e-300, 7.0, -2.0])]
    )


def gradients_by_backward_and_by_steps(make):
    """The leaves' gradients from backward() (written out) and from backward_steps (the
    rows), for two builds of the same graph."""
    root, leaves = make()
    root.backward()
    fast = [v.grad for v in leaves]
    root, leaves = make()
    for _ in backward_steps(root):
        pass
    return fast, [v.grad for v in leaves]


# ---- + and *, written out ---------------------------------------------------------------


@pytest.mark.parametrize("row", [add, mul], ids=["+", "*"])
def test_the_written_out_forward_of_add_and_mul_gives_the_rows_floats(row):
    rng = random.Random(1)
    operator = {add: lambda a, b: a + b, mul: lambda a, b: a * b}[row]
    for _ in range(500):
        x, y, c = Value(random_number(rng)), Value(random_number(rng)), random_number(rng)
        for a, b in ((x, y), (x, c), (c, x)):
            fast, table = operator(a, b), row(a, b)
            assert bits(fast.data) == bits(table.data)
            assert fast.operands == table.operands  # a plain number kept second


@pytest.mark.parametrize("seed", range(300))
def test_backward_written_out_gives_the_floats_of_the_rows_rules(seed):
    rng = random.Random(seed)
    values = [random_number(rng) for _ in range(4)]

    def make():
        x, y, z, w = (Value(v) for v in values)
        h = x * y + z * 3.0 + 2.0 * w
        k = Value.sum([h, x, h * h, 1.0], y) + x * x
        out = Value.dot([x, y, z], [k, 0.5, h], w, activation="relu") * k + h
        return out, [x, y, z, w]

    fast, by_rows = gradients_by_backward_and_by_steps(make)
    assert [bits(g) for g in fast] == [bits(g) for g in by_rows]


# ---- the fused neuron, written out ---------------------------------------------------------


def neuron(w_data, x_data, b_data, constant, activation, fused):
    """A neuron on fresh leaves, fused or as the elementary chain b + w0*x0 + ... then σ;
    input number `constant` is a plain number. Returns (output, leaves)."""
    ws = [Value(v) for v in w_data]
    xs = [Value(v) for v in x_data]
    b = Value(b_data)
    inputs = [x_data[i] if i == constant else x for i, x in enumerate(xs)]
    if fused:
        out = Value.dot(ws, inputs, b, activation)
    else:
        out = sum((w * x for w, x in zip(ws, inputs)), b)
        out = out if activation is None else OPS[activation](out)
    return out, ws + xs + [b]


@pytest.mark.parametrize("activation", [None, *ACTIVATIONS])
def test_a_fused_neuron_gives_the_floats_of_the_elementary_rows(activation):
    rng = random.Random(2)
    for _ in range(200):
        n = rng.randint(1, 5)
        data = (
            [random_number(rng) for _ in range(n)],
            [random_number(rng) for _ in range(n)],
            random_number(rng),
            rng.randrange(n),
        )
        fused, fused_leaves = neuron(*data, activation, fused=True)
        plain, plain_leaves = neuron(*data, activation, fused=False)
        assert bits(fused.data) == bits(plain.data)
        if not math.isfinite(fused.data):
            continue
        fused.backward()
        plain.backward()
        assert [bits(v.grad) for v in fused_leaves] == [bits(v.grad) for v in plain_leaves]


def test_a_fused_relu_that_is_off_passes_nothing_back_not_even_nan():
    w, x = Value(1.0), Value(-2.0)
    out = Value.dot([w], [x], None, "relu") * math.inf
    out.backward()
    assert (w.grad, x.grad) == (0.0, 0.0)
    assert relu.derivatives[0](-2.0, 0.0) is None  # the row says so too


# ---- everything else about an op comes from its row -------------------------------------------


def test_every_op_of_the_table_is_a_value_method_that_applies_its_row():
    x, y = Value(0.7), Value(1.3)
    for row in OPS.values():
        if row.arity == 1:
            name = {"neg": "__neg__", "abs": "__abs__"}.get(row.name, row.name)
            assert getattr(x, name)().data == row.forward(0.7), row
        elif row.arity == 2 and row.name.isidentifier():  # x.logaddexp(y)
            assert getattr(x, row.name)(y).data == row.forward(0.7, 1.3), row
        elif row.arity == 2:  # an operator: x - y and 2 - x
            name = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "**": "pow"}[row.name]
            assert getattr(x, f"__{name}__")(y).data == row.forward(0.7, 1.3), row
            assert getattr(x, f"__r{name}__")(2.0).data == row.forward(2.0, 0.7), row


def test_the_activations_are_the_rows_marked_as_activations_each_with_its_fused_op():
    assert set(ACTIVATIONS) == {name for name, row in OPS.items() if row.activation}
    assert set(ACTIVATIONS) == {"relu", "tanh", "sigmoid"}
    for name, row in ACTIVATIONS.items():
        assert OPS[f"dot-{name}"] is row.fused
        assert row.fused.symbol == f"{row.symbol}(w·x+b)"


def test_a_neuron_accepts_every_activation_and_names_it_by_its_rows_title():
    for name, row in ACTIVATIONS.items():
        assert repr(Neuron(2, activation=name)) == f"{row.title}Neuron(2)"
    assert repr(Neuron(2, nonlin=False)) == "LinearNeuron(2)"


def test_an_op_called_on_numbers_gives_a_number_and_on_values_a_value():
    assert engine.tanh(0.5) == math.tanh(0.5)
    assert isinstance(engine.tanh(Value(0.5)), Value)
    assert engine.sub(1, 3) == -2.0


def test_an_op_called_on_numbers_names_the_op_and_operand_when_undefined():
    with pytest.raises(ValueError, match=r"^log\(\) is undefined for -1.0$"):
        engine.log(-1.0)


def test_the_written_out_relu_gives_the_rows_floats():
    rng = random.Random(3)
    for x in [random_number(rng) for _ in range(300)] + [math.nan, math.inf, -math.inf]:
        v = Value(x)
        fast, table = v.relu(), relu(v)
        assert bits(fast.data) == bits(table.data)
        assert fast.op == table.op and fast.operands == table.operands == (v,)


def test_logaddexp_is_commutative_to_the_last_bit_as_its_row_says():
    rng = random.Random(4)
    for _ in range(300):
        a, b = random_number(rng), random_number(rng)
        assert bits(engine.logaddexp(a, b)) == bits(engine.logaddexp(b, a))
        assert bits(engine.logaddexp(Value(a), b).data) == bits(engine.logaddexp(a, b))
