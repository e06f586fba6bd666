// Browser tests of the demo page: playwright-core drives Debian's chromium
// (headless) against the page served by cmd/demo on a free port.
//
//   node --test web/test/page.test.mjs      (make test-web)
//
// OCTAVE_CHROMIUM overrides the browser binary; OCTAVE_DEMO_WEB and
// OCTAVE_DEMO_MODELS the served directories. Screenshots go to test-output/;
// OCTAVE_SCREENSHOT=1 also rewrites docs/screenshot.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = join(root, "test-output");
const executablePath = process.env.OCTAVE_CHROMIUM || "/usr/bin/chromium";
const modelsDir = process.env.OCTAVE_DEMO_MODELS || join(root, "models", "weights");
// The page needs the shipped models (make models trains them). Until the
// default one exists the browser tests are skipped, saying why.
const have = (f) => existsSync(join(modelsDir, f));
const noModels = have("fashion-oct-a500.safetensors") ? false
  : `${join(modelsDir, "fashion-oct-a500.safetensors")} is missing (make models)`;
const otherModel = ["fashion-oct-a250", "fashion-oct-a125", "fashion-oct-a750", "fashion-oct-a000"]
  .find((f) => have(f + ".safetensors"));

let server, browser, page, base, tmp, pageResponse; // browser is a persistent context
const problems = []; // console errors and page errors

before(async () => {
  if (noModels) return;
  assert.ok(existsSync(executablePath), `${executablePath} is missing: apt-get install -y chromium`);
  mkdirSync(out, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), "octave-web-"));
  const bin = join(tmp, "demo");
  execFileSync("go", ["build", "-o", bin, "./cmd/demo"], { cwd: root, stdio: "inherit" });
  server = spawn(bin, ["-addr", "127.0.0.1:0", "-quiet",
    "-web", process.env.OCTAVE_DEMO_WEB || join(root, "web"),
    "-models", modelsDir], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  base = await new Promise((resolve, reject) => {
    let buf = "";
    server.stdout.on("data", (d) => {
      buf += d;
      const m = /serving (http:\/\/\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`cmd/demo exited with ${code}`)));
  });
  // A fresh profile (--user-data-dir) per run, passed the way Playwright wants it.
  browser = await chromium.launchPersistentContext(join(tmp, "profile"), {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = browser.pages()[0] || (await browser.newPage());
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  // The page's CSP violations (also those the console does not show).
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`));
  });
  pageResponse = await page.goto(base);
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const runs = () => page.evaluate(() => +(document.body.dataset.runs || 0));
async function nextRun(before) {
  await page.waitForFunction((n) => +(document.body.dataset.runs || 0) > n, before, { timeout: 60_000 });
}

/** Facts about the canvases of one branch grid: sizes and how many differ from blank. */
function grid(branch) {
  return page.evaluate((id) => {
    const cs = [...document.querySelectorAll(`#${id} canvas`)];
    return cs.map((c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      const colors = new Set();
      let opaque = true;
      for (let i = 0; i < d.length; i += 4) {
        colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        if (d[i + 3] !== 255) opaque = false;
      }
      const r = c.getBoundingClientRect();
      return { w: c.width, h: c.height, colors: colors.size, opaque, cssW: r.width };
    });
  }, branch === "high" ? "hi-grid" : "lo-grid");
}

function layerInfo(name) {
  return page.evaluate((n) => window.__octaveDemo.model.info.layers.find((l) => l.name === n), name);
}

function assertPainted(cs, c, h, w, what) {
  assert.equal(cs.length, c, `${what}: ${c} maps expected, got ${cs.length}`);
  for (const m of cs) {
    assert.deepEqual([m.w, m.h], [w, h], `${what}: map of ${m.w}x${m.h}, want ${w}x${h}`);
    assert.ok(m.opaque, `${what}: a map is not painted`);
  }
  const varied = cs.filter((m) => m.colors > 1).length;
  assert.ok(varied >= Math.ceil(c / 2), `${what}: only ${varied} of ${c} maps show any structure`);
}

test("the default model loads and classifies a known test image correctly", { skip: noModels }, async () => {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
  await page.screenshot({ path: join(out, "desktop.png"), fullPage: true });
  const model = await page.evaluate(() => window.__octaveDemo.entry.id);
  assert.equal(model, "fashion-a05");
  const caption = await page.textContent("#input-caption");
  assert.match(caption, /Fashion-MNIST test #0 · Ankle boot/);
  const top = await page.getAttribute("#top li:first-child", "data-index");
  assert.equal(top, "9", "test image #0 is an ankle boot (class 9)");
  assert.match(await page.textContent("#prediction"), /✓ correct/);
  if (process.env.OCTAVE_SCREENSHOT) {
    // OCTAVE_SCREENSHOT=1 make test-web refreshes the README's screenshot:
    // the header, the input and the maps of the default layer, 1200 px wide.
    await page.setViewportSize({ width: 1200, height: 1000 });
    await page.waitForTimeout(300);
    const bottom = await page.evaluate(() => document.getElementById("maps").getBoundingClientRect().bottom + scrollY);
    await page.screenshot({ path: join(root, "docs", "screenshot.png"), fullPage: true, clip: { x: 0, y: 0, width: 1200, height: bottom + 20 } });
    await page.setViewportSize({ width: 1280, height: 900 });
  }
});

test("H and L canvases of a layer are non-blank and have the expected pixel sizes", { skip: noModels }, async () => {
  const name = await page.evaluate(() => window.__octaveDemo.layer);
  const l = await layerInfo(name);
  assert.ok(l.low, `the default layer ${name} has a low branch`);
  const hi = await grid("high"), lo = await grid("low");
  assertPainted(hi, l.high[0], l.high[1], l.high[2], `${name} high`);
  assertPainted(lo, l.low[0], l.low[1], l.low[2], `${name} low`);
  // Same display scale: a low pixel is drawn twice as large as a high one.
  const ratio = (lo[0].cssW / lo[0].w) / (hi[0].cssW / hi[0].w);
  assert.ok(Math.abs(ratio - 2) < 0.05, `low pixels drawn ${ratio.toFixed(2)}x the size of high pixels, want 2x`);
  const shares = await page.locator(".share strong").allTextContents();
  assert.equal(shares.length, 2, "energy shares of H and L are shown");
});

test("switching layer and model updates the maps", { skip: noModels }, async () => {
  const layers = await page.evaluate(() => window.__octaveDemo.model.info.layers.filter((l) => l.low && l.high && l.high[1] < 28).map((l) => l.name));
  assert.ok(layers.length > 0, "a downsampled layer with two branches exists");
  const name = layers[0];
  await page.click(`#layers [data-layer="${name}"]`);
  const l = await layerInfo(name);
  assertPainted(await grid("high"), l.high[0], l.high[1], l.high[2], `${name} high`);
  assertPainted(await grid("low"), l.low[0], l.low[1], l.low[2], `${name} low`);
  assert.equal(await page.getAttribute(`#layers [data-layer="${name}"]`, "aria-checked"), "true");

  if (otherModel) {
    const alpha = +otherModel.slice(-3) / 1000;
    const n = await runs();
    await page.selectOption("#model-select", { label: alpha === 0 ? "Fashion-MNIST · α = 0 (vanilla)" : `Fashion-MNIST · α = ${alpha}` });
    await nextRun(n);
    const info = await page.evaluate(() => window.__octaveDemo.model.info);
    assert.equal(info.alpha, alpha);
    const l2 = info.layers.find((x) => x.name === name);
    const cH = l2.high[0], cL = l2.low ? l2.low[0] : 0;
    assert.equal(cL, Math.floor(alpha * (cH + cL)), "the low channels are floor(alpha c)");
    assertPainted(await grid("high"), cH, l2.high[1], l2.high[2], `${name} high at alpha ${alpha}`);
    if (cL) assertPainted(await grid("low"), cL, l2.low[1], l2.low[2], `${name} low at alpha ${alpha}`);
    else assert.equal(await page.locator("#lo-grid canvas").count(), 0);
  }

  // The keyboard moves through the layers too.
  await page.focus(`#layers [data-layer="${name}"]`);
  await page.keyboard.press("ArrowLeft");
  assert.notEqual(await page.evaluate(() => window.__octaveDemo.layer), name);
  await page.selectOption("#model-select", "fashion-a05");
  await page.waitForFunction(() => window.__octaveDemo.model.info.alpha === 0.5);
});

async function photoPNG(w, h) {
  const url = await page.evaluate(([w, h]) => {
    const c = document.createElement("canvas");
    c.width = w; c.height = h;
    const g = c.getContext("2d");
    const grad = g.createLinearGradient(0, 0, w, h);
    grad.addColorStop(0, "#87a8d0"); grad.addColorStop(1, "#f3e1b6");
    g.fillStyle = grad; g.fillRect(0, 0, w, h);
    for (let i = 0; i < 14; i++) {
      g.fillStyle = `hsl(${i * 47}, 60%, ${30 + (i % 4) * 12}%)`;
      g.beginPath(); g.arc((i * 97) % w, (i * 53) % h, 10 + (i % 5) * 9, 0, 7); g.fill();
    }
    for (let x = 0; x < w; x += 6) { g.fillStyle = "rgba(0,0,0,.35)"; g.fillRect(x, h * 0.7, 2, h * 0.3); }
    return c.toDataURL("image/png");
  }, [w, h]);
  return Buffer.from(url.split(",")[1], "base64");
}

test("an uploaded photo renders maps at its own resolution", { skip: noModels }, async () => {
  await page.click("#tab-photo");
  await page.uncheck("#photo-fit"); // own resolution, maps only
  const n = await runs();
  await page.setInputFiles("#file", { name: "street.png", mimeType: "image/png", buffer: await photoPNG(400, 250) });
  await nextRun(n);
  assert.match(await page.textContent("#input-caption"), /256×160/);
  assert.match(await page.textContent("#prediction"), /Classification applies to 28×28/);
  const name = await page.evaluate(() => window.__octaveDemo.layer);
  const l = await layerInfo(name);
  const hi = await grid("high"), lo = await grid("low");
  // The layer keeps its stride: its output is the photo size divided like the 28x28 one.
  const sH = 28 / l.high[1];
  assertPainted(hi, l.high[0], Math.ceil(160 / sH), Math.ceil(256 / sH), "photo high");
  assertPainted(lo, l.low[0], Math.ceil(160 / sH / 2), Math.ceil(256 / sH / 2), "photo low");
  await page.screenshot({ path: join(out, "photo.png"), fullPage: true });
});

// WebAssembly memory cannot shrink: the library restarts the engine's wasm
// instance after a large input (Octave.init's recycleMemoryAbove), in the
// page's Web Worker, and the page goes on with the same model.
test("a 3000x3000 photo: the engine restarts, its memory returns, the page keeps its model", { skip: noModels }, async () => {
  await page.click("#tab-gallery");
  let n = await runs();
  await page.click("#g-fashion-mnist-1");
  await nextRun(n);
  const top = await page.textContent("#top");
  const before = await page.evaluate(async () => ({ ...(await window.__octaveDemo.octave.stats()), models: window.__octaveDemo.octave._models.size }));
  await page.click("#tab-photo");
  await page.uncheck("#photo-fit");
  n = await runs();
  await page.setInputFiles("#file", { name: "big.png", mimeType: "image/png", buffer: await photoPNG(3000, 3000) });
  await nextRun(n);
  assert.match(await page.textContent("#input-caption"), /256×256/);
  const after = await page.evaluate(() => window.__octaveDemo.octave.stats());
  const mib = (b) => (b / 1048576).toFixed(1);
  console.log(`# 3000x3000 photo in Chromium: wasm memory ${mib(before.memoryBytes)} MiB before, peak ${mib(after.peakMemoryBytes)}, ` +
    `${mib(after.memoryBytes)} after the restart (${after.restartMs.toFixed(1)} ms, ${before.models} models reloaded)`);
  assert.equal(after.restarts, before.restarts + 1, `restarts ${before.restarts} -> ${after.restarts}`);
  assert.ok(after.peakMemoryBytes > before.memoryBytes + 32 * 1024 * 1024, `the photo grew the memory: peak ${after.peakMemoryBytes}, before ${before.memoryBytes}`);
  assert.ok(after.memoryBytes <= 1.5 * before.memoryBytes, `memory ${before.memoryBytes} before, ${after.memoryBytes} after the restart`);
  await page.click("#tab-gallery");
  n = await runs();
  await page.click("#g-fashion-mnist-2");
  await nextRun(n);
  n = await runs();
  await page.click("#g-fashion-mnist-1");
  await nextRun(n);
  assert.equal(await page.textContent("#top"), top, "the same image gives the same classes and probabilities");
});

test("a bad upload shows an error and the page keeps working", { skip: noModels }, async () => {
  await page.setInputFiles("#file", { name: "notes.png", mimeType: "image/png", buffer: Buffer.from("this is not a PNG file") });
  await page.waitForSelector(".error", { timeout: 20_000 });
  assert.match(await page.textContent(".error"), /notes\.png.*could not be decoded/);
  await page.setInputFiles("#file", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await page.waitForFunction(() => /text\/plain, not an image/.test(document.getElementById("errors").textContent));
  // Still working: pick another test image and get a prediction.
  await page.click("#tab-gallery");
  const n = await runs();
  await page.click("#g-fashion-mnist-1");
  await nextRun(n);
  assert.match(await page.textContent("#input-caption"), /Fashion-MNIST test #\d+/);
  assert.equal(await page.locator("#top li").count(), 5);
});

test("the page works at phone width", { skip: noModels }, async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone screen`);
  await page.screenshot({ path: join(out, "phone.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("the alpha comparison runs every shipped Fashion-MNIST model", { skip: noModels }, async () => {
  await page.click("#cmp-run");
  await page.waitForSelector('body[data-compared="1"]', { timeout: 120_000 });
  const rows = await page.$$eval("#cmp-table tbody tr[data-alpha]", (trs) => trs.map((tr) => ({
    alpha: Number(tr.dataset.alpha),
    cells: [...tr.children].map((td) => td.textContent.trim()),
    title: tr.title,
    workers: tr.dataset.workers,
  })));
  // The panel runs on a pool: Octave.init({ workers }) with one worker per core, up to 2.
  const cores = await page.evaluate(() => navigator.hardwareConcurrency || 1);
  for (const r of rows) assert.equal(r.workers, String(Math.max(1, Math.min(2, cores))), `alpha ${r.alpha}: workers`);
  assert.match(await page.locator("#status-text").textContent(), /^Compared \d+ models on \d+ test images, (in 1 worker|spread over 2 workers)$/);
  const shipped = ["a000", "a125", "a250", "a500", "a750"].filter((a) => have(`fashion-oct-${a}.safetensors`));
  assert.equal(rows.length, shipped.length, `one row per shipped model (${shipped.join(", ")})`);
  let lastMacs = Infinity;
  for (const r of rows) {
    const what = `alpha ${r.alpha}: ${r.cells.join(" | ")}`;
    const acc = Number(/^([\d.]+)%/.exec(r.cells[1])?.[1]);
    assert.ok(acc >= 85, `${what}: accuracy on the gallery's test images`);
    const m = /^([\d.]+) M\s*(\d+)%$/.exec(r.cells[2]);
    assert.ok(m, `${what}: MACs and their share of alpha 0's`);
    const macs = Number(m[1]);
    assert.ok(macs < lastMacs, `${what}: MACs fall as alpha grows`);
    lastMacs = macs;
    if (r.alpha === 0) assert.equal(m[2], "100");
    const t = /^([\d.]+)\s*(\d+)%$/.exec(r.cells[3]);
    assert.ok(t && Number(t[1]) > 0, `${what}: time per image and its share of alpha 0's`);
    assert.match(r.title, /^\d+ of \d+ correct; [\d.]+ ms per image including the worker round trip$/);
  }
  assert.equal(await page.locator("#cmp-chart polyline").count(), 1);
  await page.locator("#compare").screenshot({ path: join(out, "compare.png") });
});

test("the page runs under its Content-Security-Policy", { skip: noModels }, async () => {
  const h = await pageResponse.allHeaders();
  const csp = h["content-security-policy"] || "";
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/, `CSP header: ${JSON.stringify(csp)}`);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(h["x-content-type-options"], "nosniff");
  // By now the engine compiled the wasm in its worker and every section ran.
  assert.equal(await page.evaluate(() => document.body.dataset.ready), "1");
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  assert.deepEqual(problems.filter((p) => /Content.Security.Policy/i.test(p)), []);
});

test("no console errors", { skip: noModels }, () => {
  assert.deepEqual(problems, []);
});
