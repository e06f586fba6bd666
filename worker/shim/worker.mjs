// Entry point of Octave's edge server on Cloudflare Workers (and workerd).
//
// It starts the Go program (app.wasm, package worker) once per isolate and
// hands it every request through the handleRequest binding that
// github.com/syumai/workers registers, so that the models the Go side loads
// stay loaded between requests. syumai/workers' own entry starts a new Go
// program for each request instead, which would load the models each time.
//
// Requests go through the Go program one at a time, and each response body is
// read to its end before the next request starts: Go's WebAssembly is
// single-threaded anyway, and this way the Go side never touches one
// request's streams while the runtime is serving another.
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
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

function internalError(err) {
  return new Response(JSON.stringify({ error: `internal error: ${err && err.message ? err.message : err}` }) + "\n", {
    status: 500,
    headers: { "content-type": "application/json; charset=utf-8", "access-control-allow-origin": "*", "x-content-type-options": "nosniff" },
  });
}

export default {
  fetch(req, env, ctx) {
    const run = tail.then(() => handle(req, env, ctx));
    tail = run.catch(() => {});
    return run.catch(internalError);
  },
};
