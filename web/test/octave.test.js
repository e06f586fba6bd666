// Tests of web/octave.js in Node against both wasm builds. The expected
// outputs come from native octcore (go run ./wasm/jsfixture), computed on the
// same model files and images.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Octave, OctaveError, TerminatedError, DisposedError, SimdUnsupportedError, RestartError, simdSupported,
  relaxedSupported, relaxedTable, relaxedPatch } from "../octave.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dist = join(root, "web", "dist");
let fx; // fixture directory
let exp; // expected outputs

before(() => {
  if (!existsSync(join(dist, "octave.wasm")) || !existsSync(join(dist, "octave-nosimd.wasm"))) {
    execFileSync("go", ["run", "./cmd/buildwasm"], { cwd: root, stdio: "inherit" });
  }
  fx = mkdtempSync(join(tmpdir(), "octave-js-"));
  execFileSync("go", ["run", "./wasm/jsfixture", "-out", fx], { cwd: root, stdio: "inherit" });
  exp = JSON.parse(readFileSync(join(fx, "expected.json"), "utf8"));
});

after(() => {
  if (fx) rmSync(fx, { recursive: true, force: true });
});

function close(got, want, tol, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol * Math.max(1, Math.abs(want[i])))) {
      assert.fail(`${what}[${i}] = ${got[i]}, native ${want[i]} (|diff| ${d} > ${tol})`);
    }
  }
}

function tensor(t) {
  return { data: new Float32Array(t.data), channels: t.channels, height: t.height, width: t.width };
}

function image(img) {
  return { data: new Uint8ClampedArray(img.data), width: img.width, height: img.height };
}

// The package ships only the SIMD build; the scalar one comes from web/dist/
// through wasmURL (a directory: simd picks the file).
const distDir = pathToFileURL(dist + "/");
const configs = [
  { simd: true, worker: true },
  { simd: false, worker: true, wasmURL: distDir },
  { simd: true, worker: false },
  { simd: false, worker: false, wasmURL: distDir },
];

// npm pack leaves out a listed file that does not exist without a word; the
// tarball is what users install, so list what it would hold.
test("npm pack holds every file package.json lists, Octave.models among them", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" });
  const packed = new Set(JSON.parse(out)[0].files.map((f) => f.path));
  for (const f of pkg.files) assert.ok(packed.has(f), `${f} is in package.json "files" but not in the tarball`);
  for (const [name, url] of Object.entries(Octave.models)) {
    const rel = relative(root, fileURLToPath(url));
    assert.ok(packed.has(rel), `Octave.models.${name} (${rel}) is not in the tarball`);
  }
});

test("SIMD feature detection", () => {
  assert.equal(simdSupported(), true, "Node 20 runs SIMD128");
});

test("relaxed SIMD: octave.wasm's patch table and the fallback", async () => {
  assert.equal(relaxedSupported(), false, "Node 20 runs relaxed SIMD only behind --experimental-wasm-relaxed-simd");
  const plain = readFileSync(join(dist, "octave.wasm"));
  const offs = relaxedTable(plain);
  assert.ok(offs, "octave.wasm has its octave.relaxed section");
  assert.equal(offs.length, 8, "one entry per multiply+add pair of microKernelWasm");
  for (const o of offs) {
    // f32x4.mul; nop; local.get ACC; f32x4.add; nop
    assert.deepEqual([...plain.subarray(o, o + 5)], [0xfd, 0xe6, 0x01, 0x01, 0x20], `pair at ${o}`);
    assert.deepEqual([...plain.subarray(o + 6, o + 10)], [0xfd, 0xe4, 0x01, 0x01], `pair at ${o}`);
  }
  assert.equal(relaxedTable(readFileSync(join(dist, "octave-nosimd.wasm"))), null, "the scalar build has no table");
  const patched = relaxedPatch(plain);
  assert.equal(patched.length, plain.length);
  let changed = 0;
  for (let i = 0; i < plain.length; i++) if (patched[i] !== plain[i]) changed++;
  assert.ok(changed > 0 && changed <= 8 * 10, `${changed} bytes changed`);
  assert.equal(WebAssembly.validate(patched), false, "without the flag the patched module is invalid");
  // A table pointing at bytes that are not a pair: no patch, the plain module.
  const bad = Uint8Array.from(plain);
  bad[offs[3]] = 0x01;
  assert.equal(relaxedPatch(bad), null);
  const octave = await Octave.init({ wasm: plain, worker: false });
  try {
    assert.equal(octave.relaxed, false);
  } finally {
    octave.terminate();
  }
  await assert.rejects(Octave.init({ wasm: plain, relaxed: "yes" }), /relaxed must be true or false/);

  // With the flag: the patch validates, is chosen, and matches native octcore;
  // relaxed: false forces the plain module.
  const e = exp.mini;
  const script = `
    import { Octave, relaxedSupported, relaxedPatch } from ${JSON.stringify(pathToFileURL(join(root, "web", "octave.js")).href)};
    import { readFileSync } from "node:fs";
    const plain = readFileSync(${JSON.stringify(join(dist, "octave.wasm"))});
    const input = ${JSON.stringify(e.input)};
    const out = { supported: relaxedSupported(), validates: WebAssembly.validate(relaxedPatch(plain)) };
    for (const relaxed of [true, false]) {
      const octave = await Octave.init({ wasmURL: ${JSON.stringify(pathToFileURL(dist + "/").href)}, relaxed });
      const model = await octave.load(${JSON.stringify(join(fx, e.file))});
      const r = await model.classify({ data: Float32Array.from(input.data), channels: input.channels, height: input.height, width: input.width }, { topK: 0 });
      out[relaxed] = { relaxed: octave.relaxed, p: Array.from(r.probabilities) };
      octave.terminate();
    }
    console.log(JSON.stringify(out));`;
  const file = join(fx, "relaxed-check.mjs");
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, ["--experimental-wasm-relaxed-simd", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split("\n").pop());
  assert.equal(got.supported, true);
  assert.equal(got.validates, true, "the patched octave.wasm validates with relaxed SIMD");
  assert.equal(got.true.relaxed, true, "relaxed is chosen");
  assert.equal(got.false.relaxed, false, "relaxed: false runs the plain module");
  close(got.true.p, e.inputProbabilities, 1e-4, "relaxed probabilities");
  close(got.false.p, e.inputProbabilities, 1e-4, "plain probabilities");
});

for (const cfg of configs) {
  test(`matches native octcore (${cfg.simd ? "simd" : "scalar"}, ${cfg.worker ? "worker" : "same thread"})`, async () => {
    const octave = await Octave.init(cfg);
    try {
      assert.equal(octave.simd, cfg.simd);
      assert.equal(octave.relaxed, false, "Node 20 without its flag has no relaxed SIMD");
      for (const name of ["mini", "rgb"]) {
        const e = exp[name];
        const model = await octave.load(join(fx, e.file));
        const info = model.info;
        assert.equal(info.params, e.params, `${name} params`);
        assert.equal(info.macs, e.macs, `${name} macs`);
        assert.equal(info.layers.length, e.layers);
        assert.deepEqual(info.labels, e.labels);
        const byPath = info.macsByPath.hh + info.macsByPath.hl + info.macsByPath.lh + info.macsByPath.ll;
        assert.equal(byPath, info.macs, "MACs by path add up");
        assert.equal(info.layers.reduce((s, l) => s + l.macs, 0), info.macs);

        // An RGBA image, normalized in JS, against the native CLI's image path.
        const r = await model.classify(image(e.image), { topK: 3 });
        close(r.probabilities, e.probabilities, 1e-4, `${name} probabilities`);
        assert.equal(r.top.length, 3);
        const best = e.probabilities.indexOf(Math.max(...e.probabilities));
        assert.equal(r.top[0].index, best);
        assert.equal(r.top[0].label, e.labels[best]);
        assert.ok(r.top[0].probability >= r.top[1].probability && r.top[1].probability >= r.top[2].probability);
        assert.ok(r.ms >= 0);

        // An odd-sized tensor: probabilities and every layer's output.
        const r2 = await model.classify(tensor(e.input), { topK: 0 });
        close(r2.probabilities, e.inputProbabilities, 1e-4, `${name} tensor probabilities`);
        const maps = await model.featureMaps(tensor(e.input), { layers: e.maps.map((m) => m.layer) });
        assert.equal(maps.length, e.maps.length);
        for (let i = 0; i < maps.length; i++) {
          const got = maps[i], want = e.maps[i];
          assert.equal(got.layer, want.layer);
          assert.ok(got.ms >= 0);
          for (const part of ["high", "low"]) {
            if (!want[part]) {
              assert.equal(got[part], null, `${want.layer} ${part}`);
              continue;
            }
            assert.deepEqual([got[part].channels, got[part].height, got[part].width],
              [want[part].channels, want[part].height, want[part].width], `${want.layer} ${part} shape`);
            close(got[part].data, want[part].data, 1e-4, `${name} ${want.layer} ${part}`);
          }
        }
        // The caller's tensor is neither detached nor changed, and each
        // result owns its data: a later call on another input leaves it as
        // it was.
        const src = tensor(e.input);
        const before = Float32Array.from(src.data);
        const first = (await model.featureMaps(src, { layers: [e.maps[0].layer] }))[0];
        const firstData = (first.high ?? first.low).data;
        const kept = Float32Array.from(firstData);
        assert.deepEqual(src.data, before, "the input tensor is untouched");
        const other = tensor(e.input);
        other.data.fill(0.5);
        await model.featureMaps(other, { layers: [e.maps[0].layer] });
        await model.classify(other);
        assert.deepEqual(firstData, kept, "an earlier result keeps its values");
        // Layer times come from the monotonic clock: sub-millisecond, so
        // not all whole numbers (a wall clock in js/wasm reads whole ms).
        const timed = await model.featureMaps(tensor(e.input));
        assert.ok(timed.some((m) => m.ms > 0 && !Number.isInteger(m.ms)),
          `per-layer ms are whole numbers: ${timed.map((m) => m.ms).join(", ")}`);
        // The default layer list: every conv and octconv layer.
        const convs = info.layers.filter((l) => l.kind === "conv" || l.kind === "octconv").map((l) => l.name);
        assert.deepEqual((await model.featureMaps(tensor(e.input))).map((m) => m.layer), convs);
        await model.dispose();
      }
    } finally {
      octave.terminate();
    }
  });
}

test("1,000 bad calls reject with Errors that say what was wrong; then a good call works", async () => {
  for (const worker of [true, false]) {
    const octave = await Octave.init({ worker });
    const e = exp.mini;
    const model = await octave.load(join(fx, e.file));
    const disposed = await octave.load(join(fx, e.file));
    await disposed.dispose();
    const good = tensor(e.input);
    const bad = [
      [() => model.classify(42), /source must be .*got number/],
      [() => model.classify(null), /source must be .*got null/],
      [() => model.classify({ data: new Float32Array(5), channels: 1, height: 2, width: 2 }), /holds 5 values, 1x2x2 needs 4/],
      [() => model.classify({ data: new Float32Array(12), channels: 3, height: 2, width: 2 }), /3 channels, the model takes 1/],
      [() => model.classify({ data: new Uint8ClampedArray(7), width: 2, height: 2 }), /needs 16 RGBA bytes, got 7/],
      [() => model.classify(good, { topK: -1 }), /topK must be/],
      [() => model.featureMaps(good, { layers: ["stem", "no-such-layer"] }), /unknown layer "no-such-layer"/],
      [() => model.featureMaps(good, { layers: "stem" }), /layers must be an array/],
      [() => octave.load(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), /Octave: load: /],
      [() => octave.load(readFileSync(join(fx, e.file)).subarray(0, 5000)), /Octave: load: /],
      [() => octave.load(12), /must be a URL, an ArrayBuffer/],
      [() => disposed.classify(good), /model was disposed/],
      [() => disposed.featureMaps(good), /model was disposed/],
      [() => model.classify("photo.png"), /source must be .*got string/],
      [() => model.featureMaps(good, { size: { width: 0, height: 3 } }), /size must be \{width, height\}/],
    ];
    for (let i = 0; i < 1000; i++) {
      const [call, re] = bad[i % bad.length];
      let err = null;
      try {
        await call();
      } catch (x) {
        err = x;
      }
      assert.ok(err instanceof Error, `bad call ${i % bad.length} did not reject with an Error (worker ${worker})`);
      assert.match(err.message, re);
    }
    const r = await model.classify(tensor(e.input));
    close(r.probabilities, e.inputProbabilities, 1e-4, "after 1,000 bad calls");
    octave.terminate();
    await assert.rejects(model.classify(good), /terminated/);
  }
});

test("1,000 inferences keep the wasm memory bounded", async () => {
  const octave = await Octave.init({ worker: true });
  const e = exp.mini;
  const model = await octave.load(join(fx, e.file));
  const img = image(e.image);
  const x = tensor(e.input);
  let warm = 0;
  for (let i = 0; i < 1000; i++) {
    if (i % 2 === 0) await model.classify(img);
    else await model.featureMaps(x, { layers: ["stem", "stage2.conv2"] });
    if (i === 99) warm = await octave.memoryBytes();
  }
  const end = await octave.memoryBytes();
  assert.ok(end <= warm + 4 * 1024 * 1024, `memory grew from ${warm} to ${end} bytes over 900 inferences`);
  assert.equal((await octave.stats()).restarts, 0, "the steady state never restarts the instance");
  // Models come and go without leaking either.
  for (let i = 0; i < 50; i++) await (await octave.load(join(fx, e.file), { warmup: false })).dispose();
  const r = await model.classify(img);
  close(r.probabilities, e.probabilities, 1e-4, "after the loop");
  octave.terminate();
});

test("wasm from bytes and from a file URL; explicit wasmURL", async () => {
  const bytes = readFileSync(join(dist, "octave-nosimd.wasm"));
  const a = await Octave.init({ wasm: bytes, worker: false });
  assert.equal(a.simd, false);
  const b = await Octave.init({ wasmURL: new URL("file://" + join(dist, "octave.wasm")) });
  assert.equal(b.simd, true);
  for (const o of [a, b]) {
    const m = await o.load(new Uint8Array(readFileSync(join(fx, exp.rgb.file))).buffer);
    const r = await m.classify(image(exp.rgb.image));
    close(r.probabilities, exp.rgb.probabilities, 1e-4, "rgb");
    o.terminate();
  }
  await assert.rejects(Octave.init({ wasm: new Uint8Array([0, 1, 2]) }), /not valid WebAssembly/);
  await assert.rejects(Octave.init({ wasmURL: join(fx, "missing.wasm") }), /reading file:.*missing\.wasm: ENOENT.*check wasmURL/);
});

// An engine without SIMD128, emulated: WebAssembly.validate refuses the SIMD
// modules in play — the library's probe (a v128.const function, spelled out
// here) and web/dist/octave.wasm, byte for byte — and accepts everything else
// as the engine does. Workers have their own, real WebAssembly: they get the
// module compiled here.
test("without SIMD128: init rejects with a SimdUnsupportedError naming wasmURL; the scalar build through wasmURL runs", async () => {
  const probe = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
    0x03, 0x02, 0x01, 0x00, 0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Uint8Array(16), 0x0b]);
  assert.equal(WebAssembly.validate(probe), true, "the probe is a valid SIMD module");
  const simdBuild = new Uint8Array(readFileSync(join(dist, "octave.wasm")));
  const same = (a, b) => a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
  const real = WebAssembly.validate;
  let refused = 0;
  WebAssembly.validate = (bytes) => {
    const u = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer ?? bytes, bytes.byteOffset ?? 0, bytes.byteLength);
    if (same(u, probe) || same(u, simdBuild)) {
      refused++;
      return false;
    }
    return real.call(WebAssembly, bytes);
  };
  try {
    assert.equal(simdSupported(), false);
    const noSimd = (want) => (e) => {
      assert.ok(e instanceof SimdUnsupportedError && e instanceof OctaveError, `${e}`);
      assert.equal(e.name, "SimdUnsupportedError");
      assert.match(e.message, want);
      assert.match(e.message, /pass wasmURL: the URL of the scalar build octave-nosimd\.wasm/);
      return true;
    };
    // The package's default: only the SIMD build, so a clear error, before any fetch.
    await assert.rejects(Octave.init(), noSimd(/^Octave\.init: this engine lacks WebAssembly SIMD128 and the package ships only the SIMD128 build/));
    await assert.rejects(Octave.init({ worker: false }), noSimd(/lacks WebAssembly SIMD128/));
    await assert.rejects(Octave.init({ simd: false }), noSimd(/^Octave\.init: simd: false needs the scalar build, which the package does not ship/));
    // The SIMD build named explicitly: the engine cannot validate it.
    const simdURL = pathToFileURL(join(dist, "octave.wasm"));
    const head = `Octave.init: ${simdURL.href} is not valid WebAssembly for this engine, which lacks WebAssembly SIMD128`;
    await assert.rejects(Octave.init({ wasmURL: simdURL }), noSimd(new RegExp("^" + head.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))));
    // The way out: the scalar build's URL, or the directory holding it.
    const e = exp.mini;
    const model = readFileSync(join(fx, e.file));
    for (const opts of [{ wasmURL: pathToFileURL(join(dist, "octave-nosimd.wasm")) }, { wasmURL: join(dist, "octave-nosimd.wasm"), worker: false },
      { wasmURL: distDir }]) {
      const octave = await Octave.init(opts);
      try {
        assert.equal(octave.simd, false, `${JSON.stringify(opts)} runs the scalar build`);
        const m = await octave.load(model);
        const r = await m.classify(image(e.image), { topK: 1 });
        close(r.probabilities, e.probabilities, 1e-4, `scalar build via ${JSON.stringify(opts)}`);
      } finally {
        octave.terminate();
      }
    }
    assert.ok(refused >= 4, `the emulated engine refused ${refused} SIMD modules`);
  } finally {
    WebAssembly.validate = real;
  }
  assert.equal(simdSupported(), true);
});

test("npm pack installs into a fresh project and classifies from there", async () => {
  const work = mkdtempSync(join(tmpdir(), "octave-pack-"));
  try {
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: root, encoding: "utf8" });
    const [{ filename, files }] = JSON.parse(out);
    const names = files.map((f) => f.path);
    for (const f of ["web/octave.js", "web/octave-worker.js", "web/octave-backend.js", "web/octave.d.ts",
      "web/dist/octave.wasm", "web/dist/wasm_exec.js"]) {
      assert.ok(names.includes(f), `the package lacks ${f}`);
    }
    assert.ok(!names.includes("web/dist/octave-nosimd.wasm"), "the package ships the SIMD build only");
    const app = join(work, "app");
    execFileSync("mkdir", ["-p", app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", join(work, filename)], { cwd: app, stdio: "pipe" });
    assert.ok(readdirSync(join(app, "node_modules")).includes("octave-wasm"));
    writeFileSync(join(app, "main.js"), `
import { Octave } from "octave-wasm";
import { readFileSync } from "node:fs";
const [modelPath, pixels] = process.argv.slice(2);
const img = JSON.parse(readFileSync(pixels, "utf8"));
const octave = await Octave.init();
const model = await octave.load(readFileSync(modelPath));
const r = await model.classify({ data: new Uint8ClampedArray(img.data), width: img.width, height: img.height }, { topK: 2 });
console.log(JSON.stringify({ simd: octave.simd, top: r.top, probabilities: Array.from(r.probabilities) }));
octave.terminate();
`);
    writeFileSync(join(work, "image.json"), JSON.stringify(exp.mini.image));
    const res = JSON.parse(execFileSync("node", ["main.js", join(fx, exp.mini.file), join(work, "image.json")], { cwd: app, encoding: "utf8" }));
    assert.equal(res.simd, true);
    close(res.probabilities, exp.mini.probabilities, 1e-4, "packaged classify");
    assert.equal(res.top.length, 2);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("lifecycle: terminate() settles pending calls without unhandled rejections; named errors", async () => {
  for (const worker of [true, false]) {
    const octave = await Octave.init({ worker });
    const e = exp.mini;
    const model = await octave.load(join(fx, e.file));
    const pending = [];
    for (let i = 0; i < 5; i++) pending.push(model.classify(tensor(e.input)));
    const d = model.dispose();
    octave.terminate();
    octave.terminate(); // twice is fine
    await d; // a dispose cut short resolves
    await model.dispose(); // a no-op after terminate
    const settled = await Promise.allSettled(pending);
    for (const s of settled) {
      if (s.status === "rejected") {
        assert.ok(s.reason instanceof TerminatedError && s.reason instanceof OctaveError, `worker ${worker}: ${s.reason}`);
        assert.equal(s.reason.name, "TerminatedError");
      }
    }
    await assert.rejects(model.classify(tensor(e.input)), (x) => x.name === "TerminatedError" && /terminated/.test(x.message));
    await assert.rejects(octave.load(join(fx, e.file)), (x) => x instanceof TerminatedError);
  }
  // A disposed model: calls reject with a DisposedError.
  const octave = await Octave.init({ worker: false });
  const model = await octave.load(join(fx, exp.mini.file));
  const p = model.classify(image(exp.mini.image));
  await model.dispose();
  await p.then(() => {}, (x) => assert.equal(x.name, "DisposedError"));
  await assert.rejects(model.classify(tensor(exp.mini.input)), (x) => x instanceof DisposedError && /disposed/.test(x.message));
  octave.terminate();
});

test("lifecycle in a fresh Node process, unawaited as README writes it: exit 0, nothing on stderr", () => {
  const script = `
import { Octave } from ${JSON.stringify(join(root, "web", "octave-node.js"))};
for (const worker of [true, false]) {
  const octave = await Octave.init({ worker });
  const model = await octave.load(${JSON.stringify(join(fx, exp.mini.file))});
  const x = { data: new Float32Array(784), channels: 1, height: 28, width: 28 };
  for (let i = 0; i < 400; i++) await model.classify(x);
  for (let i = 0; i < 3; i++) model.classify(x);
  model.dispose(); octave.terminate();
}
// terminate() while the instance restarts after a large input.
for (const worker of [true, false]) {
  const octave = await Octave.init({ worker });
  const model = await octave.load(${JSON.stringify(join(fx, exp.mini.file))});
  await model.classify({ data: new Uint8ClampedArray(4 * 3000 * 3000), width: 3000, height: 3000 });
  for (let i = 0; i < 3; i++) model.classify({ data: new Float32Array(784), channels: 1, height: 28, width: 28 });
  octave.terminate();
}
setTimeout(() => console.log("done"), 200);
`;
  writeFileSync(join(fx, "lifecycle.mjs"), script);
  const r = spawnSync("node", [join(fx, "lifecycle.mjs")], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.stderr, "");
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), "done");
});

test("bounds: sizes past the model's activation budget and non-finite values reject before running", async () => {
  const octave = await Octave.init({ worker: false });
  const model = await octave.load(join(fx, exp.mini.file));
  const t0 = Date.now();
  await assert.rejects(model.featureMaps(image(exp.mini.image), { size: { width: 20000, height: 20000 } }),
    (x) => x instanceof OctaveError && /20000x20000 input needs about \d+ MiB of activations, over this model's limit/.test(x.message));
  await assert.rejects(model.classify(image(exp.mini.image), { size: { width: 1e9, height: 1 } }), /over this model's limit/);
  assert.ok(Date.now() - t0 < 1000, "rejected without resizing");
  await assert.rejects(model.classify({ data: new Float32Array(1024 * 1024), channels: 1, height: 1024, width: 1024 }), /1024x1024 input needs/);
  // Every position: the scan sums four lanes and then the tail (784 values
  // here; 27x25 = 675 leaves a tail of 3).
  for (const v of [NaN, Infinity, -Infinity]) {
    for (const i of [0, 1, 2, 3, 7, 782, 783]) {
      const x = tensor(exp.mini.input);
      x.data[i] = v;
      await assert.rejects(model.classify(x), new RegExp(`input value ${i} is ${v}; the network needs finite values`));
    }
    for (const i of [0, 671, 672, 673, 674]) {
      const x = { data: new Float32Array(675).fill(0.5), channels: 1, height: 27, width: 25 };
      x.data[i] = v;
      x.data[674] = v; // a second one at the end: the first is named
      await assert.rejects(model.featureMaps(x), new RegExp(`input value ${i} is ${v}; the network needs finite values`));
    }
  }
  assert.ok((await model.featureMaps({ data: new Float32Array(675).fill(0.5), channels: 1, height: 27, width: 25 })).length > 0, "finite 27x25 input runs");
  // Finite values that overflow float32 inside the network: the output is
  // not finite, and the call says so instead of resolving with NaN.
  for (const v of [1e38, -3e38]) {
    const x = tensor(exp.mini.input);
    x.data.fill(v);
    await assert.rejects(model.classify(x), (err) => err instanceof OctaveError && /output is not finite: input values up to \d/.test(err.message));
    const raw = await model.classify(x, { checkInput: false });
    assert.ok(raw.probabilities.some((p) => !Number.isFinite(p)), "checkInput: false returns the result as it is");
  }
  const r = await model.classify(tensor(exp.mini.input));
  close(r.probabilities, exp.mini.inputProbabilities, 1e-4, "after rejected calls");
  octave.terminate();
});

// ---- Memory: the instance restarts after a large input ----

const MiB = 1024 * 1024;

// bigImage is a w x h RGBA image (a gradient): the mini model takes it and
// resizes it in the wasm, which grows the wasm memory by its decoded pixels.
function bigImage(w, h) {
  const data = new Uint8ClampedArray(4 * w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 4 * (y * w + x);
      data[i] = (x * 255) / w;
      data[i + 1] = (y * 255) / h;
      data[i + 2] = ((x + y) * 127) / (w + h);
      data[i + 3] = 255;
    }
  }
  return { data, width: w, height: h };
}

const same = (a, b, what) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}[${i}] = ${a[i]}, before the restart ${b[i]}`);
};

for (const cfg of [{ worker: false }, { worker: true }, { worker: true, workers: 2 }]) {
  const name = cfg.worker ? `${cfg.workers ?? 1} worker${cfg.workers > 1 ? "s" : ""}` : "same thread";
  test(`a 3000x3000 image: the instance restarts, memory returns to its baseline, outputs stay bit-identical (${name})`, async () => {
    const octave = await Octave.init(cfg);
    try {
      const e = exp.mini, r = exp.rgb;
      const mini = await octave.load(join(fx, e.file));
      // The caller's bytes change after load: the library reloads from its own copy.
      const rgbBytes = new Uint8Array(readFileSync(join(fx, r.file)));
      const rgb = await octave.load(rgbBytes);
      rgbBytes.fill(0);
      const layers = e.maps.map((m) => m.layer);
      const outputs = async () => ({
        image: (await mini.classify(image(e.image))).probabilities,
        tensor: (await mini.classify(tensor(e.input))).probabilities,
        maps: (await mini.featureMaps(tensor(e.input), { layers })).map((m) => m.high ?? m.low),
        rgb: (await rgb.classify(image(r.image))).probabilities,
      });
      const saved = await outputs();
      close(saved.image, e.probabilities, 1e-4, "mini before the restart, against native octcore");
      close(saved.rgb, r.probabilities, 1e-4, "rgb before the restart, against native octcore");
      for (let i = 0; i < 20; i++) await mini.classify(image(e.image)); // the steady state
      const base = await octave.memoryBytes();
      assert.equal((await octave.stats()).restarts, 0, "no restart before the large input");

      // The large call, calls issued with it and calls issued once it
      // resolved (while the instance restarts): all resolve, with the outputs
      // of before.
      const big = bigImage(3000, 3000);
      const withIt = [mini.classify(tensor(e.input)), rgb.classify(image(r.image))];
      const top = await mini.classify(big, { topK: 1 });
      assert.ok(top.probabilities.every(Number.isFinite) && top.top.length === 1);
      const during = [];
      for (let i = 0; i < 6; i++) during.push(i % 2 ? rgb.classify(image(r.image)) : mini.classify(tensor(e.input)));
      const maps = mini.featureMaps(tensor(e.input), { layers });
      const mem = octave.memoryBytes();
      for (const [k, p] of [...withIt, ...during].entries()) {
        const got = (await p).probabilities;
        same(got, k % 2 ? saved.rgb : saved.tensor, `concurrent call ${k}`);
      }
      (await maps).forEach((m, i) => same((m.high ?? m.low).data, saved.maps[i].data, `${layers[i]} during the restart`));
      const after = await mem;
      const st = await octave.stats();
      assert.equal(st.restarts, 1, "one instance restarted");
      assert.ok(st.peakMemoryBytes >= base + 32 * MiB, `the large input grew the memory (peak ${st.peakMemoryBytes}, baseline ${base})`);
      assert.ok(after <= 1.5 * base, `memory after the restart ${after} bytes, baseline ${base}`);
      assert.ok(st.restartMs > 0);

      // After the restart: the same handles, bit-identical outputs, and a
      // steady state that does not restart again.
      const again = await outputs();
      same(again.image, saved.image, "mini image after the restart");
      same(again.tensor, saved.tensor, "mini tensor after the restart");
      again.maps.forEach((m, i) => same(m.data, saved.maps[i].data, `${layers[i]} after the restart`));
      same(again.rgb, saved.rgb, "rgb after the restart");
      const settled = await octave.memoryBytes();
      for (let i = 0; i < 100; i++) await (i % 2 ? rgb.classify(image(r.image)) : mini.classify(image(e.image)));
      const s2 = await octave.stats();
      assert.equal(s2.restarts, 1, "no restart in the steady state after it");
      assert.ok(s2.memoryBytes <= settled + 2 * MiB, `memory ${s2.memoryBytes} after 100 inferences, ${settled} before`);
      // A model loaded after the restart, and disposal of one loaded before it.
      const third = await octave.load(join(fx, e.file));
      same((await third.classify(tensor(e.input))).probabilities, saved.tensor, "a model loaded after the restart");
      await rgb.dispose();
      await assert.rejects(rgb.classify(image(r.image)), DisposedError);
      same((await mini.classify(tensor(e.input))).probabilities, saved.tensor, "mini after the dispose");
    } finally {
      octave.terminate();
    }
  });
}

test("recycleMemoryAbove: 0 and Infinity never restart; bad values are refused", async () => {
  for (const off of [0, Infinity]) {
    const octave = await Octave.init({ worker: false, recycleMemoryAbove: off });
    const model = await octave.load(join(fx, exp.mini.file));
    const base = await octave.memoryBytes();
    await model.classify(bigImage(3000, 3000));
    const st = await octave.stats();
    assert.equal(st.restarts, 0, `recycleMemoryAbove: ${off}`);
    assert.ok(st.memoryBytes >= base + 32 * MiB, "the memory stays grown");
    octave.terminate();
  }
  for (const bad of [-1, NaN, "64MB", true]) {
    await assert.rejects(Octave.init({ worker: false, recycleMemoryAbove: bad }), /recycleMemoryAbove must be a number of bytes >= 0/);
  }
  // A lower limit restarts after a smaller input; twice the memory with the
  // models loaded is the floor, so a limit under it does not restart after
  // every call.
  const octave = await Octave.init({ worker: false, recycleMemoryAbove: 1 });
  const model = await octave.load(join(fx, exp.mini.file));
  for (let i = 0; i < 50; i++) await model.classify(image(exp.mini.image));
  assert.equal((await octave.stats()).restarts, 0, "a limit below the models' own memory does not restart in the steady state");
  await model.classify(bigImage(1500, 1500));
  assert.equal((await octave.stats()).restarts, 1);
  octave.terminate();
});

test("terminate() during a restart: pending calls reject with a TerminatedError; no crash, no hang", async () => {
  for (const worker of [false, true]) {
    const octave = await Octave.init({ worker });
    const model = await octave.load(join(fx, exp.mini.file));
    await model.classify(bigImage(3000, 3000));
    if (!worker) assert.ok(octave._inst[0].t.host.restarting, "the restart is in progress");
    const pending = [model.classify(tensor(exp.mini.input)), octave.memoryBytes(), octave.stats(), model.featureMaps(tensor(exp.mini.input))];
    octave.terminate();
    const settled = await Promise.allSettled(pending);
    for (const s of settled) {
      assert.equal(s.status, "rejected", `worker ${worker}: a call resolved after terminate()`);
      assert.ok(s.reason instanceof TerminatedError && s.reason.name === "TerminatedError", `worker ${worker}: ${s.reason}`);
    }
    await assert.rejects(model.classify(tensor(exp.mini.input)), TerminatedError);
    await new Promise((r) => setTimeout(r, 100)); // the restart's own timers and promises settle without a throw
  }
});

test("a restart that fails rejects with a RestartError and stops the instance", async () => {
  const check = (what) => (err) => {
    assert.ok(err instanceof RestartError && err instanceof TerminatedError && err instanceof OctaveError, `${what}: ${err}`);
    assert.equal(err.name, "RestartError");
    return true;
  };
  // In this thread: the next instantiation fails.
  {
    const octave = await Octave.init({ worker: false });
    const model = await octave.load(join(fx, exp.mini.file));
    const real = WebAssembly.instantiate;
    WebAssembly.instantiate = () => Promise.reject(new Error("injected failure"));
    try {
      await model.classify(bigImage(3000, 3000)); // resolves: the restart follows it
      const pending = [model.classify(tensor(exp.mini.input)), octave.memoryBytes()];
      for (const p of pending) {
        await assert.rejects(p, (err) => check("pending")(err) && /restarting the wasm instance to release its memory failed: .*injected failure/.test(err.message));
      }
    } finally {
      WebAssembly.instantiate = real;
    }
    await assert.rejects(model.classify(tensor(exp.mini.input)), check("later"));
    await assert.rejects(octave.load(join(fx, exp.mini.file)), check("load"));
    assert.equal(octave._inst[0].t.host.backend, null, "no instance is left running");
    await model.dispose();
    octave.terminate();
  }
  // In a worker (two): one fails, both stop.
  {
    const script = join(fx, "failing-worker.mjs");
    writeFileSync(script, `
let n = 0;
const real = WebAssembly.instantiate;
WebAssembly.instantiate = (...a) => (++n > 1 ? Promise.reject(new Error("injected failure")) : real.apply(WebAssembly, a));
await import(${JSON.stringify(pathToFileURL(join(root, "web", "octave-worker-node.js")).href)});
`);
    const octave = await Octave.init({ workerURL: pathToFileURL(script), workers: 2 });
    const model = await octave.load(join(fx, exp.mini.file));
    await model.classify(bigImage(3000, 3000));
    const pending = [model.classify(tensor(exp.mini.input)), model.classify(tensor(exp.mini.input)), octave.stats()];
    const settled = await Promise.allSettled(pending);
    assert.ok(settled.some((s) => s.status === "rejected"), "a call after the failed restart rejects");
    for (const s of settled) if (s.status === "rejected") check("pending in a worker")(s.reason);
    await assert.rejects(model.classify(tensor(exp.mini.input)), check("later in a worker"));
    octave.terminate();
  }
});
