// Octave's dedicated worker: runs one wasm instance off the caller's thread.
// octave.js starts it as a module Web Worker; in Node, octave-worker-node.js
// runs the same handler in a worker_threads Worker. Messages in:
// {id, op, args}; out: {id, ok: true, result} or {id, ok: false, error:
// message}. Typed arrays in results move as transferables. No Node imports
// here: bundlers build this file for the browser.

import { startBackend, transferables } from "./octave-backend.js";

let backend = null;

async function handle(msg, post) {
  const { id, op, args } = msg;
  try {
    let result;
    if (op === "init") {
      if (backend) throw new Error("Octave: the worker is already initialized");
      backend = await startBackend(args[0]);
      result = { simd: backend.simd };
    } else if (!backend) {
      throw new Error("Octave: the worker is not initialized");
    } else if (op === "memoryBytes") {
      result = backend.memoryBytes();
    } else if (op === "exit") {
      backend.exit();
      result = true;
    } else if (typeof OPS[op] === "function") {
      result = OPS[op](backend, args);
    } else {
      throw new Error(`Octave: unknown operation ${JSON.stringify(op)}`);
    }
    post({ id, ok: true, result }, transferables(op, result));
  } catch (e) {
    post({ id, ok: false, error: String((e && e.message) || e) }, []);
  }
}

const OPS = {
  load: (b, a) => b.load(a[0]),
  classify: (b, a) => b.classify(...a),
  featureMaps: (b, a) => b.featureMaps(...a),
  dispose: (b, a) => b.dispose(a[0]),
  count: (b) => b.count(),
};

/**
 * Serves messages from onMessage(handler) and answers through post(msg,
 * transfer), one at a time, in order.
 */
export function serve(onMessage, post) {
  let queue = Promise.resolve();
  onMessage((msg) => {
    queue = queue.then(() => handle(msg, post));
  });
}

if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) {
  serve((f) => globalThis.addEventListener("message", (ev) => f(ev.data)), (m, t) => globalThis.postMessage(m, t));
}
