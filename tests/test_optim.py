"""micrograd.optim: SGD, Adam, AdamW, their state, and learning-rate schedules."""

from __future__ import annotations

import copy
import json
import math
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd.engine import Value
from micrograd.optim import (
    SGD,
    Adam,
    AdamW,
    StepError,
    constant,
    cosine,
    linear_decay,
    step_decay,
)


def params_at(values: list[float]) -> list[Value]:
    return [Value(x) for x in values]


def gradient(xs: list[float]) -> list[float]:
    """A gradient that changes with the parameters and has mixed signs and sizes."""
    return [2.0 * (i + 1) * x + math.cos(3.0 * x) for i, x in enumerate(xs)]


def run(optimizer_class, start: list[float], steps: int, **options) -> list[float]:
    params = params_at(start)
    optimizer = optimizer_class(params, **options)
    for _ in range(steps):
        for p, g in zip(params, gradient([p.data for p in params])):
            p.grad = g
        optimizer.step()
    return [p.data for p in params]


START = [0.5, -1.25, 2.0, -0.01]


# ---- the update rules, by hand -------------------------------------------------------------


def test_sgd_step_is_p_minus_lr_times_grad():
    p = Value(1.5)
    p.grad = 0.25
    SGD([p], lr=0.1).step()
    assert p.data == 1.5 - 0.1 * 0.25


def test_sgd_first_momentum_step_equals_a_plain_step():
    assert run(SGD, START, 1, lr=0.1, momentum=0.9) == run(SGD, START, 1, lr=0.1)


def test_sgd_weight_decay_adds_decay_times_p_to_the_gradient():
    p = Value(2.0)
    p.grad = 0.5
    SGD([p], lr=0.1, weight_decay=0.01).step()
    assert p.data == 2.0 - 0.1 * (0.5 + 0.01 * 2.0)


def test_adam_first_step_moves_each_parameter_by_about_lr():
    after = run(Adam, START, 1, lr=0.01)
    for before, now in zip(START, after):
        assert abs(before - now) == pytest.approx(0.01, rel=1e-6)


def test_adamw_shrinks_a_parameter_with_zero_gradient_by_lr_times_decay():
    p = Value(3.0)
    p.grad = 0.0
    AdamW([p], lr=0.1, weight_decay=0.5).step()
    assert p.data == 3.0 * (1 - 0.1 * 0.5)


def test_step_counts_steps_and_zero_grad_clears_gradients():
    params = params_at(START)
    optimizer = Adam(params)
    for p in params:
        p.grad = 1.0
    optimizer.step()
    optimizer.step()
    optimizer.zero_grad()
    assert optimizer.step_count == 2
    assert all(p.grad == 0.0 for p in params)


# ---- gradients must be plain numbers ------------------------------------------------------


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps, lr=0.1)])
def test_step_after_backward_with_create_graph_is_a_type_error_that_changes_nothing(make):
    params = params_at(START)
    optimizer = make(params)
    Value.sum(p * p for p in params).backward(create_graph=True)  # every p.grad is a Value
    before = optimizer.state_dict()
    with pytest.raises(
        TypeError, match=r"params\[0\]\.grad is a Value .*float\(p\.grad\).*without create_graph"
    ):
        optimizer.step()
    assert [p.data for p in params] == START
    assert optimizer.state_dict() == before


OPTIMIZERS = [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: Adam(ps, lr=0.1),
    lambda ps: AdamW(ps, lr=0.1),
]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["SGD", "SGD+momentum", "Adam", "AdamW"])
def test_a_step_that_fails_part_way_changes_no_parameter_buffer_or_step_count(make):
    params = params_at(START)
    optimizer = make(params)
    for p in params:
        p.grad = 1.0
    optimizer.step()  # non-zero buffers, to see that they are kept too
    for p in params:
        p.grad = 0.5
    # set past Value's check: an int too large for a float, so the last update raises
    # (a gradient like it is refused before any update: see the StepError tests below)
    params[-1].data = 10**400
    before = optimizer.state_dict()
    data = [p.data for p in params]
    with pytest.raises(OverflowError):
        optimizer.step()
    assert [p.data for p in params] == data
    assert optimizer.state_dict() == before


# ---- PyTorch parity (float64, several steps) ----------------------------------------------


TORCH_CASES = [
    ("SGD", SGD, {"lr": 0.05}),
    ("SGD", SGD, {"lr": 0.05, "momentum": 0.9}),
    ("SGD", SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", SGD, {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("Adam", Adam, {"lr": 0.01}),
    ("Adam", Adam, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05}),
    ("AdamW", AdamW, {"lr": 0.01}),
    ("AdamW", AdamW, {"lr": 0.1, "betas": (0.5, 0.9), "weight_decay": 0.3}),
]


@pytest.mark.parametrize("torch_name, ours, options", TORCH_CASES)
def test_matches_torch_optim_step_for_step(torch_name, ours, options):
    torch = pytest.importorskip("torch")
    steps = 6
    expected = []
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer = getattr(torch.optim, torch_name)([p], **options)
    for _ in range(steps):
        p.grad = torch.tensor(gradient(p.detach().tolist()), dtype=torch.float64)
        optimizer.step()
        expected.append(p.detach().tolist())

    params = params_at(START)
    mine = ours(params, **options)
    for step in range(steps):
        for q, g in zip(params, gradient([q.data for q in params])):
            q.grad = g
        mine.step()
        for i, q in enumerate(params):
            assert q.data == pytest.approx(expected[step][i], rel=1e-12, abs=1e-15), (
                f"step {step}, parameter {i}"
            )


# ---- bad arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda ps: SGD(ps, lr=-0.1), r"^lr must be > 0, got -0.1$"),
        (lambda ps: SGD(ps, lr=0.0), r"^lr must be > 0, got 0.0$"),
        (lambda ps: Adam(ps, lr=math.inf), r"^lr must be finite, got inf$"),
        (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), r"^momentum must be >= 0, got -0.5$"),
        (lambda ps: SGD(ps, lr=0.1, weight_decay=-1), r"^weight_decay must be >= 0, got -1$"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=True), "nesterov=True needs a momentum > 0"),
        (lambda ps: Adam(ps, betas=(0.9, 1.0)), r"^betas\[1\] must be in \[0, 1\), got 1.0$"),
        (lambda ps: Adam(ps, betas=(-0.1, 0.9)), r"^betas\[0\] must be in \[0, 1\), got -0.1$"),
        (lambda ps: Adam(ps, eps=-1e-8), r"^eps must be > 0, got -1e-08$"),
        (lambda ps: Adam(ps, eps=0.0), r"^eps must be > 0, got 0.0$"),
        (lambda ps: AdamW(ps, eps=0), r"^eps must be > 0, got 0$"),
    ],
)
def test_bad_hyperparameters_are_rejected_naming_the_argument(build, message):
    with pytest.raises(ValueError, match=message):
        build(params_at(START))


def test_an_empty_parameter_list_is_rejected():
    with pytest.raises(ValueError, match="params is empty"):
        SGD([], lr=0.1)


def test_a_parameter_listed_twice_is_rejected():
    p, q = Value(1.0), Value(2.0)
    with pytest.raises(ValueError, match=r"params\[2\] is params\[0\] again"):
        SGD([p, q, p], lr=0.1)


def test_equal_but_distinct_parameters_are_not_duplicates():
    params = [Value(1.0), Value(1.0)]
    assert SGD(params, lr=0.1).params == params


def test_parameters_must_be_values():
    with pytest.raises(TypeError, match=r"params\[1\] must be a Value, got float 2.0"):
        SGD([Value(1.0), 2.0], lr=0.1)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda ps: SGD(ps, lr="0.1"), r"^lr must be a number, got str '0.1'$"),
        (lambda ps: Adam(ps, betas=0.9), r"^betas must be a pair \(beta1, beta2\), got float 0.9$"),
        (lambda ps: Adam(ps, betas=(0.9, "0.999")), r"^betas\[1\] must be a number, got str"),
        (lambda ps: SGD(ps, lr=0.1, momentum=None), r"^momentum must be a number, got NoneType"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=1), r"^nesterov must be True or False, got int 1$"),
    ],
)
def test_a_hyperparameter_of_the_wrong_type_is_a_type_error(build, message):
    with pytest.raises(TypeError, match=message):
        build(params_at(START))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: linear_decay(1.0, 0.1, 10.0), r"^steps must be an int >= 1, got float 10.0$"),
        (lambda: cosine(1.0, 0.1, "100"), r"^steps must be an int >= 1, got str '100'$"),
        (lambda: step_decay(1.0, "0.5", 10), r"^factor must be a number, got str '0.5'$"),
    ],
)
def test_a_schedule_argument_of_the_wrong_type_is_a_type_error(build, message):
    with pytest.raises(TypeError, match=message):
        build()


# ---- state: resuming exactly ------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True), lambda ps: Adam(ps, lr=0.01)]
)
def test_state_dict_lets_training_resume_exactly(make):
    def train(params, optimizer, steps):
        for _ in range(steps):
            for p, g in zip(params, gradient([p.data for p in params])):
                p.grad = g
            optimizer.step()

    straight = params_at(START)
    train(straight, make(straight), 8)

    first = params_at(START)
    first_optimizer = make(first)
    train(first, first_optimizer, 4)
    state = json.loads(json.dumps(first_optimizer.state_dict()))  # through JSON and back
    resumed = params_at([p.data for p in first])
    resumed_optimizer = make(resumed)
    resumed_optimizer.load_state_dict(state)
    train(resumed, resumed_optimizer, 4)

    assert [p.data for p in resumed] == [p.data for p in straight]


def test_state_dict_holds_hyperparameters_step_count_and_buffers():
    optimizer = Adam(params_at(START), lr=0.01, betas=(0.8, 0.9))
    state = optimizer.state_dict()
    assert state["type"] == "Adam"
    assert state["hyperparameters"] == {
        "lr": 0.01,
        "betas": [0.8, 0.9],
        "eps": 1e-8,
        "weight_decay": 0.0,
    }
    assert state["step_count"] == 0
    assert state["buffers"] == {"m": [0.0] * 4, "v": [0.0] * 4}


def test_load_state_dict_restores_hyperparameters():
    source = SGD(params_at(START), lr=0.3, momentum=0.7)
    target = SGD(params_at(START), lr=0.1)
    target.load_state_dict(source.state_dict())
    assert (target.lr, target.momentum) == (0.3, 0.7)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda s: s.update(type="SGD"), "optimizer state is for 'SGD', not 'Adam'"),
        (lambda s: s["buffers"]["m"].pop(), "buffer 'm' must be a list of 4 numbers"),
        (
            lambda s: s["buffers"]["v"].__setitem__(2, math.nan),
            r"buffer 'v'\[2\] must be finite, got nan",
        ),
        (lambda s: s["hyperparameters"].update(lr=-1.0), "lr must be > 0, got -1.0"),
        (lambda s: s["hyperparameters"].update(lr="fast"), "lr must be a number"),
        (lambda s: s["hyperparameters"].update(eps=0.0), "eps must be > 0, got 0.0"),
        (lambda s: s.update(step_count=-1), "step_count must be an int >= 0"),
        (lambda s: s.pop("buffers"), "optimizer state must have the keys"),
    ],
)
def test_load_state_dict_rejects_a_bad_state_and_changes_nothing(corrupt, message):
    optimizer = Adam(params_at(START), lr=0.01)
    for p in optimizer.params:
        p.grad = 1.0
    optimizer.step()
    before = copy.deepcopy(optimizer.state_dict())
    state = copy.deepcopy(before)
    state["hyperparameters"]["lr"] = 0.5
    corrupt(state)
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict(state)
    assert optimizer.state_dict() == before


# ---- schedules --------------------------------------------------------------------------------


def test_linear_decay_is_micrograds_demo_schedule_float_for_float():
    schedule = linear_decay(1.0, 0.1, 100)
    assert [schedule(k) for k in range(100)] == [1.0 - 0.9 * k / 100 for k in range(100)]


def test_linear_decay_holds_its_end_after_the_last_step():
    schedule = linear_decay(1.0, 0.1, 100)
    assert schedule(100) == schedule(1000) == pytest.approx(0.1)


def test_constant_gives_the_same_rate_every_step():
    assert {constant(0.3)(k) for k in range(10)} == {0.3}


def test_step_decay_multiplies_by_factor_every_interval():
    schedule = step_decay(1.0, 0.5, every=10)
    assert [schedule(k) for k in (0, 9, 10, 19, 20, 35)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.125]


def test_cosine_starts_at_start_passes_the_middle_halfway_and_ends_at_end():
    schedule = cosine(1.0, 0.1, steps=100)
    assert schedule(0) == 1.0
    assert schedule(50) == pytest.approx(0.55)
    assert schedule(100) == 0.1
    assert schedule(200) == schedule(100)


def test_cosine_ends_at_a_hundredth_of_start_by_default():
    assert cosine(0.5, steps=10)(10) == 0.005


@pytest.mark.parametrize(
    "make", [lambda: linear_decay(1.0, 1e-20, 10), lambda: cosine(1.0, 1e-20, 10)]
)
def test_a_schedule_holds_its_end_exactly_however_small(make):
    assert make()(10) == make()(11) == 1e-20


@pytest.mark.parametrize(
    "make", [lambda: linear_decay(1.0, 1e-20, 10), lambda: cosine(1.0, steps=10)]
)
def test_every_rate_a_schedule_gives_is_a_valid_optimizer_lr(make):
    schedule = make()
    for k in range(20):
        SGD([Value(0.0)], lr=schedule(k))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: constant(0.0), "lr must be > 0, got 0.0"),
        (lambda: linear_decay(-1.0, 0.1, 100), "start must be > 0, got -1.0"),
        (lambda: linear_decay(1.0, 0.1, 0), "steps must be an int >= 1, got 0"),
        (lambda: step_decay(1.0, 1.5, 10), r"factor must be in \(0, 1\], got 1.5"),
        (lambda: cosine(1.0, -0.1), "end must be > 0, got -0.1"),
        (lambda: cosine(1.0, 0.0), "end must be > 0, got 0.0"),
        (lambda: linear_decay(1.0, 0, 10), "end must be > 0, got 0"),
    ],
)
def test_bad_schedule_arguments_are_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# ---- a schedule never reaches 0 (issue 14, item 6) ------------------------------------------


def test_step_decay_never_reaches_zero_however_many_halvings():
    schedule = step_decay(1.0, 0.5, every=1)
    assert schedule(1075) > 0.0  # 0.5 ** 1075 underflows to 0.0
    assert schedule(10**6) > 0.0


def test_step_decay_holds_the_smallest_rate_it_reaches_before_rounding_to_zero():
    schedule = step_decay(1.0, 0.5, every=1)
    rates = [schedule(k) for k in range(1070, 1080)]
    assert rates == sorted(rates, reverse=True)
    assert schedule(10**6) == min(rates) == 5e-324


def test_a_linear_decay_over_very_many_steps_never_reaches_zero():
    schedule = linear_decay(1.0, 1e-300, 2**60)
    assert schedule(2**60 - 1) > 0.0  # 1 - (1 - 1e-300) * (2**60 - 1) / 2**60 rounds to 0


@given(
    start=st.floats(min_value=5e-324, max_value=1e300),
    end=st.floats(min_value=5e-324, max_value=1e300),
    steps=st.integers(min_value=1, max_value=2**64),
    at=st.integers(min_value=0, max_value=2**65),
)
@settings(max_examples=300, deadline=None)
def test_every_rate_of_a_linear_or_cosine_schedule_lies_between_start_and_end(
    start, end, steps, at
):
    for make in (linear_decay, cosine):
        rate = make(start, end, steps)(at)
        assert min(start, end) <= rate <= max(start, end), (make.__name__, rate)


@given(
    start=st.floats(min_value=5e-324, max_value=1e300),
    factor=st.floats(min_value=5e-324, max_value=1.0),
    every=st.integers(min_value=1, max_value=100),
    at=st.integers(min_value=0, max_value=2**40),
)
@settings(max_examples=300, deadline=None)
def test_every_rate_of_a_step_decay_is_positive_and_at_most_start(start, factor, every, at):
    assert 0.0 < step_decay(start, factor, every)(at) <= start


# ---- Adam's state is checked like its hyperparameters (issue 14, item 8) -------------------


@pytest.mark.parametrize("make", [Adam, AdamW])
@pytest.mark.parametrize(
    "bad, message",
    [
        (-1e-12, r"buffer 'v'\[1\] must be >= 0 \(a running average of g²\), got -1e-12"),
        (math.inf, r"buffer 'v'\[1\] must be finite, got inf"),
    ],
)
def test_adam_refuses_a_second_moment_that_is_negative_or_infinite(make, bad, message):
    optimizer = make(params_at(START), lr=0.01)
    state = optimizer.state_dict()
    before = copy.deepcopy(state)
    state["buffers"]["v"][1] = bad
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict(state)
    assert optimizer.state_dict() == before


def test_adam_accepts_a_first_moment_of_either_sign():
    optimizer = Adam(params_at(START), lr=0.01)
    state = optimizer.state_dict()
    state["buffers"]["m"] = [-1.0, 1.0, -0.5, 0.0]
    optimizer.load_state_dict(state)
    assert optimizer.m == [-1.0, 1.0, -0.5, 0.0]


# ---- step() refuses what would make a number NaN or infinite (issue 14, item 11) ----------------


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["SGD", "SGD+momentum", "Adam", "AdamW"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_step_refuses_a_gradient_that_is_not_finite_and_changes_nothing(make, bad):
    params = params_at(START)
    optimizer = make(params)
    for p in params:
        p.grad = 1.0
    params[2].grad = bad
    before = optimizer.state_dict()
    with pytest.raises(StepError, match=rf"^the gradient of parameter params\[2\] is {bad}; "):
        optimizer.step()
    assert [p.data for p in params] == START
    assert optimizer.state_dict() == before


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["SGD", "SGD+momentum", "Adam", "AdamW"])
def test_step_refuses_an_int_gradient_too_large_for_a_float_and_changes_nothing(make):
    params = params_at(START)
    optimizer = make(params)
    for p in params:
        p.grad = 1.0
    params[2].grad = 10**400
    before = optimizer.state_dict()
    with pytest.raises(
        StepError,
        match=r"^the gradient of parameter params\[2\] is a number too large for a float; ",
    ):
        optimizer.step()
    assert [p.data for p in params] == START
    assert optimizer.state_dict() == before


def test_a_step_error_is_a_floating_point_error_that_says_where():
    params = params_at(START)
    params[1].grad = math.nan
    with pytest.raises(FloatingPointError) as caught:
        SGD(params, lr=0.1).step()
    assert (caught.value.index, caught.value.quantity) == (1, "gradient")
    assert math.isnan(caught.value.value)


def test_a_step_error_survives_pickling_whole():
    """As an exception must, to cross a process boundary (multiprocessing, a pool)."""
    params = params_at(START)
    params[1].grad = math.inf
    with pytest.raises(StepError) as caught:
        Adam(params).step()
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is StepError and str(again) == str(caught.value)
    assert (again.index, again.quantity, again.optimizer) == (1, "gradient", "Adam")
    assert again.value == math.inf


def test_step_refuses_an_update_that_overflows_and_changes_nothing():
    params = params_at(START)
    optimizer = SGD(params, lr=1e308)
    for p in params:
        p.grad = 1.0
    params[3].grad = -10.0  # 1e308 * -10 overflows: params[3] would be inf
    with pytest.raises(StepError, match=r"the update made parameter params\[3\] inf"):
        optimizer.step()
    assert [p.data for p in params] == START and optimizer.step_count == 0


def test_step_refuses_an_adam_second_moment_that_overflows_and_changes_nothing():
    params = params_at(START)
    optimizer = Adam(params, lr=0.1)
    for p in params:
        p.grad = 1.0
    params[0].grad = 1e200  # finite, but g * g is not
    before = optimizer.state_dict()
    with pytest.raises(StepError, match=r"the update made Adam's v for parameter params\[0\] inf"):
        optimizer.step()
    assert [p.data for p in params] == START and optimizer.state_dict() == before
