// The bench harness: every engine on every case, each in its own Node
// process and its own Chromium page load, one thread; writes
// bench/results.json and bench/RESULTS.md (with bench/results.png).
//
//   node bench/bench.mjs --tool PATH [--smoke] [--check] [--runtimes node,chromium]
//                        [--engines a,b] [--cases a,b] [--runs N] [--no-firstload] [--out DIR]
//                        [--warm-ms MS] [--paused] [--interleave]
//
// --tool is the bench/tool binary (`make bench` builds it with the SIMD
// toolchain); it prepares the cases and times Octave's native build under
// GOMAXPROCS=1. The PyTorch CPU engine (bench/torchnet.py, one thread) runs
// after it when /usr/bin/python3 imports torch (PYTHON overrides the path);
// --engines without pytorch-cpu skips it. --smoke runs the mini networks
// only, 2 timed runs each, and writes to bench/work/smoke/ instead of the
// committed results. --check exits non-zero when an engine's output differs
// from Octave native by more than 1e-3 of the output's scale (no timing is
// asserted). --interleave runs the wasm engines of a case together in one
// Node process and one Chromium page, one timed run of each in turn
// (bench/lib/engines.js, runInterleaved), so that a machine whose speed
// drifts during the bench slows every engine alike; each result then also
// gives its per-round time over the first engine's (`paired`).
import { spawn } from "node:child_process";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import os from "node:os";
import { ENGINES, EXTRA_ENGINES } from "./lib/engines.js";
import { serve, CHROMIUM_ARGS } from "./lib/server.js";
import { writeReport } from "./report.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const args = process.argv.slice(2);
const flag = (n) => args.includes("--" + n);
const opt = (n, d) => {
  const i = args.indexOf("--" + n);
  return i >= 0 ? args[i + 1] : d;
};
const smoke = flag("smoke");
const tool = opt("tool");
if (!tool) throw new Error("--tool PATH (the bench/tool binary) is required");
const work = path.join(here, "work", smoke ? "smoke" : "full");
const outDir = opt("out", smoke ? work : here);
const runtimes = opt("runtimes", "node,chromium").split(",");
const engines = opt("engines", [...ENGINES, "pytorch-cpu"].join(",")).split(",");
const python = process.env.PYTHON || "/usr/bin/python3";
const only = opt("cases", "").split(",").filter(Boolean);
const runsOverride = opt("runs", "");
const warmMs = opt("warm-ms", "2000");
const TOL = 1e-3;
const interleave = flag("interleave");
const wasmEngines = engines.filter((x) => ENGINES.includes(x) || EXTRA_ENGINES.includes(x));
// The wasm engines' runs: one engine each, or all of them together.
const groups = interleave && wasmEngines.length > 1 ? [wasmEngines] : wasmEngines.map((e) => [e]);
// The results of one run of run-node.mjs or page.html.
const unpack = (r) => r.interleaved ?? [r];

function run(cmd, argv, { env = {}, unset = [], timeout = 30 * 60e3, capture = true } = {}) {
  return new Promise((resolve, reject) => {
    const e = { ...process.env, ...env };
    for (const k of unset) delete e[k];
    const p = spawn(cmd, argv, { cwd: root, env: e, stdio: ["ignore", capture ? "pipe" : "inherit", "pipe"] });
    let out = "", err = "";
    p.stdout?.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    const t = setTimeout(() => p.kill("SIGKILL"), timeout);
    p.on("close", (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${argv.join(" ")} exited ${code}: ${err.split("\n").filter((l) => l && !/tfjs-node|looks like you are running|=====/.test(l)).slice(-8).join("\n")}`));
    });
  });
}

const lastJSON = (s) => JSON.parse(s.trim().split("\n").filter((l) => l.startsWith("{")).pop());
const log = (...a) => console.error("[bench]", ...a);

async function main() {
  await mkdir(work, { recursive: true });
  log("preparing cases in", path.relative(root, work));
  await run(tool, ["prep", "-out", work, ...(smoke ? ["-smoke"] : [])]);
  let cases = JSON.parse(await readFile(path.join(work, "cases.json"), "utf8")).cases;
  if (only.length) cases = cases.filter((c) => only.includes(c.case));
  const results = [];
  const failures = [];
  const record = (r) => {
    results.push(r);
    const bad = !(r.max_abs_diff <= TOL * Math.max(1, r.ref_max_abs ?? 1));
    if (bad) failures.push(`${r.engine} ${r.runtime} ${r.case}: max abs diff ${r.max_abs_diff} (output scale ${r.ref_max_abs})`);
    log(`${r.case.padEnd(15)} ${r.engine.padEnd(19)} ${r.runtime.padEnd(8)} ${r.median_ms.toFixed(2).padStart(9)} ms  diff ${r.max_abs_diff.toExponential(1)}${r.paired ? `  paired over ${r.paired.over} ${r.paired.median.toFixed(3)}` : ""}${bad ? "  MISMATCH" : ""}`);
  };
  const load0 = os.loadavg();
  let chromiumVersion = null;
  let torchVersion = null;
  // The native engines, case by case (Octave, then PyTorch right after it,
  // so that the two see the same load): Octave native writes the reference
  // outputs.
  // One thread for PyTorch: torch.set_num_threads(1) in torchnet.py, and
  // OpenBLAS's own pool held to one thread too. OPENBLAS_CORETYPE /
  // OPENBLAS_L2_SIZE are unset for this command only, so that OpenBLAS
  // picks its kernels and cache blocking from the CPU it runs on.
  const torchEnv = { env: { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1" }, unset: ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] };
  if (engines.includes("pytorch-cpu")) {
    torchVersion = (await run(python, ["-c", "import torch; print(torch.__version__)"], torchEnv).catch(() => "")).trim() || null;
    if (!torchVersion) log(`pytorch-cpu skipped: ${python} cannot import torch (Debian: apt-get install python3-torch libopenblas0-pthread)`);
  }
  for (const c of cases) {
    const r = lastJSON(await run(tool, ["native", "-work", work, "-case", c.case, ...(runsOverride ? ["-runs", runsOverride] : [])], { env: { GOMAXPROCS: "1" } }));
    r.ref_max_abs = 0;
    record(r);
    if (torchVersion) record(lastJSON(await run(python, [path.join(here, "torchnet.py"), work, c.case, runsOverride || String(c.runs), warmMs], torchEnv)));
  }
  if (runtimes.includes("node")) {
    for (const c of cases) {
      for (const g of groups) {
        const out = lastJSON(await run("node", [path.join(here, "run-node.mjs"), g.join(","), c.case, runsOverride || String(c.runs), warmMs], { env: { BENCH_WORK: work } }));
        for (const r of unpack(out)) {
          delete r.info;
          record(r);
        }
      }
    }
  }
  if (runtimes.includes("chromium")) {
    const { chromium } = await import("playwright-core");
    const { server, url } = await serve(root);
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
    chromiumVersion = browser.version();
    const rel = path.relative(path.join(here, "work"), work);
    try {
      for (const c of cases) {
        for (const g of groups) {
          const ctx = await browser.newContext();
          const page = await ctx.newPage();
          await page.goto(`${url}/bench/page.html?engine=${g.join(",")}&case=${c.case}&work=${rel}${runsOverride ? "&runs=" + runsOverride : ""}&warm=${warmMs}`);
          await page.waitForFunction(() => window.__result || window.__error, null, { timeout: 30 * 60e3, polling: 500 });
          const { result, error } = await page.evaluate(() => ({ result: window.__result, error: window.__error }));
          await ctx.close();
          if (error) throw new Error(`chromium ${g.join(",")} ${c.case}: ${error}`);
          for (const r of unpack(result)) {
            delete r.info;
            record(r);
          }
        }
      }
    } finally {
      await browser.close();
      server.close();
    }
  }
  let firstLoad = null;
  if (!smoke && !flag("no-firstload")) {
    const { measureFirstLoad } = await import("./firstload.mjs");
    firstLoad = await measureFirstLoad({ tool, work, log });
  }
  const git = async (...a) => (await run("git", a).catch(() => "")).trim();
  const meta = {
    git_head: await git("rev-parse", "--short", "HEAD"),
    octave_sources_modified: (await git("status", "--porcelain", "--", "octcore", "wasm")).split("\n").filter(Boolean).length,
    date: new Date().toISOString(),
    command: smoke ? "make bench-smoke" : "make bench",
    loadavg_start: load0,
    loadavg_end: os.loadavg(),
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model}`,
    node: process.version,
    chromium: chromiumVersion,
    torch: torchVersion,
    smoke,
    training_paused: flag("paused"),
    interleaved: interleave,
    warmup: `at least 2 runs, then until ${warmMs} ms have passed (at most 1000 runs)`,
    tolerance: `max abs diff <= ${TOL} x max(1, max |reference|)`,
  };
  const out = {
    cases: results.map(({ times_ms, cpu_times_ms, ...r }) => ({ ...r, times_ms: times_ms?.map((t) => +t.toFixed(3)), ...(cpu_times_ms ? { cpu_times_ms: cpu_times_ms.map((t) => +t.toFixed(3)) } : {}) })),
    case_info: cases.map(({ case: name, family, alpha, macs, weights, height, width, runs }) => ({ case: name, family, alpha, macs, weights, height, width, runs })),
    first_load: firstLoad,
    meta,
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, "results.json"), JSON.stringify(out, null, 1) + "\n");
  await run(tool, ["chart", "-in", path.join(outDir, "results.json"), "-out", path.join(outDir, "results.png")]);
  await writeReport(out, path.join(outDir, "RESULTS.md"));
  log("wrote", path.relative(root, path.join(outDir, "results.json")), "and RESULTS.md");
  if (failures.length) {
    console.error("outputs disagree:\n  " + failures.join("\n  "));
    if (flag("check")) process.exit(1);
  }
  if (flag("check")) console.log(`${results.length} passed, 0 failed`);
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
