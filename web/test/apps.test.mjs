// The npm package in real apps (issue 13): the packed tarball installed into
// fixture apps (web/test/apps/, pinned in their package-lock.json) and built
// offline with Vite (no config: dev server and production build), webpack 5
// and esbuild (with the asset copy docs/API.md gives), imported by a plain
// page from a second origin, and run from Node ESM. Each loads
// Octave.models.fashion with the default worker, classifies a gallery image
// and shuts down as README does; the page must log no console error, page
// error or unhandled rejection. Also: the TypeScript checks (tsc --strict
// with and without the DOM lib) and the error messages of a misconfigured
// app.
//
//   make test-apps     (installs web/test/apps/node_modules with npm ci)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, extname, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const apps = join(root, "web", "test", "apps");
const gallery = join(root, "web", "gallery");
const executablePath = process.env.OCTAVE_CHROMIUM || "/usr/bin/chromium";
const K = 0; // the gallery image the apps classify
const galleryIndex = JSON.parse(readFileSync(join(gallery, "fashion-mnist.json"), "utf8"));

let work, pkgDir, tarball, packInfo, browser;
const servers = [];

before(async () => {
  for (const f of ["octave.wasm", "wasm_exec.js", "fashion-oct-a500.safetensors"]) {
    assert.ok(existsSync(join(root, "web", "dist", f)), `web/dist/${f} is missing: make wasm`);
  }
  assert.ok(existsSync(join(apps, "node_modules", "vite")), "web/test/apps/node_modules is missing: make test-apps runs npm ci there");
  work = mkdtempSync(join(tmpdir(), "octave-apps-"));
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: root, encoding: "utf8" });
  [packInfo] = JSON.parse(out);
  tarball = join(work, packInfo.filename);
  // The fixture apps' node_modules, with the tarball installed, seen from
  // the work directory.
  execFileSync("npm", ["install", "--no-save", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], { cwd: apps, stdio: "pipe" });
  pkgDir = join(apps, "node_modules", "octave-wasm");
  symlinkSync(join(apps, "node_modules"), join(work, "node_modules"));
  for (const d of ["vite", "webpack", "esbuild", "cdn", "node", "types"]) cpSync(join(apps, d), join(work, d), { recursive: true });
  cpSync(join(apps, "common.js"), join(work, "common.js"));
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the tarball holds what the library loads", () => {
  const names = packInfo.files.map((f) => f.path).sort();
  for (const f of ["LICENSE", "CHANGELOG.md", "README.md", "web/octave.js", "web/octave-node.js", "web/octave-worker.js",
    "web/octave-worker-node.js", "web/octave-backend.js", "web/octave.d.ts", "web/dist/octave.wasm",
    "web/dist/wasm_exec.js", "web/dist/fashion-oct-a500.safetensors", "web/dist/mnist-oct-a500.safetensors"]) {
    assert.ok(names.includes(f), `the package lacks ${f}`);
  }
  assert.deepEqual(names.filter((f) => /\.(br|gz)$/.test(f)), [], "compressed copies the loader never reads");
  // The SIMD128 build only (every current engine runs it; without SIMD the
  // host passes wasmURL: the scalar build), which keeps the package small.
  assert.deepEqual(names.filter((f) => f.endsWith(".wasm")), ["web/dist/octave.wasm"]);
  const packed = statSync(tarball).size;
  assert.equal(packed, packInfo.size, "npm pack's reported size is the tarball's");
  assert.ok(packed <= 1_800_000, `the packed tarball is ${packed} bytes, over 1.8 MB`);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  assert.equal(pkg.license, "MIT");
  assert.match(pkg.repository.url, /octave/);
  const src = readFileSync(join(root, "web", "octave.js"), "utf8");
  assert.equal(/export const version = "([^"]+)"/.exec(src)?.[1], pkg.version, "octave.js's version is package.json's");
  assert.match(readFileSync(join(root, "CHANGELOG.md"), "utf8"), new RegExp(`## ${pkg.version.replace(/\./g, "\\.")}`));
});

// ---- serving ----

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
  ".wasm": "application/wasm", ".png": "image/png", ".safetensors": "application/octet-stream", ".css": "text/css" };

/**
 * Serves dir on a free loopback port. Unknown paths answer index.html (as
 * an app server with client-side routing does) when spa is set, else 404.
 */
async function serve(dir, { cors = false, spa = false } = {}) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    let file = normalize(join(dir, path));
    if (!file.startsWith(dir + sep) && file !== dir) return res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    const headers = cors ? { "Access-Control-Allow-Origin": "*" } : {};
    if (!existsSync(file)) {
      if (!spa) return res.writeHead(404, headers).end("not found");
      file = join(dir, "index.html");
    }
    res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] || "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

function addGallery(dir) {
  mkdirSync(join(dir, "gallery"), { recursive: true });
  for (const f of ["fashion-mnist.json", "fashion-mnist.png"]) cpSync(join(gallery, f), join(dir, "gallery", f));
}

/** Opens url, waits for the app's report and checks it. Returns the page. */
async function runApp(url, what, { keep = false, wasm = "octave.wasm" } = {}) {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()} (${m.location().url})`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on("worker", (w) => w.on("console", (m) => { if (m.type() === "error") problems.push(`worker console: ${m.text()}`); }));
  await page.goto(url);
  try {
    await page.waitForFunction(() => document.body && document.body.dataset.done === "1", null, { timeout: 60_000 });
  } catch (e) {
    throw new Error(`${what}: the app did not finish (${problems.join("; ") || "no console error"})`);
  }
  const r = await page.evaluate(() => window.__result);
  assert.equal(r.error, undefined, `${what}: ${r.error}`);
  assert.equal(r.label, galleryIndex.labels[K]);
  assert.equal(r.top[0].index, r.label, `${what}: classified as ${r.top[0].label}, the image is ${galleryIndex.classes[r.label]}`);
  assert.equal(r.top[0].label, galleryIndex.classes[r.label]);
  assert.ok(r.top[0].probability > 0.5, `${what}: p = ${r.top[0].probability}`);
  assert.equal(r.simd, wasm === "octave.wasm");
  assert.equal(r.version, JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
  assert.ok(r.progress && r.progress.loaded === statSync(join(root, "web", "dist", "fashion-oct-a500.safetensors")).size,
    `${what}: onProgress ended at ${JSON.stringify(r.progress)}`);
  const wasmSize = statSync(join(root, "web", "dist", wasm)).size;
  assert.ok(r.wasmProgress && r.wasmProgress.loaded === wasmSize && [null, wasmSize].includes(r.wasmProgress.total) && r.wasmProgressCalls > 1,
    `${what}: Octave.init's onProgress ended at ${JSON.stringify(r.wasmProgress)} after ${r.wasmProgressCalls} calls (${wasm}: ${wasmSize} bytes)`);
  assert.deepEqual(r.rejections, [], `${what}: unhandled rejections`);
  assert.deepEqual(problems, [], `${what}: console errors`);
  if (!keep) await page.close();
  return { page, result: r, problems };
}

// ---- the apps ----

test("Vite, no config: production build", async () => {
  const { build } = await import(join(apps, "node_modules", "vite", "dist", "node", "index.js"));
  const dir = join(work, "vite");
  const warnings = [];
  const logger = { info() {}, warn: (m) => warnings.push(m), warnOnce: (m) => warnings.push(m), error: (m) => warnings.push(m),
    clearScreen() {}, hasErrorLogged: () => false, hasWarned: false };
  await build({ root: dir, configFile: false, logLevel: "warn", customLogger: logger, build: { outDir: join(dir, "dist") } });
  assert.deepEqual(warnings.filter((w) => !/chunk.*larger/i.test(w)), [], "vite build warnings");
  const assets = readdirSync(join(dir, "dist", "assets"));
  for (const re of [/^octave-worker-[\w-]+\.js$/, /^octave-[\w-]+\.wasm$/, /^wasm_exec-[\w-]+\.js$/, /^fashion-oct-a500-[\w-]+\.safetensors$/]) {
    assert.ok(assets.some((f) => re.test(f)), `vite emitted no ${re}: ${assets.join(", ")}`);
  }
  assert.equal(assets.filter((f) => f.endsWith(".wasm")).length, 1, `vite emitted ${assets.join(", ")}`);
  addGallery(join(dir, "dist"));
  await runApp(await serve(join(dir, "dist"), { spa: true }), "vite build");
});

test("Vite, no config: dev server; errors that point at the cause", async () => {
  const { createServer: viteServer } = await import(join(apps, "node_modules", "vite", "dist", "node", "index.js"));
  const dir = join(work, "vite");
  addGallery(join(dir, "public"));
  const server = await viteServer({ root: dir, configFile: false, logLevel: "error", server: { host: "127.0.0.1", port: 0, strictPort: false } });
  await server.listen();
  try {
    const url = server.resolvedUrls.local[0];
    const { page } = await runApp(url, "vite dev", { keep: true });
    // Vite answers unknown paths with index.html (HTTP 200): each mistake
    // must name the URL and what came back.
    const msgs = await page.evaluate(async () => {
      const { Octave } = window.__octave;
      const out = {};
      const grab = async (k, f) => { try { await f(); out[k] = "resolved"; } catch (e) { out[k] = `${e.name}: ${e.message}`; } };
      await grab("wasm", () => Octave.init({ wasmURL: "/no-such-dir/" }));
      await grab("worker", () => Octave.init({ workerURL: "/no-such-worker.js" }));
      const octave = await Octave.init();
      await grab("model", () => octave.load("/no-such-model.safetensors"));
      await grab("modelURL", () => octave.load(new URL("/no-such-model.safetensors", location.href)));
      octave.terminate();
      await grab("after", () => octave.load(Octave.models.fashion));
      return out;
    });
    assert.match(msgs.wasm, /^OctaveError: Octave\.init: GET http:\/\/127\.0\.0\.1:\d+\/no-such-dir\/octave\.wasm: got text\/html \(HTTP 200\), expected application\/wasm: check wasmURL$/);
    assert.match(msgs.worker, /^OctaveError: Octave: the worker http:\/\/127\.0\.0\.1:\d+\/no-such-worker\.js did not start: .*(text\/html|HTTP 404)/);
    assert.doesNotMatch(msgs.worker, /object Event/);
    for (const k of ["model", "modelURL"]) {
      assert.match(msgs[k], /^OctaveError: Octave\.load: GET http:\/\/127\.0\.0\.1:\d+\/no-such-model\.safetensors: got text\/html \(HTTP 200\), expected a \.safetensors model file: check the model URL$/);
    }
    assert.match(msgs.after, /^TerminatedError: Octave\.load: the instance was terminated/);
    await page.close();
  } finally {
    await server.close();
  }
});

test("webpack 5", async () => {
  const webpack = (await import(join(apps, "node_modules", "webpack", "lib", "index.js"))).default;
  const dir = join(work, "webpack");
  const stats = await new Promise((resolve, reject) => webpack({
    mode: "production", context: dir, entry: "./main.js", devtool: false,
    output: { path: join(dir, "dist"), filename: "main.js", publicPath: "auto", clean: true },
    performance: { hints: false },
  }, (err, s) => (err ? reject(err) : resolve(s))));
  const json = stats.toJson({ all: false, errors: true, warnings: true, assets: true });
  assert.deepEqual(json.errors.map((e) => e.message), [], "webpack errors");
  assert.deepEqual(json.warnings.map((e) => e.message), [], "webpack warnings");
  const names = json.assets.map((a) => a.name);
  assert.ok(names.filter((n) => n.endsWith(".wasm")).length === 1, `webpack emitted ${names.join(", ")}`);
  cpSync(join(dir, "index.html"), join(dir, "dist", "index.html"));
  addGallery(join(dir, "dist"));
  await runApp(await serve(join(dir, "dist")), "webpack");
});

// The ```sh block after "**esbuild**" in docs/API.md.
function docsEsbuild() {
  const doc = readFileSync(join(root, "docs", "API.md"), "utf8");
  const m = /\*\*esbuild\*\*[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc);
  assert.ok(m, "docs/API.md has no esbuild recipe");
  return m[1];
}

test("esbuild, the commands of docs/API.md", async () => {
  const dir = join(work, "esbuild");
  const out = join(dir, "out");
  symlinkSync(join(apps, "node_modules"), join(dir, "node_modules"));
  const script = docsEsbuild();
  assert.match(script, /--bundle/);
  const r = spawnSync("sh", ["-ec", script], { cwd: dir, encoding: "utf8", env: { ...process.env, npm_config_offline: "true" } });
  assert.equal(r.status, 0, `${script}\n${r.stdout}${r.stderr}`);
  assert.doesNotMatch(readFileSync(join(out, "main.js"), "utf8"), /(\bfrom|\bimport|\brequire)\s*\(?\s*["']node:/, "the browser bundle imports a node: module");
  cpSync(join(dir, "index.html"), join(out, "index.html"));
  addGallery(out);
  await runApp(await serve(out), "esbuild");
});

test("a plain page importing the package from another origin", async () => {
  const pkgURL = await serve(pkgDir, { cors: true });
  const dir = join(work, "cdn");
  cpSync(join(work, "common.js"), join(dir, "common.js"));
  writeFileSync(join(dir, "index.html"), readFileSync(join(dir, "index.html"), "utf8").replaceAll("PACKAGE/", pkgURL + "/"));
  addGallery(dir);
  const pageURL = await serve(dir);
  assert.notEqual(new URL(pageURL).origin, new URL(pkgURL).origin);
  const { result } = await runApp(pageURL, "another origin");
  assert.equal(new URL(result.modelURL).origin, new URL(pkgURL).origin, "the model came from the package's origin");
});

// Chromium as an engine without SIMD128, emulated: WebAssembly.validate
// refuses the library's probe (a v128.const module) and octave.wasm (by
// size: the scalar build's differs). The package alone rejects Octave.init
// with a SimdUnsupportedError; the app that serves the scalar build from
// web/dist and passes its URL as wasmURL runs it.
test("without SIMD128: SimdUnsupportedError, then the scalar build through wasmURL", async () => {
  const dir = join(work, "nosimd");
  mkdirSync(join(dir, "scalar"), { recursive: true });
  for (const f of ["octave-nosimd.wasm", "wasm_exec.js"]) cpSync(join(root, "web", "dist", f), join(dir, "scalar", f));
  cpSync(pkgDir, join(dir, "octave-wasm"), { recursive: true });
  cpSync(join(work, "common.js"), join(dir, "common.js"));
  addGallery(dir);
  const simdSize = statSync(join(root, "web", "dist", "octave.wasm")).size;
  assert.notEqual(simdSize, statSync(join(root, "web", "dist", "octave-nosimd.wasm")).size);
  writeFileSync(join(dir, "index.html"), `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>no SIMD128</title></head>
<body><script type="module">
  const probe = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
    0x03, 0x02, 0x01, 0x00, 0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array(16).fill(0), 0x0b];
  const real = WebAssembly.validate;
  window.__refused = 0;
  WebAssembly.validate = (b) => {
    const u = new Uint8Array(b.buffer ?? b, b.byteOffset ?? 0, b.byteLength);
    if (u.length === ${simdSize} || (u.length === probe.length && u.every((x, i) => x === probe[i]))) {
      window.__refused++;
      return false;
    }
    return real.call(WebAssembly, b);
  };
  const lib = await import("./octave-wasm/web/octave.js");
  const out = { detected: lib.simdSupported() };
  try {
    await lib.Octave.init();
    out.error = null;
  } catch (e) {
    out.error = { name: e.name, message: e.message, typed: e instanceof lib.SimdUnsupportedError && e instanceof lib.OctaveError };
  }
  window.__noSimd = out;
  const { run } = await import("./common.js");
  run(lib, ${K}, { wasmURL: "scalar/octave-nosimd.wasm" });
</script></body></html>
`);
  const { page } = await runApp(await serve(dir), "no SIMD128", { keep: true, wasm: "octave-nosimd.wasm" });
  const out = await page.evaluate(() => window.__noSimd);
  assert.equal(out.detected, false);
  assert.ok(out.error, "Octave.init() resolved without SIMD128");
  assert.equal(out.error.name, "SimdUnsupportedError");
  assert.equal(out.error.typed, true);
  assert.match(out.error.message, /^Octave\.init: this engine lacks WebAssembly SIMD128 and the package ships only the SIMD128 build \(dist\/octave\.wasm\): pass wasmURL: the URL of the scalar build octave-nosimd\.wasm/);
  assert.ok(await page.evaluate(() => window.__refused) >= 2);
  await page.close();
});

test("Node ESM", () => {
  const dir = join(work, "node");
  const r = spawnSync("node", ["main.mjs", gallery, String(K)], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.stderr, "", "stderr");
  assert.equal(r.status, 0, `exit status ${r.status}`);
  const out = JSON.parse(r.stdout);
  assert.equal(out.top[0].index, galleryIndex.labels[K]);
  assert.ok(out.modelURL.startsWith("file:") && out.modelURL.includes("node_modules/octave-wasm/"), out.modelURL);
  const size = statSync(join(root, "web", "dist", "octave.wasm")).size;
  assert.deepEqual(out.wasmProgress, { loaded: size, total: size });
});

// README's snippet, verbatim, after npm install: in Node, canvas is an
// ImageData-shaped gallery image.
test("README's JavaScript snippet runs verbatim in Node", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const m = /## The JavaScript library\n\n```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, "README has no JavaScript snippet");
  const dir = join(work, "node");
  writeFileSync(join(dir, "readme.mjs"), `import { galleryImage } from "./gallery.mjs";\n` +
    `const canvas = galleryImage(${JSON.stringify(gallery)}, ${K});\n${m[1]}`);
  const r = spawnSync("node", ["readme.mjs"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.stderr, "", "stderr");
  assert.equal(r.status, 0, `exit status ${r.status}`);
  // console.log(r.top, r.ms): the best label is printed first.
  const first = /label: '([^']+)'/.exec(r.stdout);
  assert.equal(first?.[1], galleryIndex.classes[galleryIndex.labels[K]], r.stdout);
});

test("types: tsc --strict with and without the DOM lib; a wrong call fails", () => {
  const tsc = join(apps, "node_modules", "typescript", "bin", "tsc");
  const dir = join(work, "types");
  for (const cfg of ["tsconfig.dom.json", "tsconfig.nodom.json"]) {
    const r = spawnSync("node", [tsc, "-p", cfg], { cwd: dir, encoding: "utf8" });
    assert.equal(r.status, 0, `tsc -p ${cfg}:\n${r.stdout}${r.stderr}`);
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, cfg), "utf8")), files: ["bad.ts"] }));
    const bad = spawnSync("node", [tsc, "-p", "bad.json"], { cwd: dir, encoding: "utf8" });
    assert.notEqual(bad.status, 0, `bad.ts compiled with ${cfg}`);
    assert.match(bad.stdout, /bad\.ts\(3,.*'string' is not assignable to type 'number'/);
    assert.match(bad.stdout, /bad\.ts\(5,.*'number' is not assignable to parameter of type 'Source'/);
  }
});
