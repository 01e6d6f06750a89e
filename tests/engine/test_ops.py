"""The op table (ops.py, and value.py's + and *): every op against finite differences,
every fact about an op from its row, and code written out for speed giving exactly
the floats of the rows it inlines.

backward() writes out the rules of +, * and the fused neuron, and the forward pass of
+, * and a fused relu neuron is written out too. Each is pinned here to its row on
many random inputs, bit for bit: `bits` compares floats by their bytes, so -0.0 and
0.0 differ and NaN equals NaN.
"""

from __future__ import annotations

import math
import operator
import random

import pytest
from helpers import (
    OP_CASES,
    bits,
    check_against_fd,
    op_case_params,
    ops_exercised,
)

from micrograd import engine
from micrograd.engine import ACTIVATIONS, OPS, Value, add, backward_steps, mul, relu
from micrograd.nn import Neuron


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


# ---- every op against finite differences (the cases: helpers.OP_CASES) ---------------------


@pytest.mark.parametrize(("f", "point"), op_case_params(OP_CASES))
def test_every_op_matches_finite_differences(f, point):
    check_against_fd(f, list(point))


def test_the_finite_difference_cases_cover_every_op_of_one_or_two_operands():
    elementary = {name for name, row in engine.OPS.items() if row.arity}
    assert ops_exercised(OP_CASES) >= elementary  # a row added to the table needs a case


def test_value_exponent_with_negative_base_and_integer_exponent():
    # The base's slope is k * x**(k-1); the exponent's, x**k * ln x, is NaN for x < 0 (as PyTorch).
    x, k = Value(-2.0), Value(3.0)
    y = x**k
    y.backward()
    assert y.data == -8.0
    assert x.grad == 12.0
    assert math.isnan(k.grad)


@pytest.mark.parametrize("op", ["relu", "abs"])
def test_kink_ops_have_derivative_zero_at_zero_as_pytorch(op):
    x = Value(0.0)
    y = x.relu() if op == "relu" else abs(x)
    y.backward()
    assert y.data == 0.0
    assert x.grad == 0.0


@pytest.mark.parametrize(("x", "slope"), [(-2.0, 0.0), (-1e-300, 0.0), (1e-300, 1.0), (3.0, 1.0)])
def test_relu_slope_is_0_below_zero_and_1_above(x, slope):
    v = Value(x)
    v.relu().backward()
    assert v.grad == slope


def test_sqrt_at_zero_has_infinite_slope_as_pytorch():
    x = Value(0.0)
    y = x.sqrt()
    y.backward()
    assert y.data == 0.0
    assert x.grad == math.inf


@pytest.mark.parametrize(
    ("base", "exponent", "slope"),
    [(1e-200, -1.5, -math.inf), (-1e-200, -1.0, -math.inf), (-1e-150, -2.0, math.inf)],
)
def test_power_with_finite_result_but_overflowing_slope_has_infinite_slope(base, exponent, slope):
    # The slope k * x**(k-1) overflows a float though x**k does not: it is ±inf (as PyTorch).
    x = Value(base)
    y = x**exponent
    y.backward()
    assert y.data == base**exponent
    assert x.grad == slope


@pytest.mark.parametrize("x", [-1000.0, 1000.0, -1e308, 1e308])
@pytest.mark.parametrize("op", ["tanh", "sigmoid"])
def test_saturating_ops_stay_finite_at_huge_inputs(op, x):
    v = Value(x)
    y = getattr(v, op)()
    y.backward()
    assert math.isfinite(y.data)
    assert math.isfinite(v.grad)
    expected = {"tanh": math.copysign(1.0, x), "sigmoid": 1.0 if x > 0 else 0.0}[op]
    assert y.data == expected
    assert v.grad == 0.0


# ---- overflow: one policy for every op -------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: Value(1e308) * 10, math.inf),
        (lambda: Value(1e308) + Value(1e308), math.inf),
        (lambda: Value(-1e308) - 1e308, -math.inf),
        (lambda: Value.sum([Value(1e308), Value(1e308)]), math.inf),
        (lambda: 1 / Value(1e-320), math.inf),
        (lambda: Value(1e200) ** 2, math.inf),
        (lambda: Value(-1e200) ** 3, -math.inf),
        (lambda: Value(1e-200) ** -2, math.inf),
        (lambda: 10.0 ** Value(400.0), math.inf),
        (lambda: Value(709.8).exp(), math.inf),
        (lambda: Value(1000.0).exp(), math.inf),
    ],
    ids=[
        "mul",
        "add",
        "sub",
        "sum",
        "div",
        "pow",
        "odd-pow",
        "negative-pow",
        "rpow",
        "exp",
        "exp-1000",
    ],
)
def test_a_result_too_large_for_a_float_is_infinite_in_every_op_as_in_pytorch(make, expected):
    assert make().data == expected


def test_an_infinite_result_still_has_its_gradient():
    x = Value(1000.0)
    y = x.exp()
    y.backward()
    assert y.data == math.inf and x.grad == math.inf


def test_log_error_message_names_value_and_label_exactly():
    with pytest.raises(ValueError, match=r"^log\(\) is undefined for -1\.0 \(Value 'x'\)$"):
        Value(-1.0, label="x").log()


def test_operations_with_non_numbers_raise_type_error():
    x = Value(1.0)
    for bad in ("2", None, [1.0], 1j):
        for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow):
            with pytest.raises(TypeError):
                op(x, bad)
            with pytest.raises(TypeError):
                op(bad, x)


# ---- NaN, infinity and relus that are off ---------------------------------------------------


def test_relu_of_nan_is_nan_and_passes_its_gradient_on_as_pytorch():
    x = Value(math.nan)
    y = x.relu()
    y.backward()
    assert math.isnan(y.data)
    assert x.grad == 1.0


@pytest.mark.parametrize("op", ["sqrt", "abs"])
def test_a_nan_input_gets_a_nan_slope(op):
    x = Value(math.nan)
    y = getattr(x, op)() if op != "abs" else abs(x)
    assert math.isnan(y.local_grads[0])


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "elementary"])
def test_a_relu_that_is_off_passes_nothing_on_even_an_infinite_gradient(fused):
    # relu(-1) = 0, and sqrt's slope at 0 is infinite: 0 * inf would be NaN
    w, x = Value(-1.0), Value(1.0)
    s = Value.dot([w], [x], None, "relu") if fused else (w * x).relu()
    s.sqrt().backward()
    assert (w.grad, x.grad) == (0.0, 0.0)


def test_a_saturated_tanh_passes_its_zero_slope_on_fused_as_elementary():
    # tanh(30) is exactly 1.0, so its slope is 0; sqrt(1 - 1) has an infinite slope
    def gradient(fused):
        w, x = Value(30.0), Value(1.0)
        t = Value.dot([w], [x], None, "tanh") if fused else (w * x).tanh()
        (1 - t).sqrt().backward()
        return w.grad

    assert math.isnan(gradient(fused=True)) and math.isnan(gradient(fused=False))
