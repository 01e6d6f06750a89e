// The page: the front-end (playground.js) with micrograd in a Web Worker (worker.js) as its
// host, the settings in the URL, and the scripting API on window.playground:
//   await playground.ready; await playground.step(100); playground.state(); playground.set({lr: 0.5})
import { mount } from "./playground.js";

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const waiting = new Map(); // call id -> {resolve, reject}
let calls = 0;
let started;
const loaded = new Promise((resolve, reject) => { started = { resolve, reject }; });

worker.onmessage = (event) => {
  const data = event.data;
  if ("ready" in data) return started.resolve(data);
  if ("failed" in data) return started.reject(new Error(`micrograd did not start: ${data.failed}`));
  const { resolve, reject } = waiting.get(data.id);
  waiting.delete(data.id);
  if (data.error !== undefined) return reject(new Error(`micrograd failed: ${data.error}`));
  const answer = JSON.parse(data.json);
  if (answer && typeof answer === "object" && "error" in answer) reject(new Error(answer.error));
  else resolve(answer);
};

let viz = null; // Graphviz in WebAssembly, loaded when the first graph is drawn
const host = {
  call(method, params) {
    const id = ++calls;
    return loaded.then(() => new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, method, params });
    }));
  },
  async renderGraph(dot, engine) {
    if (!viz) viz = import("./vendor/viz.js").then((module) => module.instance());
    return (await viz).renderSVGElement(dot, { engine });
  },
};

// The URL's fragment holds the settings that differ from the defaults, as JSON:
// a teacher shares a lesson as a link.
function settingsFromUrl() {
  const fragment = decodeURIComponent(location.hash.slice(1));
  return fragment ? JSON.parse(fragment) : null;
}

function urlOf(state) {
  const changed = {};
  for (const [name, value] of Object.entries(state.settings)) {
    if (JSON.stringify(value) !== JSON.stringify(state.defaults[name])) changed[name] = value;
  }
  return Object.keys(changed).length ? "#" + encodeURIComponent(JSON.stringify(changed)) : "#";
}

const status = document.getElementById("loading");
let wanted = null; // read now: the URL changes with the state from the first one on
let unread = null;
try {
  wanted = settingsFromUrl();
} catch (error) {
  unread = `the settings in the URL could not be read (${error.message}); showing the defaults`;
}
const api = mount(document.getElementById("playground"), host);
const mounted = api.ready;
let started_up = false;
api.onState((state) => {
  if (!started_up) return;
  const url = urlOf(state);
  if (url !== (location.hash || "#")) history.replaceState(null, "", url === "#" ? location.pathname : url);
});
api.ready = (async () => {
  let seconds;
  let parts;
  try {
    ({ ready: seconds, seconds: parts } = await loaded);
  } catch (error) {
    status.textContent = error.message;
    throw error;
  }
  await mounted;
  started_up = true;
  if (unread) api.say(unread);
  if (wanted) {
    try {
      await api.set(wanted);
    } catch (error) {
      api.say(`the settings in the URL were refused: ${error.message}`);
    }
  }
  api.startup = { seconds, parts };
  const each = Object.entries(parts).map(([name, s]) => `${name} ${s.toFixed(1)} s`).join(", ");
  status.textContent = `micrograd runs in your browser: ready in ${seconds.toFixed(1)} s (${each})`;
  return api;
})();
api.url = () => location.href;
api.host = host; // micrograd in the worker: host.call(method, params), as the front-end calls it
window.playground = api;
