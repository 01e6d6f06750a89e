"""One measurement in a fresh process; run.py starts this file, once per run.

    python worker.py demo STEP PROBLEM.json STEPS [--micrograd DIR] [--fused yes|no]
                          [--gc off] [--at-least SECONDS]
    python worker.py ops|memory|deep N --micrograd DIR

`--micrograd DIR` puts DIR first on sys.path, so `import micrograd` finds
DIR/micrograd (this project's or Karpathy's; the worker checks which it got). The
measurement is printed as one line of JSON, the last line of the output.

ops, memory and deep use only the API both micrograds share (Value with + * and
backward()), so the same code measures either.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
from typing import Any


def _import_micrograd_from(folder: str) -> None:
    """Make `import micrograd` find folder/micrograd, and check that it does."""
    sys.path.insert(0, folder)
    import micrograd

    found = os.path.realpath(micrograd.__file__ or "")
    if not found.startswith(os.path.realpath(folder) + os.sep):
        sys.exit(f"worker: expected micrograd from {folder}, imported {found}")


class CollectorClock:
    """Adds up how long Python's cyclic garbage collector runs, how often, and how many
    objects it frees (from gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.runs = 0
        self.freed = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.runs += 1
            self.freed += info["collected"]


def demo(
    step_name: str, problem_file: str, steps: int, fused: bool | None, at_least: float
) -> dict[str, Any]:
    """Train the first `steps` steps from the problem's start, again and again on a new
    model each time, until `at_least` seconds have gone by (once at least). For each
    repeat: each step's seconds and loss, and the garbage collector's seconds, runs
    and objects freed.

    One untimed step comes first, on a model of its own, so that what is done once in a
    process (PyTorch sets itself up on its first step) is not timed.
    """
    import demo_steps  # beside this file

    with open(problem_file, encoding="utf-8") as file:
        problem = json.load(file)
    make = demo_steps.STEPS[step_name]
    options = {} if fused is None else {"fused": fused}
    make(problem, **options)(0)
    repeats: list[dict[str, Any]] = []
    began = time.perf_counter()
    while not repeats or time.perf_counter() - began < at_least:
        gc.collect()  # the garbage of what came before (Karpathy's graphs are cyclic)
        step = make(problem, **options)
        clock = CollectorClock()
        gc.callbacks.append(clock)
        seconds, losses = [], []
        for k in range(steps):
            start = time.perf_counter()
            losses.append(step(k))
            seconds.append(time.perf_counter() - start)
        gc.callbacks.remove(clock)
        compiled = {  # the compiled step's trace: its seconds and the lines it wrote
            key: getattr(step, key)
            for key in ("compile_seconds", "source_lines")
            if hasattr(step, key)
        }
        repeats.append(
            {
                **compiled,
                "seconds": seconds,
                "losses": losses,
                "gc_seconds": clock.seconds,
                "gc_runs": clock.runs,
                "gc_freed": clock.freed,
            }
        )
    return {"repeats": repeats}


def ops(n: int) -> dict[str, Any]:
    """Elementary ops, forward and backward: x*c + d for n leaves, then a pairwise sum
    tree over the results: 3n - 1 ops in a graph about log2(n) deep."""
    from micrograd.engine import Value

    leaves = [Value(0.5 + i * 1e-6) for i in range(n)]
    start = time.perf_counter()
    nodes = [v * 0.999999 + 0.001 for v in leaves]
    while len(nodes) > 1:
        pairs = [nodes[i] + nodes[i + 1] for i in range(0, len(nodes) - 1, 2)]
        nodes = pairs + nodes[len(pairs) * 2 :]
    forward = time.perf_counter() - start
    start = time.perf_counter()
    nodes[0].backward()
    backward = time.perf_counter() - start
    count = 3 * n - 1
    return {"forward_per_op": forward / count, "backward_per_op": backward / count}


def memory(n: int) -> dict[str, Any]:
    """Bytes held per op of a chain y = y * c + d, n links long (2n ops). A constant
    wrapped in a Value (as Karpathy's micrograd does) counts against its op."""
    from micrograd.engine import Value

    gc.collect()
    tracemalloc.start()
    y = Value(0.5)
    for _ in range(n):
        y = y * 0.999999 + 0.001
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"bytes_per_op": held / (2 * n)}


def deep(n: int) -> dict[str, Any]:
    """backward() through a chain n additions deep, at Python's default recursion limit."""
    from micrograd.engine import Value

    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y + 1.0
    start = time.perf_counter()
    try:
        y.backward()
    except RecursionError:
        return {"error": "RecursionError"}
    seconds = time.perf_counter() - start
    if x.grad != 1.0:
        return {"error": f"wrong gradient {x.grad}"}
    return {"seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["demo", "fit", "ops", "memory", "deep"])
    parser.add_argument("args", nargs="+")
    parser.add_argument("--micrograd", help="the folder that holds the micrograd to measure")
    parser.add_argument("--fused", choices=["yes", "no"])
    parser.add_argument("--gc", choices=["on", "off"], default="on")
    parser.add_argument(
        "--at-least", type=float, default=0.0, help="demo: repeat for this many seconds"
    )
    a = parser.parse_args(argv)
    if a.micrograd:
        _import_micrograd_from(a.micrograd)
    if a.gc == "off":
        gc.disable()
    if a.workload == "fit":
        import demo_steps  # beside this file

        problem_file, steps, compiled = a.args
        with open(problem_file, encoding="utf-8") as file:
            problem = json.load(file)
        result = demo_steps.fit_seconds(problem, int(steps), compiled == "compiled")
    elif a.workload == "demo":
        step_name, problem_file, steps = a.args
        fused = None if a.fused is None else a.fused == "yes"
        result = demo(step_name, problem_file, int(steps), fused, a.at_least)
    else:
        (n,) = a.args
        result = {"ops": ops, "memory": memory, "deep": deep}[a.workload](int(n))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
