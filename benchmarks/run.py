#!/usr/bin/env python3
"""Time micrograd's own workloads and print a table.

    python benchmarks/run.py            # every workload, about 30 seconds
    python benchmarks/run.py demo deep  # only some

Each figure is the median of a few repeats in this process. These are
measurements to read, not tests: nothing here asserts a time. To compare
against the closure-per-node baseline engine, run ../shared/bench/compare.py.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from micrograd.data import make_moons  # noqa: E402
from micrograd.engine import Value, no_grad  # noqa: E402
from micrograd.nn import MLP  # noqa: E402


def _median_time(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _demo_step(fused: bool):
    """One step of the classic demo: MLP(2, [16, 16, 1]), 100 moons, hinge + L2, SGD."""
    X, y = make_moons(100, noise=0.1, seed=1337)
    labels = [2 * t - 1 for t in y]
    model = MLP(2, [16, 16, 1], fused=fused, rng=random.Random(1337))
    params = model.parameters()

    def step():
        scores = [model([Value(a), Value(b)]) for a, b in X]
        losses = [(1 + -t * s).relu() for t, s in zip(labels, scores)]
        total = Value.sum(losses) * (1.0 / len(losses)) + 1e-4 * Value.sum(p * p for p in params)
        model.zero_grad()
        total.backward()
        for p in params:
            p.data -= 0.1 * p.grad

    return step


def demo() -> list[tuple[str, str]]:
    rows = []
    for fused in (True, False):
        seconds = _median_time(_demo_step(fused), repeats=7)
        form = "fused (one node per neuron)" if fused else "elementary (a node per *, + and relu)"
        rows.append((f"demo step, {form}", f"{seconds * 1e3:.1f} ms"))
    X, _ = make_moons(100, noise=0.1, seed=1337)
    model = MLP(2, [16, 16, 1], rng=random.Random(1337))

    def forward_no_grad():
        with no_grad():
            for a, b in X:
                model([a, b])

    seconds = _median_time(forward_no_grad, repeats=7)
    rows.append(("demo forward pass under no_grad()", f"{seconds * 1e3:.1f} ms"))
    return rows


def ops(n: int = 100_000) -> list[tuple[str, str]]:
    """Elementary ops, forward and backward: x*c + d per leaf, then a pairwise sum tree."""

    def run():
        leaves = [Value(0.5 + i * 1e-6) for i in range(n)]
        start = time.perf_counter()
        nodes = [v * 0.999999 + 0.001 for v in leaves]
        while len(nodes) > 1:
            pairs = [nodes[i] + nodes[i + 1] for i in range(0, len(nodes) - 1, 2)]
            nodes = pairs + nodes[len(pairs) * 2 :]
        forward = time.perf_counter() - start
        start = time.perf_counter()
        nodes[0].backward()
        return forward, time.perf_counter() - start

    results = [run() for _ in range(3)]
    count = 3 * n - 1
    forward = statistics.median(f for f, _ in results) / count
    backward = statistics.median(b for _, b in results) / count
    return [
        ("elementary op, forward", f"{forward * 1e6:.3f} µs"),
        ("elementary op, backward", f"{backward * 1e6:.3f} µs"),
    ]


def memory(n: int = 100_000) -> list[tuple[str, str]]:
    """Bytes held per op node of a chain y = y * c + d (constants are not nodes)."""
    gc.collect()
    tracemalloc.start()
    y = Value(0.5)
    for _ in range(n):
        y = y * 0.999999 + 0.001
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return [("memory per op node", f"{held / (2 * n):.0f} bytes")]


def deep(n: int = 1_000_000) -> list[tuple[str, str]]:
    """backward() through a chain n ops deep, at the default recursion limit."""
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y + 1.0
    start = time.perf_counter()
    y.backward()
    seconds = time.perf_counter() - start
    assert x.grad == 1.0, x.grad
    return [
        (f"backward through a {n:,}-op chain", f"{seconds:.2f} s ({seconds / n * 1e6:.2f} µs/node)")
    ]


WORKLOADS = {"demo": demo, "ops": ops, "memory": memory, "deep": deep}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "workloads", nargs="*", help=f"some of {', '.join(WORKLOADS)} (default: all)"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.workloads if name not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}; expected some of {', '.join(WORKLOADS)}")
    args.workloads = args.workloads or list(WORKLOADS)
    print(
        f"micrograd benchmarks: Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores"
    )
    rows = [row for name in args.workloads for row in WORKLOADS[name]()]
    width = max(len(label) for label, _ in rows)
    for label, figure in rows:
        print(f"  {label:<{width}}  {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
