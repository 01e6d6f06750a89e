"""micrograd.data: toy data sets, splitting and batching; pure Python and seeded."""

from __future__ import annotations

import inspect
import math
import random

import pytest

from micrograd.data import (
    batches,
    linspace,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    train_test_split,
)

MAKERS = [make_moons, make_circles, make_spirals, make_blobs, make_xor]


@pytest.mark.parametrize("make", MAKERS)
def test_a_data_set_is_the_same_for_the_same_seed(make):
    assert make(n=60, seed=5) == make(n=60, seed=5)


@pytest.mark.parametrize("make", MAKERS)
def test_a_data_set_differs_for_another_seed(make):
    assert make(n=60, seed=5)[0] != make(n=60, seed=6)[0]


@pytest.mark.parametrize("make", MAKERS)
def test_a_data_set_is_n_points_of_plain_floats_with_int_labels(make):
    X, y = make(n=61, seed=1)
    assert len(X) == len(y) == 61
    assert all(type(c) is float for x in X for c in x)
    assert all(type(t) is int for t in y)


@pytest.mark.parametrize("make", MAKERS)
def test_making_a_data_set_leaves_the_global_random_state_alone(make):
    random.seed(3)
    before = random.getstate()
    make(n=20, seed=0)
    assert random.getstate() == before


def test_moons_are_two_balanced_classes_0_and_1():
    X, y = make_moons(101, noise=0.1, seed=0)
    assert (y.count(0), y.count(1)) == (50, 51)


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = make_moons(40, noise=0.0, seed=0)
    for (a, b), label in zip(X, y):
        centre = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.hypot(a - centre[0], b - centre[1]) == pytest.approx(1.0)
        assert (b >= -1e-12) if label == 0 else (b <= 0.5 + 1e-12)


def test_moons_default_seed_is_the_demo_seed():
    assert make_moons() == make_moons(100, 0.1, seed=1337)


def test_circles_without_noise_have_radius_one_and_factor():
    X, y = make_circles(50, noise=0.0, factor=0.3, seed=0)
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.3)


def test_spirals_have_one_class_per_arm_split_evenly():
    X, y = make_spirals(100, classes=3, seed=0)
    assert sorted(set(y)) == [0, 1, 2]
    assert sorted(y.count(k) for k in range(3)) == [33, 33, 34]


def test_spirals_without_noise_stay_in_the_unit_disc():
    X, _ = make_spirals(90, classes=3, noise=0.0, seed=0)
    assert max(math.hypot(a, b) for a, b in X) == pytest.approx(1.0)


def test_spiral_arms_start_evenly_around_the_circle_and_turn_4_radians_outwards():
    classes = 3
    X, y = make_spirals(90, classes=classes, noise=0.0, seed=0)
    for (a, b), k in zip(X, y):
        r = math.hypot(a, b)
        if r > 0:  # a = r sin(angle), b = r cos(angle), angle = 2πk/classes + 4r
            expected = 2 * math.pi * k / classes + 4.0 * r
            turn = math.atan2(a, b) - expected
            assert math.remainder(turn, 2 * math.pi) == pytest.approx(0.0, abs=1e-9)


def test_blobs_gather_around_given_centres():
    centres = [[-5.0, 0.0], [5.0, 0.0]]
    X, y = make_blobs(40, centers=centres, std=0.1, seed=0)
    for x, label in zip(X, y):
        assert math.dist(x, centres[label]) < 1.0


def test_blobs_take_centres_of_any_dimension():
    X, _ = make_blobs(10, centers=[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], seed=0)
    assert {len(x) for x in X} == {3}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_moons(1), "n must be an int >= 2, got 1"),
        (lambda: make_moons(10, noise=-0.1), "noise must be >= 0, got -0.1"),
        (lambda: make_moons(10, noise=math.inf), "noise must be finite, got inf"),
        (lambda: make_circles(10, factor=1.5), r"factor must be in \(0, 1\), got 1.5"),
        (lambda: make_spirals(10, classes=0), "classes must be an int >= 1, got 0"),
    ],
)
def test_bad_arguments_are_rejected_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "centers, error, message",
    [
        (3.0, TypeError, r"^centers must be a number of centres \(an int >= 1\) or a list of points, got float 3.0$"),
        ([1.0, 2.0], TypeError, r"^centers\[0\] must be a point \(a list of numbers\), got float 1.0$"),
        ([[0.0, "1"]], TypeError, r"^centers\[0\]\[1\] must be a number, got str '1'$"),
        ([[0.0, math.nan]], ValueError, r"^centers\[0\]\[1\] must be finite, got nan$"),
        ([], ValueError, r"^centers must be a number or a non-empty list of points"),
        ([[0.0], [1.0, 2.0]], ValueError, r"^centers\[1\] has 2 coordinates but centers\[0\] has 1$"),
        (0, ValueError, r"^centers must be an int >= 1, got 0$"),
    ],
)  # fmt: skip
def test_blobs_reject_centres_that_are_not_a_count_or_points_naming_the_one(
    centers, error, message
):
    with pytest.raises(error, match=message):
        make_blobs(10, centers=centers)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_moons("100"), "n must be an int >= 2, got str '100'"),
        (lambda: make_circles(10.0), "n must be an int >= 2, got float 10.0"),
        (lambda: make_spirals(10, classes=2.0), "classes must be an int >= 1, got float 2.0"),
        (lambda: make_moons(10, noise="0.1"), "noise must be a number, got str '0.1'"),
        (lambda: make_blobs(10, std=None), "std must be a number, got NoneType None"),
        (lambda: batches([[1.0]], [1], batch_size=1.0), "batch_size must be an int >= 1"),
    ],
)
def test_an_argument_of_the_wrong_type_is_a_type_error_naming_it(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_a_seed_that_is_not_an_int_is_rejected():
    with pytest.raises(TypeError, match="seed must be an int or a random.Random"):
        make_moons(10, seed=1.5)


def test_the_module_exports_only_functions_it_defines():
    import micrograd.data

    for name in micrograd.data.__all__:
        thing = getattr(micrograd.data, name)
        assert inspect.isfunction(thing) and thing.__module__ == "micrograd.data", name


# ---- linspace -----------------------------------------------------------------------------------


def test_linspace_gives_count_evenly_spaced_floats_from_start_to_stop():
    assert linspace(0, 1, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert linspace(0, 1, 4, endpoint=False) == [0.0, 0.25, 0.5, 0.75]
    assert linspace(2, 3, 1) == [2.0] and type(linspace(2, 3, 1)[0]) is float


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((0, 1, 0), ValueError, "^count must be an int >= 1, got 0$"),
        ((0, 1, -3), ValueError, "^count must be an int >= 1, got -3$"),
        ((0, 1, 2.0), TypeError, "^count must be an int >= 1, got float 2.0$"),
        (("0", 1, 3), TypeError, "^start must be a number, got str '0'$"),
        ((0, math.inf, 3), ValueError, "^stop must be finite, got inf$"),
    ],
)
def test_linspace_refuses_a_bad_argument_naming_it(args, error, message):
    with pytest.raises(error, match=message):
        linspace(*args)


# ---- train_test_split -------------------------------------------------------------------------


def test_split_holds_out_the_test_fraction_rounded_up():
    X, y = make_moons(10, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    assert (len(X_train), len(X_test), len(y_train), len(y_test)) == (7, 3, 7, 3)


def test_split_parts_are_disjoint_and_cover_the_data_with_labels_kept():
    X = [[float(i)] for i in range(20)]
    y = list(range(20))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=5, seed=1)
    assert sorted(y_train + y_test) == y
    assert all(x == [float(t)] for x, t in zip(X_train + X_test, y_train + y_test))


def test_split_is_the_same_for_the_same_seed():
    X, y = make_moons(30, seed=0)
    assert train_test_split(X, y, seed=4) == train_test_split(X, y, seed=4)


@pytest.mark.parametrize("test_size", [0.0, 1.0, 0, 10])
def test_split_needs_a_row_in_each_part(test_size):
    X, y = make_moons(10, seed=0)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=test_size)


# ---- batches --------------------------------------------------------------------------------------


def test_batches_visit_every_row_once_with_a_smaller_last_batch():
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    parts = list(batches(X, y, batch_size=4, seed=0))
    assert [len(yb) for _, yb in parts] == [4, 4, 2]
    assert sorted(t for _, yb in parts for t in yb) == y
    assert all(x == [float(t)] for xb, yb in parts for x, t in zip(xb, yb))


def test_batches_without_shuffle_keep_the_order():
    y = list(range(7))
    assert [yb for _, yb in batches(y, y, batch_size=3, shuffle=False)] == [
        [0, 1, 2],
        [3, 4, 5],
        [6],
    ]


def test_batches_are_the_same_for_the_same_int_seed():
    y = list(range(30))
    assert list(batches(y, y, 8, seed=2)) == list(batches(y, y, 8, seed=2))


def test_batches_without_a_seed_shuffle_with_seed_0_and_leave_global_random_alone():
    y = list(range(30))
    random.seed(3)
    before = random.getstate()
    assert list(batches(y, y, 8)) == list(batches(y, y, 8, seed=0))
    assert random.getstate() == before


def test_batches_with_seed_none_draw_from_the_global_random_module():
    y = list(range(30))
    random.seed(5)
    first = list(batches(y, y, 30, seed=None))
    random.seed(5)
    assert list(batches(y, y, 30, seed=None)) == first


def test_one_random_generator_gives_a_new_order_each_epoch():
    y = list(range(30))
    rng = random.Random(0)
    first = [yb for _, yb in batches(y, y, 30, seed=rng)]
    second = [yb for _, yb in batches(y, y, 30, seed=rng)]
    assert first != second


def test_batches_check_their_arguments_when_called_not_when_iterated():
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        batches([[1.0]], [1], batch_size=0)
    with pytest.raises(ValueError, match="same length, got 2 and 1"):
        batches([[1.0], [2.0]], [1], batch_size=1)


def test_xor_labels_a_point_1_where_its_coordinates_differ_in_sign():
    X, y = make_xor(n=200, noise=0.0, seed=3)
    assert all(label == int((a < 0) != (b < 0)) for (a, b), label in zip(X, y))
    assert set(y) == {0, 1}
    assert all(-1.0 <= c <= 1.0 for x in X for c in x)
