"""Build the playground page into a static site folder, and serve it on 127.0.0.1.

    python playground/build.py                  # build into build/playground/
    python playground/build.py --serve          # build, then serve on http://127.0.0.1:8000/

The site is everything the page needs, so that once built it works offline and can be
published as it is: the front-end (micrograd/playground/static/), Pyodide's files and
the WebAssembly Graphviz from node_modules (`npm ci`, from the committed
package-lock.json), and the wheels Pyodide installs: micrograd, built from this checkout
as a pure-Python wheel, and its one dependency, graphviz (the Python package).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "micrograd" / "playground" / "static"
DEFAULT_OUT = ROOT / "build" / "playground"
# What the page loads of each npm package: Pyodide's runtime and standard library, and
# viz.js, one ES module with Graphviz compiled to WebAssembly inside it.
PYODIDE_FILES = [
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
]
VIZ_FILE = "viz.js"


def npm_ci(root: Path = ROOT) -> Path:
    """node_modules as package-lock.json says, installed by `npm ci` unless it already is."""
    modules = root / "node_modules"
    installed = modules / ".package-lock.json"  # npm writes it after every install
    lock = root / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(
                "the playground is built with npm (Node.js), which is not installed: "
                "e.g. `apt-get install nodejs npm`"
            )
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=root, check=True)
    return modules


def wheels(into: Path, root: Path = ROOT) -> list[str]:
    """Build micrograd's wheel from `root` and get graphviz's, into `into`; their names."""
    with tempfile.TemporaryDirectory() as scratch:
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "wheel", "--no-deps", "-w", scratch, str(root)], check=True)
        subprocess.run(
            [*pip, "download", "--no-deps", "--only-binary=:all:", "-d", scratch, _graphviz(root)],
            check=True,
        )
        names = sorted(p.name for p in Path(scratch).glob("*.whl"))
        for name in names:
            shutil.copy2(Path(scratch) / name, into / name)
    return names


def _graphviz(root: Path) -> str:
    """micrograd's requirement on graphviz, as pyproject.toml writes it ("graphviz>=0.20")."""
    for line in (root / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("dependencies") and "graphviz" in line:
            return line.split('"')[1]
    raise SystemExit("pyproject.toml: found no graphviz in the dependencies")


def build(out: Path = DEFAULT_OUT, root: Path = ROOT) -> Path:
    """Build the site into `out` (made anew) and return it."""
    modules = npm_ci(root)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(STATIC, out, ignore=shutil.ignore_patterns("widget.js"))
    (out / "pyodide").mkdir()
    for name in PYODIDE_FILES:
        shutil.copy2(modules / "pyodide" / name, out / "pyodide" / name)
    (out / "vendor").mkdir()
    shutil.copy2(modules / "@viz-js" / "viz" / "dist" / VIZ_FILE, out / "vendor" / VIZ_FILE)
    (out / "wheels").mkdir()
    names = wheels(out / "wheels", root)
    (out / "wheels" / "index.json").write_text(json.dumps(names) + "\n", encoding="utf-8")
    return out


class _Handler(http.server.SimpleHTTPRequestHandler):
    # .mjs is JavaScript too: a module script must be served as such
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".whl": "application/zip",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per file would bury the address


def serve(site: Path, port: int) -> None:
    """Serve `site` on http://127.0.0.1:port/ until Ctrl-C."""
    handler = functools.partial(_Handler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"micrograd playground: http://127.0.0.1:{server.server_address[1]}/", flush=True)
        print("(Ctrl-C stops it)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop serving, quietly
            server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the site folder")
    parser.add_argument("--serve", action="store_true", help="serve it once built")
    parser.add_argument("--port", type=int, default=8000, help="the port to serve on (8000)")
    args = parser.parse_args(argv)
    site = build(args.out)
    print(f"built the playground into {site}", flush=True)
    if args.serve:
        serve(site, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
