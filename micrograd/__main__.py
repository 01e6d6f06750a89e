"""The `micrograd` command. `micrograd demo` (or `python -m micrograd demo`) trains
micrograd's classic demo, a small MLP that separates two moons, and saves the results.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import random
import sys
import tempfile
import time
from typing import Any, Callable

from micrograd import __version__
from micrograd._checks import positive_number
from micrograd.data import make_circles, make_moons, make_spirals
from micrograd.engine import ACTIVATIONS, Value
from micrograd.files import write_atomically
from micrograd.losses import Loss, cross_entropy, hinge
from micrograd.nn import MLP
from micrograd.optim import SGD, Adam, Optimizer, linear_decay
from micrograd.train import History, evaluate, fit

TRAINING_POINTS = 100  # micrograd's demo trains on 100 points
# The data sets the demo offers: each makes n labelled 2-D points from a seed.
DATASETS: dict[str, Callable] = {
    "moons": lambda n, seed: make_moons(n, noise=0.1, seed=seed),
    "circles": lambda n, seed: make_circles(n, noise=0.1, seed=seed),
    "spirals": lambda n, seed: make_spirals(n, classes=3, noise=0.05, seed=seed),
}
DEFAULT_LR = {"sgd": 1.0, "adam": 0.05}
DECAY = 0.1  # the learning rate decays linearly to this fraction of itself: micrograd's 1.0 to 0.1
REG = 1e-4  # the L2 penalty on the weights, as in micrograd's demo
DIVERGED = 10.0  # a run whose training loss ends this many times above its start has diverged

# Exit statuses: 0 success, 2 a bad option (argparse's), and these.
FAILED = 1
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a program stopped by Ctrl-C


def demo(args: argparse.Namespace) -> int:
    """Train, report, and write the model, two charts and a graph drawing into args.out.

    Returns 0; or FAILED after one line on stderr if the output folder cannot be made
    or written, or training diverges; or FAILED silently if whoever reads our output
    stops reading (a broken pipe, as `micrograd demo | head` makes); or INTERRUPTED after
    Ctrl-C (saving the model trained so far if at least one step was taken). A run that
    fails having written nothing removes the folders it made for args.out.
    """
    made = _folders_to_make(args.out)
    try:
        status = _demo(args)
        sys.stdout.flush()  # here, so that a reader gone away is handled as below
    except BrokenPipeError:  # whoever read our output stopped (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        status = FAILED
    except OSError as error:
        reason = error.strerror or str(error)
        _fail(f"cannot write the results into {args.out}: {reason}")
        status = FAILED
    except KeyboardInterrupt:  # outside fit (which handles its own): nothing is saved here
        _fail("interrupted")
        status = INTERRUPTED
    if status != 0:
        _remove_empty(made)
    return status


def _fail(message: str) -> None:
    print(f"micrograd demo: {message}", file=sys.stderr)


def _folders_to_make(out: str) -> list[str]:
    """The folders that making `out` would create, deepest first: `out` and any of its
    parents that do not exist yet."""
    missing = []
    path = os.path.abspath(out)
    while not os.path.exists(path):
        missing.append(path)
        path = os.path.dirname(path)
    return missing


def _remove_empty(folders: list[str]) -> None:
    """Remove these folders, deepest first, while they are empty."""
    for folder in folders:
        try:
            os.rmdir(folder)  # only an empty folder: never a file someone put there
        except OSError:
            return


def _demo(args: argparse.Namespace) -> int:
    _check_out_folder(args.out)  # first: a bad --out fails before training, not after
    X, y = DATASETS[args.dataset](TRAINING_POINTS, args.seed)  # micrograd's demo's points
    X_val, y_val = validation_points(args.dataset, args.validation, args.seed)
    classes = max(y) + 1
    if classes == 2:  # one score per point, hinge loss on labels -1/+1: micrograd's demo
        loss: Loss = hinge
        labels, val_labels, outputs = [2 * t - 1 for t in y], [2 * t - 1 for t in y_val], 1
    else:  # one score per class, softmax cross-entropy on class indices
        loss, labels, val_labels, outputs = cross_entropy, y, y_val, classes
    sizes = [*args.hidden, outputs]
    model = MLP(2, sizes, activation=args.activation, rng=random.Random(args.seed))
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    optimizer: Optimizer
    if args.optimizer == "sgd":
        optimizer = SGD(model.parameters(), lr=lr)
    else:
        optimizer = Adam(model.parameters(), lr=lr)
    batching = "full batch" if args.batch_size is None else f"batches of {args.batch_size}"
    if args.compile:
        batching += ", compiled"
    held_out = f", validated on {len(X_val)} more" if X_val else ""
    end = float(f"{lr * DECAY:.12g}")  # 12 digits: 0.005, not 0.005000000000000001; never 0
    print(
        f"micrograd demo: MLP(2, {sizes}), {model.num_parameters()} parameters, "
        f"on {len(X)} {args.dataset} points{held_out}\n"
        f"  {loss.__name__} loss + {REG} L2; {type(optimizer).__name__} with lr {lr!r} "
        f"decaying linearly to {end!r}; {_steps(args.steps)}, {batching}"
    )

    start_loss, _ = evaluate(model, X, labels, loss, REG)
    start = time.perf_counter()
    try:
        history = fit(
            model,
            X,
            labels,
            loss=loss,
            optimizer=optimizer,
            steps=args.steps,
            batch_size=args.batch_size,
            schedule=linear_decay(lr, lr * DECAY, args.steps),
            reg=REG,
            progress=not args.no_progress,
            seed=args.seed,
            validation=(X_val, val_labels) if X_val else None,
            compile=args.compile,
        )
    except FloatingPointError as error:
        _fail(f"training diverged ({error}); {smaller_lr(lr)}")
        return FAILED
    except KeyboardInterrupt:
        if optimizer.step_count == 0:  # e.g. while --compile traces: keep an earlier model
            _fail("interrupted before the first step: nothing was trained, so nothing was saved")
            return INTERRUPTED
        path = os.path.join(args.out, "model.json")
        model.save(path, optimizer)
        _fail(
            f"interrupted after {optimizer.step_count} of {args.steps} steps; "
            f"saved the model trained so far to {path}"
        )
        return INTERRUPTED
    seconds = time.perf_counter() - start

    train_loss, train_accuracy = evaluate(model, X, labels, loss, REG)
    if not math.isfinite(train_loss) or train_loss > DIVERGED * start_loss:
        _fail(
            f"training diverged: the loss on the training points went from "
            f"{start_loss:.4g} to {train_loss:.4g}; {smaller_lr(lr)}"
        )
        return FAILED
    compiling = history.compile_seconds
    spent = "" if compiling is None else f" ({compiling:.1f} s of it tracing and compiling)"
    print(f"trained in {seconds:.1f} s{spent}; the model after its last update:")
    print(f"  training set ({len(X)} points): loss {train_loss:.4f}, accuracy {train_accuracy:.1%}")
    if X_val:
        val_loss, val_accuracy = evaluate(model, X_val, val_labels, loss, REG)
        print(
            f"  validation set ({len(X_val)} points): loss {val_loss:.4f}, "
            f"accuracy {val_accuracy:.1%}"
        )
    _write_outputs(args.out, model, optimizer, history, X, labels)
    return 0


def validation_points(dataset: str, n: int, seed: int) -> tuple[list, list]:
    """n points held out to validate on: drawn from the same distribution as the training
    points, from a seed of their own (independent noise, never trained on)."""
    if n == 0:
        return [], []
    return DATASETS[dataset](n, random.Random(f"validation {seed}"))


def _steps(n: int) -> str:
    return f"{n} step{'s' * (n != 1)}"


def smaller_lr(lr: float, option: str = "--lr ") -> str:
    """What to try after a run diverged, naming its learning rate: the CLI's `--lr`, or
    (option="") the playground's learning-rate field."""
    return f"the learning rate {lr!r} is too large: try a smaller one, e.g. {option}{lr * 0.1:g}"


def _check_out_folder(out: str) -> None:
    """Make the folder `out` and check that a file can be written in it, or raise OSError."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder", out)
    os.makedirs(out, exist_ok=True)
    # Permission bits do not bind root, and a read-only file system refuses only writes:
    # creating a file is the one test that answers for everyone. It is deleted on close.
    with tempfile.TemporaryFile(dir=out):
        pass


def _write_outputs(out: str, model: MLP, optimizer, history: History, X, labels) -> None:
    """Write each file the demo makes. The model must be written (an OSError goes up);
    a chart or drawing that cannot be made is skipped, saying why."""
    path = os.path.join(out, "model.json")
    model.save(path, optimizer)
    print(f"wrote {path}  (load it with MLP.load({path!r}))")

    def attempt(name: str, write: Callable[[str], object], what: str) -> None:
        """Call write(path) to write one file; what it returns (a Figure, say) is unused."""
        path = os.path.join(out, name)
        try:
            write(path)  # whole or not at all: a failure leaves the file as it was
        except ImportError as error:  # an optional package: the message says which
            reason = str(error)
        except Exception as error:  # e.g. no Graphviz to render with: the rest still counts
            reason = f"{type(error).__name__}: {error}"
        else:
            print(f"wrote {path}  ({what})")
            return
        # A file there now was there before this run: say so, lest it pass for this run's.
        kept = "; the file there is an earlier run's, left as it was"
        print(f"skipped {path}: {reason}{kept if os.path.exists(path) else ''}")

    def boundary(path: str) -> None:
        from micrograd.plot import plot_decision_boundary

        plot_decision_boundary(model, X, labels, path)

    def one_pass() -> tuple[Value, Value, bool]:
        """The first training point's forward and backward pass: the node of the first
        hidden neuron that is on for it (or of neuron 0, if none is), the root whose
        gradients are drawn (the score, or with several classes the point's loss, which
        every score feeds), and whether that neuron is on."""
        x = [Value(v, label=f"x[{i}]") for i, v in enumerate(X[0])]
        hidden = signal = model.layers[0](x)
        for layer in model.layers[1:]:
            signal = layer(signal if isinstance(signal, list) else [signal])
        root = cross_entropy([signal], [labels[0]]) if isinstance(signal, list) else signal
        model.zero_grad()  # training's last step left its gradients: draw this pass's alone
        root.backward()  # so that the drawings show gradients
        hidden = hidden if isinstance(hidden, list) else [hidden]
        on = [h for h in hidden if h.data > 0]
        return (on or hidden)[0], root, bool(on)

    def svg(draw: Callable[[], Any]) -> Callable[[str], None]:
        def write(path: str) -> None:
            write_atomically(path, draw().pipe(format="svg"))

        return write

    def network() -> Any:
        from micrograd.viz import draw_network

        scores = model.layers[-1].neurons
        names = [f"class {c}" for c in range(len(scores))] if len(scores) > 1 else None
        return draw_network(model, root=root, output_names=names)

    def hidden_neuron() -> Any:
        from micrograd.viz import draw_dot

        return draw_dot(neuron, model=model, cluster=True, expand=True)

    attempt("decision_boundary.png", boundary, "the class the model gives each point")
    attempt("training.png", history.plot, "loss and accuracy at each step")
    neuron, root, on = one_pass()
    try:
        attempt("network.svg", svg(network), "the network: each unit's output and gradient")
        attempt(
            "graph.svg",
            svg(hidden_neuron),
            "a hidden neuron that is on for the first point, as its *, + and activation"
            if on
            else "hidden neuron 0 as its *, + and activation: none is on for the first point",
        )
    finally:  # the saved model is done, but leave no gradients behind either way
        model.zero_grad()


# ---- parsing the options -----------------------------------------------------------


def _count(least: int) -> Callable[[str], int]:
    """A parser of whole numbers >= least, written in digits (1e9 is refused by name)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a whole number written in digits, like 100, got {text!r}"
            ) from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be >= {least}, got {text}")
        return value

    return parse


def _learning_rate(text: str) -> float:
    """A parser of learning rates: finite, > 0, and with a tenth that is still > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    try:
        positive_number("the learning rate", value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not value * DECAY > 0:  # e.g. 5e-324, the smallest float: its tenth rounds to 0.0
        raise argparse.ArgumentTypeError(
            f"{text} is too small: it decays to a tenth of itself, which must be > 0, "
            f"but {value!r} * {DECAY} is 0.0 in floating point"
        )
    return value


def _folder(text: str) -> str:
    """A parser of --out: any path but the empty one (which names no folder)."""
    if not text:
        raise argparse.ArgumentTypeError(
            "expected the name of a folder to write the results into, got ''"
        )
    return text


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 16,16, got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"every layer size must be >= 1, got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]); return the exit status."""
    parser = argparse.ArgumentParser(prog="micrograd", description=__doc__)
    parser.add_argument("--version", action="version", version=f"micrograd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    d = commands.add_parser(
        "demo",
        help="train micrograd's classic demo (two moons) and save the results",
        description=f"Train an MLP on {TRAINING_POINTS} points of a toy data set, as "
        "micrograd's demo does, report its loss and accuracy on them and on points held "
        "out, then write the model (JSON), its decision boundary and training curves (PNG, "
        "with matplotlib) and the graph of one forward pass (SVG, with Graphviz).",
    )
    d.add_argument(
        "--out", type=_folder, default="micrograd-demo", help="folder for the results (%(default)s)"
    )
    d.add_argument("--steps", type=_count(1), default=100, help="training steps (%(default)s)")
    d.add_argument(
        "--seed", type=int, default=1337, help="seeds the data and the weights (%(default)s)"
    )
    d.add_argument(
        "--dataset",
        choices=sorted(DATASETS),
        default="moons",
        help="the points to separate: two classes (moons, circles) or three (spirals) "
        "(%(default)s)",
    )
    d.add_argument(
        "--validation",
        type=_count(0),
        default=50,
        metavar="N",
        help="points drawn like the training points but never trained on, to see how the "
        "model does on new points; 0 for none (%(default)s)",
    )
    d.add_argument("--hidden", type=_sizes, default=[16, 16], help="hidden layer sizes (16,16)")
    d.add_argument(
        "--activation",
        choices=sorted(ACTIVATIONS),
        default="relu",
        help="the hidden layers' nonlinearity (%(default)s)",
    )
    d.add_argument(
        "--optimizer",
        choices=sorted(DEFAULT_LR),
        default="sgd",
        help="plain gradient descent (sgd) or Adam (%(default)s)",
    )
    d.add_argument(
        "--batch-size",
        type=_count(1),
        default=None,
        help=f"mini-batch size, at most {TRAINING_POINTS} (default: all {TRAINING_POINTS} "
        "training points, i.e. full-batch gradient descent)",
    )
    d.add_argument(
        "--lr",
        type=_learning_rate,
        default=None,
        help="first learning rate, decayed linearly to a tenth (sgd 1.0, adam 0.05)",
    )
    d.add_argument(
        "--compile",
        action="store_true",
        help="train with the Python the loss compiles to (micrograd.compiler): the same "
        "numbers; with the full batch, traced once and several times faster per step; with "
        "--batch-size, each batch is traced and runs the program compiled for its shape",
    )
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.batch_size is not None and args.batch_size > TRAINING_POINTS:
        d.error(
            f"argument --batch-size: {args.batch_size} is more than the {TRAINING_POINTS} "
            f"training points; give at most {TRAINING_POINTS}, or leave it out for the full batch"
        )
    return {"demo": demo}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
