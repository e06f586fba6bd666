// Browser side of the bench: one engine, one case per page load.
// page.html?engine=E&case=C[&runs=N][&warm=MS][&work=full|smoke]
// engine=E1,E2,... runs the engines interleaved in this page
// (runInterleaved); the result is then {interleaved: [...]}.
import { runCase, runInterleaved } from "./lib/engines.js";

const q = new URLSearchParams(location.search);
const names = q.get("engine").split(","), caseName = q.get("case");
const NM = "/bench/node_modules/";

function script(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`loading ${src} failed`));
    document.head.appendChild(s);
  });
}

// The work directory of this run: bench/work/full or bench/work/smoke.
const WORK = "/bench/work/" + (q.get("work") || "full") + "/";

async function bytes(f) {
  const r = await fetch(WORK + f);
  if (!r.ok) throw new Error(`fetching ${f}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function main() {
  const cases = (await (await fetch(WORK + "cases.json")).json()).cases;
  const c = cases.find((x) => x.case === caseName);
  if (!c) throw new Error(`no case ${caseName}`);
  const runs = Number(q.get("runs") || c.runs);
  const env = {
    bytes,
    octaveWasm: (simd) => new URL(simd ? "/web/dist/octave.wasm" : "/web/dist/octave-nosimd.wasm", location.href),
    tfjsWasmDir: NM + "@tensorflow/tfjs-backend-wasm/dist/",
    ortWasmDir: NM + "onnxruntime-web/dist/",
  };
  if (names.some((e) => e.startsWith("octave"))) env.Octave = await import("/web/octave.js");
  if (names.some((e) => e.startsWith("tfjs"))) {
    // The UMD bundles: tf-core defines globalThis.tf, the backends extend it.
    await script(NM + "@tensorflow/tfjs-core/dist/tf-core.min.js");
    await script(NM + "@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js");
    if (names.includes("tfjs-wasm")) {
      await script(NM + "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js");
      env.setWasmPaths = globalThis.tf.wasm.setWasmPaths;
      env.setThreadsCount = globalThis.tf.wasm.setThreadsCount;
    }
    env.tf = globalThis.tf;
  }
  if (names.includes("ort-wasm")) {
    await script(NM + "onnxruntime-web/dist/ort.wasm.min.js");
    env.ort = globalThis.ort;
  }
  const now = () => performance.now(), warm = Number(q.get("warm") ?? 2000);
  const rs = names.length > 1 ? await runInterleaved(names, c, env, runs, now, warm) : [await runCase(names[0], c, env, runs, now, warm)];
  for (const r of rs) {
    r.runtime = "chromium";
    r.crossOriginIsolated = globalThis.crossOriginIsolated;
  }
  return names.length > 1 ? { interleaved: rs } : rs[0];
}

main().then(
  (r) => { window.__result = r; document.getElementById("out").textContent = JSON.stringify(r, null, 1); },
  (e) => { window.__error = String(e && e.stack || e); document.getElementById("out").textContent = window.__error; },
);
