// Checks of the demo page's frequency analysis (web/app/spectrum.js) against
// independent references: a naive DFT and maps of known frequency content.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fft, radialSpectrum, upsample2 } from "../app/spectrum.js";

test("fft matches a naive DFT", () => {
  for (const n of [1, 2, 8, 64]) {
    const x = Array.from({ length: n }, (_, i) => Math.sin(1.3 * i) + 0.1 * i * i - 0.5);
    const y = Array.from({ length: n }, (_, i) => Math.cos(0.7 * i));
    const re = Float64Array.from(x), im = Float64Array.from(y);
    fft(re, im);
    for (let k = 0; k < n; k++) {
      let sr = 0, si = 0;
      for (let t = 0; t < n; t++) {
        const a = (-2 * Math.PI * k * t) / n;
        sr += x[t] * Math.cos(a) - y[t] * Math.sin(a);
        si += x[t] * Math.sin(a) + y[t] * Math.cos(a);
      }
      assert.ok(Math.abs(re[k] - sr) < 1e-9 && Math.abs(im[k] - si) < 1e-9, `n=${n} k=${k}`);
    }
  }
});

function waves(h, w, fx, fy) {
  const d = new Float32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = Math.cos(2 * Math.PI * (fx * x + fy * y));
  return d;
}

test("the share above half Nyquist separates slow from fast waves, at odd sizes too", () => {
  for (const [h, w] of [[28, 28], [14, 14], [25, 37]]) {
    assert.ok(radialSpectrum(waves(h, w, 0.08, 0.03), 1, h, w).share < 0.02, `slow wave ${h}x${w}`);
    assert.ok(radialSpectrum(waves(h, w, 0.42, 0.1), 1, h, w).share > 0.98, `fast wave ${h}x${w}`);
  }
});

test("the radial profile peaks at the wave's frequency", () => {
  const r = radialSpectrum(waves(64, 64, 0.3, 0), 1, 64, 64, 20);
  const peak = r.freqs[r.power.indexOf(Math.max(...r.power.filter((p) => p > 0)))];
  assert.ok(Math.abs(peak - 0.3) <= 0.0125 + 1e-9, `peak at ${peak}`);
});

test("constant maps are left out, not divided by zero", () => {
  const r = radialSpectrum(new Float32Array(2 * 49).fill(3), 2, 7, 7);
  assert.equal(r.maps, 0);
  assert.ok(Number.isNaN(r.share));
});

test("upsample2 repeats or interpolates and crops odd sizes", () => {
  const lo = Float32Array.from([1, 2, 3, 4]); // 2x2
  assert.deepEqual([...upsample2(lo, 1, 2, 2, 3, 3, "nearest")], [1, 1, 2, 1, 1, 2, 3, 3, 4]);
  const b = upsample2(lo, 1, 2, 2, 4, 4, "bilinear");
  assert.equal(b[0], 1);
  assert.equal(b[15], 4);
  assert.equal(b[1 * 4 + 1], 1 + 0.25 * 1 + 0.25 * 2); // between the four centres
});
