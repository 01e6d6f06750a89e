"""The checkpoint file: a model's architecture, its parameters and optionally its
optimizer's state, as one JSON file.

    model.save("model.json", optimizer)      # write (micrograd.nn.Module.save)
    model = MLP.load("model.json")           # a new model, built from the file
    model.restore("model.json", optimizer)   # into an existing model (to resume training)

Those methods of `micrograd.nn.Module` know models; this module knows the file. Its
format, version 1:

    {"format": "micrograd-checkpoint", "version": 1,
     "model": {"type": "MLP", "config": {"nin": 2, "nouts": [16, 16, 1], ...}},
     "parameters": {"layers.0.neurons.0.w.0": -0.2397..., ...},
     "optimizer": null}

Floats are written by json as `repr` writes them, the shortest text that reads back
as the same float, so a loaded model computes bit-identical outputs. A file is
written to a temporary file beside it and then renamed over it, so a crash never
leaves half a file. Reading checks the whole file's shape, and any problem is a
ValueError that names it. It is plain JSON: reading runs no code.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any, Union

__all__ = ["Checkpoint", "write", "read", "FORMAT", "VERSION"]

FORMAT = "micrograd-checkpoint"
VERSION = 1

Path = Union[str, "PathLike[str]"]


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds, its shape checked (the numbers are checked by
    whoever sets them: `Module.restore`, `Optimizer.load_state_dict`)."""

    model_type: str  # the model's class name, e.g. "MLP"
    config: dict[str, Any] | None  # what rebuilds it (Module.config()), or None
    parameters: dict[str, Any]  # every parameter's number, by name
    optimizer: dict[str, Any] | None  # an Optimizer.state_dict(), or None


def write(
    path: Path,
    model_type: str,
    config: Mapping[str, Any] | None,
    parameters: Mapping[str, float],
    optimizer: Mapping[str, Any] | None = None,
) -> None:
    """Write a checkpoint to `path`, atomically: `path` holds the old file or the new one."""
    for name, x in parameters.items():
        if not math.isfinite(x):
            raise ValueError(f"cannot save: parameter {name!r} is {x} (JSON holds finite numbers)")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "model": {"type": model_type, "config": config},
        "parameters": dict(parameters),
        "optimizer": optimizer,
    }
    _write_atomically(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


def read(path: Path) -> Checkpoint:
    """The checkpoint at `path`, checked for format, version and the shape of each entry."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a checkpoint (not UTF-8 text)") from None
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{path}: not valid JSON, truncated or corrupt ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{path}: not a micrograd checkpoint (no "format": {FORMAT!r})')
    version = document.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ValueError(
            f"{path}: checkpoint format version {version!r}; this micrograd reads version {VERSION}"
        )
    expected = {"format", "version", "model", "parameters", "optimizer"}
    if set(document) != expected:
        raise ValueError(
            f"{path}: a checkpoint has the keys {sorted(expected)}, got {sorted(document)}"
        )
    model = document["model"]
    if (
        not isinstance(model, dict)
        or set(model) != {"type", "config"}
        or not isinstance(model["type"], str)
        or not isinstance(model["config"], (dict, type(None)))
    ):
        raise ValueError(
            f'{path}: "model" must be {{"type": name, "config": {{...}} or null}}, got {model!r}'
        )
    if not isinstance(document["parameters"], dict):
        raise ValueError(f'{path}: "parameters" must map names to numbers')
    if not isinstance(document["optimizer"], (dict, type(None))):
        raise ValueError(f'{path}: "optimizer" must be an optimizer state or null')
    return Checkpoint(model["type"], model["config"], document["parameters"], document["optimizer"])


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _write_atomically(path: Path, text: str) -> None:
    """Make `path` hold `text` in one step: it holds the old file or the new one, never
    a mix, whatever fails or however the process ends.

    The new file is written beside the file `path` names (through symlinks: a link
    stays a link to its file), gets the mode the old file had (a new one the mode the
    umask allows), is flushed to disk and is then renamed over it.
    """
    target = os.path.realpath(path)  # through symlinks, to the file itself
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    directory = os.path.dirname(target)
    temporary = f"{target}.{secrets.token_hex(4)}.tmp"  # same directory: the rename is atomic
    try:
        _write_new_file(directory, temporary, text.encode("utf-8"), mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _sync_directory(directory)


def _write_new_file(directory: str, name: str, data: bytes, mode: int | None) -> None:
    """Create the file `name` holding `data`, flushed to disk.

    On Linux it is written with no name at all (O_TMPFILE) and named only once it is
    whole, so a kill -9 while writing leaves nothing behind; elsewhere it is named
    from the start.
    """
    if hasattr(os, "O_TMPFILE"):
        try:
            fd = os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o666)
        except OSError:  # a file system without unnamed files
            pass
        else:
            try:
                _fill(fd, data, mode)
                try:  # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N names the open file;
                    # os.link calls linkat rather than link only when given a directory fd
                    folder = os.open(directory, os.O_RDONLY)
                    try:
                        os.link(f"/proc/self/fd/{fd}", os.path.basename(name), dst_dir_fd=folder)
                    finally:
                        os.close(folder)
                    return
                except OSError:  # no /proc, say: write it again, named
                    pass
            finally:
                os.close(fd)
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        _fill(fd, data, mode)
    finally:
        os.close(fd)


def _fill(fd: int, data: bytes, mode: int | None) -> None:
    if mode is not None and hasattr(os, "fchmod"):  # (Windows has no modes to keep)
        os.fchmod(fd, mode)
    view = memoryview(data)
    while view:  # os.write may write less than it was given
        view = view[os.write(fd, view) :]
    os.fsync(fd)  # on disk before the rename makes it the checkpoint


def _sync_directory(directory: str) -> None:
    """Flush the rename to disk too, where a directory can be opened (not on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
