// The Octave demo page: inputs, predictions, the high- and low-frequency
// feature maps of every layer, their spectra, and the alpha comparison.
// Plain ES modules, no build step.

import { Octave } from "./octave.js";
import { MODELS, DEFAULT_MODEL, WASM_URL } from "./app/models.js";
import { LUT, cssGradient, paintMap } from "./app/colormap.js";
import { radialSpectrum, upsample2 } from "./app/spectrum.js";
import { grayOf, rgbaOf, paintInput, mnistFromDrawing, paintGray } from "./app/preprocess.js";
import {
  LIMITS, inspectModel, checkFileSize, checkMemory, whyNotShowable, loadHint, describeModel,
  looksLikeModelName, sniffSafetensors, fmtBytes,
} from "./app/byo.js";

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    // Through the CSSOM: the page's CSP (style-src 'self') refuses style attributes.
    else if (k === "style") e.style.cssText = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
};

// ---------- formatting ----------

function fmtCount(n) {
  if (!isFinite(n)) return "—";
  if (n >= 1e9) return (n / 1e9).toFixed(2) + " G";
  if (n >= 1e6) return (n / 1e6).toFixed(2) + " M";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + " K";
  return String(Math.round(n));
}
// Browsers coarsen timers (about 0.1 ms without cross-origin isolation): a
// layer faster than that reads 0, which is shown as below the resolution.
const fmtMs = (ms) => (ms == null || !isFinite(ms) ? "—" : ms <= 0 ? "< 0.1 ms" : ms < 10 ? ms.toFixed(2) + " ms" : ms.toFixed(1) + " ms");
const fmtAlpha = (a) => String(+a.toFixed(3));
const fmtPct = (x) => (isFinite(x) ? (100 * x).toFixed(1) + "%" : "—");

// ---------- status and errors ----------

const status = {
  set(text, progress) {
    $("status").classList.remove("done");
    $("status").classList.add("busy");
    $("status-text").textContent = text;
    const p = $("status-progress");
    if (progress == null) {
      p.hidden = true;
    } else {
      p.hidden = false;
      if (progress < 0) p.removeAttribute("value");
      else p.value = Math.min(1, progress);
    }
  },
  done(text) {
    $("status").classList.remove("busy");
    $("status").classList.add("done");
    $("status-text").textContent = text;
    $("status-progress").hidden = true;
  },
};

function showError(message) {
  const box = $("errors");
  const item = el("div", { class: "error" },
    el("span", { text: message }),
    el("button", { class: "ghost", "aria-label": "Dismiss", text: "✕", onclick: () => item.remove() }));
  box.append(item);
  while (box.children.length > 3) box.firstChild.remove();
}
const errText = (e) => (e && e.message ? e.message : String(e));

window.addEventListener("unhandledrejection", (ev) => {
  ev.preventDefault();
  showError(errText(ev.reason));
});

// ---------- state ----------

const state = {
  octave: null,
  model: null, // loaded model object
  entry: null, // MODELS entry of the loaded model
  input: null, // {kind, dataset, gray, width, height, label, caption} or, for photos, {kind: "photo", source, name, width, height}
  output: null, // maps.output of the current input's run, when it has a prediction
  maps: null, // featureMaps result of the current input
  ranAt: null, // [height, width] the network ran at for maps
  mapsMs: null,
  layer: null, // selected layer name
  set: "fashion-mnist", // gallery set shown
  galleries: {}, // dataset -> {index, pixels: Uint8ClampedArray (gray), width}
  runs: 0,
  user: null, // {entry, model} of the model the user opened, or null
  userOctave: null, // the engine instance user models run in (their own worker)
  limits: LIMITS,
};
window.__octaveDemo = state; // for the browser tests and the curious

const modelCache = new Map(); // id -> Promise<model>

// mb formats a byte count in MB for the status line.
const mb = (n) => (n / 1e6).toFixed(1);

// loadProgress turns the library's onProgress({loaded, total}) into the
// status line: "Loading …: 1.2 of 4.1 MB" and the bar's fraction.
function loadProgress(text) {
  return ({ loaded, total }) => status.set(total ? `${text} ${mb(loaded)} of ${mb(total)} MB` : `${text} ${mb(loaded)} MB`,
    total ? loaded / total : -1);
}

function loadEntry(entry, onProgress) {
  if (!modelCache.has(entry.id)) {
    const p = (async () => {
      return state.octave.load(entry.file, { onProgress });
    })();
    modelCache.set(entry.id, p);
    p.catch(() => modelCache.delete(entry.id));
  }
  return modelCache.get(entry.id);
}

// ---------- model selection ----------

function fillModelSelect() {
  const sel = $("model-select");
  for (const m of MODELS) sel.append(el("option", { value: m.id, text: m.label }));
  sel.addEventListener("change", () => switchModel(sel.value).catch((e) => showError(errText(e))));
}

/** Every model the select offers: the shipped ones and the user's. */
function allEntries() {
  return state.user ? [...MODELS, state.user.entry] : MODELS;
}

async function switchModel(id, { rerun = true } = {}) {
  const entry = allEntries().find((m) => m.id === id);
  if (!entry) throw new Error(`Unknown model ${id}`);
  $("model-select").value = id;
  status.set(`Loading ${entry.label}…`, 0);
  let model;
  try {
    model = await loadEntry(entry, loadProgress(`Loading ${entry.label}…`));
  } catch (e) {
    status.done("Model not loaded");
    if (state.entry) $("model-select").value = state.entry.id;
    throw new Error(`Could not load ${entry.label}: ${errText(e)}`);
  }
  state.model = model;
  state.entry = entry;
  const info = model.info;
  const acc = info.provenance && (info.provenance.test_accuracy_int8 || info.provenance.accuracy_int8 || info.provenance.test_accuracy);
  $("model-meta").textContent =
    `${info.name || entry.id} · α = ${fmtAlpha(info.alpha ?? entry.alpha)} · ${fmtCount(info.params)} parameters · ` +
    `${fmtCount(info.macs)} multiply-adds per ${info.input.height}×${info.input.width} image` +
    (acc ? ` · test accuracy ${acc}` : "");
  renderModelInfo(info, entry);
  buildLayerStrip();
  if (rerun && state.input) await run();
  else status.done("Ready");
}

/** The model entry to use for a dataset: the current one if it matches or is the user's, else the dataset's α = .5 model. */
function entryFor(dataset) {
  if (state.entry && (state.entry.dataset === dataset || state.entry.user)) return state.entry;
  return MODELS.find((m) => m.dataset === dataset && m.alpha === 0.5) || MODELS.find((m) => m.dataset === dataset);
}

// ---------- running the network ----------

function convLayers() {
  return state.model.info.layers.filter((l) => l.kind === "conv" || l.kind === "octconv");
}

let running = null;
let pending = false;

/** Runs the current input through the current model; coalesces bursts (drawing). */
async function run() {
  if (running) {
    pending = true;
    return running;
  }
  running = (async () => {
    do {
      pending = false;
      await runOnce();
    } while (pending);
  })();
  try {
    await running;
  } finally {
    running = null;
  }
}

// PHOTO_SIDE is the longer side photos run at when they run at their own
// resolution (maps only).
const PHOTO_SIDE = 256;

/** Whether a photo runs as the model takes it (with a prediction) or at its own resolution. */
function photoFits() {
  const c = $("photo-fit");
  return !c || c.checked;
}

// runOnce runs the network once on the current input: the maps of every
// conv layer, the prepared input itself (the "input" layer), and, when the
// input is prepared as the model takes it, the prediction from the same run.
async function runOnce() {
  const inp = state.input;
  const model = state.model;
  if (!inp || !model) return;
  const info = model.info;
  const photo = inp.kind === "photo";
  const source = photo ? inp.source : rgbaOf(inp.gray, inp.width, inp.height);
  const user = !!state.entry.user;
  // A drawing is framed at its own resolution; the library resizes it. A
  // user's model takes every picture as it takes photos (resized and
  // cropped to its input); the shipped ones take their own dataset's.
  const fits = photo ? photoFits() : user || inp.kind === "draw" || (inp.height === info.input.height && inp.width === info.input.width);
  const applies = fits && (photo || user || inp.dataset === state.entry.dataset);
  const anySize = !info.input.height;
  status.set(`Running ${state.entry.label}…`);
  try {
    const inputLayer = info.layers[0] && info.layers[0].kind === "input" ? [info.layers[0].name] : [];
    const names = mapsToFetch();
    const t0 = performance.now();
    const maps = await model.featureMaps(source, {
      layers: [...inputLayer, ...names], output: applies, topK: 5,
      size: (photo && !applies) || anySize ? PHOTO_SIDE : undefined,
    });
    if (state.input !== inp || state.model !== model) return;
    state.mapsMs = performance.now() - t0;
    const seen = inputLayer.length ? maps.find((m) => m.layer === inputLayer[0]) : null;
    if (seen && seen.high) {
      paintInput($("input-view"), seen.high, info.input);
      if (inp.kind === "draw") paintInput($("pad-small"), seen.high, info.input);
      if (photo || user) {
        const how = applies ? `as the model takes it, ${info.input.channels === 3 ? "colour" : "grey"}` : "maps only, grey";
        $("input-caption").textContent = `${photo ? inp.name : inp.caption} · ${seen.high.width}×${seen.high.height}, ${how}`;
      } else {
        $("input-caption").textContent = inp.caption;
      }
      $("input-view").classList.toggle("photo", seen.high.width > 64 || seen.high.height > 64);
    }
    state.maps = maps;
    state.ranAt = seen && seen.high ? [seen.high.height, seen.high.width] : [inp.height, inp.width];
    state.output = applies ? maps.output : null;
    if (applies && !info.labels.length) showUnlabelled(maps.output, maps.ms);
    else if (applies) showPrediction({ top: maps.output.top, ms: maps.ms }, inp);
    else showNoPrediction(inp, fits);
    renderLayer();
    state.runs++;
    document.body.dataset.runs = String(state.runs);
    const size = seen && seen.high ? `${seen.high.width}×${seen.high.height}` : `${inp.width}×${inp.height}`;
    status.done(`Ready · ${state.entry.label} · ${size} input · engine ${info.simd ? "SIMD128" : "scalar"}`);
  } catch (e) {
    status.done("Something went wrong");
    throw e;
  }
}

function showPrediction(r, inp) {
  const box = $("prediction");
  box.replaceChildren();
  // A gallery image's label is a class of its data set, which a user's model does not have.
  const labelled = inp.label != null && !state.entry.user;
  const truth = labelled ? inp.truth ?? String(inp.label) : null;
  box.append(el("h3", { text: "Prediction" }));
  const list = el("ol", { class: "bars", id: "top" });
  for (const t of r.top) {
    const correct = labelled && t.index === inp.label;
    list.append(el("li", { class: correct ? "correct" : "", "data-index": t.index },
      el("span", { class: "lab", text: t.label }),
      el("span", { class: "bar" }, el("span", { style: `width:${(100 * t.probability).toFixed(1)}%` })),
      el("span", { class: "p", text: (100 * t.probability).toFixed(1) + "%" })));
  }
  box.append(list);
  const meta = [`${fmtMs(r.ms)} in the engine`];
  if (truth != null) meta.unshift(r.top[0].index === inp.label ? `✓ correct (true label: ${truth})` : `✗ true label: ${truth}`);
  box.append(el("p", { class: "meta", text: meta.join(" · ") }));
}

// showUnlabelled shows the output of a model without labels: no classes to
// name, so no classification, only where its largest output is.
function showUnlabelled(out, ms) {
  const box = $("prediction");
  const n = out.logits.length;
  let k = 0;
  for (let i = 1; i < n; i++) if (out.logits[i] > out.logits[k]) k = i;
  box.replaceChildren(el("h3", { text: "Prediction" }),
    el("p", { class: "meta", text: `This model has no labels, so there are no classes to name: its ${n} outputs are numbered, and output ${k} is the largest (${out.logits[k].toPrecision(4)}). ${fmtMs(ms)} in the engine.` }));
}

function showNoPrediction(inp, fits) {
  const box = $("prediction");
  box.replaceChildren(el("h3", { text: "Prediction" }));
  const why = !fits
    ? `Classification applies to ${state.model.info.input.width}×${state.model.info.input.height} images like the training set; this picture runs at its own resolution for its feature maps (untick “as the model takes it” to change).`
    : `This model was trained on ${state.entry.dataset === "mnist" ? "MNIST digits" : "Fashion-MNIST clothing"}; pick a matching image to see its prediction.`;
  box.append(el("p", { class: "meta", text: why }));
}

// ---------- inputs ----------

function setInput(inp) {
  state.input = inp;
  const c = $("input-view");
  if (inp.gray) {
    paintGray(c, inp.gray, inp.width, inp.height);
    c.classList.toggle("photo", inp.width > 64 || inp.height > 64);
  }
  $("input-caption").textContent = inp.caption;
}

async function useInput(inp) {
  setInput(inp);
  const want = inp.dataset ? entryFor(inp.dataset) : state.entry; // a user's model stays
  if (want && want !== state.entry) await switchModel(want.id);
  else await run();
}

async function loadGallery(set) {
  if (state.galleries[set]) return state.galleries[set];
  const index = await (await fetch(`gallery/${set}.json`)).json();
  const img = new Image();
  img.src = `gallery/${index.sprite}`;
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext("2d", { willReadFrequently: true });
  g.drawImage(img, 0, 0);
  const gray = grayOf(g.getImageData(0, 0, c.width, c.height));
  const gal = { index, gray, width: c.width, url: img.src };
  state.galleries[set] = gal;
  return gal;
}

function galleryImage(gal, k) {
  const { tile, cols } = gal.index;
  const x0 = (k % cols) * tile, y0 = Math.floor(k / cols) * tile;
  const out = new Float32Array(tile * tile);
  for (let y = 0; y < tile; y++) for (let x = 0; x < tile; x++) out[y * tile + x] = gal.gray[(y0 + y) * gal.width + x0 + x];
  return out;
}

function galleryInput(set, k) {
  const gal = state.galleries[set];
  const { tile, labels, indices, classes } = gal.index;
  return {
    kind: "gallery", dataset: set, gray: galleryImage(gal, k), width: tile, height: tile, label: labels[k], truth: classes[labels[k]],
    caption: `${set === "mnist" ? "MNIST" : "Fashion-MNIST"} test #${indices[k]} · ${classes[labels[k]]}`,
  };
}

async function showGallery(set) {
  state.set = set;
  for (const b of document.querySelectorAll(".seg button")) b.setAttribute("aria-pressed", String(b.dataset.set === set));
  const gal = await loadGallery(set);
  const box = $("gallery");
  box.replaceChildren();
  const { cols, tile, count, labels, classes, indices } = gal.index;
  const S = 40;
  for (let k = 0; k < count; k++) {
    const t = el("div", {
      class: "tile", role: "option", id: `g-${set}-${k}`, "aria-selected": "false",
      "aria-label": `${classes[labels[k]]}, test image ${indices[k]}`, title: `${classes[labels[k]]} · test #${indices[k]}`,
      "data-k": k,
    });
    t.style.backgroundImage = `url("${gal.url}")`;
    t.style.backgroundSize = `${(cols * S * gal.width) / (cols * tile)}px auto`;
    t.style.backgroundPosition = `-${(k % cols) * S}px -${Math.floor(k / cols) * S}px`;
    box.append(t);
  }
  box.setAttribute("aria-activedescendant", `g-${set}-0`);
}

function selectTile(k, { run: go = true } = {}) {
  const box = $("gallery");
  const tiles = box.children;
  if (!tiles.length) return;
  k = Math.max(0, Math.min(tiles.length - 1, k));
  for (const t of box.querySelectorAll('[aria-selected="true"]')) t.setAttribute("aria-selected", "false");
  tiles[k].setAttribute("aria-selected", "true");
  box.setAttribute("aria-activedescendant", tiles[k].id);
  tiles[k].scrollIntoView({ block: "nearest", inline: "nearest" });
  if (go) useInput(galleryInput(state.set, k)).catch((e) => showError(errText(e)));
}

function setupGallery() {
  const box = $("gallery");
  box.addEventListener("click", (ev) => {
    const t = ev.target.closest(".tile");
    if (t) selectTile(+t.dataset.k);
  });
  box.addEventListener("keydown", (ev) => {
    const cur = box.querySelector('[aria-selected="true"]');
    let k = cur ? +cur.dataset.k : 0;
    const perRow = Math.max(1, Math.round(box.clientWidth / 44));
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: perRow, ArrowUp: -perRow, Home: -1e9, End: 1e9 };
    if (ev.key in moves) {
      ev.preventDefault();
      selectTile(k + moves[ev.key], { run: false });
    } else if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      selectTile(k);
    }
  });
  for (const b of document.querySelectorAll(".seg button")) {
    b.addEventListener("click", () => showGallery(b.dataset.set).then(() => selectTile(0)).catch((e) => showError(errText(e))));
  }
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    if (tab.id !== "tab-camera") stopCamera();
    if (tab.id === "tab-draw" && state.entry && state.entry.dataset !== "mnist" && !state.entry.user) {
      const e = entryFor("mnist");
      if (e) switchModel(e.id).catch((err) => showError(errText(err)));
    }
  };
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => select(t, false));
    t.addEventListener("keydown", (ev) => {
      const d = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
      if (d) { ev.preventDefault(); select(tabs[(i + d + tabs.length) % tabs.length], true); }
    });
  });
}

function setupPad() {
  const pad = $("pad");
  const g = pad.getContext("2d", { willReadFrequently: true });
  const clear = () => { g.fillStyle = "#000"; g.fillRect(0, 0, pad.width, pad.height); };
  clear();
  let last = null;
  const pos = (ev) => {
    const r = pad.getBoundingClientRect();
    return [((ev.clientX - r.left) / r.width) * pad.width, ((ev.clientY - r.top) / r.height) * pad.height];
  };
  const update = () => {
    const d = mnistFromDrawing(pad);
    if (!d) return;
    useInput({ kind: "draw", dataset: "mnist", ...d, label: null, caption: `Your drawing, framed ${d.width}×${d.height}, 28×28 as the model takes it` })
      .catch((e) => showError(errText(e)));
  };
  let frame = 0;
  const schedule = () => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; update(); }); };
  pad.addEventListener("pointerdown", (ev) => {
    pad.setPointerCapture(ev.pointerId);
    last = pos(ev);
    g.fillStyle = "#fff";
    g.beginPath(); g.arc(last[0], last[1], 10, 0, 2 * Math.PI); g.fill();
    schedule();
  });
  pad.addEventListener("pointermove", (ev) => {
    if (!last) return;
    const p = pos(ev);
    g.strokeStyle = "#fff"; g.lineWidth = 20; g.lineCap = "round"; g.lineJoin = "round";
    g.beginPath(); g.moveTo(last[0], last[1]); g.lineTo(p[0], p[1]); g.stroke();
    last = p;
    schedule();
  });
  const end = () => { last = null; };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("pad-clear").addEventListener("click", () => {
    clear();
    paintGray($("pad-small"), new Float32Array(784), 28, 28);
  });
}

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/avif"];

async function usePhoto(blob, name) {
  const what = name ? `“${name}”` : "The pasted data";
  if (blob.type && !IMAGE_TYPES.includes(blob.type)) {
    throw new Error(`${what} is ${blob.type}, not an image: use a PNG, JPEG or WebP photo.`);
  }
  let bmp;
  try {
    bmp = await createImageBitmap(blob);
  } catch {
    throw new Error(`${what} could not be decoded as an image (PNG, JPEG or WebP expected).`);
  }
  const { width, height } = bmp;
  bmp.close && bmp.close();
  if (!width || !height) throw new Error(`${what} has no pixels.`);
  // The file itself goes to the library: octcore/imageio decodes it (the
  // browser, for formats it does not know), resizes and converts it as the
  // command line does.
  await useInput({
    kind: "photo", dataset: null, source: blob, name: name || "Photo", width, height, label: null,
    caption: `${name || "Photo"} · ${width}×${height}`,
  });
}

function setupPhoto() {
  $("photo-fit").addEventListener("change", () => {
    if (state.input && state.input.kind === "photo") run().catch((e) => showError(errText(e)));
  });
  const file = $("file");
  const handle = (blob, name) => usePhoto(blob, name).catch((e) => { status.done("Ready"); showError(errText(e)); });
  file.addEventListener("change", () => {
    const f = file.files && file.files[0];
    if (f) handle(f, f.name);
    file.value = "";
  });
  const drop = $("drop");
  drop.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); file.click(); }
  });
  for (const t of ["dragenter", "dragover"]) {
    document.addEventListener(t, (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  }
  for (const t of ["dragleave", "dragend"]) document.addEventListener(t, () => drop.classList.remove("over"));
  document.addEventListener("drop", async (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    $("byo").classList.remove("over");
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (!f) return;
    // A model file (by its name, or a safetensors file under another name)
    // opens as the user's model; anything else is a photo.
    let model = looksLikeModelName(f.name);
    if (!model && !(f.type || "").startsWith("image/")) {
      try { model = sniffSafetensors(new Uint8Array(await f.slice(0, 9).arrayBuffer())); } catch { /* not readable: a photo error follows */ }
    }
    if (model) openUserFile(f);
    else { $("tab-photo").click(); handle(f, f.name); }
  });
  document.addEventListener("paste", (ev) => {
    const items = ev.clipboardData ? [...ev.clipboardData.items] : [];
    const it = items.find((i) => i.kind === "file");
    if (!it) return;
    ev.preventDefault();
    $("tab-photo").click();
    const f = it.getAsFile();
    if (f) handle(f, f.name && f.name !== "image.png" ? f.name : "Pasted image");
  });
}

let stream = null;
function stopCamera() {
  if (stream) for (const t of stream.getTracks()) t.stop();
  stream = null;
  $("cam-snap").disabled = true;
}

function setupCamera() {
  const ok = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  if (!ok) {
    $("cam-start").disabled = true;
    $("cam-note").textContent = "This browser does not offer a camera here (it needs https or localhost).";
    return;
  }
  $("cam-start").addEventListener("click", async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      const v = $("video");
      v.srcObject = stream;
      await v.play();
      $("cam-snap").disabled = false;
    } catch (e) {
      showError(`The camera is not available: ${errText(e)}`);
    }
  });
  $("cam-snap").addEventListener("click", async () => {
    const v = $("video");
    if (!v.videoWidth) return;
    try {
      const c = document.createElement("canvas");
      c.width = v.videoWidth; c.height = v.videoHeight;
      c.getContext("2d").drawImage(v, 0, 0);
      await useInput({ kind: "photo", dataset: null, source: c, name: "Camera", width: c.width, height: c.height, label: null, caption: `Camera · ${c.width}×${c.height}` });
    } catch (e) {
      showError(errText(e));
    }
  });
}

// ---------- layers and maps ----------

function pathMacs(l) {
  const p = l.macsByPath || l.paths || {};
  return { hh: p.hh ?? l.hh ?? 0, hl: p.hl ?? l.hl ?? 0, lh: p.lh ?? l.lh ?? 0, ll: p.ll ?? l.ll ?? 0 };
}

function costRatio(ai, ao) {
  return (1 - ai) * (1 - ao) + (ai * (1 - ao) + (1 - ai) * ao + ai * ao) / 4;
}

function buildLayerStrip() {
  const strip = $("layers");
  strip.replaceChildren();
  const layers = convLayers();
  if (!layers.find((l) => l.name === state.layer)) {
    const pick = layers.find((l) => l.low && l.alphaIn > 0) || layers.find((l) => l.low) || layers[0];
    state.layer = pick ? pick.name : null;
  }
  const maxC = Math.max(...layers.map((l) => (l.high ? l.high[0] : 0) + (l.low ? l.low[0] : 0)));
  for (const l of layers) {
    const ch = l.high ? l.high[0] : 0, cl = l.low ? l.low[0] : 0;
    const b = el("button", {
      role: "radio", class: "layer", "aria-checked": String(l.name === state.layer), "data-layer": l.name,
      tabindex: l.name === state.layer ? "0" : "-1",
      title: `${l.name}: ${ch} high${cl ? ` + ${cl} low` : ""} channels`,
    },
    el("span", { class: "lname", text: l.name }),
    el("span", { class: "lbar", "aria-hidden": "true" },
      el("span", { class: "h", style: `flex:${ch / maxC}` }),
      el("span", { class: "l", style: `flex:${cl / maxC}` }),
      el("span", { style: `flex:${1 - (ch + cl) / maxC}` })),
    el("span", { class: "lch", text: cl ? `${ch}H · ${cl}L` : `${ch}` }));
    b.addEventListener("click", () => selectLayer(l.name));
    strip.append(b);
  }
  const sel = strip.querySelector('[aria-checked="true"]');
  if (sel) strip.scrollLeft = Math.max(0, sel.offsetLeft - strip.offsetLeft - 24);
  strip.onkeydown = (ev) => {
    const d = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
    if (!d) return;
    ev.preventDefault();
    const i = layers.findIndex((l) => l.name === state.layer);
    const next = layers[(i + d + layers.length) % layers.length];
    selectLayer(next.name);
    strip.querySelector(`[data-layer="${CSS.escape(next.name)}"]`).focus();
  };
}

function selectLayer(name) {
  state.layer = name;
  for (const b of $("layers").children) {
    const on = b.dataset.layer === name;
    b.setAttribute("aria-checked", String(on));
    b.tabIndex = on ? 0 : -1;
  }
  // A large model's run fetches the selected layer's maps only: run again for another.
  if (state.maps && !state.maps.find((x) => x.layer === name)) run().catch((e) => showError(errText(e)));
  else renderLayer();
}

// mapsToFetch names the layers whose maps one run fetches: every conv and
// octconv layer, or, when their maps together exceed LIMITS.mapsValues (a
// large model), the selected one only.
function mapsToFetch() {
  const layers = convLayers();
  const total = layers.reduce((a, l) => a + (l.activations || 0), 0);
  if (total <= state.limits.mapsValues) return layers.map((l) => l.name);
  return layers.some((l) => l.name === state.layer) ? [state.layer] : [layers[0].name];
}

function renderLayer() {
  const info = state.model.info;
  const l = info.layers.find((x) => x.name === state.layer);
  const m = state.maps && state.maps.find((x) => x.layer === state.layer);
  if (!l || !m) return;
  renderStats(l, m);
  const hw = m.high ? m.high.width : 0;
  const cell = Math.round(Math.min(132, Math.max(48, hw * 2.5)));
  document.querySelector(".panels").style.setProperty("--cell", cell + "px");
  const hh = m.high ? m.high.height : 0;
  renderGrid($("hi-grid"), m.high, hw, hh, "high");
  renderGrid($("lo-grid"), m.low, hw, hh, "low");
  $("hi-shape").textContent = m.high ? `${m.high.channels} × ${m.high.height} × ${m.high.width}` : "";
  $("lo-shape").textContent = m.low ? `${m.low.channels} × ${m.low.height} × ${m.low.width}` : "";
  if (!m.low) {
    $("lo-grid").append(el("p", { class: "empty", text: l.alphaOut === 0 && l.alphaIn > 0
      ? "No low octave here: this layer merges the low branch back into full resolution (α_out = 0)."
      : "No low octave: this layer is a vanilla convolution (α_out = 0)." }));
  }
  renderSpectrum(m);
}

function renderStats(l, m) {
  const info = state.model.info;
  const inp = state.input;
  const cs = info.costSize || [info.input.height, info.input.width];
  const [h, w] = state.ranAt || (inp ? [inp.height, inp.width] : cs);
  const scale = (h * w) / (cs[0] * cs[1]);
  const p = pathMacs(l);
  const total = (p.hh + p.hl + p.lh + p.ll) * scale || l.macs * scale;
  const ratio = costRatio(l.alphaIn, l.alphaOut);
  const box = $("layer-stats");
  box.replaceChildren();
  const chans = `${l.high ? l.high[0] : 0} high${l.low ? ` + ${l.low[0]} low` : ""}`;
  const facts = [
    ["layer", `${l.name} (${l.kind})`],
    ["α in → α out", `${fmtAlpha(l.alphaIn)} → ${fmtAlpha(l.alphaOut)}`],
    ["channels", chans],
    ["multiply-adds", `${fmtCount(total)} · ${(100 * ratio).toFixed(0)}% of vanilla`],
    ["measured", m.ms != null ? fmtMs(m.ms) : "—"],
  ];
  const dl = el("dl", { class: "facts" });
  for (const [k, v] of facts) dl.append(el("div", {}, el("dt", { text: k }), el("dd", { text: v })));
  box.append(dl);
  const paths = [["H→H", p.hh, "hh"], ["H→L", p.hl, "hl"], ["L→H", p.lh, "lh"], ["L→L", p.ll, "ll"]];
  const sum = paths.reduce((a, x) => a + x[1], 0) || 1;
  const bar = el("div", { class: "paths", role: "img", "aria-label": "multiply-adds by path: " + paths.map(([n, v]) => `${n} ${fmtCount(v * scale)}`).join(", ") });
  for (const [n, v, cls] of paths) {
    if (v > 0) bar.append(el("span", { class: "seg-" + cls, style: `flex:${v / sum}`, title: `${n}: ${fmtCount(v * scale)}` }));
  }
  const legend = el("div", { class: "paths-legend" });
  for (const [n, v, cls] of paths) {
    legend.append(el("span", { class: v > 0 ? "" : "off" }, el("i", { class: "seg-" + cls }), `${n} ${v > 0 ? fmtCount(v * scale) : "—"}`));
  }
  box.append(el("div", { class: "paths-wrap" }, bar, legend));
}

// MAX_MAPS is the most maps drawn per branch (a wide layer of a large model
// has thousands); the zoom dialog steps through all of them.
const MAX_MAPS = 256;

function renderGrid(grid, t, hw, hh, branch) {
  grid.replaceChildren();
  if (!t) return;
  const { channels, height, width, data } = t;
  const widthPct = (100 * (branch === "low" ? 2 * width : width)) / hw;
  const shown = Math.min(channels, MAX_MAPS);
  for (let c = 0; c < shown; c++) {
    const cv = el("canvas", { width, height, class: "pix map" });
    cv.style.width = widthPct + "%";
    const g = cv.getContext("2d");
    const id = g.createImageData(width, height);
    const r = paintMap(data, c * width * height, height, width, id);
    g.putImageData(id, 0, 0);
    const btn = el("button", {
      class: "cell", "data-channel": c, "data-branch": branch,
      "aria-label": `${branch} channel ${c}, ${width}×${height}, range ${r.min.toPrecision(3)} to ${r.max.toPrecision(3)}; enlarge`,
    }, cv);
    if (hw && hh) btn.style.aspectRatio = `${hw} / ${hh}`;
    btn.addEventListener("click", () => zoom(branch, c));
    grid.append(btn);
  }
  if (shown < channels) {
    grid.append(el("p", { class: "maps-note", text: `The first ${shown} of ${channels} maps; enlarge one and step with ← → to see the others.` }));
  }
}

// ---------- zoom dialog ----------

let zoomAt = null;
function zoom(branch, c) {
  const m = state.maps.find((x) => x.layer === state.layer);
  const t = m && m[branch];
  if (!t) return;
  c = (c + t.channels) % t.channels;
  zoomAt = { branch, c };
  const cv = $("zoom-canvas");
  cv.width = t.width; cv.height = t.height;
  const g = cv.getContext("2d");
  const id = g.createImageData(t.width, t.height);
  const r = paintMap(t.data, c * t.width * t.height, t.height, t.width, id);
  g.putImageData(id, 0, 0);
  const hw = m.high ? m.high.width : t.width;
  cv.style.width = `calc(var(--zoom) * ${(branch === "low" ? 2 * t.width : t.width) / hw})`;
  $("zoom-title").textContent = `${state.layer} · ${branch} frequency · channel ${c + 1} of ${t.channels} · ${t.width}×${t.height}`;
  $("zoom-min").textContent = r.min.toPrecision(3);
  $("zoom-max").textContent = r.max.toPrecision(3);
  const d = $("zoom");
  if (!d.open) d.showModal();
}

function setupZoom() {
  const d = $("zoom");
  d.addEventListener("keydown", (ev) => {
    const s = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
    if (s && zoomAt) { ev.preventDefault(); zoom(zoomAt.branch, zoomAt.c + s); }
  });
  d.addEventListener("click", (ev) => { if (ev.target === d) d.close(); });
}

// ---------- spectrum ----------

function renderSpectrum(m) {
  const cv = $("spec-plot");
  const mode = $("upsample").value;
  const series = [];
  let h = 0, w = 0;
  if (m.high) {
    ({ height: h, width: w } = m.high);
    series.push({ name: "High (H maps)", cls: "hi", ...radialSpectrum(m.high.data, m.high.channels, h, w) });
  }
  if (m.low) {
    const lo = m.low;
    if (!h) { h = lo.height * 2; w = lo.width * 2; }
    const up = upsample2(lo.data, lo.channels, lo.height, lo.width, h, w, mode);
    const nb = series[0] ? series[0].freqs.length : undefined;
    series.push({ name: `Low (L maps, ${mode} ×2)`, cls: "lo", ...radialSpectrum(up, lo.channels, h, w, nb) });
  }
  drawSpectrum(cv, series);
  const box = $("spec-stats");
  box.replaceChildren(el("h3", { text: "Energy above half Nyquist" }));
  for (const s of series) {
    box.append(el("div", { class: "share " + s.cls },
      el("span", { class: "dot " + s.cls }),
      el("span", { class: "sname", text: s.name }),
      el("strong", { text: fmtPct(s.share) }),
      el("span", { class: "sbar" }, el("span", { style: `width:${(100 * (s.share || 0)).toFixed(1)}%` }))));
  }
  if (series.length === 2 && isFinite(series[0].share) && isFinite(series[1].share)) {
    const k = series[0].share / Math.max(1e-9, series[1].share);
    box.append(el("p", { class: "meta", text: `The high maps carry ${k.toFixed(1)}× the low maps' share of fast variation (${series[0].maps} and ${series[1].maps} non-constant maps).` }));
  } else if (series.length === 1) {
    box.append(el("p", { class: "meta", text: "This layer has one branch only." }));
  }
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function drawSpectrum(cv, series) {
  const dpr = window.devicePixelRatio || 1;
  const cssW = cv.clientWidth || 640, cssH = Math.round(Math.min(300, Math.max(200, cssW * 0.5)));
  cv.style.height = cssH + "px";
  cv.width = Math.round(cssW * dpr); cv.height = Math.round(cssH * dpr);
  const g = cv.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  const L = 52, R = 12, T = 12, B = 38;
  const pw = cssW - L - R, ph = cssH - T - B;
  const vals = series.flatMap((s) => s.power.filter((v) => v > 0));
  if (!vals.length) {
    g.fillStyle = cssVar("--muted");
    g.font = "13px system-ui, sans-serif";
    g.fillText("No variation in these maps.", L + 8, T + 20);
    return;
  }
  let hi = Math.ceil(Math.log10(Math.max(...vals))), lo = Math.floor(Math.log10(Math.min(...vals)));
  if (hi - lo < 2) lo = hi - 2;
  if (hi - lo > 8) lo = hi - 8;
  const X = (f) => L + (f / 0.5) * pw;
  const Y = (p) => T + ((hi - Math.log10(p)) / (hi - lo)) * ph;
  const ink = cssVar("--ink"), muted = cssVar("--muted"), line = cssVar("--line");
  // band above half Nyquist
  g.fillStyle = cssVar("--band");
  g.fillRect(X(0.25), T, X(0.5) - X(0.25), ph);
  g.strokeStyle = line; g.lineWidth = 1;
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = muted;
  g.textAlign = "right"; g.textBaseline = "middle";
  for (let e = lo; e <= hi; e++) {
    const y = Y(10 ** e);
    g.beginPath(); g.moveTo(L, y); g.lineTo(L + pw, y); g.stroke();
    g.fillText(`10${sup(e)}`, L - 6, y);
  }
  g.textAlign = "center"; g.textBaseline = "top";
  for (const f of [0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5]) {
    const x = X(f);
    g.beginPath(); g.moveTo(x, T + ph); g.lineTo(x, T + ph + 4); g.stroke();
    g.fillText(f === 0.25 ? "¼" : String(f), x, T + ph + 6);
  }
  g.fillStyle = ink;
  g.fillText("radial frequency (cycles / pixel)", L + pw / 2, T + ph + 21);
  g.save(); g.translate(12, T + ph / 2); g.rotate(-Math.PI / 2); g.textBaseline = "middle";
  g.fillText("power", 0, 0); g.restore();
  g.fillStyle = muted; g.textAlign = "left"; g.textBaseline = "top";
  g.fillText("above ½ Nyquist", X(0.25) + 6, T + 4);
  for (const s of series) {
    g.strokeStyle = cssVar(s.cls === "hi" ? "--hi" : "--lo");
    g.lineWidth = 2.25; g.lineJoin = "round";
    g.beginPath();
    let started = false;
    s.freqs.forEach((f, i) => {
      const p = s.power[i];
      if (!(p > 0)) { started = false; return; }
      const y = Math.max(T, Math.min(T + ph, Y(p)));
      if (!started) { g.moveTo(X(f), y); started = true; } else g.lineTo(X(f), y);
    });
    g.stroke();
  }
  g.strokeStyle = line; g.strokeRect(L + 0.5, T + 0.5, pw, ph);
}

function sup(n) {
  const m = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
  return String(n).split("").map((c) => m[c]).join("");
}

// ---------- alpha comparison ----------

// The comparison's own engine: a pool of workers (Octave.init's workers),
// one per core up to 2, each image of the panel going to an idle one. The
// table's ms / image is each image's time in the network, as measured in
// the worker that ran it; the row's title gives the wall time per image.
const CMP_WORKERS = Math.max(1, Math.min(2, navigator.hardwareConcurrency || 1));
let cmpPool = null;
function comparePool() {
  if (!cmpPool) {
    cmpPool = Octave.init({ wasmURL: WASM_URL, workers: CMP_WORKERS });
    cmpPool.catch(() => { cmpPool = null; });
  }
  return cmpPool;
}

async function runComparison() {
  const btn = $("cmp-run");
  btn.disabled = true;
  const prog = $("cmp-progress");
  prog.hidden = false; prog.value = 0;
  const tbody = document.querySelector("#cmp-table tbody");
  tbody.replaceChildren();
  $("cmp-chart").replaceChildren();
  const entries = MODELS.filter((m) => m.dataset === "fashion-mnist").sort((a, b) => a.alpha - b.alpha);
  const results = [];
  try {
    const pool = await comparePool();
    const gal = await loadGallery("fashion-mnist");
    const n = gal.index.count;
    const inputs = Array.from({ length: n }, (_, k) => galleryImage(gal, k));
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const row = el("tr", { "data-alpha": e.alpha },
        el("td", { text: fmtAlpha(e.alpha) }), el("td", { text: "…" }), el("td", { text: "…" }), el("td", { text: "…" }));
      tbody.append(row);
      status.set(`Comparing: loading α = ${fmtAlpha(e.alpha)}…`, i / entries.length);
      let model;
      try {
        model = await pool.load(e.file);
      } catch (err) {
        row.children[1].textContent = "not available";
        row.children[1].title = errText(err);
        row.children[2].textContent = row.children[3].textContent = "—";
        continue;
      }
      const info = model.info;
      const tensor = (k) => rgbaOf(inputs[k], 28, 28); // pixels: the library prepares them
      // One lane per worker: each lane sends its next image when its last
      // one is back, so every worker is busy and none queues two.
      const lanes = (f) => Promise.all(Array.from({ length: pool.workers }, (_, lane) => f(lane)));
      // Warm up: V8 runs the engine's code baseline-compiled at first and
      // swaps in optimized code after some tens of runs. Without this, the
      // first model timed (alpha 0) would pay for it and the others look faster.
      const w0 = performance.now();
      await lanes(async (lane) => {
        for (let k = lane; k < 30 * pool.workers || performance.now() - w0 < 150; k += pool.workers) {
          await model.classify(tensor(k % n), { topK: 1 });
        }
      });
      let correct = 0, ms = 0, done = 0;
      const t0 = performance.now();
      await lanes(async (lane) => {
        for (let k = lane; k < n; k += pool.workers) {
          const r = await model.classify(tensor(k), { topK: 1 });
          if (r.top[0].index === gal.index.labels[k]) correct++;
          ms += r.ms;
          if (++done % 20 === 0) {
            prog.value = (i + done / n) / entries.length;
            status.set(`Comparing: α = ${fmtAlpha(e.alpha)}, image ${done} of ${n}`, prog.value);
            row.children[1].textContent = fmtPct(correct / done);
          }
        }
      });
      model.dispose();
      const wall = (performance.now() - t0) / n;
      const res = { alpha: e.alpha, acc: correct / n, macs: info.macs, ms: ms / n, wall };
      results.push(res);
      row.children[1].textContent = `${fmtPct(res.acc)}`;
      row.children[2].textContent = fmtCount(res.macs);
      row.children[3].textContent = `${res.ms.toFixed(3)}`;
      const base = results.find((x) => x.alpha === 0) || results[0];
      row.children[2].append(el("span", { class: "rel", text: ` ${Math.round((100 * res.macs) / base.macs)}%` }));
      row.children[3].append(el("span", { class: "rel", text: ` ${Math.round((100 * res.ms) / base.ms)}%` }));
      row.children[2].style.setProperty("--f", String(res.macs / base.macs));
      row.children[3].style.setProperty("--f", String(Math.min(1.5, res.ms / base.ms)));
      row.children[2].className = row.children[3].className = "barcell";
      row.title = `${correct} of ${n} correct; ${wall.toFixed(3)} ms per image including the worker round trip`;
      row.dataset.workers = String(pool.workers);
      drawComparison(results, n);
    }
    prog.value = 1;
    if (!results.length) throw new Error("none of the Fashion-MNIST models could be loaded");
    status.done(`Compared ${results.length} models on ${n} test images, ${pool.workers === 1 ? "in 1 worker" : `spread over ${pool.workers} workers`}`);
    document.body.dataset.compared = "1";
  } catch (e) {
    status.done("Comparison stopped");
    showError(`Comparison stopped: ${errText(e)}`);
  } finally {
    btn.disabled = false;
    prog.hidden = true;
  }
}

function drawComparison(results, n) {
  const svg = $("cmp-chart");
  const NS = "http://www.w3.org/2000/svg";
  const s = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  };
  svg.replaceChildren();
  const W = 360, H = 220, L = 48, R = 16, T = 14, B = 40;
  const maxM = Math.max(...results.map((r) => r.macs)) * 1.08;
  const accs = results.map((r) => r.acc);
  let a0 = Math.floor(Math.min(...accs) * 100 - 1) / 100, a1 = Math.ceil(Math.max(...accs) * 100 + 1) / 100;
  a1 = Math.min(1, a1);
  const X = (m) => L + (m / maxM) * (W - L - R);
  const Y = (a) => T + ((a1 - a) / (a1 - a0)) * (H - T - B);
  svg.append(s("rect", { x: L, y: T, width: W - L - R, height: H - T - B, class: "frame" }));
  const step = a1 - a0 > 0.06 ? 0.02 : 0.01;
  for (let a = Math.ceil(a0 / step) * step; a <= a1 + 1e-9; a += step) {
    svg.append(s("line", { x1: L, x2: W - R, y1: Y(a), y2: Y(a), class: "grid" }));
    svg.append(s("text", { x: L - 6, y: Y(a) + 4, "text-anchor": "end", class: "tick" }, (100 * a).toFixed(0) + "%"));
  }
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(s("text", { x: X(f * maxM), y: H - B + 16, "text-anchor": "middle", class: "tick" }, fmtCount(f * maxM)));
  }
  svg.append(s("text", { x: L + (W - L - R) / 2, y: H - 6, "text-anchor": "middle", class: "axis" }, "multiply-adds per image"));
  svg.append(s("text", { x: 12, y: T + (H - T - B) / 2, transform: `rotate(-90 12 ${T + (H - T - B) / 2})`, "text-anchor": "middle", class: "axis" }, `accuracy (${n} images)`));
  const sorted = [...results].sort((a, b) => a.macs - b.macs);
  svg.append(s("polyline", { points: sorted.map((r) => `${X(r.macs)},${Y(r.acc)}`).join(" "), class: "trend" }));
  for (const r of results) {
    svg.append(s("circle", { cx: X(r.macs), cy: Y(r.acc), r: 5, class: r.alpha === 0 ? "pt vanilla" : "pt" }));
  }
  // Labels alternate above and below the points so that neighbours do not collide.
  sorted.forEach((r, i) => {
    const up = i % 2 === 0;
    svg.append(s("text", { x: X(r.macs), y: Y(r.acc) + (up ? -9 : 17), "text-anchor": "middle", class: "lbl" }, `α ${fmtAlpha(r.alpha)}`));
  });
}

// ---------- your model ----------

function renderModelInfo(info, entry) {
  const dl = (box, rows) => {
    box.replaceChildren();
    for (const [k, v] of rows) box.append(el("div", {}, el("dt", { text: k }), el("dd", { text: v })));
  };
  dl($("model-info"), describeModel(info, entry.user ? entry.source : entry.file));
  const prov = Object.entries(info.provenance || {}).sort(([a], [b]) => a.localeCompare(b));
  dl($("model-provenance"), prov.length ? prov.map(([k, v]) => [k, String(v)]) : [["—", "the file records no provenance"]]);
  if (entry.user) $("model-details").open = true;
}

// userOctave returns the engine instance that user models run in: a worker
// of their own, so that a model that exhausts its memory takes down that
// instance only, never the shipped models' (a new one starts next time).
async function userOctave() {
  if (!state.userOctave) {
    const p = Octave.init({ wasmURL: WASM_URL, worker: true });
    state.userOctave = p;
    p.catch(() => { if (state.userOctave === p) state.userOctave = null; });
  }
  return state.userOctave;
}

// The messages of an instance that is gone (the Go program stopped).
const DEAD = /wasm instance has stopped|was terminated|worker .* (failed|exited)|Go program/;

let opening = null; // the open in progress: one at a time

/**
 * Opens a model file the user gave: getBytes() reads it (size: its length
 * when known before reading, for the early refusal). On any failure the
 * page keeps its model, input and maps, and says what is wrong.
 */
async function openUserModel(name, source, size, getBytes) {
  if (opening) throw new Error(`Still opening “${opening}”; wait for it, then try again.`);
  opening = name;
  const before = $("status-text").textContent;
  try {
    if (size != null) checkFileSize(size, name, state.limits);
    status.set(`Reading ${name}…`, -1);
    const bytes = await getBytes((p) => status.set(`Reading ${name}…`, p));
    checkFileSize(bytes.length, name, state.limits);
    const desc = inspectModel(bytes, name);
    checkMemory(bytes.length, desc, name, state.limits);
    status.set(`Loading ${name} (${fmtBytes(bytes.length)}, ${desc.tensors.length} tensors)…`, -1);
    const octave = await userOctave();
    let model;
    try {
      model = await octave.load(bytes);
    } catch (e) {
      const m = errText(e);
      if (DEAD.test(m)) { octave.terminate(); state.userOctave = null; }
      throw new Error(`Could not open “${name}”: ${m}${loadHint(m)}`);
    }
    const why = whyNotShowable(model.info, name, state.limits);
    if (why) {
      await model.dispose();
      throw new Error(why);
    }
    const old = state.user;
    const entry = { id: "user", user: true, dataset: null, source, file: name, label: `Your model · ${model.info.name || name}` };
    state.user = { entry, model };
    modelCache.set("user", Promise.resolve(model));
    const sel = $("model-select");
    let opt = sel.querySelector('option[value="user"]');
    if (!opt) sel.append((opt = el("option", { value: "user" })));
    opt.textContent = entry.label;
    await switchModel("user");
    if (old && old.model !== model) old.model.dispose().catch(() => {});
    document.body.dataset.userModel = String((+document.body.dataset.userModel || 0) + 1);
  } catch (e) {
    status.done(before && !/^(Reading|Loading)/.test(before) ? before : "Ready");
    throw e;
  } finally {
    opening = null;
  }
}

function openUserFile(f) {
  openUserModel(f.name, `${f.name} (this computer)`, f.size, async () => new Uint8Array(await f.arrayBuffer()))
    .catch((e) => showError(errText(e)));
}

async function openUserURL(text) {
  let url;
  try {
    url = new URL(text.trim(), location.href);
  } catch {
    throw new Error(`“${text}” is not a URL.`);
  }
  if (!/^https?:$/.test(url.protocol)) throw new Error(`${url.href}: only http and https URLs can be loaded.`);
  const name = decodeURIComponent(url.pathname.split("/").pop() || url.host);
  await openUserModel(name, url.href, null, async (onProgress) => {
    let res;
    try {
      res = await fetch(url, { credentials: "omit" });
    } catch (e) {
      throw new Error(`Could not fetch ${url.href}: ${errText(e)}. ` +
        (url.origin !== location.origin ? "A model on another site loads over https only, and that site must allow this page to read it (CORS); otherwise download the file and open it here." : ""));
    }
    if (!res.ok) throw new Error(`Could not fetch ${url.href}: HTTP ${res.status}`);
    const len = +res.headers.get("content-length") || 0;
    if (len && !res.headers.get("content-encoding")) checkFileSize(len, name, state.limits);
    return fetchBody(res, onProgress);
  });
}

// fetchBody reads a response, reporting progress when its length is known.
async function fetchBody(res, onProgress) {
  const len = +res.headers.get("content-length") || 0;
  if (!res.body || !len || res.headers.get("content-encoding")) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    if (got > state.limits.maxBytes) { reader.cancel(); checkFileSize(got, res.url, state.limits); }
    onProgress && onProgress(got / len);
  }
  const out = new Uint8Array(got);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

function setupByo() {
  const file = $("model-file");
  file.addEventListener("change", () => {
    const f = file.files && file.files[0];
    if (f) openUserFile(f);
    file.value = "";
  });
  $("model-open").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); file.click(); }
  });
  const go = () => {
    const v = $("model-url").value;
    if (!v.trim()) { showError("Type the URL of a .safetensors model file first."); return; }
    openUserURL(v).catch((e) => showError(errText(e)));
  };
  $("model-url-load").addEventListener("click", go);
  $("model-url").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); go(); } });
  const box = $("byo");
  box.addEventListener("dragenter", () => box.classList.add("over"));
  box.addEventListener("dragleave", () => box.classList.remove("over"));
}

// ---------- start ----------

async function main() {
  $("legend-bar").style.background = cssGradient();
  document.querySelector(".zoom-legend .legend-bar").style.background = cssGradient();
  fillModelSelect();
  setupTabs();
  setupGallery();
  setupPad();
  setupPhoto();
  setupCamera();
  setupZoom();
  setupByo();
  $("upsample").addEventListener("change", () => {
    const m = state.maps && state.maps.find((x) => x.layer === state.layer);
    if (m) renderSpectrum(m);
  });
  $("cmp-run").addEventListener("click", () => runComparison());
  let resizeT = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeT);
    resizeT = setTimeout(() => {
      const m = state.maps && state.maps.find((x) => x.layer === state.layer);
      if (m) renderSpectrum(m);
    }, 150);
  });

  status.set("Loading the engine…", -1);
  const galleryP = showGallery("fashion-mnist");
  const t0 = performance.now();
  state.octave = await Octave.init({ wasmURL: WASM_URL, worker: true, onProgress: loadProgress("Loading the engine…") });
  const engineMs = performance.now() - t0;
  await switchModel(DEFAULT_MODEL, { rerun: false });
  await galleryP;
  selectTile(0, { run: false });
  await useInput(galleryInput("fashion-mnist", 0));
  const simd = state.model.info.simd;
  $("engine-meta").textContent = `Engine: ${simd ? "WebAssembly SIMD128" : "WebAssembly (scalar fallback)"}, in a Web Worker · started in ${Math.round(engineMs)} ms`;
  document.body.dataset.ready = "1";
}

main().catch((e) => {
  status.done("Could not start");
  showError(errText(e));
});

export { LUT };
