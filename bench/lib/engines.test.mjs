// Tests of the harness's timing loop (measure) with a fake engine and a fake
// clock: every warm-up and timed run reaches the engine, outputs are checked.
import test from "node:test";
import assert from "node:assert/strict";
import { measure } from "./engines.js";

// fakeEngine runs in `cost` ms of the fake clock and returns input * 2.
function fakeEngine(clock, cost, { release = false } = {}) {
  const e = {
    runs: 0, released: 0, closed: false, inputs: [],
    async run(x) { e.runs++; e.inputs.push(x); clock.t += cost; return x.map((v) => v * 2); },
    async read(y) { return y; },
    async close() { e.closed = true; },
  };
  if (release) e.release = () => { e.released++; };
  return e;
}

for (const release of [false, true]) {
  test(`measure runs the warm-up and the timed runs (release: ${release})`, async () => {
    const clock = { t: 0 };
    const e = fakeEngine(clock, 3, { release });
    const input = new Float32Array([1, -2, 3]);
    const r = await measure(e, "fake", input, new Float32Array([2, -4, 6.5]), 5, () => clock.t, 30);
    // 30 ms of warm-up at 3 ms per run: 10 runs; then 5 timed runs.
    assert.equal(r.warmup_runs, 10);
    assert.equal(e.runs, 1 + 10 + 5);
    assert.equal(e.released, release ? 15 : 0);
    assert.deepEqual(r.times_ms, [3, 3, 3, 3, 3]);
    assert.equal(r.median_ms, 3);
    assert.equal(r.first_ms, 3);
    assert.equal(r.max_abs_diff, 0.5);
    assert.equal(r.ref_max_abs, 6.5);
    assert.ok(e.closed);
    // Every run had its own copy of the input, and the input is untouched.
    assert.equal(new Set(e.inputs).size, e.inputs.length);
    assert.ok(!e.inputs.includes(input));
    assert.deepEqual([...input], [1, -2, 3]);
  });
}

test("measure warms up at least twice and at most 1000 times", async () => {
  let clock = { t: 0 };
  let r = await measure(fakeEngine(clock, 3), "fake", new Float32Array(1), new Float32Array(1), 1, () => clock.t, 0);
  assert.equal(r.warmup_runs, 2);
  clock = { t: 0 };
  r = await measure(fakeEngine(clock, 0), "fake", new Float32Array(1), new Float32Array(1), 1, () => clock.t, 2000);
  assert.equal(r.warmup_runs, 1000);
});

test("measure rejects an output of the wrong length and reports NaN as an infinite difference", async () => {
  const clock = { t: 0 };
  await assert.rejects(measure(fakeEngine(clock, 1), "fake", new Float32Array(2), new Float32Array(3), 1, () => clock.t, 0), /fake: 2 outputs, reference has 3/);
  const r = await measure(fakeEngine(clock, 1), "fake", new Float32Array([NaN]), new Float32Array([0]), 1, () => clock.t, 0);
  assert.equal(r.max_abs_diff, Infinity);
});
