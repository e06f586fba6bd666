// A gallery image as ImageData-shaped RGBA, read with node:zlib (the sprite
// is an 8-bit grayscale, non-interlaced PNG). Node has no image decoder of
// its own; the apps use this to feed the library in Node.
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";

export function galleryImage(gallery, k) {
  const index = JSON.parse(readFileSync(`${gallery}/fashion-mnist.json`, "utf8"));
  const png = readFileSync(`${gallery}/${index.sprite}`);
  let w = 0, h = 0;
  const idat = [];
  for (let o = 8; o < png.length;) {
    const len = png.readUInt32BE(o), type = png.toString("latin1", o + 4, o + 8);
    const body = png.subarray(o + 8, o + 8 + len);
    if (type === "IHDR") {
      w = body.readUInt32BE(0); h = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 0 || body[12] !== 0) throw new Error("want an 8-bit gray, non-interlaced PNG");
    } else if (type === "IDAT") idat.push(body);
    o += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const gray = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (w + 1)], row = raw.subarray(y * (w + 1) + 1, (y + 1) * (w + 1));
    for (let x = 0; x < w; x++) {
      const a = x ? gray[y * w + x - 1] : 0, b = y ? gray[(y - 1) * w + x] : 0, c = x && y ? gray[(y - 1) * w + x - 1] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      gray[y * w + x] = (row[x] + pred) & 255;
    }
  }
  const { tile, cols } = index;
  const data = new Uint8ClampedArray(4 * tile * tile);
  for (let y = 0; y < tile; y++) for (let x = 0; x < tile; x++) {
    const v = gray[(Math.floor(k / cols) * tile + y) * w + (k % cols) * tile + x];
    data.set([v, v, v, 255], 4 * (y * tile + x));
  }
  return { data, width: tile, height: tile, label: index.labels[k] };
}
