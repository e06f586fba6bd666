// Compiled with tsc --strict, with and without the DOM lib (types/tsconfig*.json).
import { Octave, Model, TerminatedError, DisposedError, OctaveError, SimdUnsupportedError, RestartError, simdSupported, version, type Classification, type Source, type Stats } from "octave-wasm";

async function main(): Promise<string> {
  const octave: Octave = await Octave.init({ workers: 2, simd: "auto", recycleMemoryAbove: 64 * 1024 * 1024, onProgress: (p) => { void p.loaded; } }).catch((err: unknown) => {
    if (err instanceof SimdUnsupportedError && !simdSupported()) return Octave.init({ wasmURL: "/static/octave-nosimd.wasm" });
    throw err;
  });
  const model: Model = await octave.load(Octave.models.fashion, {
    onProgress: ({ loaded, total }) => { void (total === null ? loaded : loaded / total); },
  });
  const src: Source = { data: new Uint8ClampedArray(4 * 28 * 28), width: 28, height: 28 };
  const r: Classification = await model.classify(src, { topK: 3, checkInput: true });
  const maps = await model.featureMaps({ data: new Float32Array(784), channels: 1, height: 28, width: 28 }, { layers: ["stem"] });
  const e: OctaveError = new TerminatedError("x");
  const d: Error = new DisposedError("y");
  const t: TerminatedError = new RestartError("z");
  const st: Stats = await octave.stats();
  model.dispose(); octave.terminate();
  return `${version} ${Octave.version} ${r.top[0]?.label} ${maps.ms} ${maps[0]?.high?.width} ${e.name} ${d.message} ${octave.workers} ${t.name} ${st.restarts + st.memoryBytes}`;
}
void main();
