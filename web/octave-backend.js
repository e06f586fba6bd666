// Octave backend: one Go WebAssembly instance and the calls into it, and the
// Host that replaces the instance with a fresh one when a large input has
// grown its memory. It runs in whichever thread imports it: the dedicated
// worker (octave-worker.js) or, with `worker: false`, the caller's own thread.
// Internal to octave.js.

/**
 * Starts the Go program of an Octave wasm binary.
 * @param {{wasm: ArrayBuffer|Uint8Array|WebAssembly.Module, wasmExecURL: string}} opts
 * @returns {Promise<Backend>}
 */
export async function startBackend({ wasm, wasmExecURL }) {
  if (typeof globalThis.Go !== "function") {
    // wasm_exec.js is a classic script that defines globalThis.Go; it runs
    // unchanged when imported as a module.
    try {
      await import(/* webpackIgnore: true */ /* @vite-ignore */ wasmExecURL);
    } catch (e) {
      throw new Error(`Octave: importing ${wasmExecURL}: ${e && e.message}: check wasmExecURL`);
    }
    if (typeof globalThis.Go !== "function") {
      throw new Error(`Octave: ${wasmExecURL} did not define Go: is it Go's wasm_exec.js?`);
    }
  }
  const go = new globalThis.Go();
  const key = "__octave_" + Math.random().toString(36).slice(2) + Date.now().toString(36);
  go.argv = ["octave", key];
  let instance;
  try {
    if (wasm instanceof WebAssembly.Module) {
      instance = await WebAssembly.instantiate(wasm, go.importObject);
    } else {
      ({ instance } = await WebAssembly.instantiate(wasm, go.importObject));
    }
  } catch (e) {
    throw new Error(`Octave: the wasm binary could not be instantiated: ${e && e.message}`);
  }
  const exited = go.run(instance);
  const api = globalThis[key];
  delete globalThis[key];
  if (!api) throw new Error("Octave: the wasm binary did not start the Octave API");
  return new Backend(go, instance, api, exited);
}

/**
 * Host runs the operations of octave.js on one wasm instance and recycles
 * it: WebAssembly memory never shrinks, so when a call leaves the memory
 * above the limit (recycleMemoryAbove) and above twice what the instance held
 * once its models were loaded, the instance is replaced with a fresh one and
 * every loaded model is loaded into it again from the bytes kept here. The
 * handles given out stay valid (they are the Host's own, mapped to the
 * current instance's). Calls that arrive during the restart wait for it. A
 * restart that fails leaves no instance: every later call throws an Error
 * named "RestartError".
 */
export class Host {
  /** @param {{wasm: WebAssembly.Module, wasmExecURL: string, recycleMemoryAbove?: number}} opts */
  constructor(opts) {
    this.opts = { wasm: opts.wasm, wasmExecURL: opts.wasmExecURL };
    const limit = opts.recycleMemoryAbove;
    this.limit = typeof limit === "number" && limit > 0 ? limit : Infinity;
    this.backend = null;
    this.models = new Map(); // Host handle -> {bytes, h: the current instance's handle}
    this.next = 1;
    this.floor = 0; // memory with the models loaded: a fresh instance's, plus what each load added
    this.peak = 0;
    this.restarts = 0;
    this.restartMs = 0;
    this.restarting = null; // the restart in progress
    this.dead = null; // the Error every call throws once closed or failed
    this.onClose = null;
    this.closed = new Promise((r) => { this.onClose = r; });
  }

  /** Starts the first instance. */
  async start() {
    const b = await startBackend(this.opts);
    if (this.dead) {
      b.exit();
      throw this.dead;
    }
    this.backend = b;
    this.floor = this.peak = b.memoryBytes();
    return { simd: b.simd };
  }

  /** Runs op (load, classify, featureMaps, dispose, count, memoryBytes, stats) once no restart is in progress. */
  async call(op, args) {
    while (this.restarting && !this.dead) await Promise.race([this.restarting, this.closed]);
    if (this.dead) throw this.dead;
    const b = this.backend;
    switch (op) {
      case "load": {
        const bytes = args[0] instanceof Uint8Array ? args[0] : new Uint8Array(args[0]);
        const m0 = b.memoryBytes();
        const r = b.load(bytes);
        const id = this.next++;
        // octave.js gives each instance a private copy (its own bytes or a
        // fetch's); keep it, unless it is a view into something larger.
        this.models.set(id, { bytes: bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice(), h: r.handle });
        // What the models need: the memory a load adds, not what an earlier
        // input grew.
        this.floor += b.memoryBytes() - m0;
        return { handle: id, info: r.info };
      }
      case "classify":
      case "featureMaps":
        try {
          return op === "classify" ? b.classify(this.handle(op, args[0]), args[1]) : b.featureMaps(this.handle(op, args[0]), ...args.slice(1));
        } finally {
          this.check();
        }
      case "dispose":
        b.dispose(this.handle(op, args[0]));
        this.models.delete(args[0]);
        return true;
      case "count": return b.count();
      case "memoryBytes": return b.memoryBytes();
      case "stats": return this.stats();
      default: throw new Error(`Octave: unknown operation ${JSON.stringify(op)}`);
    }
  }

  stats() {
    const m = this.backend.memoryBytes();
    return { memoryBytes: m, peakMemoryBytes: Math.max(this.peak, m), restarts: this.restarts, restartMs: this.restartMs };
  }

  handle(op, id) {
    const m = this.models.get(id);
    if (!m) throw new Error(`Octave: ${op}: no model with handle ${id}: it was disposed or never loaded`);
    return m.h;
  }

  // check starts a restart when the memory is over both limits.
  check() {
    if (this.dead || !this.backend || this.backend.stopped) return;
    const m = this.backend.memoryBytes();
    this.peak = Math.max(this.peak, m);
    if (m > this.limit && m > 2 * this.floor) {
      this.restarting = this.restart().finally(() => { this.restarting = null; });
    }
  }

  // restart replaces the instance: the old one first (one instance's memory
  // at a time), then a fresh one with every model loaded again. Never
  // rejects: a failure leaves the Host dead.
  async restart() {
    const t0 = performance.now();
    const old = this.backend;
    this.backend = null;
    old.exit();
    let b = null;
    try {
      b = await startBackend(this.opts);
      if (this.dead) {
        b.exit();
        return;
      }
      for (const m of this.models.values()) m.h = b.load(m.bytes).handle;
      this.backend = b;
      this.floor = b.memoryBytes();
      this.restarts++;
      this.restartMs += performance.now() - t0;
    } catch (e) {
      if (b) b.exit();
      this.models.clear();
      const err = new Error(`Octave: restarting the wasm instance to release its memory failed: ${(e && e.message) || e}; ` +
        "the instance is stopped: call Octave.init for a new one");
      err.name = "RestartError";
      this.dead ??= err;
    }
  }

  /** Ends the instance (and a restart in progress); every later call throws err. */
  close(err) {
    this.dead ??= err;
    this.models.clear();
    if (this.backend) this.backend.exit();
    this.backend = null;
    this.onClose();
  }
}

/** Backend wraps the functions that the Go program exports. */
export class Backend {
  constructor(go, instance, api, exited) {
    this.go = go;
    this.instance = instance;
    this.api = api;
    this.simd = !!api.simd;
    this.stopped = null;
    exited.then(
      () => { this.stopped ??= "the Go program exited"; },
      (e) => { this.stopped ??= `the Go program failed: ${e && e.message}`; },
    );
  }

  // call invokes a Go function and turns a returned Error into a throw.
  call(name, ...args) {
    if (this.stopped || this.go.exited) {
      throw new Error(`Octave: the wasm instance has stopped (${this.stopped || "the Go program exited"})`);
    }
    let r;
    try {
      r = this.api[name](...args);
    } catch (e) {
      // Only a dead Go program throws (wasm_exec: "Go program has already exited").
      this.stopped ??= e && e.message;
      throw new Error(`Octave: ${name}: ${e && e.message}`);
    }
    if (r instanceof Error) {
      r.message = "Octave: " + r.message;
      throw r;
    }
    return r;
  }

  /** Loads a model file; returns its handle and description. */
  load(bytes) {
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const r = this.call("load", u8);
    return { handle: r.handle, info: JSON.parse(r.info) };
  }

  /** Classifies src, an input as octave.js prepares it (see wasmSource). */
  classify(handle, src) {
    const r = this.call("classify", handle, wasmSource(src));
    return { probabilities: bytesf32(r.probabilities), ms: r.ms };
  }

  /** The maps of the named layers and, with output, the network's output. */
  featureMaps(handle, src, layers, output) {
    const r = this.call("featureMaps", handle, wasmSource(src), layers ?? null, !!output);
    const maps = [];
    for (let i = 0; i < r.maps.length; i++) {
      const m = r.maps[i];
      maps.push({ layer: m.layer, kind: m.kind, ms: m.ms, high: this.part(m.high), low: this.part(m.low) });
    }
    const res = { ms: r.ms, maps };
    if (r.output) res.output = { logits: bytesf32(r.output.logits), probabilities: bytesf32(r.output.probabilities) };
    return res;
  }

  dispose(handle) {
    return this.call("dispose", handle);
  }

  /** Copies a tensor that Go left in its memory (see tensorJS in wasm/main.go). */
  part(p) {
    if (!p) return null;
    const mem = this.instance.exports.mem.buffer;
    const data = new Float32Array(mem, p.offset, p.length).slice();
    return { channels: p.channels, height: p.height, width: p.width, data };
  }

  /** The number of models loaded. */
  count() {
    return this.call("count");
  }

  /** The size of the instance's linear memory in bytes. */
  memoryBytes() {
    return this.instance.exports.mem.buffer.byteLength;
  }

  /** Ends the Go program; the backend is unusable afterwards. */
  exit() {
    const go = this.go;
    if (!this.stopped && !go.exited) {
      try { this.api.exit(); } catch { /* already gone */ }
    }
    this.stopped ??= "terminated";
    // Timers that Go scheduled before it exited would resume the dead
    // program, and wasm_exec.js throws "Go program has already exited" from
    // the timer: an uncaught exception that ends Node. Cancel them, and make
    // any later resume a no-op.
    if (go._scheduledTimeouts instanceof Map) {
      for (const t of go._scheduledTimeouts.values()) clearTimeout(t);
      go._scheduledTimeouts.clear();
    }
    const resume = go._resume;
    if (typeof resume === "function" && !go._octaveStopped) {
      go._octaveStopped = true;
      go._resume = function () {
        if (!this.exited) resume.call(this);
      };
    }
  }
}

// wasmSource gives the Go side an input with its values as Uint8Arrays: a
// tensor {kind: "tensor", data: Float32Array, channels, height, width,
// low?}, RGBA pixels {kind: "rgba", data, width, height, fit, size, longer}
// or an image file {kind: "encoded", data, fit, size, longer}.
function wasmSource(src) {
  if (src.kind === "tensor") {
    const t = (p) => ({ kind: "tensor", data: f32bytes(p.data), channels: p.channels, height: p.height, width: p.width });
    const out = t(src);
    if (src.low) out.low = t(src.low);
    return out;
  }
  const d = src.data;
  return { ...src, data: d instanceof Uint8Array ? d : new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
}

function f32bytes(f) {
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

function bytesf32(u) {
  return new Float32Array(u.buffer, u.byteOffset, u.byteLength / 4);
}

/** The transferable buffers of a backend result. */
export function transferables(op, result) {
  if (op === "classify") return [result.probabilities.buffer];
  if (op === "featureMaps") {
    const t = result.output ? [result.output.logits.buffer, result.output.probabilities.buffer] : [];
    for (const m of result.maps) {
      if (m.high) t.push(m.high.data.buffer);
      if (m.low) t.push(m.low.data.buffer);
    }
    return t;
  }
  return [];
}
