// Node ESM: the packaged model on a gallery image, shut down as README does.
import { Octave } from "octave-wasm";
import { galleryImage } from "./gallery.mjs";

const [gallery, kArg] = process.argv.slice(2);
const { data, width, height, label } = galleryImage(gallery, Number(kArg ?? 0));
let wasmProgress;
const octave = await Octave.init({ onProgress: (p) => { wasmProgress = p; } });
const model = await octave.load(Octave.models.fashion);
const r = await model.classify({ data, width, height }, { topK: 3 });
console.log(JSON.stringify({ version: Octave.version, label, top: r.top, modelURL: String(Octave.models.fashion), wasmProgress }));
model.classify({ data, width, height }); // in flight at shutdown
model.dispose(); octave.terminate();
