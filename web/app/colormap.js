// Perceptual colormap: viridis, rebuilt from nine control points and
// interpolated linearly in RGB into a 256-entry lookup table.

const STOPS = [
  [68, 1, 84], [72, 36, 117], [65, 68, 135], [53, 95, 141], [42, 120, 142],
  [33, 145, 140], [34, 168, 132], [122, 209, 81], [253, 231, 37],
];

/** LUT is a Uint8ClampedArray of 256 RGB triples. */
export const LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  const n = STOPS.length - 1;
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * n;
    const k = Math.min(n - 1, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) {
      lut[i * 3 + c] = Math.round(STOPS[k][c] * (1 - f) + STOPS[k + 1][c] * f);
    }
  }
  return lut;
})();

/** CSS gradient of the colormap, for legends. */
export function cssGradient(direction = "to right") {
  const stops = STOPS.map((s, i) => `rgb(${s.join(",")}) ${((i / (STOPS.length - 1)) * 100).toFixed(1)}%`);
  return `linear-gradient(${direction}, ${stops.join(", ")})`;
}

/**
 * Paints one map (h x w values, row-major, starting at offset) into
 * ImageData, normalized to its own min..max. Returns { min, max }.
 */
export function paintMap(data, offset, h, w, imageData) {
  let min = Infinity, max = -Infinity;
  const n = h * w;
  for (let i = 0; i < n; i++) {
    const v = data[offset + i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  const scale = range > 0 ? 255 / range : 0;
  const px = imageData.data;
  for (let i = 0; i < n; i++) {
    const idx = range > 0 ? ((data[offset + i] - min) * scale) | 0 : 0;
    px[i * 4] = LUT[idx * 3];
    px[i * 4 + 1] = LUT[idx * 3 + 1];
    px[i * 4 + 2] = LUT[idx * 3 + 2];
    px[i * 4 + 3] = 255;
  }
  return { min, max };
}
