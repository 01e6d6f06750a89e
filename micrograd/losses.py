"""Loss functions: how wrong a model's outputs are, as one Value to call backward() on.

Each takes a batch of the model's outputs (one per example) and their labels, and
returns the mean loss over the batch. They are built from Value operations, so
backward() through them needs nothing new; sums are one fused node (`Value.sum`).
The mean is `total * (1.0 / n)`, micrograd's way, so the demo's loss is its number
exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Callable, Union

from micrograd._checks import number_at_least
from micrograd.engine import Value

__all__ = ["mse", "hinge", "binary_cross_entropy", "cross_entropy", "l2", "LOSSES", "Loss"]

Output = Union[Value, float]
Loss = Callable[[Sequence, Sequence], Value]


def _as_value(x: Output) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _check_batch(loss: str, outputs: Sequence, labels: Sequence) -> None:
    if len(outputs) != len(labels):
        raise ValueError(f"{loss} got {len(outputs)} outputs but {len(labels)} labels")
    if not outputs:
        raise ValueError(f"{loss} needs at least one output, got none")


def _mean(losses: list[Value]) -> Value:
    return Value.sum(losses) * (1.0 / len(losses))


def mse(predictions: Sequence[Output | Sequence[Output]], targets: Sequence) -> Value:
    """Mean squared error: the mean of (prediction - target)², for regression.

    A prediction may be one number or a list (a model with several outputs), with a
    target of the same shape; the mean is over every number.
    """
    _check_batch("mse", predictions, targets)
    squares = []
    for i, (p, t) in enumerate(zip(predictions, targets)):
        if isinstance(p, (list, tuple)):
            if not isinstance(t, (list, tuple)) or len(t) != len(p):
                raise ValueError(f"mse: targets[{i}] must be a list of {len(p)} numbers, got {t!r}")
            squares.extend((_as_value(pj) - tj) ** 2 for pj, tj in zip(p, t))
        else:
            squares.append((_as_value(p) - t) ** 2)
    return _mean(squares)


def hinge(scores: Sequence[Output], labels: Sequence[int]) -> Value:
    """The max-margin loss of micrograd's demo: the mean of max(0, 1 - y·score).

    Labels are -1 or +1. A score on the right side of 0 by a margin of at least 1
    costs nothing; any other costs how far it falls short.
    """
    _check_batch("hinge", scores, labels)
    for i, y in enumerate(labels):
        if y not in (-1, 1) or isinstance(y, bool):
            raise ValueError(
                f"hinge labels must be -1 or +1, got {y!r} at labels[{i}] "
                "(for 0/1 labels use [2 * y - 1 for y in labels])"
            )
    return _mean([(1 + -y * _as_value(s)).relu() for y, s in zip(labels, scores)])


def binary_cross_entropy(logits: Sequence[Output], labels: Sequence[float]) -> Value:
    """Binary cross-entropy from logits: -[y log σ(z) + (1 - y) log(1 - σ(z))], averaged.

    Labels are 0 or 1 (or a probability in between). It is computed as
    softplus(z) - y·z, split at z = 0 so that exp never overflows: exact and stable
    for logits of any size (±1000 included), with the gradient σ(z) - y.
    """
    _check_batch("binary_cross_entropy", logits, labels)
    for i, y in enumerate(labels):
        if isinstance(y, bool) or not isinstance(y, (int, float)) or not 0 <= y <= 1:
            raise ValueError(
                f"binary_cross_entropy labels must be 0 or 1 (or a probability in "
                f"between), got {y!r} at labels[{i}]"
            )
    losses = []
    for z, y in zip(logits, labels):
        z = _as_value(z)
        if z.data >= 0:  # softplus(z) = z + log(1 + e^-z), and e^-z <= 1
            losses.append((1 - y) * z + (1 + (-z).exp()).log())
        else:  # softplus(z) = log(1 + e^z), and e^z < 1
            losses.append(-y * z + (1 + z.exp()).log())
    return _mean(losses)


def cross_entropy(logits: Sequence[Sequence[Output]], labels: Sequence[int]) -> Value:
    """Softmax cross-entropy for k classes: the mean of -log softmax(z)[y].

    Each row of `logits` holds one score per class; each label is a class index
    0..k-1. Computed as log Σ exp(z_j - m) - (z_y - m) with m the row's largest
    score (log-sum-exp), so no exp overflows whatever the scores.
    """
    _check_batch("cross_entropy", logits, labels)
    losses = []
    for i, (row, y) in enumerate(zip(logits, labels)):
        if isinstance(row, Value) or len(row) < 2:
            raise ValueError(
                f"cross_entropy needs a list of at least 2 scores per example (one per "
                f"class), got {row!r} at logits[{i}]"
            )
        if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < len(row):
            raise ValueError(
                f"cross_entropy labels must be class indices 0..{len(row) - 1}, "
                f"got {y!r} at labels[{i}]"
            )
        row = [_as_value(z) for z in row]
        m = max(z.data for z in row)  # a constant: shifting by it changes no gradient
        shifted = [z - m for z in row]
        log_sum_exp = Value.sum(s.exp() for s in shifted).log()
        losses.append(log_sum_exp - shifted[y])
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
