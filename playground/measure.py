"""Measure the playground page: how soon it is ready, and how many steps a second it trains.

    python playground/measure.py          # builds build/playground/ first if it is not there

It serves the built site on 127.0.0.1, opens it in headless Chromium (Playwright, as the
browser test does), and prints the seconds from loading to ready (and the worker's own
account of them), the steps a second of step(100) from a reset next to micrograd in this
Python on the same settings, and the steps a second while playing. The machine's load
average is printed before and after: on a shared machine the numbers move with it.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build  # noqa: E402  # playground/build.py, beside this file

from micrograd.playground import Session  # noqa: E402

ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def main() -> int:
    from playwright.sync_api import sync_playwright

    site = build.DEFAULT_OUT if (build.DEFAULT_OUT / "index.html").exists() else build.build()
    handler = functools.partial(build._Handler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{server.server_address[1]}/"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    print(f"load average before: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        started = time.perf_counter()
        page.goto(address)
        page.evaluate("window.playground.ready")
        ready = time.perf_counter() - started
        print(
            f"ready {ready:.1f} s after loading; the worker: {page.evaluate('window.playground.startup')}"
        )
        for _ in range(2):
            page.evaluate("window.playground.reset()")
            started = time.perf_counter()
            page.evaluate("window.playground.step(100)")
            in_page = time.perf_counter() - started
            session = Session()
            started = time.perf_counter()
            session.train(100, pictures=False)
            here = time.perf_counter() - started
            print(
                f"step(100) from a reset: {100 / in_page:.1f} steps/s in the page, "
                f"{100 / here:.1f} in this Python ({sys.version.split()[0]}), "
                f"{in_page / here:.2f} times as long"
            )
        page.evaluate("window.playground.step(30)")  # past the first, slowest steps
        page.evaluate(  # each state shown while playing: when, and at which step
            "window.shown = []; window.playground.onState("
            "(state) => window.shown.push([performance.now(), state.step]))"
        )
        page.evaluate("window.playground.play()")
        time.sleep(6)
        page.evaluate("window.playground.pause()")
        time.sleep(1)  # the last round comes in
        shown = page.evaluate("window.shown")
        (t0, first), (t1, last) = shown[0], shown[-1]
        rate = (last - first) / ((t1 - t0) / 1000)
        print(
            f"playing from step 30, heatmaps and all: {rate:.1f} steps/s over {last - first} steps"
        )
        browser.close()
    server.shutdown()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
