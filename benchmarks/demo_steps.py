"""The demo's training step, once for each implementation that run.py measures.

Each `*_step(problem)` builds its model from the same problem (data, labels and
initial parameters, made once by measure.py's demo_problem) and returns `step(k)`,
which trains one step at step number k and returns that step's loss as a float.
The step is micrograd's demo: an MLP with relu hidden layers and one linear output,
the mean hinge loss plus 1e-4 times the sum of the squared parameters, and gradient
descent with micrograd's learning rate 1.0 - 0.9 * k / 100.

Nothing here imports micrograd at the top: each builder runs in a process of its
own, where worker.py has put the micrograd to measure (this project's or
Karpathy's) first on sys.path, so the two packages never meet.
"""

from __future__ import annotations

import time
from typing import Any, Callable

Problem = dict[str, Any]  # sizes, X, labels, parameters, reg: see measure.py's demo_problem
Step = Callable[[int], float]


def learning_rate(k: int) -> float:
    """micrograd's demo schedule: from 1.0 down by 0.009 a step."""
    return 1.0 - 0.9 * k / 100


def _set_parameters(model: Any, problem: Problem) -> list[Any]:
    """Give every parameter its initial number from the problem; return the parameters."""
    params = model.parameters()
    if len(params) != len(problem["parameters"]):
        raise ValueError(
            f"the model has {len(params)} parameters, the problem {len(problem['parameters'])}"
        )
    for p, x in zip(params, problem["parameters"]):
        p.data = x
    return params


def value_step(problem: Problem) -> Step:
    """This micrograd's own demo step: fused neurons, `hinge` and `l2` from
    micrograd.losses (one node for the sum of the losses, one for the squares), plain
    numbers as inputs. What `fit` computes each step, without its checks."""
    from micrograd.losses import hinge, l2
    from micrograd.nn import MLP

    sizes, X, labels, reg = problem["sizes"], problem["X"], problem["labels"], problem["reg"]
    model: Any = MLP(sizes[0], sizes[1:])  # Any: it returns one Value, not a list
    params = _set_parameters(model, problem)

    def step(k: int) -> float:
        scores = [model(x) for x in X]
        total = hinge(scores, labels) + l2(params, reg)
        model.zero_grad()
        total.backward()
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        return total.data

    return step


def compiled_step(problem: Problem) -> Step:
    """The Value path's step, traced once by `micrograd.compiler.trace` and then run as
    the straight-line Python it generates. Calling the compiled loss reads the
    parameters' current numbers and adds to their gradients, as backward() does."""
    from micrograd.compiler import trace  # run.py skips this step where it does not exist
    from micrograd.losses import hinge, l2
    from micrograd.nn import MLP

    sizes, X, labels, reg = problem["sizes"], problem["X"], problem["labels"], problem["reg"]
    model: Any = MLP(sizes[0], sizes[1:])  # Any: it returns one Value, not a list
    params = _set_parameters(model, problem)
    started = time.perf_counter()
    compiled = trace(lambda: hinge([model(x) for x in X], labels) + l2(params, reg))
    compile_seconds = time.perf_counter() - started

    def step(k: int) -> float:
        model.zero_grad()
        total = compiled()
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        return float(total)

    step.compile_seconds = compile_seconds  # type: ignore[attr-defined]  # run.py prints them
    step.source_lines = compiled.source.count("\n")  # type: ignore[attr-defined]
    return step


def classic_step(problem: Problem, fused: bool | None = None) -> Step:
    """Karpathy's demo loop as he wrote it, against the API both packages share: inputs
    wrapped in Values, the built-in sum() of the losses and of p*p.

    It runs on either micrograd. `fused` (this project's option: one node per neuron,
    or one per * + and relu as in Karpathy's) is None for Karpathy's, which has no
    such option.
    """
    from micrograd.engine import Value
    from micrograd.nn import MLP

    sizes, X, labels, reg = problem["sizes"], problem["X"], problem["labels"], problem["reg"]
    model = MLP(sizes[0], sizes[1:]) if fused is None else MLP(sizes[0], sizes[1:], fused=fused)
    params = _set_parameters(model, problem)

    def step(k: int) -> float:
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -y * score).relu() for y, score in zip(labels, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = reg * sum(p * p for p in params)
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        return total.data

    return step


def fit_seconds(problem: Problem, steps: int, compile: bool) -> dict[str, Any]:
    """The seconds of `fit(..., compile=compile)` for `steps` demo steps (compiling
    included), and its losses: what a learner waits for."""
    from micrograd.nn import MLP
    from micrograd.optim import SGD
    from micrograd.train import fit

    sizes, X, labels, reg = problem["sizes"], problem["X"], problem["labels"], problem["reg"]
    model: Any = MLP(sizes[0], sizes[1:])
    params = _set_parameters(model, problem)
    optimizer = SGD(params, lr=learning_rate(0))
    started = time.perf_counter()
    history = fit(model, X, labels, optimizer=optimizer, steps=steps, reg=reg, schedule=learning_rate,
                  progress=False, compile=compile)  # fmt: skip
    return {"seconds": time.perf_counter() - started, "losses": history.loss,
            "compile_seconds": history.compile_seconds}  # fmt: skip


def floor_step(problem: Problem) -> Step:
    """The same step in plain floats (floor.py): the practical limit of pure CPython."""
    import floor  # beside this file: worker.py runs with this folder on sys.path

    layers = floor.layers_from_parameters(problem["sizes"], problem["parameters"])
    X, labels, reg = problem["X"], problem["labels"], problem["reg"]

    def step(k: int) -> float:
        return floor.train_step(layers, X, labels, learning_rate(k), reg)

    return step


def torch_step(problem: Problem) -> Step:
    """The same step in PyTorch, batched: each layer one matrix product over all the
    points, in float64, on one thread (as the pure-Python steps run on one core)."""
    import torch

    torch.set_num_threads(1)
    sizes, reg = problem["sizes"], problem["reg"]
    X = torch.tensor(problem["X"], dtype=torch.float64)
    y = torch.tensor(problem["labels"], dtype=torch.float64)
    flat = problem["parameters"]
    weights, biases, at = [], [], 0
    for nin, nout in zip(sizes, sizes[1:]):
        rows = torch.tensor(flat[at : at + nout * (nin + 1)], dtype=torch.float64)
        rows = rows.reshape(nout, nin + 1)  # one row per neuron: its weights, then its bias
        weights.append(rows[:, :nin].clone().requires_grad_())
        biases.append(rows[:, nin].clone().requires_grad_())
        at += nout * (nin + 1)
    params = [p for pair in zip(weights, biases) for p in pair]
    optimizer = torch.optim.SGD(params, lr=learning_rate(0))  # p -= lr * grad, as the others

    def step(k: int) -> float:
        h = X
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = torch.addmm(b, h, w.t())
            if i < len(weights) - 1:
                h = torch.relu(h)
        hinge = torch.relu(1 - y * h[:, 0])
        total = hinge.sum() * (1.0 / len(hinge)) + reg * sum((p * p).sum() for p in params)
        optimizer.zero_grad()
        total.backward()
        optimizer.param_groups[0]["lr"] = learning_rate(k)
        optimizer.step()
        return total.item()

    return step


STEPS: dict[str, Callable[..., Step]] = {
    "value": value_step,
    "compiled": compiled_step,
    "classic": classic_step,
    "floor": floor_step,
    "torch": torch_step,
}
