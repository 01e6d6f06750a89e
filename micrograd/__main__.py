"""The `micrograd` command. `micrograd demo` (or `python -m micrograd demo`) trains
micrograd's classic demo, a small MLP that separates two moons, and saves the results.
"""

from __future__ import annotations

import argparse
import errno
import os
import random
import sys
import time
from typing import Callable

from micrograd._checks import positive_number
from micrograd.data import make_circles, make_moons, make_spirals
from micrograd.losses import cross_entropy, hinge
from micrograd.nn import ACTIVATIONS, MLP
from micrograd.optim import SGD, Adam, linear_decay
from micrograd.train import History, accuracy, fit, predict

# The data sets the demo offers: each makes 100 labelled 2-D points from a seed.
DATASETS: dict[str, Callable] = {
    "moons": lambda seed: make_moons(100, noise=0.1, seed=seed),
    "circles": lambda seed: make_circles(100, noise=0.1, seed=seed),
    "spirals": lambda seed: make_spirals(100, classes=3, noise=0.05, seed=seed),
}
DEFAULT_LR = {"sgd": 1.0, "adam": 0.05}


def demo(args: argparse.Namespace) -> int:
    """Train, report, and write the model, two charts and a graph drawing into args.out.

    Returns 0, or 1 after one line on stderr if the output folder cannot be made or
    written, or training diverges.
    """
    try:
        return _demo(args)
    except FloatingPointError as error:
        print(f"micrograd demo: training diverged: {error}", file=sys.stderr)
    except OSError as error:
        reason = error.strerror or str(error)
        print(
            f"micrograd demo: cannot write the results into {args.out}: {reason}", file=sys.stderr
        )
    return 1


def _demo(args: argparse.Namespace) -> int:
    # First: a bad --out fails before training, not after.
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder", args.out)
    os.makedirs(args.out, exist_ok=True)
    X, y = DATASETS[args.dataset](args.seed)
    classes = max(y) + 1
    if classes == 2:  # one score per point, hinge loss on labels -1/+1: micrograd's demo
        labels, loss, outputs = [2 * t - 1 for t in y], hinge, 1
    else:  # one score per class, softmax cross-entropy on class indices
        labels, loss, outputs = y, cross_entropy, classes
    sizes = [*args.hidden, outputs]
    model = MLP(2, sizes, activation=args.activation, rng=random.Random(args.seed))
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    if args.optimizer == "sgd":
        optimizer = SGD(model.parameters(), lr=lr)
    else:
        optimizer = Adam(model.parameters(), lr=lr)
    batching = "full batch" if args.batch_size is None else f"batches of {args.batch_size}"
    print(
        f"micrograd demo: MLP(2, {sizes}), {model.num_parameters()} parameters, "
        f"on {len(X)} {args.dataset} points\n"
        f"  {loss.__name__} loss + 1e-4 L2; {type(optimizer).__name__} with lr {lr!r} "
        f"decaying linearly to {round(lr * 0.1, 12)!r}; {args.steps} steps, {batching}"
    )

    start = time.perf_counter()
    history = fit(
        model,
        X,
        labels,
        loss=loss,
        optimizer=optimizer,
        steps=args.steps,
        batch_size=args.batch_size,
        schedule=linear_decay(lr, lr * 0.1, args.steps),  # micrograd's 1.0 - 0.9 * k / 100
        reg=1e-4,
        progress=not args.no_progress,
        seed=args.seed,
    )
    seconds = time.perf_counter() - start
    final = accuracy(predict(model, X), labels)
    print(
        f"trained in {seconds:.1f} s: loss {history.loss[-1]:.4f}, "
        f"accuracy {final:.1%} on the {len(X)} training points"
    )
    _write_outputs(args.out, model, optimizer, history, X, labels)
    return 0


def _write_outputs(out: str, model: MLP, optimizer, history: History, X, labels) -> None:
    """Write each file the demo makes. The model must be written (an OSError goes up);
    a chart or drawing that cannot be made is skipped, saying why."""
    path = os.path.join(out, "model.json")
    model.save(path, optimizer)
    print(f"wrote {path}  (load it with MLP.load({path!r}))")

    def attempt(name: str, write: Callable[[str], None], what: str) -> None:
        path = os.path.join(out, name)
        try:
            write(path)
        except ImportError as error:
            print(f"skipped {path}: {error}")
        except Exception as error:  # e.g. no Graphviz to render with: the rest still counts
            print(f"skipped {path}: {type(error).__name__}: {error}")
        else:
            print(f"wrote {path}  ({what})")

    def boundary(path: str) -> None:
        from micrograd.plot import plot_decision_boundary

        plot_decision_boundary(model, X, labels, path)

    def graph(path: str) -> None:
        from micrograd.viz import draw_dot

        output = model(X[0])  # one forward pass
        root = output[0] if isinstance(output, list) else output
        root.backward()  # and its backward pass, so that the drawing shows gradients
        try:
            svg = draw_dot(root, model=model, cluster=True, max_nodes=None).pipe(format="svg")
        finally:  # the saved model is done, but leave no gradients behind either way
            model.zero_grad()
        with open(path, "wb") as f:
            f.write(svg)

    attempt("decision_boundary.png", boundary, "the class the model gives each point")
    attempt("training.png", history.plot, "loss and accuracy at each step")
    attempt("graph.svg", graph, "the computation graph of one forward pass")


def _positive(kind: type) -> Callable[[str], int | float]:
    """A parser of finite numbers > 0 of type `kind` (inf, nan and 1e999 are refused)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        try:
            positive_number("the value", value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    return parse


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 16,16, got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"every layer size must be >= 1, got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="micrograd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    d = commands.add_parser(
        "demo",
        help="train micrograd's classic demo (two moons) and save the results",
        description="Train an MLP on 100 points of a toy data set, as micrograd's demo does, "
        "then write the model (JSON), its decision boundary and training curves (PNG, "
        "with matplotlib) and the graph of one forward pass (SVG, with Graphviz).",
    )
    d.add_argument("--out", default="micrograd-demo", help="folder for the results (%(default)s)")
    d.add_argument("--steps", type=_positive(int), default=100, help="training steps (%(default)s)")
    d.add_argument(
        "--seed", type=int, default=1337, help="seeds the data and the weights (%(default)s)"
    )
    d.add_argument("--dataset", choices=sorted(DATASETS), default="moons")
    d.add_argument("--hidden", type=_sizes, default=[16, 16], help="hidden layer sizes (16,16)")
    d.add_argument(
        "--activation", choices=[a for a in ACTIVATIONS if a != "linear"], default="relu"
    )
    d.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="sgd")
    d.add_argument(
        "--batch-size",
        type=_positive(int),
        default=None,
        help="mini-batch size (default: the full batch)",
    )
    d.add_argument(
        "--lr",
        type=_positive(float),
        default=None,
        help="first learning rate, decayed linearly to a tenth (sgd 1.0, adam 0.05)",
    )
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    return {"demo": demo}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
