"""micrograd.playground: the kernel both hosts call (Session), and the Jupyter widget."""

from __future__ import annotations

import json
import random

import pytest

from micrograd.data import make_moons, train_test_split
from micrograd.metrics import predict
from micrograd.nn import MLP
from micrograd.optim import SGD, Adam, linear_decay
from micrograd.playground import Session, default_settings
from micrograd.playground.session import GRID, check_settings
from micrograd.train import evaluate, fit


def demo_data(points: int = 100, validation: int = 50, seed: int = 1337):
    X, y = make_moons(points + validation, noise=0.1, seed=seed)
    if not validation:
        return X, [2 * t - 1 for t in y], [], []
    X, X_val, y, y_val = train_test_split(X, y, test_size=validation, seed=seed)
    return X, [2 * t - 1 for t in y], X_val, [2 * t - 1 for t in y_val]


def call(session: Session, method: str, **params) -> dict:
    return json.loads(session.call(method, json.dumps(params)))


def test_the_defaults_are_micrograds_demo_and_train_to_fits_loss_exactly():
    X, y, X_val, y_val = demo_data()
    model = MLP(2, [16, 16, 1], rng=random.Random(1337))
    history = fit(
        model, X, y, loss="hinge", optimizer=SGD(model.parameters(), lr=1.0), steps=12,
        schedule=linear_decay(1.0, 0.1, 100), reg=1e-4, progress=False, seed=1337,
    )  # fmt: skip
    session = Session()
    session.train(5)
    session.train(7)  # two calls continue one run
    assert session.history.loss == history.loss
    assert session.history.lr == history.lr
    # the validation points: measured with evaluate after each call's last step
    assert session.validation[-1] == [12, *evaluate(model, X_val, y_val, "hinge", 1e-4)]
    assert [v[0] for v in session.validation] == [0, 5, 12]


def test_mini_batches_in_several_calls_are_those_of_one_call_of_fit():
    X, y, _, _ = demo_data(validation=0)
    model = MLP(2, [8, 1], rng=random.Random(1337))
    optimizer = Adam(model.parameters(), lr=0.05)
    history = fit(
        model, X, y, loss="hinge", optimizer=optimizer, steps=9, batch_size=32, reg=1e-4,
        progress=False, seed=1337,
    )  # fmt: skip
    session = Session(
        {
            "validation": 0,
            "hidden": [8],
            "optimizer": "adam",
            "lr": 0.05,
            "batch_size": 32,
            "schedule": "constant",
        }  # fmt: skip
    )
    for steps in (2, 3, 4):
        session.train(steps)
    assert session.history.loss == history.loss


def test_a_setting_typed_as_text_is_read_as_the_number_it_says():
    settings = check_settings({"lr": " 0.5", "hidden": "8, 4", "batch_size": "all", "seed": "7"})
    assert (settings.lr, settings.hidden, settings.batch_size, settings.seed) == (
        0.5,
        [8, 4],
        None,
        7,
    )


def test_a_learning_rate_that_is_not_a_number_is_refused_by_name_and_changes_nothing():
    session = Session()
    answer = call(session, "set", lr="fast")
    assert answer == {"error": "learning rate must be a number, got 'fast'"}
    assert session.settings.lr == 1.0


def test_a_hidden_layer_of_no_neurons_is_refused_by_name():
    answer = call(Session(), "set", hidden="16, 0")
    assert answer == {"error": "hidden layer 2 must be an int >= 1, got 0"}


def test_a_learning_rate_of_zero_is_refused():
    assert "learning rate must be > 0" in call(Session(), "set", lr=0)["error"]


def test_an_unknown_call_is_an_error_naming_it():
    assert "unknown call 'train_forever'" in call(Session(), "train_forever")["error"]


def test_a_run_that_diverges_stops_and_names_its_learning_rate():
    session = Session({"lr": 50})
    state = session.train(100)
    assert state["diverged"]
    assert state["step"] < 100
    assert "training diverged" in state["message"]["text"]
    assert (
        "the learning rate 50.0 is too large: try a smaller one, e.g. 5" in state["message"]["text"]
    )
    assert session.train(5)["step"] == state["step"]  # it stays stopped until a reset


def test_an_added_point_is_trained_on_and_goes_into_the_settings():
    session = Session()
    state = call(session, "add_point", x=0.25, y="0.5", label=1)
    assert state["data"]["train"][-1] == [0.25, 0.5, 1]
    assert state["settings"]["added"] == [[0.25, 0.5, 1]]
    X, classes = session.rows()
    assert len(X) == 101


def test_an_added_point_of_a_class_the_data_set_lacks_is_refused():
    assert "class must be 0 to 1" in call(Session(), "add_point", x=0, y=0, label=2)["error"]


def test_removing_a_generated_point_records_its_index_and_keeps_the_others():
    session = Session()
    X, _ = session.rows()
    session.remove_point(3)
    after, _ = session.rows()
    assert after == X[:3] + X[4:]
    assert session.settings.removed == [3]
    # the settings alone rebuild the same points
    assert Session(json.loads(session.call("state"))["settings"]).rows()[0] == after


def test_a_weight_set_before_the_first_step_is_an_edit_of_the_settings():
    session = Session()
    session.set_weight("layers.0.neurons.1.w.0", "0.5")
    assert session.settings.edits == {"layers.0.neurons.1.w.0": 0.5}
    assert session.model.layers[0].neurons[1].w[0].data == 0.5
    session.train(1)
    session.set_weight("layers.0.neurons.1.b", -1)  # after a step: the live weight only
    assert session.model.layers[0].neurons[1].b.data == -1.0
    assert session.settings.edits == {"layers.0.neurons.1.w.0": 0.5}


def test_setting_a_parameter_the_model_lacks_is_refused():
    answer = call(Session(), "set_weight", name="layers.9.neurons.0.b", value=1)
    assert answer == {"error": "the model has no parameter 'layers.9.neurons.0.b'"}


def test_the_heatmaps_of_the_output_unit_are_the_models_predictions():
    session = Session({"hidden": [4]})
    session.train(3)
    x0, x1, y0, y1 = session.extent
    picture = session.state()["pictures"]["units"][-1][0]
    for row, column in [(0, 0), (5, 17), (GRID - 1, GRID - 1)]:
        x = x0 + (x1 - x0) * (column + 0.5) / GRID
        y = y1 - (y1 - y0) * (row + 0.5) / GRID
        assert picture[row * GRID + column] == pytest.approx(
            predict(session.model, [[x, y]])[0], rel=1e-3, abs=1e-6
        )


def test_the_chosen_points_units_show_their_output_and_the_gradient_of_its_loss():
    session = Session({"hidden": [3]})
    point = session.choose_point(2)["point"]
    assert point["index"] == 2
    assert [len(layer) for layer in point["units"]] == [2, 3, 1]
    output, grad = point["units"][-1][0]
    assert output == predict(session.model, [session.rows()[0][2]])[0]
    assert grad in (-1.0, 0.0, 1.0)  # hinge: d loss / d score is -y, or 0 past the margin
    assert all(p.grad == 0 for p in session.model.parameters())  # and nothing left behind


def test_frames_are_step_throughs_with_the_current_weights():
    from micrograd.engine import Value
    from micrograd.losses import hinge
    from micrograd.viz import step_through

    session = Session({"hidden": [3]})
    session.train(2)
    session.choose_point(0)
    X, classes = session.rows()
    x = [Value(c, label=f"x[{i}]") for i, c in enumerate(X[0])]
    frames = step_through(
        hinge([session.model(x)], [2 * classes[0] - 1]), model=session.model, cluster=True
    )
    first = call(session, "frame", index=1)
    assert first["count"] == len(frames)
    assert first["caption"] == frames.caption(1)
    assert first["dot"] == frames.draw(1).source
    assert first["engine"] == "nop2"  # laid out in Python: Graphviz only draws it


def test_frames_for_the_jupyter_widget_are_svg_rendered_in_python():
    session = Session({"hidden": [3]}, render=True)
    session.choose_point(0)
    answer = call(session, "frame", index=0)
    assert "error" not in answer, answer
    assert answer["svg"].lstrip().startswith("<svg") or "<svg" in answer["svg"]


def test_frames_need_a_chosen_point():
    assert call(Session(), "frame", index=0) == {
        "error": "choose a training point first: click one"
    }


def test_every_answer_is_json_with_the_default_settings_in_it():
    state = call(Session(), "state")
    assert state["defaults"] == default_settings()
    assert state["settings"] == default_settings()
    assert state["model"]["sizes"] == [2, 16, 16, 1]


def test_the_curves_come_from_the_step_asked_for():
    session = Session()
    session.train(4)
    assert len(call(session, "state", since=3)["curves"]["loss"]) == 1


@pytest.mark.parametrize("dataset", ["moons", "circles", "spirals", "blobs", "xor"])
def test_every_data_set_trains(dataset):
    state = Session({"dataset": dataset, "points": 30, "validation": 10, "hidden": [4]}).train(2)
    assert state["step"] == 2 and state["loss"] > 0


def test_the_widget_answers_the_front_ends_calls_from_its_session():
    pytest.importorskip("anywidget")
    from micrograd.playground import Playground

    widget = Playground(hidden=[4], lr=0.5)
    sent = []
    widget.send = sent.append  # what would go to the page
    widget._answer(widget, {"id": 7, "method": "train", "params": {"steps": 3}}, [])
    assert sent[0]["id"] == 7
    assert json.loads(sent[0]["json"])["step"] == 3
    assert widget.session.settings.lr == 0.5
    widget._answer(widget, {"id": 8, "method": "set", "params": {"lr": "x"}}, [])
    assert json.loads(sent[1]["json"]) == {"error": "learning rate must be a number, got 'x'"}


def test_the_widget_ships_the_pages_front_end_as_one_module():
    pytest.importorskip("anywidget")
    from micrograd.playground import Playground

    assert "export function mount" in Playground._esm
    assert "export default" in Playground._esm
    assert "import " not in Playground._esm.replace("import.meta", "")  # nothing to fetch


def test_a_session_trains_a_model_and_data_of_ones_own_and_resets_to_its_weights():
    X = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    y = [0, 0, 1, 1]
    model = MLP(2, [4, 1], activation="tanh", rng=random.Random(0))
    start = model.state_dict()
    session = Session({"lr": 0.1}, model=model, data=(X, y))
    assert session.model is model
    assert session.settings.hidden == [4] and session.settings.activation == "tanh"
    state = session.train(3)
    assert state["data"]["own"] and len(state["data"]["train"]) == 4
    assert model.state_dict() != start
    session.reset()
    assert model.state_dict() == start


def test_a_model_of_ones_own_must_fit_the_datas_classes():
    with pytest.raises(ValueError, match="model has 1 outputs; the data's 3 classes need 3"):
        Session(model=MLP(2, [1]), data=([[0, 0], [1, 1], [2, 2]], [0, 1, 2]))


def test_the_curves_of_another_run_come_whole():
    session = Session()
    session.train(4)
    run = session.run
    session.reset()
    session.train(2)
    assert call(session, "state", since=1, run=run)["curves"]["since"] == 0
    assert len(call(session, "state", since=1, run=session.run)["curves"]["loss"]) == 1


def test_another_validation_split_forgets_the_removed_points():
    session = Session()
    session.remove_point(0)
    session.set(validation=40)
    assert session.settings.removed == []
    assert len(session.rows()[0]) == 100


def test_a_graph_too_large_to_draw_is_refused_with_a_message():
    session = Session({"hidden": [32, 32]})
    session.choose_point(0)
    assert call(session, "frame", index=0)["error"].startswith("cannot draw point 0's graph: ")


def test_more_than_32_neurons_in_a_layer_is_refused():
    assert call(Session(), "set", hidden="33")["error"] == (
        "hidden layer 1 must have at most 32 neurons, got 33"
    )


def test_a_weight_set_by_hand_is_measured_on_the_validation_points_again():
    session = Session({"hidden": [2]})
    before = session.validation[-1]
    session.set_weight("layers.1.neurons.0.b", 3.0)
    assert len(session.validation) == 1
    assert session.validation[-1][0] == 0 and session.validation[-1] != before
