// "Your model in the page" (issue 14, item 6), in headless Chromium: a model
// made by another tool — PyTorch saves a random-weight Oct-ResNet-26 of
// d-li14/octconv.pytorch's module names (tools/pytorch/make_checkpoint.py)
// and `octave import` converts it — is opened from the file picker, from a
// URL and by drag and drop. The page must show its info and provenance, and
// give the command line's numbers on the same file: the probabilities of
// `octave classify` for a colour photo, and the logits and the high- and
// low-frequency maps of `octave run` for the tensor the page ran. Bad files
// (not a model, a PyTorch checkpoint, a wrong shape, an unknown layer kind,
// too large, too costly) give their message while the page keeps its model,
// its input and its maps, and keeps working.
//
//   node --test web/test/page-byo.test.mjs      (make test-web)
//
// Needs Debian's python3-torch (/usr/bin/python3; make deps installs it).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync, writeFileSync, readdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const executablePath = process.env.OCTAVE_CHROMIUM || "/usr/bin/chromium";
const python = "/usr/bin/python3";
const shippedDir = join(root, "models", "weights");
const noModels = existsSync(join(shippedDir, "fashion-oct-a500.safetensors")) ? false
  : `${join(shippedDir, "fashion-oct-a500.safetensors")} is missing (make models)`;
// Wasm against native kernels (a different summation order, FMA): measured
// differences are about 1e-6 of the largest value.
const TOL = 1e-4;
const PHOTO = "colour-1031x777.png"; // from go run ./internal/testimages
const LAYERS = ["layer1.0.conv2", "layer3.1.conv3"]; // an octconv at 56x56 (28x28 low), one at 14x14 (7x7 low)

let tmp, cli, demo, base, browser, page, model, ckpt, imgDir, modelsDir;
const problems = [];

before(async () => {
  if (noModels) return;
  try {
    execFileSync(python, ["-c", "import torch, numpy"], { stdio: "ignore" });
  } catch {
    throw new Error(`these tests need PyTorch: ${python} -c 'import torch, numpy' failed; apt-get install -y python3-torch libopenblas0-pthread (make deps)`);
  }
  tmp = mkdtempSync(join(tmpdir(), "octave-byo-"));
  cli = join(tmp, "octave");
  execFileSync("go", ["build", "-o", cli, "./cmd/octave"], { cwd: root, stdio: "inherit" });
  const demoBin = join(tmp, "demo");
  execFileSync("go", ["build", "-o", demoBin, "./cmd/demo"], { cwd: root, stdio: "inherit" });
  // The model: PyTorch writes the checkpoint, octave import converts it.
  ckpt = join(tmp, "oct-resnet26.pth");
  execFileSync(python, [join(root, "tools", "pytorch", "make_checkpoint.py"), "oct-resnet26", ckpt, "--seed", "7"], { stdio: "inherit" });
  modelsDir = join(tmp, "models");
  mkdirSync(modelsDir);
  for (const f of readdirSync(shippedDir)) symlinkSync(join(shippedDir, f), join(modelsDir, f));
  model = join(modelsDir, "r26.safetensors");
  execFileSync(cli, ["import", "--from", "octconv.pytorch", "--arch", "oct-resnet26", ckpt, "-o", model, "--int8", "--labels", "imagenet"], { stdio: "inherit" });
  imgDir = join(tmp, "images");
  execFileSync("go", ["run", "./internal/testimages", "-out", imgDir], { cwd: root, stdio: "inherit" });

  demo = spawn(demoBin, ["-addr", "127.0.0.1:0", "-quiet", "-web", join(root, "web"), "-models", modelsDir],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  base = await new Promise((resolve, reject) => {
    let buf = "";
    demo.stdout.on("data", (d) => {
      buf += d;
      const m = /serving (http:\/\/\S+)/.exec(buf);
      if (m) resolve(m[1].replace(/\/$/, ""));
    });
    demo.on("exit", (code) => reject(new Error(`cmd/demo exited with ${code}`)));
  });
  browser = await chromium.launchPersistentContext(join(tmp, "profile"), {
    executablePath, headless: true, viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = browser.pages()[0] || (await browser.newPage());
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  await page.goto(base);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
});

after(async () => {
  await browser?.close();
  demo?.kill();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const runs = () => page.evaluate(() => +(document.body.dataset.runs || 0));
const opened = () => page.evaluate(() => +(document.body.dataset.userModel || 0));
const errorsText = () => page.textContent("#errors");

// waitOpened waits for the n-th user model to be open and run on the current input.
async function waitOpened(n, runsBefore) {
  await page.waitForFunction(([n, r]) => +(document.body.dataset.userModel || 0) >= n && +(document.body.dataset.runs || 0) > r,
    [n, runsBefore], { timeout: 240_000 });
}

// writeNpy writes a float32 C-order .npy file.
function writeNpy(path, shape, data) {
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  h += " ".repeat(63 - ((10 + h.length) % 64)) + "\n";
  const head = Buffer.alloc(10);
  Buffer.from([0x93, ...Buffer.from("NUMPY"), 1, 0]).copy(head);
  head.writeUInt16LE(h.length, 8);
  writeFileSync(path, Buffer.concat([head, Buffer.from(h, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

// readNpz reads every array of an .npz as {shape, data} (through numpy).
function readNpz(path) {
  const dir = path + ".d";
  mkdirSync(dir, { recursive: true });
  const names = JSON.parse(execFileSync(python, ["-c", `
import json, sys, numpy as np
d = np.load(sys.argv[1]); out = {}
for k in d.files:
    a = np.ascontiguousarray(d[k], dtype=np.float32); a.tofile(sys.argv[2] + "/" + k); out[k] = list(a.shape)
print(json.dumps(out))`, path, dir], { encoding: "utf8" }));
  const out = {};
  for (const [k, shape] of Object.entries(names)) {
    const b = readFileSync(join(dir, k));
    out[k] = { shape, data: new Float32Array(b.buffer, b.byteOffset, b.length / 4) };
  }
  return out;
}

// relDiff is max|a - b| / max|b|.
function relDiff(a, b, what) {
  assert.equal(a.length, b.length, `${what}: ${a.length} values, want ${b.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  assert.ok(m > 0, `${what}: all zero`);
  return d / m;
}

// The page's current run: its input tensor, logits and the maps of LAYERS.
const pageRun = () => page.evaluate((layers) => {
  const s = window.__octaveDemo;
  const input = s.maps.find((m) => m.layer === s.model.info.layers[0].name).high;
  const part = (p) => p && { channels: p.channels, height: p.height, width: p.width, data: Array.from(p.data) };
  return {
    input: part(input), logits: s.output ? Array.from(s.output.logits) : null,
    probabilities: s.output ? Array.from(s.output.probabilities) : null,
    maps: Object.fromEntries(layers.map((l) => { const m = s.maps.find((x) => x.layer === l); return [l, m && { high: part(m.high), low: part(m.low) }]; })),
  };
}, LAYERS);

// checkAgainstRun runs `octave run` on the page's input tensor and compares logits and maps.
function checkAgainstRun(got, tag) {
  const x = join(tmp, `${tag}-x.npy`), out = join(tmp, `${tag}-out.npz`);
  const { channels, height, width, data } = got.input;
  assert.deepEqual([channels, height, width], [3, 224, 224], `${tag}: the page's input tensor`);
  writeNpy(x, [1, channels, height, width], Float32Array.from(data));
  execFileSync(cli, ["run", "--model", model, "--input", x, "--layers", LAYERS.join(","), "-o", out], { stdio: "inherit" });
  const ref = readNpz(out);
  const worst = {};
  worst.logits = relDiff(Float32Array.from(got.logits), ref.output.data, `${tag} logits`);
  for (const l of LAYERS) {
    for (const b of ["high", "low"]) {
      const r = ref[`${l}.${b}`], g = got.maps[l] && got.maps[l][b];
      assert.ok(r && g, `${tag}: ${l}.${b} missing (page ${!!g}, octave run ${!!r})`);
      assert.deepEqual([g.channels, g.height, g.width], r.shape.slice(1), `${tag}: ${l}.${b} shape`);
      worst[`${l}.${b}`] = relDiff(Float32Array.from(g.data), r.data, `${tag} ${l}.${b}`);
    }
  }
  for (const [k, v] of Object.entries(worst)) assert.ok(v <= TOL, `${tag}: ${k} differs from octave run by ${v} relative (> ${TOL})`);
  console.log(`# ${tag}: relative difference from octave run: ${Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(", ")}`);
}

test("a model from octave import opens from the file picker, keeps the input, shows its info and the CLI's maps", { skip: noModels, timeout: 600_000 }, async () => {
  const caption = await page.textContent("#input-caption");
  await page.evaluate(() => { window.__inputBefore = window.__octaveDemo.input; });
  const r0 = await runs();
  await page.setInputFiles("#model-file", model);
  await waitOpened(1, r0);
  assert.equal(await errorsText(), "", "no error");
  assert.equal(await page.inputValue("#model-select"), "user");
  assert.ok(await page.evaluate(() => window.__octaveDemo.input === window.__inputBefore), "the input stays");
  assert.ok((await page.textContent("#input-caption")).startsWith(caption), "the caption names the same input");

  // Its info, from the file: the importer's provenance and the graph.
  const info = JSON.parse(execFileSync(cli, ["info", "--json", model], { encoding: "utf8" }));
  assert.ok(await page.evaluate(() => document.getElementById("model-details").open), "the info panel opens");
  const about = await page.textContent("#model-info");
  assert.match(about, /architecture\s*oct-resnet26/);
  assert.match(about, /3 × 224 × 224 \(RGB\)/);
  assert.match(about, /shorter side to 256, centre 224×224 crop/);
  assert.match(about, /1000: tench, goldfish/);
  assert.match(about, new RegExp(`${(info.cost.params / 1e6).toFixed(2)} M`));
  assert.match(about, new RegExp(`${info.graph.length}: 1 input, `));
  const prov = await page.textContent("#model-provenance");
  const sha = createHash("sha256").update(readFileSync(ckpt)).digest("hex");
  assert.equal(info.provenance.source_sha256, sha);
  assert.match(prov, new RegExp(`source_sha256\\s*${sha}`));
  assert.match(prov, /source_project\s*d-li14\/octconv\.pytorch/);

  // Every conv and octconv layer in the strip; both octaves drawn side by side.
  const convs = info.cost.layers.filter((l) => l.kind === "conv" || l.kind === "octconv");
  assert.equal(await page.locator("#layers .layer").count(), convs.length);
  await page.click(`#layers [data-layer="${LAYERS[0]}"]`);
  const l0 = convs.find((l) => l.name === LAYERS[0]);
  assert.equal(await page.locator("#hi-grid canvas").count(), l0.high[0]);
  assert.equal(await page.locator("#lo-grid canvas").count(), l0.low[0]);
  assert.match(await page.textContent("#hi-shape"), new RegExp(`${l0.high[0]} × 56 × 56`));
  assert.match(await page.textContent("#lo-shape"), new RegExp(`${l0.low[0]} × 28 × 28`));
  assert.match(await page.textContent("#spec-stats"), /High \(H maps\).*Low \(L maps/s);

  // The same tensor through octave run: the gallery picture, resized as the model takes it.
  checkAgainstRun(await pageRun(), "gallery picture");
  assert.match(await page.textContent("#prediction"), /Prediction/);
  mkdirSync(join(root, "test-output"), { recursive: true });
  await page.screenshot({ path: join(root, "test-output", "page-byo.png"), fullPage: true });
});

test("a colour photo gets octave classify's probabilities and octave run's maps", { skip: noModels, timeout: 600_000 }, async () => {
  const ref = JSON.parse(execFileSync(cli, ["classify", "--json", "--top", "1000", "--model", model, join(imgDir, PHOTO)], { encoding: "utf8" }))[0];
  const want = new Float32Array(1000);
  for (const t of ref.top) want[t.index] = t.probability;
  await page.click("#tab-photo");
  await page.check("#photo-fit");
  const r0 = await runs();
  await page.setInputFiles("#file", join(imgDir, PHOTO));
  await page.waitForFunction((r) => +(document.body.dataset.runs || 0) > r, r0, { timeout: 240_000 });
  assert.match(await page.textContent("#input-caption"), /224×224, as the model takes it, colour/);
  const got = await pageRun();
  let worst = 0;
  for (let i = 0; i < 1000; i++) worst = Math.max(worst, Math.abs(got.probabilities[i] - want[i]));
  assert.ok(worst <= 1e-5, `probabilities differ from octave classify by ${worst}`);
  const shown = await page.$$eval("#top li .lab", (xs) => xs.map((x) => x.textContent));
  assert.deepEqual(shown, ref.top.slice(0, 5).map((t) => t.label), "the top five, named as octave classify names them");
  checkAgainstRun(got, "photo");
});

test("a model opens from a URL", { skip: noModels, timeout: 600_000 }, async () => {
  const n = await opened(), r0 = await runs();
  await page.fill("#model-url", `${base}/models/r26.safetensors`);
  await page.click("#model-url-load");
  await waitOpened(n + 1, r0);
  assert.equal(await errorsText(), "");
  assert.match(await page.textContent("#model-info"), /file\s*http:\/\/127\.0\.0\.1:\d+\/models\/r26\.safetensors/);
  // A missing file: a message, and the model stays.
  await page.fill("#model-url", `${base}/models/none.safetensors`);
  await page.click("#model-url-load");
  await page.waitForFunction(() => /HTTP 404/.test(document.getElementById("errors").textContent), null, { timeout: 60_000 });
  await page.click("#errors .error button");
  // Another origin over http: refused by the page's policy, said so.
  await page.fill("#model-url", "http://127.0.0.1:9/elsewhere.safetensors");
  await page.click("#model-url-load");
  await page.waitForFunction(() => /Could not fetch http:\/\/127\.0\.0\.1:9\/elsewhere\.safetensors: .*over https only/.test(document.getElementById("errors").textContent), null, { timeout: 60_000 });
  await page.click("#errors .error button");
  assert.equal(await page.evaluate(() => window.__octaveDemo.entry.id), "user");

});

// safetensorsWith rewrites the header of the imported file with edit(header).
function safetensorsWith(edit) {
  const b = readFileSync(model);
  const n = Number(b.readBigUInt64LE(0));
  const h = JSON.parse(b.subarray(8, 8 + n).toString("utf8"));
  edit(h);
  let s = JSON.stringify(h);
  s += " ".repeat((8 - ((8 + Buffer.byteLength(s)) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(s)));
  return Buffer.concat([len, Buffer.from(s), b.subarray(8 + n)]);
}

// dropFile drops a file on the page as a user would (a drop event with its DataTransfer).
async function dropFile(name, buffer) {
  const dt = await page.evaluateHandle(({ name, b64 }) => {
    const d = new DataTransfer();
    d.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
    return d;
  }, { name, b64: buffer.toString("base64") });
  await page.dispatchEvent("#maps", "drop", { dataTransfer: dt });
  await dt.dispose();
}

test("bad files give a clear message and the page keeps its model, input and maps", { skip: noModels, timeout: 600_000 }, async () => {
  const keep = () => page.evaluate(() => {
    const s = window.__octaveDemo;
    return { entry: s.entry.id, model: s.model.info.name, input: s.input.name || s.input.caption, caption: document.getElementById("input-caption").textContent, maps: s.maps.length };
  });
  const before0 = await keep();
  const graphOf = (h) => JSON.parse(h.__metadata__.graph);
  const cases = [
    ["notes.safetensors", Buffer.from("these are my notes, not a model"), "drop", /“notes\.safetensors” is not an Octave model: it is not a safetensors file/],
    ["oct-resnet26.pth", readFileSync(ckpt), "drop", /looks like a PyTorch checkpoint \(zip format\); convert it first: octave import --from octconv\.pytorch/],
    ["plain.safetensors", safetensorsWith((h) => { delete h.__metadata__; }), "picker", /a plain weights file, not a model/],
    ["wrong-shape.safetensors", safetensorsWith((h) => { h["stem.conv.weight"].shape = [64, 7, 7, 3]; }), "drop", /Could not open “wrong-shape\.safetensors”: .*stem\.conv.*shape/],
    ["wobble.safetensors", safetensorsWith((h) => { const g = graphOf(h); g[2].kind = "wobble"; h.__metadata__.graph = JSON.stringify(g); }), "picker",
      /Could not open “wobble\.safetensors”: .*unknown layer kind "wobble"/],
    ["cut.safetensors", readFileSync(model).subarray(0, 4000), "drop", /cut short/],
    ["damaged.safetensors", (() => { const b = Buffer.from(readFileSync(model)); b[b.length - 5] ^= 0x40; return b; })(), "picker",
      /Could not open “damaged\.safetensors”: .*SHA-256 .*the file is corrupted/],
  ];
  for (const [name, buf, how, re] of cases) {
    await page.evaluate(() => document.getElementById("errors").replaceChildren());
    if (how === "drop") await dropFile(name, buf);
    else await page.setInputFiles("#model-file", { name, mimeType: "application/octet-stream", buffer: buf });
    await page.waitForFunction(() => document.getElementById("errors").textContent !== "", null, { timeout: 120_000 });
    assert.match(await errorsText(), re, name);
    assert.deepEqual(await keep(), before0, `${name}: the page keeps its model, input and maps`);
  }
  // Too large for the tab, too costly: the limits lowered below this model.
  for (const [limit, value, re] of [["maxBytes", 1e6, /“r26\.safetensors” is too large for this tab: 16\.\d MB, and the page opens model files up to 1\.0 MB/],
    ["maxMemory", 20e6, /too large for this tab: its 16\.\d M weights need about 8\d\.\d MB of memory/],
    ["maxMacs", 1e9, /“r26\.safetensors” is too costly for the page: one run is 1\.5 G multiply-adds at 224×224/]]) {
    await page.evaluate(() => document.getElementById("errors").replaceChildren());
    const old = await page.evaluate(([k, v]) => { const o = window.__octaveDemo.limits[k]; window.__octaveDemo.limits[k] = v; return o; }, [limit, value]);
    await page.setInputFiles("#model-file", model);
    await page.waitForFunction(() => document.getElementById("errors").textContent !== "", null, { timeout: 240_000 });
    await page.evaluate(([k, v]) => { window.__octaveDemo.limits[k] = v; }, [limit, old]);
    assert.match(await errorsText(), re, limit);
    assert.deepEqual(await keep(), before0, `${limit}: the page keeps its model, input and maps`);
  }
  // And it keeps working: another layer, another input, the shipped models.
  const r0 = await runs();
  await page.click("#tab-gallery");
  await page.click("#g-fashion-mnist-3");
  await page.waitForFunction((r) => +(document.body.dataset.runs || 0) > r, r0, { timeout: 240_000 });
  assert.equal(await page.evaluate(() => window.__octaveDemo.entry.id), "user", "a test image runs through the user's model");
  const r1 = await runs();
  await page.selectOption("#model-select", "fashion-a05");
  await page.waitForFunction((r) => +(document.body.dataset.runs || 0) > r, r1, { timeout: 120_000 });
  assert.match(await page.textContent("#prediction"), /true label/);
  const r2 = await runs();
  await page.selectOption("#model-select", "user");
  await page.waitForFunction((r) => +(document.body.dataset.runs || 0) > r, r2, { timeout: 240_000 });
  // Apart from the 404 and the refused fetch the URL test asked for (the browser logs both).
  assert.deepEqual(problems.filter((p) => !/status of 404|elsewhere\.safetensors/.test(p)), []);
});
