"""micrograd.checkpoint: JSON checkpoints that round-trip exactly and never half-apply."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import bits

from micrograd import checkpoint
from micrograd.data import make_moons
from micrograd.nn import MLP, Layer, Module, Neuron
from micrograd.optim import SGD, Adam, cosine
from micrograd.train import fit


def trained_model() -> MLP:
    """A model whose parameters are full-precision floats (after a few training steps)."""
    model = MLP(2, [6, 4, 1], rng=random.Random(1))
    X, y = make_moons(20, seed=0)
    fit(model, X, [2 * t - 1 for t in y], steps=3, progress=False)
    return model


def parameter_bits(model: Module) -> list[bytes]:
    """Every parameter's exact bits: equal bits, not just equal values (-0.0 != 0.0)."""
    return [bits(p.data) for p in model.parameters()]


def edit(path, change) -> None:
    """Apply change(document) to the JSON checkpoint at path, and sign the result with
    its checksum as save() would: a well-formed file whose contents are wrong."""
    document = json.loads(path.read_text())
    change(document)
    document["checksum"] = checkpoint.checksum(document)
    path.write_text(json.dumps(document))


# ---- round trips ------------------------------------------------------------------------------


def test_a_loaded_model_has_bit_identical_parameters_and_outputs(tmp_path):
    model = trained_model()
    model.save(tmp_path / "m.json")
    loaded = MLP.load(tmp_path / "m.json")
    assert parameter_bits(loaded) == parameter_bits(model)
    xs = [[0.1, 0.2], [-1.7, 3.3], [1e-3, -2.5]]
    assert [loaded(x).data.hex() for x in xs] == [model(x).data.hex() for x in xs]


def test_a_loaded_model_has_the_same_architecture(tmp_path):
    model = MLP(3, [5, 2], activation="tanh", output_activation="sigmoid", rng=random.Random(0))
    model.save(tmp_path / "m.json")
    loaded = MLP.load(tmp_path / "m.json")
    assert repr(loaded) == repr(model) and loaded.config() == model.config()


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: Neuron(3, activation="tanh", rng=rng),
        lambda rng: Layer(2, 4, activation="sigmoid", rng=rng),
    ],
    ids=["Neuron", "Layer"],
)
def test_neurons_and_layers_round_trip_too(tmp_path, make):
    model = make(random.Random(0))
    model.save(tmp_path / "m.json")
    loaded = type(model).load(tmp_path / "m.json")
    assert parameter_bits(loaded) == parameter_bits(model) and repr(loaded) == repr(model)


@pytest.mark.parametrize(
    "make",
    [lambda n: Neuron(n(2)), lambda n: Layer(n(2), n(3)), lambda n: MLP(n(2), [n(4), n(1)])],
    ids=["Neuron", "Layer", "MLP"],
)
def test_a_model_built_with_numpy_sizes_saves_and_loads(tmp_path, make):
    np = pytest.importorskip("numpy")
    model = make(np.int64)
    model.save(tmp_path / "m.json")
    loaded = type(model).load(tmp_path / "m.json")
    assert parameter_bits(loaded) == parameter_bits(model) and loaded.config() == model.config()


class Stack(Module):
    """A module of one's own, as the README shows: children() and config(), nothing more."""

    def __init__(self, nin: int, hidden: int, rng: random.Random | None = None) -> None:
        self.hidden = Layer(nin, hidden, activation="tanh", rng=rng)
        self.out = Neuron(hidden, nonlin=False, rng=rng)

    def __call__(self, x):
        h = self.hidden(x)
        return self.out(h if isinstance(h, list) else [h])

    def children(self):
        return {"hidden": self.hidden, "out": self.out}

    def config(self):
        return {"nin": self.hidden.nin, "hidden": len(self.hidden.neurons)}


def test_a_module_of_ones_own_with_a_config_loads(tmp_path):
    model = Stack(2, 3, rng=random.Random(0))
    model.save(tmp_path / "m.json")
    loaded = Stack.load(tmp_path / "m.json")
    assert parameter_bits(loaded) == parameter_bits(model) and loaded.config() == model.config()
    assert loaded([0.5, -1.5]).data.hex() == model([0.5, -1.5]).data.hex()


def test_a_module_of_ones_own_whose_file_has_other_parameters_is_refused_by_name(tmp_path):
    Stack(2, 3, rng=random.Random(0)).save(tmp_path / "m.json")
    edit(tmp_path / "m.json", lambda d: d["model"]["config"].update(hidden=4))
    with pytest.raises(ValueError, match="state does not fit the model: missing 'hidden.neurons.3"):
        Stack.load(tmp_path / "m.json")


def test_negative_zero_and_extreme_floats_round_trip(tmp_path):
    model = Neuron(4, rng=random.Random(0))
    for p, x in zip(model.parameters(), [-0.0, 5e-324, 1.7976931348623157e308, 0.1, -1 / 3]):
        p.data = x
    model.save(tmp_path / "m.json")
    assert parameter_bits(Neuron.load(tmp_path / "m.json")) == parameter_bits(model)


def test_the_file_is_json_with_format_version_architecture_and_named_parameters(tmp_path):
    model = MLP(2, [3, 1], rng=random.Random(0))
    model.save(tmp_path / "m.json")
    document = json.loads((tmp_path / "m.json").read_text())
    assert document["format"] == "micrograd-checkpoint" and document["version"] == 2
    assert document["model"] == {"type": "MLP", "config": model.config()}
    assert document["parameters"] == model.state_dict()
    assert document["optimizer"] is None
    assert document["checksum"].startswith("sha256:")


def test_loading_does_not_touch_the_global_random_state(tmp_path):
    MLP(2, [4, 1], rng=random.Random(0)).save(tmp_path / "m.json")
    random.seed(11)
    before = random.getstate()
    MLP.load(tmp_path / "m.json")
    assert random.getstate() == before


@pytest.mark.parametrize(
    "make", [lambda ps: SGD(ps, lr=0.5, momentum=0.9), lambda ps: Adam(ps, lr=0.02)]
)
def test_model_and_optimizer_state_resume_training_exactly(tmp_path, make):
    X, y = make_moons(20, seed=0)
    y = [2 * t - 1 for t in y]

    straight = MLP(2, [8, 1], rng=random.Random(2))
    fit(straight, X, y, optimizer=make(straight.parameters()), steps=6, progress=False)

    first = MLP(2, [8, 1], rng=random.Random(2))
    first_optimizer = make(first.parameters())
    fit(first, X, y, optimizer=first_optimizer, steps=3, progress=False)
    first.save(tmp_path / "half.json", first_optimizer)

    resumed = MLP(2, [8, 1], rng=random.Random(99))
    resumed_optimizer = make(resumed.parameters())
    resumed.restore(tmp_path / "half.json", resumed_optimizer)
    fit(resumed, X, y, optimizer=resumed_optimizer, steps=3, progress=False)

    assert parameter_bits(resumed) == parameter_bits(straight)


@pytest.mark.parametrize("stop_after", [1, 3, 4, 6])  # inside an epoch of 3 batches, or at its end
def test_mini_batch_training_resumes_exactly_with_the_same_data_order(tmp_path, stop_after):
    X, y = make_moons(10, seed=0)
    y = [2 * t - 1 for t in y]
    options = {"batch_size": 4, "seed": 5, "progress": False}

    straight = MLP(2, [8, 1], rng=random.Random(2))
    fit(straight, X, y, optimizer=Adam(straight.parameters(), lr=0.05), steps=8, **options)

    first = MLP(2, [8, 1], rng=random.Random(2))
    first_optimizer = Adam(first.parameters(), lr=0.05)
    fit(first, X, y, optimizer=first_optimizer, steps=stop_after, **options)
    first.save(tmp_path / "half.json", first_optimizer)

    resumed = MLP(2, [8, 1], rng=random.Random(99))
    resumed_optimizer = Adam(resumed.parameters(), lr=0.05)
    resumed.restore(tmp_path / "half.json", resumed_optimizer)
    fit(resumed, X, y, optimizer=resumed_optimizer, steps=8 - stop_after, **options)

    assert parameter_bits(resumed) == parameter_bits(straight)


def test_a_checkpoint_saved_after_a_schedule_ended_can_be_restored(tmp_path):
    X, y = make_moons(20, seed=0)
    model = MLP(2, [4, 1], rng=random.Random(0))
    optimizer = SGD(model.parameters(), lr=0.1)
    schedule = cosine(0.1, steps=3)  # its default end, held from step 3 on
    fit(model, X, [2 * t - 1 for t in y], optimizer=optimizer, steps=5, schedule=schedule,
        progress=False)  # fmt: skip
    model.save(tmp_path / "m.json", optimizer)
    resumed = MLP(2, [4, 1], rng=random.Random(1))
    resumed_optimizer = SGD(resumed.parameters(), lr=0.1)
    resumed.restore(tmp_path / "m.json", resumed_optimizer)
    assert resumed_optimizer.state_dict() == optimizer.state_dict()


# ---- atomic writes ------------------------------------------------------------------------------


def test_save_replaces_an_existing_file_and_leaves_no_temporary_file(tmp_path, file_route):
    path = tmp_path / "m.json"
    path.write_text("old")
    Neuron(2, rng=random.Random(0)).save(path)
    assert os.listdir(tmp_path) == ["m.json"]
    assert json.loads(path.read_text())["format"] == "micrograd-checkpoint"


def test_a_crash_while_writing_keeps_the_old_file_whole(tmp_path, file_route, monkeypatch):
    path = tmp_path / "m.json"
    Neuron(2, rng=random.Random(0)).save(path)
    old = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        Neuron(2, rng=random.Random(1)).save(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.json"]


def test_a_model_with_a_nan_parameter_is_not_saved(tmp_path):
    model = Neuron(2, rng=random.Random(0))
    model.w[1].data = float("nan")
    with pytest.raises(ValueError, match="cannot save: parameter 'w.1' is nan"):
        model.save(tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


# ---- every bad file is refused, and nothing changes ------------------------------------------------


def written(data: bytes):
    """A corruption: the file holds `data` instead."""
    return lambda path: path.write_bytes(data)


def edited(change):
    """A corruption: change(document) applied to the file's JSON."""
    return lambda path: edit(path, change)


def parameter(value):
    """A corruption: one parameter set to `value`."""
    return edited(lambda d: d["parameters"].__setitem__("layers.0.neurons.1.w.0", value))


def truncated(path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def duplicated_format_key(path) -> None:
    path.write_text(path.read_text().replace('"optimizer"', '"format": 0, "optimizer"'))


BAD_FILES = [
    ("truncated", truncated, "not valid JSON"),
    ("empty", written(b""), "not valid JSON"),
    ("not UTF-8", written(b"\xff\xfe{}"), "not UTF-8"),
    ("a pickle", written(pickle.dumps({"format": 1})), "not UTF-8"),
    ("a JSON list", written(b"[1, 2]"), "not a micrograd checkpoint"),
    ("another format", edited(lambda d: d.update(format="npz")), "not a micrograd checkpoint"),
    ("a newer version", edited(lambda d: d.update(version=3)), "format version 3"),
    ("an unknown key", edited(lambda d: d.update(extra=1)), "a checkpoint has the keys"),
    ("a duplicate key", duplicated_format_key, "duplicate key 'format'"),
    ("wrong architecture", edited(lambda d: d["model"]["config"].update(nouts=[4, 4, 1])),
     "the file's model is MLP"),
    ("missing parameter", edited(lambda d: d["parameters"].pop("layers.1.neurons.2.b")),
     "missing 'layers.1.neurons.2.b'"),
    ("extra parameter", edited(lambda d: d["parameters"].update(bonus=1.0)), "unexpected 'bonus'"),
    ("a string", parameter("0.5"), "'layers.0.neurons.1.w.0' must be a number, got str"),
    ("a bool", parameter(True), "must be a number, got bool"),
    ("a null", parameter(None), "must be a number, got NoneType"),
    ("NaN", parameter(float("nan")), "'layers.0.neurons.1.w.0' must be finite, got nan"),
    ("Infinity", parameter(float("inf")), "must be finite, got inf"),
    ("a huge int", parameter(10**400), "must be finite, got an int too large for a float"),
]  # fmt: skip


@pytest.mark.parametrize(
    "corrupt, message", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_restore_refuses_a_bad_file_and_leaves_the_model_unchanged(tmp_path, corrupt, message):
    path = tmp_path / "m.json"
    model = MLP(2, [4, 3, 1], rng=random.Random(0))
    MLP(2, [4, 3, 1], rng=random.Random(1)).save(path)
    corrupt(path)
    before = parameter_bits(model)
    with pytest.raises(ValueError, match=message):
        model.restore(path)
    assert parameter_bits(model) == before


@pytest.mark.parametrize(
    "corrupt, message", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_load_refuses_a_bad_file(tmp_path, corrupt, message):
    path = tmp_path / "m.json"
    MLP(2, [4, 3, 1], rng=random.Random(1)).save(path)
    corrupt(path)
    with pytest.raises(ValueError, match=message.replace("the file's model is MLP", "missing")):
        MLP.load(path)


def test_a_file_claiming_a_huge_network_is_refused_without_building_it(tmp_path):
    path = tmp_path / "m.json"
    MLP(2, [4, 1], rng=random.Random(0)).save(path)
    edit(path, lambda d: d["model"]["config"].update(nouts=[10**9, 10**9, 1]))
    with pytest.raises(ValueError, match="has 1000000005000000001 parameters; the file has 17"):
        MLP.load(path)


def test_an_invalid_architecture_is_refused_naming_it(tmp_path):
    path = tmp_path / "m.json"
    MLP(2, [4, 1], rng=random.Random(0)).save(path)
    edit(path, lambda d: d["model"]["config"].update(activation="swish"))
    with pytest.raises(ValueError, match="invalid MLP architecture .* unknown activation 'swish'"):
        MLP.load(path)


def test_a_layer_size_of_the_wrong_type_in_a_file_is_a_value_error_naming_it(tmp_path):
    path = tmp_path / "m.json"
    MLP(2, [4, 1], rng=random.Random(0)).save(path)
    edit(path, lambda d: d["model"]["config"].update(nin="2"))
    with pytest.raises(ValueError, match="MLP nin must be an int >= 1, got str '2'"):
        MLP.load(path)


def test_loading_a_layer_file_as_an_mlp_is_refused(tmp_path):
    Layer(2, 3, rng=random.Random(0)).save(tmp_path / "layer.json")
    with pytest.raises(ValueError, match="holds model type Layer, not MLP"):
        MLP.load(tmp_path / "layer.json")


def test_restoring_from_a_missing_file_is_a_file_not_found_error_that_changes_nothing(tmp_path):
    model = MLP(2, [4, 1], rng=random.Random(0))
    before = parameter_bits(model)
    with pytest.raises(FileNotFoundError):
        model.restore(tmp_path / "missing.json")
    assert parameter_bits(model) == before


def test_restoring_optimizer_state_from_a_file_without_it_changes_nothing(tmp_path):
    MLP(2, [4, 1], rng=random.Random(1)).save(tmp_path / "m.json")
    model = MLP(2, [4, 1], rng=random.Random(0))
    optimizer = SGD(model.parameters(), lr=0.1)
    before = parameter_bits(model)
    with pytest.raises(ValueError, match="holds no optimizer state"):
        model.restore(tmp_path / "m.json", optimizer)
    assert parameter_bits(model) == before


def test_restoring_another_optimizers_state_changes_neither_model_nor_optimizer(tmp_path):
    source = MLP(2, [4, 1], rng=random.Random(1))
    source.save(tmp_path / "m.json", SGD(source.parameters(), lr=0.5))
    model = MLP(2, [4, 1], rng=random.Random(0))
    optimizer = Adam(model.parameters(), lr=0.01)
    before_model, before_optimizer = parameter_bits(model), optimizer.state_dict()
    with pytest.raises(ValueError, match="optimizer state is for 'SGD', not 'Adam'"):
        model.restore(tmp_path / "m.json", optimizer)
    assert parameter_bits(model) == before_model and optimizer.state_dict() == before_optimizer


def test_a_custom_module_can_be_saved_and_restored_but_not_built(tmp_path):
    class Twin(Module):
        def __init__(self, seed):
            self.left = Neuron(2, rng=random.Random(seed))
            self.right = Neuron(2, rng=random.Random(seed + 1))

        def parameters(self):
            return self.left.parameters() + self.right.parameters()

    Twin(0).save(tmp_path / "twin.json")
    twin = Twin(5)
    twin.restore(tmp_path / "twin.json")
    assert parameter_bits(twin) == parameter_bits(Twin(0))
    with pytest.raises(ValueError, match="cannot build model type 'Twin'"):
        Module.load(tmp_path / "twin.json")


def test_restoring_adam_state_with_a_negative_second_moment_changes_nothing(tmp_path):
    source = MLP(2, [4, 1], rng=random.Random(1))
    source.save(tmp_path / "m.json", Adam(source.parameters(), lr=0.01))
    edit(tmp_path / "m.json", lambda d: d["optimizer"]["buffers"]["v"].__setitem__(3, -0.5))
    model = MLP(2, [4, 1], rng=random.Random(0))
    optimizer = Adam(model.parameters(), lr=0.02)
    before_model, before_optimizer = parameter_bits(model), optimizer.state_dict()
    with pytest.raises(ValueError, match=r"buffer 'v'\[3\] must be >= 0"):
        model.restore(tmp_path / "m.json", optimizer)
    assert parameter_bits(model) == before_model and optimizer.state_dict() == before_optimizer


# ---- save keeps what the file was: a link, a mode; and leaves nothing behind (issue 14, item 4) ----


def only_files(directory) -> list[str]:
    return sorted(os.listdir(directory))


def test_save_through_a_symlink_writes_the_file_it_points_to(tmp_path, file_route):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "best.json"
    Neuron(2, rng=random.Random(0)).save(target)
    link = tmp_path / "model.json"
    link.symlink_to(target)
    model = Neuron(2, rng=random.Random(1))
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert parameter_bits(Neuron.load(target)) == parameter_bits(model)
    assert only_files(tmp_path / "runs") == ["best.json"]


def test_save_through_a_dangling_symlink_creates_the_file_it_names(tmp_path, file_route):
    link = tmp_path / "model.json"
    link.symlink_to(tmp_path / "new.json")
    Neuron(2, rng=random.Random(0)).save(link)
    assert link.is_symlink() and (tmp_path / "new.json").is_file()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path, file_route, mode):
    path = tmp_path / "m.json"
    Neuron(2, rng=random.Random(0)).save(path)
    path.chmod(mode)
    Neuron(2, rng=random.Random(1)).save(path)
    assert path.stat().st_mode & 0o7777 == mode


def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path, file_route):
    old = os.umask(0o027)
    try:
        Neuron(2, rng=random.Random(0)).save(tmp_path / "m.json")
    finally:
        os.umask(old)
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_save_that_fails_anywhere_leaves_the_old_file_and_no_other(
    tmp_path, monkeypatch, file_route, failing, error
):
    path = tmp_path / "m.json"
    Neuron(2, rng=random.Random(0)).save(path)
    old = path.read_bytes()

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(type(error)):
        Neuron(2, rng=random.Random(1)).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert only_files(tmp_path) == ["m.json"]


def test_kill_9_during_saves_leaves_a_whole_checkpoint_and_no_lasting_temporary_file():
    script = Path(__file__).with_name("kill_trial.py")
    result = subprocess.run([sys.executable, str(script), "--kills", "8"],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 kill -9 during saves: 0 left a checkpoint that does not load, 0 left a " in (
        result.stdout
    )


# ---- a checksum refuses flipped bits (issue 14, item 9) --------------------------------------------


def saved_with_adam(path) -> tuple[MLP, Adam]:
    model = trained_model()
    optimizer = Adam(model.parameters(), lr=0.01)
    model.zero_grad()
    model([0.3, -0.2]).backward()
    optimizer.step()
    model.save(path, optimizer)
    return model, optimizer


def test_no_single_flipped_bit_loads_as_different_numbers(tmp_path):
    path = tmp_path / "m.json"
    model, optimizer = saved_with_adam(path)
    original = path.read_bytes()
    rng = random.Random(0)
    refused = 0
    for _ in range(300):
        flipped = bytearray(original)
        bit = rng.randrange(8 * len(flipped))
        flipped[bit // 8] ^= 1 << (bit % 8)
        path.write_bytes(bytes(flipped))
        target = MLP(2, [6, 4, 1], rng=random.Random(5))
        target_optimizer = Adam(target.parameters(), lr=0.01)
        try:
            target.restore(path, target_optimizer)
        except ValueError:
            refused += 1
            continue
        # a flip that changes no number (such as 1e-05 -> 1E-05) may load: the same numbers
        assert parameter_bits(target) == parameter_bits(model), f"bit {bit} loaded other numbers"
        assert target_optimizer.state_dict() == optimizer.state_dict(), f"bit {bit}"
    assert refused >= 290


def test_a_changed_number_is_refused_by_its_checksum_and_changes_nothing(tmp_path):
    path = tmp_path / "m.json"
    MLP(2, [4, 1], rng=random.Random(1)).save(path)
    text = path.read_text()
    name = '"layers.0.neurons.0.b": '
    path.write_text(text.replace(name + "0.0", name + "8.0"))  # one bit of '0' -> '8'
    model = MLP(2, [4, 1], rng=random.Random(0))
    before = parameter_bits(model)
    with pytest.raises(ValueError, match="the checksum does not match the contents"):
        model.restore(path)
    assert parameter_bits(model) == before


def test_a_version_1_file_without_a_checksum_is_still_read(tmp_path):
    model = MLP(2, [4, 1], rng=random.Random(1))
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    version_1 = {
        "format": "micrograd-checkpoint",
        "version": 1,
        "model": {"type": "MLP", "config": model.config()},
        "parameters": model.state_dict(),
        "optimizer": optimizer.state_dict(),
    }
    (tmp_path / "old.json").write_text(json.dumps(version_1, indent=1))
    loaded = MLP.load(tmp_path / "old.json")
    assert parameter_bits(loaded) == parameter_bits(model)
    restored_optimizer = SGD(loaded.parameters(), lr=0.5)
    loaded.restore(tmp_path / "old.json", restored_optimizer)
    assert restored_optimizer.state_dict() == optimizer.state_dict()


def test_a_version_2_file_without_its_checksum_is_refused(tmp_path):
    path = tmp_path / "m.json"
    MLP(2, [4, 1], rng=random.Random(1)).save(path)
    document = json.loads(path.read_text())
    del document["checksum"]
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"has the keys .*'checksum'.* \(version 2\)"):
        MLP.load(path)


# ---- hostile files: size and long contents (issue 14, item 11) ------------------------------


def test_load_refuses_dev_zero_after_reading_at_most_max_bytes():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    with pytest.raises(ValueError, match=r"more bytes than a checkpoint may have \(67,108,864\)"):
        MLP.load("/dev/zero")


def test_load_refuses_a_file_over_max_bytes_before_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(checkpoint.MAX_BYTES + 1)  # sparse: no disk, no memory

    def no_reading(*args):
        raise AssertionError("read the file")

    monkeypatch.setattr(checkpoint, "_parse", no_reading)
    with pytest.raises(ValueError, match=r"67,108,865 bytes than a checkpoint may have"):
        MLP.load(path)


BLOATED = [  # (what, how, whether MLP.load reads it too: it ignores the optimizer's state)
    ("100,000 layers", lambda d: d["model"]["config"].update(nouts=[1] * 100_000), True),
    ("a long type name", lambda d: d["model"].update(type="MLP" * 100_000), True),
    ("a long parameter name", lambda d: d["parameters"].update({"w" * 100_000: 1.0}), True),
    ("a long activation", lambda d: d["model"]["config"].update(activation="x" * 10**5), True),
    ("many unknown keys", lambda d: d.update({f"key{i}": i for i in range(10_000)}), True),
    ("a long model entry", lambda d: d.update(model={"type": "MLP", "x": [0] * 10**5}), True),
    ("long nouts", lambda d: d["model"]["config"].update(nouts="1" * 100_000), True),
    ("a long optimizer type", lambda d: d["optimizer"].update(type="S" * 100_000), False),
    ("long hyperparameters",
     lambda d: d["optimizer"]["hyperparameters"].update(x=[0] * 10**5), False),
    ("long buffers",
     lambda d: d["optimizer"].update(buffers={"v": [0.0] * 10**5, "x": 1}), False),
    ("a long lr", lambda d: d["optimizer"]["hyperparameters"].update(lr="0" * 100_000), False),

]  # fmt: skip


@pytest.mark.parametrize("bloat, loads", [b[1:] for b in BLOATED], ids=[b[0] for b in BLOATED])
def test_an_error_about_a_bloated_file_quotes_a_short_excerpt(tmp_path, bloat, loads):
    path = tmp_path / "m.json"
    model = MLP(2, [4, 1], rng=random.Random(0))
    model.save(path, SGD(model.parameters(), lr=0.1))
    edit(path, bloat)
    attempts = [lambda: model.restore(path, SGD(model.parameters(), lr=0.1))]
    if loads:
        attempts.append(lambda: MLP.load(path))
    for attempt in attempts:
        with pytest.raises(ValueError) as caught:
            attempt()
        assert len(str(caught.value)) < 600, str(caught.value)[:1000]


def test_a_save_removes_what_a_killed_save_of_the_same_file_left(tmp_path):
    path = tmp_path / "m.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    killed = tmp_path / f"m.json.{int(dead.stdout)}.0123abcd.tmp"  # its process has ended
    running = tmp_path / f"m.json.{os.getpid()}.4567cdef.tmp"  # a save still in progress
    other = tmp_path / "other.json.1.89abcdef.tmp"  # another file's
    for leftover in (killed, running, other):
        leftover.write_text("half")
    Neuron(2, rng=random.Random(0)).save(path)
    assert only_files(tmp_path) == sorted(["m.json", running.name, other.name])


@pytest.mark.parametrize("pid", ["9999999999", "9" * 30], ids=["past pid_t", "30 digits"])
def test_a_leftover_whose_pid_no_process_can_have_is_left_alone_and_saves_succeed(tmp_path, pid):
    path = tmp_path / "m.json"
    stranger = tmp_path / f"m.json.{pid}.0123abcd.tmp"  # not one of our temporary files
    stranger.write_text("someone else's")
    model = Neuron(2, rng=random.Random(0))
    model.save(path)
    model.save(path)  # and the next save too
    assert only_files(tmp_path) == sorted(["m.json", stranger.name])
    assert parameter_bits(Neuron.load(path)) == parameter_bits(model)


def test_a_save_succeeds_when_removing_leftovers_fails(tmp_path, monkeypatch):
    def unreadable(directory):
        raise PermissionError(13, "Permission denied", directory)

    monkeypatch.setattr(os, "listdir", unreadable)
    model = Neuron(2, rng=random.Random(0))
    model.save(tmp_path / "m.json")
    monkeypatch.undo()
    assert parameter_bits(Neuron.load(tmp_path / "m.json")) == parameter_bits(model)


def test_an_error_about_long_adam_betas_in_a_file_quotes_a_short_excerpt(tmp_path):
    path = tmp_path / "m.json"
    model = MLP(2, [4, 1], rng=random.Random(0))
    model.save(path, Adam(model.parameters(), lr=0.1))
    edit(path, lambda d: d["optimizer"]["hyperparameters"].update(betas=[0.9] * 100_000))
    with pytest.raises(ValueError, match=r"betas must be a pair .*characters in all") as caught:
        model.restore(path, Adam(model.parameters(), lr=0.1))
    assert len(str(caught.value)) < 600
