"""Using a trained model: its outputs as plain numbers, the classes they stand for, and
how often those are right.

These read a model and never change it, so training (`micrograd.train`), charts
(`micrograd.plot`) and the command line all build on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

from micrograd.engine import Value, no_grad
from micrograd.nn import Module

__all__ = ["predict", "predicted_class", "accuracy", "Score"]

# A model's output for one row, as plain numbers: one score, or one per class.
Score = Union[float, Sequence[float]]


def predict(model: Module, X: Sequence[Sequence[float]]) -> list[float | list[float]]:
    """The model's outputs for every row, as plain numbers (a list per row for a model
    with several outputs). Computed under no_grad: no graph is kept."""
    with no_grad():
        outputs = [model(x) for x in X]
    return [o.data if isinstance(o, Value) else [v.data for v in o] for o in outputs]


def predicted_class(score: Score | Value | Sequence[Value]) -> int:
    """The class a score stands for: 1 if a single score is > 0 (else 0), or the index of
    the largest score in a list (the first one, on a tie)."""
    if isinstance(score, (list, tuple)):
        numbers = [float(s) for s in score]
        return max(range(len(numbers)), key=numbers.__getitem__)
    return 1 if float(score) > 0 else 0  # type: ignore[arg-type]  # one score: a number


def accuracy(scores: Sequence, labels: Sequence) -> float:
    """The fraction of rows whose score puts them in their label's class.

    A single score is right when its sign matches the label's (labels -1/+1 or 0/1,
    as micrograd's demo counts); a list of scores when its largest is at the label.
    """
    if len(scores) != len(labels):
        raise ValueError(f"accuracy got {len(scores)} scores but {len(labels)} labels")
    if not scores:
        raise ValueError("accuracy needs at least one score, got none")
    right = 0
    for s, y in zip(scores, labels):
        if isinstance(s, (list, tuple)):
            right += predicted_class(s) == y
        else:
            right += (float(s) > 0) == (y > 0)
    return right / len(scores)
