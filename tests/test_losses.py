"""micrograd.losses: values, gradients against finite differences, stability, label checks."""

from __future__ import annotations

import math
import re

import pytest
from helpers import assert_all_close, numerical_grad

from micrograd.engine import Value
from micrograd.losses import binary_cross_entropy, cross_entropy, hinge, l2, mse


def grads_of(loss_fn, xs: list[float], *args) -> list[float]:
    """d loss / d x for each x, through backward()."""
    values = [Value(x) for x in xs]
    loss_fn(values, *args).backward()
    return [v.grad for v in values]


def value_of(loss_fn, *args) -> float:
    return lambda xs: loss_fn([Value(x) for x in xs], *args).data


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


SCORES = [0.7, -1.3, 2.4, -0.2, 0.05]


# ---- mse ---------------------------------------------------------------------------------


def test_mse_is_the_mean_of_squared_differences():
    targets = [1.0, -1.0, 2.0, 0.0, 0.5]
    expected = sum((s - t) ** 2 for s, t in zip(SCORES, targets)) / len(SCORES)
    assert mse([Value(s) for s in SCORES], targets).data == pytest.approx(expected, rel=1e-15)


def test_mse_gradient_matches_finite_differences():
    targets = [1.0, -1.0, 2.0, 0.0, 0.5]
    assert_all_close(grads_of(mse, SCORES, targets), numerical_grad(value_of(mse, targets), SCORES))


def test_mse_of_several_outputs_averages_over_every_number():
    predictions = [[Value(1.0), Value(2.0)], [Value(0.0), Value(-1.0)]]
    assert mse(predictions, [[0.0, 2.0], [0.0, 1.0]]).data == (1.0 + 0.0 + 0.0 + 4.0) / 4


# ---- hinge --------------------------------------------------------------------------------


def test_hinge_is_micrograds_max_margin_loss_float_for_float():
    labels = [1, -1, -1, 1, 1]
    scores = [Value(s) for s in SCORES]
    expected = sum((1 + -y * s).relu() for y, s in zip(labels, scores)) * (1.0 / len(scores))
    assert hinge(scores, labels).data == expected.data


def test_hinge_gradient_matches_finite_differences():
    labels = [1, -1, -1, 1, 1]
    assert_all_close(
        grads_of(hinge, SCORES, labels), numerical_grad(value_of(hinge, labels), SCORES)
    )


def test_hinge_costs_nothing_beyond_the_margin():
    assert hinge([Value(1.5), Value(-3.0)], [1, -1]).data == 0.0


def test_hinge_rejects_a_label_other_than_plus_or_minus_one():
    with pytest.raises(ValueError, match=r"hinge labels must be -1 or \+1, got 0.5 at labels\[1\]"):
        hinge([Value(0.1), Value(0.2)], [1, 0.5])


def test_hinge_error_for_zero_one_labels_says_how_to_convert():
    with pytest.raises(ValueError, match=r"2 \* y - 1"):
        hinge([Value(0.1)], [0])


# ---- binary cross-entropy --------------------------------------------------------------------


def test_binary_cross_entropy_is_the_log_loss_of_the_sigmoid():
    labels = [1, 0, 0, 1, 1]
    expected = -sum(
        y * math.log(sigmoid(z)) + (1 - y) * math.log(1 - sigmoid(z))
        for z, y in zip(SCORES, labels)
    ) / len(SCORES)
    got = binary_cross_entropy([Value(z) for z in SCORES], labels).data
    assert got == pytest.approx(expected, rel=1e-14)


def test_binary_cross_entropy_gradient_is_sigmoid_minus_label_over_n():
    labels = [1, 0, 0.3, 1, 0]
    grads = grads_of(binary_cross_entropy, SCORES, labels)
    assert_all_close(
        grads, [(sigmoid(z) - y) / len(SCORES) for z, y in zip(SCORES, labels)], rel=1e-12
    )


def test_binary_cross_entropy_gradient_matches_finite_differences():
    labels = [1, 0, 0, 1, 1]
    assert_all_close(
        grads_of(binary_cross_entropy, SCORES, labels),
        numerical_grad(value_of(binary_cross_entropy, labels), SCORES),
    )


def test_binary_cross_entropy_at_zero_has_gradient_one_half_minus_label():
    assert grads_of(binary_cross_entropy, [0.0], [1]) == [-0.5]
    assert grads_of(binary_cross_entropy, [0.0], [0]) == [0.5]


@pytest.mark.parametrize(
    "z, y, loss, grad",
    [
        (1000.0, 1, 0.0, 0.0),
        (1000.0, 0, 1000.0, 1.0),
        (-1000.0, 0, 0.0, 0.0),
        (-1000.0, 1, 1000.0, -1.0),
    ],
)
def test_binary_cross_entropy_is_exact_for_logits_of_plus_minus_1000(z, y, loss, grad):
    v = Value(z)
    out = binary_cross_entropy([v], [y])
    out.backward()
    assert (out.data, v.grad) == (loss, grad)


def test_binary_cross_entropy_rejects_plus_minus_one_labels():
    with pytest.raises(ValueError, match=r"labels must be 0 or 1 .* got -1 at labels\[0\]"):
        binary_cross_entropy([Value(0.3)], [-1])


# ---- cross-entropy -------------------------------------------------------------------------------


ROWS = [[0.2, -1.0, 3.0], [1.5, 1.4, -0.3], [-2.0, 0.0, 2.0]]
CLASSES = [2, 0, 1]


def flat_cross_entropy(xs: list[float]) -> Value:
    """cross_entropy on ROWS laid out as one flat list (for finite differences)."""
    return cross_entropy([xs[i : i + 3] for i in range(0, len(xs), 3)], CLASSES)


def test_cross_entropy_is_minus_log_softmax_of_the_label():
    expected = 0.0
    for row, y in zip(ROWS, CLASSES):
        expected -= math.log(math.exp(row[y]) / sum(math.exp(z) for z in row))
    got = cross_entropy([[Value(z) for z in row] for row in ROWS], CLASSES).data
    assert got == pytest.approx(expected / len(ROWS), rel=1e-14)


def test_cross_entropy_gradient_matches_finite_differences():
    flat = [z for row in ROWS for z in row]
    values = [Value(z) for z in flat]
    flat_cross_entropy(values).backward()
    expected = numerical_grad(lambda xs: flat_cross_entropy([Value(x) for x in xs]).data, flat)
    assert_all_close([v.grad for v in values], expected)


def test_cross_entropy_is_stable_for_huge_logits():
    row = [Value(1000.0), Value(-1000.0), Value(999.0)]
    out = cross_entropy([row], [2])
    out.backward()
    # -log softmax[2] = log(e^1000 + e^-1000 + e^999) - 999 = log(e + 1)
    assert out.data == pytest.approx(math.log(math.e + 1), rel=1e-14)
    p0 = math.e / (math.e + 1)  # softmax; the gradient is softmax - onehot(2)
    assert [v.grad for v in row] == pytest.approx([p0, 0.0, (1 - p0) - 1], rel=1e-14)


@pytest.mark.parametrize(
    "labels, message",
    [
        ([3], r"class indices 0..2, got 3 at labels\[0\]"),
        ([1.0], r"class indices 0..2, got 1.0 at labels\[0\]"),
        ([-1], r"class indices 0..2, got -1 at labels\[0\]"),
    ],
)
def test_cross_entropy_rejects_labels_that_are_not_class_indices(labels, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy([[Value(0.0), Value(1.0), Value(2.0)]], labels)


@pytest.mark.parametrize("row", [1.0, Value(1.0)])
def test_cross_entropy_of_one_score_per_example_is_a_type_error_naming_the_row(row):
    with pytest.raises(
        TypeError, match=r"cross_entropy needs a list of scores per example .* at logits\[0\]"
    ):
        cross_entropy([row], [0])


def test_cross_entropy_needs_at_least_2_scores_per_example():
    with pytest.raises(ValueError, match=r"at least 2 scores per example .* at logits\[0\]"):
        cross_entropy([[Value(1.0)]], [0])


def test_cross_entropy_rows_must_have_the_same_number_of_scores():
    with pytest.raises(ValueError, match=r"logits\[1\] has 2 scores but logits\[0\] has 3"):
        cross_entropy([[0.0, 1.0, 2.0], [0.0, 1.0]], [0, 1])


def test_cross_entropy_rejects_a_score_that_is_not_a_number():
    with pytest.raises(TypeError, match=r"logits\[0\]\[1\] must be a number or a Value, got str"):
        cross_entropy([[0.0, "1.0"]], [0])


# ---- shapes: one score per example, or one list per example ---------------------------------


@pytest.mark.parametrize(
    "loss, name, hint",
    [(hinge, "scores", "cross_entropy"), (binary_cross_entropy, "logits", "cross_entropy")],
)
def test_a_single_score_loss_given_a_list_per_example_names_the_row_and_the_fix(loss, name, hint):
    rows = [[Value(0.1), Value(0.2), Value(0.3)]]
    with pytest.raises(
        TypeError,
        match=rf"needs one score per example, got a list of 3 at {name}\[0\]; .*use {hint}",
    ):
        loss(rows, [1])


@pytest.mark.parametrize("loss", [mse, hinge, binary_cross_entropy])
def test_a_score_that_is_not_a_number_is_a_type_error_naming_its_index(loss):
    with pytest.raises(TypeError, match=r"\[1\] must be a number or a Value, got str '0.5'"):
        loss([Value(0.1), "0.5"], [1, 1])


ONE_SCORE = [Value(0.5), Value(-0.5)]
TWO_SCORES = [[Value(0.5), Value(-0.5)], [Value(1.0), Value(2.0)]]


@pytest.mark.parametrize(
    "loss, scores, expected",
    [
        (hinge, ONE_SCORE, "-1 or +1"),
        (binary_cross_entropy, ONE_SCORE, "0 or 1"),
        (cross_entropy, TWO_SCORES, "class indices"),
    ],
    ids=["hinge", "binary_cross_entropy", "cross_entropy"],
)
@pytest.mark.parametrize("label", ["a", None, True], ids=["str", "None", "bool"])
def test_a_label_that_is_not_a_number_is_a_type_error_naming_it(loss, scores, expected, label):
    shown = f"{type(label).__name__} {label!r}"
    message = rf"labels must be {re.escape(expected)}.*got {shown} at labels\[1\]"
    with pytest.raises(TypeError, match=message):
        loss(scores, [1, label])


def test_mse_of_one_number_against_a_list_target_names_both():
    with pytest.raises(
        TypeError, match=r"predictions\[0\] is one number but targets\[0\] is a list of 2"
    ):
        mse([Value(1.0)], [[1.0, 2.0]])


def test_mse_of_a_list_against_one_number_target_names_both():
    with pytest.raises(
        TypeError, match=r"predictions\[0\] is a list of 2 but targets\[0\] is float 1.0"
    ):
        mse([[Value(1.0), Value(2.0)]], [1.0])


def test_mse_of_lists_of_different_lengths_names_both():
    with pytest.raises(
        ValueError, match=r"predictions\[0\] is a list of 2 but targets\[0\] is a list of 3"
    ):
        mse([[Value(1.0), Value(2.0)]], [[1.0, 2.0, 3.0]])


def test_a_loss_given_something_that_is_not_a_list_of_outputs_says_so():
    with pytest.raises(
        TypeError, match="hinge needs a list of outputs, one per example, got Value"
    ):
        hinge(Value(1.0), [1])


# ---- l2 and shared checks ------------------------------------------------------------------------


def test_l2_is_alpha_times_the_sum_of_squares_float_for_float():
    params = [Value(x) for x in SCORES]
    assert l2(params, 1e-4).data == (1e-4 * sum(p * p for p in params)).data


def test_l2_gradient_is_two_alpha_p():
    params = [Value(x) for x in SCORES]
    l2(params, 0.5).backward()
    assert [p.grad for p in params] == [2 * 0.5 * x for x in SCORES]


def test_l2_rejects_a_negative_alpha():
    with pytest.raises(ValueError, match="l2 alpha must be >= 0, got -1"):
        l2([Value(1.0)], -1)


def test_l2_alpha_that_is_not_a_number_is_a_type_error():
    with pytest.raises(TypeError, match="l2 alpha must be a number, got str '0.1'"):
        l2([Value(1.0)], "0.1")


@pytest.mark.parametrize("loss", [mse, hinge, binary_cross_entropy])
def test_a_loss_rejects_as_many_outputs_as_labels_mismatch(loss):
    with pytest.raises(ValueError, match="got 2 outputs but 1 labels"):
        loss([Value(0.1), Value(0.2)], [1])


@pytest.mark.parametrize("loss", [mse, hinge, binary_cross_entropy, cross_entropy])
def test_a_loss_rejects_an_empty_batch(loss):
    with pytest.raises(ValueError, match="needs at least one output"):
        loss([], [])


def test_the_mean_is_micrograds_total_times_one_over_n():
    scores = [Value(s) for s in [0.1, 0.2, 0.3]]
    labels = [1.0, 2.0, 3.0]
    total = sum((s - t) ** 2 for s, t in zip(scores, labels))
    assert mse(scores, labels).data == (total * (1.0 / 3)).data


# ---- numpy labels are labels (issue 14, item 11) ---------------------------------------------


NUMPY_INT_TYPES = ["int8", "int32", "int64", "uint8"]
LABELLED = [
    (hinge, SCORES, [1, -1, 1, 1, -1]),
    (binary_cross_entropy, SCORES, [1, 0, 1, 1, 0]),
    (cross_entropy, ROWS, CLASSES),
]


def _values(scores):
    return [[Value(z) for z in s] if isinstance(s, list) else Value(s) for s in scores]


def _leaves(values):
    return [v for s in values for v in (s if isinstance(s, list) else [s])]


NUMPY_CASES = [
    (loss, scores, labels, dtype)
    for loss, scores, labels in LABELLED
    for dtype in NUMPY_INT_TYPES
    if min(labels) >= 0 or not dtype.startswith("uint")  # -1 is no uint8
]


@pytest.mark.parametrize(
    "loss, scores, labels, dtype",
    NUMPY_CASES,
    ids=[f"{case[0].__name__}-{case[3]}" for case in NUMPY_CASES],
)
def test_numpy_integer_labels_give_the_loss_and_gradients_of_python_ints(
    loss, scores, labels, dtype
):
    np = pytest.importorskip("numpy")
    plain, numpy_ = _values(scores), _values(scores)
    expected = loss(plain, labels)
    got = loss(numpy_, list(np.array(labels, dtype=dtype)))
    assert type(got) is Value and got.data == expected.data
    expected.backward()
    got.backward()
    assert [v.grad for v in _leaves(numpy_)] == [v.grad for v in _leaves(plain)]


def test_numpy_labels_out_of_range_are_still_refused_by_index():
    np = pytest.importorskip("numpy")
    with pytest.raises(ValueError, match=r"class indices 0\.\.2, got 3 at labels\[1\]"):
        cross_entropy(ROWS[:2], list(np.array([0, 3])))


def test_numpy_float_probabilities_are_binary_cross_entropy_labels():
    np = pytest.importorskip("numpy")
    labels = [0.25, 1.0, 0.0, 0.5, 0.75]  # exact in float32
    expected = binary_cross_entropy(SCORES, labels).data
    assert binary_cross_entropy(SCORES, list(np.array(labels, dtype="float32"))).data == expected
