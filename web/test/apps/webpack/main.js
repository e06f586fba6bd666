import * as lib from "octave-wasm";
import { run } from "../common.js";
run(lib);
