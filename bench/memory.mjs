// The wasm memory of octave.js around a large input, and the time of the
// restart that brings it back (docs/API.md, "Memory"): the Fashion-MNIST
// model, 100 classifications of a 28x28 image, then 7 of a 3000x3000 one,
// each followed by a 28x28 call (which waits for the restart). Prints the
// memory before, at its peak and after, and the median restart time, with
// worker: false and with the default worker, in Node and, when Chromium is
// installed, in headless Chromium. `make bench-memory`; wrap it in the
// machine's quiet wrapper for times worth comparing. Asserts nothing.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const chromiumPath = process.env.OCTAVE_CHROMIUM || "/usr/bin/chromium";

// measure runs in Node and, as its source text, in the page.
async function measure(Octave, init) {
  const o = await Octave.init(init);
  try {
    const model = await o.load(Octave.models.fashion);
    const small = { data: new Uint8ClampedArray(4 * 28 * 28).fill(128), width: 28, height: 28 };
    for (let i = 0; i < 100; i++) await model.classify(small);
    const before = await o.memoryBytes();
    const big = { data: new Uint8ClampedArray(4 * 3000 * 3000), width: 3000, height: 3000 };
    for (let i = 0; i < big.data.length; i++) big.data[i] = (i * 7) & 255;
    const times = [];
    let s0 = await o.stats();
    for (let i = 0; i < 7; i++) {
      await model.classify(big);
      await model.classify(small);
      const s = await o.stats();
      times.push(s.restartMs - s0.restartMs);
      s0 = s;
    }
    return { before, peak: s0.peakMemoryBytes, after: s0.memoryBytes, restarts: s0.restarts, times };
  } finally {
    o.terminate();
  }
}

function report(where, r) {
  const mib = (b) => (b / 1048576).toFixed(1) + " MiB";
  const sorted = r.times.slice().sort((a, b) => a - b);
  console.log(`${where.padEnd(26)} before ${mib(r.before)}, peak ${mib(r.peak)}, after ${mib(r.after)}; ` +
    `${r.restarts} restarts, median ${sorted[sorted.length >> 1].toFixed(1)} ms (${r.times.map((t) => t.toFixed(1)).join(", ")})`);
}

const { Octave } = await import(join(root, "web", "octave-node.js"));
for (const worker of [false, true]) report(`node, ${worker ? "worker" : "same thread"}:`, await measure(Octave, { worker }));

if (!existsSync(chromiumPath)) {
  console.log(`${chromiumPath} is missing: no Chromium figures`);
} else {
  const { chromium } = await import("playwright-core");
  const tmp = mkdtempSync(join(tmpdir(), "octave-mem-"));
  const bin = join(tmp, "demo");
  execFileSync("go", ["build", "-o", bin, "./cmd/demo"], { cwd: root, stdio: "inherit" });
  const server = spawn(bin, ["-addr", "127.0.0.1:0", "-quiet", "-web", join(root, "web"), "-models", join(root, "models", "weights")],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const base = await new Promise((resolve, reject) => {
      let buf = "";
      server.stdout.on("data", (d) => {
        buf += d;
        const m = /serving (http:\/\/\S+)/.exec(buf);
        if (m) resolve(m[1]);
      });
      server.on("exit", (code) => reject(new Error(`cmd/demo exited with ${code}`)));
    });
    const page = await browser.newPage({ bypassCSP: true }); // the page's CSP forbids the eval below
    await page.goto(base + "/");
    for (const worker of [false, true]) {
      const r = await page.evaluate(async ([src, worker]) => {
        const { Octave } = await import("/octave.js");
        return (0, eval)(`(${src})`)(Octave, { wasmURL: "/dist/", worker });
      }, [measure.toString(), worker]);
      report(`chromium, ${worker ? "worker" : "page thread"}:`, r);
    }
  } finally {
    await browser.close();
    server.kill();
    rmSync(tmp, { recursive: true, force: true });
  }
}
