// The relaxed-SIMD micro-benchmark (issue 17, item 4): each register-tile
// variant of tiles.mjs, and the FP units' peak, in GFLOP/s, side by side in
// one process per runtime (Node, then headless Chromium), rounds
// interleaved. Wrap it in the machine's quiet script when timing.
//
//   node bench/relaxed/run.mjs [--runtimes node,chromium] [--variants 4x2-muladd,4x2-madd,...]
//        [--rounds 7] [--ms 300] [--json FILE]
//   node bench/relaxed/run.mjs --dump 4x2-madd > /tmp/k.wasm   # the module's bytes
//
// Node 20 needs --experimental-wasm-relaxed-simd for relaxed_madd; the
// runner starts its Node child with it. Chromium (/usr/bin/chromium, or
// $CHROMIUM) has relaxed SIMD on by default.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { variants, buildModule, peakModule, fusedModule, lab, measure } from "./tiles.mjs";
import { mainThreadMs, renderersMs } from "./cpu.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const a = process.argv.slice(2);
const opt = (name, def) => (a.includes(name) ? a[a.indexOf(name) + 1] : def);
const names = opt("--variants", Object.keys(variants).join(",")).split(",");
const rounds = Number(opt("--rounds", 7)), ms = Number(opt("--ms", 300));

function modules() {
  const mods = names.map((n) => {
    const v = variants[n];
    if (!v) throw new Error(`no variant ${n}; have ${Object.keys(variants).join(", ")}`);
    return { name: n, kind: "tile", ...v, bytes: [...buildModule(v)] };
  });
  mods.push({ name: "peak-muladd", kind: "peak", note: "12 accumulators, no loads", bytes: [...peakModule(false)] });
  mods.push({ name: "peak-madd", kind: "peak", note: "12 accumulators, no loads", bytes: [...peakModule(true)] });
  mods.push({ name: "relaxed_madd", kind: "fused", bytes: [...fusedModule()] });
  return mods;
}

if (a.includes("--dump")) {
  process.stdout.write(buildModule(variants[opt("--dump")]));
  process.exit(0);
}
if (a.includes("--child")) {
  console.log(JSON.stringify(await measure(modules(), { rounds, ms, cpuNow: () => mainThreadMs() })));
  process.exit(0);
}

async function inNode() {
  const args = ["--experimental-wasm-relaxed-simd", path.join(here, "run.mjs"), "--child", "--variants", names.join(","), "--rounds", String(rounds), "--ms", String(ms)];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("exit", (c) => (c === 0 ? resolve(JSON.parse(out)) : reject(new Error(`node child exited ${c}`))));
  });
}

async function inChromium() {
  const { chromium } = await import("playwright-core");
  const { CHROMIUM_ARGS } = await import("../lib/server.js");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto("about:blank");
    await page.evaluate((src) => { window.__lab = new Function(`return (${src})`)()(); }, lab.toString());
    const info = await page.evaluate(([mods, o]) => window.__lab.setup(mods, o), [modules(), { ms }]);
    const res = info.map((x) => ({ ...x, gflops: [], cpuGflops: [] }));
    // The renderer's main-thread CPU time around each chunk, read from here.
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < res.length; i++) {
        const c0 = renderersMs();
        const c = await page.evaluate((i) => window.__lab.chunk(i), i);
        const c1 = renderersMs();
        if (!c) continue;
        res[i].gflops.push(c.flops / c.ms / 1e6);
        res[i].cpuGflops.push(c.flops / (c1 - c0) / 1e6);
      }
    }
    return res;
  } finally {
    await browser.close();
  }
}

const median = (x) => { const s = [...x].sort((p, q) => p - q); return s[s.length >> 1]; };
const results = {};
for (const rt of opt("--runtimes", "node,chromium").split(",")) {
  results[rt] = rt === "node" ? await inNode() : await inChromium();
  console.log(`\n${rt}: GFLOP/s by CPU time (main thread) and by wall time, median of ${rounds} rounds [min-max]`);
  const base = median(results[rt][0].cpuGflops);
  const f = (x) => `${median(x).toFixed(1).padStart(5)} [${Math.min(...x).toFixed(1)}-${Math.max(...x).toFixed(1)}]`.padEnd(19);
  console.log(`  ${"variant".padEnd(12)} ${"CPU".padEnd(19)} ${"wall".padEnd(19)} CPU ratio`);
  for (const r of results[rt]) {
    if (r.kind === "fused") { console.log(`  ${r.name}: ${r.note}`); continue; }
    const m = median(r.cpuGflops);
    console.log(`  ${r.name.padEnd(12)} ${f(r.cpuGflops)} ${f(r.gflops)} ${r.kind === "tile" ? (m / base).toFixed(3) + "x" : "     "}  ${r.note || ""}`);
  }
}
const j = opt("--json");
if (j) writeFileSync(j, JSON.stringify({ date: new Date().toISOString(), rounds, ms, results }, null, 1) + "\n");
