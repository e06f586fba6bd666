// Reads an Octave model file (safetensors: 8-byte header length, JSON
// header, raw data) into its layer list and float32 parameters. The bench
// writes float32 files; int8 (per-row scale) and float16 are read too, so
// any shipped model can be translated.

export function parseModel(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + n)));
  const base = 8 + n;
  const meta = header.__metadata__ || {};
  const raw = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [b, end] = e.data_offsets;
    const count = e.shape.reduce((a, d) => a * d, 1);
    const off = base + b;
    let data;
    if (e.dtype === "F32") {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getFloat32(off + 4 * i, true);
    } else if (e.dtype === "F16") {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = f16(dv.getUint16(off + 2 * i, true));
    } else if (e.dtype === "I8") {
      data = new Int8Array(u8.buffer.slice(u8.byteOffset + off, u8.byteOffset + base + end));
    } else throw new Error(`tensor ${name}: dtype ${e.dtype} not supported`);
    raw[name] = { shape: e.shape, dtype: e.dtype, data };
  }
  const params = {};
  for (const [name, t] of Object.entries(raw)) {
    if (name.endsWith(".scale") && raw[name.slice(0, -6)]?.dtype === "I8") continue;
    if (t.dtype === "I8") {
      const s = raw[name + ".scale"].data;
      const rows = t.shape[0], cols = t.data.length / rows;
      const d = new Float32Array(t.data.length);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) d[r * cols + c] = s[r] * t.data[r * cols + c];
      params[name] = { shape: t.shape, data: d };
    } else params[name] = { shape: t.shape, data: t.data };
  }
  return { graph: JSON.parse(meta.graph), input: meta.input ? JSON.parse(meta.input) : null, params, meta };
}

function f16(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Splits alpha the way octcore does: cL = floor(alpha * c). */
export function split(c, alpha) {
  const cl = Math.floor((alpha || 0) * c + 1e-9);
  return [c - cl, cl];
}
