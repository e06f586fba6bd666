// Octave: Octave Convolution networks in WebAssembly. See docs/API.md.
//
//   import { Octave } from "./octave.js";
//   const octave = await Octave.init();            // dedicated worker, SIMD if supported
//   const model = await octave.load("model.safetensors");
//   const r = await model.classify(imageElement, { topK: 5 });
//   model.dispose(); octave.terminate();
//
// Images are not converted here: their pixels at their own size (an element,
// canvas or bitmap is drawn unscaled onto a canvas to read them), or an image
// file's bytes, go to the wasm, where octcore/imageio resizes, crops, turns
// them to grey or RGB and normalizes them exactly as the command line and the
// HTTP server do, with the model's input spec. Tensor sources ({data:
// Float32Array, channels, height, width}, or {high, low} of those for a model
// whose input layer has alpha_out > 0) are taken as already normalized.

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
      const { height, width } = r.info.input;
      const [cH, cL] = inputSplit(r.info);
      const zeros = (c, h, w) => ({ data: new Float32Array(c * h * w), channels: c, height: h, width: w });
      const x = cL > 0 ? { high: zeros(cH, height, width), low: zeros(cL, Math.ceil(height / 2), Math.ceil(width / 2)) }
        : zeros(cH, height, width);
      try {
        await model.classify(x);
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
    this._transport("classify");
    options = checkOptions("classify", options);
    let topK = options.topK ?? 5;
    if (!Number.isInteger(topK) || topK < 0) {
      throw new Error(`Model.classify: topK must be a whole number >= 0, got ${JSON.stringify(topK)}`);
    }
    const r = await this._run("classify", source, options, true, (x) => [x]);
    return { top: topOf(r.probabilities, this.info.labels, topK), probabilities: r.probabilities, ms: r.ms };
  }

  /**
   * Runs the network and returns the high- and low-frequency outputs of the
   * layers named in options.layers (default: every conv and octconv layer).
   * Images run at their own size unless options.size says otherwise. With
   * options.output, images are prepared as for classify (the model's input
   * size and preprocessing) and the result also has maps.output: {top,
   * probabilities, logits} of the same run (topK as for classify).
   */
  async featureMaps(source, options = {}) {
    this._transport("featureMaps");
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
    const output = !!options.output;
    let topK = options.topK ?? 5;
    if (!Number.isInteger(topK) || topK < 0) {
      throw new Error(`Model.featureMaps: topK must be a whole number >= 0, got ${JSON.stringify(topK)}`);
    }
    const r = await this._run("featureMaps", source, options, output, (x) => [x, layers ?? null, output]);
    r.maps.ms = r.ms;
    if (r.output) {
      const { logits, probabilities } = r.output;
      r.maps.output = { top: topOf(probabilities, this.info.labels, topK), probabilities, logits };
    }
    return r.maps;
  }

  // _run converts source and makes the call; an image file that the wasm
  // cannot decode (a format only the browser knows, such as AVIF) is decoded
  // by the browser instead and sent as pixels.
  async _run(what, source, options, fit, args) {
    const t = this._transport(what);
    const x = await toSource(what, source, this.info, options.size, fit);
    try {
      return await t.call(what, [this._handle, ...args(x)], transferOf(x));
    } catch (e) {
      if (x.kind !== "encoded" || !/unknown image format/.test(e.message) || typeof createImageBitmap !== "function") throw e;
      let bmp;
      try {
        bmp = await createImageBitmap(new Blob([x.data]));
      } catch {
        throw e;
      }
      const px = drawPixels(`Model.${what}`, bmp, { width: bmp.width, height: bmp.height });
      bmp.close?.();
      const y = { ...x, kind: "rgba", data: px.rgba, width: px.w, height: px.h, fresh: true };
      return this._transport(what).call(what, [this._handle, ...args(y)], transferOf(y));
    }
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
    throw new Error(`Model.${what}: options must be an object, got ${describe(options)}`);
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
  if (!isTensorLike(t)) throw new Error(`${where}: the ${what} must be {data: Float32Array, channels, height, width}, got ${describe(t)}`);
  const { channels, height, width, data } = t;
  if (!posInt(channels) || !posInt(height) || !posInt(width)) {
    throw new Error(`${where}: ${what} channels, height and width must be positive whole numbers, got ${channels}, ${height}, ${width}`);
  }
  if (data.length !== channels * height * width) {
    throw new Error(`${where}: the ${what} holds ${data.length} values, ${channels}x${height}x${width} needs ${channels * height * width}`);
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
    throw new Error(`${where}: the source must be ${SOURCES}; got ${describe(src)}`);
  }
  const img = { fit };
  if (typeof size === "number") {
    if (!posInt(size)) throw new Error(`${where}: size must be {width, height} or a longer side, in whole pixels, got ${size}`);
    img.longer = size;
  } else if (size !== undefined) {
    if (!(size && posInt(size.width) && posInt(size.height))) {
      throw new Error(`${where}: size must be {width, height} in whole pixels, got ${JSON.stringify(size)}`);
    }
    img.size = { width: size.width, height: size.height };
  }
  const [cH, cL] = inputSplit(info);
  if (isOctaves(src)) {
    if (cL === 0) throw new Error(`${where}: the model's input layer takes no low part (alpha_out = 0): pass one tensor`);
    const high = checkTensor(where, "high tensor", src.high), low = checkTensor(where, "low tensor", src.low);
    if (high.channels !== cH || low.channels !== cL) {
      throw new Error(`${where}: the tensors have ${high.channels} high and ${low.channels} low channels, the model takes ${cH} and ${cL}`);
    }
    return { kind: "tensor", ...high, low, fresh: false };
  }
  if (isTensorLike(src)) {
    const t = checkTensor(where, "tensor", src);
    if (cL > 0) {
      throw new Error(`${where}: the model's input layer has alpha_out > 0: pass {high, low} tensors of ${cH} and ${cL} channels`);
    }
    if (t.channels !== input.channels) {
      throw new Error(`${where}: the tensor has ${t.channels} channels, the model takes ${input.channels}`);
    }
    return { kind: "tensor", ...t, fresh: false };
  }
  if (isRGBALike(src)) {
    const { width: w, height: h } = src;
    if (!posInt(w) || !posInt(h) || src.data.length !== 4 * w * h) {
      throw new Error(`${where}: image data of ${w}x${h} pixels needs ${4 * w * h} RGBA bytes, got ${src.data.length}`);
    }
    return { kind: "rgba", data: src.data, width: w, height: h, ...img, fresh: false };
  }
  if (isEncoded(src)) {
    let data;
    if (src instanceof ArrayBuffer) data = new Uint8Array(src);
    else if (ArrayBuffer.isView(src)) data = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    else data = new Uint8Array(await src.arrayBuffer());
    if (data.length === 0) throw new Error(`${where}: the image file is empty`);
    // Never transferred: kept for the browser's decoder should the wasm not know the format.
    return { kind: "encoded", data, ...img, fresh: false };
  }
  if (isDrawable(src)) {
    const own = naturalSize(where, src);
    const { rgba, w, h } = drawPixels(where, src, own);
    return { kind: "rgba", data: rgba, width: w, height: h, ...img, fresh: true };
  }
  throw new Error(`${where}: the source must be ${SOURCES}; got ${describe(src)}`);
}

function naturalSize(where, s) {
  const w = s.naturalWidth ?? s.videoWidth ?? s.displayWidth ?? s.width;
  const h = s.naturalHeight ?? s.videoHeight ?? s.displayHeight ?? s.height;
  if (!posInt(w) || !posInt(h)) {
    throw new Error(`${where}: the image has no pixels yet (${w}x${h}): wait for it to load`);
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
  } else throw new Error(`${where}: drawing an image needs a canvas; pass ImageData-like pixels, an image file or a tensor`);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  try {
    ctx.drawImage(src, 0, 0, width, height);
    return { rgba: ctx.getImageData(0, 0, width, height).data, w: width, h: height };
  } catch (e) {
    throw new Error(`${where}: the image cannot be read (${e.message}); a cross-origin image needs CORS`);
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
