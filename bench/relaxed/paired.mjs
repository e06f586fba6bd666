// Browser side of builds.mjs: one case, one engine, batches on demand.
import { prepare } from "../lib/engines.js";

const q = new URLSearchParams(location.search);
const WORK = "/bench/work/" + (q.get("work") || "full") + "/";
async function bytes(f) {
  const r = await fetch(WORK + f);
  if (!r.ok) throw new Error(`fetching ${f}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function main() {
  const c = (await (await fetch(WORK + "cases.json")).json()).cases.find((x) => x.case === q.get("case"));
  if (!c) throw new Error(`no case ${q.get("case")}`);
  const env = { bytes, octaveWasm: () => new URL("/web/dist/octave.wasm", location.href), Octave: await import("/web/octave.js") };
  const input = new Float32Array((await bytes(c.input)).slice().buffer);
  const ref = new Float32Array((await bytes(c.ref)).slice().buffer);
  const e = await prepare("octave-wasm-simd", c, env);
  const out = await e.read(await e.run(input.slice()));
  let diff = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(out[i] - ref[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  if (out.length !== ref.length) diff = Infinity;
  for (let t0 = performance.now(), n = 0; n < 2 || performance.now() - t0 < Number(q.get("warm") || 2000); n++) await e.run(input.slice());
  window.__batch = async (n) => {
    const x = input.slice();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await e.run(x);
    return (performance.now() - t0) / n;
  };
  return { diff, scale };
}

main().then((r) => { window.__ready = r; }, (err) => { window.__error = String(err && err.stack || err); });
