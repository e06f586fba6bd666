// Octave: Octave Convolution networks in WebAssembly. See docs/API.md.
//
//   import { Octave } from "./octave.js";
//   const octave = await Octave.init();            // dedicated worker, SIMD if supported
//   const model = await octave.load("model.safetensors");
//   const r = await model.classify(imageElement, { topK: 5 });
//   model.dispose(); octave.terminate();
//
// Image sources are converted here, in JavaScript: drawn (resized) onto a
// canvas, or resized bilinearly when they are already RGBA pixels, turned to
// grayscale for one-channel models (0.299 R + 0.587 G + 0.114 B), scaled to
// [0, 1] and normalized per channel as (v - mean) / std with the model's
// input spec. Tensor sources ({data: Float32Array, channels, height, width})
// are taken as already normalized.

const inNode = typeof process !== "undefined" && !!(process.versions && process.versions.node);

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

/** Whether this engine runs WebAssembly SIMD128. */
export function simdSupported() {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function baseURL() {
  if (typeof location !== "undefined" && location.href) return location.href;
  if (inNode) return "file://" + process.cwd().replace(/\\/g, "/").replace(/\/?$/, "/");
  return import.meta.url;
}

function toURL(u) {
  return u instanceof URL ? u : new URL(String(u), baseURL());
}

async function fetchBytes(url, what) {
  url = toURL(url);
  if (url.protocol === "file:") {
    const [{ readFile }, { fileURLToPath }] = await Promise.all([import("node:fs/promises"), import("node:url")]);
    try {
      const b = await readFile(fileURLToPath(url));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      throw new Error(`Octave: reading ${what} ${url.href}: ${e.message}`);
    }
  }
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`Octave: fetching ${what} ${url.href}: ${e.message}`);
  }
  if (!res.ok) throw new Error(`Octave: fetching ${what} ${url.href}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
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

/** The Octave library: one WebAssembly instance, in a worker or in this thread. */
export class Octave {
  /** @private use Octave.init */
  constructor(transport, simd) {
    this._t = transport;
    /** Whether the instance runs the SIMD128 build. */
    this.simd = simd;
    this._models = new Set();
  }

  /**
   * Starts an instance. Options:
   *   wasmURL      a directory holding octave.wasm, octave-nosimd.wasm and
   *                wasm_exec.js (the default: ./dist/ beside this module), or
   *                the URL of one .wasm file
   *   wasm         the wasm binary itself (ArrayBuffer, Uint8Array, Buffer)
   *   simd         "auto" (default: feature detection), true or false
   *   wasmExecURL  Go's wasm_exec.js (default: beside the wasm)
   *   worker       true (default): run in a dedicated worker; false: this thread
   *   workerURL    octave-worker.js (default: beside this module)
   */
  static async init(options = {}) {
    if (options === null || typeof options !== "object") {
      throw new Error(`Octave.init: options must be an object, got ${describe(options)}`);
    }
    const simdMode = options.simd ?? "auto";
    if (simdMode !== "auto" && simdMode !== true && simdMode !== false) {
      throw new Error(`Octave.init: simd must be "auto", true or false, got ${JSON.stringify(simdMode)}`);
    }
    let simd = simdMode === "auto" ? simdSupported() : simdMode;
    let dir = new URL("./dist/", import.meta.url);
    let bytes;
    if (options.wasm !== undefined) {
      bytes = copyBytes(options.wasm);
      if (!bytes) throw new Error(`Octave.init: wasm must be an ArrayBuffer or a typed array, got ${describe(options.wasm)}`);
    } else {
      let url;
      if (options.wasmURL !== undefined) {
        const u = toURL(options.wasmURL);
        if (u.pathname.endsWith(".wasm")) url = u;
        else dir = new URL(u.href.endsWith("/") ? u.href : u.href + "/");
      }
      if (!url) url = new URL(simd ? "octave.wasm" : "octave-nosimd.wasm", dir);
      else dir = new URL("./", url);
      bytes = await fetchBytes(url, "the wasm binary");
    }
    if (!WebAssembly.validate(bytes)) {
      if (simd && !simdSupported()) throw new Error("Octave.init: this engine lacks WebAssembly SIMD; use octave-nosimd.wasm");
      throw new Error("Octave.init: the wasm binary is not valid WebAssembly for this engine");
    }
    const wasmExecURL = toURL(options.wasmExecURL ?? new URL("wasm_exec.js", dir)).href;
    const init = { wasm: bytes.buffer, wasmExecURL };
    const useWorker = options.worker ?? true;
    let transport;
    if (useWorker) {
      transport = await WorkerTransport.start(options.workerURL ?? new URL("./octave-worker.js", import.meta.url));
    } else {
      transport = new LocalTransport();
    }
    let r;
    try {
      r = await transport.call("init", [init], [init.wasm]);
    } catch (e) {
      transport.close();
      throw e;
    }
    return new Octave(transport, r.simd);
  }

  /**
   * Loads a model: a .safetensors file as a URL (or path, in Node), an
   * ArrayBuffer, a Uint8Array or a Blob.
   * @returns {Promise<Model>}
   */
  async load(source, options = {}) {
    this._alive("load");
    let bytes = copyBytes(source);
    if (!bytes) {
      if (typeof source === "string" || source instanceof URL) {
        bytes = await fetchBytes(source, "the model");
      } else if (typeof Blob !== "undefined" && source instanceof Blob) {
        bytes = new Uint8Array(await source.arrayBuffer());
      } else {
        throw new Error(`Octave.load: the model must be a URL, an ArrayBuffer, a Uint8Array or a Blob, got ${describe(source)}`);
      }
    }
    this._alive("load");
    const r = await this._t.call("load", [bytes], [bytes.buffer]);
    const model = new Model(this, r.handle, r.info);
    this._models.add(model);
    if ((options.warmup ?? true) && r.info.input.height > 0) {
      // V8 tiers code up after the first runs: run once before handing out.
      const { channels, height, width } = r.info.input;
      try {
        await model.classify({ data: new Float32Array(channels * height * width), channels, height, width });
      } catch (e) {
        await model.dispose();
        throw e;
      }
    }
    return model;
  }

  /** The size of the instance's WebAssembly memory, in bytes. */
  async memoryBytes() {
    this._alive("memoryBytes");
    return this._t.call("memoryBytes", []);
  }

  /** Stops the instance: every model and pending call fails afterwards. */
  terminate() {
    if (!this._t) return;
    const t = this._t;
    this._t = null;
    for (const m of this._models) m._handle = 0;
    this._models.clear();
    t.close();
  }

  _alive(what) {
    if (!this._t) throw new Error(`Octave.${what}: the instance was terminated`);
  }
}

/** A loaded model. */
export class Model {
  /** @private use Octave.load */
  constructor(octave, handle, info) {
    this._octave = octave;
    this._handle = handle;
    /** The model's description: see docs/API.md. */
    this.info = info;
  }

  /**
   * Classifies an image or tensor.
   * @returns {Promise<{top: {label: string, index: number, probability: number}[], probabilities: Float32Array, ms: number}>}
   */
  async classify(source, options = {}) {
    const t = this._transport("classify");
    options = checkOptions("classify", options);
    let topK = options.topK ?? 5;
    if (!Number.isInteger(topK) || topK < 0) {
      throw new Error(`Model.classify: topK must be a whole number >= 0, got ${JSON.stringify(topK)}`);
    }
    const x = await toTensor("classify", source, this.info.input, options.size, true);
    const r = await t.call("classify", [this._handle, x.data, x.channels, x.height, x.width], transferOf(x));
    const p = r.probabilities;
    const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
    const labels = this.info.labels;
    const top = order.slice(0, Math.min(topK, p.length)).map((i) => ({
      label: labels[i] ?? String(i),
      index: i,
      probability: p[i],
    }));
    return { top, probabilities: p, ms: r.ms };
  }

  /**
   * Runs the network and returns the high- and low-frequency outputs of the
   * layers named in options.layers (default: every conv and octconv layer).
   * Images run at their own size unless options.size says otherwise.
   */
  async featureMaps(source, options = {}) {
    const t = this._transport("featureMaps");
    options = checkOptions("featureMaps", options);
    let layers = options.layers;
    if (layers !== undefined && layers !== null) {
      if (!Array.isArray(layers) || layers.some((l) => typeof l !== "string")) {
        throw new Error(`Model.featureMaps: layers must be an array of layer names, got ${describe(layers)}`);
      }
      const known = new Set(this.info.layers.map((l) => l.name));
      const unknown = layers.filter((l) => !known.has(l));
      if (unknown.length) {
        throw new Error(`Model.featureMaps: unknown layer ${JSON.stringify(unknown[0])}; the model's layers are ${[...known].join(", ")}`);
      }
    }
    const x = await toTensor("featureMaps", source, this.info.input, options.size, false);
    const r = await t.call("featureMaps", [this._handle, x.data, x.channels, x.height, x.width, layers ?? null], transferOf(x));
    r.maps.ms = r.ms;
    return r.maps;
  }

  /** Frees the model. Later calls on it reject. */
  async dispose() {
    if (!this._handle) return;
    const h = this._handle;
    this._handle = 0;
    const o = this._octave;
    o._models.delete(this);
    if (o._t) await o._t.call("dispose", [h]);
  }

  _transport(what) {
    if (!this._octave._t) throw new Error(`Model.${what}: the Octave instance was terminated`);
    if (!this._handle) throw new Error(`Model.${what}: the model was disposed`);
    return this._octave._t;
  }
}

// transferOf lists the buffers that a call may hand over to a worker: those
// that toTensor made, never the caller's own.
function transferOf(x) {
  return x.fresh ? [x.data.buffer] : [];
}

function checkOptions(what, options) {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") {
    throw new Error(`Model.${what}: options must be an object, got ${describe(options)}`);
  }
  return options;
}

// ---- Image sources ----

function isTensorLike(s) {
  return s && typeof s === "object" && s.data instanceof Float32Array && "channels" in s;
}

function isRGBALike(s) {
  return s && typeof s === "object" && (s.data instanceof Uint8ClampedArray || s.data instanceof Uint8Array) &&
    Number.isInteger(s.width) && Number.isInteger(s.height) && !("channels" in s);
}

function isDrawable(s) {
  const names = ["HTMLImageElement", "HTMLCanvasElement", "ImageBitmap", "OffscreenCanvas", "HTMLVideoElement", "VideoFrame", "SVGImageElement"];
  return names.some((n) => typeof globalThis[n] === "function" && s instanceof globalThis[n]);
}

const SOURCES = "ImageData, HTMLCanvasElement, HTMLImageElement, ImageBitmap or {data: Float32Array, channels, height, width}";

function posInt(v) {
  return Number.isInteger(v) && v > 0;
}

// toTensor converts a source to a normalized channels x height x width tensor
// in a Float32Array: the caller's own for a tensor source (the call copies
// it), else a fresh one (fresh: true, it may be transferred).
async function toTensor(what, src, input, size, fit) {
  const where = `Model.${what}`;
  if (src === null || typeof src !== "object") {
    throw new Error(`${where}: the source must be ${SOURCES}; got ${describe(src)}`);
  }
  if (size !== undefined && !(size && posInt(size.width) && posInt(size.height))) {
    throw new Error(`${where}: size must be {width, height} in whole pixels, got ${JSON.stringify(size)}`);
  }
  if (isTensorLike(src)) {
    const { channels, height, width, data } = src;
    if (!posInt(channels) || !posInt(height) || !posInt(width)) {
      throw new Error(`${where}: tensor channels, height and width must be positive whole numbers, got ${channels}, ${height}, ${width}`);
    }
    if (channels !== input.channels) {
      throw new Error(`${where}: the tensor has ${channels} channels, the model takes ${input.channels}`);
    }
    if (data.length !== channels * height * width) {
      throw new Error(`${where}: the tensor holds ${data.length} values, ${channels}x${height}x${width} needs ${channels * height * width}`);
    }
    return { data, channels, height, width, fresh: false };
  }
  let rgba, w, h;
  if (isRGBALike(src)) {
    ({ width: w, height: h } = src);
    if (!posInt(w) || !posInt(h) || src.data.length !== 4 * w * h) {
      throw new Error(`${where}: image data of ${w}x${h} pixels needs ${4 * w * h} RGBA bytes, got ${src.data.length}`);
    }
    rgba = src.data;
  } else if (isDrawable(src)) {
    ({ rgba, w, h } = drawPixels(where, src, targetSize(input, size, fit, naturalSize(where, src))));
  } else {
    throw new Error(`${where}: the source must be ${SOURCES}; got ${describe(src)}`);
  }
  const t = targetSize(input, size, fit, { width: w, height: h });
  if (t.width !== w || t.height !== h) {
    rgba = resizeBilinear(rgba, w, h, t.width, t.height);
    w = t.width;
    h = t.height;
  }
  return normalize(where, rgba, w, h, input);
}

function targetSize(input, size, fit, own) {
  if (size) return size;
  if (fit && input.height > 0 && input.width > 0) return { width: input.width, height: input.height };
  return own;
}

function naturalSize(where, s) {
  const w = s.naturalWidth ?? s.videoWidth ?? s.displayWidth ?? s.width;
  const h = s.naturalHeight ?? s.videoHeight ?? s.displayHeight ?? s.height;
  if (!posInt(w) || !posInt(h)) {
    throw new Error(`${where}: the image has no pixels yet (${w}x${h}): wait for it to load`);
  }
  return { width: w, height: h };
}

// drawPixels draws a drawable source at the given size and reads its pixels.
function drawPixels(where, src, { width, height }) {
  let canvas;
  if (typeof OffscreenCanvas === "function") canvas = new OffscreenCanvas(width, height);
  else if (typeof document !== "undefined") {
    canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
  } else throw new Error(`${where}: drawing an image needs a canvas; pass ImageData-like pixels or a tensor`);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  try {
    ctx.drawImage(src, 0, 0, width, height);
    return { rgba: ctx.getImageData(0, 0, width, height).data, w: width, h: height };
  } catch (e) {
    throw new Error(`${where}: the image cannot be read (${e.message}); a cross-origin image needs CORS`);
  }
}

/**
 * Resizes RGBA pixels bilinearly (pixel centers aligned, edges clamped).
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

// The luma weights of Go's image/color Gray model (and octcore/imageio):
// 19595 + 38470 + 7471 = 65536, that is 0.299, 0.587 and 0.114.
const GR = 19595 / 65536, GG = 38470 / 65536, GB = 7471 / 65536;

/**
 * Turns RGBA pixels into a normalized tensor: grayscale (0.299 R + 0.587 G +
 * 0.114 B) for one channel, RGB for three; v / 255, then (v - mean) / std.
 */
function normalize(where, rgba, w, h, input) {
  const C = input.channels;
  if (C !== 1 && C !== 3) {
    throw new Error(`${where}: images feed 1- or 3-channel models; this model takes ${C} channels: pass a tensor`);
  }
  const n = w * h;
  const out = new Float32Array(C * n);
  const mean = input.mean, std = input.std;
  if (C === 1) {
    const m = mean[0], s = std[0];
    for (let i = 0; i < n; i++) {
      const v = (GR * rgba[4 * i] + GG * rgba[4 * i + 1] + GB * rgba[4 * i + 2]) / 255;
      out[i] = (v - m) / s;
    }
  } else {
    for (let c = 0; c < 3; c++) {
      const m = mean[c], s = std[c], o = c * n;
      for (let i = 0; i < n; i++) out[o + i] = (rgba[4 * i + c] / 255 - m) / s;
    }
  }
  return { data: out, channels: C, height: h, width: w, fresh: true };
}

// ---- Transports ----

// LocalTransport runs the backend in this thread.
class LocalTransport {
  constructor() {
    this.backend = null;
    this.closed = false;
  }

  async call(op, args) {
    if (this.closed) throw new Error("Octave: the instance was terminated");
    if (op === "init") {
      const { startBackend } = await import("./octave-backend.js");
      this.backend = await startBackend(args[0]);
      return { simd: this.backend.simd };
    }
    const b = this.backend;
    switch (op) {
      case "load": return b.load(args[0]);
      case "classify": return b.classify(...args);
      case "featureMaps": return b.featureMaps(...args);
      case "dispose": return b.dispose(args[0]);
      case "memoryBytes": return b.memoryBytes();
      case "count": return b.count();
      default: throw new Error(`Octave: unknown operation ${op}`);
    }
  }

  close() {
    this.closed = true;
    if (this.backend) this.backend.exit();
  }
}

// WorkerTransport talks to octave-worker.js in a Web Worker or, in Node, a
// worker_threads Worker.
class WorkerTransport {
  static async start(url) {
    url = toURL(url);
    let w;
    if (inNode && typeof globalThis.Worker !== "function") {
      const { Worker } = await import("node:worker_threads");
      w = new Worker(url);
      w.unref(); // an idle instance does not keep Node running
      return new WorkerTransport(w, true);
    }
    w = new Worker(url, { type: "module", name: "octave" });
    return new WorkerTransport(w, false);
  }

  constructor(w, node) {
    this.w = w;
    this.node = node;
    this.pending = new Map();
    this.next = 1;
    this.dead = null;
    const onMessage = (msg) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      this._idle();
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(msg.error));
    };
    const onError = (e) => this._fail(`the worker failed: ${(e && e.message) || e}`);
    if (node) {
      w.on("message", onMessage);
      w.on("error", onError);
      w.on("exit", (code) => this._fail(`the worker exited (code ${code})`));
    } else {
      w.addEventListener("message", (ev) => onMessage(ev.data));
      w.addEventListener("error", (ev) => { ev.preventDefault?.(); onError(ev); });
      w.addEventListener("messageerror", () => onError(new Error("a message could not be read")));
    }
  }

  call(op, args, transfer = []) {
    if (this.dead) return Promise.reject(new Error(`Octave: ${this.dead}`));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.node && this.pending.size === 1) this.w.ref();
      try {
        this.w.postMessage({ id, op, args }, transfer);
      } catch (e) {
        this.pending.delete(id);
        this._idle();
        reject(new Error(`Octave: ${op}: the call could not be sent to the worker: ${e.message}`));
      }
    });
  }

  _idle() {
    if (this.node && this.pending.size === 0) this.w.unref();
  }

  _fail(why) {
    if (this.dead) return;
    this.dead = why;
    for (const p of this.pending.values()) p.reject(new Error(`Octave: ${why}`));
    this.pending.clear();
    this._idle();
  }

  close() {
    this._fail("the instance was terminated");
    this.w.terminate();
  }
}
