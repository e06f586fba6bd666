// The page's inputs as the library takes them. Resizing, colour conversion
// and normalization are not done here: the library hands pixels (or a photo
// file's bytes) to octcore/imageio in the wasm, the path of the command line
// and the HTTP server. What is here: the MNIST-style centring of a drawing,
// and painting.

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

/** Draws a source into a canvas of w x h with high-quality smoothing, halving in steps. */
export function resample(source, sw, sh, w, h) {
  let cur = source, cw = sw, ch = sh;
  while (cw / 2 >= w * 1.01 && ch / 2 >= h * 1.01) {
    const c = new OffscreenCanvasOr(Math.round(cw / 2), Math.round(ch / 2));
    const g = c.getContext("2d");
    g.imageSmoothingQuality = "high";
    g.drawImage(cur, 0, 0, cw, ch, 0, 0, c.width, c.height);
    cur = c; cw = c.width; ch = c.height;
  }
  const out = new OffscreenCanvasOr(w, h);
  const g = out.getContext("2d", { willReadFrequently: true });
  g.imageSmoothingQuality = "high";
  g.drawImage(cur, 0, 0, cw, ch, 0, 0, w, h);
  return out;
}

function OffscreenCanvasOr(w, h) {
  const c = document.createElement("canvas");
  c.width = w; c.height = h;
  return c;
}

/**
 * MNIST-style preprocessing of a drawing (white ink on black, any size):
 * the ink's bounding box is scaled to fit 20 x 20 keeping its aspect, then
 * placed in a 28 x 28 image so that its centre of mass is at the centre.
 * Returns grey values 0..1 (28 x 28) or null when nothing is drawn.
 */
export function mnistFromDrawing(canvas) {
  const g = canvas.getContext("2d", { willReadFrequently: true });
  const { width: W, height: H } = canvas;
  const px = grayOf(g.getImageData(0, 0, W, H));
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (px[y * W + x] > 0.1) {
        if (x < x0) x0 = x; if (x > x1) x1 = x;
        if (y < y0) y0 = y; if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const s = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * s)), th = Math.max(1, Math.round(bh * s));
  const crop = document.createElement("canvas");
  crop.width = bw; crop.height = bh;
  crop.getContext("2d").drawImage(canvas, x0, y0, bw, bh, 0, 0, bw, bh);
  const small = resample(crop, bw, bh, tw, th);
  const sp = grayOf(small.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, tw, th));
  let m = 0, mx = 0, my = 0;
  for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) {
    const v = sp[y * tw + x]; m += v; mx += v * (x + 0.5); my += v * (y + 0.5);
  }
  const ox = Math.round(14 - (m ? mx / m : tw / 2)), oy = Math.round(14 - (m ? my / m : th / 2));
  const out = new Float32Array(28 * 28);
  for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) {
    const X = x + ox, Y = y + oy;
    if (X >= 0 && X < 28 && Y >= 0 && Y < 28) out[Y * 28 + X] = sp[y * tw + x];
  }
  return out;
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
