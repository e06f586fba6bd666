// "Your model in the page": the checks the demo page makes on a model file
// that a user opens, drops or gives by URL, before and after the engine
// loads it, and the description of a loaded model (the "About this model"
// panel). The engine (octcore/weights, through web/octave.js) validates the
// file itself; what is here turns the common mistakes into messages a user
// can act on, and refuses what the tab could not hold or show.

/**
 * The page's limits for a user's model. Mutable: the browser tests lower
 * them to exercise the refusals with a small file.
 */
export const LIMITS = {
  /** Largest model file opened, in bytes. */
  maxBytes: 1024 * 2 ** 20,
  /** Largest memory the weights may take once loaded (the file plus float32 weights), in bytes. */
  maxMemory: 1536 * 2 ** 20,
  /** Most multiply-adds of one run at the model's cost size. */
  maxMacs: 40e9,
  /** Largest total of feature-map values fetched in one run; above it, only the selected layer's. */
  mapsValues: 16e6,
};

const MiB = 2 ** 20;
export const fmtBytes = (n) => (n >= 1e9 ? (n / 1e9).toFixed(2) + " GB" : n >= 1e6 ? (n / 1e6).toFixed(1) + " MB" : (n / 1e3).toFixed(1) + " KB");

/** Whether a file dropped on the page is meant as a model rather than a photo (by its name). */
export function looksLikeModelName(name) {
  return /\.(safetensors|pth|pt|ckpt|tar)$/i.test(name || "");
}

/**
 * Whether the first bytes of a file are those of a safetensors file: a
 * little-endian header length, then "{".
 */
export function sniffSafetensors(head) {
  if (head.length < 9) return false;
  const n = head[0] + head[1] * 2 ** 8 + head[2] * 2 ** 16 + head[3] * 2 ** 24 + (head[4] + head[5] * 2 ** 8) * 2 ** 32;
  return head[6] === 0 && head[7] === 0 && n >= 2 && n <= 100 * MiB && head[8] === 0x7b;
}

function what(name) {
  return `“${name}”`;
}

// kindOf names what a file that is not a safetensors file seems to be.
function kindOf(b) {
  const starts = (...xs) => xs.every((x, i) => b[i] === x);
  if (starts(0x50, 0x4b, 0x03, 0x04)) return "pytorch-zip";
  if (b[0] === 0x80 && b[1] >= 2 && b[1] <= 5) return "pytorch-legacy";
  if (starts(0x89, 0x50, 0x4e, 0x47) || starts(0xff, 0xd8, 0xff) || starts(0x52, 0x49, 0x46, 0x46) || starts(0x47, 0x49, 0x46)) return "image";
  if (starts(0x08) || starts(0x0a)) return "onnx?";
  return null;
}

const IMPORT_HINT = "convert it first: octave import --from octconv.pytorch --arch ARCH CHECKPOINT.pth -o MODEL.safetensors (docs/IMPORT.md)";

/**
 * Reads the safetensors header of bytes and checks what the page needs
 * before handing the file to the engine. Returns {metadata, tensors,
 * elements}; throws an Error whose message says what the file is and what
 * to do.
 */
export function inspectModel(bytes, name) {
  const size = bytes.length;
  const notModel = (why) => new Error(`${what(name)} is not an Octave model: ${why}.`);
  if (size < 10) throw notModel(`it has ${size} bytes; a model file is a safetensors file (docs/FORMAT.md)`);
  const kind = kindOf(bytes);
  if (kind === "pytorch-zip" || kind === "pytorch-legacy") {
    throw notModel(`it looks like a PyTorch checkpoint (${kind === "pytorch-zip" ? "zip" : "legacy pickle"} format); ${IMPORT_HINT}`);
  }
  if (kind === "image") throw notModel("it is an image; open photos in the Photo tab, models here");
  const lo = bytes[0] + bytes[1] * 2 ** 8 + bytes[2] * 2 ** 16 + bytes[3] * 2 ** 24;
  const hi = bytes[4] + bytes[5] * 2 ** 8 + bytes[6] * 2 ** 16 + bytes[7] * 2 ** 24;
  const n = lo + hi * 2 ** 32;
  if (bytes[8] !== 0x7b || n < 2 || n > 100 * MiB) {
    throw notModel("it is not a safetensors file (its first 8 bytes are not the length of a JSON header); an Octave model is one, see docs/FORMAT.md");
  }
  if (8 + n > size) {
    throw notModel(`its header claims ${n} bytes but the file has ${size}: the file is cut short (an interrupted download?)`);
  }
  let header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw notModel(`its safetensors header is not valid JSON (${e.message})`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) throw notModel("its safetensors header is not a JSON object");
  const metadata = header.__metadata__;
  const format = metadata && metadata.format;
  if (typeof format !== "string" || !/^octave\/1(\.|$)/.test(format)) {
    throw notModel(format
      ? `it is a safetensors file of format ${JSON.stringify(format)}, and this page reads "octave/1" (docs/FORMAT.md)`
      : "it is a safetensors file without Octave's metadata (__metadata__.format \"octave/1\" and the graph): a plain weights file, not a model; docs/FORMAT.md says what to add");
  }
  let elements = 0;
  const tensors = [];
  for (const [k, t] of Object.entries(header)) {
    if (k === "__metadata__") continue;
    const shape = t && Array.isArray(t.shape) ? t.shape : [];
    elements += shape.reduce((a, b) => a * b, 1);
    tensors.push({ name: k, dtype: t && t.dtype, shape });
  }
  return { metadata, tensors, elements, headerBytes: n };
}

/** Refuses a file too large for the tab before it is read (size in bytes). */
export function checkFileSize(size, name, limits = LIMITS) {
  if (size > limits.maxBytes) {
    throw new Error(`${what(name)} is too large for this tab: ${fmtBytes(size)}, and the page opens model files up to ${fmtBytes(limits.maxBytes)}. ` +
      "Run it with the command line (octave run, octave classify), or store it as int8 (octave import --int8).");
  }
}

/** Refuses a model whose weights would not fit in the tab once loaded. */
export function checkMemory(size, desc, name, limits = LIMITS) {
  const need = size + 4 * desc.elements;
  if (need > limits.maxMemory) {
    throw new Error(`${what(name)} is too large for this tab: its ${(desc.elements / 1e6).toFixed(1)} M weights need about ` +
      `${fmtBytes(need)} of memory once loaded (the file and the weights as float32), and the page allows ${fmtBytes(limits.maxMemory)}. ` +
      "Run it with the command line (octave run, octave classify).");
  }
}

/**
 * Whether the page can show a loaded model: it feeds images (1 or 3
 * channels, one octave), draws conv and octconv layers, and runs within
 * LIMITS.maxMacs. Returns null or the reason, a sentence.
 */
export function whyNotShowable(info, name, limits = LIMITS) {
  const c = info.input.channels;
  const first = info.layers[0];
  if (first && first.kind === "input" && first.low) {
    return `${what(name)} takes both octaves as its input (its input layer has alpha_out > 0), and the page feeds images, which have one. Run it with octave run --input-low (docs/IMPORT.md).`;
  }
  if (c !== 1 && c !== 3) {
    return `${what(name)} takes ${c} input channels, and the page feeds images: grey (1 channel) or RGB (3). Run it with octave run on a tensor (docs/IMPORT.md).`;
  }
  if (!info.layers.some((l) => l.kind === "conv" || l.kind === "octconv")) {
    return `${what(name)} has no conv or octconv layer, so there are no feature maps to show.`;
  }
  const [h, w] = info.costSize || [info.input.height, info.input.width];
  if (info.macs > limits.maxMacs) {
    const g = (x) => (x / 1e9).toFixed(1) + " G";
    return `${what(name)} is too costly for the page: one run is ${g(info.macs)} multiply-adds at ${w}×${h}, and the page runs models up to ${g(limits.maxMacs)}. Run it with the command line (octave run).`;
  }
  return null;
}

/** A short hint to add to the engine's own load error, when one helps. */
export function loadHint(message) {
  if (/unknown layer kind/.test(message)) return " The page's engine knows the layer kinds of docs/FORMAT.md §3; a file from a newer Octave may need a newer page.";
  if (/shape|channels|split/.test(message)) return " A tensor's shape does not match the graph: was the file edited, or written for another architecture?";
  return "";
}

/** Counts the layers of each kind, in order of first appearance: "1 input, 3 conv, …". */
export function kindsOf(layers) {
  const n = new Map();
  for (const l of layers) n.set(l.kind, (n.get(l.kind) || 0) + 1);
  return [...n].map(([k, v]) => `${v} ${k}`).join(", ");
}

/** The rows of the "About this model" panel: [term, text] pairs. */
export function describeModel(info, source) {
  const p = info.provenance || {};
  const inp = info.input;
  const count = (n) => (n >= 1e9 ? (n / 1e9).toFixed(2) + " G" : n >= 1e6 ? (n / 1e6).toFixed(2) + " M" : n >= 1e3 ? (n / 1e3).toFixed(1) + " K" : String(n));
  const list = (xs) => "[" + xs.map((v) => +(+v).toFixed(4)).join(", ") + "]";
  const size = inp.height ? `${inp.channels} × ${inp.height} × ${inp.width}` : `${inp.channels} channels, any size`;
  const prep = [];
  if (inp.resize_shorter) prep.push(`shorter side to ${inp.resize_shorter}`);
  if (inp.crop === "center") prep.push(`centre ${inp.width}×${inp.height} crop`);
  else if (inp.height) prep.push(`stretched to ${inp.width}×${inp.height}`);
  const [ch, cw] = info.costSize || [inp.height, inp.width];
  const labels = info.labels && info.labels.length
    ? `${info.labels.length}: ${info.labels.slice(0, 6).join(", ")}${info.labels.length > 6 ? ", …" : ""}`
    : `none (the ${info.outputs} outputs are numbered; no classification)`;
  const rows = [
    ["model", info.name || "—"],
    ["file", source],
    ["architecture", p.architecture || p.arch || "—"],
    ["α (largest)", String(+(+info.alpha).toFixed(3))],
    ["parameters", `${count(info.params)}${info.paramsFolded && info.paramsFolded !== info.params ? ` (${count(info.paramsFolded)} with BatchNorm folded)` : ""}`],
    ["multiply-adds", `${count(info.macs)} per ${cw}×${ch} image`],
    ["input", `${size} (${inp.channels === 3 ? "RGB" : inp.channels === 1 ? "grey" : "tensor"}) · mean ${list(inp.mean)} · std ${list(inp.std)}${prep.length ? " · " + prep.join(", ") : ""}`],
    ["labels", labels],
    ["layers", `${info.layers.length}: ${kindsOf(info.layers)}`],
    ["format", info.format || "—"],
  ];
  return rows;
}
