
// ---- the Jupyter widget's host (anywidget): appended to playground.js to make the widget's
// one module (micrograd/playground/widget.py). Calls go to the kernel as custom messages
// {id, method, params}; the kernel's Session answers {id, json}, or {id, error}; a state
// trained from Python comes as {show: json}.
export default {
  render({ model, el }) {
    const waiting = new Map();
    let calls = 0;
    let api = null;
    const listener = (message) => {
      if (message && message.show !== undefined && api) return api.show(JSON.parse(message.show));
      if (!message || !waiting.has(message.id)) return;
      const { resolve, reject } = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error !== undefined) return reject(new Error(`micrograd failed: ${message.error}`));
      const answer = JSON.parse(message.json);
      if (answer && typeof answer === "object" && "error" in answer) reject(new Error(answer.error));
      else resolve(answer);
    };
    model.on("msg:custom", listener);
    const host = {
      call(method, params) {
        const id = ++calls;
        return new Promise((resolve, reject) => {
          waiting.set(id, { resolve, reject });
          model.send({ id, method, params });
        });
      },
    };
    api = mount(el, host);
    return () => {
      api.pause();
      model.off("msg:custom", listener);
    };
  },
};
