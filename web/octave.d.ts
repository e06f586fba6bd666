// Types of web/octave.js. See docs/API.md.
//
// They compile with and without TypeScript's DOM lib: a browser type that
// the project lacks (a Node-only project has no ImageData) drops out of the
// unions below instead of failing to resolve.

/** The instance type of the global class called N, or never where it is not declared. */
type Global<N extends string> = typeof globalThis extends Record<N, { prototype: infer T }> ? T : never;

/** A URL object: the global URL where declared (DOM lib, @types/node), else its shape. */
export type URLObject = [Global<"URL">] extends [never] ? { readonly href: string; toString(): string } : Global<"URL">;

/** An image or a tensor to run a model on. */
export type Source =
  | Global<"ImageData">
  | Global<"HTMLCanvasElement">
  | Global<"HTMLImageElement">
  | Global<"ImageBitmap">
  | Global<"OffscreenCanvas">
  | Global<"HTMLVideoElement">
  | Global<"VideoFrame">
  /** RGBA pixels, as ImageData holds them (works in Node too). */
  | { data: Uint8ClampedArray | Uint8Array; width: number; height: number }
  /** An image file (PNG, JPEG, GIF; in browsers also what the browser decodes), decoded by octcore/imageio. */
  | Global<"Blob">
  | ArrayBuffer
  | Uint8Array
  /** An already normalized channels x height x width tensor. */
  | Tensor
  /** Both octaves, for a model whose input layer has alpha_out > 0: low is ceil(height/2) x ceil(width/2). */
  | { high: Tensor; low: Tensor };

export interface Tensor {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

export interface InitOptions {
  /**
   * A directory with octave.wasm, octave-nosimd.wasm and wasm_exec.js (simd picks the file), or one .wasm file.
   * Default: the package's dist/octave.wasm, the SIMD128 build (the package has no scalar build: without
   * SIMD128, init rejects with a SimdUnsupportedError unless this names octave-nosimd.wasm or a directory holding it).
   */
  wasmURL?: string | URLObject;
  /** The wasm binary itself (skips wasmURL). */
  wasm?: ArrayBuffer | ArrayBufferView;
  /** "auto" (default) picks the SIMD build where WebAssembly.validate accepts SIMD128; false needs wasmURL or wasm. */
  simd?: "auto" | boolean;
  /**
   * true (default): where the engine runs relaxed SIMD and the binary carries its octave.relaxed table,
   * the micro kernel is patched to f32x4.relaxed_madd (else, or if that compile fails, the plain module);
   * false: the plain module.
   */
  relaxed?: boolean;
  /** Go's wasm_exec.js. Default: beside the wasm. */
  wasmExecURL?: string | URLObject;
  /** Run in a dedicated worker (default true; worker_threads in Node). */
  worker?: boolean;
  /** octave-worker.js. Default: beside octave.js (a Blob worker that imports it when it is on another origin). */
  workerURL?: string | URLObject;
  /** How many workers (wasm instances) concurrent calls are spread over (default 1). */
  workers?: number;
  /** Called as the wasm binary's bytes arrive. */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Bytes (default 32 MiB). After a call that leaves a wasm instance's memory above this and above twice
   * what it held with its models loaded, the instance is replaced by a fresh one with the same models
   * (WebAssembly memory cannot shrink). 0 or Infinity: never.
   */
  recycleMemoryAbove?: number;
}

/** Counters of the wasm instances, summed over the workers. */
export interface Stats {
  /** The wasm memory now, in bytes. */
  memoryBytes: number;
  /** The most memory each instance held, as seen after its calls. */
  peakMemoryBytes: number;
  /** How often an instance was replaced to release memory (see recycleMemoryAbove). */
  restarts: number;
  /** The time those restarts took, in milliseconds. */
  restartMs: number;
}

/** Bytes of a wasm binary or a model fetched so far; total is null when the size is not known. */
export interface LoadProgress { loaded: number; total: number | null }

export interface LoadOptions {
  /** Run the model once on zeros before load resolves (default true). */
  warmup?: boolean;
  /** Called as the model's bytes arrive. */
  onProgress?: (progress: LoadProgress) => void;
}

/** Options of every run. */
export interface RunOptions {
  /** Stretch images to width x height; a number: scale the longer side to it (any-size models). */
  size?: { width: number; height: number } | number;
  /** false skips the checks that every input value is finite and that the probabilities are (default true). */
  checkInput?: boolean;
}

export interface PathMACs { hh: number; hl: number; lh: number; ll: number }

export interface LayerInfo {
  name: string;
  kind: string;
  alphaIn: number;
  alphaOut: number;
  /** [channels, height, width] of the high-frequency output, or null (alpha 1). */
  high: [number, number, number] | null;
  /** [channels, height, width] of the low-frequency output, or null. */
  low: [number, number, number] | null;
  params: number;
  macs: number;
  macsByPath: PathMACs;
  activations: number;
}

export interface ModelInfo {
  name: string;
  format: string;
  /** The largest alpha of any layer. */
  alpha: number;
  /** height = width = 0: the model takes any size. */
  input: {
    channels: number; height: number; width: number; mean: number[]; std: number[];
    /** Photos: shorter side scaled to this before the crop (docs/FORMAT.md). */
    resize_shorter?: number;
    /** "center": the centre height x width window is taken instead of stretching. */
    crop?: "center";
  };
  labels: string[];
  outputs: number;
  params: number;
  /** Parameters with BatchNorm folded into the convolutions, as the network runs (equal to params for a file written folded). */
  paramsFolded: number;
  /** Multiply-adds of one inference at costSize. */
  macs: number;
  macsByPath: PathMACs;
  /** [height, width] the cost is given for: the input size, or 224 x 224 for any-size models. */
  costSize: [number, number];
  layers: LayerInfo[];
  provenance: Record<string, string>;
  /** Whether the instance runs the SIMD build. */
  simd: boolean;
}

export interface Prediction { label: string; index: number; probability: number }

export interface Classification {
  top: Prediction[];
  probabilities: Float32Array;
  /** Inference time in milliseconds (the network only). */
  ms: number;
}

export interface FeaturePart {
  channels: number;
  height: number;
  width: number;
  /** channels x height x width values, row-major. */
  data: Float32Array;
}

export interface FeatureMap {
  layer: string;
  kind: string;
  /** Time of this layer in milliseconds. */
  ms: number;
  high: FeaturePart | null;
  low: FeaturePart | null;
}

/** @deprecated use RunOptions */
export type SizeOption = RunOptions;

/** The network's output from a featureMaps call with output: true. */
export interface Output {
  top: Prediction[];
  probabilities: Float32Array;
  /** The network's output before the softmax. */
  logits: Float32Array;
}

export declare class Model {
  readonly info: ModelInfo;
  /** Images are resized to the model's input size (or options.size). */
  classify(source: Source, options?: { topK?: number } & RunOptions): Promise<Classification>;
  /**
   * Images run at their own size (or options.size); with output: true they are prepared as for
   * classify and the result carries the output of the same run. Default layers: every conv and octconv.
   */
  featureMaps(source: Source, options?: { layers?: string[]; output?: boolean; topK?: number } & RunOptions):
    Promise<FeatureMap[] & { ms: number; output?: Output }>;
  /** Frees the model; a no-op once it or its instance is gone. */
  dispose(): Promise<void>;
}

export declare class Octave {
  static init(options?: InitOptions): Promise<Octave>;
  /** The package version. */
  static readonly version: string;
  /** The models in the package, as URLs for octave.load. */
  static readonly models: {
    /** Fashion-MNIST, Oct-ResNet-mini at alpha .5. */
    readonly fashion: URLObject;
    /** MNIST digits, Oct-ResNet-mini at alpha .5. */
    readonly mnist: URLObject;
  };
  readonly simd: boolean;
  /** Whether the micro kernel runs f32x4.relaxed_madd (the relaxed-SIMD patch of octave.wasm). */
  readonly relaxed: boolean;
  /** The number of workers (wasm instances). */
  readonly workers: number;
  load(model: string | URLObject | ArrayBuffer | ArrayBufferView | Global<"Blob">, options?: LoadOptions): Promise<Model>;
  /** The size of the WebAssembly memory in bytes, summed over the workers. */
  memoryBytes(): Promise<number>;
  /** Memory and restart counters, summed over the workers. */
  stats(): Promise<Stats>;
  /** Stops the instance: pending calls reject with a TerminatedError (which needs no handler). */
  terminate(): void;
}

/** Every error the library raises on its own. */
export declare class OctaveError extends Error {
  name: "OctaveError" | "TerminatedError" | "DisposedError" | "SimdUnsupportedError" | "RestartError";
}
/** A call on a terminated instance, or one that terminate() cut short. */
export declare class TerminatedError extends OctaveError {
  /** RestartError: a TerminatedError too. */
  name: "TerminatedError" | "RestartError";
}
/**
 * Replacing a wasm instance to release memory (recycleMemoryAbove) failed: the instance is stopped, and the
 * calls pending then and every later call reject with it.
 */
export declare class RestartError extends TerminatedError {
  name: "RestartError";
}
/** A call on a disposed model, or one that dispose() cut short. */
export declare class DisposedError extends OctaveError {
  name: "DisposedError";
}
/** Octave.init without WebAssembly SIMD128 (or with simd: false) and no scalar build given: pass wasmURL (octave-nosimd.wasm). */
export declare class SimdUnsupportedError extends OctaveError {
  name: "SimdUnsupportedError";
}

/** The package version. */
export declare const version: string;

/** Whether this engine runs WebAssembly SIMD128. */
export declare function simdSupported(): boolean;
/** Whether this engine runs WebAssembly relaxed SIMD (validates a one-instruction f32x4.relaxed_madd module). */
export declare function relaxedSupported(): boolean;
/** The offsets in octave.wasm's octave.relaxed custom section, or null without one. */
export declare function relaxedTable(bytes: ArrayBuffer | Uint8Array): number[] | null;
/** A copy of the bytes with the table's multiply+add pairs as f32x4.relaxed_madd, or null. */
export declare function relaxedPatch(bytes: ArrayBuffer | Uint8Array): Uint8Array | null;

/** Bilinear resize of RGBA pixels (kept for earlier callers; the library resizes in the wasm now). */
export declare function resizeBilinear(src: ArrayLike<number>, w: number, h: number, tw: number, th: number): Uint8ClampedArray;
