// Octave: Octave Convolution networks in WebAssembly. See docs/API.md.
//
//   import { Octave } from "octave-wasm";
//   const octave = await Octave.init();                  // a dedicated worker, SIMD if supported
//   const model = await octave.load(Octave.models.fashion);
//   const r = await model.classify(imageElement, { topK: 5 });
//   model.dispose(); octave.terminate();
//
// This file is the browser entry and runs in Node as well. It never imports a
// `node:` module: bundlers see only browser code. Node's services (reading
// file: URLs, worker_threads) come from octave-node.js, the package's "node"
// entry, or else from process.getBuiltinModule.
//
// Every file the library loads is named by a literal
// new URL("./…", import.meta.url), the pattern that Vite, webpack 5, Rollup
// and Parcel rewrite to the emitted asset.
//
// Images are not converted here: their pixels at their own size (an element,
// canvas or bitmap is drawn unscaled onto a canvas to read them), or an image
// file's bytes, go to the wasm, where octcore/imageio resizes, crops, turns
// them to grey or RGB and normalizes them exactly as the command line and the
// HTTP server do, with the model's input spec. Tensor sources ({data:
// Float32Array, channels, height, width}, or {high, low} of those for a model
// whose input layer has alpha_out > 0) are taken as already normalized.

/** The package version (package.json's "version"). */
export const version = "0.2.0";

const inNode = typeof process !== "undefined" && !!(process.versions && process.versions.node) &&
  typeof process.cwd === "function";

// ---- Errors ----

/** Every error the library raises on its own is an OctaveError. */
export class OctaveError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "OctaveError";
  }
}

/** A call on an instance that was terminated, or one that terminate() cut short. */
export class TerminatedError extends OctaveError {
  constructor(message) {
    super(message);
    this.name = "TerminatedError";
  }
}

/** A call on a model that was disposed, or one that dispose() cut short. */
export class DisposedError extends OctaveError {
  constructor(message) {
    super(message);
    this.name = "DisposedError";
  }
}

/**
 * Restarting a wasm instance to release the memory a large input grew
 * (Octave.init's recycleMemoryAbove) failed. The instance is stopped: calls
 * pending then and every later call reject with it. A TerminatedError.
 */
export class RestartError extends TerminatedError {
  constructor(message) {
    super(message);
    this.name = "RestartError";
  }
}

// asNamed turns an Error that crossed from the backend (a worker message or
// the Host in this thread) into the library's class of its name.
function asNamed(message, name) {
  return name === "RestartError" ? new RestartError(message) : new OctaveError(message);
}

/**
 * Octave.init on an engine without WebAssembly SIMD128 (or with simd: false)
 * and no scalar build to run: the package ships only the SIMD build. Pass
 * wasmURL: the scalar build octave-nosimd.wasm (make wasm builds it).
 */
export class SimdUnsupportedError extends OctaveError {
  constructor(message) {
    super(message);
    this.name = "SimdUnsupportedError";
  }
}

const SCALAR_HINT = "pass wasmURL: the URL of the scalar build octave-nosimd.wasm (`make wasm` builds it into web/dist/, " +
  "beside wasm_exec.js), or of a directory holding octave.wasm, octave-nosimd.wasm and wasm_exec.js";

// ---- Assets ----

// The models in the package, as URLs beside this module (bundlers emit them).
const MODELS = Object.freeze({
  /** Fashion-MNIST, Oct-ResNet-mini at alpha .5 (the default model). */
  fashion: new URL("./dist/fashion-oct-a500.safetensors", import.meta.url),
  /** MNIST digits, Oct-ResNet-mini at alpha .5. */
  mnist: new URL("./dist/mnist-oct-a500.safetensors", import.meta.url),
});

// The package ships the SIMD128 build only (every current engine runs it);
// the scalar build is the host's to serve and name with wasmURL.
function defaultWasmURL() {
  return new URL("./dist/octave.wasm", import.meta.url);
}

function defaultWasmExecURL() {
  return new URL("./dist/wasm_exec.js", import.meta.url);
}

// The smallest module that uses a SIMD128 instruction (v128.const): valid
// exactly where the engine supports SIMD.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code: v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0x0b, // end
]);

// The smallest module that uses f32x4.relaxed_madd (fd 85 02) on three
// v128.const zeros: valid exactly where the engine runs relaxed SIMD.
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x3d, 0x01, 0x3b, 0x00,
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd
  0x0b,
]);

/** Whether this engine runs WebAssembly relaxed SIMD (f32x4.relaxed_madd). */
export function relaxedSupported() {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

// octave.wasm ends with a custom section "octave.relaxed" (cmd/buildwasm):
// version 1, a count and the file offsets of microKernelWasm's eight
// f32x4.mul; nop; local.get ACC; f32x4.add; nop sequences (fd e6 01 01,
// 20 ACC, fd e4 01 01). Each becomes local.get ACC; f32x4.relaxed_madd; five
// nops (20 ACC, fd 85 02, 01 x 5), a*b + ACC in one fused multiply-add where
// the CPU has one: the same ten bytes, so nothing else in the module moves.
const RELAXED_SECTION = "octave.relaxed";

function uleb(b, p) {
  let v = 0, shift = 0;
  for (;;) {
    if (p >= b.length || shift > 28) return null;
    const x = b[p++];
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (x < 0x80) return [v, p];
  }
}

/**
 * The offsets of the octave.relaxed table in a module's bytes, or null when
 * it has none (or a malformed one). Walks the sections; never searches bytes.
 */
export function relaxedTable(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) return null;
  const name = new TextEncoder().encode(RELAXED_SECTION);
  for (let p = 8; p < b.length;) {
    const id = b[p];
    const r = uleb(b, p + 1);
    if (!r || r[1] + r[0] > b.length) return null;
    const start = r[1], end = r[1] + r[0];
    p = end;
    if (id !== 0) continue;
    const n = uleb(b, start);
    if (!n || n[0] !== name.length || n[1] + n[0] > end) continue;
    if (!name.every((c, i) => b[n[1] + i] === c)) continue;
    let q = n[1] + n[0];
    const v = uleb(b, q);
    if (!v || v[0] !== 1) return null;
    const c = uleb(b, v[1]);
    if (!c) return null;
    q = c[1];
    const offs = [];
    for (let i = 0; i < c[0]; i++) {
      const o = uleb(b, q);
      if (!o || o[1] > end) return null;
      offs.push(o[0]);
      q = o[1];
    }
    return offs;
  }
  return null;
}

const MUL_ADD_HEAD = [0xfd, 0xe6, 0x01, 0x01, 0x20];
const MUL_ADD_TAIL = [0xfd, 0xe4, 0x01, 0x01];

/**
 * A copy of bytes with the pairs of its octave.relaxed table rewritten as
 * f32x4.relaxed_madd, or null when it has no table or a listed offset does not
 * hold a multiply+add pair.
 */
export function relaxedPatch(bytes) {
  const offs = relaxedTable(bytes);
  if (!offs || offs.length === 0) return null;
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  for (const o of offs) {
    if (o + 10 > out.length) return null;
    for (let i = 0; i < 5; i++) if (out[o + i] !== MUL_ADD_HEAD[i]) return null;
    for (let i = 0; i < 4; i++) if (out[o + 6 + i] !== MUL_ADD_TAIL[i]) return null;
    const acc = out[o + 5];
    if (acc >= 0x80) return null;
    out.set([0x20, acc, 0xfd, 0x85, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01], o);
  }
  return out;
}

/** Whether this engine runs WebAssembly SIMD128. */
export function simdSupported() {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

// ---- Node services ----

// nodeServices: {readFile(URL) -> Promise<Uint8Array>, Worker (worker_threads),
// workerURL (octave-worker-node.js)}. octave-node.js registers them; otherwise
// they come from process.getBuiltinModule (Node 20.16 and later).
let nodeServices = null;

/** @private used by octave-node.js */
export function _useNode(services) {
  nodeServices = services;
}


function node() {
  if (nodeServices) return nodeServices;
  const get = inNode && process.getBuiltinModule;
  if (typeof get !== "function") {
    throw new OctaveError("Octave: reading files and worker_threads need octave-node.js (import \"octave-wasm\" resolves to it in Node)");
  }
  const fs = get("node:fs/promises"), url = get("node:url"), wt = get("node:worker_threads");
  nodeServices = {
    readFile: async (u) => {
      const b = await fs.readFile(url.fileURLToPath(u));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    Worker: wt.Worker,
    // Not new URL("…", import.meta.url): bundlers would emit it, and browsers
    // never load it.
    workerURL: new URL(import.meta.url.replace(/[^/]*$/, "octave-worker-node.js")),
  };
  return nodeServices;
}

function baseURL() {
  if (typeof location !== "undefined" && location.href) return location.href;
  if (inNode) return "file://" + process.cwd().replace(/\\/g, "/").replace(/\/?$/, "/");
  return import.meta.url;
}

function toURL(u, where) {
  if (u instanceof URL) return u;
  if (typeof u !== "string" || u === "") {
    throw new OctaveError(`${where}: a URL must be a URL object or a non-empty string, got ${describe(u)}`);
  }
  try {
    return new URL(u, baseURL());
  } catch {
    throw new OctaveError(`${where}: ${JSON.stringify(u)} is not a URL`);
  }
}

// fetchBytes reads url (http(s):, file: in Node, blob:, data:) into a
// Uint8Array, reporting {loaded, total} to onProgress (total: null when not
// known). check(bytes, describeSource) says what is wrong with the bytes, or
// nothing.
async function fetchBytes(url, { where, hint, expected, check, onProgress }) {
  if (url.protocol === "file:" && inNode) {
    let b;
    try {
      b = await node().readFile(url);
    } catch (e) {
      throw new OctaveError(`${where}: reading ${url.href}: ${e.message}${hint ? `: ${hint}` : ""}`);
    }
    onProgress?.({ loaded: b.byteLength, total: b.byteLength });
    const bad = check(b);
    if (bad) throw new OctaveError(`${where}: reading ${url.href}: ${bad}, expected ${expected}${hint ? `: ${hint}` : ""}`);
    return b;
  }
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    const cross = typeof location !== "undefined" && location.origin && url.origin !== location.origin;
    throw new OctaveError(`${where}: GET ${url.href} failed: ${e.message}` +
      (cross ? " (another origin: the server must send Access-Control-Allow-Origin)" : "") + (hint ? `: ${hint}` : ""));
  }
  const type = res.headers.get("content-type") || "no Content-Type";
  if (!res.ok) {
    throw new OctaveError(`${where}: GET ${url.href}: HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}${hint ? `: ${hint}` : ""}`);
  }
  const bytes = await readBody(res, onProgress);
  const bad = check(bytes);
  if (bad) {
    throw new OctaveError(`${where}: GET ${url.href}: got ${type.split(";")[0]} (HTTP ${res.status}), expected ${expected}${hint ? `: ${hint}` : ""}`);
  }
  return bytes;
}

async function readBody(res, onProgress) {
  // Content-Length counts the encoded bytes; the body is read decoded.
  const len = res.headers.get("content-encoding") ? null : Number(res.headers.get("content-length")) || null;
  if (!onProgress || !res.body) {
    const b = new Uint8Array(await res.arrayBuffer());
    onProgress?.({ loaded: b.byteLength, total: b.byteLength });
    return b;
  }
  const reader = res.body.getReader();
  const chunks = [];
  let loaded = 0;
  onProgress({ loaded: 0, total: len });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress({ loaded, total: len });
  }
  const out = new Uint8Array(loaded);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  if (len !== loaded) onProgress({ loaded, total: loaded });
  return out;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

function notWasm(b) {
  if (b.length >= 4 && WASM_MAGIC.every((v, i) => b[i] === v)) return "";
  return b.length ? `bytes starting ${JSON.stringify(String.fromCharCode(...b.subarray(0, 8)))}` : "an empty body";
}

// notModel: a safetensors file starts with the header's length (8 bytes,
// little-endian) and the header's "{".
function notModel(b) {
  if (b.length >= 9 && b[8] === 0x7b) {
    const n = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    if (n > 0n && n <= BigInt(b.length - 8)) return "";
  }
  return b.length ? `bytes starting ${JSON.stringify(String.fromCharCode(...b.subarray(0, 8)))}` : "an empty body";
}

// copyBytes returns a private copy of a binary source, or null.
function copyBytes(src) {
  if (src instanceof ArrayBuffer) return new Uint8Array(src.slice(0));
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength).slice();
  return null;
}

function describe(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v !== "object") return typeof v;
  return (v.constructor && v.constructor.name) || "an object";
}

const noop = () => {};

/** The Octave library: one WebAssembly instance per worker (or in this thread). */
export class Octave {
  /** @private use Octave.init */
  constructor(instances, simd, relaxed) {
    this._inst = instances;
    /** Whether the instance runs the SIMD128 build. */
    this.simd = simd;
    /** Whether its micro kernel runs f32x4.relaxed_madd (the relaxed-SIMD patch). */
    this.relaxed = relaxed;
    /** The number of wasm instances (workers) calls are spread over. */
    this.workers = instances.length;
    this._models = new Set();
    this._calls = new Set(); // promises of the public calls in flight
    this._dead = null;
    this._deadError = TerminatedError; // the class of the error calls get once _dead is set
  }

  /** The package version. */
  static version = version;

  /** The models in the package, as URLs: pass one to octave.load. */
  static models = MODELS;

  /**
   * Starts an instance. Options:
   *   wasmURL      a directory holding octave.wasm, octave-nosimd.wasm and
   *                wasm_exec.js (the build is picked by simd), or the URL of
   *                one .wasm file (default: the package's dist/octave.wasm,
   *                the SIMD build; the package has no scalar build, so
   *                without SIMD128 init rejects with a SimdUnsupportedError
   *                unless wasmURL or wasm is given)
   *   wasm         the wasm binary itself (ArrayBuffer, Uint8Array, Buffer)
   *   simd         "auto" (default: feature detection), true or false
   *   relaxed      true (default): where the engine runs relaxed SIMD and the
   *                binary has its octave.relaxed table, patch the micro
   *                kernel to f32x4.relaxed_madd (else, or if that compile
   *                fails, the plain module); false: the plain module
   *   wasmExecURL  Go's wasm_exec.js (default: beside the wasm)
   *   worker       true (default): run in a dedicated worker; false: this thread
   *   workerURL    octave-worker.js (default: beside this module)
   *   workers      how many workers (wasm instances) to spread calls over (1)
   *   onProgress   called with {loaded, total} (bytes) while the wasm is
   *                fetched; total is null when the server does not say
   *   recycleMemoryAbove  bytes (default 32 MiB): after a call that leaves an
   *                instance's wasm memory above this and above twice what
   *                it held with its models loaded, the instance is replaced
   *                by a fresh one with the same models (WebAssembly memory
   *                cannot shrink). 0 or Infinity: never
   */
  static async init(options = {}) {
    if (options === null || typeof options !== "object") {
      throw new OctaveError(`Octave.init: options must be an object, got ${describe(options)}`);
    }
    const simdMode = options.simd ?? "auto";
    if (simdMode !== "auto" && simdMode !== true && simdMode !== false) {
      throw new OctaveError(`Octave.init: simd must be "auto", true or false, got ${JSON.stringify(simdMode)}`);
    }
    const relaxedOpt = options.relaxed ?? true;
    if (relaxedOpt !== true && relaxedOpt !== false) {
      throw new OctaveError(`Octave.init: relaxed must be true or false, got ${JSON.stringify(relaxedOpt)}`);
    }
    const useWorker = options.worker ?? true;
    const n = options.workers ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) {
      throw new OctaveError(`Octave.init: workers must be a whole number in 1..64, got ${JSON.stringify(n)}`);
    }
    if (!useWorker && n !== 1) {
      throw new OctaveError(`Octave.init: workers: ${n} needs worker: true (this thread runs one instance)`);
    }
    const { onProgress } = options;
    if (onProgress !== undefined && typeof onProgress !== "function") {
      throw new OctaveError(`Octave.init: onProgress must be a function, got ${describe(onProgress)}`);
    }
    const recycle = options.recycleMemoryAbove ?? DEFAULT_RECYCLE;
    if (typeof recycle !== "number" || !(recycle >= 0)) {
      throw new OctaveError(`Octave.init: recycleMemoryAbove must be a number of bytes >= 0 (0 or Infinity: never), got ${JSON.stringify(recycle)}`);
    }
    const simd = simdMode === "auto" ? simdSupported() : simdMode;
    if (!simd && options.wasm === undefined && options.wasmURL === undefined) {
      throw new SimdUnsupportedError(simdMode === false
        ? `Octave.init: simd: false needs the scalar build, which the package does not ship (it has dist/octave.wasm, the SIMD128 build, only): ${SCALAR_HINT}`
        : `Octave.init: this engine lacks WebAssembly SIMD128 and the package ships only the SIMD128 build (dist/octave.wasm): ${SCALAR_HINT}`);
    }
    let bytes, url, dir;
    if (options.wasm !== undefined) {
      bytes = copyBytes(options.wasm);
      if (!bytes) throw new OctaveError(`Octave.init: wasm must be an ArrayBuffer or a typed array, got ${describe(options.wasm)}`);
      onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength });
    } else {
      if (options.wasmURL !== undefined) {
        const u = toURL(options.wasmURL, "Octave.init: wasmURL");
        if (u.pathname.endsWith(".wasm")) url = u;
        else dir = new URL(u.href.endsWith("/") ? u.href : u.href + "/");
      }
      if (!url) url = dir ? new URL(simd ? "octave.wasm" : "octave-nosimd.wasm", dir) : defaultWasmURL();
      else dir = new URL("./", url);
      bytes = await fetchBytes(url, {
        where: "Octave.init", hint: "check wasmURL", expected: "application/wasm", check: notWasm, onProgress,
      });
    }
    if (!WebAssembly.validate(bytes)) {
      if (!simdSupported()) {
        throw new SimdUnsupportedError(`Octave.init: ${url ? url.href : "the wasm binary"} is not valid WebAssembly for this engine, ` +
          `which lacks WebAssembly SIMD128 (is it the SIMD build?): ${SCALAR_HINT}`);
      }
      throw new OctaveError(`Octave.init: ${url ? url.href : "the wasm binary"} is not valid WebAssembly for this engine`);
    }
    let execURL;
    if (options.wasmExecURL !== undefined) execURL = toURL(options.wasmExecURL, "Octave.init: wasmExecURL");
    else execURL = dir ? new URL("wasm_exec.js", dir) : defaultWasmExecURL();
    let module, relaxed = false;
    const patched = relaxedOpt && relaxedSupported() ? relaxedPatch(bytes) : null;
    if (patched) {
      try {
        module = await WebAssembly.compile(patched);
        relaxed = true;
      } catch {
        // An engine that validates the probe but not the patched module:
        // the plain module runs.
      }
    }
    if (!module) module = await WebAssembly.compile(bytes);
    const instances = [];
    try {
      for (let i = 0; i < n; i++) {
        const t = useWorker ? await WorkerTransport.start(options.workerURL) : new LocalTransport();
        instances.push({ t, busy: 0 });
      }
      const rs = await Promise.all(instances.map(({ t }) => t.call("init", [{ wasm: module, wasmExecURL: execURL.href, recycleMemoryAbove: recycle }])));
      return new Octave(instances, rs[0].simd, relaxed);
    } catch (e) {
      for (const { t } of instances) t.close();
      throw e;
    }
  }

  /**
   * Loads a model: a .safetensors file as a URL (a URL object or a string; a
   * path in Node), an ArrayBuffer, a typed array or a Blob. Options: warmup
   * (default true), onProgress({loaded, total}) while fetching.
   * @returns {Promise<Model>}
   */
  load(source, options = {}) {
    return this._track(async () => {
      this._alive("Octave.load");
      if (options === null || typeof options !== "object") {
        throw new OctaveError(`Octave.load: options must be an object, got ${describe(options)}`);
      }
      const { onProgress } = options;
      if (onProgress !== undefined && typeof onProgress !== "function") {
        throw new OctaveError(`Octave.load: onProgress must be a function, got ${describe(onProgress)}`);
      }
      let bytes = copyBytes(source);
      if (bytes) {
        onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength });
      } else if (typeof source === "string" || source instanceof URL) {
        bytes = await fetchBytes(toURL(source, "Octave.load"), {
          where: "Octave.load", hint: "check the model URL", expected: "a .safetensors model file", check: notModel, onProgress,
        });
      } else if (typeof Blob !== "undefined" && source instanceof Blob) {
        bytes = new Uint8Array(await source.arrayBuffer());
        onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength });
      } else {
        throw new OctaveError(`Octave.load: the model must be a URL, an ArrayBuffer, a Uint8Array or a Blob, got ${describe(source)}`);
      }
      this._alive("Octave.load");
      const rs = await Promise.all(this._inst.map((inst, i) => {
        const b = i === this._inst.length - 1 ? bytes : bytes.slice();
        return this._send(inst, "load", [b], [b.buffer]);
      }));
      const model = new Model(this, rs.map((r) => r.handle), rs[0].info);
      this._models.add(model);
      if ((options.warmup ?? true) && model.info.input.height > 0) {
        // V8 tiers code up after the first runs: run once on every instance
        // before handing the model out.
        const { height, width } = model.info.input;
        const [cH, cL] = inputSplit(model.info);
        const zeros = (c, h, w) => ({ data: new Float32Array(c * h * w), channels: c, height: h, width: w });
        const x = cL > 0 ? { high: zeros(cH, height, width), low: zeros(cL, Math.ceil(height / 2), Math.ceil(width / 2)) }
          : zeros(cH, height, width);
        try {
          await Promise.all(this._inst.map(() => model.classify(x)));
        } catch (e) {
          await model.dispose();
          throw e;
        }
      }
      return model;
    });
  }

  /** The size of the WebAssembly memory, in bytes (summed over the workers). */
  memoryBytes() {
    return this._track(async () => {
      this._alive("Octave.memoryBytes");
      const rs = await Promise.all(this._inst.map((inst) => this._send(inst, "memoryBytes", [])));
      return rs.reduce((a, b) => a + b, 0);
    });
  }

  /**
   * Counters of the wasm instances, summed over the workers: memoryBytes
   * (now), peakMemoryBytes (the most each instance held, as seen after its
   * calls), restarts (how often an instance was replaced to release memory,
   * see recycleMemoryAbove) and restartMs (the time those took).
   * @returns {Promise<{memoryBytes: number, peakMemoryBytes: number, restarts: number, restartMs: number}>}
   */
  stats() {
    return this._track(async () => {
      this._alive("Octave.stats");
      const rs = await Promise.all(this._inst.map((inst) => this._send(inst, "stats", [])));
      const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
      return { memoryBytes: sum("memoryBytes"), peakMemoryBytes: sum("peakMemoryBytes"), restarts: sum("restarts"), restartMs: sum("restartMs") };
    });
  }

  /**
   * Stops the instance. Calls in flight reject with a TerminatedError that
   * needs no handler (it never surfaces as an unhandled rejection); a
   * pending model.dispose() resolves; later calls reject with a
   * TerminatedError; dispose() becomes a no-op. Calling it again does
   * nothing.
   */
  terminate() {
    if (this._dead) return;
    this._dead = "terminate() was called";
    for (const p of this._calls) p.catch(noop);
    for (const m of this._models) m._handles = null;
    this._models.clear();
    for (const { t } of this._inst) t.close(new TerminatedError("Octave: the instance was terminated while the call was pending"));
  }

  _alive(what) {
    if (this._dead) throw new this._deadError(`${what}: the instance was terminated (${this._dead}); call Octave.init for a new one`);
  }

  // _restartFailed stops every instance after one could not be restarted:
  // none is left half-alive, and every pending call rejects with err.
  _restartFailed(err) {
    if (this._dead) return;
    this._dead = err.message;
    this._deadError = RestartError;
    for (const p of this._calls) p.catch(noop);
    for (const m of this._models) m._handles = null;
    this._models.clear();
    for (const { t } of this._inst) t.close(err);
  }

  // _track runs a public call, keeping its promise in _calls while it is in
  // flight, so that terminate() can mark it handled.
  _track(fn) {
    const p = (async () => {
      try {
        return await fn();
      } finally {
        this._calls.delete(p);
      }
    })();
    this._calls.add(p);
    return p;
  }

  // _pick returns the least busy instance.
  _pick() {
    let best = this._inst[0];
    for (const inst of this._inst) if (inst.busy < best.busy) best = inst;
    return best;
  }

  async _send(inst, op, args, transfer) {
    inst.busy++;
    try {
      return await inst.t.call(op, args, transfer);
    } catch (e) {
      if (e instanceof RestartError) this._restartFailed(e);
      throw e;
    } finally {
      inst.busy--;
    }
  }
}

/** A loaded model. */
export class Model {
  /** @private use Octave.load */
  constructor(octave, handles, info) {
    this._octave = octave;
    this._handles = handles; // one per instance; null once disposed
    /** The model's description: see docs/API.md. */
    this.info = info;
  }

  /**
   * Classifies an image or tensor.
   * @returns {Promise<{top: {label: string, index: number, probability: number}[], probabilities: Float32Array, ms: number}>}
   */
  classify(source, options = {}) {
    return this._octave._track(async () => {
      this._check("classify");
      options = checkOptions("classify", options);
      let topK = options.topK ?? 5;
      if (!Number.isInteger(topK) || topK < 0) {
        throw new OctaveError(`Model.classify: topK must be a whole number >= 0, got ${JSON.stringify(topK)}`);
      }
      const r = await this._run("classify", source, options, true, (x) => [x]);
      return { top: topOf(r.probabilities, this.info.labels, topK), probabilities: r.probabilities, ms: r.ms };
    });
  }

  /**
   * Runs the network and returns the high- and low-frequency outputs of the
   * layers named in options.layers (default: every conv and octconv layer).
   * Images run at their own size unless options.size says otherwise. With
   * options.output, images are prepared as for classify (the model's input
   * size and preprocessing) and the result also has maps.output: {top,
   * probabilities, logits} of the same run (topK as for classify).
   */
  featureMaps(source, options = {}) {
    return this._octave._track(async () => {
      this._check("featureMaps");
      options = checkOptions("featureMaps", options);
      let layers = options.layers;
      if (layers !== undefined && layers !== null) {
        if (!Array.isArray(layers) || layers.some((l) => typeof l !== "string")) {
          throw new OctaveError(`Model.featureMaps: layers must be an array of layer names, got ${describe(layers)}`);
        }
        const known = new Set(this.info.layers.map((l) => l.name));
        const unknown = layers.filter((l) => !known.has(l));
        if (unknown.length) {
          throw new OctaveError(`Model.featureMaps: unknown layer ${JSON.stringify(unknown[0])}; the model's layers are ${[...known].join(", ")}`);
        }
      }
      const output = !!options.output;
      let topK = options.topK ?? 5;
      if (!Number.isInteger(topK) || topK < 0) {
        throw new OctaveError(`Model.featureMaps: topK must be a whole number >= 0, got ${JSON.stringify(topK)}`);
      }
      const r = await this._run("featureMaps", source, options, output, (x) => [x, layers ?? null, output]);
      r.maps.ms = r.ms;
      if (r.output) {
        const { logits, probabilities } = r.output;
        r.maps.output = { top: topOf(probabilities, this.info.labels, topK), probabilities, logits };
      }
      return r.maps;
    });
  }

  // _run checks and converts source and makes the call; an image file that
  // the wasm cannot decode (a format only the browser knows, such as AVIF) is
  // decoded by the browser instead and sent as pixels.
  async _run(what, source, options, fit, args) {
    checkSize(what, source, this.info, options.size, fit);
    const x = await toSource(what, source, this.info, options.size, fit);
    checkFinite(what, x, options);
    try {
      return checkOutput(what, await this._call(what, x, args), x, options);
    } catch (e) {
      if (x.kind !== "encoded" || !/unknown image format/.test(e.message) || typeof createImageBitmap !== "function") throw e;
      let bmp;
      try {
        bmp = await createImageBitmap(new Blob([x.data]));
      } catch {
        throw e;
      }
      checkSize(what, bmp, this.info, options.size, fit);
      const px = drawPixels(`Model.${what}`, bmp, { width: bmp.width, height: bmp.height });
      bmp.close?.();
      const y = { ...x, kind: "rgba", data: px.rgba, width: px.w, height: px.h, fresh: true };
      return checkOutput(what, await this._call(what, y, args), y, options);
    }
  }

  /**
   * Frees the model. Calls on it still converting their input reject with a
   * DisposedError, later calls too; calls already running finish. A no-op
   * when the model or its instance is gone.
   */
  async dispose() {
    const hs = this._handles;
    if (!hs) return;
    this._handles = null;
    const o = this._octave;
    o._models.delete(this);
    if (o._dead) return;
    try {
      await Promise.all(o._inst.map((inst, i) => inst.t.call("dispose", [hs[i]])));
    } catch (e) {
      if (e instanceof RestartError) o._restartFailed(e);
      // terminate() frees everything: the dispose is done either way.
      if (!(e instanceof TerminatedError)) throw e;
    }
  }

  _check(what) {
    this._octave._alive(`Model.${what}`);
    if (!this._handles) throw new DisposedError(`Model.${what}: the model was disposed`);
  }

  // _call sends a run to the least busy instance, checking first that
  // neither the model nor the instance went away while the input was being
  // converted.
  async _call(op, x, args) {
    this._check(op);
    const o = this._octave;
    const inst = o._pick();
    const h = this._handles[o._inst.indexOf(inst)];
    return o._send(inst, op, [h, ...args(x)], transferOf(x));
  }
}

// transferOf lists the buffers that a call may hand over to a worker: those
// that toSource made, never the caller's own.
function transferOf(x) {
  return x.fresh ? [x.data.buffer] : [];
}

// topOf returns the topK classes of p, ties broken by index.
function topOf(p, labels, topK) {
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
  return order.slice(0, Math.min(topK, p.length)).map((i) => ({ label: labels[i] ?? String(i), index: i, probability: p[i] }));
}

// inputSplit returns the channels of the model input's high and low parts
// (low > 0 when the input layer has alpha_out > 0).
function inputSplit(info) {
  const l = info.layers && info.layers[0];
  if (!l || l.kind !== "input") return [info.input.channels, 0];
  return [l.high ? l.high[0] : 0, l.low ? l.low[0] : 0];
}

function checkOptions(what, options) {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") {
    throw new OctaveError(`Model.${what}: options must be an object, got ${describe(options)}`);
  }
  return options;
}

// ---- Image sources ----

function isTensorLike(s) {
  return s && typeof s === "object" && s.data instanceof Float32Array && "channels" in s;
}

function isOctaves(s) {
  return s && typeof s === "object" && !("data" in s) && ("high" in s || "low" in s);
}

function isRGBALike(s) {
  return s && typeof s === "object" && (s.data instanceof Uint8ClampedArray || s.data instanceof Uint8Array) &&
    Number.isInteger(s.width) && Number.isInteger(s.height) && !("channels" in s);
}

function isDrawable(s) {
  const names = ["HTMLImageElement", "HTMLCanvasElement", "ImageBitmap", "OffscreenCanvas", "HTMLVideoElement", "VideoFrame", "SVGImageElement"];
  return names.some((n) => typeof globalThis[n] === "function" && s instanceof globalThis[n]);
}

function isEncoded(s) {
  return s instanceof ArrayBuffer || (ArrayBuffer.isView(s) && !(s instanceof Float32Array)) ||
    (typeof Blob !== "undefined" && s instanceof Blob);
}

const SOURCES = "ImageData, HTMLCanvasElement, HTMLImageElement, ImageBitmap, an image file (Blob, ArrayBuffer, Uint8Array), {data: Float32Array, channels, height, width} or {high, low} of those";

function posInt(v) {
  return Number.isInteger(v) && v > 0;
}

// checkTensor checks a tensor source's shape and returns it as sent.
function checkTensor(where, what, t) {
  if (!isTensorLike(t)) throw new OctaveError(`${where}: the ${what} must be {data: Float32Array, channels, height, width}, got ${describe(t)}`);
  const { channels, height, width, data } = t;
  if (!posInt(channels) || !posInt(height) || !posInt(width)) {
    throw new OctaveError(`${where}: ${what} channels, height and width must be positive whole numbers, got ${channels}, ${height}, ${width}`);
  }
  if (data.length !== channels * height * width) {
    throw new OctaveError(`${where}: the ${what} holds ${data.length} values, ${channels}x${height}x${width} needs ${channels * height * width}`);
  }
  return { data, channels, height, width };
}

// toSource turns a source into what the wasm takes (octave-backend.js,
// wasmSource): a tensor as it is (the call copies it), RGBA pixels at their
// own size, or an image file's bytes; fit asks for the model's input size and
// preprocessing, size (or a number: the longer side) overrides it. fresh
// marks data made here, which may be transferred to a worker.
async function toSource(what, src, info, size, fit) {
  const where = `Model.${what}`;
  const input = info.input;
  if (src === null || typeof src !== "object") {
    throw new OctaveError(`${where}: the source must be ${SOURCES}; got ${describe(src)}`);
  }
  const img = { fit };
  if (typeof size === "number") {
    if (!posInt(size)) throw new OctaveError(`${where}: size must be {width, height} or a longer side, in whole pixels, got ${size}`);
    img.longer = size;
  } else if (size !== undefined) {
    if (!(size && posInt(size.width) && posInt(size.height))) {
      throw new OctaveError(`${where}: size must be {width, height} in whole pixels, got ${JSON.stringify(size)}`);
    }
    img.size = { width: size.width, height: size.height };
  }
  const [cH, cL] = inputSplit(info);
  if (isOctaves(src)) {
    if (cL === 0) throw new OctaveError(`${where}: the model's input layer takes no low part (alpha_out = 0): pass one tensor`);
    const high = checkTensor(where, "high tensor", src.high), low = checkTensor(where, "low tensor", src.low);
    if (high.channels !== cH || low.channels !== cL) {
      throw new OctaveError(`${where}: the tensors have ${high.channels} high and ${low.channels} low channels, the model takes ${cH} and ${cL}`);
    }
    return { kind: "tensor", ...high, low, fresh: false };
  }
  if (isTensorLike(src)) {
    const t = checkTensor(where, "tensor", src);
    if (cL > 0) {
      throw new OctaveError(`${where}: the model's input layer has alpha_out > 0: pass {high, low} tensors of ${cH} and ${cL} channels`);
    }
    if (t.channels !== input.channels) {
      throw new OctaveError(`${where}: the tensor has ${t.channels} channels, the model takes ${input.channels}`);
    }
    return { kind: "tensor", ...t, fresh: false };
  }
  if (isRGBALike(src)) {
    const { width: w, height: h } = src;
    if (!posInt(w) || !posInt(h) || src.data.length !== 4 * w * h) {
      throw new OctaveError(`${where}: image data of ${w}x${h} pixels needs ${4 * w * h} RGBA bytes, got ${src.data.length}`);
    }
    return { kind: "rgba", data: src.data, width: w, height: h, ...img, fresh: false };
  }
  if (isEncoded(src)) {
    let data;
    if (src instanceof ArrayBuffer) data = new Uint8Array(src);
    else if (ArrayBuffer.isView(src)) data = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    else data = new Uint8Array(await src.arrayBuffer());
    if (data.length === 0) throw new OctaveError(`${where}: the image file is empty`);
    // Never transferred: kept for the browser's decoder should the wasm not know the format.
    return { kind: "encoded", data, ...img, fresh: false };
  }
  if (isDrawable(src)) {
    const own = naturalSize(where, src);
    const { rgba, w, h } = drawPixels(where, src, own);
    return { kind: "rgba", data: rgba, width: w, height: h, ...img, fresh: true };
  }
  throw new OctaveError(`${where}: the source must be ${SOURCES}; got ${describe(src)}`);
}

function naturalSize(where, s) {
  const w = s.naturalWidth ?? s.videoWidth ?? s.displayWidth ?? s.width;
  const h = s.naturalHeight ?? s.videoHeight ?? s.displayHeight ?? s.height;
  if (!posInt(w) || !posInt(h)) {
    throw new OctaveError(`${where}: the image has no pixels yet (${w}x${h}): wait for it to load`);
  }
  return { width: w, height: h };
}

// drawPixels draws a drawable source, unscaled at its own size, and reads its
// pixels.
function drawPixels(where, src, { width, height }) {
  let canvas;
  if (typeof OffscreenCanvas === "function") canvas = new OffscreenCanvas(width, height);
  else if (typeof document !== "undefined") {
    canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
  } else throw new OctaveError(`${where}: drawing an image needs a canvas; pass ImageData-like pixels, an image file or a tensor`);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  try {
    ctx.drawImage(src, 0, 0, width, height);
    return { rgba: ctx.getImageData(0, 0, width, height).data, w: width, h: height };
  } catch (e) {
    throw new OctaveError(`${where}: the image cannot be read (${e.message}); a cross-origin image needs CORS`);
  }
}

/**
 * Resizes RGBA pixels bilinearly (pixel centers aligned, edges clamped).
 * Kept for callers of earlier versions: the library itself no longer resizes
 * in JavaScript (images are resized by octcore/imageio in the wasm).
 * @returns {Uint8ClampedArray}
 */
export function resizeBilinear(src, w, h, tw, th) {
  const dst = new Uint8ClampedArray(4 * tw * th);
  const sx = w / tw, sy = h / th;
  for (let y = 0; y < th; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), wy = fy - y0;
    for (let x = 0; x < tw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), wx = fx - x0;
      for (let c = 0; c < 4; c++) {
        const a = src[4 * (y0 * w + x0) + c], b = src[4 * (y0 * w + x1) + c];
        const d = src[4 * (y1 * w + x0) + c], e = src[4 * (y1 * w + x1) + c];
        dst[4 * (y * tw + x) + c] = (a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy;
      }
    }
  }
  return dst;
}

// ---- Bounds ----

// Octave.init's recycleMemoryAbove default: the shipped models at their input
// size hold about 8 MiB, and 12 with 640x480 photos (docs/API.md, "Memory").
const DEFAULT_RECYCLE = 32 * 1024 * 1024;

// A call may run at a size whose activations (the floats of every layer's
// output, which the network allocates) stay within the larger of
// MAX_ACTIVATIONS and ACTIVATION_FACTOR times the model's own figure at its
// declared input size (224 x 224 for any-size models). Checked before any
// pixel is drawn or allocated.
const MAX_ACTIVATIONS = 1 << 24; // 64 MiB of float32
const ACTIVATION_FACTOR = 4;

function activationBudget(info) {
  const at = info.layers.reduce((s, l) => s + l.activations, 0);
  const [ch, cw] = info.costSize;
  return { perPixel: at / (ch * cw), limit: Math.max(MAX_ACTIVATIONS, ACTIVATION_FACTOR * at) };
}

// checkSize bounds the size a call runs at, where it is known before the
// wasm decodes anything: size (a number: the longer side, taken as a square),
// a tensor's, RGBA pixels' or a drawable's own size. An image file resized to
// a fixed-size model's input needs no check; one run at its own size is
// bounded by octcore/imageio's decode limits.
function checkSize(what, src, info, size, fit) {
  const where = `Model.${what}`;
  let w, h;
  if (typeof size === "number") {
    if (!posInt(size)) return; // toSource says what is wrong
    w = h = size;
  } else if (size !== undefined) {
    if (!(size && posInt(size.width) && posInt(size.height))) return;
    ({ width: w, height: h } = size);
  } else if (isOctaves(src)) {
    if (!isTensorLike(src.high)) return;
    ({ width: w, height: h } = src.high);
    if (!posInt(w) || !posInt(h)) return;
  } else if (isTensorLike(src)) {
    ({ width: w, height: h } = src);
    if (!posInt(w) || !posInt(h)) return;
  } else if (fit && info.input.height > 0 && info.input.width > 0) {
    return; // an image resized to the model's own size
  } else if (isRGBALike(src)) {
    ({ width: w, height: h } = src);
    if (!posInt(w) || !posInt(h)) return;
  } else if (src && typeof src === "object" && isDrawable(src)) {
    ({ width: w, height: h } = naturalSize(where, src));
  } else {
    return;
  }
  const { perPixel, limit } = activationBudget(info);
  const need = perPixel * w * h;
  if (need > limit) {
    const side = Math.floor(Math.sqrt(limit / perPixel));
    throw new OctaveError(`${where}: a ${w}x${h} input needs about ${fmtMiB(need)} of activations, over this model's limit of ` +
      `${fmtMiB(limit)} (about ${side}x${side} pixels): pass a smaller image or size`);
  }
}

function fmtMiB(floats) {
  return `${Math.round((4 * floats) / (1 << 20))} MiB`;
}

// checkFinite rejects NaN and infinite input values (every output would be
// NaN); options.checkInput: false skips the scan.
// Only tensors are scanned: pixels and image files are finite by nature.
function checkFinite(what, x, options) {
  if (options.checkInput === false || x.kind !== "tensor") return;
  for (const [part, t] of x.low ? [["high ", x], ["low ", x.low]] : [["", x]]) {
    const i = firstNonFinite(t.data);
    if (i >= 0) {
      throw new OctaveError(`Model.${what}: ${part}input value ${i} is ${t.data[i]}; the network needs finite values (checkInput: false skips this check)`);
    }
  }
}

// firstNonFinite returns the index of d's first NaN or infinite value, or
// -1. v * 0 is 0 for a finite v and NaN otherwise, so four running sums of
// it tell whether there is one without a branch per value (2-4x faster than
// testing each value in V8: 0.13-0.21 ms against 0.46-0.58 ms for 200,704
// values in Node 20); only then are the values tested one by one.
function firstNonFinite(d) {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  const n = d.length - (d.length % 4);
  for (let i = 0; i < n; i += 4) {
    a0 += d[i] * 0;
    a1 += d[i + 1] * 0;
    a2 += d[i + 2] * 0;
    a3 += d[i + 3] * 0;
  }
  for (let i = n; i < d.length; i++) a0 += d[i] * 0;
  if (a0 + a1 + a2 + a3 === 0) return -1;
  for (let i = 0; i < d.length; i++) if (d[i] - d[i] !== 0) return i;
  return -1;
}

// checkOutput rejects a result whose probabilities are not finite: finite
// inputs too large for float32 arithmetic (1e38, say) overflow inside the
// network. options.checkInput: false returns such results as they are.
function checkOutput(what, r, x, options) {
  const p = r.probabilities ?? r.output?.probabilities;
  if (options.checkInput === false || !p || p.every((v) => v - v === 0)) return r;
  let most = 0;
  if (x.kind === "tensor") {
    for (const t of x.low ? [x, x.low] : [x]) for (const v of t.data) most = Math.max(most, Math.abs(v));
  }
  throw new OctaveError(`Model.${what}: the network's output is not finite` +
    (x.kind === "tensor" ? `: input values up to ${most} overflow float32 arithmetic; scale the input (the model's preprocessing expects values near [-3, 3])` : "") +
    " (checkInput: false returns it anyway)");
}

// ---- Transports ----

// LocalTransport runs the backend in this thread, through a Host
// (octave-backend.js) that restarts the wasm instance after a large input.
class LocalTransport {
  constructor() {
    this.host = null;
    this.closed = null;
  }

  async call(op, args) {
    if (this.closed) throw this.closed;
    if (op === "init") {
      const { Host } = await import("./octave-backend.js");
      if (this.closed) throw this.closed;
      this.host = new Host(args[0]);
      return await this.host.start();
    }
    try {
      return await this.host.call(op, args);
    } catch (e) {
      if (e === this.closed || e instanceof OctaveError) throw e;
      throw asNamed(e.message, e.name);
    }
  }

  close(err) {
    this.closed ??= err ?? new TerminatedError("Octave: the instance was terminated");
    if (this.host) this.host.close(this.closed);
  }
}

function crossOrigin(url) {
  return typeof location !== "undefined" && /^https?:$/.test(location.protocol) && url.origin !== location.origin;
}

// startWorker starts the browser's module worker: the literal pattern that
// bundlers follow, or, when this module comes from another origin (a CDN:
// the wasm beside it is on that origin too; bundlers emit it beside the
// app), a same-origin Blob worker that imports it with CORS.
function startWorker(custom) {
  if (custom) {
    if (!crossOrigin(custom)) return { w: new Worker(custom, { type: "module" }), url: custom };
    return blobWorker(custom);
  }
  if (crossOrigin(defaultWasmURL())) return blobWorker(new URL(import.meta.url.replace(/[^/]*$/, "octave-worker.js")));
  const w = new Worker(new URL("./octave-worker.js", import.meta.url), { type: "module" });
  return { w, url: null };
}

function blobWorker(url) {
  const blob = new Blob([`import ${JSON.stringify(url.href)};\n`], { type: "text/javascript" });
  const blobURL = URL.createObjectURL(blob);
  return { w: new Worker(blobURL, { type: "module" }), url, blobURL };
}

// whyWorkerFailed turns a worker's error event into a reason: the event's own
// message (a script error), or what a GET of the script returns.
async function whyWorkerFailed(ev, url) {
  if (ev && ev.message) return `${ev.message}${ev.filename ? ` (${ev.filename}:${ev.lineno})` : ""}`;
  if (!url) return "the script or a module it imports did not load (see the browser console)";
  try {
    const res = await fetch(url);
    const type = (res.headers.get("content-type") || "no Content-Type").split(";")[0];
    if (!res.ok) return `GET ${url.href}: HTTP ${res.status}`;
    if (!/javascript|ecmascript/.test(type)) return `GET ${url.href}: got ${type} (HTTP ${res.status}), expected text/javascript: check workerURL`;
    return "the script or a module it imports did not load (see the browser console)";
  } catch (e) {
    return `GET ${url.href} failed: ${e.message}` + (crossOrigin(url) ? " (another origin: the server must send Access-Control-Allow-Origin)" : "");
  }
}

// WorkerTransport talks to octave-worker.js in a Web Worker or, in Node,
// octave-worker-node.js in a worker_threads Worker.
class WorkerTransport {
  static async start(workerURL) {
    const custom = workerURL === undefined ? undefined : toURL(workerURL, "Octave.init: workerURL");
    if (inNode && typeof globalThis.Worker !== "function") {
      const n = node();
      const url = custom ?? n.workerURL;
      const w = new n.Worker(url);
      w.unref(); // an idle instance does not keep Node running
      return new WorkerTransport(w, true, url);
    }
    const { w, url, blobURL } = startWorker(custom);
    return new WorkerTransport(w, false, url, blobURL);
  }

  constructor(w, node, url, blobURL) {
    this.w = w;
    this.node = node;
    this.url = url;
    this.blobURL = blobURL;
    this.pending = new Map();
    this.next = 1;
    this.dead = null;
    this.started = false;
    const onMessage = (msg) => {
      this._started();
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      this._idle();
      if (msg.ok) p.resolve(msg.result);
      else p.reject(asNamed(msg.error, msg.name));
    };
    const name = url ? url.href : "octave-worker.js (the package's worker)";
    const what = () => this.started ? `the worker ${name} failed` : `the worker ${name} did not start`;
    if (node) {
      w.on("message", onMessage);
      w.on("error", (e) => this._fail(new OctaveError(`Octave: ${what()}: ${(e && e.message) || e}`)));
      w.on("exit", (code) => this._fail(new OctaveError(`Octave: the worker ${name} exited (code ${code})`)));
    } else {
      w.addEventListener("message", (ev) => onMessage(ev.data));
      w.addEventListener("error", (ev) => {
        ev.preventDefault?.();
        const head = what();
        whyWorkerFailed(ev, url).then((why) => this._fail(new OctaveError(`Octave: ${head}: ${why}`)));
      });
      w.addEventListener("messageerror", () => this._fail(new OctaveError(`Octave: a message from the worker ${name} could not be read`)));
    }
  }

  _started() {
    if (this.started) return;
    this.started = true;
    if (this.blobURL) URL.revokeObjectURL(this.blobURL);
  }

  call(op, args, transfer = []) {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.node && this.pending.size === 1) this.w.ref();
      try {
        this.w.postMessage({ id, op, args }, transfer);
      } catch (e) {
        this.pending.delete(id);
        this._idle();
        reject(new OctaveError(`Octave: ${op}: the call could not be sent to the worker: ${e.message}`));
      }
    });
  }

  _idle() {
    if (this.node && this.pending.size === 0) this.w.unref();
  }

  _fail(err) {
    if (this.dead) return;
    this.dead = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this._idle();
  }

  close(err) {
    this._fail(err ?? new TerminatedError("Octave: the instance was terminated"));
    this.w.terminate();
    if (this.blobURL && !this.started) URL.revokeObjectURL(this.blobURL);
  }
}
