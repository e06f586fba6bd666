// Must NOT compile: the types are real, not any.
import { Octave } from "octave-wasm";
const octave = await Octave.init({ workers: "two" });
const model = await octave.load(Octave.models.fashion);
await model.classify(42);
