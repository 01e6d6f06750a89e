"""Checkpoints: a model, and optionally its optimizer's state, as a JSON file.

    model.save("model.json", optimizer)      # write
    model = MLP.load("model.json")           # a new model, built from the file
    model.restore("model.json", optimizer)   # into an existing model (to resume training)

The file (format version 1) holds the architecture, every parameter by name and
the optimizer's `state_dict()`:

    {"format": "micrograd-checkpoint", "version": 1,
     "model": {"type": "MLP", "config": {"nin": 2, "nouts": [16, 16, 1], ...}},
     "parameters": {"layers.0.neurons.0.w.0": -0.2397..., ...},
     "optimizer": null}

Floats are written by json as `repr` writes them, the shortest text that reads back
as the same float, so a loaded model computes bit-identical outputs. A file is
written to a temporary file beside it and then renamed over it, so a crash never
leaves half a file. Loading checks the whole file before it sets anything, and any
problem is a ValueError that names it. It is plain JSON: loading runs no code.
"""

from __future__ import annotations

import json
import math
import os
import random
import secrets
from os import PathLike
from typing import Any, Union

from micrograd._checks import int_at_least
from micrograd.nn import MLP, Layer, Module, Neuron, check_state

__all__ = ["save", "load", "restore", "read", "FORMAT", "VERSION", "ARCHITECTURES"]

FORMAT = "micrograd-checkpoint"
VERSION = 1

# The models `load` can build from a file's "model" entry, by type name.
ARCHITECTURES: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}

Path = Union[str, "PathLike[str]"]


def save(model: Module, path: Path, optimizer=None) -> None:
    """Write `model` (and `optimizer.state_dict()`, if given) to `path`, atomically."""
    parameters = model.state_dict()
    for name, x in parameters.items():
        if not math.isfinite(x):
            raise ValueError(f"cannot save: parameter {name!r} is {x} (JSON holds finite numbers)")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "model": {"type": type(model).__name__, "config": model.config()},
        "parameters": parameters,
        "optimizer": None if optimizer is None else optimizer.state_dict(),
    }
    _write_atomically(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


def load(path: Path) -> Module:
    """A new model of the architecture in the file, with its parameters.

    The file must hold a Neuron, Layer or MLP (see ARCHITECTURES). Its optimizer
    state, if any, is not used: build the optimizer, then call `restore`.
    """
    document = read(path)
    kind, config = document["model"]["type"], document["model"]["config"]
    if kind not in ARCHITECTURES:
        raise ValueError(
            f"{path}: cannot build model type {kind!r}; known types are {sorted(ARCHITECTURES)} "
            "(build the model yourself, then call model.restore(path))"
        )
    # Building allocates every parameter: refuse an architecture far larger than the file.
    # (Smaller mismatches are built, so that the check below can name each missing name.)
    expected = _parameter_count(path, kind, config)
    found = len(document["parameters"])
    if expected > 2 * found + 100:
        raise ValueError(f"{path}: {kind} {config} has {expected} parameters; the file has {found}")
    try:  # a throwaway generator: building must not consume the global random state
        model = ARCHITECTURES[kind](**config, rng=random.Random(0))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: invalid {kind} architecture {config}: {error}") from None
    _apply(path, document, model, None)
    return model


def restore(model: Module, path: Path, optimizer=None) -> None:
    """Set `model`'s parameters (and `optimizer`'s state, if given) from the file.

    The file must hold the same architecture. Everything is checked first: on any
    problem this raises ValueError and neither the model nor the optimizer changes.
    """
    document = read(path)
    kind, config = document["model"]["type"], document["model"]["config"]
    if kind != type(model).__name__ or config != model.config():
        raise ValueError(
            f"{path}: the file's model is {kind} {config}; this model is "
            f"{type(model).__name__} {model.config()}"
        )
    _apply(path, document, model, optimizer)


def read(path: Path) -> dict[str, Any]:
    """The checkpoint's contents, checked for format, version and the shape of each entry."""
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
    return document


def _apply(path: Path, document: dict[str, Any], model: Module, optimizer) -> None:
    """Check the parameters (and optimizer state), then set them: all or nothing."""
    try:
        values = check_state(model, document["parameters"])
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    optimizer_state = None
    if optimizer is not None:
        if document["optimizer"] is None:
            raise ValueError(f"{path}: holds no optimizer state to restore")
        try:
            optimizer_state = optimizer._checked_state(document["optimizer"])
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
    for p, x in zip(model.parameters(), values):
        p.data = x
    if optimizer_state is not None:
        for name, value in optimizer_state.items():
            setattr(optimizer, name, value)


def _parameter_count(path: Path, kind: str, config: object) -> int:
    """How many parameters the architecture has, from its sizes alone (nothing is built,
    so a file that claims a huge network cannot make us allocate one)."""

    def size(key: str, value: object) -> int:
        try:
            return int_at_least(f"{kind} {key}", value, 1)
        except (TypeError, ValueError) as error:  # in a file, a wrong type is a bad value
            raise ValueError(f"{path}: {error}") from None

    if not isinstance(config, dict):
        raise ValueError(f"{path}: model type {kind} has no config to build it from")
    if kind == "Neuron":
        return size("nin", config.get("nin")) + 1
    if kind == "Layer":
        return size("nout", config.get("nout")) * (size("nin", config.get("nin")) + 1)
    if kind != "MLP":
        raise ValueError(f"{path}: cannot count the parameters of model type {kind}")
    nouts = config.get("nouts")
    if not isinstance(nouts, list) or not nouts:
        raise ValueError(f"{path}: MLP nouts must be a non-empty list of sizes, got {nouts!r}")
    sizes = [size("nin", config.get("nin"))] + [size("nouts", n) for n in nouts]
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes, sizes[1:]))


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
