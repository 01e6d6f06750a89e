"""Ctrl-C at random moments during `fit`: does any interrupt leave a half-done step?

    python tests/sigint_trial.py --interrupts 1000            # SGD with momentum and Adam
    python tests/sigint_trial.py --interrupts 200 --optimizer adam --seed 3

Each trial trains a fresh MLP(2, [48, 48, 1]) (2,545 parameters) on 10 two-moons
points for 8 steps, while a timer thread sends this process a real SIGINT at a random
moment of the run. After the KeyboardInterrupt, the model and the optimizer must hold
the same number k of whole steps: their states must equal, bit for bit, those of an
uninterrupted run after k steps (k = optimizer.step_count), and the History must have
k entries. A trial whose SIGINT came after fit had finished counts as "finished".

Prints one line of counts per optimizer and exits 1 if any trial found a half-done
step. tests/test_interrupts.py runs a short version; the long one is run by hand.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time

import micrograd
from micrograd.data import make_moons
from micrograd.nn import MLP
from micrograd.optim import SGD, Adam
from micrograd.train import fit

STEPS = 8
OPTIMIZERS = {
    "sgd": lambda params: SGD(params, lr=0.05, momentum=0.9),
    "adam": lambda params: Adam(params, lr=0.01),
}


def data():
    X, y = make_moons(10, noise=0.1, seed=0)
    return X, [2 * t - 1 for t in y]


def new_run(optimizer: str):
    model = MLP(2, [48, 48, 1], rng=random.Random(0))
    return model, OPTIMIZERS[optimizer](model.parameters())


def reference(optimizer: str) -> tuple[list, float]:
    """The model's and the optimizer's states after 0, 1, ..., STEPS whole steps, and
    how long a run takes (the shortest of three)."""
    durations = []
    for _ in range(3):
        model, opt = new_run(optimizer)
        states = [(model.state_dict(), opt.state_dict())]

        def record(step, history, model=model, opt=opt, states=states):
            states.append((model.state_dict(), opt.state_dict()))

        X, y = data()
        start = time.perf_counter()
        fit(model, X, y, optimizer=opt, steps=STEPS, callbacks=[record], progress=False)
        durations.append(time.perf_counter() - start)
    return states, min(durations)


def trial(optimizer: str, states: list, delay: float) -> str:
    """One interrupted run: "finished", "consistent" or a description of a half step."""
    model, opt = new_run(optimizer)
    seen = []  # the History, once fit has called back
    X, y = data()
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        try:
            fit(model, X, y, optimizer=opt, steps=STEPS, progress=False,
                callbacks=[lambda step, history: seen.append(history)])  # fmt: skip
        finally:
            timer.cancel()
            timer.join()
    except KeyboardInterrupt:
        pass
    else:
        return "finished"
    k = opt.step_count
    expected_model, expected_optimizer = states[k]
    problems = []
    if model.state_dict() != expected_model:
        changed = sum(a != b for a, b in zip(model.state_dict().values(), expected_model.values()))
        problems.append(f"{changed} of {len(expected_model)} parameters differ from step {k}")
    if opt.state_dict() != expected_optimizer:
        problems.append(f"the optimizer's state differs from step {k}")
    if seen and len(seen[0]) != k:
        problems.append(f"the History has {len(seen[0])} steps, the optimizer {k}")
    return "; ".join(problems) or "consistent"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interrupts", type=int, default=100, help="trials per optimizer")
    parser.add_argument("--optimizer", choices=[*OPTIMIZERS, "both"], default="both")
    parser.add_argument("--seed", type=int, default=0, help="seeds the moments of the SIGINTs")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    print(f"micrograd from {os.path.dirname(micrograd.__file__)}")
    failed = False
    for name in OPTIMIZERS if args.optimizer == "both" else [args.optimizer]:
        states, duration = reference(name)
        counts = {"consistent": 0, "finished": 0, "half-done": 0}
        for _ in range(args.interrupts):
            outcome = trial(name, states, rng.uniform(0.0, duration))
            if outcome in counts:
                counts[outcome] += 1
            else:
                counts["half-done"] += 1
                print(f"  {name}: half-done step: {outcome}", flush=True)
        failed = failed or counts["half-done"] > 0
        print(
            f"{name}: {args.interrupts} SIGINTs during a {duration:.2f} s fit of {STEPS} steps: "
            f"{counts['consistent']} interrupted with whole steps only, "
            f"{counts['half-done']} half-done steps, {counts['finished']} after fit had finished",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
