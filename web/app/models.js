// The shipped models, served from /models/ (models/weights/ in the repository).

/** @typedef {{id: string, file: string, dataset: "fashion-mnist"|"mnist", alpha: number, label: string}} ModelEntry */

/** @type {ModelEntry[]} */
export const MODELS = [
  { id: "fashion-a0", file: "models/fashion-oct-a000.safetensors", dataset: "fashion-mnist", alpha: 0 },
  { id: "fashion-a0125", file: "models/fashion-oct-a125.safetensors", dataset: "fashion-mnist", alpha: 0.125 },
  { id: "fashion-a025", file: "models/fashion-oct-a250.safetensors", dataset: "fashion-mnist", alpha: 0.25 },
  { id: "fashion-a05", file: "models/fashion-oct-a500.safetensors", dataset: "fashion-mnist", alpha: 0.5 },
  { id: "fashion-a075", file: "models/fashion-oct-a750.safetensors", dataset: "fashion-mnist", alpha: 0.75 },
  { id: "mnist-a05", file: "models/mnist-oct-a500.safetensors", dataset: "mnist", alpha: 0.5 },
].map((m) => ({ ...m, label: `${m.dataset === "mnist" ? "MNIST" : "Fashion-MNIST"} · α = ${m.alpha}${m.alpha === 0 ? " (vanilla)" : ""}` }));

/** DEFAULT_MODEL is the model the page opens on. */
export const DEFAULT_MODEL = "fashion-a05";

/** The directory of the wasm engines (SIMD and scalar, picked by feature detection), relative to the page. */
export const WASM_URL = "dist/";
