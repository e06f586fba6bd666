// Frequency analysis of feature maps: radially averaged power spectra and
// the share of energy above half the Nyquist frequency. A radix-2 FFT on
// maps zero-padded to a power of two (maps are at most a few hundred pixels).

function nextPow2(n) {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/** In-place radix-2 complex FFT of length re.length (a power of two). */
export function fft(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang), wi = Math.sin(ang);
    const half = len >> 1;
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < half; k++) {
        const a = i + k, b = a + half;
        const xr = re[b] * cr - im[b] * ci;
        const xi = re[b] * ci + im[b] * cr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

/**
 * 2-D power spectrum of one h x w map (values data[offset ...]): the mean is
 * removed, the map scaled to unit variance and tapered with a sin² (Hann)
 * window, then zero-padded to powers of two. Returns null for a constant map.
 */
export function powerSpectrum(data, offset, h, w) {
  const n = h * w;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += data[offset + i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) { const d = data[offset + i] - mean; v += d * d; }
  v /= n;
  if (!(v > 1e-20)) return null;
  const s = 1 / Math.sqrt(v);
  const NH = nextPow2(h), NW = nextPow2(w);
  const re = new Float64Array(NH * NW), im = new Float64Array(NH * NW);
  const wy = Array.from({ length: h }, (_, y) => Math.sin((Math.PI * (y + 0.5)) / h) ** 2);
  const wx = Array.from({ length: w }, (_, x) => Math.sin((Math.PI * (x + 0.5)) / w) ** 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      re[y * NW + x] = (data[offset + y * w + x] - mean) * s * wy[y] * wx[x];
    }
  }
  const rr = new Float64Array(Math.max(NH, NW)), ri = new Float64Array(Math.max(NH, NW));
  for (let y = 0; y < NH; y++) {
    const row = re.subarray(y * NW, (y + 1) * NW), rowi = im.subarray(y * NW, (y + 1) * NW);
    fft(row, rowi);
  }
  const cr = rr.subarray(0, NH), ci = ri.subarray(0, NH);
  for (let x = 0; x < NW; x++) {
    for (let y = 0; y < NH; y++) { cr[y] = re[y * NW + x]; ci[y] = im[y * NW + x]; }
    fft(cr, ci);
    for (let y = 0; y < NH; y++) { re[y * NW + x] = cr[y]; im[y * NW + x] = ci[y]; }
  }
  const P = new Float64Array(NH * NW);
  for (let i = 0; i < P.length; i++) P[i] = re[i] * re[i] + im[i] * im[i];
  return { P, NH, NW };
}

/**
 * Radially averaged power spectrum of a set of maps (channels x h x w in
 * data), averaged over the maps. Frequencies are in cycles per pixel of the
 * maps, 0 .. 0.5 (Nyquist) in `bins` bins. share is the fraction of the
 * (DC-free) energy at radial frequency above 0.25 (half Nyquist).
 */
export function radialSpectrum(data, channels, h, w, bins) {
  const nb = bins || Math.max(6, Math.min(32, Math.floor(Math.min(h, w) / 2)));
  const sum = new Float64Array(nb), cnt = new Float64Array(nb);
  let above = 0, total = 0, used = 0;
  for (let c = 0; c < channels; c++) {
    const ps = powerSpectrum(data, c * h * w, h, w);
    if (!ps) continue;
    used++;
    const { P, NH, NW } = ps;
    const ms = new Float64Array(nb), mc = new Float64Array(nb);
    let e = 0, ea = 0;
    for (let ky = 0; ky < NH; ky++) {
      const fy = (ky <= NH / 2 ? ky : ky - NH) / NH;
      for (let kx = 0; kx < NW; kx++) {
        if (ky === 0 && kx === 0) continue;
        const fx = (kx <= NW / 2 ? kx : kx - NW) / NW;
        const r = Math.hypot(fx, fy);
        const p = P[ky * NW + kx];
        e += p;
        if (r > 0.25) ea += p;
        if (r <= 0.5) {
          const b = Math.min(nb - 1, Math.floor((r / 0.5) * nb));
          ms[b] += p; mc[b]++;
        }
      }
    }
    if (e > 0) { above += ea / e; total += 1; }
    for (let b = 0; b < nb; b++) if (mc[b]) { sum[b] += ms[b] / mc[b]; cnt[b]++; }
  }
  const freqs = Array.from({ length: nb }, (_, b) => ((b + 0.5) / nb) * 0.5);
  const power = Array.from(sum, (s, b) => (cnt[b] ? s / cnt[b] : NaN));
  return { freqs, power, share: total ? above / total : NaN, maps: used };
}

/**
 * Upsamples channels x lh x lw maps by two to h x w (cropping, as OctConv's
 * up2 does): "nearest" repeats each pixel, "bilinear" interpolates between
 * pixel centres.
 */
export function upsample2(data, channels, lh, lw, h, w, mode = "bilinear") {
  const out = new Float32Array(channels * h * w);
  for (let c = 0; c < channels; c++) {
    const src = c * lh * lw, dst = c * h * w;
    for (let y = 0; y < h; y++) {
      if (mode === "nearest") {
        const sy = Math.min(lh - 1, y >> 1);
        for (let x = 0; x < w; x++) out[dst + y * w + x] = data[src + sy * lw + Math.min(lw - 1, x >> 1)];
        continue;
      }
      const fy = Math.min(lh - 1, Math.max(0, (y + 0.5) / 2 - 0.5));
      const y0 = Math.floor(fy), y1 = Math.min(lh - 1, y0 + 1), ty = fy - y0;
      for (let x = 0; x < w; x++) {
        const fx = Math.min(lw - 1, Math.max(0, (x + 0.5) / 2 - 0.5));
        const x0 = Math.floor(fx), x1 = Math.min(lw - 1, x0 + 1), tx = fx - x0;
        const a = data[src + y0 * lw + x0], b = data[src + y0 * lw + x1];
        const d = data[src + y1 * lw + x0], e = data[src + y1 * lw + x1];
        out[dst + y * w + x] = (a * (1 - tx) + b * tx) * (1 - ty) + (d * (1 - tx) + e * tx) * ty;
      }
    }
  }
  return out;
}
