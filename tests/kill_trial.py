"""kill -9 at random moments while a process saves checkpoints over and over: is the
file always whole, and does no temporary file outlive the next save?

    python tests/kill_trial.py --kills 200 [--seed 0]

Each kill starts a process that saves MLP(2, [64, 64, 1]) (4,417 parameters, about
190 kB) to the same path in a loop, waits a random 0-0.2 s and kills it with SIGKILL,
which no code can catch. After each kill the checkpoint must load (if the first save
got that far), and once this process has saved to the same path, the folder must hold
the checkpoint alone: a save removes what killed saves left. Prints one line of counts
(also how often a kill left a file for that next save to remove); exits 1 if a
checkpoint did not load or a temporary file outlived the next save.
tests/test_checkpoint.py runs a short version; the long one is run by hand.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

SAVE_FOREVER = """
import random, sys
from micrograd.nn import MLP
model = MLP(2, [64, 64, 1], rng=random.Random(0))
print("ready", flush=True)
while True:
    model.save(sys.argv[1])
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="seeds the moments of the kills")
    args = parser.parse_args(argv)
    from micrograd.nn import MLP

    rng = random.Random(args.seed)
    model = MLP(2, [4, 1], rng=random.Random(1))
    left_by_kill = outlived = broken = 0
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.json")
        for _ in range(args.kills):
            child = subprocess.Popen(
                [sys.executable, "-c", SAVE_FOREVER, path], stdout=subprocess.PIPE, text=True
            )
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
            time.sleep(rng.uniform(0.0, 0.2))
            child.kill()
            child.wait()
            child.stdout.close()
            if set(os.listdir(folder)) - {"m.json"}:
                left_by_kill += 1
            if os.path.exists(path):
                try:
                    MLP.load(path)
                except ValueError as error:
                    broken += 1
                    print(f"  the checkpoint does not load: {error}", flush=True)
            model.save(path)  # the next save
            others = sorted(set(os.listdir(folder)) - {"m.json"})
            if others:
                outlived += 1
                print(f"  left after the next save: {others}", flush=True)
                for name in others:
                    os.remove(os.path.join(folder, name))
    print(
        f"{args.kills} kill -9 during saves: {broken} left a checkpoint that does not load, "
        f"{outlived} left a temporary file that outlived the next save "
        f"({left_by_kill} left one for the next save to remove)"
    )
    return 1 if outlived or broken else 0


if __name__ == "__main__":
    sys.exit(main())
