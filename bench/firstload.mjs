// First load of the demo page: bytes transferred for the wasm, the JS and
// the default model (with their raw, gzip and brotli sizes), and the time
// from navigation to the first prediction, in headless Chromium, served by
// `go run ./cmd/demo`: cold (a fresh browser context) and warm (the same
// page opened again in that context, whose HTTP cache now holds the files:
// cmd/demo answers no-cache + Last-Modified, so they come back as 304s and
// V8 may reuse the wasm it compiled). Then Octave.init() alone, with the
// relaxed-SIMD patch (the default where the engine runs relaxed SIMD) and
// with relaxed: false, in turn, each in a fresh context and page (nothing
// cached: not the HTTP cache, not V8's in-process cache of compiled modules),
// and the patch step (relaxedTable + relaxedPatch on the fetched bytes) by
// itself.
//
//   node bench/firstload.mjs --tool PATH [--loads 5] [--init-rounds 5] [--write bench/results.json]
// prints the JSON, or puts it into a results file and rewrites the first-load
// section of the RESULTS.md beside it. --loads 0 or --init-rounds 0 leaves
// out that part.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { brotliCompressSync, gzipSync, constants as zc } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM_ARGS } from "./lib/server.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);

function startDemo(modelsDir, log) {
  return new Promise((resolve, reject) => {
    const p = spawn("go", ["run", "./cmd/demo", "-addr", "127.0.0.1:0", "-models", modelsDir, "-quiet"], {
      cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true,
    });
    let out = "", err = "";
    const t = setTimeout(() => reject(new Error("cmd/demo did not start in 180 s: " + err)), 180e3);
    p.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/serving (http:\/\/\S+)/);
      if (m) { clearTimeout(t); resolve({ url: m[1].replace(/\/$/, ""), stop: () => { try { process.kill(-p.pid, "SIGTERM"); } catch {} } }); }
    });
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => { clearTimeout(t); reject(new Error(`cmd/demo exited ${code}: ${err}`)); });
    log?.("started cmd/demo");
  });
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function kindOf(u) {
  const p = new URL(u).pathname;
  if (p.endsWith(".wasm")) return "wasm";
  if (/\.(m?js)$/.test(p)) return "JS";
  if (p.endsWith(".safetensors")) return "model";
  return "other (HTML, CSS, gallery)";
}

// Octave.init() in a cold page: a fresh browser context (empty HTTP cache)
// and page (its own renderer process: V8 keeps compiled modules per process,
// keyed by their bytes), a same-origin document with no scripts of its own
// (the library's file, which cmd/demo serves with the page's CSP), the
// library imported before the clock starts. Each round runs the relaxed
// and the plain init once, in alternating order. After the clock stops each
// page compiles the other module's bytes too (fresh in that process), and
// the plain page, where relaxedPatch has never run, times relaxedTable and
// relaxedPatch on the fetched bytes: once cold (as at a real load) and the
// median of five more.
async function measureInit({ browser, url, rounds, model, log }) {
  const runs = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 ? [false, true] : [true, false];
    const round = {};
    for (const relaxed of order) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(url + "/octave.js");
      const r = await page.evaluate(async ({ relaxed, model }) => {
        const lib = await import("/octave.js");
        const t0 = performance.now();
        const octave = await lib.Octave.init(relaxed ? {} : { relaxed: false });
        const t1 = performance.now();
        const m = await octave.load(model); // with its warm-up run
        const t2 = performance.now();
        await m.classify({ data: new Float32Array(m.info.input.channels * m.info.input.height * m.info.input.width), ...m.info.input });
        const t3 = performance.now();
        const out = { relaxedOption: relaxed, relaxed: octave.relaxed, simd: octave.simd, init_ms: t1 - t0, load_ms: t2 - t1, classify_ms: t3 - t2 };
        octave.terminate();
        const bytes = new Uint8Array(await (await fetch("/dist/octave.wasm")).arrayBuffer());
        if (!relaxed) {
          const p0 = performance.now();
          const table = lib.relaxedTable(bytes);
          const p1 = performance.now();
          lib.relaxedPatch(bytes);
          const p2 = performance.now();
          const warm = [];
          for (let k = 0; k < 5; k++) {
            const q0 = performance.now();
            lib.relaxedPatch(bytes);
            warm.push(performance.now() - q0);
          }
          warm.sort((a, b) => a - b);
          Object.assign(out, { table_entries: table.length, table_ms: p1 - p0, patch_ms: p2 - p1, patch_warm_ms: warm[2] });
        }
        // The other module, compiled fresh in this process.
        const other = relaxed ? bytes : lib.relaxedPatch(bytes);
        const c0 = performance.now();
        await WebAssembly.compile(other);
        out.compile_other_ms = performance.now() - c0;
        return out;
      }, { relaxed, model });
      await ctx.close();
      if (r.relaxed !== relaxed || !r.simd) throw new Error(`Octave.init(${relaxed ? "" : "{ relaxed: false }"}) ran relaxed=${r.relaxed} simd=${r.simd}`);
      round[relaxed ? "relaxed" : "plain"] = r;
    }
    runs.push(round);
    log(`init ${i + 1}/${rounds}: relaxed ${round.relaxed.init_ms.toFixed(0)} ms, plain ${round.plain.init_ms.toFixed(0)} ms; ` +
      `patch ${round.plain.patch_ms.toFixed(1)} ms cold, ${round.plain.patch_warm_ms.toFixed(1)} ms warm`);
  }
  const col = (k, f) => runs.map((r) => f(r)[k]);
  const rel = (k) => col(k, (r) => r.relaxed), pl = (k) => col(k, (r) => r.plain);
  const stats = (k) => ({ relaxed: median(rel(k)), plain: median(pl(k)), ratio_median: median(runs.map((r) => r.relaxed[k] / r.plain[k])) });
  return {
    rounds,
    init_ms: stats("init_ms"),
    load_ms: stats("load_ms"),
    classify_ms: stats("classify_ms"),
    // compile_other_ms of the relaxed page is the plain module's compile and vice versa.
    compile_ms: { relaxed: median(pl("compile_other_ms")), plain: median(rel("compile_other_ms")),
      ratio_median: median(runs.map((r) => r.plain.compile_other_ms / r.relaxed.compile_other_ms)) },
    patch_ms: { table: median(pl("table_ms")), patch_cold: median(pl("patch_ms")), patch_warm: median(pl("patch_warm_ms")) },
    table_entries: runs[0].plain.table_entries,
    runs,
  };
}

export async function measureFirstLoad({ tool, work, loads = 5, initRounds = 5, log = () => {} }) {
  let modelsDir = path.join(root, "models", "weights");
  let modelSource = "the shipped models (models/weights/)";
  if (!existsSync(path.join(modelsDir, "fashion-oct-a500.safetensors"))) {
    // The trained default model is not there yet: a stand-in of the same
    // architecture and file layout (int8, random weights).
    modelsDir = path.join(work, "standin-models");
    await mkdir(modelsDir, { recursive: true });
    await new Promise((res, rej) => {
      const p = spawn(tool, ["standin", "-out", modelsDir], { cwd: root, stdio: "inherit" });
      p.on("exit", (c) => (c === 0 ? res() : rej(new Error("standin failed"))));
    });
    modelSource = "a stand-in for the default model (fashion-oct-a500: oct-resnet-mini alpha 0.5, int8, random weights; the trained file was not there yet)";
  }
  const demo = await startDemo(path.relative(root, modelsDir), log);
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
  const version = browser.version();
  const times = [], dcl = [], ready = [], warmTimes = [], warmBytes = [];
  // One navigation to the page in ctx, until the first prediction is painted
  // and the page is ready; returns its marks and the files it fetched.
  async function loadOnce(ctx) {
    const page = await ctx.newPage();
    await page.addInitScript(() => {
      const mark = () => {
        if (!window.__firstPrediction && document.querySelector("#top li")) window.__firstPrediction = performance.now();
        if (!window.__ready && document.body && document.body.dataset.ready === "1") window.__ready = performance.now();
      };
      new MutationObserver(mark).observe(document, { subtree: true, childList: true, attributes: true });
    });
    const files = [];
    page.on("requestfinished", async (req) => {
      try {
        const res = await req.response();
        const sizes = await req.sizes();
        const body = await res.body();
        files.push({ url: req.url(), transferred: sizes.responseBodySize, encoding: (await res.allHeaders())["content-encoding"] || "", raw: body.length, body });
      } catch { /* the page went away */ }
    });
    await page.goto(demo.url + "/", { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => window.__firstPrediction && window.__ready, null, { timeout: 180e3, polling: 100 });
    const r = await page.evaluate(() => ({
      first: window.__firstPrediction,
      ready: window.__ready,
      dcl: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
      engine: document.getElementById("engine-meta")?.textContent || "",
    }));
    await page.waitForTimeout(300);
    await page.close();
    return { r, files };
  }
  let groups = null, engine = "", init = null;
  try {
    // Load 0 warms cmd/demo's in-memory compression of the files it has no
    // precompressed sibling for; it is not counted.
    for (let i = -1; i < loads && loads > 0; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const { r, files } = await loadOnce(ctx);
      // Warm: the same page again in the same context.
      const w = await loadOnce(ctx);
      await ctx.close();
      if (i < 0) continue;
      times.push(r.first);
      warmTimes.push(w.r.first);
      warmBytes.push(w.files.reduce((a, f) => a + f.transferred, 0));
      ready.push(r.ready);
      dcl.push(r.dcl);
      engine = r.engine;
      if (i === 0) {
        const g = new Map();
        for (const f of files) {
          const k = kindOf(f.url);
          const e = g.get(k) || { what: k, files: 0, transferred: 0, gzip: 0, brotli: 0, raw: 0, encodings: new Set(), urls: [] };
          e.files++;
          e.transferred += f.transferred;
          e.raw += f.raw;
          e.gzip += gzipSync(f.body, { level: 9 }).length;
          e.brotli += brotliCompressSync(f.body, { params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_LGWIN]: 24, [zc.BROTLI_PARAM_SIZE_HINT]: f.raw } }).length;
          if (f.encoding) e.encodings.add(f.encoding);
          e.urls.push(new URL(f.url).pathname);
          g.set(k, e);
        }
        const order = ["wasm", "JS", "model", "other (HTML, CSS, gallery)"];
        groups = order.filter((k) => g.has(k)).map((k) => ({ ...g.get(k), encodings: [...g.get(k).encodings] }));
        const sum = (ks) => groups.filter((x) => ks.includes(x.what)).reduce((a, x) => ({
          files: a.files + x.files, transferred: a.transferred + x.transferred, gzip: a.gzip + x.gzip, brotli: a.brotli + x.brotli, raw: a.raw + x.raw,
          encodings: [...new Set([...a.encodings, ...x.encodings])],
        }), { files: 0, transferred: 0, gzip: 0, brotli: 0, raw: 0, encodings: [] });
        groups.push({ what: "**wasm + JS + model**", ...sum(["wasm", "JS", "model"]) });
        groups.push({ what: "everything", ...sum(order) });
      }
      log(`first load ${i + 1}/${loads}: first prediction at ${r.first.toFixed(0)} ms cold, ${w.r.first.toFixed(0)} ms warm`);
    }
    if (initRounds > 0) init = await measureInit({ browser, url: demo.url, rounds: initRounds, model: "/models/fashion-oct-a500.safetensors", log });
  } finally {
    await browser.close();
    demo.stop();
  }
  if (!groups) return { model_source: modelSource, chromium: version, init };
  const transferredEnc = groups.find((g) => g.what === "wasm")?.encodings.join(",") || "";
  return {
    model_source: modelSource,
    loads,
    groups,
    engine,
    first_prediction_ms: times,
    first_prediction_ms_median: median(times),
    warm_first_prediction_ms: warmTimes,
    warm_first_prediction_ms_median: median(warmTimes),
    warm_transferred_median: median(warmBytes),
    dom_content_loaded_ms_median: median(dcl),
    ready_ms_median: median(ready),
    chromium: version,
    init,
    note: transferredEnc.includes("br") ? "" : `Chromium sent no \`br\` in Accept-Encoding over plain http (it offers brotli on secure origins only), so cmd/demo served ${transferredEnc || "identity"}; the brotli column is what the same files take when served with brotli (cmd/demo serves the .br siblings to clients that accept it).`,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const a = process.argv.slice(2);
  const tool = a.includes("--tool") ? a[a.indexOf("--tool") + 1] : undefined;
  const num = (flag, def) => {
    if (!a.includes(flag)) return def;
    const v = Number(a[a.indexOf(flag) + 1]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} wants a whole number >= 0, got ${a[a.indexOf(flag) + 1]}`);
    return v;
  };
  const loads = num("--loads", 5), initRounds = num("--init-rounds", 5);
  if (!tool || tool.startsWith("--")) throw new Error("usage: node bench/firstload.mjs --tool PATH [--loads 5] [--init-rounds 5] [--write results.json]");
  const r = await measureFirstLoad({ tool, work: path.join(here, "work", "full"), loads, initRounds, log: (...x) => console.error(...x) });
  const i = a.indexOf("--write");
  if (i >= 0) {
    // Replace first_load in a results file and rewrite its RESULTS.md.
    const { readFile, writeFile } = await import("node:fs/promises");
    const { writeReport } = await import("./report.mjs");
    const file = a[i + 1];
    const res = JSON.parse(await readFile(file, "utf8"));
    // A part left out (--loads 0, --init-rounds 0) keeps what the file had.
    const keep = res.first_load || {};
    res.first_load = r.groups ? { ...r, init: r.init || keep.init, measured: new Date().toISOString() }
      : { ...keep, init: r.init, init_measured: new Date().toISOString() };
    await writeFile(file, JSON.stringify(res, null, 1) + "\n");
    await writeReport(res, path.join(path.dirname(file), "RESULTS.md"));
  } else console.log(JSON.stringify(r, (k, v) => (k === "urls" ? undefined : v), 1));
}
