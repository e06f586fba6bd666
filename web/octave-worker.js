// Octave's dedicated worker: runs one wasm instance off the caller's thread.
// octave.js starts it as a module Web Worker; in Node, octave-worker-node.js
// runs the same handler in a worker_threads Worker. Messages in:
// {id, op, args}; out: {id, ok: true, result} or {id, ok: false, error:
// message, name}. Typed arrays in results move as transferables. Its Host
// (octave-backend.js) restarts the wasm instance after a large input. No
// Node imports here: bundlers build this file for the browser.

import { Host, transferables } from "./octave-backend.js";

let host = null;

async function handle(msg, post) {
  const { id, op, args } = msg;
  try {
    let result;
    if (op === "init") {
      if (host) throw new Error("Octave: the worker is already initialized");
      host = new Host(args[0]);
      result = await host.start();
    } else if (!host) {
      throw new Error("Octave: the worker is not initialized");
    } else if (op === "exit") {
      host.close(new Error("Octave: the instance was terminated"));
      result = true;
    } else {
      result = await host.call(op, args);
    }
    post({ id, ok: true, result }, transferables(op, result));
  } catch (e) {
    post({ id, ok: false, error: String((e && e.message) || e), name: (e && e.name) || "Error" }, []);
  }
}

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
