"""The checkpoint file: a model's architecture, its parameters and optionally its
optimizer's state, as one JSON file.

    model.save("model.json", optimizer)      # write (micrograd.nn.Module.save)
    model = MLP.load("model.json")           # a new model, built from the file
    model.restore("model.json", optimizer)   # into an existing model (to resume training)

Those methods of `micrograd.nn.Module` know models; this module knows the file. Its
format, version 2:

    {"format": "micrograd-checkpoint", "version": 2,
     "model": {"type": "MLP", "config": {"nin": 2, "nouts": [16, 16, 1], ...}},
     "parameters": {"layers.0.neurons.0.w.0": -0.2397..., ...},
     "optimizer": null,
     "checksum": "sha256:9f86d0..."}

Floats are written by json as `repr` writes them, the shortest text that reads back
as the same float, so a loaded model computes bit-identical outputs. The checksum
covers everything else in the file, so a flipped bit in a number (which would still
be a number) is refused instead of loaded. Version 1 was the same without the
checksum; those files are still read, unchecked.

A file is written to a temporary file beside it and then renamed over it, so a crash
never leaves half a file. Reading checks the whole file's shape, and any problem is a
ValueError that names it and quotes at most a short excerpt. It is plain JSON:
reading runs no code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any, Union

from micrograd._checks import excerpt

__all__ = ["Checkpoint", "write", "read", "checksum", "FORMAT", "VERSION", "MAX_BYTES"]

FORMAT = "micrograd-checkpoint"
VERSION = 2  # version 2 added "checksum"
READABLE = (1, 2)  # the versions `read` accepts

# The largest file `read` accepts: a checkpoint holds about 40 bytes per number (an
# MLP(2, [16, 16, 1]) with Adam's state is about 60 kB), and a scalar engine trains
# far fewer than the million or so numbers this allows.
MAX_BYTES = 64 * 2**20

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
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "model": {"type": model_type, "config": config},
        "parameters": dict(parameters),
        "optimizer": optimizer,
    }
    document["checksum"] = checksum(document)
    _write_atomically(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


def checksum(document: Mapping[str, Any]) -> str:
    """The checksum a checkpoint carries: SHA-256 of everything else in it, written as
    canonical JSON (sorted keys, no spaces). A float reads back as the float written,
    so the file's numbers give this same text, and any changed number another."""
    contents = {key: value for key, value in document.items() if key != "checksum"}
    # allow_nan: a file may hold NaN (json reads it); it then fails the check, not this
    canonical = json.dumps(contents, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read(path: Path) -> Checkpoint:
    """The checkpoint at `path`, checked for size, format, version, checksum and the
    shape of each entry. Version-1 files (from before checksums) are read unchecked."""
    document = _parse(path, _read_bytes(path))
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{path}: not a micrograd checkpoint (no "format": {FORMAT!r})')
    version = document.get("version")
    if version not in READABLE or isinstance(version, bool):
        raise ValueError(
            f"{path}: checkpoint format version {excerpt(version)}; this micrograd reads "
            f"versions {', '.join(map(str, READABLE))}"
        )
    expected = {"format", "version", "model", "parameters", "optimizer"}
    if version >= 2:
        expected.add("checksum")
    if set(document) != expected:
        raise ValueError(
            f"{path}: a checkpoint has the keys {sorted(expected)} (version {version}), "
            f"got {excerpt(sorted(document))}"
        )
    if version >= 2 and document["checksum"] != checksum(document):
        raise ValueError(
            f"{path}: the checksum does not match the contents: the file changed after it "
            "was saved (a flipped bit, a bad copy or an edit), so its numbers cannot be trusted"
        )
    model = document["model"]
    if (
        not isinstance(model, dict)
        or set(model) != {"type", "config"}
        or not isinstance(model["type"], str)
        or not isinstance(model["config"], (dict, type(None)))
    ):
        raise ValueError(
            f'{path}: "model" must be {{"type": name, "config": {{...}} or null}}, '
            f"got {excerpt(model)}"
        )
    if not isinstance(document["parameters"], dict):
        raise ValueError(f'{path}: "parameters" must map names to numbers')
    if not isinstance(document["optimizer"], (dict, type(None))):
        raise ValueError(f'{path}: "optimizer" must be an optimizer state or null')
    return Checkpoint(model["type"], model["config"], document["parameters"], document["optimizer"])


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, if there are at most MAX_BYTES of them (checked before reading
    a regular file; a device such as /dev/zero is read no further than that)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(MAX_BYTES + 1) if size <= MAX_BYTES else b""
    if size > MAX_BYTES or len(data) > MAX_BYTES:
        shown = f"{size:,} bytes" if size > MAX_BYTES else "more bytes"
        raise ValueError(
            f"{path}: {shown} than a checkpoint may have ({MAX_BYTES:,}); "
            "not a micrograd checkpoint, or raise micrograd.checkpoint.MAX_BYTES"
        )
    return data


def _parse(path: Path, data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a checkpoint (not UTF-8 text)") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{path}: not valid JSON, truncated or corrupt ({error})") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {excerpt(key)}")
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
    # Beside the target (so the rename is atomic), named for this process: see _remove_leftovers
    temporary = f"{target}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        _write_new_file(directory, temporary, text.encode("utf-8"), mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _sync_directory(directory)
    # The file is saved: tidying up after others (a directory we may not list, a
    # leftover we may not remove) must not make the save fail.
    with contextlib.suppress(OSError):
        _remove_leftovers(target)


def _remove_leftovers(target: str) -> None:
    """Remove the temporary files of earlier saves of `target` that were killed (kill -9)
    between naming the new file and renaming it: those whose process no longer runs.

    Only on POSIX, where a process can be asked whether it runs (on Windows, os.kill
    would stop it). A process id that was reused keeps its file until a later save; a
    name whose "process id" no process can have is not ours to judge, and stays.
    """
    if os.name != "posix":
        return
    directory, name = os.path.split(target)
    # a process id is a C int (pid_t): at most 10 digits
    leftover = re.compile(re.escape(name) + r"\.(\d{1,10})\.[0-9a-f]{8}\.tmp")
    for entry in os.listdir(directory):
        match = leftover.fullmatch(entry)
        if match and not _may_be_running(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(directory, entry))


def _may_be_running(pid: int) -> bool:
    """False only if no process `pid` exists (so a file named for it is a leftover)."""
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    except (OverflowError, ValueError):  # not a pid this system has: not ours to judge
        return True
    return True


def _write_new_file(directory: str, name: str, data: bytes, mode: int | None) -> None:
    """Create the file `name` holding `data`, flushed to disk.

    On Linux it is written with no name at all (O_TMPFILE) and named only once it is
    whole, so a kill -9 while writing leaves nothing behind (one in the moment between
    naming it and the rename leaves the name, which the next save removes); elsewhere
    it is named from the start.
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
