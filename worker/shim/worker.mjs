// Entry point of Octave's edge server on Cloudflare Workers (and workerd).
//
// It starts the Go program (app.wasm, package worker) once per isolate and
// hands it every request through the handleRequest binding that
// github.com/syumai/workers registers, so that the models the Go side loads
// stay loaded between requests. syumai/workers' own entry starts a new Go
// program for each request instead, which would load the models each time.
//
// Request bodies are read here, concurrently and outside the queue below,
// bounded in size (MAX_BODY, server.DefaultMaxBody) and time (BODY_DEADLINE_MS),
// with the bytes all requests hold together bounded too (BUFFER_BUDGET): a
// client that sends its body a byte a second delays nobody else. A body over
// the limit is read on and dropped (up to DRAIN_MAX, then cancelled) before
// the 413 is sent, so the connection is left clean for its next request.
//
// Then requests go through the Go program one at a time, each with its body
// in memory, and each response body is read to its end before the next
// request starts: Go's WebAssembly is single-threaded anyway, and this way the
// Go side never touches one request's streams while the runtime is serving
// another.
//
// wasm_exec.js is the Go runtime glue that syumai/workers generates for the Go
// toolchain (cmd/workers-assets-gen -mode=go): it gives the Go program the
// `context` object (env, ctx, binding) that the package reads.
import "./wasm_exec.js";
import mod from "./app.wasm";

// syumai/workers calls globalThis.tryCatch from Go.
globalThis.tryCatch = (fn) => {
  try {
    return { result: fn() };
  } catch (error) {
    return { error };
  }
};

/** @type {Promise<{binding: any, exited: Promise<never>}> | null} */
let program = null;
/** The tail of the queue of requests. */
let tail = Promise.resolve();

// start instantiates and runs the Go program; it resolves once the program
// has registered its handler.
function start(env, ctx) {
  const binding = {};
  const go = new Go();
  return new Promise((resolve, reject) => {
    let exit;
    const exited = new Promise((_, rej) => (exit = rej));
    exited.catch(() => {});
    const instance = new WebAssembly.Instance(mod, {
      ...go.importObject,
      workers: { ready: () => resolve({ binding, exited }) },
    });
    instanceMemory = instance.exports.mem ?? null;
    go.run(instance, { env, ctx, binding }).then(
      () => {
        program = null;
        const err = new Error("the Go program exited");
        exit(err);
        reject(err);
      },
      (err) => {
        program = null;
        exit(err);
        reject(err);
      },
    );
  });
}

const nullBodyStatus = new Set([101, 204, 205, 304]);

async function handle(req, env, ctx) {
  program ??= start(env, ctx);
  const { binding, exited } = await program;
  const res = await Promise.race([binding.handleRequest(req), exited]);
  const body = nullBodyStatus.has(res.status) || res.body === null ? null : await Promise.race([res.arrayBuffer(), exited]);
  noteMemory();
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** The largest WebAssembly memory logged so far, in bytes. */
let memoryLogged = 0;

// noteMemory logs the Go program's WebAssembly memory each time it has grown
// by 8 MiB or more since the last line: linear memory never shrinks, and
// the isolate's limit (128 MB) counts it. Tests read these lines.
function noteMemory() {
  const mem = instanceMemory && instanceMemory.buffer.byteLength;
  if (mem && mem >= memoryLogged + (8 << 20)) {
    memoryLogged = mem;
    console.log(`octave: wasm memory ${(mem / (1 << 20)).toFixed(1)} MiB`);
  }
}

/** The Go program's memory, once it runs. */
let instanceMemory = null;

function jsonError(status, msg, extra = {}) {
  return new Response(JSON.stringify({ error: msg }) + "\n", {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "access-control-allow-origin": "*",
      "access-control-expose-headers": "Content-Length, Content-Type, Retry-After",
      "x-content-type-options": "nosniff",
      ...extra,
    },
  });
}

function internalError(err) {
  return jsonError(500, `internal error: ${err && err.message ? err.message : err}`);
}

// Limits of a request body. MAX_BODY is server.DefaultMaxBody (worker_test.go
// checks it).
const MAX_BODY = 4 << 20;
/** The whole body must arrive within this time, else 408. */
const BODY_DEADLINE_MS = 30_000;
/** Bytes of an over-limit body read and dropped before giving up on it. */
const DRAIN_MAX = 64 << 20;
/** Bytes that the bodies of all requests in progress may hold together. */
const BUFFER_BUDGET = 16 << 20;
let buffered = 0;

// readBody reads req's body within the limits above. It returns
// {body, size} (body null for none), or {response} to answer instead.
async function readBody(req) {
  if (req.body === null) return { body: null, size: 0 };
  const declared = Number(req.headers.get("content-length") ?? NaN);
  const reader = req.body.getReader();
  // A client that goes away errors the stream; the reads below see it, and
  // this keeps the reader's own promise from being an unhandled rejection.
  reader.closed.catch(() => {});
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve("late"), BODY_DEADLINE_MS)));
  const chunks = [];
  let size = 0;
  let held = 0;
  let refuse = null; // the answer once the body is not kept
  if (declared > MAX_BODY) refuse = jsonError(413, `body over ${MAX_BODY} bytes`);
  try {
    for (;;) {
      const r = await Promise.race([reader.read(), late]);
      if (r === "late") {
        reader.cancel().catch(() => {});
        return { response: jsonError(408, `request body not received within ${BODY_DEADLINE_MS / 1000} s`) };
      }
      if (r.done) break;
      const n = r.value.byteLength;
      size += n;
      if (refuse === null && size > MAX_BODY) refuse = jsonError(413, `body over ${MAX_BODY} bytes`);
      if (refuse === null && buffered + n > BUFFER_BUDGET) {
        refuse = jsonError(503, "server busy: request bodies in progress hold the memory budget; retry in a second", { "retry-after": "1" });
      }
      if (refuse !== null) {
        // Drop what was kept, and read on to leave the connection clean.
        chunks.length = 0;
        buffered -= held;
        held = 0;
        if (size > DRAIN_MAX) {
          reader.cancel().catch(() => {});
          break;
        }
        continue;
      }
      chunks.push(r.value);
      held += n;
      buffered += n;
    }
  } catch (err) {
    buffered -= held;
    return { response: jsonError(400, `reading the body: ${err && err.message ? err.message : err}`) };
  } finally {
    clearTimeout(timer);
  }
  if (refuse !== null) return { response: refuse };
  return { body: new Blob(chunks), size, held };
}

async function serve(req, env, ctx) {
  const got = await readBody(req);
  if (got.response) return got.response;
  let inner = req;
  if (got.body !== null) {
    const headers = new Headers(req.headers);
    headers.set("content-length", String(got.size));
    headers.delete("transfer-encoding");
    inner = new Request(req.url, { method: req.method, headers, body: got.body });
  }
  const run = tail.then(() => handle(inner, env, ctx));
  tail = run.catch(() => {});
  try {
    return await run;
  } finally {
    buffered -= got.held ?? 0;
  }
}

export default {
  fetch(req, env, ctx) {
    return serve(req, env, ctx).catch(internalError);
  },
};
