// The engines under test, behind one interface, for Node and the browser
// alike. An engine is prepared for one case and then runs it:
//
//   const e = await prepare(name, c, env);   // c: a cases.json entry
//   const y = await e.run(input);            // timed: input in, output out
//   const out = await e.read(y);             // untimed: Float32Array in Octave's order
//
// env gives what differs between the runtimes: bytes(file) reads a file of
// the work directory, and the modules: tf (with the backend registered),
// ort, Octave; octaveWasm(simd) is the URL or path of Octave's binary.

import { parseModel } from "./safetensors.js";
import { buildTF } from "./tfnet.js";

export const ENGINES = ["octave-wasm-simd", "octave-wasm-scalar", "tfjs-wasm", "tfjs-cpu", "ort-wasm"];
// Engines run only when --engines names them: the SIMD build with its
// relaxed-SIMD patch turned off (Octave.init({ relaxed: false })), to set
// beside octave-wasm-simd, which takes the patch where the engine has
// relaxed SIMD (Chromium; not Node 20 without its flag).
export const EXTRA_ENGINES = ["octave-wasm-simd-plain"];

export async function prepare(name, c, env) {
  switch (name) {
    case "octave-wasm-simd":
    case "octave-wasm-scalar":
      return octave(name.endsWith("simd"), c, env);
    case "octave-wasm-simd-plain":
      return octave(true, c, env, { relaxed: false });
    case "tfjs-wasm":
    case "tfjs-cpu":
      return tfjs(name === "tfjs-wasm" ? "wasm" : "cpu", c, env);
    case "ort-wasm":
      return ortEngine(c, env);
  }
  throw new Error(`unknown engine ${name}`);
}

async function octave(simd, c, env, opts = {}) {
  const { Octave } = env.Octave;
  const oct = await Octave.init({ wasmURL: env.octaveWasm(simd), simd, worker: false, ...opts });
  if (oct.simd !== simd) throw new Error(`Octave runs simd=${oct.simd}, wanted ${simd}`);
  const model = await oct.load(await env.bytes(c.model), { warmup: false });
  const layers = [c.output];
  const inner = [];
  return {
    info: { simd: oct.simd, relaxed: oct.relaxed },
    // The network's own time inside Go (featureMaps' ms), per run: the rest
    // of a run's time is the JS <-> wasm boundary (input and output copies).
    inner,
    async run(input) {
      const maps = await model.featureMaps({ data: input, channels: c.channels, height: c.height, width: c.width }, { layers });
      inner.push(maps.ms);
      return maps[0];
    },
    async read(m) {
      const parts = [m.high?.data, m.low?.data].filter(Boolean);
      if (parts.length === 1) return parts[0];
      const out = new Float32Array(parts[0].length + parts[1].length);
      out.set(parts[0]);
      out.set(parts[1], parts[0].length);
      return out;
    },
    async close() { await model.dispose(); oct.terminate(); },
  };
}

async function tfjs(backend, c, env) {
  const tf = env.tf;
  if (backend === "wasm") {
    // One thread, the SIMD binary (no threads even where SharedArrayBuffer is).
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    tf.env().set("WASM_HAS_SIMD_SUPPORT", true);
    env.setWasmPaths(env.tfjsWasmDir);
    env.setThreadsCount?.(1);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to start`);
  await tf.ready();
  const m = parseModel(await env.bytes(c.model));
  const net = buildTF(tf, m.graph, m.params, c.height, c.width);
  return {
    info: { backend: tf.getBackend(), version: tf.version_core },
    async run(input) {
      const y = net.run(input);
      // Download as a user would: the timed run ends with the data in JS.
      for (const t of [y.h, y.l]) if (t) t.dataSync();
      return y;
    },
    async read(y) {
      const out = net.read(y, true);
      net.dispose(y);
      return out;
    },
    release(y) { net.dispose(y); },
    async close() { net.dispose(); },
  };
}

async function ortEngine(c, env) {
  const ort = env.ort;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  if (env.ortWasmDir) ort.env.wasm.wasmPaths = env.ortWasmDir;
  const session = await ort.InferenceSession.create(await env.bytes(c.onnx), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  const outNames = session.outputNames;
  return {
    info: { version: ort.env.versions?.web ?? "" },
    async run(input) {
      const feeds = { input: new ort.Tensor("float32", input, [1, c.channels, c.height, c.width]) };
      const r = await session.run(feeds);
      return outNames.map((n) => r[n].data);
    },
    async read(parts) {
      if (parts.length === 1) return parts[0];
      const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) { out.set(p, o); o += p.length; }
      return out;
    },
    async close() { await session.release(); },
  };
}

/**
 * Runs one case on one engine: a checked first run, a warm-up, then timed
 * runs (measure).
 */
export async function runCase(engineName, c, env, runs, now, warmMs = 2000) {
  const input = new Float32Array(copyBuffer(await env.bytes(c.input)));
  const ref = new Float32Array(copyBuffer(await env.bytes(c.ref)));
  const e = await prepare(engineName, c, env);
  const r = await measure(e, `${engineName} ${c.case}`, input, ref, runs, now, warmMs);
  return { case: c.case, engine: engineName, ...r };
}

/**
 * Times a prepared engine e ({run, read, release?, close, inner?, info}) on
 * input: a first run whose output is checked against ref, a warm-up, then
 * `runs` timed runs, each on a fresh copy of input. The warm-up lasts at
 * least 2 runs and goes on until warmMs have passed (at most 1000 runs): V8
 * compiles wasm with its baseline compiler first and tiers hot functions up
 * in the background, which takes tens of runs (more on a loaded machine).
 */
export async function measure(e, what, input, ref, runs, now, warmMs = 2000) {
  const tf0 = now();
  const y0 = await e.run(input.slice());
  const firstMs = now() - tf0;
  const { diff, scale } = compare(what, await e.read(y0), ref);
  const w0 = now();
  let warm = 0;
  while (warm < 2 || (now() - w0 < warmMs && warm < 1000)) {
    // Not e.release?.(await e.run(..)): optional chaining skips the whole
    // call, argument included, for an engine without release.
    const y = await e.run(input.slice());
    e.release?.(y);
    warm++;
  }
  const times = [];
  const inner0 = e.inner?.length ?? 0;
  for (let r = 0; r < runs; r++) times.push(await timed(e, input, now));
  await e.close();
  const median = med(times);
  const innerMs = e.inner ? med(e.inner.slice(inner0)) : undefined;
  return { median_ms: median, inner_median_ms: innerMs, max_abs_diff: diff, ref_max_abs: scale, first_ms: firstMs, warmup_runs: warm, times_ms: times, info: e.info };
}

/**
 * Runs one case on several engines in one process, interleaved
 * (measureInterleaved): one result per engine, in the order of names.
 */
export async function runInterleaved(names, c, env, runs, now, warmMs = 2000) {
  const input = new Float32Array(copyBuffer(await env.bytes(c.input)));
  const ref = new Float32Array(copyBuffer(await env.bytes(c.ref)));
  const es = [];
  try {
    for (const n of names) es.push(await prepare(n, c, env));
  } catch (err) {
    for (const e of es) await e.close();
    throw err;
  }
  const rs = await measureInterleaved(es, names.map((n) => `${n} ${c.case}`), input, ref, runs, now, warmMs);
  return rs.map((r, i) => ({ case: c.case, engine: names[i], ...r, interleaved: names, paired: { over: names[0], ...r.paired } }));
}

/**
 * Times prepared engines es (as measure does) interleaved, so that a machine
 * whose speed drifts (a virtual machine's neighbours, the clock frequency)
 * slows them alike: each first run is checked against ref; the warm-up goes
 * round the engines until each has run at least 2 times and warmMs x
 * engines have passed (at most 1000 rounds); then each of the `runs` rounds
 * times one run of every engine, the order rotating by one engine per round.
 * Every engine is closed at the end. Each result also gives its time over
 * the first engine's in the same round (`paired`: the median and quartiles
 * of those ratios).
 */
export async function measureInterleaved(es, whats, input, ref, runs, now, warmMs = 2000) {
  try {
    const res = [];
    for (let i = 0; i < es.length; i++) {
      const t0 = now();
      const y0 = await es[i].run(input.slice());
      const first = now() - t0;
      const { diff, scale } = compare(whats[i], await es[i].read(y0), ref);
      res.push({ max_abs_diff: diff, ref_max_abs: scale, first_ms: first });
    }
    const w0 = now();
    let warm = 0;
    while (warm < 2 || (now() - w0 < warmMs * es.length && warm < 1000)) {
      for (const e of es) {
        const y = await e.run(input.slice()); // not inside e.release?.(..): see measure
        e.release?.(y);
      }
      warm++;
    }
    const times = es.map(() => []);
    const inner0 = es.map((e) => e.inner?.length ?? 0);
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < es.length; k++) {
        const i = (k + r) % es.length;
        times[i].push(await timed(es[i], input, now));
      }
    }
    return res.map((x, i) => {
      const ratios = times[i].map((t, r) => t / times[0][r]).sort((a, b) => a - b);
      return {
        ...x,
        median_ms: med(times[i]),
        inner_median_ms: es[i].inner ? med(es[i].inner.slice(inner0[i])) : undefined,
        warmup_runs: warm,
        times_ms: times[i],
        paired: { median: med(ratios), q1: quantile(ratios, 0.25), q3: quantile(ratios, 0.75) },
        info: es[i].info,
      };
    });
  } finally {
    for (const e of es) await e.close();
  }
}

// One timed run on a fresh copy of input.
async function timed(e, input, now) {
  const x = input.slice();
  const t0 = now();
  const y = await e.run(x);
  const t = now() - t0;
  e.release?.(y);
  return t;
}

// The largest absolute difference of out from ref, and ref's scale.
function compare(what, out, ref) {
  if (out.length !== ref.length) throw new Error(`${what}: ${out.length} outputs, reference has ${ref.length}`);
  let diff = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(out[i] - ref[i]);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return { diff, scale };
}

// The q-quantile of sorted values s, interpolated.
function quantile(s, q) {
  const p = (s.length - 1) * q, lo = Math.floor(p), hi = Math.ceil(p);
  return s[lo] + (s[hi] - s[lo]) * (p - lo);
}

function med(v) {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function copyBuffer(u8) {
  return u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength);
}
