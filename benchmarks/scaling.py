"""Time per training step as the model widens and the batch grows: `run.py scaling`.

The demo's step (hinge loss + 1e-4 L2, micrograd's learning rate) on MLP(2, [w, w, 1]),
first at widths w = 8, 16, 32, 64 on the demo's 100 points, then at w = 16 on 25,
100 and 400 points (a full batch each). It times the Value path, the compiled path
(once micrograd.compiler exists) and the plain-float floor, alternating fresh
processes as run.py does, and writes the medians to scaling.csv and a chart of
them to scaling.png.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from typing import Any

from measure import REPOSITORY, Peers, demo_problem, measure, median, milliseconds, write_problem

WIDTHS = (8, 16, 32, 64)  # hidden units per layer, on the demo's 100 points
POINTS = (25, 100, 400)  # points in the (full) batch, at width 16
DEMO_WIDTH, DEMO_POINTS = 16, 100
# label: (its step in demo_steps.STEPS, whether it imports this project's micrograd)
CONTENDERS = {
    "micrograd, Value path": ("value", True),
    "micrograd, compiled": ("compiled", True),
    "plain Python floats (the floor)": ("floor", False),
}
FLOOR = "plain Python floats (the floor)"
AGREE = 1e-12  # as run.py: the same sums, added in other orders


def configurations() -> list[tuple[int, int]]:
    """(width, points) pairs: the width sweep, then the rest of the batch sweep."""
    return [(w, DEMO_POINTS) for w in WIDTHS] + [
        (DEMO_WIDTH, n) for n in POINTS if n != DEMO_POINTS
    ]


def run(rounds: int, steps: int, at_least: float, peers: Peers, out: str | None) -> None:
    """Measure every configuration; print a table; write the CSV and chart into `out`."""
    names = [
        n
        for n, (step, _) in CONTENDERS.items()
        if step != "compiled" or not peers.missing("compiled")
    ]
    configs = configurations()
    print(
        f"\nscaling: ms per training step (the first {steps} steps) of MLP(2, [w, w, 1]) "
        "on n two-moons points"
    )
    results: dict[tuple[str, int, int], list[dict[str, Any]]] = {
        (name, w, n): [] for name in names for w, n in configs
    }
    with tempfile.TemporaryDirectory() as scratch:
        problems = {
            (w, n): write_problem(demo_problem([2, w, w, 1], n), scratch, f"w{w}-n{n}")
            for w, n in configs
        }
        for r in range(rounds):
            print(f"  round {r + 1} of {rounds} ...", file=sys.stderr, flush=True)
            for w, n in configs:
                for name in names:
                    step, ours = CONTENDERS[name]
                    args = ["demo", step, problems[w, n], str(steps), "--at-least", str(at_least)]
                    args += ["--micrograd", REPOSITORY] if ours else []
                    results[name, w, n].append(measure(args))

    table = {  # each round's time per step: the median of its repeats' means
        key: [median([sum(r["seconds"]) / steps for r in run["repeats"]]) for run in runs]
        for key, runs in results.items()
    }
    width = max(len(name) for name in CONTENDERS) + 2
    print(f"  {'':<{width}}" + "".join(f"{f'w={w} n={n}':>12}" for w, n in configs))
    for name in CONTENDERS:
        if name not in names:
            print(f"  {name:<{width}}{peers.missing('compiled')}")
            continue
        cells = [milliseconds(median(table[name, w, n])) for w, n in configs]
        print(f"  {name:<{width}}" + "".join(f"{c:>12}" for c in cells))
    for name in names:
        if name == FLOOR:
            continue
        ratios = [median(table[name, w, n]) / median(table[FLOOR, w, n]) for w, n in configs]
        label = f"{name.split(', ')[1]} / floor"
        print(f"  {label:<{width}}" + "".join(f"{r:>11.1f}x" for r in ratios))
    _losses(results, names, configs, steps)
    if out is None:
        print("  (--quick: no files written)")
        return
    csv_path = os.path.join(out, "scaling.csv")
    write_csv(csv_path, table, names, configs, steps)
    png_path = os.path.join(out, "scaling.png")
    try:
        draw(png_path, table, names, rounds, steps)
    except ImportError:
        print(f"  wrote {csv_path}; no chart: matplotlib is not installed")
        return
    print(f"  wrote {csv_path} and {png_path}")


def _losses(
    results: dict[tuple[str, int, int], list[dict[str, Any]]],
    names: list[str],
    configs: list[tuple[int, int]],
    steps: int,
) -> None:
    worst = 0.0
    for w, n in configs:
        reference = results[names[0], w, n][0]["repeats"][0]["losses"][-1]
        for name in names:
            for r in (r for run in results[name, w, n] for r in run["repeats"]):
                worst = max(worst, abs(r["losses"][-1] - reference) / abs(reference))
    verdict = "the same to the last bit" if worst == 0 else f"{worst:.1g} apart at most"
    agree = "agree" if worst <= AGREE else f"DO NOT agree within {AGREE:g}"
    print(f"  losses after {steps} steps {agree} in every configuration: {verdict}")


def write_csv(
    path: str,
    table: dict[tuple[str, int, int], list[float]],
    names: list[str],
    configs: list[tuple[int, int]],
    steps: int,
) -> None:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["contender", "width", "points", "steps", "ms_per_step", "fastest", "slowest"]
        )
        for name in names:
            for w, n in configs:
                runs = table[name, w, n]
                figures = (median(runs), min(runs), max(runs))
                writer.writerow([name, w, n, steps, *(f"{x * 1e3:.4g}" for x in figures)])


def draw(
    path: str,
    table: dict[tuple[str, int, int], list[float]],
    names: list[str],
    rounds: int,
    steps: int,
) -> None:
    """Two log-log panels: ms per step against the width, and against the points."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    figure, (by_width, by_points) = plt.subplots(
        1, 2, figsize=(10, 4.6), dpi=100, layout="constrained", sharey=True
    )
    styles = {
        "micrograd, Value path": ("tab:blue", "o"),
        "micrograd, compiled": ("tab:orange", "s"),
        FLOOR: ("tab:green", "^"),
    }
    floor = {key: median(runs) for key, runs in table.items() if key[0] == FLOOR}
    for name in names:
        colour, marker = styles[name]
        for axes, keys in (
            (by_width, [(name, w, DEMO_POINTS) for w in WIDTHS]),
            (by_points, [(name, DEMO_WIDTH, n) for n in POINTS]),
        ):
            xs = [w if axes is by_width else n for _, w, n in keys]
            ys = [median(table[key]) * 1e3 for key in keys]
            axes.plot(xs, ys, color=colour, marker=marker, label=name if axes is by_width else None)
            if name == FLOOR:
                continue
            for x, y, (_, w, n) in zip(xs, ys, keys):
                ratio = y / 1e3 / floor[FLOOR, w, n]
                axes.annotate(
                    f"{ratio:.1f}x",
                    (x, y),
                    xytext=(6, -12),
                    textcoords="offset points",
                    color=colour,
                    fontsize=9,
                )
    by_width.set_xlabel(f"hidden units per layer, w  (MLP(2, [w, w, 1]), {DEMO_POINTS} points)")
    by_points.set_xlabel(f"points in the batch, n  (MLP(2, [{DEMO_WIDTH}, {DEMO_WIDTH}, 1]))")
    by_width.set_ylabel("ms per training step (log scale)")
    for axes, sizes in ((by_width, WIDTHS), (by_points, POINTS)):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(sizes, [str(x) for x in sizes])
        axes.xaxis.set_minor_locator(NullLocator())  # only the measured sizes on x
        axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
        axes.yaxis.set_minor_locator(NullLocator())
        axes.grid(True, which="major", alpha=0.3)
        axes.margins(x=0.12)  # room for the last point's label
    figure.suptitle(
        f"Time per training step, the first {steps} steps "
        f"(median of {rounds} round{'s' * (rounds != 1)}, each a fresh process)\n"
        "beside each point: its time as a multiple of the floor's (plain Python floats)"
    )
    figure.legend(loc="outside lower center", ncols=len(names), frameon=False)
    figure.savefig(path)
    plt.close(figure)
