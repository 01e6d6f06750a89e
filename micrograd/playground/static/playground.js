// The playground's front-end: controls, pictures and the training loop, drawn with SVG and canvas.
//
// It computes nothing itself: every number comes from a host, an object with
//   host.call(method, params) -> Promise of the answer (see micrograd/playground/session.py,
//                                Session.CALLS: "state", "set", "train", ...), which rejects
//                                with an Error whose message is micrograd's, for bad input;
//   host.renderGraph(dot, engine) -> Promise of an SVG element (optional: a host whose
//                                frames come back as SVG already needs none).
// Two hosts exist: the page's Web Worker running micrograd in Pyodide (main.js), and the
// Jupyter widget's kernel (widget.js). This file is one ES module with no imports, so that
// the widget can ship it as it is.

// Classes: matplotlib's "tab10", the colours of micrograd.plot.CLASS_COLOURS.
const CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
// Signs: micrograd's drawings' POSITIVE_RGB (blue) and NEGATIVE_RGB (red).
const POSITIVE = [33, 102, 172];
const NEGATIVE = [178, 24, 43];
const HIGHLIGHT = "#c026d3"; // the outline of the current node in micrograd's drawings
// While playing, each round trains this long, then the numbers move; the heatmaps move at most
// this often. Each round costs a validation and a state besides, and the heatmaps two of
// the demo's steps: rounds of 0.25 s with heatmaps every 0.5 s trained at half the rate of
// step(n); these, at about its rate (24.6 and 22.6 steps/s, measured side by side).
const FRAME_SECONDS = 0.4;
const PICTURE_SECONDS = 0.8;

const DATASETS = ["moons", "circles", "spirals", "blobs", "xor"];
const ACTIVATIONS = ["relu", "tanh", "sigmoid"];
const OPTIMIZERS = [["sgd", "SGD"], ["momentum", "SGD + momentum 0.9"], ["adam", "Adam"]];
const SCHEDULES = [
  ["constant", "constant"],
  ["linear", "linear decay to lr/10"],
  ["cosine", "cosine decay to lr/10"],
  ["step", "halve every n steps"],
];

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svgElement(tag, attributes = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function format(x, digits = 4) {
  if (x === null || x === undefined) return "–";
  if (x === 0) return "0";
  const size = Math.abs(x);
  return size >= 1e4 || size < 1e-3 ? x.toExponential(2) : x.toPrecision(digits);
}

// A colour for a signed value: white at 0, towards blue (positive) or red (negative).
function signColour(value, largest, out, offset) {
  const strength = largest > 0 ? Math.min(1, Math.abs(value) / largest) : 0;
  const rgb = value >= 0 ? POSITIVE : NEGATIVE;
  out[offset] = 255 + (rgb[0] - 255) * strength;
  out[offset + 1] = 255 + (rgb[1] - 255) * strength;
  out[offset + 2] = 255 + (rgb[2] - 255) * strength;
  out[offset + 3] = 255;
}

function hexRgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

// Paint `values` (size x size, rows from the top) into a canvas, one colour per value.
function paint(canvas, size, values, colourOf) {
  const small = document.createElement("canvas");
  small.width = small.height = size;
  const context = small.getContext("2d");
  const image = context.createImageData(size, size);
  for (let i = 0; i < values.length; i++) colourOf(values[i], image.data, 4 * i, i);
  context.putImageData(image, 0, 0);
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = true;
  target.clearRect(0, 0, canvas.width, canvas.height);
  target.drawImage(small, 0, 0, canvas.width, canvas.height);
}

export function mount(root, host, options = {}) {
  root.classList.add("mg-playground");
  const view = { state: null, curves: null, playing: false, busy: Promise.resolve(), frame: null };
  const listeners = [];

  // ---- the layout ----------------------------------------------------------------------
  const message = element("div", { class: "mg-message", role: "status", "aria-live": "polite" });
  const stepText = element("span", { class: "mg-step", text: "step 0" });
  const readout = element("span", { class: "mg-readout" });
  const playButton = element("button", { class: "mg-play", title: "train (space)", text: "▶ play" });
  const stepButton = element("button", { title: "one step of training", text: "+1 step" });
  const resetButton = element("button", { title: "start again from step 0", text: "⟲ reset" });
  const toolbar = element(
    "div", { class: "mg-toolbar" },
    element("strong", { class: "mg-title", text: "micrograd playground" }),
    resetButton, playButton, stepButton, stepText, readout,
  );

  const inputs = {};
  function field(name, label, control, hint) {
    inputs[name] = control;
    control.name = name;
    control.addEventListener("change", () => change(name, control));
    const row = element("label", { class: "mg-field" }, element("span", { text: label }), control);
    if (hint) row.title = hint;
    return row;
  }
  function select(choices) {
    const node = element("select");
    for (const choice of choices) {
      const [value, text] = Array.isArray(choice) ? choice : [choice, choice];
      node.append(element("option", { value, text }));
    }
    return node;
  }
  const text = (size) => element("input", { type: "text", size: String(size), spellcheck: "false" });

  const classPicker = element("div", { class: "mg-classes" });
  const controls = element(
    "div", { class: "mg-controls" },
    element("h3", { text: "Data" }),
    field("dataset", "data set", select(DATASETS)),
    field("noise", "noise", text(6), "the standard deviation of the noise on each coordinate"),
    field("points", "training points", text(6)),
    field("validation", "validation points", text(6), "drawn with the training points, never trained on"),
    field("seed", "seed", text(6), "seeds the data and the first weights"),
    element("div", { class: "mg-hint", text: "click the plane to add a point of class:" }),
    classPicker,
    element("div", { class: "mg-hint", text: "shift-click a point to remove it; click one to follow it through the network" }),
    element("h3", { text: "Model" }),
    field("hidden", "hidden layers", text(10), "neurons per hidden layer, e.g. 16, 16"),
    field("activation", "activation", select(ACTIVATIONS)),
    element("h3", { text: "Training" }),
    field("optimizer", "optimizer", select(OPTIMIZERS)),
    field("lr", "learning rate", text(8)),
    field("schedule", "schedule", select(SCHEDULES)),
    field("decay_steps", "over steps", text(6), "how many steps the schedule takes"),
    field("batch_size", "batch size", text(6), "'all' for full-batch gradient descent"),
    field("l2", "L2", text(8), "adds L2 · Σ p² to the loss"),
  );

  const network = element("div", { class: "mg-network" });
  const networkNote = element("div", { class: "mg-hint" });
  const plane = element("canvas", { class: "mg-plane", width: "400", height: "400" });
  const planeLegend = element("div", { class: "mg-hint" });
  const lossCanvas = element("canvas", { class: "mg-curve", width: "400", height: "120" });
  const accuracyCanvas = element("canvas", { class: "mg-curve", width: "400", height: "90" });
  const curveLegend = element("div", { class: "mg-hint mg-legend" });

  const graphCaption = element("pre", { class: "mg-caption" });
  const graphCounter = element("span", { class: "mg-counter" });
  const graphSlider = element("input", { type: "range", min: "0", max: "0", value: "0" });
  const graphPrev = element("button", { text: "◀ prev", title: "the step before" });
  const graphNext = element("button", { text: "next ▶", title: "the next step of backward()" });
  const graphLast = element("button", { text: "last", title: "the whole backward pass done" });
  const graphZoom = element("select", { title: "the drawing's size" });
  for (const percent of [25, 50, 75, 100]) graphZoom.append(element("option", { value: String(percent / 100), text: `${percent}%` }));
  graphZoom.value = "0.5";
  graphZoom.addEventListener("change", () => zoomGraph());
  const graphPicture = element("div", { class: "mg-graph-picture" });
  const graphHint = element("div", { class: "mg-hint" });
  const graphPanel = element(
    "section", { class: "mg-graph" },
    element("h3", { text: "Backprop, node by node" }),
    graphHint,
    element("div", { class: "mg-graph-controls" }, graphPrev, graphSlider, graphNext, graphLast, graphCounter, element("span", { text: "zoom" }), graphZoom),
    graphCaption,
    graphPicture,
  );

  root.append(
    toolbar,
    message,
    element(
      "div", { class: "mg-main" },
      controls,
      element("section", { class: "mg-network-panel" }, element("h3", { text: "Network" }), networkNote, network),
      element(
        "section", { class: "mg-output" },
        element("h3", { text: "Output" }), plane, planeLegend,
        element("h3", { text: "Loss and accuracy" }), lossCanvas, accuracyCanvas, curveLegend,
      ),
    ),
    graphPanel,
  );

  // ---- talking to the host ---------------------------------------------------------------
  function say(text, kind = "error") {
    message.textContent = text || "";
    message.dataset.kind = text ? kind : "";
  }

  // One call at a time, in order: the host answers each with the whole state.
  function call(method, params = {}) {
    const answer = view.busy.then(() => host.call(method, params));
    view.busy = answer.catch(() => {});
    return answer;
  }

  async function change(name, control) {
    try {
      await apply(await call("set", { [name]: control.value }));
      control.classList.remove("mg-invalid");
    } catch (error) {
      control.classList.add("mg-invalid");
      say(error.message);
    }
  }

  function apply(state) {
    const previous = view.state;
    view.state = state;
    if (!view.curves || state.curves.since === 0) {
      view.curves = { loss: [], accuracy: [], validation: [] };
    }
    for (const key of Object.keys(view.curves)) view.curves[key].push(...state.curves[key]);
    if (!previous || JSON.stringify(previous.settings) !== JSON.stringify(state.settings)) {
      showSettings(state.settings);
    }
    if (state.pictures) view.pictures = state.pictures;
    if (!previous || !previous.model || previous.model.sizes.join() !== state.model.sizes.join()) {
      buildNetwork(state.model.sizes);
    }
    if (!previous || previous.classes !== state.classes) buildClassPicker(state.classes);
    for (const name of ["dataset", "noise", "points", "seed"]) inputs[name].disabled = state.data.own;
    if (state.message) say(state.message.text, state.message.kind);
    else if (previous && previous.message) say("");
    if (state.diverged) setPlaying(false);
    draw();
    const moved = previous && (previous.step !== state.step || previous.run !== state.run);
    if (moved && !view.playing && view.frame && state.point) refreshFrame();
    for (const listener of listeners) listener(state);
    return state;
  }

  function showSettings(settings) {
    for (const [name, control] of Object.entries(inputs)) {
      let value = settings[name];
      if (name === "hidden") value = value.join(", ");
      if (name === "batch_size" && value === null) value = "all";
      if (document.activeElement !== control || control.tagName === "SELECT") control.value = String(value);
      control.classList.remove("mg-invalid");
    }
  }

  let chosenClass = 0;
  function buildClassPicker(classes) {
    classPicker.replaceChildren();
    chosenClass = Math.min(chosenClass, classes - 1);
    for (let c = 0; c < classes; c++) {
      const button = element("button", {
        class: "mg-class" + (c === chosenClass ? " mg-chosen" : ""),
        title: `class ${c}`,
        text: String(c),
        onclick: () => {
          chosenClass = c;
          for (const b of classPicker.children) b.classList.toggle("mg-chosen", b === button);
        },
      });
      button.style.background = CLASS_COLOURS[c % CLASS_COLOURS.length];
      classPicker.append(button);
    }
  }

  // ---- the network diagram: units as heatmaps, weights as lines ---------------------------
  const UNIT = 32;
  const PITCH = 40;
  let COLUMN = 120; // set to fill the panel's width by buildNetwork
  let units = []; // units[layer][i] = {canvas, note}, layer 0 the inputs
  let lines = []; // lines[layer][j][i]: from unit i of column `layer` to neuron j of the next
  let networkSvg;

  function buildNetwork(sizes) {
    network.replaceChildren();
    const room = network.parentElement.clientWidth || 600;
    COLUMN = Math.max(90, Math.min(220, (room - UNIT - 80) / (sizes.length - 1)));
    const tallest = Math.max(...sizes);
    const width = COLUMN * (sizes.length - 1) + UNIT + 70;
    const height = PITCH * tallest + 24;
    network.style.width = width + "px";
    network.style.height = height + "px";
    networkSvg = svgElement("svg", { width, height, class: "mg-lines" });
    network.append(networkSvg);
    const where = (column, i) => [COLUMN * column, 22 + PITCH * i + (PITCH * (tallest - sizes[column])) / 2];
    units = [];
    lines = [];
    sizes.forEach((count, column) => {
      const title = column === 0 ? "inputs" : column === sizes.length - 1 ? "output" : `layer ${column - 1}`;
      const [x0] = where(column, 0);
      const heading = element("div", { class: "mg-column-title", text: title });
      heading.style.left = x0 + "px";
      network.append(heading);
      const column_units = [];
      for (let i = 0; i < count; i++) {
        const [x, y] = where(column, i);
        const canvas = element("canvas", { class: "mg-unit", width: String(UNIT), height: String(UNIT) });
        canvas.style.left = x + "px";
        canvas.style.top = y + "px";
        const note = element("div", { class: "mg-unit-note" });
        note.style.left = x + UNIT + 3 + "px";
        note.style.top = y - 1 + "px";
        if (column === 0) {
          canvas.title = i === 0 ? "input x[0] (the horizontal axis)" : "input x[1] (the vertical axis)";
        } else {
          canvas.title = `layer ${column - 1}, neuron ${i}: click to set its bias`;
          canvas.classList.add("mg-editable");
          canvas.addEventListener("click", (event) => editParameter(`layers.${column - 1}.neurons.${i}.b`, event));
        }
        network.append(canvas, note);
        column_units.push({ canvas, note });
      }
      units.push(column_units);
      if (column === 0) return;
      const layerLines = [];
      for (let j = 0; j < count; j++) {
        const row = [];
        for (let i = 0; i < sizes[column - 1]; i++) {
          const [xa, ya] = where(column - 1, i);
          const [xb, yb] = where(column, j);
          const name = `layers.${column - 1}.neurons.${j}.w.${i}`;
          const attributes = { x1: xa + UNIT, y1: ya + UNIT / 2, x2: xb, y2: yb + UNIT / 2 };
          const line = svgElement("line", { ...attributes, class: "mg-weight" });
          const hit = svgElement("line", { ...attributes, class: "mg-weight-hit" });
          const tip = svgElement("title");
          hit.append(tip);
          hit.addEventListener("click", (event) => editParameter(name, event));
          networkSvg.append(line, hit);
          row.push({ line, tip, name });
        }
        layerLines.push(row);
      }
      lines.push(layerLines);
    });
  }

  let editor = null;
  function editParameter(name, event) {
    if (editor) editor.remove();
    const [, layer, , neuron, kind, index] = name.split(".");
    const weights = view.state.model.layers[+layer][+neuron];
    const current = kind === "b" ? weights.b : weights.w[+index];
    const input = element("input", { type: "text", size: "10", value: String(current), "aria-label": name });
    const form = element(
      "form", { class: "mg-editor" },
      element("span", { text: kind === "b" ? `bias of layer ${layer}, neuron ${neuron}` : `weight w[${index}] of layer ${layer}, neuron ${neuron}` }),
      input,
      element("button", { type: "submit", text: "set" }),
    );
    form.addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      try {
        await apply(await call("set_weight", { name, value: input.value }));
        form.remove();
        editor = null;
      } catch (error) {
        input.classList.add("mg-invalid");
        say(error.message);
      }
    });
    input.addEventListener("keydown", (key) => {
      if (key.key === "Escape") { form.remove(); editor = null; }
    });
    const box = network.getBoundingClientRect();
    form.style.left = Math.max(0, event.clientX - box.left - 60) + "px";
    form.style.top = event.clientY - box.top + 12 + "px";
    network.append(form);
    editor = form;
    input.focus();
    input.select();
  }

  // ---- drawing ---------------------------------------------------------------------------
  function draw() {
    const state = view.state;
    stepText.textContent = `step ${state.step}`;
    const parts = [];
    if (state.loss !== null) parts.push(`loss ${format(state.loss)}`, `accuracy ${(100 * state.accuracy).toFixed(1)}%`);
    if (state.val_loss !== null) parts.push(`validation loss ${format(state.val_loss)}`, `accuracy ${(100 * state.val_accuracy).toFixed(1)}%`);
    if (state.lr !== null) parts.push(`lr ${format(state.lr)}`);
    readout.textContent = parts.join(" · ");
    drawNetwork(state);
    drawPlane(state);
    drawCurves();
    graphPanel.hidden = state.point === null;
    if (state.point) {
      const free = state.point.loss === 0
        ? ` Point ${state.point.index} costs nothing now (its loss is 0), so every gradient is 0: click a point near the boundary to see one pass something back.`
        : "";
      graphHint.textContent = `point ${state.point.index}'s loss, drawn by micrograd's draw_dot and stepped through as step_through does, with the weights of step ${state.step}.${free}`;
    }
  }

  function drawNetwork(state) {
    const model = state.model;
    let largest = 0;
    for (const layer of model.layers) for (const n of layer) for (const w of n.w) largest = Math.max(largest, Math.abs(w));
    model.layers.forEach((layer, l) => {
      layer.forEach((neuron, j) => {
        neuron.w.forEach((w, i) => {
          const { line, tip } = lines[l][j][i];
          const rgb = w >= 0 ? POSITIVE : NEGATIVE;
          line.setAttribute("stroke", `rgb(${rgb.join(",")})`);
          line.setAttribute("stroke-width", (0.4 + 4 * Math.abs(w) / (largest || 1)).toFixed(2));
          line.setAttribute("stroke-opacity", (0.25 + 0.7 * Math.abs(w) / (largest || 1)).toFixed(2));
          tip.textContent = `w[${i}] of layer ${l}, neuron ${j} = ${format(w)} (click to set it)`;
        });
        units[l + 1][j].canvas.title = `layer ${l}, neuron ${j} (${model.activations[l]}): bias ${format(neuron.b)}; click to set it`;
      });
    });
    const pictures = view.pictures;
    if (pictures) {
      const size = pictures.grid;
      const [x0, x1, y0, y1] = state.data.extent; // the inputs are the plane's x and y
      const inputs = [[], []];
      for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) {
        inputs[0].push(x0 + ((x1 - x0) * (c + 0.5)) / size);
        inputs[1].push(y1 - ((y1 - y0) * (r + 0.5)) / size);
      }
      const heat = (values, canvas) => {
        let most = 0;
        for (const v of values) most = Math.max(most, Math.abs(v));
        paint(canvas, size, values, (v, out, k) => signColour(v, most, out, k));
      };
      inputs.forEach((values, i) => heat(values, units[0][i].canvas));
      pictures.units.forEach((layer, l) => layer.forEach((values, j) => heat(values, units[l + 1][j].canvas)));
    }
    const point = state.point;
    units.forEach((column, l) => column.forEach((unit, i) => {
      if (!point) { unit.note.textContent = ""; return; }
      const [out, grad] = point.units[l][i];
      unit.note.textContent = `${format(out, 3)}\n∇ ${format(grad, 3)}`;
    }));
    networkNote.textContent = point
      ? `each unit: its output over the plane; beside it, for point ${point.index}, its output and ∇, the gradient of this point's loss (${format(point.loss)}). Lines: blue w > 0, red w < 0, thicker = larger |w|; click one to set it.`
      : "each unit: its output over the plane (blue > 0, red < 0). Lines: blue w > 0, red w < 0, thicker = larger |w|; click a line (a weight) or a unit (its bias) to set it.";
  }

  function toPixel(state, x, y) {
    const [x0, x1, y0, y1] = state.data.extent;
    return [((x - x0) / (x1 - x0)) * plane.width, ((y1 - y) / (y1 - y0)) * plane.height];
  }

  function drawPlane(state) {
    const context = plane.getContext("2d");
    const pictures = view.pictures;
    const k = state.classes;
    const colours = CLASS_COLOURS.map(hexRgb);
    if (pictures) {
      const output = pictures.units[pictures.units.length - 1];
      const size = pictures.grid;
      const values = [];
      for (let p = 0; p < size * size; p++) values.push(p);
      paint(plane, size, values, (p, out, offset) => {
        let c, confidence;
        if (k === 2) {
          const score = output[0][p];
          c = score > 0 ? 1 : 0;
          confidence = Math.tanh(Math.abs(score));
        } else {
          let best = 0;
          let total = 0;
          const scores = output.map((unit) => unit[p]);
          const top = Math.max(...scores);
          scores.forEach((s, j) => { total += Math.exp(s - top); if (s > scores[best]) best = j; });
          c = best;
          confidence = (1 / total - 1 / k) / (1 - 1 / k);
        }
        const rgb = colours[c % colours.length];
        const alpha = 0.12 + 0.5 * confidence;
        for (let i = 0; i < 3; i++) out[offset + i] = 255 + (rgb[i] - 255) * alpha;
        out[offset + 3] = 255;
      });
    } else {
      context.clearRect(0, 0, plane.width, plane.height);
    }
    const dot = (x, y, c, filled, radius) => {
      const [px, py] = toPixel(state, x, y);
      context.beginPath();
      context.arc(px, py, radius, 0, 2 * Math.PI);
      const colour = CLASS_COLOURS[c % CLASS_COLOURS.length];
      if (filled) {
        context.fillStyle = colour;
        context.fill();
        context.strokeStyle = "white";
        context.lineWidth = 1;
      } else {
        context.strokeStyle = colour;
        context.lineWidth = 2;
      }
      context.stroke();
    };
    for (const [x, y, c] of state.data.validation) dot(x, y, c, false, 3.5);
    for (const [x, y, c] of state.data.train) dot(x, y, c, true, 4);
    if (state.point) {
      const [px, py] = toPixel(state, state.point.x[0], state.point.x[1]);
      context.beginPath();
      context.arc(px, py, 9, 0, 2 * Math.PI);
      context.strokeStyle = HIGHLIGHT;
      context.lineWidth = 3;
      context.stroke();
    }
    const rule = k === 2 ? "class 1 where the output unit's score is > 0" : "the class of the largest score";
    planeLegend.textContent = `the class the model gives each place (${rule}; paler: less sure). Filled dots: ${state.data.train.length} training points; rings: ${state.data.validation.length} validation points.`;
  }

  function drawCurves() {
    const curves = view.curves;
    // each series is [step, value] points; step k's training loss is of the k-th step's batch
    const perStep = (values) => values.map((v, i) => [i + 1, v]);
    const plot = (canvas, series, top, label) => {
      const context = canvas.getContext("2d");
      const { width, height } = canvas;
      context.clearRect(0, 0, width, height);
      context.fillStyle = "#fafafa";
      context.fillRect(0, 0, width, height);
      const last = Math.max(1, ...series.flatMap((s) => s.points.map(([x]) => x)));
      let high = top;
      if (high === null) {
        high = 0;
        for (const s of series) for (const [, v] of s.points) if (Number.isFinite(v)) high = Math.max(high, v);
        high = high || 1;
      }
      context.fillStyle = "#555";
      context.font = "10px sans-serif";
      context.fillText(`${label} (0 to ${format(high, 3)}), steps 0 to ${last}`, 4, 11);
      for (const s of series) {
        context.beginPath();
        context.strokeStyle = s.colour;
        context.setLineDash(s.dash || []);
        context.lineWidth = 1.5;
        s.points.forEach(([step, v], i) => {
          const x = (step / last) * (width - 2) + 1;
          const y = height - 2 - (Math.min(Math.max(v, 0), high) / high) * (height - 16);
          if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
        });
        context.stroke();
      }
      context.setLineDash([]);
    };
    const validation = curves.validation;
    plot(lossCanvas, [
      { points: perStep(curves.loss), colour: "#374151" },
      { points: validation.map(([step, loss]) => [step, loss]), colour: "#d97706", dash: [4, 3] },
    ], null, "loss");
    plot(accuracyCanvas, [
      { points: perStep(curves.accuracy), colour: "#374151" },
      { points: validation.map(([step, , accuracy]) => [step, accuracy]), colour: "#d97706", dash: [4, 3] },
    ], 1, "accuracy");
    curveLegend.textContent = `solid: each step's training batch, before its update; dashed: the validation points, measured after each round of steps. ${curves.loss.length} steps.`;
  }

  // ---- the plane: add, remove and choose points -------------------------------------------
  plane.addEventListener("click", async (event) => {
    const state = view.state;
    if (!state) return;
    const box = plane.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * plane.width;
    const py = ((event.clientY - box.top) / box.height) * plane.height;
    let nearest = -1;
    let distance = 8;
    state.data.train.forEach(([x, y], i) => {
      const [qx, qy] = toPixel(state, x, y);
      const d = Math.hypot(qx - px, qy - py);
      if (d < distance) { distance = d; nearest = i; }
    });
    const [x0, x1, y0, y1] = state.data.extent;
    const x = x0 + (px / plane.width) * (x1 - x0);
    const y = y1 - (py / plane.height) * (y1 - y0);
    try {
      if (event.shiftKey) {
        if (nearest >= 0) await apply(await call("remove_point", { index: nearest }));
      } else if (nearest >= 0) {
        await choose(nearest);
      } else {
        await apply(await call("add_point", { x, y, label: chosenClass }));
      }
    } catch (error) {
      say(error.message);
    }
  });

  // ---- backprop, step by step ---------------------------------------------------------------
  async function choose(index) {
    await apply(await call("choose_point", { index }));
    await showFrame(-1);
  }

  async function showFrame(index) {
    const frame = await call("frame", { index });
    view.frame = frame;
    graphSlider.max = String(frame.count - 1);
    graphSlider.value = String(frame.index);
    graphCounter.textContent = `frame ${frame.index} of ${frame.count - 1}`;
    graphCaption.textContent = frame.caption;
    graphPrev.disabled = frame.index === 0;
    graphNext.disabled = frame.index === frame.count - 1;
    let picture;
    if (frame.svg !== undefined) {
      picture = element("div");
      picture.innerHTML = frame.svg; // micrograd's own renderer's SVG (the kernel's)
    } else {
      picture = await host.renderGraph(frame.dot, frame.engine);
    }
    graphPicture.replaceChildren(picture);
    zoomGraph();
    // bring the current node (outlined in HIGHLIGHT) into view
    const current = [...graphPicture.querySelectorAll("[stroke]")].find(
      (node) => node.getAttribute("stroke").toLowerCase() === HIGHLIGHT,
    );
    if (current) { // scroll the drawing's box only, not the page
      const box = graphPicture.getBoundingClientRect();
      const node = current.getBoundingClientRect();
      graphPicture.scrollLeft += node.left + node.width / 2 - (box.left + box.width / 2);
      graphPicture.scrollTop += node.top + node.height / 2 - (box.top + box.height / 2);
    }
    return frame;
  }
  // Draw the graph at the chosen size: its SVG's own width and height, scaled.
  function zoomGraph() {
    const svg = graphPicture.querySelector("svg");
    if (!svg) return;
    if (!svg.dataset.width) {
      const box = svg.viewBox && svg.viewBox.baseVal;
      svg.dataset.width = box && box.width ? box.width : parseFloat(svg.getAttribute("width"));
      svg.dataset.height = box && box.height ? box.height : parseFloat(svg.getAttribute("height"));
    }
    const scale = Number(graphZoom.value);
    svg.setAttribute("width", `${svg.dataset.width * scale}pt`);
    svg.setAttribute("height", `${svg.dataset.height * scale}pt`);
  }
  // The weights changed: draw the frame shown again, with them (the last, if it is gone).
  function refreshFrame() {
    showFrame(view.frame.index).catch(() => showFrame(-1).catch((error) => say(error.message)));
  }
  const go = (index) => showFrame(index).catch((error) => say(error.message));
  graphPrev.addEventListener("click", () => go(Math.max(0, view.frame.index - 1)));
  graphNext.addEventListener("click", () => go(Math.min(view.frame.count - 1, view.frame.index + 1)));
  graphLast.addEventListener("click", () => go(view.frame.count - 1));
  graphSlider.addEventListener("change", () => go(Number(graphSlider.value)));

  // ---- training ------------------------------------------------------------------------------
  function setPlaying(on) {
    const was = view.playing;
    view.playing = on;
    playButton.textContent = on ? "■ pause" : "▶ play";
    if (on && !was) loop();
  }

  // While playing, the worker trains the next round while this thread draws the last one.
  async function loop() {
    if (!view.state) await ready; // play pressed before the first state
    let drawn = 0;
    let since = view.curves.loss.length;
    let run = view.state.run;
    const round = () => {
      const pictures = performance.now() - drawn >= 1000 * PICTURE_SECONDS;
      if (pictures) drawn = performance.now();
      return call("train", { steps: 100000, seconds: FRAME_SECONDS, since, pictures, run });
    };
    let next = round();
    while (view.playing) {
      let state;
      try {
        state = await next;
      } catch (error) {
        say(error.message);
        setPlaying(false);
        break;
      }
      since = state.curves.since + state.curves.loss.length;
      run = state.run;
      if (view.playing && !state.diverged) next = round();
      apply(state);
    }
    // the backprop drawing is of the weights at a step: drawn again once training stops
    if (view.frame && !graphPanel.hidden) refreshFrame();
  }

  // Train exactly `steps` steps, in rounds as when playing, so that the numbers and curves
  // move (and the validation points are measured) as a long run goes; heatmaps at the end.
  async function train(steps) {
    let state = view.state || (await ready); // a click may come before the first state
    const end = state.step + steps;
    const run = state.run;
    while (state.step < end && state.run === run && !state.diverged) {
      state = apply(await call("train", {
        steps: end - state.step, seconds: FRAME_SECONDS, since: view.curves.loss.length, run,
        pictures: false,
      }));
    }
    return apply(await call("state", { since: view.curves.loss.length, run: state.run }));
  }

  playButton.addEventListener("click", () => setPlaying(!view.playing));
  stepButton.addEventListener("click", () => train(1).catch((error) => say(error.message)));
  resetButton.addEventListener("click", async () => {
    setPlaying(false);
    try { apply(await call("reset")); } catch (error) { say(error.message); }
  });
  root.addEventListener("keydown", (event) => {
    if (event.key === " " && event.target === root) { event.preventDefault(); setPlaying(!view.playing); }
  });
  root.tabIndex = 0;

  // ---- start ---------------------------------------------------------------------------------
  const ready = call("state").then(apply);

  // The scripting API, for lessons and tests (the page puts it on window.playground).
  const api = {
    step: (n = 1) => train(n).then(summary),
    state: () => summary(view.state),
    set: (settings) => call("set", settings).then(apply).then(summary),
    play: () => setPlaying(true),
    pause: () => setPlaying(false),
    reset: () => call("reset").then(apply).then(summary),
    addPoint: (x, y, label) => call("add_point", { x, y, label }).then(apply).then(summary),
    removePoint: (index) => call("remove_point", { index }).then(apply).then(summary),
    setWeight: (name, value) => call("set_weight", { name, value }).then(apply).then(summary),
    choosePoint: (index) => choose(index).then(() => summary(view.state)),
    frame: (index) => showFrame(index),
    onState: (listener) => listeners.push(listener),
    full: () => view.state,
    show: (state) => { view.curves = null; apply(state); }, // a state the host trained
    say,
  };
  api.ready = ready.then(() => api);
  return api;

  function summary(state) {
    return {
      step: state.step,
      loss: state.loss,
      accuracy: state.accuracy,
      val_loss: state.val_loss,
      val_accuracy: state.val_accuracy,
      lr: state.lr,
      settings: state.settings,
      message: state.message ? state.message.text : message.textContent || null,
      points: state.data.train.length,
    };
  }
}
