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
import { variants, buildModule, peakModule, measure } from "./tiles.mjs";

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
  return mods;
}

if (a.includes("--dump")) {
  process.stdout.write(buildModule(variants[opt("--dump")]));
  process.exit(0);
}
if (a.includes("--child")) {
  console.log(JSON.stringify(await measure(modules(), { rounds, ms })));
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
    const src = measure.toString();
    return await page.evaluate(async ([src, mods, o]) => {
      const f = new Function(`return (${src})`)();
      return f(mods, o);
    }, [src, modules(), { rounds, ms }]);
  } finally {
    await browser.close();
  }
}

const median = (x) => { const s = [...x].sort((p, q) => p - q); return s[s.length >> 1]; };
const results = {};
for (const rt of opt("--runtimes", "node,chromium").split(",")) {
  results[rt] = rt === "node" ? await inNode() : await inChromium();
  console.log(`\n${rt}: GFLOP/s, median of ${rounds} rounds [min-max]`);
  const base = median(results[rt][0].gflops);
  for (const r of results[rt]) {
    const m = median(r.gflops);
    console.log(`  ${r.name.padEnd(12)} ${m.toFixed(1).padStart(6)}  [${Math.min(...r.gflops).toFixed(1)}-${Math.max(...r.gflops).toFixed(1)}]` +
      `  ${r.kind === "tile" ? (m / base).toFixed(3) + "x " + results[rt][0].name : ""}  ${r.note || ""}`);
  }
}
const j = opt("--json");
if (j) writeFileSync(j, JSON.stringify({ date: new Date().toISOString(), rounds, ms, results }, null, 1) + "\n");
