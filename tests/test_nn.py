"""micrograd.nn: Neuron, Layer, MLP and the Module interface."""

from __future__ import annotations

import math
import random

import pytest

from micrograd.engine import Value
from micrograd.nn import INITS, MLP, Layer, Module, Neuron


def micrograd_init(nin: int, nouts: list[int]) -> list[float]:
    """The parameters micrograd's MLP draws after random.seed(1337), in its order."""
    random.seed(1337)
    sizes = [nin, *nouts]
    params = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        for _ in range(fan_out):
            params.extend(random.uniform(-1, 1) for _ in range(fan_in))
            params.append(0.0)
    return params


# ---- initialisation ----------------------------------------------------------------


def test_default_init_is_micrograds_uniform_draws_in_its_order():
    expected = micrograd_init(2, [16, 16, 1])
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    assert [p.data for p in model.parameters()] == expected


def test_rng_argument_builds_the_same_network_as_the_global_seed():
    expected = micrograd_init(2, [16, 16, 1])
    model = MLP(2, [16, 16, 1], rng=random.Random(1337))
    assert [p.data for p in model.parameters()] == expected


def test_rng_argument_leaves_the_global_random_state_alone():
    random.seed(7)
    before = random.getstate()
    MLP(2, [4, 1], rng=random.Random(0))
    assert random.getstate() == before


def test_biases_start_at_zero():
    model = MLP(3, [4, 2], rng=random.Random(0))
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)


@pytest.mark.parametrize("init", ["lecun", "he"])
def test_fan_in_inits_draw_within_their_bound(init):
    nin = 50
    neuron = Neuron(nin, init=init, rng=random.Random(0))
    bound = INITS[init](nin)
    assert bound < 1.0
    assert all(-bound <= w.data <= bound for w in neuron.w)
    assert max(abs(w.data) for w in neuron.w) > 0.8 * bound  # the draw spans the range


def test_fan_in_inits_draw_as_many_numbers_as_the_default():
    rng_default, rng_he = random.Random(3), random.Random(3)
    MLP(4, [8, 1], rng=rng_default)
    MLP(4, [8, 1], init="he", rng=rng_he)
    assert rng_default.getstate() == rng_he.getstate()


def test_unknown_init_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match="unknown init 'xavier'; expected one of"):
        Neuron(2, init="xavier")


# ---- forward pass --------------------------------------------------------------------


def test_neuron_computes_activation_of_weighted_sum_plus_bias():
    neuron = Neuron(2, activation="tanh", rng=random.Random(0))
    neuron.b.data = 0.25
    x = [0.5, -1.5]
    expected = math.tanh(neuron.w[0].data * 0.5 + neuron.w[1].data * -1.5 + 0.25)
    assert neuron(x).data == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    "activation, sigma",
    [
        ("relu", lambda a: max(a, 0.0)),
        ("tanh", math.tanh),
        ("sigmoid", lambda a: 1 / (1 + math.exp(-a))),
        ("linear", lambda a: a),
    ],
)
def test_each_activation_applies_its_function(activation, sigma):
    neuron = Neuron(3, activation=activation, rng=random.Random(1))
    x = [0.3, -0.7, 0.9]
    act = sum((w.data * xi for w, xi in zip(neuron.w, x)), neuron.b.data)
    assert neuron(x).data == pytest.approx(sigma(act), abs=1e-15)


def test_nonlin_false_makes_a_linear_neuron_as_in_micrograd():
    assert Neuron(2, nonlin=False).activation == "linear"
    assert Neuron(2).activation == "relu"


def test_unknown_activation_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match="unknown activation 'gelu'; expected one of"):
        Neuron(2, activation="gelu")


def test_mlp_with_one_output_returns_a_value():
    out = MLP(2, [4, 1], rng=random.Random(0))([1.0, 2.0])
    assert isinstance(out, Value)


def test_mlp_with_several_outputs_returns_a_list():
    out = MLP(2, [4, 3], rng=random.Random(0))([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3


def test_mlp_last_layer_is_linear_and_hidden_layers_use_the_activation():
    model = MLP(2, [4, 4, 1], activation="tanh", rng=random.Random(0))
    assert [layer.neurons[0].activation for layer in model.layers] == ["tanh", "tanh", "linear"]


def test_mlp_output_activation_can_be_chosen():
    model = MLP(2, [4, 1], output_activation="sigmoid", rng=random.Random(0))
    assert 0.0 < model([0.1, 0.2]).data < 1.0


def test_one_neuron_hidden_layer_works():
    model = MLP(2, [16, 1, 1], rng=random.Random(0))
    out = model([0.5, -0.5])
    out.backward()
    assert isinstance(out, Value)


def test_inputs_may_be_floats_or_values_with_the_same_result():
    model = MLP(2, [8, 1], rng=random.Random(0))
    assert model([0.5, -1.5]).data == model([Value(0.5), Value(-1.5)]).data


def test_value_inputs_receive_gradients():
    model = MLP(2, [8, 1], rng=random.Random(0))
    x = [Value(0.5), Value(-1.5)]
    model(x).backward()
    assert any(v.grad != 0.0 for v in x)


def test_an_input_row_of_the_wrong_length_is_rejected():
    model = MLP(2, [16, 16, 1])
    with pytest.raises(ValueError, match="^MLP expects 2 inputs, got 3$"):
        model([1.0, 2.0, 3.0])


def test_an_input_that_is_not_a_list_is_rejected():
    with pytest.raises(TypeError, match="MLP expects a list of 2 inputs, got Value"):
        MLP(2, [1])(Value(1.0))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Neuron(0), "Neuron nin must be an int >= 1, got 0"),
        (lambda: Layer(2, 0), "Layer nout must be an int >= 1, got 0"),
        (lambda: MLP(2, []), "nouts must be a non-empty list"),
        (lambda: MLP(2, [4, -1]), r"MLP nouts\[1\] must be an int >= 1, got -1"),
    ],
)
def test_sizes_below_one_are_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("nouts", [16, "16", None], ids=["int", "str", "None"])
def test_mlp_layer_sizes_that_are_not_a_list_are_a_type_error_saying_what_is_expected(nouts):
    with pytest.raises(
        TypeError, match=r"MLP nouts must be a list of layer sizes, e\.g\. \[16, 1\]"
    ):
        MLP(2, nouts)


def test_a_size_that_is_not_an_int_is_rejected():
    with pytest.raises(TypeError, match="Neuron nin must be an int >= 1, got float 2.5"):
        Neuron(2.5)


# ---- fused and elementary graphs -------------------------------------------------------


def test_fused_and_elementary_graphs_give_identical_outputs_and_gradients():
    fused = MLP(3, [5, 4, 2], activation="tanh", rng=random.Random(5))
    plain = MLP(3, [5, 4, 2], activation="tanh", fused=False, rng=random.Random(5))
    x = [0.3, -1.2, 2.0]
    out_f, out_p = fused(x), plain(x)
    assert [o.data for o in out_f] == [o.data for o in out_p]
    (out_f[0] * out_f[1]).backward()
    (out_p[0] * out_p[1]).backward()
    assert [p.grad for p in fused.parameters()] == [p.grad for p in plain.parameters()]


def test_fused_neuron_is_one_dot_node_and_elementary_one_node_per_multiply_and_add():
    fused = Neuron(3, activation="linear", rng=random.Random(0))
    plain = Neuron(3, activation="linear", fused=False, rng=random.Random(0))
    assert fused([1.0, 2.0, 3.0]).op == "dot"
    assert plain([1.0, 2.0, 3.0]).op == "+"


# ---- parameters, names and reprs ---------------------------------------------------------


def test_parameters_go_layer_by_layer_neuron_by_neuron_weights_then_bias():
    model = MLP(2, [2, 1], rng=random.Random(0))
    expected = []
    for layer in model.layers:
        for n in layer.neurons:
            expected += [*n.w, n.b]
    assert model.parameters() == expected


def test_named_parameters_are_dotted_paths_to_each_parameter():
    model = MLP(2, [16, 16, 1], rng=random.Random(0))
    named = dict(model.named_parameters())
    assert named["layers.0.neurons.3.w.1"] is model.layers[0].neurons[3].w[1]
    assert named["layers.2.neurons.0.b"] is model.layers[2].neurons[0].b


def test_named_parameters_follow_the_order_of_parameters():
    model = MLP(3, [4, 2], rng=random.Random(0))
    assert [p for _, p in model.named_parameters()] == model.parameters()


def test_num_parameters_counts_weights_and_biases():
    assert MLP(2, [16, 16, 1]).num_parameters() == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1)


def test_zero_grad_clears_every_gradient():
    model = MLP(2, [4, 1], rng=random.Random(0))
    model([1.0, -1.0]).backward()
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_reprs_are_in_micrograds_style():
    model = MLP(2, [2, 1], rng=random.Random(0))
    assert repr(model) == (
        "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"
    )
    assert repr(Neuron(3, activation="tanh")) == "TanhNeuron(3)"


class Gated(Module):
    """A module of one's own, made of what children() may list: a parameter, a list of
    modules (each with lists of its own), a tuple of parameters and a module."""

    def __init__(self, rng: random.Random) -> None:
        self.gate = Value(0.5)
        self.blocks = [Neuron(2, rng=rng), Neuron(2, rng=rng)]
        self.scales = (Value(1.0), Value(2.0))
        self.head = Layer(2, 1, rng=rng)

    def children(self):
        return {"gate": self.gate, "blocks": self.blocks, "scales": self.scales, "head": self.head}


def test_a_module_of_children_names_each_parameter_by_its_dotted_path():
    model = Gated(random.Random(0))
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "gate",
        "blocks.0.w.0", "blocks.0.w.1", "blocks.0.b",
        "blocks.1.w.0", "blocks.1.w.1", "blocks.1.b",
        "scales.0", "scales.1",
        "head.neurons.0.w.0", "head.neurons.0.w.1", "head.neurons.0.b",
    ]  # fmt: skip
    named = dict(model.named_parameters())
    assert named["gate"] is model.gate and named["scales.1"] is model.scales[1]
    assert named["blocks.1.w.0"] is model.blocks[1].w[0]
    assert named["head.neurons.0.b"] is model.head.neurons[0].b


def test_a_module_of_childrens_parameters_are_those_of_named_parameters_in_the_same_order():
    """parameters() repeats named_parameters()'s walk without the names, for speed."""
    model = Gated(random.Random(0))
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]


@pytest.mark.parametrize(
    "children, shown",
    [
        ({"w": [Value(1.0), 2.0]}, "'w.1' = float"),
        ({"w": [[Value(1.0)]]}, "'w.0' = list"),
        ({"b": None}, "'b' = NoneType"),
    ],
    ids=["a number in a list", "a list in a list", "None"],
)
@pytest.mark.parametrize("walk", ["parameters", "named_parameters", "zero_grad", "state_dict"])
def test_a_child_that_is_neither_a_value_nor_a_module_is_a_type_error_naming_it(
    children, shown, walk
):
    class Broken(Module):
        def children(self):
            return children

    with pytest.raises(TypeError, match=rf"^Broken\.children\(\) gives {shown}; expected Values"):
        getattr(Broken(), walk)()


def test_a_module_that_only_lists_parameters_gets_numbered_names():
    class Pair(Module):
        def __init__(self):
            self.a, self.b = Value(1.0), Value(2.0)

        def parameters(self):
            return [self.a, self.b]

    assert Pair().state_dict() == {"0": 1.0, "1": 2.0}


# ---- config and state ------------------------------------------------------------------------


def test_config_rebuilds_the_same_architecture():
    model = MLP(2, [8, 3], activation="tanh", output_activation="sigmoid", rng=random.Random(0))
    rebuilt = MLP(**model.config())
    assert repr(rebuilt) == repr(model)
    assert (
        Layer(**Layer(3, 2, activation="tanh").config()).config()
        == Layer(3, 2, activation="tanh").config()
    )


def test_state_dict_maps_names_to_plain_floats():
    model = MLP(2, [2, 1], rng=random.Random(0))
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    assert all(type(x) is float for x in state.values())


def test_load_state_dict_sets_every_parameter():
    source = MLP(2, [4, 1], rng=random.Random(1))
    target = MLP(2, [4, 1], rng=random.Random(2))
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda s: s.pop("layers.0.neurons.1.b"), "missing 'layers.0.neurons.1.b'"),
        (lambda s: s.update({"layers.9.neurons.0.b": 1.0}), "unexpected 'layers.9.neurons.0.b'"),
        (lambda s: s.update({"layers.0.neurons.0.b": math.nan}), "must be finite, got nan"),
        (lambda s: s.update({"layers.0.neurons.0.b": "0.5"}), "must be a number, got str"),
        (lambda s: s.update({"layers.0.neurons.0.b": True}), "must be a number, got bool"),
    ],
)
def test_load_state_dict_rejects_a_bad_state_and_changes_nothing(corrupt, message):
    model = MLP(2, [4, 1], rng=random.Random(1))
    before = model.state_dict()
    state = MLP(2, [4, 1], rng=random.Random(2)).state_dict()
    corrupt(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_nonlin_follows_the_activation():
    neuron = Neuron(2, activation="sigmoid", rng=random.Random(0))
    assert neuron.nonlin
    neuron.activation = "linear"
    assert not neuron.nonlin


@pytest.mark.parametrize("make", [lambda: Neuron(3, "tanh"), lambda: Layer(3, 2, "tanh")])
def test_an_activation_given_where_nonlin_goes_is_a_type_error_saying_activation(make):
    # nonlin is micrograd's second argument; a name there would silently mean relu
    with pytest.raises(TypeError, match="activation='tanh'"):
        make()


def test_a_neuron_rejects_nonlin_false_with_a_nonlinear_activation():
    with pytest.raises(ValueError, match="nonlin=False and activation='relu'"):
        Neuron(3, nonlin=False, activation="relu")
