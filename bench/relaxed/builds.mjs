// Two or more builds of octave.wasm on the bench's cases in headless
// Chromium, paired run by run: one page per build (each in its own browser
// context and renderer, its request for /web/dist/octave.wasm answered from
// that build's file), all prepared and warmed up, then batches alternating
// between the pages. On a shared machine whose speed drifts within seconds,
// the ratio of two neighbouring batches is steadier than either time. Needs
// bench/work/full (`make bench-tool && bench/work/octave-bench prep -out
// bench/work/full`, then `octave-bench native -work bench/work/full -case C`
// for each case's reference output).
//
//   node bench/relaxed/builds.mjs --wasm simd=web/dist/octave.wasm,relaxed=/tmp/octave-relaxed.wasm \
//        [--cases conv3x3-64-56,resnet50-a500] [--pairs 15] [--batch-ms 60]
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve, CHROMIUM_ARGS } from "../lib/server.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const a = process.argv.slice(2);
const opt = (name, def) => (a.includes(name) ? a[a.indexOf(name) + 1] : def);
const builds = opt("--wasm", "").split(",").filter(Boolean).map((s) => {
  const [name, file] = s.split("=");
  return { name, bytes: readFileSync(path.resolve(file)) };
});
if (builds.length < 2) throw new Error("--wasm needs two builds or more: name=file,name=file");
const cases = opt("--cases", "conv3x3-64-56,resnet50-a500").split(",");
const pairs = Number(opt("--pairs", 15)), batchMs = Number(opt("--batch-ms", 60));

const median = (x) => { const s = [...x].sort((p, q) => p - q); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const q = (x, p) => { const s = [...x].sort((u, v) => u - v); return s[Math.round(p * (s.length - 1))]; };
const { chromium } = await import("playwright-core");
const { server, url } = await serve(root);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
const report = [];
try {
  for (const c of cases) {
    const pages = [];
    for (const b of builds) {
      const ctx = await browser.newContext();
      await ctx.route("**/web/dist/octave.wasm", (route) => route.fulfill({ status: 200, contentType: "application/wasm", body: b.bytes }));
      const page = await ctx.newPage();
      await page.goto(`${url}/bench/relaxed/paired.html?case=${c}`);
      await page.waitForFunction(() => window.__ready || window.__error, null, { timeout: 10 * 60e3, polling: 200 });
      const { ready, error } = await page.evaluate(() => ({ ready: window.__ready, error: window.__error }));
      if (error) throw new Error(`${b.name} ${c}: ${error}`);
      if (!(ready.diff <= 1e-3 * Math.max(1, ready.scale))) throw new Error(`${b.name} ${c}: output differs from Octave native by ${ready.diff}`);
      pages.push({ b, ctx, page, ms: [], diff: ready.diff });
    }
    // Runs per batch from one run of the first build.
    const one = await pages[0].page.evaluate((n) => window.__batch(n), 1);
    const n = Math.max(1, Math.round(batchMs / one));
    for (let p = 0; p < pairs; p++) {
      // Alternate which build goes first.
      const order = p % 2 ? [...pages].reverse() : pages;
      for (const x of order) x.ms.push(await x.page.evaluate((n) => window.__batch(n), n));
    }
    for (const x of pages) await x.ctx.close();
    const base = pages[0];
    for (const x of pages) {
      const ratios = x.ms.map((t, i) => base.ms[i] / t);
      const line = `${c.padEnd(16)} ${x.b.name.padEnd(9)} ms/run median ${median(x.ms).toFixed(2)} [${Math.min(...x.ms).toFixed(2)}-${Math.max(...x.ms).toFixed(2)}]` +
        (x === base ? "" : `  paired ${base.b.name}/${x.b.name}: median ${median(ratios).toFixed(3)}x, quartiles ${q(ratios, 0.25).toFixed(3)}-${q(ratios, 0.75).toFixed(3)}, ` +
          `range ${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}, ${ratios.filter((r) => r > 1).length}/${ratios.length} pairs above 1`) + `  max diff ${x.diff.toExponential(1)}`;
      report.push(line);
      console.log(line);
    }
    console.error(`${c}: ${pairs} pairs of batches of ${n} runs`);
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`Chromium ${browser.version()}; ${pairs} pairs per case, batches of about ${batchMs} ms, the order alternating`);
