"""kill -9 at random moments while a process saves checkpoints over and over: is the
file always whole, and is nothing else ever left in its folder?

    python tests/kill_trial.py --kills 200 [--seed 0]

Each kill starts a process that saves MLP(2, [64, 64, 1]) (4,417 parameters, about
190 kB) to the same path in a loop, waits a random 0-0.2 s and kills it with SIGKILL,
which no code can catch. After each kill the folder must hold the checkpoint alone (or
nothing, before the first save), and the checkpoint must load. Prints one line of
counts; exits 1 if a kill left a temporary file or a checkpoint that does not load.
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
    leftovers = broken = 0
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
            others = sorted(set(os.listdir(folder)) - {"m.json"})
            if others:
                leftovers += 1
                print(f"  left behind: {others}", flush=True)
                for name in others:
                    os.remove(os.path.join(folder, name))
            if os.path.exists(path):
                try:
                    MLP.load(path)
                except ValueError as error:
                    broken += 1
                    print(f"  the checkpoint does not load: {error}", flush=True)
    print(
        f"{args.kills} kill -9 during saves: {leftovers} left a temporary file, "
        f"{broken} left a checkpoint that does not load"
    )
    return 1 if leftovers or broken else 0


if __name__ == "__main__":
    sys.exit(main())
