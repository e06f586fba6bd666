// A static file server on 127.0.0.1 for the bench pages: serves the
// repository root (web/, bench/, bench/node_modules/) with the MIME types
// the browser needs. No compression, no caching tricks.
import http from "node:http";
import { createReadStream, statSync } from "node:fs";
import path from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".json": "application/json", ".wasm": "application/wasm", ".css": "text/css",
  ".png": "image/png", ".map": "application/json",
};

export function serve(root) {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, "http://x");
    const p = path.normalize(decodeURIComponent(u.pathname)).replace(/^(\.\.[/\\])+/, "");
    const f = path.join(root, p);
    let st;
    try { st = statSync(f); } catch { st = null; }
    if (!f.startsWith(root) || !st || !st.isFile()) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(f)] || "application/octet-stream", "content-length": st.size, "cache-control": "no-store" });
    createReadStream(f).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
