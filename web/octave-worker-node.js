// Octave's worker in Node: octave-worker.js's handler in a worker_threads
// Worker. octave.js starts it; it is never part of a browser bundle.
import { parentPort } from "node:worker_threads";
import { serve } from "./octave-worker.js";

if (!parentPort) throw new Error("octave-worker-node.js must run as a worker_threads Worker");
serve((f) => parentPort.on("message", f), (m, t) => parentPort.postMessage(m, t));
