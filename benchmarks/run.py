#!/usr/bin/env python3
"""Time micrograd against Karpathy's micrograd, plain Python floats and PyTorch.

    python benchmarks/run.py                      # demo, ops, memory, deep: about 2.5 minutes
    python benchmarks/run.py demo --rounds 7      # some workloads, more rounds
    python benchmarks/run.py scaling              # time per step against width and batch:
                                                  # writes benchmarks/scaling.csv and .png
    python benchmarks/run.py --quick              # one tiny round of each, in seconds
    python benchmarks/run.py --skip karpathy,torch

Every run is a fresh Python process (worker.py), and the runs alternate: each round
runs every contender once, so a slow minute on a shared machine hits them all. A
figure is the median over the rounds, printed with the fastest and the slowest
round. A demo run trains the first steps from the same start again and again for
half a second, and its figure is the median of those repeats. Karpathy's micrograd 0.1.0 is installed from PyPI into a cache folder the
first time (`pip install --target`) and imported only in processes of its own, so
the two micrograds never meet. These are measurements to read: nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from dataclasses import dataclass, replace
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # measure.py, beside this file

from measure import (  # noqa: E402
    REPOSITORY,
    Peers,
    WorkerFailed,
    demo_problem,
    measure,
    median,
    milliseconds,
    times,
    write_problem,
)

DEMO_SIZES = [2, 16, 16, 1]  # micrograd's demo: MLP(2, [16, 16, 1]) ...
DEMO_POINTS = 100  # ... on 100 two-moons points
AGREE = 1e-12  # how close the losses must be (relative): the same sums, added in other orders


@dataclass
class Settings:
    """How much to measure: the defaults take about two and a half minutes, QUICK seconds."""

    rounds: int = 5
    steps: int = 20  # demo steps each run trains (and times)
    karpathy_steps: int = 3  # Karpathy's micrograd takes seconds a step: it trains fewer
    ops: int = 100_000  # leaves of the ops workload (3n - 1 ops)
    memory: int = 100_000  # links of the memory workload's chain (2n ops)
    deep: int = 1_000_000  # additions in the deep chain
    karpathy_deep: int = 10_000  # enough to show its RecursionError, quickly
    at_least: float = 0.5  # seconds a demo run repeats its steps for (from the same start)
    slow_rounds: int = 3  # rounds of ops and deep, whose runs take seconds (unless --rounds)
    fit_steps: int = 100  # steps of the demo's fit, with and without compile=True


QUICK = Settings(
    rounds=1, steps=2, karpathy_steps=1, ops=2000, memory=2000, deep=20_000, at_least=0.0,
    fit_steps=2,
)  # fmt: skip


@dataclass
class Contender:
    """One row of the demo table: a step of demo_steps.py run in some way."""

    label: str
    step: str  # its name in demo_steps.STEPS
    micrograd: str | None = None  # "this" or "karpathy": which micrograd it imports
    fused: bool | None = None  # this micrograd's MLP option; None: its default
    gc: bool = True  # False: the process runs with gc.disable()
    needs: str | None = None  # a peer it needs ("karpathy", "torch", "compiled")

    @property
    def slow(self) -> bool:  # Karpathy's micrograd: it trains only the first few steps
        return self.micrograd == "karpathy"


THEIRS = "Karpathy's micrograd 0.1.0"
VALUE = "micrograd, Value path"
FLOOR = "plain Python floats (the floor)"
DEMO = [
    Contender(THEIRS, "classic", "karpathy", needs="karpathy"),
    Contender(f"{THEIRS}, gc.disable()", "classic", "karpathy", gc=False, needs="karpathy"),
    Contender("micrograd, Karpathy's code, a node per op", "classic", "this", fused=False),
    Contender("micrograd, Karpathy's code, fused neurons", "classic", "this", fused=True),
    Contender(VALUE, "value", "this"),
    Contender("micrograd, compiled", "compiled", "this", needs="compiled"),
    Contender(FLOOR, "floor"),
    Contender("PyTorch, batched float64, 1 thread", "torch", needs="torch"),
]


WIDTH = max(len(c.label) for c in DEMO) + 2  # of the label column of every table


def header() -> None:
    print(
        f"micrograd benchmarks: Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores.\nEach run is a fresh process; a figure is the median over "
        "the rounds (the fastest-slowest in brackets)."
    )


def _folder(peers: Peers, micrograd: str | None) -> list[str]:
    """worker.py's option that picks the micrograd to import."""
    if micrograd is None:
        return []
    folder = REPOSITORY if micrograd == "this" else peers.karpathy()[0]
    return ["--micrograd", str(folder)]


def _rounds(rounds: int, runs: dict[str, Callable[[], Any]]) -> dict[str, list[Any]]:
    """Each run of `runs` once per round, in turn; every round's result, by name."""
    results: dict[str, list[Any]] = {name: [] for name in runs}
    for r in range(rounds):
        print(f"  round {r + 1} of {rounds} ...", file=sys.stderr, flush=True)
        for name, run in runs.items():
            results[name].append(run())
    return results


def _slow_rounds(settings: Settings) -> int:
    return min(settings.rounds, settings.slow_rounds)


def _rounds_text(n: int) -> str:
    return f"{n} round{'s' * (n != 1)}"


def _spread(values: list[float]) -> str:
    """The median in ms and, over several rounds, the fastest and the slowest."""
    middle = milliseconds(median(values))
    if len(values) == 1:
        return f"{middle:>7}"
    return f"{middle:>7}  ({milliseconds(min(values))}-{milliseconds(max(values))})"


def demo(settings: Settings, peers: Peers) -> None:
    """micrograd's demo step, every contender from the same start; ratios and losses."""
    sizes = DEMO_SIZES
    print(
        f"\ndemo ({_rounds_text(settings.rounds)}): a training step of MLP(2, {sizes[1:]}) "
        f"on {DEMO_POINTS} two-moons points,\n  hinge loss + 1e-4 L2, lr 1.0 - 0.9 k/100; "
        "every row from the same data and parameters"
    )
    few = min(settings.karpathy_steps, settings.steps)
    rows = [c for c in DEMO if not (c.needs and peers.missing(c.needs))]
    with tempfile.TemporaryDirectory() as scratch:
        problem = write_problem(demo_problem(sizes, DEMO_POINTS), scratch, "demo")

        def run(c: Contender) -> Callable[[], Any]:
            args = ["demo", c.step, problem, str(few if c.slow else settings.steps)]
            args += ["--at-least", str(settings.at_least)]
            args += _folder(peers, c.micrograd)
            args += [] if c.fused is None else ["--fused", "yes" if c.fused else "no"]
            args += [] if c.gc else ["--gc", "off"]
            return lambda: measure(args)

        results = _rounds(settings.rounds, {c.label: run(c) for c in rows})
        fits: dict[str, list[Any]] = {}
        if any(c.step == "compiled" for c in rows):  # what a learner waits for: fit, end to end
            print(f"  fit, {settings.fit_steps} steps, each way ...", file=sys.stderr, flush=True)
            fits = _rounds(
                settings.rounds,
                {
                    way: (lambda way=way: measure(["fit", problem, str(settings.fit_steps), way]))
                    for way in ("value", "compiled")
                },
            )

    def per_step(label: str, steps: int) -> list[float]:
        """Each round's time per step: the median over its repeats of the mean over
        the first `steps` steps."""
        return [
            median([sum(r["seconds"][:steps]) / steps for r in run["repeats"]])
            for run in results[label]
        ]

    if THEIRS in results:
        base = median(per_step(THEIRS, few))
        print(f"\n  {_first(few)} (Karpathy's micrograd takes seconds a step)")
        print(f"  {'':<{WIDTH}}ms/step  (range)          faster than 0.1.0")
        for c in DEMO:
            if c.label in results:
                figures = per_step(c.label, few)
                faster = times(base / median(figures))
                print(f"  {c.label:<{WIDTH}}{_spread(figures):<27}{faster:>10}")
            else:
                print(f"  {c.label:<{WIDTH}}{_missing(c, peers)}")
    floor = median(per_step(FLOOR, settings.steps))
    print(f"\n  {_first(settings.steps)}")
    print(f"  {'':<{WIDTH}}ms/step  (range)          x floor   time in gc")
    for c in DEMO:
        if c.slow and c.label in results:
            continue  # it trained only the first few steps
        if c.label not in results:
            print(f"  {c.label:<{WIDTH}}{_missing(c, peers)}")
            continue
        figures = per_step(c.label, settings.steps)
        shares = [r["gc_seconds"] / sum(r["seconds"]) for r in _repeats(results, c.label)]
        print(
            f"  {c.label:<{WIDTH}}{_spread(figures):<27}{times(median(figures) / floor):>7}"
            f"{median(shares):>13.0%}"
        )
    _losses(results, rows, few, settings.steps)
    if "micrograd, compiled" in results:
        _compiled(results, fits, settings.fit_steps)
    if THEIRS in results:
        _where_the_speed_comes_from(results, few, per_step)


def _repeats(results: dict[str, list[Any]], label: str) -> list[dict[str, Any]]:
    """Every repeat of every round of a demo row."""
    return [r for run in results[label] for r in run["repeats"]]


def _steps(n: int) -> str:
    return f"{n} step{'s' * (n != 1)}"


def _first(n: int) -> str:
    return "the first step" if n == 1 else f"the first {n} steps"


def _missing(c: Contender, peers: Peers) -> str:
    return (c.needs and peers.missing(c.needs)) or "not measured"


def _losses(results: dict[str, list[Any]], rows: list[Contender], few: int, steps: int) -> None:
    """Whether every run of every row reached the Value path's losses."""
    print()
    checks = [(few, rows)] if any(c.slow for c in rows) else []
    if not checks or steps != few:
        checks.append((steps, [c for c in rows if not c.slow]))
    for i, (after, who) in enumerate(checks):
        reference = results[VALUE][0]["repeats"][0]["losses"][after - 1]
        worst, worst_label = 0.0, ""
        for c in who:
            for r in _repeats(results, c.label):
                difference = abs(r["losses"][after - 1] - reference) / abs(reference)
                if difference > worst:
                    worst, worst_label = difference, c.label
        if worst == 0:
            verdict = "to the last bit"
        elif worst <= AGREE:
            verdict = f"to {worst:.0e}, relative"
        else:
            verdict = f"NOT the same: {worst_label} is {worst:.1g} off, relative"
        whom = "every row" if who is rows else "the rows above"
        print(
            f"  {'losses:' if i == 0 else '':<8}after {_steps(after)}, {reference!r} in every "
            f"run of {whom} ({verdict})"
        )
    if "micrograd, compiled" in results:
        value = results[VALUE][0]["repeats"][0]["losses"]
        same = all(r["losses"] == value for r in _repeats(results, "micrograd, compiled"))
        print(f"  the compiled step's losses are the Value path's, bit for bit: {same}")


def _compiled(results: dict[str, list[Any]], fits: dict[str, list[Any]], steps: int) -> None:
    """What compiling costs and buys: tracing and compiling the demo's loss, the length of
    the program, and fit end to end with and without compile=True."""
    repeats = _repeats(results, "micrograd, compiled")
    seconds = [r["compile_seconds"] for r in repeats if "compile_seconds" in r]
    lines = {r["source_lines"] for r in repeats if "source_lines" in r}
    if seconds:
        print(
            f"  tracing and compiling the demo's loss: {milliseconds(median(seconds))} ms "
            f"({milliseconds(min(seconds))}-{milliseconds(max(seconds))}); its source: "
            f"{', '.join(map(str, sorted(lines)))} lines"
        )
    if fits:
        plain = [run["seconds"] for run in fits["value"]]
        fast = [run["seconds"] for run in fits["compiled"]]
        same = all(run["losses"] == fits["value"][0]["losses"] for run in fits["compiled"])
        print(
            f"  fit, {_steps(steps)}: Value path {median(plain):.3f} s, compile=True "
            f"{median(fast):.3f} s, compiling included ({times(median(fast) / median(plain))} "
            f"the Value path's time; the same losses: {same})"
        )


def _where_the_speed_comes_from(
    results: dict[str, list[Any]], few: int, per_step: Callable[[str, int], list[float]]
) -> None:
    """Karpathy's micrograd's time in its garbage collector, and the Value path's
    speed-up over it as a product of measured factors."""
    step = {label: median(per_step(label, few)) for label in results}

    def collector(label: str) -> str:
        """Its share of the step, and what it did in the first run (one repeat)."""
        first = results[label][0]["repeats"][0]
        shares = [r["gc_seconds"] / sum(r["seconds"]) for r in _repeats(results, label)]
        return (
            f"{median(shares):.0%} of its step in Python's cyclic garbage collector, which "
            f"ran {first['gc_runs']:,} times in {_steps(len(first['seconds']))} and freed "
            f"{first['gc_freed']:,} objects"
        )

    print(f"\n  Karpathy's micrograd spends {collector(THEIRS)}")
    off = step.get(f"{THEIRS}, gc.disable()")
    if off is not None:
        print(
            f"  with gc.disable(), its step takes {milliseconds(off)} ms instead of "
            f"{milliseconds(step[THEIRS])} ms"
        )
    print(f"  the Value path spends {collector(VALUE)}")
    chain = [
        (f"{THEIRS}, gc.disable()", "Karpathy's micrograd with its garbage collector off"),
        (
            "micrograd, Karpathy's code, a node per op",
            "the same code on this engine, a node per op",
        ),
        ("micrograd, Karpathy's code, fused neurons", "fused neurons: one node per neuron"),
        (VALUE, "this micrograd's own step: plain inputs, hinge and l2 one node each"),
    ]
    if not all(label in step for label, _ in chain):
        return
    print(
        f"  the Value path's {times(step[THEIRS] / step[VALUE])} over Karpathy's micrograd, "
        f"factor by factor ({_first(few)}):"
    )
    before = step[THEIRS]
    for label, why in chain:
        print(f"  {times(before / step[label]):>9}  {why}")
        before = step[label]


def ops(settings: Settings, peers: Peers) -> None:
    """Elementary ops, this micrograd and Karpathy's, in alternating processes."""
    n = settings.ops
    print(
        f"\nops ({_rounds_text(_slow_rounds(settings))}): x*c + d for {n:,} leaves, then a "
        f"pairwise sum: {3 * n - 1:,} elementary ops, forward and backward"
    )
    engines = {"micrograd": ["--micrograd", REPOSITORY]}
    missing = peers.missing("karpathy")
    if not missing:
        engines[THEIRS] = _folder(peers, "karpathy")
        engines[f"{THEIRS}, gc.disable()"] = [*_folder(peers, "karpathy"), "--gc", "off"]

    def run(options: list[str]) -> Callable[[], Any]:
        return lambda: measure(["ops", str(n), *options])

    results = _rounds(_slow_rounds(settings), {name: run(o) for name, o in engines.items()})
    total = {}
    for name, runs in results.items():
        forward = median([r["forward_per_op"] for r in runs]) * 1e6
        backward = median([r["backward_per_op"] for r in runs]) * 1e6
        total[name] = median([r["forward_per_op"] + r["backward_per_op"] for r in runs])
        faster = ""
        if name != "micrograd":
            faster = f"   micrograd {times(total[name] / total['micrograd'])} faster"
        print(
            f"  {name:<{WIDTH}}forward {forward:.2f} µs/op, backward {backward:.2f} µs/op{faster}"
        )
    if missing:
        print(f"  {THEIRS:<{WIDTH}}{missing}")


def memory(settings: Settings, peers: Peers) -> None:
    """Bytes per op node; one run each (tracemalloc counts the same every time)."""
    n = settings.memory
    print(f"\nmemory (1 round): bytes held per op of a chain y = y * c + d, {2 * n:,} ops")
    ours = measure(["memory", str(n), *_folder(peers, "this")])["bytes_per_op"]
    print(f"  {'micrograd':<{WIDTH}}{ours:,.0f} bytes")
    missing = peers.missing("karpathy")
    if missing:
        print(f"  {THEIRS:<{WIDTH}}{missing}")
        return
    theirs = measure(["memory", str(n), *_folder(peers, "karpathy")])["bytes_per_op"]
    print(
        f"  {THEIRS:<{WIDTH}}{theirs:,.0f} bytes ({theirs / ours:.1f}x as much; "
        "a constant is a Value too)"
    )


def deep(settings: Settings, peers: Peers) -> None:
    """backward() through a long chain, at the default recursion limit."""
    n = settings.deep
    print(
        f"\ndeep ({_rounds_text(_slow_rounds(settings))}): backward() through a chain of "
        f"{n:,} additions, at the default recursion limit"
    )
    results = _rounds(
        _slow_rounds(settings),
        {"micrograd": lambda: measure(["deep", str(n), *_folder(peers, "this")])},
    )
    runs = results["micrograd"]
    if any("error" in r for r in runs):
        print(f"  {'micrograd':<{WIDTH}}{runs[0].get('error')}")
    else:
        seconds = [r["seconds"] for r in runs]
        middle = median(seconds)
        spread = f" ({min(seconds):.3g}-{max(seconds):.3g})" if len(runs) > 1 else ""
        print(f"  {'micrograd':<{WIDTH}}{middle:.3g} s{spread}, {middle / n * 1e6:.2f} µs per node")
    missing = peers.missing("karpathy")
    if missing:
        print(f"  {THEIRS:<{WIDTH}}{missing}")
        return
    k = settings.karpathy_deep
    theirs = measure(["deep", str(k), *_folder(peers, "karpathy")])
    outcome = theirs.get("error") or f"{theirs['seconds']:.2f} s"
    print(f"  {THEIRS:<{WIDTH}}{outcome} already at {k:,} additions")


WORKLOADS: dict[str, Callable[[Settings, Peers], None]] = {
    "demo": demo,
    "ops": ops,
    "memory": memory,
    "deep": deep,
}
PEERS = ("karpathy", "torch", "compiled")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time micrograd against Karpathy's micrograd, plain floats and PyTorch."
    )
    names = [*WORKLOADS, "scaling"]
    parser.add_argument(
        "workloads",
        nargs="*",
        help=f"some of {', '.join(names)} (default: all but scaling)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help=f"runs of each contender (default {Settings.rounds}; ops and deep "
        f"{Settings.slow_rounds}, memory 1)",
    )
    parser.add_argument("--quick", action="store_true", help="one round of tiny workloads")
    parser.add_argument(
        "--out",
        help="where scaling writes scaling.csv and scaling.png (default: beside this file; "
        "with --quick, nowhere)",
    )
    parser.add_argument(
        "--skip", default="", help=f"leave out some of {', '.join(PEERS)} (comma-separated)"
    )
    args = parser.parse_args(argv)
    unknown = [w for w in args.workloads if w not in names]
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}; expected some of {', '.join(names)}")
    skip = {s for s in args.skip.split(",") if s}
    if skip - set(PEERS):
        parser.error(f"--skip takes some of {', '.join(PEERS)}, got {args.skip!r}")
    settings = QUICK if args.quick else Settings()
    if args.rounds is not None:
        if args.rounds < 1:
            parser.error(f"--rounds must be at least 1, got {args.rounds}")
        settings = replace(settings, rounds=args.rounds, slow_rounds=args.rounds)
    if args.out is not None and "scaling" not in args.workloads:
        parser.error(
            "--out is where scaling writes scaling.csv and scaling.png, and scaling is not "
            "among the workloads: add it, or leave out --out"
        )
    if args.out is not None:
        try:
            os.makedirs(args.out, exist_ok=True)  # now, not after a minute of measuring
        except OSError as error:
            parser.error(f"--out {args.out!r}: cannot make that folder ({error.strerror})")
    peers = Peers(set(skip))
    workloads = args.workloads or list(WORKLOADS)
    header()
    if set(workloads) & set(WORKLOADS):  # they compare with Karpathy's micrograd
        peers.karpathy()  # installs it the first time (unless skipped), before any timing
    try:
        for name in workloads:
            if name == "scaling":
                import scaling  # beside this file

                out = args.out or (None if args.quick else os.path.dirname(__file__))
                scaling.run(settings.rounds, settings.steps, settings.at_least, peers, out)
            else:
                WORKLOADS[name](settings, peers)
    except WorkerFailed as error:
        print(f"\nrun.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
