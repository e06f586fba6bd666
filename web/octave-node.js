// The Node entry of octave-wasm (package.json "exports" condition "node"):
// octave.js with Node's services registered — file: URLs read with node:fs,
// the worker started with node:worker_threads. Browsers and bundlers get
// octave.js, which imports no Node module.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { _useNode } from "./octave.js";

_useNode({
  readFile: async (u) => {
    const b = await readFile(fileURLToPath(u));
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  Worker,
  workerURL: new URL("./octave-worker-node.js", import.meta.url),
});

export * from "./octave.js";
