"""The demo's training step written by hand in plain Python floats: the floor.

No graph and no objects: lists of floats, and the chain rule written out as loops.
It does what a careful programmer would do by hand: a relu unit that is off gives
0, so it is left out of the next layer's sums and passes no gradient back, and a
point whose hinge is off (its margin already met) has no backward pass at all.
That makes it about as fast as pure CPython computes this step, so run.py gives
every other step as a multiple of it.

The numbers are micrograd's: each weighted sum is bias + w0*x0 + w1*x1 + ... added
left to right, the loss is the mean hinge loss plus 1e-4 times the sum of the
squared parameters (in parameter order), and the update is p -= lr * grad. Only the
order in which a parameter's gradient adds up its contributions differs from the
Value path's, which moves the last bits of the loss (run.py reports by how much).

This module imports nothing from micrograd: it runs in a process of its own.
"""

from __future__ import annotations

Row = list[float]  # one neuron: its weights, then its bias last (micrograd's parameter order)
Layer = list[Row]


def layers_from_parameters(sizes: list[int], parameters: list[float]) -> list[Layer]:
    """The flat parameter list of an MLP (micrograd's order: layer by layer, neuron by
    neuron, weights then bias) cut into layers of rows."""
    layers, at = [], 0
    for nin, nout in zip(sizes, sizes[1:]):
        layer = []
        for _ in range(nout):
            layer.append(list(parameters[at : at + nin + 1]))
            at += nin + 1
        layers.append(layer)
    if at != len(parameters):
        raise ValueError(f"MLP{sizes} has {at} parameters, got {len(parameters)}")
    return layers


def train_step(
    layers: list[Layer], X: list[list[float]], labels: list[int], lr: float, reg: float
) -> float:
    """One step of gradient descent on the mean hinge loss + reg * Σ p²; returns the loss.

    `layers` are relu layers followed by one linear output neuron (the demo's MLP);
    they are updated in place. `labels` are -1 or +1.
    """
    n = len(X)
    per_point = 1.0 / n  # d(loss)/d(each point's hinge): the mean multiplies by 1/n
    grads = [[[0.0] * len(row) for row in layer] for layer in layers]
    hidden = layers[:-1]
    output = layers[-1][0]
    bias_at = len(output) - 1
    hinge_sum = 0.0
    for x, y in zip(X, labels):
        # Forward. Each layer sees its inputs as (index, value) pairs: only the units
        # that are on, since a unit that is off adds w * 0 to every sum above it.
        inputs = list(enumerate(x))
        seen = []  # the inputs of each hidden layer, for the backward pass
        for layer in hidden:
            seen.append(inputs)
            on = []
            for j, row in enumerate(layer):
                s = row[-1]
                for i, v in inputs:
                    s += row[i] * v
                if s > 0.0:
                    on.append((j, s))
            inputs = on
        score = output[bias_at]
        for i, v in inputs:
            score += output[i] * v
        margin = 1.0 + -y * score
        if margin <= 0.0:  # the hinge is off: no loss, no gradient
            continue
        hinge_sum += margin

        # Backward. d(loss)/d(score) = -y / n; then each layer's units that were on.
        d = -y * per_point
        g_output = grads[-1][0]
        g_output[bias_at] += d
        deltas = []
        for i, v in inputs:
            g_output[i] += v * d
            deltas.append((i, output[i] * d))
        for depth in range(len(hidden) - 1, -1, -1):
            layer, g_layer, below = hidden[depth], grads[depth], seen[depth]
            passes_back = depth > 0  # the first layer's inputs are data: no gradient
            back = [0.0] * len(below)
            for j, dj in deltas:
                row, g_row = layer[j], g_layer[j]
                g_row[-1] += dj
                for m, (i, v) in enumerate(below):
                    g_row[i] += v * dj
                    if passes_back:
                        back[m] += row[i] * dj
            deltas = [(i, back[m]) for m, (i, _) in enumerate(below)]

    squares = 0.0
    for layer in layers:
        for row in layer:
            for p in row:
                squares += p * p
    loss = hinge_sum * per_point + reg * squares

    twice_reg = 2.0 * reg  # d(reg * p²)/dp = 2 reg p
    for layer, g_layer in zip(layers, grads):
        for row, g_row in zip(layer, g_layer):
            for i, (p, g) in enumerate(zip(row, g_row)):
                row[i] = p - lr * (g + twice_reg * p)
    return loss
