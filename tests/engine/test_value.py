"""value.py: what a Value holds, how ops record the graph, backward(), no_grad().

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
    assert_close,
)

from micrograd.engine import (
    Value,
    is_grad_enabled,
    no_grad,
    topological_order,
)
from micrograd.nn import MLP

DEFAULT_RECURSION_LIMIT = 1000  # CPython's default, which the deep-graph tests must not raise
DEEP = 200_000


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
