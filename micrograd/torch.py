"""A bridge to PyTorch: an MLP to a `torch.nn.Sequential` and back, with the same numbers.

For when a model outgrows scalars: train or inspect it here, then carry on in PyTorch
(or bring a small PyTorch model here to step through its graph).

    from micrograd.torch import from_torch, to_torch

    net = to_torch(model)     # Linear layers in float64, then ReLU / Tanh / Sigmoid
    model = from_torch(net)   # back to an MLP with the same weights

PyTorch is an optional extra (`pip install "micrograd[torch]"`): this module imports
it, and `import micrograd` does not import this module.
"""

from __future__ import annotations

import random

try:
    import torch
except ImportError as error:  # not installed (or a broken install)
    raise ImportError(
        "micrograd.torch needs PyTorch, which could not be imported; "
        'install it with: pip install "micrograd[torch]"'
    ) from error

from micrograd.engine import ACTIVATIONS
from micrograd.nn import LINEAR, MLP, Layer

__all__ = ["to_torch", "from_torch"]


def _modules() -> dict[str, type[torch.nn.Module]]:
    """Each activation's module in PyTorch, from its op's `torch` name ("linear" has none).

    Read at each call, so an op registered with `op(..., torch="Softplus")` is included.
    """
    return {
        name: getattr(torch.nn, sigma.torch)
        for name, sigma in ACTIVATIONS.items()
        if sigma.torch is not None and hasattr(torch.nn, sigma.torch)
    }


def to_torch(mlp: MLP) -> torch.nn.Sequential:
    """The same network as a `torch.nn.Sequential`, with the same weights in float64.

    Each layer becomes a `torch.nn.Linear` (row i of its weight is neuron i's `w`,
    entry i of its bias is neuron i's `b`), followed by its activation module
    (`ReLU`, `Tanh` or `Sigmoid`) unless the layer is linear. In float64 the
    PyTorch network computes the same numbers as the MLP, to the last bits.
    The copy is independent: training one does not change the other.
    """
    if not isinstance(mlp, MLP):
        raise TypeError(f"to_torch() needs a micrograd MLP, got {type(mlp).__name__}")
    modules: list[torch.nn.Module] = []
    for index, layer in enumerate(mlp.layers):
        activation = _activation_of(layer, index)
        weights = [[w.data for w in neuron.w] for neuron in layer.neurons]
        biases = [neuron.b.data for neuron in layer.neurons]
        # skip_init: no random initial weights, which would advance torch's random state
        linear = torch.nn.utils.skip_init(
            torch.nn.Linear, len(weights[0]), len(weights), dtype=torch.float64
        )
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
        modules.append(linear)
        if activation != LINEAR:
            modules.append(_modules()[activation]())
    return torch.nn.Sequential(*modules)


def _activation_of(layer: Layer, index: int) -> str:
    """The activation every neuron of the layer uses: a Linear layer has only one."""
    activations = {neuron.activation for neuron in layer.neurons}
    if len(activations) != 1:
        raise ValueError(
            f"to_torch(): the neurons of layer {index} use different activations "
            f"{sorted(activations)}; a torch Linear layer is followed by one activation"
        )
    (activation,) = activations
    if activation != LINEAR and activation not in _modules():
        raise ValueError(
            f"to_torch(): layer {index} uses activation {activation!r}, which has no "
            f"PyTorch module here; expected one of {sorted(_modules())} or 'linear' "
            "(an op registered with op(..., torch='ModuleName') has one)"
        )
    return activation


def _describe(name: str, module: torch.nn.Module) -> str:
    """How errors name a module: its name in the Sequential, and its repr if one line."""
    shown = repr(module)
    if "\n" in shown:  # a container of modules: its type is enough
        shown = type(module).__name__
    return f"module {name!r} ({shown})"


def from_torch(sequential: torch.nn.Sequential) -> MLP:
    """An MLP with the weights of `sequential`, for the shapes an MLP can hold.

    That is Linear layers with biases, each followed by at most one activation
    (`ReLU`, `Tanh` or `Sigmoid`); every hidden layer must use the same one (or
    none), while the last may differ. Weights of any real floating-point dtype are
    read as Python floats (float64); complex, integer or bool weights are refused.
    Anything else raises a ValueError that names the module that does not fit.
    """
    if not isinstance(sequential, torch.nn.Sequential):
        raise TypeError(
            f"from_torch() needs a torch.nn.Sequential, got {type(sequential).__name__}"
        )
    activations = {module: name for name, module in _modules().items()}
    # [name, Linear, activation] for each layer, activation "linear" until one follows
    layers: list[list] = []
    for name, module in sequential.named_children():
        described = _describe(name, module)
        if isinstance(module, torch.nn.Linear):
            if module.bias is None:
                raise ValueError(f"from_torch(): {described} has no bias; every MLP neuron has one")
            for part in ("weight", "bias"):
                dtype = getattr(module, part).dtype
                if not dtype.is_floating_point:  # complex dtypes are not floating point here
                    raise ValueError(
                        f"from_torch(): {described} has {part} of dtype {dtype}; "
                        "an MLP holds real floating-point numbers"
                    )
            if layers and module.in_features != layers[-1][1].out_features:
                raise ValueError(
                    f"from_torch(): {described} takes {module.in_features} inputs, "
                    f"but the layer before it gives {layers[-1][1].out_features}"
                )
            layers.append([name, module, LINEAR])
        elif type(module) in activations:
            if not layers:
                raise ValueError(
                    f"from_torch(): {described} comes before any Linear; "
                    "an MLP applies an activation after a layer"
                )
            if layers[-1][2] != LINEAR:
                raise ValueError(
                    f"from_torch(): {described} follows another activation; "
                    "an MLP layer has at most one"
                )
            layers[-1][2] = activations[type(module)]
        else:
            raise ValueError(
                f"from_torch(): {described} cannot be part of an MLP; "
                "expected Linear, ReLU, Tanh or Sigmoid modules"
            )
    if not layers:
        raise ValueError("from_torch(): the Sequential holds no Linear layer")
    hidden = layers[0][2]
    for name, _, activation in layers[1:-1]:
        if activation != hidden:
            raise ValueError(
                f"from_torch(): the layer of module {name!r} uses {activation!r} but the "
                f"first uses {hidden!r}; an MLP's hidden layers all use one activation"
            )

    nouts = [module.out_features for _, module, _ in layers]
    # Initial weights from a throwaway generator (all overwritten below): the caller's
    # random sequence is left as it was.
    mlp = MLP(
        layers[0][1].in_features,
        nouts,
        activation=hidden,
        output_activation=layers[-1][2],
        rng=random.Random(0),
    )
    for (_, module, _), layer in zip(layers, mlp.layers):
        weights = module.weight.detach().double().tolist()
        biases = module.bias.detach().double().tolist()
        for neuron, row, bias in zip(layer.neurons, weights, biases):
            for w, x in zip(neuron.w, row):
                w.data = x
            neuron.b.data = bias
    return mlp
