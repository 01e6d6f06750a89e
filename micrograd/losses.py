"""Loss functions: how wrong a model's outputs are, as one Value to call backward() on.

Each takes a batch of the model's outputs (one per example) and their labels, and
returns the mean loss over the batch. They are built from Value operations, so
backward() through them needs nothing new; sums are one fused node (`Value.sum`).
The mean is `total * (1.0 / n)`, micrograd's way, so the demo's loss is its number
exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any, Callable, Union

from micrograd._checks import excerpt, number_at_least
from micrograd.engine import Value, logaddexp

__all__ = ["mse", "hinge", "binary_cross_entropy", "cross_entropy", "l2", "LOSSES", "Loss"]

Output = Union[Value, float]
Loss = Callable[[Sequence, Sequence], Value]


def _as_value(x: Output) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _check_batch(loss: str, outputs: Sequence, labels: Sequence) -> None:
    try:
        n = len(outputs)
    except TypeError:
        raise TypeError(
            f"{loss} needs a list of outputs, one per example, got {type(outputs).__name__}"
        ) from None
    if n != len(labels):
        raise ValueError(f"{loss} got {n} outputs but {len(labels)} labels")
    if not n:
        raise ValueError(f"{loss} needs at least one output, got none")


def _is_row(x: object) -> bool:
    """A list of outputs for one example (from a model with several outputs)."""
    return isinstance(x, (list, tuple))


def _check_number(loss: str, where: str, x: object) -> None:
    if isinstance(x, Value):
        return
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(
            f"{loss}: {where} must be a number or a Value, got {type(x).__name__} {x!r}"
        )


def _check_scores(loss: str, name: str, scores: Sequence) -> None:
    """One number per example: a list (a model with several outputs) is an error that
    says which loss takes those."""
    for i, s in enumerate(scores):
        if _is_row(s):
            raise TypeError(
                f"{loss} needs one score per example, got a list of {len(s)} at {name}[{i}]; "
                "for one score per class use cross_entropy"
            )
        _check_number(loss, f"{name}[{i}]", s)


def _labels(loss: str, labels: Sequence, expected: str) -> list[int | float]:
    """The labels as Python numbers: numpy's integers (any `numbers.Integral`) become int
    and its floats float, so arithmetic with Values stays Python's. A label that is not
    a number (a str, None, a bool) is a TypeError; each loss checks the values itself."""
    plain: list[int | float] = []
    for i, label in enumerate(labels):
        if isinstance(label, bool) or not isinstance(label, Real):
            raise TypeError(
                f"{loss} labels must be {expected}, got {type(label).__name__} "
                f"{excerpt(label)} at labels[{i}]"
            )
        plain.append(int(label) if isinstance(label, Integral) else float(label))
    return plain


def _shape(x: Any) -> str:
    return f"a list of {len(x)}" if _is_row(x) else "one number"


def _mean(losses: list[Value]) -> Value:
    return Value.sum(losses) * (1.0 / len(losses))


def mse(predictions: Sequence[Output | Sequence[Output]], targets: Sequence) -> Value:
    """Mean squared error: the mean of (prediction - target)², for regression.

    A prediction may be one number or a list (a model with several outputs), with a
    target of the same shape; the mean is over every number.
    """
    _check_batch("mse", predictions, targets)
    squares: list[Value] = []
    p: Any  # one number, or a list of them (checked below)
    for i, (p, t) in enumerate(zip(predictions, targets)):
        if _is_row(p) != _is_row(t):
            got = f"a list of {len(t)}" if _is_row(t) else f"{type(t).__name__} {t!r}"
            raise TypeError(f"mse: predictions[{i}] is {_shape(p)} but targets[{i}] is {got}")
        if _is_row(p):
            if len(p) != len(t):
                raise ValueError(
                    f"mse: predictions[{i}] is {_shape(p)} but targets[{i}] is {_shape(t)}"
                )
            for j, (pj, tj) in enumerate(zip(p, t)):
                _check_number("mse", f"predictions[{i}][{j}]", pj)
                _check_number("mse", f"targets[{i}][{j}]", tj)
            squares.extend((_as_value(pj) - tj) ** 2 for pj, tj in zip(p, t))
        else:
            _check_number("mse", f"predictions[{i}]", p)
            _check_number("mse", f"targets[{i}]", t)
            squares.append((_as_value(p) - t) ** 2)
    return _mean(squares)


def hinge(scores: Sequence[Output], labels: Sequence[int]) -> Value:
    """The max-margin loss of micrograd's demo: the mean of max(0, 1 - y·score).

    Labels are -1 or +1. A score on the right side of 0 by a margin of at least 1
    costs nothing; any other costs how far it falls short.
    """
    _check_batch("hinge", scores, labels)
    _check_scores("hinge", "scores", scores)
    signs = _labels("hinge", labels, "-1 or +1")
    for i, y in enumerate(signs):
        if y not in (-1, 1):
            raise ValueError(
                f"hinge labels must be -1 or +1, got {y!r} at labels[{i}] "
                "(for 0/1 labels use [2 * y - 1 for y in labels])"
            )
    return _mean([(1 + -y * _as_value(s)).relu() for y, s in zip(signs, scores)])


def binary_cross_entropy(logits: Sequence[Output], labels: Sequence[float]) -> Value:
    """Binary cross-entropy from logits: -[y log σ(z) + (1 - y) log(1 - σ(z))], averaged.

    Labels are 0 or 1 (or a probability in between). It is computed as
    softplus(z) - y·z, with softplus(z) = logaddexp(0, z) so that exp never overflows: stable
    for logits of any size (±1000 included), with the gradient σ(z) - y.
    """
    _check_batch("binary_cross_entropy", logits, labels)
    _check_scores("binary_cross_entropy", "logits", logits)
    labels = _labels("binary_cross_entropy", labels, "0 or 1 (or a probability in between)")
    for i, y in enumerate(labels):
        if not 0 <= y <= 1:
            raise ValueError(
                f"binary_cross_entropy labels must be 0 or 1 (or a probability in "
                f"between), got {y!r} at labels[{i}]"
            )
    # softplus(z) - y·z, with softplus(z) = log(1 + e^z) = logaddexp(0, z), which never
    # overflows: one graph whatever the numbers (micrograd.compiler can compile it)
    losses = [logaddexp(0.0, _as_value(z)) - y * _as_value(z) for z, y in zip(logits, labels)]
    return _mean(losses)


def cross_entropy(logits: Sequence[Sequence[Output]], labels: Sequence[int]) -> Value:
    """Softmax cross-entropy for k classes: the mean of -log softmax(z)[y].

    Each row of `logits` holds one score per class; each label is a class index
    0..k-1. Computed as log Σ exp(z_j) - z_y, the sum taken one pair at a time with
    logaddexp, so no exp overflows whatever the scores.
    """
    _check_batch("cross_entropy", logits, labels)
    losses = []
    indices = _labels("cross_entropy", labels, "class indices (ints 0, 1, ...)")
    for i, (row, y) in enumerate(zip(logits, indices)):
        if not _is_row(row):
            raise TypeError(
                f"cross_entropy needs a list of scores per example (one per class), got "
                f"{type(row).__name__} {row!r} at logits[{i}]; for one score per example "
                "use binary_cross_entropy or hinge"
            )
        if len(row) < 2:
            raise ValueError(
                f"cross_entropy needs at least 2 scores per example (one per class), got "
                f"{_shape(row)} at logits[{i}]"
            )
        if len(row) != len(logits[0]):
            raise ValueError(
                f"cross_entropy: logits[{i}] has {len(row)} scores but logits[0] has "
                f"{len(logits[0])}: every example needs one score per class"
            )
        for j, z in enumerate(row):
            _check_number("cross_entropy", f"logits[{i}][{j}]", z)
        if not isinstance(y, int) or not 0 <= y < len(row):  # 1.0 is a number, not an index
            raise ValueError(
                f"cross_entropy labels must be class indices 0..{len(row) - 1}, "
                f"got {y!r} at labels[{i}]"
            )
        values = [_as_value(z) for z in row]
        # log Σ e^z_j, one pair at a time with logaddexp, which never overflows
        log_sum_exp = functools.reduce(logaddexp, values)
        losses.append(log_sum_exp - values[y])
    return _mean(losses)


def l2(params: Iterable[Value], alpha: float) -> Value:
    """L2 regularisation: alpha · Σ p², which pulls every parameter towards 0.

    Σ p² is one fused node: `Value.dot` with the parameters as both weights and
    inputs (each p then gets the gradient p + p = 2p).
    """
    alpha = number_at_least("l2 alpha", alpha, 0)
    params = list(params)
    return alpha * Value.dot(params, params)


# The losses by name, for `fit(loss="hinge")` and the command line.
LOSSES: dict[str, Loss] = {
    "mse": mse,
    "hinge": hinge,
    "binary_cross_entropy": binary_cross_entropy,
    "cross_entropy": cross_entropy,
}
