"""The playground page in a real browser: built, served on 127.0.0.1, driven by Playwright.

The page is built as `make playground` builds it (playground/build.py: npm ci, the
wheels, the site folder), served from a thread on a free port, and opened in Debian's
Chromium (Playwright drives it through `executable_path`: no browser is downloaded).
One page serves every test; each test starts from the settings it needs through the
page's scripting API, `window.playground`. Skipped where npm, Chromium or Playwright is
missing (CI has all three: .ci/run installs them).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import random
import shutil
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import ROOT  # noqa: E402

from micrograd.data import make_moons, train_test_split
from micrograd.nn import MLP
from micrograd.optim import SGD, linear_decay
from micrograd.playground.session import Session, default_settings
from micrograd.train import evaluate, fit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium as the project runs it headless: no sandbox (CI runs as root), and nothing of
# its own on the network, so that every request the test sees is the page's.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = [
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed: cannot build"),
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium browser installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="playwright is not installed"
    ),
]

TOLERANCE = 1e-12  # the page's loss against micrograd's in Python (the bound)


def _build_module() -> Any:
    spec = importlib.util.spec_from_file_location("playground_build", ROOT / "playground/build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site, served on 127.0.0.1 at a free port, for the module's tests."""
    build = _build_module()
    site = build.build(tmp_path_factory.mktemp("playground") / "site")
    handler = functools.partial(build._Handler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(address: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Page:
    """One open playground page, and every URL it asked for."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        started = time.perf_counter()
        self.page.goto(url)
        self.page.evaluate("window.playground.ready")
        self.seconds_to_ready = time.perf_counter() - started

    def run(self, script: str, argument: Any = None) -> Any:
        """Evaluate `script` (a function of `argument`, given window.playground as `p`)."""
        return self.page.evaluate(
            f"(argument) => {{ const p = window.playground; {script} }}", argument
        )


@pytest.fixture(scope="module")
def page(browser: Any, address: str) -> Iterator[Page]:
    opened = Page(browser, address)
    parts = opened.run("return p.startup")
    print(
        f"\nplayground ready {opened.seconds_to_ready:.1f} s after loading; in the worker: {parts}"
    )
    yield opened
    opened.page.close()


@pytest.fixture
def fresh(page: Page) -> Page:
    """The page, back at the default settings, step 0."""
    page.run("return p.set(argument)", default_settings())
    return page


def python_run(steps: int) -> tuple[float, float]:
    """micrograd's own run in Python for the page's default settings: the last step's
    training loss (fit's) and the loss on the validation points after it (evaluate's),
    built here without the playground."""
    X, y = make_moons(150, noise=0.1, seed=1337)
    X, X_val, y, y_val = train_test_split(X, y, test_size=50, seed=1337)
    model = MLP(2, [16, 16, 1], rng=random.Random(1337))
    history = fit(
        model,
        X,
        [2 * t - 1 for t in y],
        loss="hinge",
        optimizer=SGD(model.parameters(), lr=1.0),
        steps=steps,
        schedule=linear_decay(1.0, 0.1, 100),
        reg=1e-4,
        progress=False,
        seed=1337,
    )
    val_loss, _ = evaluate(model, X_val, [2 * t - 1 for t in y_val], "hinge", 1e-4)
    return history.loss[-1], val_loss


def test_the_page_trains_to_the_loss_micrograd_computes_in_python(fresh: Page) -> None:
    steps = 25
    started = time.perf_counter()
    state = fresh.run("return p.step(argument)", steps)
    seconds = time.perf_counter() - started
    print(f"\n{steps} steps in the page: {seconds:.2f} s, {steps / seconds:.1f} steps/s")
    loss, val_loss = python_run(steps)
    assert state["step"] == steps
    assert abs(state["loss"] - loss) <= TOLERANCE
    assert abs(state["val_loss"] - val_loss) <= TOLERANCE


def test_a_point_added_in_the_page_is_trained_on(fresh: Page) -> None:
    before = fresh.run("return p.state()")["points"]
    state = fresh.run("return p.addPoint(0.5, 0.25, 1).then(() => p.step(1))")
    assert state["points"] == before + 1
    assert state["settings"]["added"] == [[0.5, 0.25, 1]]
    reference = Session({"added": [[0.5, 0.25, 1]]})
    assert state["loss"] == reference.train(1)["loss"]


def test_a_click_on_the_plane_adds_a_point_and_shift_click_removes_it(fresh: Page) -> None:
    plane = fresh.page.locator(".mg-plane")
    before = fresh.run("return p.state()")["points"]
    plane.click(position={"x": 5, "y": 5})  # a corner: no point there
    fresh.page.wait_for_function(f"window.playground.state().points === {before + 1}")
    plane.click(position={"x": 5, "y": 5}, modifiers=["Shift"])
    fresh.page.wait_for_function(f"window.playground.state().points === {before}")


def test_a_weight_set_in_the_page_is_the_models(fresh: Page) -> None:
    name = "layers.1.neurons.2.w.3"
    state = fresh.run("return p.setWeight(argument, '0.75').then(() => p.step(2))", name)
    assert state["settings"]["edits"] == {name: 0.75}
    reference = Session({"edits": {name: 0.75}})
    reference.train(2)
    assert state["loss"] == reference.history.loss[-1]


def test_clicking_a_weight_opens_an_editor_that_sets_it(fresh: Page) -> None:
    fresh.page.locator(".mg-weight-hit").first.click(force=True)
    editor = fresh.page.locator(".mg-editor input")
    editor.fill("-1.5")
    editor.press("Enter")
    fresh.page.wait_for_function("window.playground.full().model.layers[0][0].w[0] === -1.5")


def test_stepping_through_a_points_backprop_shows_step_throughs_frames(fresh: Page) -> None:
    fresh.run("return p.step(3).then(() => p.choosePoint(4))")
    reference = Session()
    reference.train(3)
    reference.choose_point(4)
    frames = [fresh.run("return p.frame(argument)", k) for k in (0, 1, 2)]
    for k, frame in enumerate(frames):
        assert frame["caption"] == reference.frame(k)["caption"]
    assert frames[0]["count"] == reference.frame(0)["count"]
    svg = fresh.page.locator(".mg-graph-picture svg")
    assert svg.count() == 1
    assert "grad" in (svg.text_content() or "")


def test_the_url_holds_the_settings_and_opens_the_same_playground(
    fresh: Page, browser: Any
) -> None:
    fresh.run("return p.set({lr: '0.5', hidden: '8, 4', dataset: 'circles'})")
    fresh.run(
        "return p.addPoint(0.1, 0.2, 0).then(() => p.setWeight('layers.0.neurons.1.b', 0.25))"
    )
    settings = fresh.run("return p.state().settings")
    url = fresh.run("return p.url()")
    other = Page(browser, url)
    try:
        assert other.run("return p.state().settings") == settings
        assert other.run("return p.state().step") == 0
    finally:
        other.page.close()


def test_bad_input_gets_a_message_and_the_page_goes_on(fresh: Page) -> None:
    lr = fresh.page.locator("input[name=lr]")
    lr.fill("fast")
    lr.dispatch_event("change")
    message = fresh.page.locator(".mg-message")
    message.wait_for(state="visible")
    fresh.page.wait_for_function("document.querySelector('.mg-message').textContent !== ''")
    assert "learning rate must be a number, got 'fast'" in message.inner_text()
    hidden = fresh.page.locator("input[name=hidden]")
    hidden.fill("16, 0")
    hidden.dispatch_event("change")
    fresh.page.wait_for_function(
        "document.querySelector('.mg-message').textContent.includes('hidden layer 2')"
    )
    assert fresh.run("return p.step(1)")["step"] == 1  # still training, with the old settings


def test_a_run_that_diverges_says_so_and_names_the_learning_rate(fresh: Page) -> None:
    state = fresh.run("return p.set({lr: 50}).then(() => p.step(40))")
    assert "diverged" in state["message"]
    assert "the learning rate 50.0 is too large" in state["message"]
    assert "diverged" in fresh.page.locator(".mg-message").inner_text()


# The widget's front-end in a browser: its one module (playground.js + widget.js), rendered
# as anywidget renders it, with a model whose messages go to the page's micrograd instead
# of a kernel's (the kernel's side is tests/test_playground.py's).
RENDER_WIDGET = """async (esm) => {
  const host = window.playground.host;
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  const listeners = [];
  const tell = (message) => listeners.forEach((listener) => listener(message));
  const model = {
    on: (name, listener) => listeners.push(listener),
    off: () => {},
    send: ({ id, method, params }) => host.call(method, params).then(
      (answer) => tell({ id, json: JSON.stringify(answer) }),
      (error) => tell({ id, json: JSON.stringify({ error: error.message }) }),
    ),
  };
  const el = document.createElement("div");
  el.id = "widget";
  document.body.append(el);
  widget.render({ model, el });
}"""


def test_the_widgets_front_end_renders_and_trains_through_its_model(fresh: Page) -> None:
    pytest.importorskip("anywidget")
    from micrograd.playground import Playground

    fresh.page.evaluate(RENDER_WIDGET, Playground._esm)
    widget = fresh.page.locator("#widget")
    widget.locator(".mg-plane").wait_for()
    widget.get_by_text("+1 step").click()
    fresh.page.wait_for_function(
        "document.querySelector('#widget .mg-step').textContent === 'step 1'"
    )
    assert widget.locator(".mg-unit").count() == 2 + 16 + 16 + 1
    fresh.page.evaluate("document.querySelector('#widget').remove()")


def test_no_request_leaves_localhost(page: Page, address: str) -> None:
    assert page.requests, "the page made no request at all"
    local = (address, "blob:" + address.rstrip("/"), "data:")
    outside = [url for url in page.requests if not url.startswith(local)]
    assert outside == []
    assert page.errors == []


def test_text_in_the_url_is_shown_as_text_and_never_runs(browser: Any, address: str) -> None:
    trap = '<img src=x onerror="document.title=1">'
    fragment = json.dumps({"lr": trap})
    opened = Page(browser, address + "#" + urllib.parse.quote(fragment))
    try:
        message = opened.page.locator(".mg-message").inner_text()
        assert "the settings in the URL were refused: learning rate must be a number" in message
        assert trap in message
        assert opened.page.locator(".mg-message img").count() == 0
        assert opened.page.title() == "micrograd playground"  # the handler never ran
    finally:
        opened.page.close()
