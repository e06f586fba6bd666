// The app every browser fixture runs (imported by vite/, webpack/, esbuild/;
// cdn/ imports the package from another origin and passes it in): load the
// packaged Fashion-MNIST model with the default worker, classify a gallery
// image drawn on a canvas, then shut down as README does, unawaited. It
// reports on window.__result; the test checks it against the gallery's label.
// init: more Octave.init options (the no-SIMD page passes wasmURL).
export async function run(lib, k = 0, init = {}) {
  const { Octave } = lib;
  const result = { rejections: [] };
  addEventListener("unhandledrejection", (ev) => result.rejections.push(String(ev.reason && (ev.reason.stack || ev.reason))));
  window.__octave = lib;
  try {
    const progress = [], wasmProgress = [];
    const octave = await Octave.init({ ...init, onProgress: (p) => wasmProgress.push(p) });
    const model = await octave.load(Octave.models.fashion, { onProgress: (p) => progress.push(p) });
    const index = await (await fetch("gallery/fashion-mnist.json")).json();
    const img = new Image();
    img.src = "gallery/fashion-mnist.png";
    await img.decode();
    const { tile, cols } = index;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = tile;
    canvas.getContext("2d").drawImage(img, (k % cols) * tile, Math.floor(k / cols) * tile, tile, tile, 0, 0, tile, tile);
    const r = await model.classify(canvas, { topK: 3 });
    Object.assign(result, {
      version: Octave.version, simd: octave.simd, label: index.labels[k], top: r.top, ms: r.ms,
      modelURL: String(Octave.models.fashion), progress: progress.at(-1), progressCalls: progress.length,
      wasmProgress: wasmProgress.at(-1), wasmProgressCalls: wasmProgress.length,
    });
    // Calls in flight when the app shuts down, as README writes it.
    for (let i = 0; i < 4; i++) model.classify(canvas);
    model.dispose(); octave.terminate();
  } catch (e) {
    result.error = String((e && e.stack) || e);
  }
  await new Promise((r) => setTimeout(r, 300)); // let any stray rejection surface
  window.__result = result;
  document.body.dataset.done = "1";
}
