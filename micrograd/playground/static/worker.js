// The page's host, in a Web Worker: micrograd itself, running in Pyodide, so that the page
// stays responsive while it trains. Everything comes from the site's own folder: Pyodide's
// files, and the wheels of micrograd and graphviz (unpacked into site-packages, no micropip).
//
// Messages in: {id, method, params}; out: {id, json} (micrograd.playground's Session.call
// answer) or {id, error} (an error in Python that is not a bad input: a bug to report).
// The first message out is {ready: seconds} once micrograd is imported, or {failed: text}.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const started = performance.now();
const session = (async () => {
  const pyodide = await loadPyodide({ indexURL: new URL("./pyodide/", import.meta.url).href });
  const names = await (await fetch(new URL("./wheels/index.json", import.meta.url))).json();
  for (const name of names) {
    const response = await fetch(new URL(`./wheels/${name}`, import.meta.url));
    pyodide.unpackArchive(await response.arrayBuffer(), "wheel");
  }
  const { Session } = pyodide.pyimport("micrograd.playground.session");
  return Session();
})();

session.then(
  () => postMessage({ ready: (performance.now() - started) / 1000 }),
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
