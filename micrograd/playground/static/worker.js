// The page's host, in a Web Worker: micrograd itself, running in Pyodide, so that the page
// stays responsive while it trains. Everything comes from the site's own folder: Pyodide's
// files, and the wheels of micrograd and graphviz (unpacked into site-packages, no micropip).
//
// Messages in: {id, method, params}; out: {id, json} (micrograd.playground's Session.call
// answer) or {id, error} (an error in Python that is not a bad input: a bug to report).
// The first message out is {ready: seconds, seconds: {part: seconds}} once micrograd is
// imported, or {failed: text}.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const started = performance.now();
const seconds = {}; // how long each part of starting took
const lap = (name, since) => { seconds[name] = (performance.now() - since) / 1000; return performance.now(); };
const session = (async () => {
  let time = performance.now();
  const pyodide = await loadPyodide({ indexURL: new URL("./pyodide/", import.meta.url).href });
  time = lap("Pyodide", time);
  const names = await (await fetch(new URL("./wheels/index.json", import.meta.url))).json();
  for (const name of names) {
    const response = await fetch(new URL(`./wheels/${name}`, import.meta.url));
    pyodide.unpackArchive(await response.arrayBuffer(), "wheel");
  }
  time = lap("wheels", time);
  const { Session } = pyodide.pyimport("micrograd.playground.session");
  const made = Session();
  lap("micrograd", time);
  return made;
})();

session.then(
  () => postMessage({ ready: (performance.now() - started) / 1000, seconds }),
  (error) => postMessage({ failed: String(error) }),
);

onmessage = async (event) => {
  const { id, method, params } = event.data;
  try {
    const answer = (await session).call(method, JSON.stringify(params ?? {}));
    postMessage({ id, json: answer });
  } catch (error) {
    postMessage({ id, error: String(error) });
  }
};
