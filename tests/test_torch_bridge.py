"""micrograd.torch: an MLP to a torch.nn.Sequential and back, computing the same numbers.

Skipped when torch is not installed (`pip install -e ".[torch]"` to run it).
"""

from __future__ import annotations

import importlib
import random
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from helpers import assert_all_close  # noqa: E402

from micrograd.engine import Value, grad  # noqa: E402
from micrograd.nn import MLP  # noqa: E402
from micrograd.torch import from_torch, to_torch  # noqa: E402

REL, ABS = 1e-12, 1e-14  # float64 on both sides: only the last bits may differ
ACTIVATIONS = ["relu", "tanh", "sigmoid"]
nn = torch.nn


def seeded_mlp(rng: random.Random, nin: int, nouts: list[int], activation: str) -> MLP:
    """An MLP with every parameter (biases too) drawn from rng, so tests are seeded."""
    mlp = MLP(nin, nouts, activation=activation)
    for p in mlp.parameters():
        p.data = rng.uniform(-1.0, 1.0)
    return mlp


def as_list(out: Value | list[Value]) -> list[Value]:
    return [out] if isinstance(out, Value) else out


def linear_parameters(net: nn.Sequential) -> list:
    """The weight and bias of each Linear, in order."""
    return [p for m in net if isinstance(m, nn.Linear) for p in (m.weight, m.bias)]


def in_mlp_order(tensors: list) -> list[float]:
    """Weight and bias tensors (as linear_parameters gives them) as numbers in
    MLP.parameters() order: neuron by neuron, its weights and then its bias."""
    numbers = []
    for weight, bias in zip(tensors[::2], tensors[1::2]):
        for row, b in zip(weight.tolist(), bias.tolist()):
            numbers += [*row, b]
    return numbers


def in_torch_layout(numbers: list[float], net: nn.Sequential) -> list:
    """The inverse of in_mlp_order: numbers as tensors shaped like net's weights and biases."""
    tensors, start = [], 0
    for linear in (m for m in net if isinstance(m, nn.Linear)):
        nout, nin = linear.weight.shape
        rows = [numbers[start + k * (nin + 1) : start + (k + 1) * (nin + 1)] for k in range(nout)]
        start += nout * (nin + 1)
        tensors.append(torch.tensor([row[:-1] for row in rows], dtype=torch.float64))
        tensors.append(torch.tensor([row[-1] for row in rows], dtype=torch.float64))
    return tensors


# ---- to_torch -------------------------------------------------------------------------------


def test_to_torch_builds_float64_linears_with_the_activation_after_each_hidden_layer(rng):
    net = to_torch(seeded_mlp(rng, 3, [4, 5, 2], "tanh"))
    assert [type(m) for m in net] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert all(p.dtype == torch.float64 for p in net.parameters())


def test_to_torch_copies_every_weight_and_bias(rng):
    mlp = seeded_mlp(rng, 3, [4, 2], "relu")
    net = to_torch(mlp)
    for layer, linear in zip(mlp.layers, (net[0], net[2])):
        assert linear.weight.tolist() == [[w.data for w in n.w] for n in layer.neurons]
        assert linear.bias.tolist() == [n.b.data for n in layer.neurons]


def test_to_torch_puts_the_activation_after_a_last_layer_that_is_not_linear(rng):
    mlp = seeded_mlp(rng, 2, [3, 1], "relu")
    for neuron in mlp.layers[-1].neurons:
        neuron.activation = "sigmoid"
    assert [type(m) for m in to_torch(mlp)] == [nn.Linear, nn.ReLU, nn.Linear, nn.Sigmoid]


def test_to_torch_gives_an_independent_copy(rng):
    mlp = seeded_mlp(rng, 2, [1], "relu")
    before = [p.data for p in mlp.parameters()]
    with torch.no_grad():
        to_torch(mlp)[0].weight.add_(1.0)
    assert [p.data for p in mlp.parameters()] == before


def test_to_torch_leaves_torchs_random_state_alone(rng):
    mlp = seeded_mlp(rng, 3, [4, 1], "tanh")
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    to_torch(mlp)
    assert torch.equal(torch.rand(3), expected)


def test_to_torch_rejects_what_is_not_an_mlp():
    with pytest.raises(TypeError, match=r"to_torch\(\) needs a micrograd MLP, got list"):
        to_torch([1, 2])


def test_to_torch_rejects_a_layer_whose_neurons_use_different_activations(rng):
    mlp = seeded_mlp(rng, 2, [3, 1], "relu")
    mlp.layers[0].neurons[1].activation = "tanh"
    with pytest.raises(ValueError, match=r"neurons of layer 0 use different activations"):
        to_torch(mlp)


# ---- the same numbers on both sides ---------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_same_forward_outputs_and_parameter_gradients_to_1e_12(rng, activation):
    mlp = seeded_mlp(rng, 3, [5, 4, 2], activation)
    net = to_torch(mlp)
    inputs = [[rng.uniform(-2.0, 2.0) for _ in range(3)] for _ in range(6)]

    outputs = [as_list(mlp(x)) for x in inputs]
    Value.sum(y * y for out in outputs for y in out).backward()
    torch_outputs = net(torch.tensor(inputs, dtype=torch.float64))
    (torch_outputs**2).sum().backward()

    for i, (out, expected) in enumerate(zip(outputs, torch_outputs.tolist())):
        assert_all_close([y.data for y in out], expected, REL, ABS, what=f"output {i}")
    assert_all_close(
        [p.grad for p in mlp.parameters()],
        in_mlp_order([p.grad for p in linear_parameters(net)]),
        REL,
        ABS,
    )


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hessian_vector_product_of_a_tiny_mlp_loss_matches_torch(rng, activation):
    mlp = seeded_mlp(rng, 2, [3, 1], activation)
    net = to_torch(mlp)
    inputs = [[rng.uniform(-2.0, 2.0) for _ in range(2)] for _ in range(4)]
    targets = [rng.uniform(-1.0, 1.0) for _ in inputs]
    params = mlp.parameters()
    vector = [rng.uniform(-1.0, 1.0) for _ in params]

    loss = Value.sum((mlp(x) - t) ** 2 for x, t in zip(inputs, targets))
    gradient = grad(loss, params, create_graph=True)
    # Hv_i = Σ_j v_j d²loss/dp_j dp_i. A gradient that is the number 0.0, not a Value
    # (its parameter reaches the loss only through relus that are off), adds nothing.
    terms = [(g, v) for g, v in zip(gradient, vector) if isinstance(g, Value)]
    hvp = grad([g for g, _ in terms], params, grad_outputs=[v for _, v in terms])

    torch_params = linear_parameters(net)
    predictions = net(torch.tensor(inputs, dtype=torch.float64)).squeeze(1)
    torch_loss = ((predictions - torch.tensor(targets, dtype=torch.float64)) ** 2).sum()
    torch_gradient = torch.autograd.grad(torch_loss, torch_params, create_graph=True)
    torch_vector = in_torch_layout(vector, net)
    torch_hvp = torch.autograd.grad(torch_gradient, torch_params, grad_outputs=torch_vector)

    assert_all_close(hvp, in_mlp_order(list(torch_hvp)), REL, ABS, what="Hv")


def test_a_model_trained_here_and_exported_keeps_its_predictions(rng):
    xs = [[rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)] for _ in range(12)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]  # the signs agree: an XOR-like target
    mlp = seeded_mlp(rng, 2, [6, 1], "tanh")

    def loss() -> Value:
        return Value.sum((mlp(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)

    first = loss().data
    for _ in range(25):  # plain gradient descent
        mlp.zero_grad()
        loss().backward()
        for p in mlp.parameters():
            p.data -= 0.1 * p.grad
    assert loss().data < first  # it did learn something

    net = to_torch(mlp)
    probe = xs + [[rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)] for _ in range(12)]
    with torch.no_grad():
        exported = net(torch.tensor(probe, dtype=torch.float64)).squeeze(1).tolist()
    assert_all_close(exported, [mlp(x).data for x in probe], REL, ABS, what="prediction")


# ---- from_torch -----------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_from_torch_of_to_torch_gives_back_the_same_mlp(rng, activation):
    mlp = seeded_mlp(rng, 3, [4, 4, 2], activation)
    back = from_torch(to_torch(mlp))
    assert [p.data for p in back.parameters()] == [p.data for p in mlp.parameters()]
    assert [[n.activation for n in layer.neurons] for layer in back.layers] == [
        [n.activation for n in layer.neurons] for layer in mlp.layers
    ]


@pytest.mark.parametrize("last", [None, nn.ReLU, nn.Tanh, nn.Sigmoid])
def test_to_torch_of_from_torch_gives_back_the_same_sequential(last):
    torch.manual_seed(0)
    modules = [nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)] + ([last()] if last else [])
    net = nn.Sequential(*modules).double()
    back = to_torch(from_torch(net))
    assert [type(m) for m in back] == [type(m) for m in net]
    for (name, p), (back_name, q) in zip(net.named_parameters(), back.named_parameters()):
        assert name == back_name
        assert torch.equal(p, q)


def test_from_torch_reads_float32_weights_as_the_same_numbers():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))  # float32
    mlp = from_torch(net)
    expected = [x for p in net.parameters() for x in p.detach().double().flatten().tolist()]
    assert sorted(p.data for p in mlp.parameters()) == sorted(expected)


def test_from_torch_reads_a_hidden_layer_without_activation_as_linear():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 3), nn.Sigmoid())
    mlp = from_torch(net)
    assert [layer.neurons[0].activation for layer in mlp.layers] == ["linear", "sigmoid"]


def test_from_torch_leaves_pythons_random_state_alone():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    random.seed(0)
    expected = random.random()
    random.seed(0)
    from_torch(net)
    assert random.random() == expected


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        ([nn.Linear(2, 3), nn.Dropout()], r"module '1' \(Dropout.*\) cannot be part of an MLP"),
        ([nn.Linear(2, 3), nn.LeakyReLU()], r"module '1' \(LeakyReLU.*\) cannot be part of"),
        ([nn.ReLU(), nn.Linear(2, 3)], r"module '0' \(ReLU\(\)\) comes before any Linear"),
        ([nn.Linear(2, 3), nn.ReLU(), nn.Tanh()], r"module '2' \(Tanh\(\)\) follows another"),
        ([nn.Linear(2, 3, bias=False)], r"module '0' \(Linear.*bias=False\)\) has no bias"),
        ([nn.Linear(2, 3), nn.Linear(4, 1)], r"module '1' .* takes 4 inputs, but the layer"),
        ([nn.Sequential(nn.Linear(2, 3))], r"module '0' \(Sequential\) cannot be part of"),
        ([], r"the Sequential holds no Linear layer"),
        (
            [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)],
            r"module '2' uses 'tanh' but the first uses 'relu'",
        ),
    ],
)
def test_from_torch_names_the_module_an_mlp_cannot_hold(modules, message):
    with pytest.raises(ValueError, match=message):
        from_torch(nn.Sequential(*modules))


def test_from_torch_rejects_what_is_not_a_sequential():
    with pytest.raises(TypeError, match=r"from_torch\(\) needs a torch.nn.Sequential, got Linear"):
        from_torch(nn.Linear(2, 3))


# ---- torch stays optional ---------------------------------------------------------------------


def test_import_micrograd_does_not_import_torch():
    code = "import sys, micrograd; print('torch' in sys.modules, 'micrograd.torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "False"]


def test_micrograd_torch_without_torch_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    monkeypatch.delitem(sys.modules, "micrograd.torch")  # so that it is imported afresh
    with pytest.raises(ImportError, match=r'pip install "micrograd\[torch\]"'):
        importlib.import_module("micrograd.torch")


def test_from_torch_builds_the_output_layer_with_its_own_activation():
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid()).double()
    output = from_torch(net).layers[-1].neurons[0]
    assert (output.activation, output.nonlin) == ("sigmoid", True)


# ---- only real floating-point weights (issue 14, item 11) -----------------------------------


def linear_with(weight_dtype, bias_dtype=None) -> nn.Linear:
    """A Linear(2, 3) whose weight (and bias) tensors have the given dtypes."""
    linear = nn.Linear(2, 3)
    linear.weight = nn.Parameter(torch.ones(3, 2, dtype=weight_dtype), requires_grad=False)
    linear.bias = nn.Parameter(torch.ones(3, dtype=bias_dtype or weight_dtype), requires_grad=False)
    return linear


@pytest.mark.parametrize(
    "weight, bias, message",
    [
        (torch.complex128, None, r"module '0' .* has weight of dtype torch.complex128"),
        (torch.complex64, None, r"has weight of dtype torch.complex64"),
        (torch.int64, None, r"has weight of dtype torch.int64"),
        (torch.bool, None, r"has weight of dtype torch.bool"),
        (torch.float64, torch.complex128, r"has bias of dtype torch.complex128"),
    ],
)
def test_from_torch_refuses_weights_that_are_not_real_floats(weight, bias, message):
    with pytest.raises(ValueError, match=message + r"; an MLP holds real floating-point numbers"):
        from_torch(nn.Sequential(linear_with(weight, bias)))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_from_torch_reads_every_real_float_dtype(dtype):
    mlp = from_torch(nn.Sequential(linear_with(dtype)))
    assert [p.data for p in mlp.parameters()] == [1.0] * 9
