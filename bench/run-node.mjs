// Runs one case on one engine in this Node process and prints one JSON line.
//   node bench/run-node.mjs ENGINE CASE [RUNS [WARMUP_MS]]   (from the repository root or anywhere)
// ENGINE may be a comma-separated list: the engines then run interleaved in
// this one process (runInterleaved) and the line is {"interleaved": [...]}.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { runCase, runInterleaved } from "./lib/engines.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const work = process.env.BENCH_WORK || path.join(here, "work", "full");
const [engineArg, caseName, runsArg, warmArg] = process.argv.slice(2);
const names = engineArg.split(",");
const cases = JSON.parse(await readFile(path.join(work, "cases.json"), "utf8")).cases;
const c = cases.find((x) => x.case === caseName);
if (!c) throw new Error(`no case ${caseName} in ${work}/cases.json`);
const runs = Number(runsArg || c.runs);
const warmMs = warmArg === undefined ? 2000 : Number(warmArg);

const env = {
  bytes: async (f) => new Uint8Array(await readFile(path.join(work, f))),
  octaveWasm: (simd) => path.join(here, "..", "web", "dist", simd ? "octave.wasm" : "octave-nosimd.wasm"),
  tfjsWasmDir: path.join(here, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist") + path.sep,
  ortWasmDir: undefined,
};
if (names.some((e) => e.startsWith("octave"))) env.Octave = await import("../web/octave.js");
if (names.some((e) => e.startsWith("tfjs"))) {
  env.tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-cpu");
  if (names.includes("tfjs-wasm")) {
    const w = await import("@tensorflow/tfjs-backend-wasm");
    env.setWasmPaths = w.setWasmPaths;
    env.setThreadsCount = w.setThreadsCount;
  }
}
if (names.includes("ort-wasm")) env.ort = await import("onnxruntime-web");

const now = () => performance.now();
if (names.length > 1) {
  const rs = await runInterleaved(names, c, env, runs, now, warmMs);
  for (const r of rs) r.runtime = "node";
  console.log(JSON.stringify({ interleaved: rs }));
} else {
  const r = await runCase(names[0], c, env, runs, now, warmMs);
  r.runtime = "node";
  console.log(JSON.stringify(r));
}
process.exit(0);
