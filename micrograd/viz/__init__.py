"""Seeing the graph: drawings of a computation, and its forward and backward passes step by step.

    from micrograd.viz import draw_dot, backward_steps, step_through
    draw_dot(loss)                          # in Jupyter, the picture shows inline
    draw_dot(loss, model=mlp, cluster=True) # boxes around each neuron and layer
    for step in backward_steps(loss): ...   # backward(), one node at a time
    step_through(loss)                      # Jupyter: Prev / Next through the sweep

The package has one module per job:
- text:    how ops, numbers and formulas are written (symbols from micrograd.engine.OPS);
- drawing: draw_dot, the DOT drawing of a graph (micrograd.viz.render turns it into a picture);
- neurons, layout: a model's neurons in a graph, expanded or not, and the network-shaped
  layout of cluster=True;
- network: draw_network, the classic diagram of units and weights;
- frames:  step_through, the backward pass as frames and captions;
- widget:  Jupyter's Prev / Next buttons over those frames.
The step records (forward_steps, backward_steps, ...) live in micrograd.engine and
are re-exported here.
"""

from micrograd.engine import (
    BackwardStep,
    ForwardStep,
    ParentUpdate,
    backward_steps,
    forward_steps,
)
from micrograd.viz.drawing import draw_dot
from micrograd.viz.frames import Frame, StepThrough, step_through
from micrograd.viz.network import draw_network

__all__ = [
    "draw_dot",
    "draw_network",
    "forward_steps",
    "backward_steps",
    "step_through",
    "ForwardStep",
    "BackwardStep",
    "ParentUpdate",
    "StepThrough",
    "Frame",
]
