// WebAssembly register tiles for the relaxed-SIMD measurement (issue 17,
// item 4), written as bytes by a small module builder: no assembler, no
// dependency. Each variant is the inner product of octcore's
// microKernelWasm: an MR x NV tile (MR output rows, NV vectors of 4 pixels),
// for nblk consecutive row blocks over one packed panel of K rows of NV*4
// floats, a splatted weight times each pixel vector added to its
// accumulator, either as f32x4.mul + f32x4.add (what the SIMD build ships) or
// as one f32x4.relaxed_madd.
//
//   import { variants, buildModule } from "./tiles.mjs";
//   const bytes = buildModule(variants["4x2-madd"]);

// Opcodes (the SIMD prefix 0xfd, then the LEB128 of the index).
const SIMD = 0xfd;
const OP = {
  v128load: [SIMD, 0x00], load32splat: [SIMD, 0x09], v128store: [SIMD, 0x0b], v128const: [SIMD, 0x0c],
  f32x4splat: [SIMD, 0x13], f32x4add: [SIMD, 0xe4, 0x01], f32x4mul: [SIMD, 0xe6, 0x01],
  // f32x4.relaxed_madd is 0x105: fd 85 02.
  relaxedMadd: [SIMD, 0x85, 0x02],
};
const BLOCK = 0x02, LOOP = 0x03, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, CALL = 0x10;
const LGET = 0x20, LSET = 0x21, I32CONST = 0x41, I32EQZ = 0x45, I32ADD = 0x6a, I32SUB = 0x6b;
const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b, VOID = 0x40;

function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
function sleb(n) {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, body) => [id, ...uleb(body.length), ...body];
const str = (s) => vec([...Buffer.from(s)].map((x) => [x]));
const memarg = (align, offset) => [...uleb(align), ...uleb(offset)];

// The variants measured. mr x nv is the tile; fma chooses relaxed_madd.
export const variants = {
  "4x2-muladd": { mr: 4, nv: 2, fma: false, note: "the shipped tile" },
  "4x2-madd": { mr: 4, nv: 2, fma: true, note: "the same with relaxed_madd" },
  "5x2-madd": { mr: 5, nv: 2, fma: true, note: "10 accumulators" },
  "6x2-madd": { mr: 6, nv: 2, fma: true, note: "12 accumulators" },
  "4x3-madd": { mr: 4, nv: 3, fma: true, note: "12 accumulators, 3 pixel vectors" },
  "4x3-muladd": { mr: 4, nv: 3, fma: false, note: "the native build's shape, mul+add" },
  "5x2-muladd": { mr: 5, nv: 2, fma: false, note: "10 accumulators, mul+add" },
  "6x2-muladd": { mr: 6, nv: 2, fma: false, note: "12 accumulators, mul+add" },
};

// fusedModule exports madd(a, b, c): lane 0 of f32x4.relaxed_madd of the
// three splatted values. With a = b = 1 + 2^-12 and c = -(1 + 2^-11) a fused
// multiply-add returns 2^-24, a multiply then an add 0: it tells which of the
// two the engine runs.
export function fusedModule() {
  const body = [...vec([]), 0x20, 0, ...OP.f32x4splat, 0x20, 1, ...OP.f32x4splat, 0x20, 2, ...OP.f32x4splat,
    ...OP.relaxedMadd, SIMD, 0x1f, 0x00, END];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[F32], [F32], [F32]]), ...vec([[F32]])]])), ...section(3, vec([[0]])),
    ...section(7, vec([[...str("madd"), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

// buildModule returns the bytes of a module exporting memory "mem" and
// kern(nblk, K, a, b, c, ldc) and run(reps, nblk, K, a, b, c, ldc), which
// calls kern reps times. Row i of a block's tile goes to c + i*ldc bytes,
// its weights for step k are the MR floats at a + (k*MR)*4 (the blocks'
// weights follow each other), the panel's row k is at b + k*NV*16.
export function buildModule({ mr, nv, fma }) {
  // kern's locals: 0 nblk, 1 K, 2 a, 3 b, 4 c, 5 ldc (params), 6 k, 7 pb, 8 pc,
  // then v128: the accumulators, the pixel vectors, the splat.
  const [NBLK, K, A, B, C, LDC, KK, PB, PC] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const acc = (i, j) => 9 + i * nv + j;
  const bv = (j) => 9 + mr * nv + j;
  const splat = 9 + mr * nv + nv;
  const nvec = mr * nv + nv + 1;
  const k = [];
  const e = (...x) => k.push(...x.flat());
  e(BLOCK, VOID, LOOP, VOID);
  e(LGET, NBLK, I32EQZ, BR_IF, 1);
  e(LGET, K, LSET, KK, LGET, B, LSET, PB);
  e(OP.v128const, new Array(16).fill(0), LSET, acc(0, 0));
  for (let n = 1; n < mr * nv; n++) e(LGET, acc(0, 0), LSET, 9 + n);
  e(BLOCK, VOID, LOOP, VOID);
  e(LGET, KK, I32EQZ, BR_IF, 1);
  for (let j = 0; j < nv; j++) e(LGET, PB, OP.v128load, memarg(4, 16 * j), LSET, bv(j));
  for (let i = 0; i < mr; i++) {
    e(LGET, A, OP.load32splat, memarg(2, 4 * i), LSET, splat);
    for (let j = 0; j < nv; j++) {
      if (fma) e(LGET, splat, LGET, bv(j), LGET, acc(i, j), OP.relaxedMadd, LSET, acc(i, j));
      else e(LGET, splat, LGET, bv(j), OP.f32x4mul, LGET, acc(i, j), OP.f32x4add, LSET, acc(i, j));
    }
  }
  e(LGET, PB, I32CONST, sleb(16 * nv), I32ADD, LSET, PB);
  e(LGET, A, I32CONST, sleb(4 * mr), I32ADD, LSET, A);
  e(LGET, KK, I32CONST, 1, I32SUB, LSET, KK);
  e(BR, 0, END, END);
  e(LGET, C, LSET, PC);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nv; j++) e(LGET, PC, LGET, acc(i, j), OP.v128store, memarg(4, 16 * j));
    e(LGET, PC, LGET, LDC, I32ADD, LSET, PC);
  }
  e(LGET, PC, LSET, C);
  e(LGET, NBLK, I32CONST, 1, I32SUB, LSET, NBLK);
  e(BR, 0, END, END, END);
  const kernBody = [...vec([[...uleb(3), I32], [...uleb(nvec), V128]]), ...k];

  // run(reps, nblk, K, a, b, c, ldc): reps calls of kern.
  const r = [];
  const f = (...x) => r.push(...x.flat());
  f(BLOCK, VOID, LOOP, VOID, LGET, 0, I32EQZ, BR_IF, 1);
  f(LGET, 1, LGET, 2, LGET, 3, LGET, 4, LGET, 5, LGET, 6, CALL, 0);
  f(LGET, 0, I32CONST, 1, I32SUB, LSET, 0, BR, 0, END, END, END);
  const runBody = [...vec([]), ...r];

  const types = vec([
    [0x60, ...vec(new Array(6).fill([I32])), ...vec([])],
    [0x60, ...vec(new Array(7).fill([I32])), ...vec([])],
  ]);
  const funcs = vec([[0], [1]]);
  const mem = vec([[0x00, ...uleb(64)]]); // 64 pages, 4 MiB
  const exps = vec([[...str("mem"), 0x02, 0], [...str("kern"), 0x00, 0], [...str("run"), 0x00, 1]]);
  const code = vec([kernBody, runBody].map((b) => [...uleb(b.length), ...b]));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types), ...section(3, funcs), ...section(5, mem), ...section(7, exps), ...section(10, code),
  ]);
}

// peakModule returns a module exporting peak(iters): 12 independent
// accumulators, each step acc = acc * x + y (mul+add, or relaxed_madd),
// no memory traffic in the loop: what the FP units issue at best.
export function peakModule(fma, nacc = 12) {
  const b = [];
  const e = (...x) => b.push(...x.flat());
  // locals: 0 iters (param), v128: 1 x, 2 y, 3.. accumulators
  const one = [0x43, ...new Uint8Array(new Float32Array([0.999999]).buffer)];
  const tiny = [0x43, ...new Uint8Array(new Float32Array([1e-7]).buffer)];
  e(one, OP.f32x4splat, LSET, 1, tiny, OP.f32x4splat, LSET, 2);
  for (let i = 0; i < nacc; i++) e(LGET, 1, LSET, 3 + i);
  e(BLOCK, VOID, LOOP, VOID, LGET, 0, I32EQZ, BR_IF, 1);
  for (let i = 0; i < nacc; i++) {
    if (fma) e(LGET, 3 + i, LGET, 1, LGET, 2, OP.relaxedMadd, LSET, 3 + i);
    else e(LGET, 3 + i, LGET, 1, OP.f32x4mul, LGET, 2, OP.f32x4add, LSET, 3 + i);
  }
  e(LGET, 0, I32CONST, 1, I32SUB, LSET, 0, BR, 0, END, END);
  for (let i = 0; i < nacc; i++) e(I32CONST, sleb(16 * i), LGET, 3 + i, OP.v128store, memarg(4, 0));
  e(END);
  const body = [...vec([[...uleb(2 + nacc), V128]]), ...b];
  const types = vec([[0x60, ...vec([[I32]]), ...vec([])]]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types), ...section(3, vec([[0]])), ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...str("mem"), 0x02, 0], [...str("peak"), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

// lab returns { setup, chunk }, using nothing but WebAssembly and
// performance.now, so that its source also runs in a page. setup(mods, opts)
// instantiates mods (a list of {name, bytes (an array of numbers), kind:
// "tile"|"peak"|"fused", mr, nv}), checks each tile's result against a plain
// JS sum, warms each module up and sizes its chunk to about opts.ms; chunk(i)
// runs module i for one chunk and returns {ms, flops}. The caller reads its
// CPU clock around chunk (which is why a chunk is one call).
export function lab() {
  let out = [];
  async function setup(mods, { ms = 300, M = 60, Kdepth = 576 } = {}) {
    out = [];
    for (const m of mods) {
      if (m.kind === "fused") {
        const f = (await WebAssembly.instantiate(new Uint8Array(m.bytes))).instance.exports.madd;
        const r = f(1 + 2 ** -12, 1 + 2 ** -12, -(1 + 2 ** -11));
        out.push({ name: m.name, kind: m.kind, note: r === 2 ** -24 ? "fused (one rounding)" : r === 0 ? "multiply, then add" : "unexpected " + r });
        continue;
      }
      const x = (await WebAssembly.instantiate(new Uint8Array(m.bytes))).instance.exports;
      const e = { name: m.name, kind: m.kind, mr: m.mr, nv: m.nv, note: m.note };
      if (m.kind === "tile") {
        const nblk = M / m.mr, w = 4 * m.nv;
        const f32 = new Float32Array(x.mem.buffer);
        // a at 0, the panel after it, c after that (M rows of w floats).
        const aOff = 0, bOff = M * Kdepth * 4, cOff = bOff + Kdepth * w * 4;
        for (let i = 0; i < M * Kdepth; i++) f32[aOff / 4 + i] = ((i * 7919) % 97) / 97 - 0.5;
        for (let i = 0; i < Kdepth * w; i++) f32[bOff / 4 + i] = ((i * 104729) % 89) / 89 - 0.5;
        x.kern(nblk, Kdepth, aOff, bOff, cOff, w * 4);
        // Reference: block r's weights for step k are a[(r/mr)*mr*K + k*mr + r%mr].
        let maxErr = 0;
        for (let r = 0; r < M; r++) {
          const base = Math.floor(r / m.mr) * m.mr * Kdepth, rr = r % m.mr;
          for (let p = 0; p < w; p++) {
            let s = 0;
            for (let kk = 0; kk < Kdepth; kk++) s += f32[aOff / 4 + base + kk * m.mr + rr] * f32[bOff / 4 + kk * w + p];
            maxErr = Math.max(maxErr, Math.abs(s - f32[cOff / 4 + r * w + p]));
          }
        }
        if (!(maxErr < 1e-3)) throw new Error(`${m.name}: wrong result, max error ${maxErr}`);
        e.maxErr = maxErr;
        e.flopsPerRep = 2 * M * Kdepth * w;
        e.call = (reps) => x.run(reps, nblk, Kdepth, aOff, bOff, cOff, w * 4);
      } else {
        e.flopsPerRep = 2 * 12 * 4;
        e.call = (reps) => x.peak(reps);
      }
      // Warm up (V8 tiers the functions up after their first calls), then
      // size a chunk to about ms.
      let reps = 16;
      for (let t0 = performance.now(); performance.now() - t0 < 150;) e.call(reps);
      for (;;) {
        const t0 = performance.now();
        e.call(reps);
        const dt = performance.now() - t0;
        if (dt > ms / 4) { e.reps = Math.max(1, Math.round((reps * ms) / dt)); break; }
        reps *= 2;
      }
      out.push(e);
    }
    return out.map(({ name, kind, mr, nv, note, maxErr }) => ({ name, kind, mr, nv, note, maxErr }));
  }
  function chunk(i) {
    const e = out[i];
    if (!e.call) return null;
    const t0 = performance.now();
    e.call(e.reps);
    return { ms: performance.now() - t0, flops: e.flopsPerRep * e.reps };
  }
  return { setup, chunk };
}

// measure runs setup, then `rounds` rounds of every module's chunk in turn;
// cpuNow (ms), when given, is read around each chunk. Returns per module
// the GFLOP/s of each round by wall time (and by CPU time).
export async function measure(mods, { rounds = 5, ms = 300, M = 60, Kdepth = 576, cpuNow } = {}) {
  const l = lab();
  const info = await l.setup(mods, { ms, M, Kdepth });
  const res = info.map((x) => ({ ...x, gflops: [], cpuGflops: [] }));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < res.length; i++) {
      const c0 = cpuNow?.();
      const c = l.chunk(i);
      if (!c) continue;
      res[i].gflops.push(c.flops / c.ms / 1e6);
      if (cpuNow) res[i].cpuGflops.push(c.flops / (cpuNow() - c0) / 1e6);
    }
  }
  return res;
}
