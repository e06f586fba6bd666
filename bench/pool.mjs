// Throughput of Octave.init({ workers: N }): images per second through the
// library's worker pool, N = 1 and 2, on the Fashion-MNIST oct-resnet-mini
// model (28x28), in Node (worker_threads). Not a test: a benchmark.
//
//   node bench/pool.mjs [--model web/dist/fashion-oct-a500.safetensors] [--images 3000] [--rounds 2]
//
// Each round starts a pool per N (alternating N = 1, 2, so that a slow spell
// of the shared machine hits both), loads the model, warms it up, then keeps
// 2N classify calls in flight (two per worker: a worker never waits for the
// next message) until --images are done, and prints images/s. Run it under
// /var/tmp/octave-train/quiet.sh on the shared machine.
import { Octave } from "../web/octave-node.js";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const modelPath = arg("--model", path.join(here, "..", "web", "dist", "fashion-oct-a500.safetensors"));
const images = Number(arg("--images", 3000));
const rounds = Number(arg("--rounds", 2));

// A fixed pseudo-random 28x28 input: the time does not depend on the values.
const input = new Float32Array(28 * 28);
for (let i = 0, s = 1; i < input.length; i++) { s = (s * 1103515245 + 12345) >>> 0; input[i] = s / 2 ** 32 - 0.5; }
const tensor = () => ({ data: input, channels: 1, height: 28, width: 28 });

async function measure(n) {
  const octave = await Octave.init({ workers: n });
  try {
    const model = await octave.load(modelPath);
    const run = async (count) => {
      let next = 0;
      const lane = async () => { while (next++ < count) await model.classify(tensor(), { topK: 1 }); };
      await Promise.all(Array.from({ length: 2 * n }, lane));
    };
    await run(300 * n); // warm-up: V8 tiers the engine's code up on every worker
    const t0 = performance.now();
    await run(images);
    const s = (performance.now() - t0) / 1000;
    return images / s;
  } finally {
    octave.terminate();
  }
}

const load0 = loadavg();
const byN = { 1: [], 2: [] };
for (let r = 0; r < rounds; r++) for (const n of [1, 2]) byN[n].push(await measure(n));
const load1 = loadavg();
const best = (a) => Math.max(...a);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const f0 = (v) => v.toFixed(0);
console.log(`Node ${process.version}, ${cpus().length} x ${cpus()[0].model}; ${modelPath.split("/").pop()}, ${images} images per measurement, ${rounds} rounds (N = 1, 2 alternating)`);
console.log(`load average ${load0.map((v) => v.toFixed(2)).join(" / ")} at start, ${load1.map((v) => v.toFixed(2)).join(" / ")} at end`);
console.log("| workers | images/s (each round) | median | best |");
console.log("|---:|---|---:|---:|");
for (const n of [1, 2]) console.log(`| ${n} | ${byN[n].map(f0).join(", ")} | ${f0(median(byN[n]))} | ${f0(best(byN[n]))} |`);
console.log(`N = 2 over N = 1: ${(median(byN[2]) / median(byN[1])).toFixed(2)}x (medians), ${(best(byN[2]) / best(byN[1])).toFixed(2)}x (best of each)`);
