"""The saved players, opened in a real browser: headless Chromium steps through them.

Each test saves a page, adds a small script that presses the page's own buttons
(Next, Prev, the slider, Play) and writes what the page then shows into the DOM,
and reads that back with Chromium's --dump-dom after the scripts ran; a screenshot
checks that the first frame is drawn, not blank. Skipped where there is no
Chromium (CI installs Debian's `chromium`).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from helpers import recorded_training

from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.viz import render, step_through

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.path.exists("/usr/bin/chromium"):
    CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium browser installed"),
    pytest.mark.skipif(render.find_renderer() is None, reason="no renderer installed"),
]

# Presses the player's controls as a reader would and records what it shows after each.
PROBE = """
<script>
(function () {
  var root = document.querySelector(".mg-player");
  function press(name) { root.querySelector("[data-go=" + name + "]").click(); }
  function seen() {
    var shown = root.querySelectorAll(".mg-frame.mg-shown");
    return {
      frame: root.getAttribute("data-frame"),
      shown: shown.length,
      caption: root.querySelector(".mg-caption").textContent,
      counter: root.querySelector(".mg-counter").textContent,
      slider: root.querySelector("input[type=range]").value
    };
  }
  var record = {frames: root.querySelectorAll(".mg-frame").length, start: seen(), after: []};
  ["next", "next", "next", "next", "prev"].forEach(function (name) {
    press(name); record.after.push(seen());
  });
  var slider = root.querySelector("input[type=range]");
  slider.value = "1"; slider.dispatchEvent(new Event("input"));
  record.slider = seen();
  press("first"); press("play");
  setTimeout(function () {
    record.played = seen();
    var out = document.createElement("pre");
    out.id = "probe";
    out.textContent = JSON.stringify(record);
    document.body.appendChild(out);
  }, 60000);
})();
</script>
"""


def chromium(*arguments: str) -> subprocess.CompletedProcess:
    """Run headless Chromium as the project runs it, with a fresh profile."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", *arguments,
        ]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, timeout=120)


def probe(page: Path, script: str = PROBE, *options: str) -> dict:
    """What the page shows as `script` presses its controls (virtual time runs Play to its end).

    The script writes its record as JSON into <pre id="probe">; `options` go to Chromium.
    """
    probed = page.with_name("probed.html")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"))
    result = chromium(*options, "--virtual-time-budget=120000", "--dump-dom", probed.as_uri())
    start = result.stdout.find('<pre id="probe">')
    assert start >= 0, result.stderr[-2000:]
    text = result.stdout[start + len('<pre id="probe">') : result.stdout.find("</pre>", start)]
    return json.loads(
        text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


def screenshot(page: Path, width: int, height: int) -> tuple[int, int, float]:
    """(width, height, the fraction of pixels that are not white) of a screenshot."""
    image = pytest.importorskip("PIL.Image")
    shot = page.with_name("shot.png")
    chromium(
        "--hide-scrollbars",
        f"--screenshot={shot}",
        f"--window-size={width},{height}",
        page.as_uri(),
    )
    picture = image.open(shot).convert("L")
    histogram = picture.histogram()
    return picture.width, picture.height, 1 - histogram[255] / sum(histogram)


@pytest.fixture(scope="module")
def backprop_page(tmp_path_factory) -> tuple[Path, object]:
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    loss = d * a
    loss.label = "L"
    steps = step_through(loss, show_contributions=True)
    page = tmp_path_factory.mktemp("backprop") / "backprop.html"
    steps.save_html(page, seconds_per_frame=0.5)
    return page, steps


def test_the_backprop_page_steps_through_every_frame_in_chromium(backprop_page):
    page, steps = backprop_page
    seen = probe(page)
    assert seen["frames"] == len(steps) == 4
    assert seen["start"] == {
        "frame": "0", "shown": 1, "caption": steps.caption(0), "counter": "frame 0 of 3",
        "slider": "0",
    }  # fmt: skip
    # next, next, next, next (stays on the last), prev
    assert [s["frame"] for s in seen["after"]] == ["1", "2", "3", "3", "2"]
    assert all(s["shown"] == 1 for s in seen["after"])
    assert seen["after"][2]["caption"] == steps.caption(3)
    assert seen["after"][2]["caption"].startswith("step 3 of 3: e = a * b, grad 2.0000")
    assert seen["slider"]["frame"] == "1" and seen["slider"]["caption"] == steps.caption(1)
    assert seen["played"]["frame"] == "3"  # Play ran to the last frame and stopped


def test_the_backprop_page_draws_its_first_frame(backprop_page):
    page, _ = backprop_page
    width, height, inked = screenshot(page, 1400, 500)
    assert (width, height) == (1400, 500)
    assert inked > 0.05  # boxes, text and controls: not a blank page


# Presses Next twice on the second player of the page and once on the first, then records
# the frame each shows and how many frames each shows at once.
PROBE_TWO = """
<script>
(function () {
  var players = document.querySelectorAll(".mg-player");
  function next(k) { players[k].querySelector("[data-go=next]").click(); }
  function seen(k) {
    return [players[k].getAttribute("data-frame"),
            players[k].querySelectorAll(".mg-frame.mg-shown").length,
            players[k].querySelector(".mg-caption").textContent];
  }
  var record = {players: players.length, start: [seen(0), seen(1)]};
  next(1); next(1); next(0);
  record.after = [seen(0), seen(1)];
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(record);
  document.body.appendChild(out);
})();
</script>
"""


def two_players_seen(steps, page: Path) -> dict:
    seen = probe(page, PROBE_TWO)
    assert seen["players"] == 2
    assert seen["start"] == [["0", 1, steps.caption(0)]] * 2
    return seen


def test_the_same_player_twice_on_a_page_steps_each_copy_on_its_own(backprop_page, tmp_path):
    _, steps = backprop_page
    fragment = steps.to_html()
    page = tmp_path / "two.html"
    page.write_text(f"<!DOCTYPE html><html><body>{fragment}<hr>{fragment}</body></html>")
    seen = two_players_seen(steps, page)
    assert seen["after"] == [["1", 1, steps.caption(1)], ["2", 1, steps.caption(2)]]


def test_players_whose_scripts_run_detached_as_in_classic_jupyter_each_step(
    backprop_page, tmp_path
):
    # Jupyter's classic notebook puts an output's HTML in the page and then runs its
    # scripts apart from it (jQuery's html()), where document.currentScript is no help.
    _, steps = backprop_page
    fragment = json.dumps(steps.to_html()).replace("</", "<\\/")
    page = tmp_path / "jupyter.html"
    page.write_text(f"""<!DOCTYPE html><html><body><div id="outputs"></div><script>
var fragment = {fragment};
for (var k = 0; k < 2; k++) {{
  var output = document.createElement("div");
  output.innerHTML = fragment;  // scripts put in by innerHTML do not run
  document.getElementById("outputs").appendChild(output);
  output.querySelectorAll("script").forEach(function (s) {{ (0, eval)(s.textContent); }});
}}
</script></body></html>""")
    seen = two_players_seen(steps, page)
    assert seen["after"] == [["1", 1, steps.caption(1)], ["2", 1, steps.caption(2)]]


# Where the page's first frame, and the node of the graph's root in it, end up in the window.
PROBE_FIT = """
<script>
(function () {
  var frame = document.querySelector(".mg-frame.mg-shown svg");
  var root = Array.prototype.filter.call(frame.querySelectorAll("g.node"), function (g) {
    return g.querySelector("title").textContent === "__ROOT__";
  })[0];
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    window: window.innerWidth,
    page: document.documentElement.scrollWidth,
    frame: frame.getBoundingClientRect().right,
    root: root.getBoundingClientRect().right
  });
  document.body.appendChild(out);
})();
</script>
"""


def test_a_frame_wider_than_the_window_is_shrunk_to_fit_with_its_root_in_view(tmp_path):
    model = MLP(2, [4, 4, 1], rng=random.Random(0))
    loss = (model([Value(1.0, label="x0"), Value(-2.0, label="x1")]) - 1.0) ** 2
    steps = step_through(loss)
    page = tmp_path / "wide.html"
    steps.save_html(page)
    assert 'width="' in steps.frame_html(0)  # drawn wider than the window at full size:
    assert float(steps.frame_html(0).split('width="')[1].split("pt")[0]) * 4 / 3 > 1400
    root_id = steps.graph.ids[steps.graph.root]
    seen = probe(page, PROBE_FIT.replace("__ROOT__", root_id), "--window-size=1400,900")
    assert seen["window"] == 1400
    assert seen["page"] <= seen["window"]  # nothing to scroll sideways to
    assert seen["root"] <= seen["frame"] <= seen["window"]


def test_the_training_page_plays_in_chromium(tmp_path):
    recorder = recorded_training(every=5, steps=10)
    page = tmp_path / "training.html"
    recorder.save_html(page, seconds_per_frame=0.5)
    seen = probe(page)
    assert seen["frames"] == 3
    assert seen["after"][1]["caption"] == recorder.captions()[2]
    assert seen["played"]["frame"] == "2"
    assert screenshot(page, 800, 420)[2] > 0.05
