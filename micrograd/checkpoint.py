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

import json
import math
import os
import secrets
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
    """Write `text` to a new file beside `path`, then rename it over `path` in one step."""
    path = os.fspath(path)
    temporary = f"{path}.{secrets.token_hex(4)}.tmp"  # same directory: os.replace is atomic
    try:
        with open(temporary, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it the checkpoint
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
