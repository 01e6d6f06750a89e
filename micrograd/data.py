"""Toy data sets for classification, and ways to split and batch them.

Every data set is a pair (X, y): X a list of points (each a list of 2 floats) and y
a list of class indices 0, 1, ... (for hinge loss, turn 0/1 into -1/+1 with
`[2 * t - 1 for t in y]`). Pure Python: a given seed gives the same points on
every machine. A `seed` is an int, a `random.Random` to draw from (one Random
passed to `batches` every epoch gives a new order each epoch), or None to draw
from the `random` module's global generator.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import Union

from micrograd._checks import finite_number, int_at_least, number_at_least

__all__ = [
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_blobs",
    "make_xor",
    "train_test_split",
    "batches",
    "random_source",
    "linspace",
]

Seed = Union[int, random.Random, None]
Points = list[list[float]]


def random_source(seed: Seed) -> random.Random:
    """What to draw from for `seed`: a Random itself, a new Random seeded with an int,
    or for None the `random` module (its functions share one global generator, and
    have the same names as a Random's methods)."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random  # type: ignore[return-value]  # the module draws as a Random does
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"seed must be an int or a random.Random, got {type(seed).__name__} {seed!r}"
        )
    return random.Random(seed)


def linspace(start: float, stop: float, count: int, endpoint: bool = True) -> list[float]:
    """`count` evenly spaced numbers from start to stop (numpy's linspace); with
    `endpoint=False`, stop itself is left out. count must be an int >= 1."""
    start, stop = finite_number("start", start), finite_number("stop", stop)
    count = int_at_least("count", count, 1)
    if count == 1:
        return [start]
    step = (stop - start) / (count - 1 if endpoint else count)
    return [start + i * step for i in range(count)]


def _shuffled_with_noise(
    points: Points, labels: list[int], noise: float, rng
) -> tuple[Points, list[int]]:
    """The points in a random order, each coordinate moved by Gaussian noise."""
    order = list(range(len(points)))
    rng.shuffle(order)
    X = [[c + rng.gauss(0.0, noise) if noise else c for c in points[i]] for i in order]
    return X, [labels[i] for i in order]


def _split_evenly(n: int, parts: int) -> list[int]:
    """Sizes of `parts` groups that add up to n, the first ones larger by 1 if need be."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def make_moons(n: int = 100, noise: float = 0.1, seed: Seed = 1337) -> tuple[Points, list[int]]:
    """Two interleaving half circles (class 0 above, class 1 below), as scikit-learn's.

    The default seed gives the points of `micrograd demo`.
    """
    n = int_at_least("n", n, 2)
    noise, rng = number_at_least("noise", noise, 0), random_source(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    upper = [[math.cos(t), math.sin(t)] for t in linspace(0.0, math.pi, n_upper)]
    lower = [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in linspace(0.0, math.pi, n_lower)]
    return _shuffled_with_noise(upper + lower, [0] * n_upper + [1] * n_lower, noise, rng)


def make_circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: Seed = 0
) -> tuple[Points, list[int]]:
    """A circle of radius 1 (class 0) around a smaller one of radius `factor` (class 1)."""
    n = int_at_least("n", n, 2)
    noise, rng = number_at_least("noise", noise, 0), random_source(seed)
    if not 0 < finite_number("factor", factor) < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    n_outer = n // 2
    n_inner = n - n_outer
    outer = [[math.cos(t), math.sin(t)] for t in linspace(0.0, 2 * math.pi, n_outer, False)]
    inner = [
        [factor * math.cos(t), factor * math.sin(t)]
        for t in linspace(0.0, 2 * math.pi, n_inner, False)
    ]
    return _shuffled_with_noise(outer + inner, [0] * n_outer + [1] * n_inner, noise, rng)


def make_spirals(
    n: int = 100, classes: int = 3, noise: float = 0.05, seed: Seed = 0
) -> tuple[Points, list[int]]:
    """`classes` spiral arms from the centre outwards, one class per arm.

    Along each arm the radius r grows evenly from 0 to 1 while the angle turns by 4
    radians, the point being (r sin θ, r cos θ); the arms start evenly spaced around
    the circle, 2π / classes apart. The shape of CS231n's spiral data, but not its
    numbers: there the arms start 4 radians apart and the noise is added to the
    angle, here it is Gaussian noise on each coordinate.
    """
    n = int_at_least("n", n, 1)
    classes = int_at_least("classes", classes, 1)
    noise, rng = number_at_least("noise", noise, 0), random_source(seed)
    points, labels = [], []
    for k, size in enumerate(_split_evenly(n, classes)):
        start = 2 * math.pi * k / classes
        for r in linspace(0.0, 1.0, size) if size else []:
            angle = start + 4.0 * r
            points.append([r * math.sin(angle), r * math.cos(angle)])
            labels.append(k)
    return _shuffled_with_noise(points, labels, noise, rng)


def make_blobs(
    n: int = 100,
    centers: int | Sequence[Sequence[float]] = 3,
    std: float = 0.5,
    seed: Seed = 0,
) -> tuple[Points, list[int]]:
    """Gaussian clouds of points, one class per centre.

    `centers` is a number of centres, drawn uniformly in the square [-5, 5]², or a
    list of points (of any dimension). `std` is each cloud's standard deviation.
    """
    n = int_at_least("n", n, 1)
    rng = random_source(seed)
    std = number_at_least("std", std, 0)
    if isinstance(centers, int) and not isinstance(centers, bool):
        centers = int_at_least("centers", centers, 1)
        centers = [[rng.uniform(-5.0, 5.0), rng.uniform(-5.0, 5.0)] for _ in range(centers)]
    else:
        centers = _points("centers", centers)
    points: Points = []
    labels: list[int] = []
    for k, size in enumerate(_split_evenly(n, len(centers))):
        points.extend(list(centers[k]) for _ in range(size))
        labels.extend([k] * size)
    return _shuffled_with_noise(points, labels, std, rng)


def make_xor(n: int = 100, noise: float = 0.1, seed: Seed = 0) -> tuple[Points, list[int]]:
    """Points spread evenly over the square [-1, 1]², of class 1 where x and y have
    different signs (the XOR of the signs) and class 0 where they have the same.

    No straight line separates the classes: a model needs a hidden layer. Each point
    is labelled where it was drawn, then moved by Gaussian noise, as in the other sets.
    """
    n = int_at_least("n", n, 1)
    noise, rng = number_at_least("noise", noise, 0), random_source(seed)
    points = [[rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)] for _ in range(n)]
    labels = [int((x < 0) != (y < 0)) for x, y in points]
    return _shuffled_with_noise(points, labels, noise, rng)


def _points(name: str, points: object) -> Points:
    """`points` as lists of floats, if it is a non-empty list of points of one dimension."""
    if not isinstance(points, (list, tuple)):
        raise TypeError(
            f"{name} must be a number of centres (an int >= 1) or a list of points, "
            f"got {type(points).__name__} {points!r}"
        )
    if not points:
        raise ValueError(f"{name} must be a number or a non-empty list of points, got {points!r}")
    result = []
    for i, point in enumerate(points):
        if not isinstance(point, (list, tuple)):
            raise TypeError(
                f"{name}[{i}] must be a point (a list of numbers), "
                f"got {type(point).__name__} {point!r}"
            )
        if len(point) != len(points[0]):
            raise ValueError(
                f"{name}[{i}] has {len(point)} coordinates but {name}[0] has {len(points[0])}"
            )
        result.append([finite_number(f"{name}[{i}][{j}]", c) for j, c in enumerate(point)])
    return result


def train_test_split(
    X: Sequence, y: Sequence, test_size: float | int = 0.25, seed: Seed = 0
) -> tuple[list, list, list, list]:
    """(X_train, X_test, y_train, y_test): a random `test_size` of the rows held out.

    `test_size` is a fraction in (0, 1) or a number of rows; both parts get at
    least one row.
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X and y must have the same length, got {n} and {len(y)}")
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)):
        raise TypeError(f"test_size must be a fraction or a count, got {test_size!r}")
    if isinstance(test_size, int):
        n_test = test_size
    elif 0 < test_size < 1:
        n_test = math.ceil(test_size * n)
    else:
        raise ValueError(f"test_size as a fraction must be in (0, 1), got {test_size!r}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"test_size {test_size!r} leaves {n_test} of {n} rows for testing; "
            "both parts need at least one"
        )
    order = list(range(n))
    random_source(seed).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


def batches(
    X: Sequence, y: Sequence, batch_size: int, shuffle: bool = True, seed: Seed = 0
) -> Iterator[tuple[list, list]]:
    """One pass over the data (an epoch) as (X_batch, y_batch) pairs of `batch_size` rows.

    The last batch holds the rows left over, so it may be smaller. With `shuffle`,
    the rows come in a random order drawn from `seed`: by default 0, as `fit` and
    `train_test_split`, so the same call gives the same batches; pass one
    random.Random every epoch for a new order each time, or None to draw from the
    `random` module's global generator (what `random.seed()` sets).
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X and y must have the same length, got {n} and {len(y)}")
    batch_size = int_at_least("batch_size", batch_size, 1)
    order = list(range(n))
    if shuffle:  # now, not at the first batch: the order is drawn when batches() is called
        random_source(seed).shuffle(order)
    return _take(X, y, order, batch_size)


def _take(X: Sequence, y: Sequence, order: list[int], size: int) -> Iterator[tuple[list, list]]:
    for start in range(0, len(order), size):
        rows = order[start : start + size]
        yield [X[i] for i in rows], [y[i] for i in rows]
