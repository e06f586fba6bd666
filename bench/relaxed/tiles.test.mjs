// node --experimental-wasm-relaxed-simd --test bench/relaxed/
// Every variant of tiles.mjs validates and computes its tile like a plain JS
// sum (measure checks each result); without the flag, Node 20 rejects the
// relaxed ones, and only the mul+add variants run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { variants, buildModule, peakModule, measure } from "./tiles.mjs";

const relaxed = WebAssembly.validate(peakModule(true));

for (const [name, v] of Object.entries(variants)) {
  test(name, { skip: v.fma && !relaxed && "no relaxed SIMD in this runtime" }, async () => {
    const bytes = buildModule(v);
    assert.ok(WebAssembly.validate(bytes), "module validates");
    const [r] = await measure([{ name, kind: "tile", ...v, bytes: [...bytes] }], { rounds: 1, ms: 5, M: 60, Kdepth: 37 });
    assert.ok(r.maxErr < 1e-4, `max error ${r.maxErr}`);
    assert.ok(r.gflops[0] > 0);
  });
}

test("relaxed_madd is the 3-byte opcode fd 85 02", () => {
  const b = buildModule(variants["4x2-madd"]);
  const hex = Buffer.from(b).toString("hex");
  assert.ok(hex.includes("fd8502"), "fd 85 02 present");
  assert.ok(!hex.includes("fd850102"), "not Go 1.27.3's fd 85 01 02");
});
