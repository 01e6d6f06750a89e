"""The checkpoint file: a model's architecture, its parameters and optionally its
optimizer's state, as one JSON file.

    model.save("model.json", optimizer)      # write (micrograd.nn.Module.save)
    model = MLP.load("model.json")           # a new model, built from the file
    model.restore("model.json", optimizer)   # into an existing model (to resume training)

Those methods of `micrograd.nn.Module` hand over to `save`, `restore` and `load`
here, which check a model's numbers against the file and set them all or none; `write`
and `read` know the file alone. Its format, version 2:

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

import hashlib
import json
import math
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, Union

from micrograd._checks import excerpt, finite_number, shortened
from micrograd._signals import interrupts_deferred
from micrograd.files import write_atomically

if TYPE_CHECKING:
    from micrograd.engine import Value
    from micrograd.optim import Optimizer

__all__ = [
    "Checkpoint",
    "Model",
    "save",
    "restore",
    "load",
    "check_state",
    "write",
    "read",
    "checksum",
    "FORMAT",
    "VERSION",
    "MAX_BYTES",
]

FORMAT = "micrograd-checkpoint"
VERSION = 2  # version 2 added "checksum"
READABLE = (1, 2)  # the versions `read` accepts

# The largest file `read` accepts: a checkpoint holds about 40 bytes per number (an
# MLP(2, [16, 16, 1]) with Adam's state is about 60 kB), and a scalar engine trains
# far fewer than the million or so numbers this allows.
MAX_BYTES = 64 * 2**20

Path = Union[str, "PathLike[str]"]
M = TypeVar("M", bound="Model")


class Model(Protocol):
    """What a checkpoint needs of a model: `micrograd.nn.Module` has all of it. (Named
    here rather than imported, so that this module does not depend on micrograd.nn.)"""

    def named_parameters(self) -> list[tuple[str, Value]]: ...

    def parameters(self) -> list[Value]: ...

    def state_dict(self) -> dict[str, float]: ...

    def config(self) -> dict[str, Any] | None: ...

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int | None: ...

    @classmethod
    def from_config(
        cls: type[M], config: Mapping[str, Any], rng: random.Random | None = None
    ) -> M: ...


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds, its shape checked (the numbers are checked by
    whoever sets them: `Module.restore`, `Optimizer.load_state_dict`)."""

    model_type: str  # the model's class name, e.g. "MLP"
    config: dict[str, Any] | None  # what rebuilds it (Module.config()), or None
    parameters: dict[str, Any]  # every parameter's number, by name
    optimizer: dict[str, Any] | None  # an Optimizer.state_dict(), or None


# ---- models: what Module.save, Module.restore and Module.load do -------------------


def save(model: Model, path: Path, optimizer: Optimizer | None = None) -> None:
    """Write `model` (and the optimizer's state, if given) to a JSON checkpoint."""
    write(
        path,
        type(model).__name__,
        model.config(),
        model.state_dict(),
        None if optimizer is None else optimizer.state_dict(),
    )


def restore(model: Model, path: Path, optimizer: Optimizer | None = None) -> None:
    """Set `model`'s parameters (and the optimizer's state) from a checkpoint of its
    architecture, all or nothing: `Module.restore` says which errors it raises."""
    saved = read(path)
    if saved.model_type != type(model).__name__ or saved.config != model.config():
        raise ValueError(
            f"{path}: the file's model is {shortened(saved.model_type)} "
            f"{excerpt(saved.config)}; "
            f"this model is {type(model).__name__} {model.config()}"
        )
    _set_from(model, path, saved, optimizer)


def load(cls: type[M], path: Path, architectures: Mapping[str, type[Model]]) -> M:
    """A new model built and filled from a checkpoint.

    The file's model must be `cls` or one of `architectures` (by type name) that is a
    subclass of `cls`. Its optimizer state, if any, is not used.
    """
    saved = read(path)
    kind = saved.model_type
    architecture = cls if kind == cls.__name__ else architectures.get(kind)
    if architecture is None:
        raise ValueError(
            f"{path}: cannot build model type {excerpt(kind)}; known types are "
            f"{sorted(architectures)} (build the model yourself, then call "
            "model.restore(path))"
        )
    if not issubclass(architecture, cls):
        raise ValueError(f"{path}: holds model type {shortened(kind)}, not {cls.__name__}")
    if saved.config is None:
        raise ValueError(f"{path}: model type {kind} has no config to build it from")
    # Building allocates every parameter: refuse an architecture far larger than the
    # file, where the class can count them. (Smaller mismatches are built, so that the
    # check of the parameters can name each missing name.) In a file, a wrong type is
    # a bad value: ValueErrors.
    try:
        expected = architecture.count_parameters(saved.config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
    found = len(saved.parameters)
    if expected is not None and expected > 2 * found + 100:
        raise ValueError(
            f"{path}: {kind} {excerpt(saved.config)} has {expected} parameters; "
            f"the file has {found}"
        )
    try:
        model = architecture.from_config(saved.config)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{path}: invalid {kind} architecture {excerpt(saved.config)}: {shortened(str(error))}"
        ) from None
    _set_from(model, path, saved, None)
    return model


def _set_from(model: Model, path: Path, saved: Checkpoint, optimizer: Optimizer | None) -> None:
    """Check the file's parameters (and optimizer state), then set them: all or nothing."""
    try:
        values = check_state(model, saved.parameters)
        if optimizer is not None:
            if saved.optimizer is None:
                raise ValueError("holds no optimizer state to restore")
            optimizer.check_state_dict(saved.optimizer)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    with interrupts_deferred():
        for p, x in zip(model.parameters(), values):
            p.data = x
        if optimizer is not None and saved.optimizer is not None:  # (checked above)
            optimizer.load_state_dict(saved.optimizer)


def check_state(model: Model, state: Mapping[str, float]) -> list[float]:
    """The numbers of `state` in `model.named_parameters()` order, or a ValueError.

    The error names the first problem: a missing or extra parameter name, or a value
    that is not a finite real number. (Module.load_state_dict checks with it too.)
    """
    if not isinstance(state, Mapping):
        raise ValueError(f"a state dict must map names to numbers, got {type(state).__name__}")
    names = [name for name, _ in model.named_parameters()]
    known = set(names)
    missing = [n for n in names if n not in state]
    extra = [n for n in state if n not in known]
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing {_some(missing)}")
        if extra:
            problems.append(f"unexpected {_some(extra)}")
        raise ValueError(f"state does not fit the model: {'; '.join(problems)}")
    return [_finite_number(state[n], f"parameter {excerpt(n)}") for n in names]


def _some(names: list[str], shown: int = 3) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(excerpt(n, 100) for n in names[:shown]) + more


def _finite_number(x: object, what: str) -> float:
    """x as a float if it is a finite real number, else a ValueError: a state (often
    read from a file) that holds something else is a bad value, whatever its type."""
    try:
        return finite_number(what, x)
    except TypeError as error:
        raise ValueError(str(error)) from None


# ---- the file -----------------------------------------------------------------------


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
    write_atomically(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


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
