"""micrograd.compiler: a traced function, run as straight-line Python, gives the Value
path's floats, bit for bit, and refuses what it cannot trace.

Every comparison here is by the floats' bits (`bits`): the same operations in the same
order give the same numbers, -0.0 and NaN included.
"""

from __future__ import annotations

import math
import random

import pytest
from helpers import bits, random_graph

from micrograd import Value, grad
from micrograd.compiler import Compiled, TraceError, trace
from micrograd.engine import ACTIVATIONS, LINEAR, OPS
from micrograd.losses import LOSSES, l2
from micrograd.nn import MLP


def same_bits(a, b) -> bool:
    return [bits(x) for x in a] == [bits(y) for y in b]


# ---- the same floats -------------------------------------------------------------------------


def demo_problem(seed: int):
    rng = random.Random(seed)
    X = [[rng.uniform(-1.5, 2.5), rng.uniform(-1, 1.5)] for _ in range(40)]
    y = [1 if a * a > b else -1 for a, b in X]
    return X, y


def twin_models(sizes, activation="relu", output_activation=LINEAR, seed=0):
    """Two MLPs with the same parameters: one for the Value path, one to compile."""
    a = MLP(sizes[0], sizes[1:], activation, output_activation, rng=random.Random(seed))
    b = MLP(sizes[0], sizes[1:], activation, output_activation, rng=random.Random(seed))
    return a, b


def train_both(loss_of, value_model, compiled_model, steps: int, lr: float = 0.5):
    """Train two twin models, one by backward() and one by the compiled loss; return
    each step's (value-path loss, compiled loss) and the final parameters of each."""
    compiled = trace(lambda: loss_of(compiled_model))
    losses = []
    for _ in range(steps):
        total = loss_of(value_model)
        value_model.zero_grad()
        total.backward()
        compiled_model.zero_grad()
        losses.append((total.data, compiled()))
        for p, q in zip(value_model.parameters(), compiled_model.parameters()):
            assert bits(p.grad) == bits(q.grad)
            p.data -= lr * p.grad
            q.data -= lr * q.grad
    return losses, value_model.parameters(), compiled_model.parameters()


def test_the_demo_trains_to_the_same_floats_compiled():
    X, y = demo_problem(1)

    def loss_of(model):
        return LOSSES["hinge"]([model(x) for x in X], y) + l2(model.parameters(), 1e-4)

    losses, ours, theirs = train_both(loss_of, *twin_models([2, 16, 16, 1]), steps=8)
    assert all(bits(a) == bits(b) for a, b in losses)
    assert same_bits([p.data for p in ours], [p.data for p in theirs])


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_random_mlps_with_every_activation_and_loss_train_to_the_same_floats(activation, loss):
    rng = random.Random(hash((activation, loss)) % 1000)
    sizes = [3, rng.randint(2, 6), rng.randint(2, 6), 3 if loss == "cross_entropy" else 1]
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(12)]
    if loss == "cross_entropy":
        y = [rng.randrange(3) for _ in X]
    elif loss == "binary_cross_entropy":
        y = [rng.randrange(2) for _ in X]
    elif loss == "hinge":
        y = [rng.choice([-1, 1]) for _ in X]
    else:
        y = [rng.uniform(-1, 1) for _ in X]

    def loss_of(model):
        return LOSSES[loss]([model(x) for x in X], y) + l2(model.parameters(), 1e-3)

    models = twin_models(sizes, activation, rng.choice([LINEAR, *sorted(ACTIVATIONS)]), seed=3)
    losses, ours, theirs = train_both(loss_of, *models, steps=4, lr=0.1)
    assert all(bits(a) == bits(b) for a, b in losses)
    assert same_bits([p.data for p in ours], [p.data for p in theirs])


@pytest.mark.parametrize("seed", range(150))
def test_random_expression_graphs_give_the_same_value_and_gradients(seed):
    # every op, shared nodes, and leaves (labelled x0, x1, ...) holding old gradients
    root, nodes = random_graph(seed)
    compiled = trace(lambda: random_graph(seed)[0])  # the same graph, on leaves of its own
    root.backward()
    expected = {v.label: v.grad for v in nodes if v.is_leaf()}
    assert bits(compiled()) == bits(root.data)
    got = {v.label: v.grad for v in compiled.leaves}  # they started with the same old ones
    assert same_bits([got[k] for k in sorted(got)], [expected[k] for k in sorted(got)])


def test_a_compiled_function_follows_relu_on_and_off_at_each_call():
    def f(x, y):
        return (x * y - 1.0).relu() * x + (x - y).relu()

    compiled = trace(f, 2.0, 1.0)  # traced with the first relu on and the second on
    for point in [(2.0, 1.0), (0.2, 1.0), (1.0, 3.0), (-2.0, -0.1), (0.0, 0.0)]:
        x, y = (Value(v) for v in point)
        out = f(x, y)
        value, gradients = compiled.value_and_grad(*point)
        assert bits(value) == bits(out.data)
        assert same_bits(gradients, grad(out, [x, y]))


def test_an_infinite_gradient_meeting_a_relu_that_is_off_gives_its_weight_nan_as_backward():
    w1, w2, b2 = Value(1.0), Value(0.5), Value(0.0)

    def f(x):
        off = Value.dot([w1], [x], None, "relu")  # x < 0: the relu is off, 0.0
        return Value.dot([w2], [off], b2).sqrt()  # sqrt at 0: slope inf

    f(Value(-1.0)).backward()
    expected = [w1.grad, w2.grad, b2.grad]  # w2 gets 0.0 * inf: nan
    for p in (w1, w2, b2):
        p.grad = 0.0
    trace(f, -1.0)(-1.0)
    assert math.isnan(expected[1])
    assert same_bits([w1.grad, w2.grad, b2.grad], expected)


def test_the_arguments_gradients_are_grads_and_other_leaves_accumulate_as_backward():
    w = Value(0.75)
    w.grad = 0.125  # accumulates, as backward() would add to it
    compiled = trace(lambda x: (w * x).tanh() * x, 0.3)
    value, (dx,) = compiled.value_and_grad(-1.2)
    x = Value(-1.2)
    out = (w * x).tanh() * x
    w.grad = 0.125 + 0.0  # the same start as the compiled call had
    before = w.grad
    w.grad = 0.125
    out_grads = grad(out, [x, w])
    assert bits(value) == bits(out.data) and bits(dx) == bits(out_grads[0])
    assert bits(w.grad) == bits(before)  # grad() leaves .grad alone; the compiled call added:
    w2 = Value(0.75)
    w2.grad = 0.125
    out2 = (w2 * Value(-1.2)).tanh() * Value(-1.2)
    out2.backward()
    compiled.leaves[0].grad = 0.125
    compiled(-1.2)
    assert bits(compiled.leaves[0].grad) == bits(w2.grad)


def test_a_function_of_no_value_but_a_leaf_returns_its_number_and_gradient_one():
    compiled = trace(lambda x: x, 2.5)
    assert compiled.value_and_grad(4.0) == (4.0, (1.0,))


def test_an_argument_the_function_does_not_use_has_gradient_zero_as_in_backward():
    x, y = Value(1.0), Value(2.0)
    (x * 2.0).backward()
    compiled = trace(lambda x, y: x * 2.0, 1.0, 2.0)
    assert compiled.value_and_grad(3.0, 5.0) == (6.0, (x.grad, y.grad)) == (6.0, (2.0, 0.0))


@pytest.mark.parametrize("name", ["tanh", "inf", "nan", "class", "<lambda>"])
def test_the_function_may_have_any_name_even_that_of_an_op_or_a_constant(name):
    def fn(x):
        return (x * 2.0).tanh() + math.inf * 0.0 + x

    fn.__name__ = name
    x = Value(0.5)
    out = fn(x)
    out.backward()
    value, (dx,) = trace(fn, 0.5).value_and_grad(0.5)
    assert same_bits([value, dx], [out.data, x.grad])


def test_an_op_named_like_a_variable_of_the_program_is_called_by_another_name(op_table):
    from micrograd import op

    @op(derivative=lambda x, out: 2.0 * x)  # d/dx x**2 = 2x
    def v1(x):
        return x * x

    @op(derivative=lambda x, out: 1.0)
    def s(x):
        return x + 1.0

    def fn(x):
        return (x.v1().s() * 3.0).tanh().v1()

    x = Value(0.7)
    out = fn(x)
    out.backward()
    value, (dx,) = trace(fn, 0.7).value_and_grad(0.7)
    assert same_bits([value, dx], [out.data, x.grad])


# ---- every row, and the fast paths pinned to their rows --------------------------------------

SPECIAL = [0.0, -0.0, 0.75, -2.5, math.inf, -math.inf, math.nan]


def value_path(f, point):
    """(value, gradients of the arguments) by backward(), or the error it raises."""
    xs = [Value(x) for x in point]
    try:
        out = f(*xs)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        return type(error)
    out.backward()
    return [out.data, *(x.grad for x in xs)]


def compiled_path(compiled, point):
    try:
        value, grads = compiled.value_and_grad(*point)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        return type(error)
    return [value, *grads]


def assert_compiles_like_backward(f, points):
    defined = [p for p in points if isinstance(value_path(f, p), list)]
    if not defined:  # e.g. 1 / c for c = 0: no graph to trace
        return
    compiled = trace(f, *defined[0])
    for point in points:
        expected, got = value_path(f, point), compiled_path(compiled, point)
        if isinstance(expected, list) and isinstance(got, list):
            assert same_bits(got, expected), (point, got, expected)
        else:
            assert got == expected, point


def elementary_rows():
    return [row for row in OPS.values() if row.forward is not None and row.arity in (1, 2)]


@pytest.mark.parametrize("row", elementary_rows(), ids=lambda row: row.name)
def test_every_elementary_row_compiles_to_backwards_floats_nan_and_inf_included(row):
    # the fast paths (+, -, *, relu, tanh) and the generic writer alike, times an
    # upstream gradient of 1, inf or NaN
    k = [1.0, math.inf, math.nan]
    if row.arity == 1:
        assert_compiles_like_backward(lambda x, g: row(x) * g, [(x, g) for x in SPECIAL for g in k])
        return
    pairs = [(a, b, g) for a in SPECIAL for b in SPECIAL for g in k]
    assert_compiles_like_backward(lambda a, b, g: row(a, b) * g, pairs)
    for c in SPECIAL:  # a plain number as either operand
        points = [(x, g) for x in SPECIAL for g in k]
        assert_compiles_like_backward(lambda x, g, c=c: row(x, c) * g, points)
        assert_compiles_like_backward(lambda x, g, c=c: row(c, x) * g, points)


@pytest.mark.parametrize("activation", [None, *sorted(ACTIVATIONS)])
def test_every_fused_row_compiles_to_backwards_floats_nan_and_inf_included(activation):
    def neuron(w0, w1, b, x0, g):
        return Value.dot([w0, w1], [x0, 0.5], b, activation) * g

    points = [(w, 0.25, b, x, g) for w in SPECIAL for b in (0.0, -1.0, math.nan) for x in
              SPECIAL for g in (1.0, math.inf)]  # fmt: skip
    assert_compiles_like_backward(neuron, points)


def test_a_sum_compiles_to_backwards_floats():
    points = [(a, b, g) for a in SPECIAL for b in SPECIAL for g in (1.0, math.inf)]
    assert_compiles_like_backward(lambda a, b, g: Value.sum([a, 2.0, b, a]) * g, points)


def test_the_fast_paths_write_their_rules_inline_and_the_rest_call_their_rows():
    source = trace(lambda x, y: ((x * y + x - y).relu().tanh()).exp(), 0.5, 0.25).source
    assert "v2 = v0 * v1" in source and "0.0 if v4 <= 0.0 else v4" in source
    assert "(1.0 - v6 * v6)" in source  # tanh's derivative, from the node's own number
    assert "v7 = exp(v6)" in source and "d_exp(v6, v7)" in source


def test_a_registered_op_compiles_like_a_built_in_one(op_table):
    from micrograd import op

    @op(derivative=lambda x, out: 1.0 / (1.0 + abs(x)) ** 2)  # d/dx x / (1 + |x|)
    def softsign(x):
        return x / (1.0 + abs(x))

    assert_compiles_like_backward(
        lambda x, g: softsign(x) * g, [(x, g) for x in SPECIAL for g in (1.0, math.inf)]
    )


# ---- readable source ----------------------------------------------------------------------


def test_the_source_is_python_with_a_line_per_node_forward_then_the_chain_rule_back():
    compiled = trace(lambda x, y: x * y + 1.0, 2.0, 3.0)
    source = compiled.source
    assert source.startswith("def ")
    forward = source[source.index("# forward") : source.index("# backward")]
    assert forward.count("\n") - 1 == 2  # x * y, then + 1
    assert "v2 = v0 * v1" in forward and "v3 = v2 + 1.0" in forward
    backward = source[source.index("# backward") :]
    assert "g0 += v1 * g2" in backward and "g1 += v0 * g2" in backward
    compile(source, "<test>", "exec")  # valid Python, whatever it holds


def test_a_neuron_is_one_sum_and_its_relu_a_branch():
    model = MLP(2, [1], activation="relu", output_activation="relu", rng=random.Random(0))
    source = trace(lambda x, y: model([x, y]), 1.0, 2.0).source
    assert "if v5 <= 0.0: v5 = 0.0" in source  # relu, forward
    assert "if g5 != 0.0 and v5:" in source  # the chain rule passes only where it is on


def test_the_repr_says_how_to_read_it():
    assert "print(.source)" in repr(trace(lambda x: x * x, 1.0))


def demo_loss(model, X, y):
    def loss():
        scores = [model(x) for x in X]
        return LOSSES["hinge"](scores, y) + l2(model.parameters(), 1e-4), scores

    return loss


def test_the_demo_is_a_loop_over_samples_on_one_page_with_the_models_names():
    X, y = demo_problem(1)
    model = MLP(2, [16, 16, 1], rng=random.Random(0))
    source = trace(demo_loss(model, X, y)).source
    assert source.count("\n") <= 300
    assert "for i in range(n):" in source and "x[i]" in source
    for name in ("W0", "b0", "W1", "b1", "W2", "b2"):
        assert f"{name}[j]" in source
    assert "# layer 0: relu(W0 · x[i] + b0)" in source
    assert "# backward through layer 0" in source
    assert "* 1.0" not in source and "+ 0.0" not in source


def test_a_batch_of_the_same_shape_with_other_numbers_runs_the_same_program():
    model = MLP(2, [4, 3, 1], rng=random.Random(0))
    first = trace(demo_loss(model, *demo_problem(1)))
    second = trace(demo_loss(model, *demo_problem(2)))
    assert first.source == second.source
    assert first._function is second._function  # compiled once


def test_times_the_number_one_is_written_as_nothing():
    source = trace(lambda x: (x * 1.0).tanh() * 1.0, 0.5).source
    assert "* 1.0" not in source
    assert_compiles_like_backward(lambda x: (x * 1.0).tanh() * 1.0, [(x,) for x in SPECIAL])


# ---- what it refuses ---------------------------------------------------------------------


def test_comparing_values_while_tracing_is_a_clear_error():
    def chooses_by_the_numbers(x):
        return x * 2 if x > 0 else -x

    with pytest.raises(TypeError, match=r"> on a Value while tracing: .*must not choose its graph"):
        trace(chooses_by_the_numbers, 1.0)


def test_making_a_float_of_a_value_while_tracing_is_a_clear_error():
    with pytest.raises(TypeError, match=r"float\(a Value\) on a Value while tracing"):
        trace(lambda x: x * float(x), 1.0)


def test_comparisons_work_again_after_tracing():
    with pytest.raises(TypeError):
        trace(lambda x: x if x > 0 else x, 1.0)
    assert Value(2.0) > 1.0 and float(Value(2.0)) == 2.0


def test_an_op_written_by_hand_is_refused_with_what_to_do():
    def by_hand(x):
        out = Value(2 * x.data, (x,), "double")
        out._backward = lambda: None
        return out

    with pytest.raises(TraceError, match=r"'double'.*written by hand.*micrograd.op"):
        trace(by_hand, 1.0)


@pytest.mark.parametrize("bad", ["1", None, Value(1.0), True])
def test_arguments_must_be_numbers(bad):
    with pytest.raises(TypeError, match="argument 0 must be a number"):
        trace(lambda x: x, bad)


def test_the_function_must_return_a_value():
    with pytest.raises(TypeError, match=r"must return a Value \(or a pair.*got float"):
        trace(lambda x: 1.0, 2.0)


def test_a_compiled_function_takes_as_many_arguments_as_it_was_traced_with():
    compiled = trace(lambda x, y: x + y, 1.0, 2.0)
    with pytest.raises(TypeError, match="takes 2 argument"):
        compiled(1.0)


def test_an_op_undefined_for_new_numbers_is_a_clear_error():
    compiled = trace(lambda x: x.log(), 2.0)
    with pytest.raises(ValueError, match="undefined for these numbers"):
        compiled(-1.0)
    assert compiled(math.e) == 1.0


def test_compiled_is_what_trace_returns():
    assert isinstance(trace(lambda x: x, 1.0), Compiled)


def test_reported_outputs_come_back_with_each_call_nested_as_they_were():
    w = Value(2.0)

    def f(x):
        wx, triple = w * x, x * 3.0
        return (wx + 1.0) ** 2 + triple, [wx, [triple]]

    result = trace(f, 1.0).run(0.5)
    assert result.value == (2.0 * 0.5 + 1.0) ** 2 + 1.5
    assert result.outputs == [1.0, [1.5]]
    assert result.grads == (2 * (2.0 * 0.5 + 1.0) * 2.0 + 3.0,)


def test_an_output_off_the_way_to_the_value_is_computed_and_passes_nothing_back():
    # issue 22 item 14: a loss that uses only some of the outputs it reports
    w = Value(2.0)
    result = trace(lambda x: (x * 2.0, [w * 3.0, x * x]), 1.0).run(1.5)
    assert result.value == 3.0 and result.outputs == [6.0, 2.25] and result.grads == (2.0,)
    assert w.grad == 0.0


# ---- fit(compile=True) -----------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["hinge", "cross_entropy"])
def test_fit_compiled_trains_to_the_same_floats_as_fit(loss):
    from micrograd.optim import linear_decay
    from micrograd.train import fit

    X, y = demo_problem(2)
    if loss == "cross_entropy":
        y = [0 if label < 0 else 1 for label in y]
    outputs = 2 if loss == "cross_entropy" else 1
    histories, models = [], []
    for compiled in (False, True):
        model = MLP(2, [8, outputs], rng=random.Random(4))
        history = fit(
            model, X, y, loss=loss, steps=6, reg=1e-4, schedule=linear_decay(0.5, 0.05, 6),
            progress=False, compile=compiled,
        )  # fmt: skip
        histories.append(history)
        models.append(model)
    plain, fast = histories
    assert same_bits(plain.loss, fast.loss) and plain.accuracy == fast.accuracy
    assert same_bits(
        [p.data for p in models[0].parameters()], [p.data for p in models[1].parameters()]
    )


@pytest.mark.parametrize("loss", ["hinge", "mse", "binary_cross_entropy", "cross_entropy"])
def test_fit_compiled_on_mini_batches_trains_to_the_same_floats_last_short_batch_too(loss):
    from micrograd.train import fit

    X, y = demo_problem(3)  # 40 rows: batches of 16, 16 and 8
    if loss in ("cross_entropy", "binary_cross_entropy"):
        y = [0 if label < 0 else 1 for label in y]
    outputs = 2 if loss == "cross_entropy" else 1
    histories, models = [], []
    for compiled in (False, True):
        model = MLP(2, [6, 5, outputs], rng=random.Random(7))
        histories.append(
            fit(
                model,
                X,
                y,
                loss=loss,
                steps=7,
                batch_size=16,
                reg=1e-4,
                progress=False,
                compile=compiled,
            )  # fmt: skip
        )
        models.append(model)
    assert same_bits(histories[0].loss, histories[1].loss)
    assert same_bits(
        [p.data for p in models[0].parameters()], [p.data for p in models[1].parameters()]
    )


# ---- the edges (issue 22, items 10-15) ----------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ['a"""; import builtins; builtins.RAN_BY_TRACE = 1; """', "back\\slash", "x²", "ｔａｎｈ",
     "nul\x00name", "", "1st", "\n"],
)  # fmt: skip
def test_any_function_name_traces_and_none_of_it_runs(name):
    import builtins

    def fn(x):
        return (x * 2.0).tanh() + x

    fn.__name__ = name
    x = Value(0.5)
    out = fn(x)
    out.backward()
    value, (dx,) = trace(fn, 0.5).value_and_grad(0.5)
    assert same_bits([value, dx], [out.data, x.grad])
    assert not hasattr(builtins, "RAN_BY_TRACE")


def test_an_op_whose_rules_have_no_name_compiles(op_table):
    import functools

    from micrograd import op

    def scaled(k, x):
        return k * x

    def slope(k, x, out):
        return k

    row = op(name="triple", derivative=functools.partial(slope, 3.0))(
        functools.partial(scaled, 3.0)
    )
    assert_compiles_like_backward(lambda x: row(x).tanh(), [(0.5,), (-2.0,)])


def test_a_rule_whose_name_normalises_onto_a_built_ins_runs_its_own_rule(op_table):
    from micrograd import op

    def doubled(x):
        return 2.0 * x

    doubled.__name__ = "ｔａｎｈ"  # Python reads it as tanh in source
    row = op(name="doubled", derivative=lambda x, out: 2.0)(doubled)
    assert_compiles_like_backward(lambda x: row(x).tanh(), [(0.5,), (-2.0,)])


def test_a_relu_neuron_both_input_and_weight_of_one_dot_gets_backwards_bits():
    a, b, c = Value(0.3), Value(-0.7), Value(0.1)

    def f(x):
        r = Value.dot([a], [x], None, "relu")  # on for x > 0
        # r is input 0 and weight 1 of one dot, and also reaches the root another way
        return Value.dot([b, r], [r, x], None) + r * c

    rng = random.Random(12)
    points = [(rng.uniform(0.1, 3.0),) for _ in range(200)]
    assert_compiles_like_backward(f, points)


def test_tracing_time_grows_with_the_arguments_not_their_square():
    import time

    started = time.perf_counter()
    compiled = trace(lambda *xs: Value.sum(xs), *range(30_000))
    assert time.perf_counter() - started < 10.0  # it was over 30 s
    assert compiled.value_and_grad(*[1.0] * 30_000)[0] == 30_000.0


def test_a_graph_too_long_to_compile_is_refused_by_name_before_compiling(monkeypatch):
    import micrograd.compiler as compiler

    monkeypatch.setattr(compiler, "MAX_LINES", 1000)

    def chain(x):
        for _ in range(1000):
            x = x * 1.0001
        return x

    with pytest.raises(
        TraceError, match=r"1,001 nodes needs 3,[0-9]{3} lines of Python.*use backward\(\)"
    ):
        trace(chain, 0.5)


def test_fit_compiled_trains_a_loss_that_uses_only_some_outputs():
    from micrograd.train import fit

    X, y = demo_problem(5)

    def first_output_hinge(scores, labels):
        return LOSSES["hinge"]([s[0] for s in scores], labels)

    histories = []
    for compiled in (False, True):
        model = MLP(2, [4, 2], rng=random.Random(6))
        histories.append(
            fit(
                model,
                X,
                y,
                loss=first_output_hinge,
                steps=3,
                progress=False,
                track_accuracy=False,
                compile=compiled,
            )  # fmt: skip
        )
    assert same_bits(histories[0].loss, histories[1].loss)


# ---- loops, with what a learner may bring ---------------------------------------------------


def test_a_registered_activation_and_loss_op_compile_in_the_loop_like_built_ins(op_table):
    import math as m

    from micrograd import op

    @op(derivative=lambda x, out: x / (1.0 + x * x) ** 0.5 if False else 1.0 / (1.0 + m.exp(-x)),
        activation=True)  # fmt: skip
    def softplus(x):  # d/dx log(1 + e^x) = sigmoid(x)
        return m.log1p(m.exp(-abs(x))) + max(x, 0.0)

    @op(derivative=lambda x, out: 2.0 * x)
    def square(x):
        return x * x

    X, y = demo_problem(8)

    def loss_of(model):
        return Value.sum([(model(x) - t).square() for x, t in zip(X, y)]) * (1.0 / len(X))

    models = twin_models([2, 5, 4, 1], activation="softplus", output_activation="softplus")
    compiled = trace(lambda: loss_of(models[1]))
    assert "for i in range(n):" in compiled.source and "softplus(s)" in compiled.source
    losses, ours, theirs = train_both(loss_of, *models, steps=4, lr=0.05)
    assert all(bits(a) == bits(b) for a, b in losses)
    assert same_bits([p.data for p in ours], [p.data for p in theirs])


def test_arguments_read_in_every_iteration_of_a_loop_get_their_gradients():
    model = MLP(2, [3, 1], rng=random.Random(2))
    X, _ = demo_problem(9)

    def f(scale):
        return Value.sum([(model(x) * scale).relu() for x in X])

    compiled = trace(f, 0.5)
    assert "for i in range(n):" in compiled.source
    for point in (0.5, -1.5, 2.0):
        model.zero_grad()
        scale = Value(point)
        out = f(scale)
        out.backward()
        expected = [out.data, scale.grad, *(p.grad for p in model.parameters())]
        model.zero_grad()
        value, (d_scale,) = compiled.value_and_grad(point)
        assert same_bits([value, d_scale, *(p.grad for p in model.parameters())], expected)


def random_per_sample_loss(rng: random.Random):
    """A random loss over a batch: an MLP, then a few random ops on each sample's output
    (with the sample's label, an argument, and plain numbers), summed and scaled."""
    unary = ["tanh", "sigmoid", "relu", "exp", "abs", "neg", "square"]
    steps = [rng.choice([*unary, "*arg", "+label", "-label", "/2", "logaddexp"]) for _ in range(3)]
    activation = rng.choice(sorted(ACTIVATIONS))
    sizes = [2, rng.randint(1, 5), rng.randint(1, 4), 1]
    model = MLP(2, sizes[1:], activation, rng.choice([LINEAR, activation]), rng=rng)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(rng.randint(2, 9))]
    y = [rng.choice([-1.0, 1.0, 0.5]) for _ in X]

    def loss(arg):
        terms = []
        for x, t in zip(X, y):
            v = model(x)
            for step in steps:
                if step == "square":
                    v = v**2
                elif step == "neg":
                    v = -v
                elif step == "abs":
                    v = abs(v)
                elif step == "*arg":
                    v = v * arg
                elif step == "+label":
                    v = v + t
                elif step == "-label":
                    v = t - v
                elif step == "/2":
                    v = v / 2.0
                elif step == "logaddexp":
                    v = v.logaddexp(t)
                else:
                    v = getattr(v, step)()
            terms.append(v)
        total = Value.sum(terms) * (1.0 / len(terms)) + l2(model.parameters(), 1e-3)
        return total + terms[0] * terms[-1] if extra else total  # one sample's term again

    extra = rng.random() < 0.5
    return model, loss


@pytest.mark.parametrize("seed", range(40))
def test_random_losses_over_a_batch_compile_to_loops_with_backwards_floats(seed):
    rng = random.Random(seed)
    model, loss = random_per_sample_loss(rng)
    compiled = trace(loss, 0.7)
    assert "for i in range(n):" in compiled.source
    for point in (0.7, -1.3, 0.0):
        model.zero_grad()
        arg = Value(point)
        out = loss(arg)
        out.backward()
        expected = [out.data, arg.grad, *(p.grad for p in model.parameters())]
        model.zero_grad()
        value, (d_arg,) = compiled.value_and_grad(point)
        assert same_bits([value, d_arg, *(p.grad for p in model.parameters())], expected)


def test_a_layer_of_many_inputs_is_written_with_the_helpers_and_gives_the_same_floats():
    X, y = demo_problem(10)

    def loss_of(model):
        return LOSSES["hinge"]([model(x) for x in X], y) + l2(model.parameters(), 1e-4)

    models = twin_models([2, 40, 3, 1], activation="tanh", seed=5)
    assert "weighted_sum(b, w, h0)" in trace(lambda: loss_of(models[1])).source
    losses, ours, theirs = train_both(loss_of, *models, steps=3, lr=0.1)
    assert all(bits(a) == bits(b) for a, b in losses)
    assert same_bits([p.data for p in ours], [p.data for p in theirs])
