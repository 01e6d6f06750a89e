"""Placing a drawing shaped like the network: every node's position, every edge's curve.

Graphviz's `dot` decides the order of the nodes in each column itself, and system
Graphviz and graphviz-pure decide differently, so a drawing shaped like the
network is laid out here and Graphviz (its "nop2" engine) only draws it:

    inputs  | layer 0                        | layer 1     | the rest (loss, ...)
    x[0]    |  neuron 0: w[0] w[1] b -> σ -> |  neuron 0   |
    x[1]    |  neuron 1: ...                 |             |

Inputs stand in order in the leftmost column. Each layer is a band of columns in
a dashed box; its neurons are stacked top to bottom in index order, each in a box
with its weights in order and its bias last, one row each. A fused neuron is its
parameters, its oval and its result; an elementary one (fused=False, or expand=True)
is, on row i, w[i], the product w[i]·x[i] and the running sum that adds it, then
the activation. Whatever the network's outputs feed (a loss) follows on the right,
one column per step. Coordinates are points, y growing downwards until written out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from micrograd.engine import Value
from micrograd.viz.neurons import NeuronPass, Part, layer_title, one_pass_each
from micrograd.viz.text import format_constant

# one layer's passes, by the index of their neuron in graph.neurons
Band = dict[int, NeuronPass]

if TYPE_CHECKING:  # only for type hints: drawing imports this module
    from micrograd.viz.drawing import TracedGraph

__all__ = ["Shape", "Box", "NetworkLayout", "FrozenLayout", "text_width"]

ROW = 40.0  # distance between the rows of a neuron: a box is 24 points high
# Within a row, the parameter's box sits a little high and the input that pairs with
# it runs in a lane just below it, so that inputs pass under the parameters, not through.
PARAMETER_DY = -7.0
LANE_DY = 11.0
OP_DY = 2.0
GAP = 22.0  # between a column and the next
BAND_GAP = 64.0  # between the bands of two layers, where their edges cross
TITLE = 16.0  # height of a box's title
PAD = 8.0  # space inside a box around what it holds
ARROW = 8.0  # length of an arrowhead
CORRIDOR = 24.0  # extra room after an elementary neuron's products, where the bias climbs
LABEL_FONTSIZE = 9.0  # an edge label's (the drawing's edge fontsize)
LABEL_HEIGHT = 12.0  # an edge label's height, a line of LABEL_FONTSIZE with a little air


@dataclass
class Shape:
    """One node to draw: a Value's record (fields), an op's oval, or a plain number."""

    id: str
    kind: str  # "record", "oval" or "constant"
    text: list[str]  # a record's fields, or the one line of an oval or constant
    style: dict[str, str] = field(default_factory=dict)


@dataclass
class Box:
    """A titled box around a layer or a neuron: its extent in points (y grows downwards)."""

    id: str
    kind: str  # "layer" or "neuron"
    title: str
    left: float
    top: float
    right: float
    bottom: float


# Characters by how wide DejaVu Sans (render.FONT) draws them, each group at its widest, in
# ems; any other character counts as 1 em, as wide as the widest ("…", "—", "m", "W").
_EM_WIDTHS = [
    ("'ijlIJ ,./:;\\|f-·", 0.37),
    ("()[]t!r", 0.42),
    ('"*_`szc?', 0.56),
    ("0123456789$abdeghnopquvxyFkLPTYESΣσ{}", 0.64),
    ("ABCDGHKNOQRUVXZ&", 0.79),
    ("w#+<=>^~M", 0.87),
]
_EMS = {char: em for chars, em in _EM_WIDTHS for char in chars}


def text_width(text: str, fontsize: float) -> float:
    """The width of `text` in points as drawn in DejaVu Sans (render.FONT), or a little more.

    Nodes have fixed sizes, and text wider than its box would spill out.
    """
    return sum(_EMS.get(char, 1.0) for char in text) * fontsize


def _size(shape: Shape) -> tuple[float, float]:
    """(width, height) of a shape in points, from its text.

    A number field is at least as wide as "grad -0.0000", so that the frames of a
    step-through, whose gradients change, keep every node in its place.
    """
    if shape.kind == "record":
        least = [
            text_width("grad -0.0000", 11) if t[:5] in ("data ", "grad ") else 0 for t in shape.text
        ]
        return sum(max(text_width(t, 11), m) + 12 for t, m in zip(shape.text, least)), 24.0
    if shape.kind == "oval":
        return text_width(shape.text[0], 10) * 1.2 + 18, 22.0
    return text_width(shape.text[0], 10) + 8, 16.0


class NetworkLayout:
    """Positions for the shapes of one network-shaped drawing, boxes, and curves for its edges.

    `shapes` and `edges` are what the drawing draws (ids as in TracedGraph: "v3",
    its oval "v3op", its constant operands "v3c1"). A plain number given to the
    first layer as an input becomes one shared node per input, "x[i] = ...", in
    the inputs column; `shapes` and `edges` here are the drawing's, so adjusted.
    """

    def __init__(
        self,
        graph: TracedGraph,
        shapes: Sequence[Shape],
        edges: Sequence[tuple[str, str, dict[str, str]]],
    ) -> None:
        self.graph = graph
        self.boxes: list[Box] = []
        self.position: dict[str, tuple[float, float]] = {}
        self.size = {shape.id: _size(shape) for shape in shapes}
        passes = one_pass_each(graph.passes, graph.neurons, "cluster=True")
        self._in_pass = {graph.ids[n]: p for p in passes.values() for n in p.nodes()}
        layers: dict[Any, Band] = {}
        for k, p in passes.items():
            layers.setdefault(graph.neurons[k].layer, {})[k] = p
        bands = list(layers.values())
        shared = self._shared = self._shared_inputs(
            list(bands[0].values()) if bands else [], shapes
        )
        # (tail, head) -> the lanes of an input into a neuron: (y, where it starts, where its
        # label starts, where it ends), one for each time the input feeds that head
        self._lanes: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
        # edges with a path of their own: in an elementary neuron sum -> next + and
        # bias -> first +; a constant into its oval
        self._special: dict[tuple[str, str], str | float] = {}
        self.shapes, self.edges = self.drawn(shapes, edges)
        for new in shared.values():
            self.size[new.id] = _size(new)
        # a fused neuron's oval grows with its inputs, to spread their arrows
        for p in passes.values():
            if p.fused is not None:
                op = f"{graph.ids[p.fused]}op"
                arrows = sum(1 for _, head, _ in self.edges if head == op)
                self.size[op] = (
                    self.size[op][0],
                    min(max(22.0, 7.0 * arrows), ROW * len(p.inputs)),
                )
        self._inputs_of: dict[str, list[str]] = {}  # head id -> the tails of its edges, in order
        for tail, head, _ in self.edges:
            self._inputs_of.setdefault(head, []).append(tail)
        # Edge labels (show_contributions) each sit on a straight run of their own edge,
        # near its tail: after a neuron's parameters, after its products and after its
        # last sum, the edges run straight for `label_room` before they bend.
        widest = max(
            (_label_width(a["label"]) for _, _, a in self.edges if "label" in a), default=0
        )
        self.label_room = widest + 8.0 if widest else 0.0
        # (tail, head) -> where the tail's straight run ends, and where its label starts
        self._runs: dict[tuple[str, str], tuple[float, float]] = {}

        x = self._place_inputs(bands, shared)
        for band in bands:
            x = self._place_band(band, x + BAND_GAP)
        self._place_rest(x + BAND_GAP)
        self._place_constants()
        self._to_graphviz_coordinates()
        self._routes = self._route_edges()

    # ---- what is drawn where ---------------------------------------------------------------

    def node_attrs(self, node_id: str) -> dict[str, str]:
        """Graphviz attributes that put a node where the layout placed it, at its size."""
        x, y = self.position[node_id]
        w, h = self.size[node_id]
        return {"pos": f"{x:.1f},{y:.1f}", "width": f"{w / 72:.3f}", "height": f"{h / 72:.3f}"}

    def drawn(
        self, shapes: Sequence[Shape], edges: Sequence[tuple[str, str, dict[str, str]]]
    ) -> tuple[list[Shape], list[tuple[str, str, dict[str, str]]]]:
        """The shapes and edges of a drawing of this graph (this one's, or another frame's,
        which differ only in text) as drawn here: plain-number inputs of the first layer
        replaced by the shared nodes of the inputs column."""
        shared = self._shared
        drawn_shapes = [s for s in shapes if s.id not in shared] + list(
            {id(new): new for new in shared.values()}.values()  # each shared node once
        )
        drawn_edges = [(shared[t].id if t in shared else t, h, a) for t, h, a in edges]
        return drawn_shapes, drawn_edges

    def routed_edges(
        self, edges: Sequence[tuple[str, str, dict[str, str]]]
    ) -> list[tuple[str, str, dict[str, str]]]:
        """`edges` (as drawn(): this layout's, or another frame's in the same order) with
        their curves: pos, and lp for those with a label."""
        return [
            (t, h, {**a, **{k: v for k, v in r.items() if k != "lp" or "label" in a}})
            for (t, h, a), r in zip(edges, self._routes)
        ]

    # ---- the parts of the picture ----------------------------------------------------------------

    def _shared_inputs(self, first_band: list[NeuronPass], shapes) -> dict[str, Shape]:
        """Constant-operand node id -> the shared node "x[i] = c" of the first layer's input i."""
        by_index: dict[tuple[int, float], Shape] = {}
        shared: dict[str, Shape] = {}
        style = {"shape": "plaintext", "fontsize": "10", "fontcolor": "#374151"}
        for p in first_band:
            for i, x in enumerate(p.inputs):
                if isinstance(x, (Value, Part)):
                    continue
                node = by_index.setdefault(
                    (i, x),
                    Shape(
                        f"x{i}c{len(by_index)}",
                        "constant",
                        [f"x[{i}] = {format_constant(x)}"],
                        style,
                    ),
                )
                for old in self._constant_ids_of_input(p, i):
                    shared[old] = node
        return shared

    def _constant_ids_of_input(self, p: NeuronPass, i: int) -> list[str]:
        """The ids of the constant nodes that stand for input i of pass p."""
        ids = self.graph.ids
        if p.fused is not None:
            node = ids[p.fused]
            n_weights = len(p.inputs)
            return [f"{node}c{n_weights + i}"]  # Value.dot's operands: weights, inputs, bias
        product = p.products[i]
        k = 1 if self.graph.operands_of(product)[0] is not p.inputs[i] else 0
        return [f"{ids[product]}c{k}"]

    def _place_inputs(self, bands: list[Band], shared: dict[str, Shape]) -> float:
        """The inputs column, in input order, centred on y = 0; returns its right edge."""
        column: list[str] = []
        if bands:
            first = list(bands[0].values())
            for i in range(max(len(p.inputs) for p in first)):
                for p in first:
                    if i >= len(p.inputs):
                        continue
                    x = p.inputs[i]
                    if isinstance(x, (Value, Part)):
                        node_id = self.graph.ids[x]
                    else:
                        node_id = shared[self._constant_ids_of_input(p, i)[0]].id
                    if node_id not in column and node_id not in self._in_pass:
                        column.append(node_id)
        width = max((self.size[i][0] for i in column), default=0.0)
        pitch = ROW + 8
        for row, node_id in enumerate(column):
            self.position[node_id] = (width / 2, (row - (len(column) - 1) / 2) * pitch)
        self._inputs = column
        return width

    def _place_band(self, band: Band, left: float) -> float:
        """One layer: its neurons stacked in a dashed box; returns the band's right edge."""
        ids = self.graph.ids
        elementary = any(p.fused is None for p in band.values())
        with_activation = any(p.activation is not None and p.fused is None for p in band.values())
        # the band's columns, left to right, and the nodes each holds
        columns: dict[str, list[str]] = {
            name: [] for name in ("P", "M", "MV", "S", "SV", "A", "AV")
        }
        for k, p in band.items():
            neuron = self.graph.neurons[k].neuron
            columns["P"] += [ids[v] for v in (*neuron.w, neuron.b) if v in ids]
            if p.fused is not None:
                columns["A"].append(f"{ids[p.fused]}op")
                columns["AV"].append(ids[p.fused])
                continue
            columns["M"] += [f"{ids[v]}op" for v in p.products]
            columns["MV"] += [ids[v] for v in p.products]
            columns["S"] += [f"{ids[v]}op" for v in p.sums]
            columns["SV"] += [ids[v] for v in p.sums]
            if p.activation is not None:
                columns["A"].append(f"{ids[p.activation]}op")
                columns["AV"].append(ids[p.activation])
        order = ["P", "M", "MV", "S", "SV", "A", "AV"] if elementary else ["P", "A", "AV"]
        if elementary and not with_activation:
            order = order[:5]
        centre: dict[str, float] = {}
        widths: dict[str, float] = {}
        run_end: dict[str, tuple[float, float]] = {}  # after P, MV, SV: (end of run, label x)
        x = left + 2 * PAD
        for k, name in enumerate(order):
            if k:  # the gap after the column before, with room for labels after P, MV, SV
                before = order[k - 1]
                if before in ("P", "MV", "SV"):
                    run_end[before] = (x + self.label_room if self.label_room else x + 4, x + 4)
                    # after the products, room too for the bias to climb, well before the +
                    x += GAP + self.label_room + (CORRIDOR if before == "MV" else 0)
                else:
                    x += GAP * 0.75
            width = widths[name] = max((self.size[i][0] for i in columns[name]), default=0.0)
            centre[name] = x + width / 2
            x += width
        right = x + PAD
        # rows: each neuron's weights, one a row, then its bias
        blocks: list[tuple[int, NeuronPass, float, float]] = []
        height = 0.0
        for k, p in band.items():
            rows = len(p.inputs) + 1
            block = TITLE + rows * ROW
            blocks.append((k, p, height, block))
            height += block + PAD
        total = height - PAD + TITLE + 2 * PAD
        top = -total / 2
        layer = self.graph.neurons[next(iter(band))].layer
        if layer is not None:
            self.boxes.append(
                Box(f"layer{layer}", "layer", layer_title(layer, self._layer_count()),
                    left, top, right + PAD, top + total)
            )  # fmt: skip
        for k, p, offset, block in blocks:
            entry = self.graph.neurons[k]
            box_top = top + TITLE + PAD + offset
            self.boxes.append(
                Box(f"neuron{k}", "neuron", entry.title, left + PAD, box_top, right, box_top + block)
            )  # fmt: skip

            def row_y(r: float, box_top: float = box_top) -> float:
                return box_top + TITLE + (r + 0.5) * ROW

            n = len(p.inputs)
            for r, v in enumerate((*entry.neuron.w, entry.neuron.b)):
                if v in ids:
                    self.position[ids[v]] = (centre["P"], row_y(r) + PARAMETER_DY)
            if p.fused is not None:
                self.position[f"{ids[p.fused]}op"] = (centre["A"], row_y((n - 1) / 2) + OP_DY)
                self.position[ids[p.fused]] = (centre["AV"], row_y((n - 1) / 2) + OP_DY)
                heads = [f"{ids[p.fused]}op"] * n
                for v in (*entry.neuron.w, entry.neuron.b):
                    if v in ids:
                        self._runs[(ids[v], heads[0])] = run_end["P"]
            else:
                for r, v in enumerate(p.products):
                    self.position[f"{ids[v]}op"] = (centre["M"], row_y(r) + OP_DY)
                    self.position[ids[v]] = (centre["MV"], row_y(r) + OP_DY)
                first_sum_row = n - len(p.sums)  # with no bias, the first sum adds products 0, 1
                for r, v in enumerate(p.sums, start=first_sum_row):
                    self.position[f"{ids[v]}op"] = (centre["S"], row_y(r) + OP_DY)
                    self.position[ids[v]] = (centre["SV"], row_y(r) + OP_DY)
                if p.activation is not None:
                    self.position[f"{ids[p.activation]}op"] = (centre["A"], row_y(n - 1) + OP_DY)
                    self.position[ids[p.activation]] = (centre["AV"], row_y(n - 1) + OP_DY)
                    if p.sums:
                        self._runs[(ids[p.sums[-1]], f"{ids[p.activation]}op")] = run_end["SV"]
                heads = [f"{ids[v]}op" for v in p.products]
                for v, head in zip(p.products, heads):
                    weight = next(
                        (w for w in entry.neuron.w if w in self.graph.operands_of(v)), None
                    )
                    if weight is not None:
                        self._runs[(ids[weight], head)] = run_end["P"]
                for v in p.sums:  # each product into the + that adds it
                    for o in self.graph.operands_of(v):
                        if o in p.products:
                            self._runs[(ids[o], f"{ids[v]}op")] = run_end["MV"]
                # The bias climbs to the first + in a corridor after the products' labels,
                # crossing each product's way into its + in the middle of a straight run, so
                # that the crossing reads as one (just before an arrow, it looked like a join).
                corridor = run_end["MV"][0] + CORRIDOR / 2
                for before, after in zip(p.sums, p.sums[1:]):
                    self._special[(ids[before], f"{ids[after]}op")] = "chain"
                bias = entry.neuron.b
                if p.sums and bias in ids and bias in self.graph.operands_of(p.sums[0]):
                    self._special[(ids[bias], f"{ids[p.sums[0]]}op")] = corridor
                    self._runs[(ids[bias], f"{ids[p.sums[0]]}op")] = run_end["P"]
            for r, (x, head) in enumerate(zip(p.inputs, heads)):
                tail = self._input_id(p, r, x)
                end, label_x = run_end["P"]
                lane = (row_y(r) + LANE_DY, left + PAD, label_x, end)
                self._lanes.setdefault((tail, head), []).append(lane)
        return right + PAD

    def _input_id(self, p: NeuronPass, i: int, x) -> str:
        """The id of the node drawn for input i of pass p."""
        if isinstance(x, (Value, Part)):
            return self.graph.ids[x]
        old = self._constant_ids_of_input(p, i)[0]
        return self._shared[old].id if old in self._shared else old

    def _layer_count(self) -> int:
        layers = {e.layer for e in self.graph.neurons}
        return len(layers)

    def _place_rest(self, left: float) -> None:
        """Every node not yet placed: left of the network if it leads to it, else right of it."""
        graph = self.graph
        placed_values = [v for v in graph.order if graph.ids[v] in self.position]
        before = self._ancestors_of(placed_values)
        rest = [v for v in graph.order if graph.ids[v] not in self.position]
        left_part = [v for v in rest if v in before]
        right_part = [v for v in rest if v not in before]
        self._place_levels(right_part, left, rightwards=True)
        inputs_left = min(
            (self.position[i][0] - self.size[i][0] / 2 for i in self._inputs), default=0.0
        )
        self._place_levels(list(reversed(left_part)), inputs_left - BAND_GAP, rightwards=False)

    def _ancestors_of(self, nodes) -> set:
        """The nodes, not yet placed, that the given nodes are computed from."""
        graph = self.graph
        found: set = set()
        stack = list(nodes)
        while stack:
            v = stack.pop()
            for o in graph.operands_of(v) if not v.is_leaf() else ():
                if (
                    isinstance(o, (Value, Part))
                    and o not in found
                    and graph.ids[o] not in self.position
                ):
                    found.add(o)
                    stack.append(o)
        return found

    def _place_levels(self, nodes: list, edge: float, rightwards: bool) -> None:
        """Place nodes in columns stepping away from x = edge, each after what it depends on.

        Rightwards, a node's level is one more than its operands' (placed ones count
        as level 0); leftwards, one more than its users'. A node's row is the mean
        of its neighbours' rows, pushed down past the nodes already in its column.
        """
        graph = self.graph
        level: dict[Any, int] = {}
        users: dict[Any, list] = {}
        for v in graph.order:
            for o in graph.operands_of(v) if not v.is_leaf() else ():
                if isinstance(o, (Value, Part)):
                    users.setdefault(o, []).append(v)

        def neighbours_of(v) -> list:
            """What v depends on (rightwards: its operands) or what depends on it."""
            if not rightwards:
                return users.get(v, [])
            if v.is_leaf():
                return []
            return [o for o in graph.operands_of(v) if isinstance(o, (Value, Part))]

        members = set(nodes)
        for v in nodes:
            level[v] = 1 + max(
                (level.get(n, 0) for n in neighbours_of(v) if n in members), default=0
            )
        columns: dict[int, list] = {}
        for v in nodes:
            columns.setdefault(level[v], []).append(v)
        x = edge
        for lv in sorted(columns):
            column = columns[lv]
            widths = [self._unit_width(v) for v in column]
            width = max(widths)
            bottom = -math.inf
            wanted = []
            for v in column:
                ys = [
                    self.position[graph.ids[n]][1]
                    for n in neighbours_of(v)
                    if graph.ids[n] in self.position
                ]
                wanted.append((sum(ys) / len(ys) if ys else 0.0, v))
            for y, v in sorted(wanted, key=lambda item: item[0]):
                y = max(y, bottom + ROW + 16)
                bottom = y
                self._place_unit(v, x if rightwards else x - width, width, y)
            step = width + GAP + self.label_room  # room for a label before the next column
            x = x + step if rightwards else x - step

    def _unit_width(self, v) -> float:
        """Width of a node's box with its oval before it (a leaf: its box alone)."""
        node_id = self.graph.ids[v]
        width = self.size[node_id][0]
        if not v.is_leaf():
            width += self.size[f"{node_id}op"][0] + GAP * 0.75
        return width

    def _place_unit(self, v, left: float, width: float, y: float) -> None:
        """A node's oval and box, right-aligned in a column [left, left + width] at row y."""
        node_id = self.graph.ids[v]
        w = self.size[node_id][0]
        self.position[node_id] = (left + width - w / 2, y)
        if not v.is_leaf():
            ow = self.size[f"{node_id}op"][0]
            self.position[f"{node_id}op"] = (left + width - w - GAP * 0.75 - ow / 2, y)

    def _place_constants(self) -> None:
        """Each constant operand just above the oval it feeds, which it drops into."""
        for shape in self.shapes:
            if shape.id in self.position:
                continue
            head = next(h for t, h, _ in self.edges if t == shape.id)
            hx, hy = self.position[head]
            h = self.size[shape.id][1]
            self.position[shape.id] = (hx, hy - self.size[head][1] / 2 - h / 2 - 10)
            self._special[(shape.id, head)] = "drop"

    def _to_graphviz_coordinates(self) -> None:
        """Shift everything to positive coordinates and turn y upwards, as Graphviz has it."""
        lefts = [x - self.size[i][0] / 2 for i, (x, _) in self.position.items()]
        lefts += [b.left for b in self.boxes]
        tops = [y - self.size[i][1] / 2 for i, (_, y) in self.position.items()]
        tops += [b.top for b in self.boxes]
        bottoms = [y + self.size[i][1] / 2 for i, (_, y) in self.position.items()]
        bottoms += [b.bottom for b in self.boxes]
        dx, top, bottom = 8 - min(lefts), min(tops), max(bottoms)
        self._dx, self._bottom = dx, bottom

        def flip(x: float, y: float) -> tuple[float, float]:
            return x + dx, self._flip_y(y)

        self.position = {i: flip(x, y) for i, (x, y) in self.position.items()}
        for box in self.boxes:
            cx, cy = flip((box.left + box.right) / 2, (box.top + box.bottom) / 2)
            w, h = box.right - box.left, box.bottom - box.top
            self.position[box.id] = (cx, cy)
            self.size[box.id] = (w, h)
            tw = text_width(box.title, 11) + 8
            self.position[f"{box.id}title"] = (cx, cy + h / 2 - TITLE / 2 - 1)
            self.size[f"{box.id}title"] = (tw, TITLE - 2)
        self.height = bottom - top + 16

    def _flip_y(self, y: float) -> float:
        return self._bottom + 8 - y

    def _route_edges(self) -> list[dict[str, str]]:
        """A curve for each edge: out of the tail's right side, into the head's left side.

        An input of a neuron first bends, in the gap before the neuron's box, into
        its lane (under the weight it pairs with), runs along it past the
        parameters, then bends into the oval. In an elementary neuron the running
        sum steps down from each sum's box into the top of the next +, and the
        bias climbs to the first + between the products and the sums. Edges into
        the left side of one oval arrive spread along it, in the order of the
        heights they come from. A labelled edge gets its label's place (lp) too.
        """
        ovals = {s.id for s in self.shapes if s.kind == "oval"}
        lanes = {key: list(value) for key, value in self._lanes.items()}
        paths: list[list[tuple[float, float, str]]] = []
        # edge index -> where its label goes first: (left end, y of the run it sits above)
        spots: dict[int, tuple[float, float]] = {}
        spread: dict[str, list[int]] = {}  # head -> the edges that arrive on its left side
        for k, (tail, head, _) in enumerate(self.edges):
            tx, ty = self.position[tail]
            tw, th = self.size[tail]
            hx, hy = self.position[head]
            hw, hh = self.size[head]
            start = (tx + tw / 2, ty, "h")
            special = self._special.get((tail, head))
            run = self._runs.get((tail, head))
            if run is not None:  # straight on past its label first
                spots[k] = (run[1] + self._dx, ty)
            if special == "chain":  # down from the sum's box into the top of the next +
                paths.append([(tx - tw / 2 + 12, ty - th / 2, "v"), (hx, hy + hh / 2, "v")])
                # its label just right of where it leaves the box, below the box
                spots[k] = (tx - tw / 2 + 16, ty - th / 2 - LABEL_HEIGHT / 2 - 9)
                continue
            if special == "drop":  # a constant, down into the top of its oval
                paths.append([(tx, ty - th / 2, "v"), (hx, hy + hh / 2, "v")])
                continue
            lane = lanes.get((tail, head))
            path = [start]
            if run is not None and self.label_room:
                path.append((run[0] + self._dx, ty, "h"))
            if special is not None:  # the bias: up the corridor at x = special's value
                corridor = float(special) + self._dx
                path += [(corridor, ty + 10, "v"), (corridor, hy - 6, "v")]
            elif lane:  # y upwards now: flip the lane's height as the positions were
                y, gate, label_x, lane_end = lane.pop(0)
                ly = self._flip_y(y)
                path += [(gate + self._dx, ly, "h"), (lane_end + self._dx, ly, "h")]
                spots[k] = (label_x + self._dx, ly)
            paths.append(path)
            spread.setdefault(head, []).append(k)
        for head, ks in spread.items():
            hx, hy = self.position[head]
            w, h = self.size[head]
            ks = sorted(ks, key=lambda k: -paths[k][-1][1])  # the highest first
            for slot, k in enumerate(ks):
                if len(ks) == 1:
                    paths[k].append((hx - w / 2, hy, "h"))
                    continue
                # spread over the left side, from 50 degrees above horizontal to 50 below
                angle = math.radians(130 + 100 * slot / (len(ks) - 1))
                if head in ovals:
                    end = (hx + w / 2 * math.cos(angle), hy + h / 2 * math.sin(angle), "h")
                else:
                    end = (hx - w / 2, hy + (h / 2 - 3) * math.sin(angle), "h")
                paths[k].append(end)
        routes = [self._curve(path) for path in paths]
        self._place_labels(routes, spots)
        return [{k: v for k, v in route.items() if k in ("pos", "lp")} for route in routes]

    def _place_labels(self, routes: list[dict], spots: dict[int, tuple[float, float]]) -> None:
        """An lp for each labelled edge, where its label overlaps no node and no other label.

        An edge with a run of its own (`spots`) has its label above that run. The
        others try just before their head (the columns outside the network leave
        room there), or first just after their tail where several labelled edges
        arrive at one node and this one alone leaves its tail; then along the
        curve, above it and below. Each takes the first place that is free.
        """
        taken = [self._extent(i) for i in self.position]
        taken += [self._extent(f"{b.id}title") for b in self.boxes]
        taken = [t for t in taken if t is not None]
        labelled = [k for k, (_, _, a) in enumerate(self.edges) if "label" in a]
        arrivals: dict[str, int] = {}  # head -> how many labelled edges arrive at it
        departures: dict[str, int] = {}  # tail -> how many labelled edges leave it
        for k in labelled:
            tail, head, _ = self.edges[k]
            arrivals[head] = arrivals.get(head, 0) + 1
            departures[tail] = departures.get(tail, 0) + 1
        # the edges with a place of their own first, so that no other edge takes it
        for k in sorted(labelled, key=lambda k: k not in spots):
            width = _label_width(self.edges[k][2]["label"])
            points = routes[k].get("points")
            candidates = []
            if k in spots:
                x, y = spots[k]
                candidates.append((x + width / 2, y + LABEL_HEIGHT / 2 + 1))
            if points:
                (sx, sy), (ex, ey) = points[0], routes[k]["end"]
                ends = [(ex - ARROW - 4 - width / 2, ey), (sx + 4 + width / 2, sy)]
                tail, head, _ = self.edges[k]
                if arrivals[head] > 1 and departures[tail] == 1:  # each after its own tail
                    ends.reverse()
                for x, y in ends:
                    candidates += [(x, y + LABEL_HEIGHT / 2 + 1), (x, y - LABEL_HEIGHT / 2 - 1)]
                for t in (0.5, 0.3, 0.7):
                    x, y = _bezier(points[-4:], t)
                    candidates += [(x, y + LABEL_HEIGHT / 2 + 1), (x, y - LABEL_HEIGHT / 2 - 1)]
            if not candidates:
                continue  # an edge Graphviz draws by itself: it places the label too
            boxes = [_around(centre, width) for centre in candidates]
            box = next((b for b in boxes if not _hits(b, taken)), boxes[0])
            taken.append(box)
            routes[k]["lp"] = f"{(box[0] + box[2]) / 2:.1f},{(box[1] + box[3]) / 2:.1f}"

    def _extent(self, node_id: str) -> tuple[float, float, float, float] | None:
        """(left, bottom, right, top) of a node that things must not cover; None for a box."""
        if node_id.startswith(("layer", "neuron")) and not node_id.endswith("title"):
            return None  # a box around a layer or neuron holds things
        (x, y), (w, h) = self.position[node_id], self.size[node_id]
        return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)

    def _curve(self, path: list[tuple[float, float, str]]) -> dict:
        """Graphviz's pos for a path through points with horizontal ("h") or vertical
        ("v") tangents: smooth bends between them, an arrowhead at the end. Also, for
        placing a label, the curve's control points and where its arrow ends."""
        sx, (ex, ey, et) = path[0][0], path[-1]
        if len(path) == 2 and et == "h" and ex - ARROW <= sx + 2:
            return {}  # backwards: Graphviz draws it straight
        if et == "h":
            base = (ex - ARROW * math.copysign(1, ex - path[-2][0]), ey, et)
        else:
            base = (ex, ey - ARROW * math.copysign(1, ey - path[-2][1]), et)
        path = [*path[:-1], base]  # the curve ends where the arrowhead starts
        points = [path[0][:2]]
        for (x0, y0, t0), (x1, y1, t1) in zip(path, path[1:]):
            dx, dy = (x1 - x0) / 2, (y1 - y0) / 2
            first = (x0 + dx, y0) if t0 == "h" else (x0, y0 + dy)
            second = (x1 - dx, y1) if t1 == "h" else (x1, y1 - dy)
            points += [first, second, (x1, y1)]
        pos = f"e,{ex:.1f},{ey:.1f} " + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        return {"pos": pos, "points": points, "end": (ex, ey)}


def _label_width(label: str) -> float:
    """The width of an edge label, in points (generous, as text_width is)."""
    return text_width(str(label), LABEL_FONTSIZE) + 4


def _around(centre: tuple[float, float], width: float) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of a label of `width` centred at `centre`."""
    x, y = centre
    return (x - width / 2, y - LABEL_HEIGHT / 2, x + width / 2, y + LABEL_HEIGHT / 2)


def _hits(box: tuple[float, float, float, float], taken: list) -> bool:
    """Whether `box` overlaps any of the boxes in `taken`."""
    left, bottom, right, top = box
    return any(
        left < other_right and other_left < right and bottom < other_top and other_bottom < top
        for other_left, other_bottom, other_right, other_top in taken
    )


def _bezier(points: list[tuple[float, float]], t: float) -> tuple[float, float]:
    """The point at t of a cubic Bézier curve."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    u = 1 - t
    x = u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3
    y = u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3
    return x, y


class FrozenLayout:
    """Where Graphviz's dot put the nodes and edges of one drawing, to draw others there.

    The frames of a step-through differ only in numbers and edge labels, but dot
    would lay each out afresh, and nodes would jump from frame to frame. The
    layout of the last frame (which has every label) is read once from dot's JSON
    output, and each frame is drawn at those places (neato -n2).
    """

    def __init__(self, drawing) -> None:
        data = json.loads(drawing.pipe(format="json", encoding="utf-8"))
        self.nodes = {
            o["name"]: {"pos": o["pos"], "width": o["width"], "height": o["height"]}
            for o in data.get("objects", [])
            if "pos" in o
        }
        names = {o["_gvid"]: o["name"] for o in data.get("objects", [])}
        # (tail, head) -> the curves of the edges between them (x * x has two)
        self.edges: dict[tuple[str, str], list[dict[str, str]]] = {}
        for e in sorted(data.get("edges", []), key=lambda e: e["_gvid"]):
            pair = (names[e["tail"]], names[e["head"]])
            self.edges.setdefault(pair, []).append({k: e[k] for k in ("pos", "lp") if k in e})

    def node_attrs(self, node_id: str) -> dict[str, str]:
        return {**self.nodes[node_id], "fixedsize": "true"}

    def edge_attrs(self, tail: str, head: str, nth: int, labelled: bool) -> dict[str, str]:
        """The curve of the nth edge from tail to head; its label's place if it has one."""
        attrs = dict(self.edges[(tail, head)][nth])
        if not labelled:
            attrs.pop("lp", None)
        return attrs
