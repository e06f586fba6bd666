// The relaxed-SIMD patch of octave.wasm in a real browser: headless Chromium
// (Debian's, driven by playwright-core) runs relaxed SIMD, so Octave.init()
// must patch microKernelWasm's eight multiply+add pairs to f32x4.relaxed_madd
// there, in the page thread and in its workers, and relaxed: false must keep
// the plain module. Both modules must compute what native octcore computes
// (the fixtures of web/test/octave.test.js: go run ./wasm/jsfixture), and
// where the engine fuses relaxed_madd (x86-64 with FMA3, arm64) the patched
// module's outputs must differ from the plain module's in the last bits:
// the proof that the patched kernel is the one that ran.
//
//   node --test web/test/page-relaxed.test.mjs      (make test-web)
//
// OCTAVE_CHROMIUM overrides the browser binary.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const executablePath = process.env.OCTAVE_CHROMIUM || "/usr/bin/chromium";

// Wasm against native octcore: the tolerance of web/test/octave.test.js
// (relative to max(1, |x|)); the two differ in the order of float32 sums.
const NATIVE_TOL = 1e-4;
// Relaxed against plain, the same module but for the eight multiply+add
// pairs: a fused multiply-add rounds once where mul then add round twice,
// which moves a sum by at most 2^-24 (6e-8) of a term per step, the same
// kind and size of difference as summing in another order. It grows layer
// by layer, each layer's input already moved by the ones before; measured
// (Chromium 156, AVX2+FMA): 3.6e-7 at the stem, 1.2e-6 after stage 1,
// 2.2e-6 after stage 2, 5.0e-6 at stage3.conv2 (K = 576 terms of magnitude
// up to 20), 1.2e-7 on the probabilities; wasm against native reaches
// 9.5e-6 on the same values. 2e-5 is four times the largest; a wrong
// kernel (a lost term, a wrong accumulator or sign) moves values by a whole
// term, 1e-2 and more.
const RELAXED_TOL = 2e-5;

let server, browser, page, tmp, fx, exp, got;

before(async () => {
  assert.ok(existsSync(executablePath), `${executablePath} is missing: apt-get install -y chromium`);
  assert.ok(existsSync(join(root, "web", "dist", "octave.wasm")), "web/dist/octave.wasm is missing: make wasm");
  tmp = mkdtempSync(join(tmpdir(), "octave-relaxed-"));
  fx = join(tmp, "fixtures");
  mkdirSync(fx);
  execFileSync("go", ["run", "./wasm/jsfixture", "-out", fx], { cwd: root, stdio: "inherit" });
  exp = JSON.parse(readFileSync(join(fx, "expected.json"), "utf8"));
  const bin = join(tmp, "demo");
  execFileSync("go", ["build", "-o", bin, "./cmd/demo"], { cwd: root, stdio: "inherit" });
  // cmd/demo serves web/ (the library and web/dist/) at / and the fixture
  // models at /models/, with the demo page's Content-Security-Policy.
  server = spawn(bin, ["-addr", "127.0.0.1:0", "-quiet", "-web", join(root, "web"), "-models", fx],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const base = await new Promise((resolve, reject) => {
    let buf = "";
    server.stdout.on("data", (d) => {
      buf += d;
      const m = /serving (http:\/\/\S+)/.exec(buf);
      if (m) resolve(m[1].replace(/\/$/, ""));
    });
    server.on("exit", (code) => reject(new Error(`cmd/demo exited with ${code}`)));
  });
  browser = await chromium.launchPersistentContext(join(tmp, "profile"), {
    executablePath, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = browser.pages()[0] || (await browser.newPage());
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  // Any same-origin document will do: the library's own file, which the
  // server sends with the page's CSP (script-src 'self' 'wasm-unsafe-eval').
  const res = await page.goto(base + "/octave.js");
  assert.equal(res.status(), 200);
  const e = exp.mini;
  got = await page.evaluate(runInPage, { file: e.file, input: e.input, layers: e.maps.map((m) => m.layer), configs: CONFIGS });
  assert.deepEqual(problems, []);
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// Runs in the page: feature detection, then, for each configuration, init,
// the mini model's probabilities and every layer's maps of its odd-sized
// input, the instance's flags.
const CONFIGS = {
  relaxed: { worker: false }, // the defaults but for the page thread
  relaxedPool: { workers: 2 }, // module workers
  plain: { worker: false, relaxed: false },
  plainWorker: { relaxed: false },
};
async function runInPage({ file, input, layers, configs }) {
  const { Octave, relaxedSupported, relaxedTable } = await import("/octave.js");
  const bytes = new Uint8Array(await (await fetch("/dist/octave.wasm")).arrayBuffer());
  // relaxed_madd(a, a, c) with a = 1 + 2^-12, c = -(1 + 2^-11): a*a =
  // 1 + 2^-11 + 2^-24 is a tie in float32, which rounds to 1 + 2^-11, so an
  // unfused multiply then add gives 0 and a fused one 2^-24.
  const f32 = (x) => [...new Uint8Array(Float32Array.of(x).buffer)];
  const a = 1 + 2 ** -12, c = -(1 + 2 ** -11);
  const body = [0x00, 0x43, ...f32(a), 0xfd, 0x13, 0x43, ...f32(a), 0xfd, 0x13, 0x43, ...f32(c), 0xfd, 0x13,
    0xfd, 0x85, 0x02, 0xfd, 0x1f, 0x00, 0x0b]; // splats, relaxed_madd, extract_lane 0
  const probe = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7d, // type () -> f32
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f"
    0x0a, body.length + 2, 0x01, body.length, ...body]);
  let fused = null;
  try {
    fused = (await WebAssembly.instantiate(probe)).instance.exports.f();
  } catch { /* no relaxed SIMD: the first test says so */ }
  const out = { supported: relaxedSupported(), table: relaxedTable(bytes)?.length ?? null, fused, runs: {} };
  const t = () => ({ data: Float32Array.from(input.data), channels: input.channels, height: input.height, width: input.width });
  for (const [name, opts] of Object.entries(configs)) {
    const octave = await Octave.init(opts);
    try {
      const model = await octave.load("/models/" + file);
      const r = await model.classify(t(), { topK: 0 });
      const maps = await model.featureMaps(t(), { layers });
      out.runs[name] = {
        relaxed: octave.relaxed, simd: octave.simd, workers: octave.workers,
        probabilities: Array.from(r.probabilities),
        maps: maps.map((m) => ({ layer: m.layer, high: m.high && Array.from(m.high.data), low: m.low && Array.from(m.low.data) })),
      };
    } finally {
      octave.terminate();
    }
  }
  return out;
}

test("Octave.init() patches the micro kernel to relaxed SIMD in Chromium; relaxed: false does not", () => {
  assert.equal(got.supported, true, "Chromium runs relaxed SIMD (relaxedSupported)");
  assert.equal(got.table, 8, "octave.wasm lists microKernelWasm's eight multiply+add pairs");
  for (const [name, opts] of Object.entries(CONFIGS)) {
    const r = got.runs[name];
    assert.equal(r.simd, true, `${JSON.stringify(opts)}: simd`);
    assert.equal(r.relaxed, opts.relaxed !== false, `${JSON.stringify(opts)}: relaxed`);
    assert.equal(r.workers, opts.workers ?? 1, `${JSON.stringify(opts)}: workers`);
  }
});

function close(got, want, tol, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(d <= tol)) assert.fail(`${what}[${i}] = ${got[i]}, want ${want[i]} (relative diff ${d} > ${tol})`);
    worst = Math.max(worst, d);
  }
  return worst;
}

// Every value of a run, as [what, values] in one order.
const flat = (r) => [["probabilities", r.probabilities], ...r.maps.flatMap((m) =>
  [["high", m.high], ["low", m.low]].filter(([, d]) => d).map(([p, d]) => [`${m.layer} ${p}`, d]))];

test("relaxed and plain modules agree with native octcore and with each other, and differ where FMA fuses", () => {
  const e = exp.mini;
  const { runs } = got;
  const want = flat({ probabilities: e.inputProbabilities, maps: e.maps.map((m) => ({ layer: m.layer, high: m.high?.data, low: m.low?.data })) });
  const rel = flat(runs.relaxed), pl = flat(runs.plain);
  assert.deepEqual(rel.map(([w]) => w), want.map(([w]) => w), "the same layers and branches as native");
  let worstRelaxed = 0, worstNative = 0, differ = 0, values = 0;
  for (const [name, r] of Object.entries(runs)) {
    flat(r).forEach(([w, d], i) => { worstNative = Math.max(worstNative, close(d, want[i][1], NATIVE_TOL, `${name} vs native: ${w}`)); });
  }
  rel.forEach(([w, d], i) => {
    worstRelaxed = Math.max(worstRelaxed, close(d, pl[i][1], RELAXED_TOL, `relaxed vs plain: ${w}`));
    for (let j = 0; j < d.length; j++) if (d[j] !== pl[i][1][j]) differ++;
    values += d.length;
  });
  // The same module in a worker and in the page thread: bit for bit the
  // same, so a difference between relaxed and plain is the patch's.
  assert.deepEqual(flat(runs.relaxedPool), rel, "relaxed: the worker pool and the page thread agree exactly");
  assert.deepEqual(flat(runs.plainWorker), pl, "plain: the worker and the page thread agree exactly");
  const fused = got.fused === 2 ** -24;
  console.log(`# relaxed_madd fused: ${fused}; ${differ} of ${values} values differ between relaxed and plain; ` +
    `largest relative difference relaxed vs plain ${worstRelaxed.toExponential(2)}, wasm vs native ${worstNative.toExponential(2)}`);
  if (fused) {
    assert.ok(differ > 0, "relaxed_madd fuses here, yet the patched module computed exactly what the plain one did: the patched kernel did not run");
  } else {
    assert.equal(got.fused, 0, "relaxed_madd(1+2^-12, 1+2^-12, -(1+2^-11)) is 0 (unfused) or 2^-24 (fused)");
    assert.equal(differ, 0, "without fusion relaxed_madd rounds like mul then add");
  }
});
