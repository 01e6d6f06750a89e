"""Frames that play without a kernel: a self-contained HTML player, and an animated GIF.

A player is one HTML fragment (or, saved, a whole page): every frame's picture
inline, a caption per frame, and controls (first, previous, play/pause, next, a
slider, the arrow keys) run by a few lines of inline JavaScript. The frames of a
step-through differ in a few numbers, so each picture is stored as pieces (an SVG's
node and edge groups), each distinct piece once, and a frame as the list of its
pieces: the page grows with the pieces that change, not with frames x graph. It loads nothing
from the network and needs no Jupyter kernel, so a notebook read on nbviewer, or
the page opened from disk, plays as it was saved. A GIF plays anywhere images do
(GitHub's notebook view included), without controls.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from collections.abc import Sequence

from micrograd._checks import positive_number

__all__ = ["player_html", "gif_bytes", "frame_milliseconds", "GIF_MAX_WIDTH", "GIF_MAX_PIXELS"]

# A GIF's frames are drawn at most this many pixels wide (and high): what a page or a
# notebook shows of a picture anyway (the players shrink a wider one to fit, too).
GIF_MAX_WIDTH = 1400
# A GIF holds every frame until it is written, a byte per pixel: past this many pixels
# in all (about 300 MB), it is refused rather than exhausting memory.
GIF_MAX_PIXELS = 300_000_000

# A GIF holds each frame's time in hundredths of a second, in 16 bits (at most 655.35 s),
# and browsers play a GIF frame shorter than 0.02 s as 0.1 s: the times every player plays.
SHORTEST_FRAME = 0.02
LONGEST_FRAME = 655.35


def frame_milliseconds(seconds_per_frame: object) -> int:
    """seconds_per_frame as whole milliseconds, or a TypeError/ValueError saying why not:
    a number of seconds from SHORTEST_FRAME to LONGEST_FRAME, which GIFs and pages play alike."""
    seconds = positive_number("seconds_per_frame", seconds_per_frame)
    if not SHORTEST_FRAME <= seconds <= LONGEST_FRAME:
        raise ValueError(
            f"seconds_per_frame must be from {SHORTEST_FRAME} to {LONGEST_FRAME} s, got "
            f"{seconds_per_frame!r}: a GIF holds at most {LONGEST_FRAME} s a frame, and "
            f"browsers play frames shorter than {SHORTEST_FRAME} s slower than asked"
        )
    return round(seconds * 1000)


_STYLE = """
.mg-player { font-family: sans-serif; font-size: 14px; color: #111827; }
.mg-player .mg-controls { display: flex; align-items: center; gap: 6px; margin: 4px 0; }
.mg-player button { font-size: 14px; padding: 2px 10px; cursor: pointer; }
.mg-player input[type=range] { flex: 0 1 320px; }
.mg-player .mg-caption { background: #f3f4f6; padding: 6px 8px; margin: 4px 0;
  font-size: 13px; white-space: pre; overflow-x: auto; min-height: 3.9em; }
.mg-player .mg-frame { display: none; overflow: auto; }
/* a picture wider than the page shrinks to fit it, rather than hiding its right end */
.mg-player .mg-frame svg, .mg-player .mg-frame img { max-width: 100%; height: auto; }
.mg-player .mg-frame.mg-shown { display: block; }
"""

# The player's behaviour: one frame shown at a time. The same player can be on a page
# twice (a notebook that shows it in two cells), so the script finds its own copy: the
# player around it, or, where scripts run apart from the page (Jupyter's classic
# notebook runs an output's scripts with eval, and document.currentScript is null),
# the first copy of this player, by its key __PLAYER_KEY__, that no script has started yet.
_SCRIPT = """
(function () {
  var here = document.currentScript;
  var root = here && here.closest(".mg-player");
  if (!root) {
    root = document.querySelector('.mg-player[data-player="__PLAYER_KEY__"]:not([data-started])');
  }
  root.setAttribute("data-started", "true");
  var frames = root.querySelectorAll(".mg-frame");
  var pieces = JSON.parse(root.querySelector("script.mg-pieces").textContent);
  function draw(frame) {  // only the frame shown holds its picture
    frame.innerHTML = frame.getAttribute("data-pieces").split(" ").map(function (i) {
      return pieces[+i];
    }).join("");
  }
  var slider = root.querySelector("input[type=range]");
  var caption = root.querySelector(".mg-caption");
  var counter = root.querySelector(".mg-counter");
  var play = root.querySelector("[data-go=play]");
  var shown = 0, timer = null;
  function show(k) {
    k = Math.max(0, Math.min(frames.length - 1, k));
    frames[shown].classList.remove("mg-shown");
    frames[shown].innerHTML = "";
    draw(frames[k]);
    frames[k].classList.add("mg-shown");
    shown = k;
    slider.value = k;
    caption.textContent = frames[k].getAttribute("data-caption");
    counter.textContent = "frame " + k + " of " + (frames.length - 1);
    root.setAttribute("data-frame", String(k));
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } play.textContent = "\\u25b6 Play"; }
  function start() {
    if (shown === frames.length - 1) { show(0); }
    play.textContent = "\\u23f8 Pause";
    timer = setInterval(function () {
      if (shown === frames.length - 1) { stop(); } else { show(shown + 1); }
    }, __MILLISECONDS__);
  }
  root.querySelector("[data-go=first]").onclick = function () { stop(); show(0); };
  root.querySelector("[data-go=prev]").onclick = function () { stop(); show(shown - 1); };
  root.querySelector("[data-go=next]").onclick = function () { stop(); show(shown + 1); };
  play.onclick = function () { if (timer) { stop(); } else { start(); } };
  slider.oninput = function () { stop(); show(parseInt(slider.value, 10)); };
  root.onkeydown = function (event) {
    if (event.key === "ArrowRight") { stop(); show(shown + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft") { stop(); show(shown - 1); event.preventDefault(); }
  };
  show(0);
})();
"""


def player_html(
    pictures: Sequence[str],
    captions: Sequence[str],
    title: str,
    seconds_per_frame: float = 1.0,
    full_page: bool = False,
) -> str:
    """An HTML player over frames: `pictures` are inline HTML (an <svg> or <img>) and
    `captions` plain text, one per frame. A fragment for a notebook, or a whole page."""
    if len(pictures) != len(captions) or not pictures:
        raise ValueError("a player needs one caption per picture, and at least one picture")
    milliseconds = frame_milliseconds(seconds_per_frame)
    # a key from its content, so that the same frames give the same page every time
    digest = hashlib.sha1("\0".join([*pictures, *captions]).encode("utf-8")).hexdigest()
    key = digest[:12]
    last = len(pictures) - 1
    pool: dict[str, int] = {}  # each distinct piece -> its index in the page's list
    frames = "\n".join(
        f'<div class="mg-frame" data-caption="{html.escape(caption, quote=True)}" '
        f'data-pieces="{" ".join(str(pool.setdefault(p, len(pool))) for p in _pieces(picture))}">'
        "</div>"
        for picture, caption in zip(pictures, captions)
    )
    # "<" written as \u003c, so that no piece can end the script element or open another
    pieces = json.dumps(list(pool)).replace("<", "\\u003c")
    script = _SCRIPT.replace("__PLAYER_KEY__", key)
    script = script.replace("__MILLISECONDS__", str(milliseconds))
    fragment = f"""<div class="mg-player" data-player="{key}" tabindex="0" data-frame="0">
<style>{_STYLE}</style>
<div class="mg-title"><b>{html.escape(title)}</b></div>
<div class="mg-controls">
<button data-go="first" title="the first frame">First</button>
<button data-go="prev" title="the frame before (left arrow)">&#x25C0; Prev</button>
<button data-go="play" title="play the frames in turn">&#x25B6; Play</button>
<button data-go="next" title="the next frame (right arrow)">Next &#x25B6;</button>
<input type="range" min="0" max="{last}" value="0" step="1" aria-label="frame">
<span class="mg-counter">frame 0 of {last}</span>
</div>
<pre class="mg-caption">{html.escape(captions[0])}</pre>
{frames}
<script type="application/json" class="mg-pieces">{pieces}</script>
<script>{script}</script>
</div>"""
    if not full_page:
        return fragment
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
</head>
<body>
{fragment}
</body>
</html>
"""


# Graphviz writes each node and edge of an SVG as one <g id="..."> group: a piece
_PIECE_START = re.compile(r'(?=<g id=")')


def _pieces(picture: str) -> list[str]:
    """A picture cut before each <g id=" group: pieces that, joined, are the picture."""
    return _PIECE_START.split(picture)


def gif_bytes(
    pngs: Sequence[bytes], captions: Sequence[str], seconds_per_frame: float = 1.0
) -> bytes:
    """An animated GIF of PNG frames, each under its caption, playing in a loop.

    Needs Pillow, which comes with matplotlib (`pip install "micrograd[plot]"`). The
    frames are decoded one at a time; a GIF of more than GIF_MAX_PIXELS pixels in all
    is refused (ValueError) before any is.
    """
    milliseconds = frame_milliseconds(seconds_per_frame)
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError('a GIF needs Pillow: pip install "micrograd[plot]"') from None
    try:
        font = ImageFont.load_default(size=15)
    except TypeError:  # Pillow before 10.1: one small bitmap font
        font = ImageFont.load_default()
    sizes = [Image.open(io.BytesIO(png)).size for png in pngs]  # read from the headers alone
    line_height = 19
    caption_height = 10 + line_height * max(len(c.splitlines()) for c in captions)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_width = max(
        measure.textlength(line, font=font) for c in captions for line in c.splitlines() or [""]
    )
    # as wide as the widest picture, or as the widest caption line (8 px each side)
    width = max(max(w for w, _ in sizes), 16 + int(text_width + 1))
    height = caption_height + max(h for _, h in sizes)
    pixels = len(pngs) * width * height
    if pixels > GIF_MAX_PIXELS:
        raise ValueError(
            f"a GIF of {len(pngs)} frames of {width} x {height} px would hold {pixels:,} "
            f"pixels, more than {GIF_MAX_PIXELS:,}: save a player page instead (save_html), "
            "which stores what the frames share once, or draw a smaller piece"
        )
    frames = []
    for png, caption in zip(pngs, captions):
        image = Image.open(io.BytesIO(png)).convert("RGB")
        frame = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(frame)
        draw.rectangle((0, 0, width, caption_height - 4), fill=(243, 244, 246))
        for row, line in enumerate(caption.splitlines()):
            draw.text((8, 4 + row * line_height), line, fill=(17, 24, 39), font=font)
        frame.paste(image, (0, caption_height))
        frames.append(frame.quantize(colors=255, method=Image.Quantize.MEDIANCUT))
    out = io.BytesIO()
    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=milliseconds,
        loop=0,
    )
    return out.getvalue()
