// The page's inputs as the library takes them. Resizing, colour conversion
// and normalization are not done here: the library hands pixels (or a photo
// file's bytes) to octcore/imageio in the wasm, the path of the command line
// and the HTTP server. What is here: the MNIST-style framing of a drawing
// (pixels copied, not resized) and painting.

/**
 * The red channel of RGBA pixels, 0..1, as a Float32Array: the grey level of
 * grey pictures (the drawing pad's white ink, the grey gallery sprites).
 */
export function grayOf(imageData) {
  const { data, width, height } = imageData;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = data[i * 4] / 255;
  return out;
}

/** ImageData-shaped RGBA pixels of grey values 0..1 (rounded to 8 bits). */
export function rgbaOf(gray, width, height) {
  const data = new Uint8ClampedArray(4 * width * height);
  for (let i = 0; i < gray.length; i++) {
    data[4 * i] = data[4 * i + 1] = data[4 * i + 2] = Math.round(gray[i] * 255);
    data[4 * i + 3] = 255;
  }
  return { data, width, height };
}

/**
 * Paints the network's input (the "input" layer's map: normalized values)
 * back as pixels, undoing the model's mean and std: grey for one channel,
 * RGB for three.
 */
export function paintInput(canvas, part, input) {
  const { channels: c, height: h, width: w, data } = part;
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext("2d");
  const id = g.createImageData(w, h);
  const n = w * h;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const ch = c >= 3 ? k : 0;
      const v = data[ch * n + i] * (input.std[ch] ?? 1) + (input.mean[ch] ?? 0);
      id.data[i * 4 + k] = Math.max(0, Math.min(255, Math.round(v * 255)));
    }
    id.data[i * 4 + 3] = 255;
  }
  g.putImageData(id, 0, 0);
}

/**
 * MNIST-style framing of a drawing (white ink on black, any size), done at
 * the drawing's own resolution so that the one resize is the library's
 * (octcore/imageio, as for every other input): the returned square is the
 * ink's bounding box enlarged by 28/20, so that the model's 28 x 28 input
 * holds the ink in 20 x 20 keeping its aspect, with the ink's centre of mass
 * at the square's centre (MNIST's recipe, its shift in drawing pixels rather
 * than in 28ths). Pixels are copied, never resampled: the square as a PNG
 * gives `octave classify` the page's numbers.
 * Returns {gray (0..1, 8-bit levels), width, height} or null when nothing is drawn.
 */
export function mnistFromDrawing(canvas) {
  const g = canvas.getContext("2d", { willReadFrequently: true });
  const { width: W, height: H } = canvas;
  const px = grayOf(g.getImageData(0, 0, W, H));
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  let m = 0, mx = 0, my = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = px[y * W + x];
      if (v > 0.1) {
        if (x < x0) x0 = x; if (x > x1) x1 = x;
        if (y < y0) y0 = y; if (y > y1) y1 = y;
      }
      m += v; mx += v * (x + 0.5); my += v * (y + 0.5);
    }
  }
  if (x1 < 0) return null;
  return frameInk(px, W, H, { x0, y0, x1, y1 }, mx / m, my / m);
}

/**
 * The square of side round(longer side of the box * 28 / 20) whose centre is
 * the point (cx, cy) of the W x H grey image px, copied pixel for pixel
 * (black where the square leaves px).
 */
export function frameInk(px, W, H, box, cx, cy) {
  const bw = box.x1 - box.x0 + 1, bh = box.y1 - box.y0 + 1;
  const S = Math.max(1, Math.round((Math.max(bw, bh) * 28) / 20));
  const ox = Math.round(cx - S / 2), oy = Math.round(cy - S / 2);
  const gray = new Float32Array(S * S);
  const ya = Math.max(oy, 0), yb = Math.min(oy + S, H) - 1;
  const xa = Math.max(ox, 0), xb = Math.min(ox + S, W) - 1;
  for (let y = ya; y <= yb; y++) {
    for (let x = xa; x <= xb; x++) gray[(y - oy) * S + (x - ox)] = px[y * W + x];
  }
  return { gray, width: S, height: S };
}

/** Paints grey values 0..1 into a canvas of their size. */
export function paintGray(canvas, gray, width, height) {
  canvas.width = width; canvas.height = height;
  const g = canvas.getContext("2d");
  const id = g.createImageData(width, height);
  for (let i = 0; i < gray.length; i++) {
    const v = Math.max(0, Math.min(255, Math.round(gray[i] * 255)));
    id.data[i * 4] = id.data[i * 4 + 1] = id.data[i * 4 + 2] = v;
    id.data[i * 4 + 3] = 255;
  }
  g.putImageData(id, 0, 0);
}
