"""The engine's behaviour, one specification per test.

Gradients are checked against central finite differences of the same function
evaluated on plain floats (`numerical_grad` in helpers.py), so no test trusts the
engine to check itself.
"""

from __future__ import annotations

import gc
import math
import operator
import random
import re
import sys
import threading
import weakref

import pytest
from helpers import (
    assert_all_close,
    assert_close,
    call,
    chain_sum,
    numerical_grad,
    ops_exercised,
)

from micrograd import engine
from micrograd.engine import (
    FusedParts,
    Value,
    fused_parts,
    is_grad_enabled,
    no_grad,
    topological_order,
)
from micrograd.nn import MLP

DEFAULT_RECURSION_LIMIT = 1000  # CPython's default, which the deep-graph tests must not raise
DEEP = 200_000


# ---- helpers ---------------------------------------------------------------------


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


# ---- the README example ----------------------------------------------------------


def test_readme_example_gives_the_documented_value_and_gradients():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


# ---- construction ----------------------------------------------------------------


@pytest.mark.parametrize(("given", "stored"), [(3, 3.0), (-7, -7.0), (0, 0.0), (2.5, 2.5)])
def test_value_stores_ints_and_floats_as_python_float(given, stored):
    v = Value(given)
    assert type(v.data) is float
    assert v.data == stored


@pytest.mark.parametrize(("given", "stored"), [(True, 1.0), (False, 0.0)])
def test_value_stores_bools_as_float(given, stored):
    v = Value(given)
    assert type(v.data) is float
    assert v.data == stored


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "int8"])
def test_value_stores_numpy_scalars_as_python_float(dtype):
    np = pytest.importorskip("numpy")
    v = Value(np.dtype(dtype).type(3))
    assert type(v.data) is float
    assert v.data == 3.0


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [("abc", "str"), (None, "NoneType"), ([1.0], "list"), (1 + 2j, "complex"), (b"1", "bytes")],
)
def test_value_rejects_non_numbers_with_a_message_naming_type_and_value(bad, type_name):
    expected = f"Value() needs a real number, got {type_name} {bad!r}"
    with pytest.raises(TypeError, match=re.escape(expected)):
        Value(bad)


def test_value_rejects_a_value_and_names_it():
    with pytest.raises(TypeError, match=r"Value\(\) needs a real number, got Value\(data=1\.5"):
        Value(Value(1.5))


def test_grad_starts_at_zero():
    v = Value(4.0)
    assert v.grad == 0.0
    assert type(v.grad) is float


def test_label_is_stored_and_defaults_to_empty():
    assert Value(1.0).label == ""
    assert Value(1.0, label="w1").label == "w1"


def test_repr_shows_data_and_grad():
    v = Value(2.0)
    v.grad = 0.5
    assert repr(v) == "Value(data=2.0, grad=0.5)"


def test_repr_shows_label_when_set():
    assert repr(Value(-1.25, label="x")) == "Value(data=-1.25, grad=0.0, label='x')"


# ---- every op against finite differences -----------------------------------------

POINTS = [-3.7, -1.2, -0.3, 0.25, 0.9, 2.5, 4.0]
POSITIVE = [p for p in POINTS if p > 0] + [0.01, 17.0]
PAIRS = [(a, b) for a in (-2.5, -0.7, 0.4, 1.9) for b in (-3.1, -0.6, 0.8, 2.2)]
POSITIVE_BASE_PAIRS = [(a, b) for a in (0.3, 1.0, 1.7, 3.2) for b in (-2.1, -0.5, 0.0, 0.7, 2.4)]

# (name, f, points): f works on floats and on Values alike.
UNARY_OPS = [
    ("neg", lambda x: -x, POINTS),
    ("abs", lambda x: abs(x), POINTS),
    ("relu", lambda x: call("relu", x), POINTS),
    ("tanh", lambda x: call("tanh", x), POINTS),
    ("sigmoid", lambda x: call("sigmoid", x), POINTS),
    ("exp", lambda x: call("exp", x), POINTS),
    ("log", lambda x: call("log", x), POSITIVE),
    ("sqrt", lambda x: call("sqrt", x), POSITIVE),
    ("x + number", lambda x: x + 3, POINTS),
    ("number + x (radd)", lambda x: 3 + x, POINTS),
    ("x - number", lambda x: x - 2.5, POINTS),
    ("number - x (rsub)", lambda x: 2.5 - x, POINTS),
    ("x * number", lambda x: x * -1.5, POINTS),
    ("number * x (rmul)", lambda x: -1.5 * x, POINTS),
    ("x / number", lambda x: x / 0.7, POINTS),
    ("number / x (rtruediv)", lambda x: 0.7 / x, POINTS),
    ("x ** 2", lambda x: x**2, POINTS),
    ("x ** 3", lambda x: x**3, POINTS),
    ("x ** -2", lambda x: x**-2, POINTS),
    ("x ** 0", lambda x: x**0, POINTS),
    ("x ** 0.5", lambda x: x**0.5, POSITIVE),
    ("x ** -1.5", lambda x: x**-1.5, POSITIVE),
    ("number ** x (rpow)", lambda x: 2.0**x, POINTS),
    ("fraction ** x (rpow)", lambda x: 0.3**x, POINTS),
    ("int ** x (rpow)", lambda x: 3**x, POINTS),
    ("logaddexp(0, x)", lambda x: engine.logaddexp(0.0, x), POINTS),
]
UNARY_CASES = [
    pytest.param(f, x, id=f"{name}@{x}") for name, f, points in UNARY_OPS for x in points
]


@pytest.mark.parametrize(("f", "x"), UNARY_CASES)
def test_single_input_op_matches_finite_differences(f, x):
    check_against_fd(f, [x])


BINARY_OPS = [
    ("a + b", lambda a, b: a + b, PAIRS),
    ("a - b", lambda a, b: a - b, PAIRS),
    ("a * b", lambda a, b: a * b, PAIRS),
    ("a / b", lambda a, b: a / b, PAIRS),
    ("a ** b", lambda a, b: a**b, POSITIVE_BASE_PAIRS),
    ("logaddexp(a, b)", lambda a, b: engine.logaddexp(a, b), PAIRS),
    ("logaddexp(a, a + 1000)", lambda a, b: engine.logaddexp(a, a + 1000.0), PAIRS),
]
BINARY_CASES = [
    pytest.param(f, a, b, id=f"{name}@{a},{b}") for name, f, pairs in BINARY_OPS for a, b in pairs
]


@pytest.mark.parametrize(("f", "a", "b"), BINARY_CASES)
def test_two_value_op_matches_finite_differences(f, a, b):
    check_against_fd(f, [a, b])


def test_the_finite_difference_cases_cover_every_op_of_one_or_two_operands():
    # a row added to the op table needs cases above (fused ops are checked below)
    elementary = {name for name, row in engine.OPS.items() if row.arity}
    assert ops_exercised(UNARY_OPS + BINARY_OPS) >= elementary


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


# ---- fused nodes: Value.sum and Value.dot ----------------------------------------

# Each case is written once against a `fused` function: Value.sum / Value.dot when
# building a graph, the elementary float expression when computing the reference.
SUM_CASES = [
    pytest.param(lambda S, a, b, c: S([a, b, c]), id="values"),
    pytest.param(lambda S, a, b, c: S([a, 2.5, b, -1, c]), id="values-and-numbers"),
    pytest.param(lambda S, a, b, c: S([a, b, a, a]), id="repeated-value"),
    pytest.param(lambda S, a, b, c: S(x * y for x, y in [(a, b), (b, c)]), id="generator"),
    pytest.param(lambda S, a, b, c: S([a, b], c), id="value-start"),
    pytest.param(lambda S, a, b, c: S([a, b, c], 4.5), id="number-start"),
]


def float_sum(values, start=0.0):
    return chain_sum(values, start)


def float_dot(weights, inputs, bias=None):
    return chain_sum((w * x for w, x in zip(weights, inputs)), 0.0 if bias is None else bias)


@pytest.mark.parametrize("make", SUM_CASES)
@pytest.mark.parametrize("xs", [[0.3, -1.7, 2.2], [-4.0, 0.5, 9.25]])
def test_value_sum_matches_finite_differences(make, xs):
    data, grads = grads_of(lambda *v: make(Value.sum, *v), xs)
    assert data == make(float_sum, *xs)
    assert_all_close(grads, numerical_grad(lambda v: make(float_sum, *v), xs))


DOT_CASES = [
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [x1, x2]), id="values"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [x1, x2], b), id="values+bias"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [1.5, -2]), id="numbers"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [1.5, -2], b), id="numbers+bias"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w2], [x1, 3.0], b), id="mixed+bias"),
    pytest.param(lambda D, w1, w2, x1, x2, b: D([w1, w1], [w1, x2], b), id="shared"),
]


@pytest.mark.parametrize("make", DOT_CASES)
@pytest.mark.parametrize("xs", [[0.3, -1.7, 2.2, 0.8, -0.4], [-4.0, 0.5, 9.25, -2.5, 1.0]])
def test_value_dot_matches_finite_differences(make, xs):
    data, grads = grads_of(lambda *v: make(Value.dot, *v), xs)
    assert data == make(float_dot, *xs)
    assert_all_close(grads, numerical_grad(lambda v: make(float_dot, *v), xs))


def test_value_dot_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="2 and 3"):
        Value.dot([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_value_sum_is_bit_identical_to_builtin_sum(rng, n):
    xs = [rng.uniform(-1e3, 1e3) for _ in range(n)]
    fused_leaves = [Value(x) for x in xs]
    chain_leaves = [Value(x) for x in xs]
    fused = Value.sum(fused_leaves)
    chain = sum(chain_leaves)
    assert fused.data.hex() == chain.data.hex()
    fused.backward()
    chain.backward()
    assert [v.grad.hex() for v in fused_leaves] == [v.grad.hex() for v in chain_leaves]


@pytest.mark.parametrize("n", [1, 3, 16, 64])
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("number_inputs", [False, True])
def test_value_dot_is_bit_identical_to_the_elementary_chain(rng, n, with_bias, number_inputs):
    ws = [rng.uniform(-2, 2) for _ in range(n)]
    xs = [rng.uniform(-5, 5) for _ in range(n)]
    b = rng.uniform(-1, 1)

    def build(fused):
        w = [Value(x) for x in ws]
        x = list(xs) if number_inputs else [Value(v) for v in xs]
        bias = Value(b) if with_bias else None
        if fused:
            out = Value.dot(w, x, bias)
        elif with_bias:
            out = sum((wi * xi for wi, xi in zip(w, x)), bias)
        else:
            out = sum(wi * xi for wi, xi in zip(w, x))
        out.backward()
        leaves = w + ([] if number_inputs else x) + ([bias] if with_bias else [])
        return out.data, [v.grad for v in leaves]

    fused_data, fused_grads = build(fused=True)
    chain_data, chain_grads = build(fused=False)
    assert fused_data.hex() == chain_data.hex()
    assert [g.hex() for g in fused_grads] == [g.hex() for g in chain_grads]


# ---- comparisons, equality, hashing, float() --------------------------------------

COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("cmp", COMPARISONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("a", "b"), [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5)])
@pytest.mark.parametrize("sides", ["value-value", "value-number", "number-value"])
def test_comparisons_compare_data_and_return_bool(cmp, a, b, sides):
    left = a if sides == "number-value" else Value(a)
    right = b if sides == "value-number" else Value(b)
    result = cmp(left, right)
    assert type(result) is bool
    assert result == cmp(a, b)


def test_equality_is_identity_not_data():
    a, b = Value(1.0), Value(1.0)
    assert a == a
    assert a != b
    assert (a == 1.0) is False


def test_hash_is_by_identity_so_values_work_in_sets_and_dicts():
    a, b = Value(1.0), Value(1.0)
    assert len({a, b, a}) == 2
    grads = {a: "a", b: "b"}
    assert grads[a] == "a" and grads[b] == "b"


def test_float_returns_data():
    v = Value(-2.75)
    assert float(v) == -2.75
    assert type(float(v)) is float


def test_comparisons_build_no_graph():
    x = Value(1.0)
    assert (x < 2.0) is True
    assert x.grad == 0.0 and x.is_leaf()


# ---- backward() ---------------------------------------------------------------------


@pytest.mark.parametrize("x", [-1.5, 0.0, 3.25])
def test_square_by_self_multiplication_gives_exactly_2x(x):
    v = Value(x)
    (v * v).backward()
    assert v.grad == 2.0 * x


def test_self_addition_gives_exactly_2():
    v = Value(0.7)
    (v + v).backward()
    assert v.grad == 2.0


def test_diamond_graph_sums_both_paths():
    x = Value(0.4)
    a = x * 3.0
    top = a.tanh()
    bottom = a.exp()
    out = top * bottom
    out.backward()
    t, e = math.tanh(1.2), math.exp(1.2)
    # d/dx tanh(3x) e^(3x) = 3 (1 - t^2) e + 3 t e
    assert_close(x.grad, 3 * (1 - t * t) * e + 3 * t * e, rel=1e-14)
    assert_close(a.grad, (1 - t * t) * e + t * e, rel=1e-14)


def test_a_value_used_many_times_collects_every_use():
    x = Value(2.0)
    y = x * x * x + x + 4 * x
    y.backward()
    assert x.grad == 3 * 4.0 + 1 + 4


def _graph():
    x, w = Value(1.3, label="x"), Value(-0.6, label="w")
    h = (x * w).tanh()
    out = h * h + x.exp() * w
    return x, w, h, out


def test_backward_twice_doubles_leaves_but_not_interior_nodes():
    # each leaf is reached by one path, so that twice its gradient is exact in floats
    x, w = Value(1.3, label="x"), Value(-0.6, label="w")
    h = (x * w).tanh()
    out = h * 3.0
    out.backward()
    first = {"x": x.grad, "w": w.grad, "h": h.grad, "out": out.grad}
    out.backward()
    assert x.grad == 2 * first["x"]
    assert w.grad == 2 * first["w"]
    assert h.grad == first["h"]
    assert out.grad == first["out"] == 1.0


def test_zeroing_leaf_grads_between_calls_gives_the_same_gradient_again():
    x, w, h, out = _graph()
    out.backward()
    first = (x.grad, w.grad, h.grad)
    for p in (x, w):
        p.grad = 0.0
    out.backward()
    assert (x.grad, w.grad, h.grad) == first


def test_backward_on_a_leaf_adds_one_to_its_grad():
    x = Value(5.0)
    x.backward()
    assert x.grad == 1.0
    x.grad = 2.5
    x.backward()
    assert x.grad == 3.5


def test_backward_sets_the_roots_grad_to_one():
    x = Value(2.0)
    y = x * 3.0
    y.grad = 7.0
    y.backward()
    assert y.grad == 1.0
    assert x.grad == 3.0


def test_module_zero_grad_resets_parameters():
    model = MLP(2, [3, 1], rng=random.Random(1))
    out = model([0.5, -1.0])
    out.backward()
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# ---- deep graphs ---------------------------------------------------------------------


def test_a_200000_op_addition_chain_backpropagates_at_the_default_recursion_limit():
    assert sys.getrecursionlimit() == DEFAULT_RECURSION_LIMIT
    x = Value(0.5)
    y = x
    for _ in range(DEEP):
        y = y + 1.0
    y.backward()
    assert y.data == 0.5 + DEEP
    assert x.grad == 1.0
    del y  # freeing a deep chain must not overflow the C stack either


def test_a_200000_op_chain_of_mul_and_tanh_gives_the_forward_mode_gradient():
    assert sys.getrecursionlimit() == DEFAULT_RECURSION_LIMIT
    x0, w0 = 0.05, 1.0
    x, w = Value(x0), Value(w0)
    y = x
    for _ in range(DEEP // 2):
        y = (y * w).tanh()
    y.backward()
    # forward-mode reference on floats: t and its derivatives by x and by w
    t, dt_dx, dt_dw = x0, 1.0, 0.0
    for _ in range(DEEP // 2):
        u, du_dx, du_dw = t * w0, dt_dx * w0, dt_dw * w0 + t
        t = math.tanh(u)
        slope = 1.0 - t * t
        dt_dx, dt_dw = slope * du_dx, slope * du_dw
    assert y.data == t
    assert_close(x.grad, dt_dx, rel=1e-9, abs_=0.0, what="dy/dx")
    assert_close(w.grad, dt_dw, rel=1e-9, abs_=0.0, what="dy/dw")


def test_topological_order_works_on_a_200000_deep_chain():
    assert sys.getrecursionlimit() == DEFAULT_RECURSION_LIMIT
    x = Value(1.0)
    y = x
    for _ in range(DEEP):
        y = y * 1.0
    order = topological_order(y)
    assert len(order) == DEEP + 1
    assert order[0] is x
    assert order[-1] is y


# ---- memory: no reference cycles -------------------------------------------------------


def _build_and_backward(leaf: Value) -> None:
    w = Value(0.5)
    out = (
        (leaf * w).tanh()
        + Value.sum([leaf, w, leaf, 2.0])
        + Value.dot([w, w], [leaf, 3.0], w)
        + (leaf**w).log()
        + 2**leaf
        + (1 - leaf) / (leaf * leaf + 1).sqrt()
        + abs(-leaf).relu().sigmoid().exp()
    )
    out.backward()
    assert leaf.grad != 0.0


def test_a_graph_is_freed_by_reference_counting_alone():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        leaf = Value(1.5)
        ref = weakref.ref(leaf)
        _build_and_backward(leaf)
        del leaf
        assert ref() is None, "the leaf outlived its graph: something holds a reference cycle"
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize("attempt", range(3))
def test_building_and_freeing_a_graph_leaves_no_cyclic_garbage(attempt):
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()  # baseline: nothing left from earlier tests
        leaf = Value(0.8 + attempt)
        _build_and_backward(leaf)
        x = leaf
        for _ in range(1000):
            x = (x * 0.999).tanh() + leaf
        x.backward()
        del leaf, x
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


# ---- no_grad() -------------------------------------------------------------------------


def test_grad_is_enabled_by_default():
    assert is_grad_enabled() is True


def test_ops_under_no_grad_compute_values_but_build_no_parents():
    x, y = Value(2.0), Value(3.0)
    with no_grad():
        assert is_grad_enabled() is False
        results = {
            "add": (x + y, 5.0),
            "mul": (x * 4, 8.0),
            "rsub": (1 - x, -1.0),
            "pow": (x**y, 8.0),
            "tanh": (x.tanh(), math.tanh(2.0)),
            "sum": (Value.sum([x, y]), 5.0),
            "dot": (Value.dot([x], [y], x), 8.0),
        }
    assert is_grad_enabled() is True
    for name, (v, expected) in results.items():
        assert v.data == expected, name
        assert v.is_leaf(), name
        assert v.parents == (), name
        assert v.local_grads == (), name


def test_backward_stops_at_a_result_made_under_no_grad():
    x = Value(2.0)
    with no_grad():
        y = x * 3.0
    z = y * y
    z.backward()
    assert y.grad == 2 * 6.0
    assert x.grad == 0.0


def test_no_grad_restores_the_flag_when_the_block_raises():
    with pytest.raises(RuntimeError, match="boom"), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled() is True
    assert not (Value(1.0) + 1.0).is_leaf()


def test_nested_no_grad_restores_each_level():
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_in_one_thread_does_not_affect_another():
    inside = threading.Event()  # set while thread A is inside no_grad()
    b_done = threading.Event()  # set when thread B has built its graph
    seen = {}

    def thread_a():
        with no_grad():
            inside.set()
            seen["a_enabled"] = is_grad_enabled()
            seen["a_leaf"] = (Value(1.0) * 2.0).is_leaf()
            seen["a_waited"] = b_done.wait(timeout=10)
            seen["a_enabled_after_b"] = is_grad_enabled()

    def thread_b():
        try:
            seen["b_saw_a_inside"] = inside.wait(timeout=10)
            x = Value(3.0)
            y = x * x
            y.backward()
            seen["b_enabled"] = is_grad_enabled()
            seen["b_parents"] = y.parents == (x, x)
            seen["b_grad"] = x.grad
        finally:
            b_done.set()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    assert inside.wait(timeout=10)
    # the main thread, too, still records graphs while thread A is inside no_grad()
    assert is_grad_enabled()
    assert not (Value(1.0) + 1.0).is_leaf()
    for t in threads:
        t.join(timeout=10)
    assert seen == {
        "a_enabled": False,
        "a_leaf": True,
        "a_waited": True,
        "a_enabled_after_b": False,
        "b_saw_a_inside": True,
        "b_enabled": True,
        "b_parents": True,
        "b_grad": 6.0,
    }


# ---- detach() -------------------------------------------------------------------------


def test_detach_returns_a_new_leaf_with_the_same_data_and_label():
    x = Value(2.0, label="x")
    y = (x * 3.0).tanh()
    y.label = "y"
    d = y.detach()
    assert d is not y
    assert d.is_leaf() and d.parents == ()
    assert d.data == y.data
    assert d.label == "y"
    assert d.grad == 0.0
    (d * 2.0).backward()
    assert d.grad == 2.0
    assert x.grad == 0.0


# ---- errors: clear messages, operands untouched -----------------------------------------


def _operand(data, label=""):
    v = Value(data, label=label)
    v.grad = 0.25  # a grad that must survive the failed op
    return v


ERROR_CASES = [
    # (id, make operands, op, exception, fragments the message must contain)
    ("log(0)", lambda: [_operand(0.0)], lambda x: x.log(), ValueError, ["log()", "0.0"]),
    ("log(-1)", lambda: [_operand(-1.0)], lambda x: x.log(), ValueError, ["log()", "-1.0"]),
    ("sqrt(-1)", lambda: [_operand(-1.0)], lambda x: x.sqrt(), ValueError, ["sqrt()", "-1.0"]),
    (
        "Value/Value(0)",
        lambda: [_operand(1.5, "a"), _operand(0.0, "b")],
        lambda a, b: a / b,
        ZeroDivisionError,
        ["division by zero", "1.5", "'a'", "/", "0.0", "'b'"],
    ),
    (
        "Value/0",
        lambda: [_operand(1.5)],
        lambda a: a / 0,
        ZeroDivisionError,
        ["division by zero", "1.5", "/", "0.0"],
    ),
    (
        "number/Value(0)",
        lambda: [_operand(0.0, "z")],
        lambda a: 2.0 / a,
        ZeroDivisionError,
        ["division by zero", "2.0", "/", "0.0", "'z'"],
    ),
    (
        "Value(0)**-1",
        lambda: [_operand(0.0)],
        lambda a: a**-1,
        ZeroDivisionError,
        ["0", "**", "-1.0"],
    ),
    (
        "Value(0)**Value(-2)",
        lambda: [_operand(0.0, "base"), _operand(-2.0, "k")],
        lambda a, b: a**b,
        ZeroDivisionError,
        ["**", "-2.0", "'base'", "'k'"],
    ),
    (
        "0.0**Value(-2)",
        lambda: [_operand(-2.0)],
        lambda a: 0.0**a,
        ZeroDivisionError,
        ["**", "-2.0"],
    ),
    (
        "Value(-8)**0.5",
        lambda: [_operand(-8.0)],
        lambda a: a**0.5,
        ValueError,
        ["-8.0", "**", "0.5"],
    ),
    (
        "Value(-8)**Value(1/3)",
        lambda: [_operand(-8.0, "x"), _operand(0.25)],
        lambda a, b: a**b,
        ValueError,
        ["-8.0", "**", "0.25", "'x'"],
    ),
    (
        "-8.0**Value(0.5)",
        lambda: [_operand(0.5)],
        lambda a: (-8.0) ** a,
        ValueError,
        ["-8.0", "**", "0.5"],
    ),
]


@pytest.mark.parametrize(
    ("make", "op", "error", "fragments"),
    [pytest.param(*case[1:], id=case[0]) for case in ERROR_CASES],
)
def test_bad_arithmetic_raises_a_clear_error_and_leaves_operands_unchanged(
    make, op, error, fragments
):
    operands = make()
    before = [(v.data, v.grad, v.label) for v in operands]
    with pytest.raises(error) as excinfo:
        op(*operands)
    message = str(excinfo.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"
    assert [(v.data, v.grad, v.label) for v in operands] == before


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


# ---- compatibility with Karpathy's micrograd ------------------------------------------


def test_karpathy_imports_work():
    from micrograd.engine import Value as EngineValue
    from micrograd.nn import MLP, Layer, Module, Neuron

    assert EngineValue is Value
    assert issubclass(Neuron, Module) and issubclass(Layer, Module) and issubclass(MLP, Module)


def test_karpathy_prev_is_the_set_of_parents():
    x, y = Value(1.0), Value(2.0)
    assert (x * y)._prev == {x, y}
    assert (x * x)._prev == {x}
    assert (x + 1)._prev == {x}
    assert x._prev == set()


def test_karpathy_op_is_a_string():
    x = Value(1.0)
    assert isinstance((x + x)._op, str)
    assert isinstance(x._op, str)


def test_data_and_grad_are_assignable():
    x = Value(1.0)
    x.data = 4.0
    x.grad = 2.0
    (x * x).backward()
    assert x.data == 4.0
    assert x.grad == 2.0 + 8.0


def test_karpathy_mlp_call_returns_a_value():
    out = MLP(3, [4, 4, 1])([2.0, 3.0, -1.0])
    assert isinstance(out, Value)
    out.backward()


# ---- graph inspection ------------------------------------------------------------------


def test_parents_and_local_grads_of_a_binary_node():
    x, y = Value(2.0), Value(-3.0)
    z = x * y
    assert z.parents == (x, y)
    assert z.local_grads == (-3.0, 2.0)


def test_parents_and_local_grads_with_a_number_operand():
    x = Value(2.0)
    assert (x * 5).parents == (x,)
    assert (x * 5).local_grads == (5.0,)
    assert (1 - x).local_grads == (-1.0,)


def test_parents_of_fused_nodes_are_their_value_operands_in_order():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    s = Value.sum([a, 4.0, b], c)
    assert s.parents == (c, a, b)
    assert s.local_grads == (1.0, 1.0, 1.0)
    d = Value.dot([a, b], [c, 5.0], a)  # a*c + b*5 + a
    slopes = {}
    for parent, local in zip(d.parents, d.local_grads):
        slopes[parent] = slopes.get(parent, 0.0) + local
    assert slopes == {a: 3.0 + 1.0, b: 5.0, c: 1.0}


def test_a_leaf_has_no_parents_or_operands():
    x = Value(1.0)
    assert x.is_leaf()
    assert x.parents == () and x.local_grads == () and x.operands == ()
    assert x.op == ""


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda x, y: x * 2, lambda x, y: (x, 2.0), id="x*2"),
        pytest.param(lambda x, y: 1 - x, lambda x, y: (1.0, x), id="1-x"),
        pytest.param(lambda x, y: x - 1, lambda x, y: (x, 1.0), id="x-1"),
        pytest.param(lambda x, y: 3 / x, lambda x, y: (3.0, x), id="3/x"),
        pytest.param(lambda x, y: x / 3, lambda x, y: (x, 3.0), id="x/3"),
        pytest.param(lambda x, y: 2**x, lambda x, y: (2.0, x), id="2**x"),
        pytest.param(lambda x, y: x**2, lambda x, y: (x, 2.0), id="x**2"),
        pytest.param(lambda x, y: x + y, lambda x, y: (x, y), id="x+y"),
        pytest.param(lambda x, y: y - x, lambda x, y: (y, x), id="y-x"),
        pytest.param(lambda x, y: x**y, lambda x, y: (x, y), id="x**y"),
        pytest.param(lambda x, y: x.tanh(), lambda x, y: (x,), id="tanh"),
        pytest.param(lambda x, y: -x, lambda x, y: (x,), id="neg"),
        pytest.param(lambda x, y: Value.sum([x, 1.0, y]), lambda x, y: (x, y), id="sum"),
    ],
)
def test_operands_are_what_the_op_was_applied_to_in_written_order(make, expected):
    x, y = Value(2.0), Value(3.0)
    assert make(x, y).operands == expected(x, y)


@pytest.mark.parametrize(
    ("make", "number"), [(lambda x: 1 + x, 1.0), (lambda x: 2 * x, 2.0)], ids=["1+x", "2*x"]
)
def test_operands_of_commutative_ops_put_a_plain_number_second(make, number):
    x = Value(2.0)
    assert make(x).operands == (x, number)


@pytest.mark.parametrize(
    ("make", "op"),
    [
        (lambda x: x + 1, "+"),
        (lambda x: x * x, "*"),
        (lambda x: x.tanh(), "tanh"),
        (lambda x: x.relu(), "relu"),
        (lambda x: x.exp(), "exp"),
        (lambda x: x.log(), "log"),
    ],
)
def test_op_names_the_operation(make, op):
    assert make(Value(2.0)).op == op


def test_topological_order_puts_every_node_after_its_parents_and_ends_with_the_root():
    x, y = Value(1.0), Value(-2.0)
    a = x * y
    b = a.tanh() + x
    c = Value.sum([a, b, y, a])
    root = c * b + Value.dot([x, y], [a, 2.0], b)
    order = topological_order(root)
    assert order[-1] is root
    assert len(order) == len(set(order))
    position = {node: i for i, node in enumerate(order)}
    assert {x, y, a, b, c} <= set(position)
    for node in order:
        for parent in node.parents:
            assert position[parent] < position[node]


def test_topological_order_of_a_leaf_is_just_the_leaf():
    x = Value(1.0)
    assert topological_order(x) == [x]


# ---- numpy inputs ---------------------------------------------------------------------


def test_value_dot_accepts_numpy_scalar_inputs_like_the_elementary_chain():
    np = pytest.importorskip("numpy")
    ws = [Value(1.5), Value(-2.0)]
    xs = np.array([3.0, 0.25])
    expected = sum(w * x for w, x in zip(ws, xs)).data
    assert Value.dot(ws, xs).data == expected


def test_fused_mlp_accepts_a_numpy_row_like_the_unfused_one():
    np = pytest.importorskip("numpy")
    fused = MLP(2, [3, 1], rng=random.Random(7))
    unfused = MLP(2, [3, 1], rng=random.Random(7), fused=False)
    row = np.array([0.5, -1.25])
    assert unfused(row).data == unfused([0.5, -1.25]).data
    assert fused(row).data == fused([0.5, -1.25]).data


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


# ---- Value.dot: bad input ---------------------------------------------------------------------


def test_value_dot_rejects_a_plain_number_weight_by_position():
    with pytest.raises(TypeError, match=r"weights\[0\] must be a Value, got 1.0"):
        Value.dot([1.0], [Value(1.0)])


def test_value_dot_rejects_a_plain_number_bias():
    with pytest.raises(TypeError, match="bias must be a Value or None, got 0.5"):
        Value.dot([Value(1.0)], [Value(1.0)], 0.5)


def test_value_dot_rejects_inputs_without_a_length():
    with pytest.raises(TypeError, match="sequences"):
        Value.dot([Value(1.0)], (x for x in [1.0]))


def test_value_dot_of_nothing_is_a_constant_leaf():
    assert Value.dot([], []).is_leaf()


def test_an_int_too_large_for_a_float_is_named():
    with pytest.raises(OverflowError, match="Value\\(\\) needs a number that fits a float"):
        Value(10**400)


def test_fused_parts_gives_a_fused_neurons_weights_inputs_bias_and_activation():
    w = [Value(1.0), Value(2.0)]
    b, x = Value(0.5), Value(3.0)
    parts = fused_parts(Value.dot(w, [x, 4.0], b, activation="tanh"))
    assert parts == FusedParts(tuple(w), (x, 4.0), b, "tanh")
    assert fused_parts(Value.dot(w, [x, 4.0])) == FusedParts(tuple(w), (x, 4.0), None, None)


def test_fused_parts_of_any_other_node_is_none():
    x = Value(2.0)
    assert fused_parts(x * 2) is None
    assert fused_parts(x) is None
    assert fused_parts(Value.sum([x, x])) is None
