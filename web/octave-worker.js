// Octave's dedicated worker: runs one wasm instance off the caller's thread.
// Started by octave.js as a module Web Worker in browsers and as a
// worker_threads Worker in Node. Messages in: {id, op, args}; out:
// {id, ok: true, result} or {id, ok: false, error: message}. Typed arrays in
// results move as transferables.

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
    } else if (typeof Backend_ops[op] === "function") {
      result = Backend_ops[op](backend, args);
    } else {
      throw new Error(`Octave: unknown operation ${JSON.stringify(op)}`);
    }
    post({ id, ok: true, result }, transferables(op, result));
  } catch (e) {
    post({ id, ok: false, error: String((e && e.message) || e) }, []);
  }
}

const Backend_ops = {
  load: (b, a) => b.load(a[0]),
  classify: (b, a) => b.classify(...a),
  featureMaps: (b, a) => b.featureMaps(...a),
  dispose: (b, a) => b.dispose(a[0]),
  count: (b) => b.count(),
};

// Messages are handled one at a time, in order.
let queue = Promise.resolve();

if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) {
  globalThis.addEventListener("message", (ev) => {
    queue = queue.then(() => handle(ev.data, (m, t) => globalThis.postMessage(m, t)));
  });
} else {
  const { parentPort } = await import("node:worker_threads");
  if (!parentPort) throw new Error("octave-worker.js must run as a worker");
  parentPort.on("message", (msg) => {
    queue = queue.then(() => handle(msg, (m, t) => parentPort.postMessage(m, t)));
  });
}
