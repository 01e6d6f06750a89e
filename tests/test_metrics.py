"""micrograd.metrics: predict, predicted_class and accuracy, and their one home."""

from __future__ import annotations

import random

import pytest

from micrograd import metrics, train
from micrograd.data import make_moons
from micrograd.metrics import accuracy, predict, predicted_class
from micrograd.nn import MLP


def test_predict_gives_plain_numbers_equal_to_the_forward_pass():
    model = MLP(2, [16, 16, 1], rng=random.Random(1337))
    X, _ = make_moons(5, noise=0.1, seed=1337)
    assert predict(model, X) == [model(x).data for x in X]


def test_predict_gives_a_list_per_row_for_several_outputs():
    model = MLP(2, [4, 3], rng=random.Random(0))
    out = predict(model, [[0.0, 1.0]])
    assert len(out) == 1 and len(out[0]) == 3 and all(type(v) is float for v in out[0])


def test_predicted_class_of_a_single_score_is_its_sign():
    assert [predicted_class(s) for s in (0.5, 0.0, -2.0)] == [1, 0, 0]


def test_predicted_class_of_a_score_list_is_the_first_largest():
    assert predicted_class([0.1, 0.9, 0.9]) == 1


@pytest.mark.parametrize("labels", [[1, -1, 1, -1], [1, 0, 1, 0]])
def test_accuracy_of_single_scores_compares_signs_for_either_label_convention(labels):
    assert accuracy([0.5, -0.2, -0.1, -3.0], labels) == 0.75


def test_accuracy_of_score_lists_compares_the_largest_with_the_label():
    assert accuracy([[0.1, 0.9, 0.0], [2.0, 1.0, 0.0]], [1, 2]) == 0.5


def test_accuracy_refuses_scores_and_labels_of_different_lengths():
    with pytest.raises(ValueError, match="accuracy got 2 scores but 1 labels"):
        accuracy([0.5, -0.5], [1])


def test_metrics_is_their_one_home_and_train_hands_them_on():
    for name in ("predict", "predicted_class", "accuracy"):
        assert name in metrics.__all__ and name not in train.__all__
        assert getattr(train, name) is getattr(metrics, name)  # notebooks import from train
