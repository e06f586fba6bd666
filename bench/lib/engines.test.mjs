// Tests of the harness's timing loop (measure) with a fake engine and a fake
// clock: every warm-up and timed run reaches the engine, outputs are checked.
import test from "node:test";
import assert from "node:assert/strict";
import { measure, measureInterleaved } from "./engines.js";

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

// A clock whose speed drifts: every `round` calls of any engine form one
// round, and every third round runs 3 times slower (a busy neighbour).
function driftingEngine(clock, name, cost, log) {
  return {
    closed: false,
    async run(x) {
      const slow = Math.floor(clock.calls / clock.round) % 3 === 0 ? 3 : 1;
      clock.calls++;
      clock.t += cost * slow;
      log.push(name);
      return x.map((v) => v * 2);
    },
    async read(y) { return y; },
    async close() { this.closed = true; },
  };
}

test("measureInterleaved pairs the engines' runs round by round", async () => {
  const clock = { t: 0, calls: 0, round: 2 };
  const log = [];
  const es = [driftingEngine(clock, "a", 2, log), driftingEngine(clock, "b", 5, log)];
  const input = new Float32Array([1, 2]);
  const rs = await measureInterleaved(es, ["a", "b"], input, new Float32Array([2, 4]), 6, () => clock.t, 0);
  // 2 first runs, 2 warm-up rounds, then 6 timed rounds whose order rotates.
  assert.deepEqual(log.slice(0, 6), ["a", "b", "a", "b", "a", "b"]);
  assert.deepEqual(log.slice(6), ["a", "b", "b", "a", "a", "b", "b", "a", "a", "b", "b", "a"]);
  assert.equal(rs[0].warmup_runs, 2);
  // The drift changes each engine's times, never the ratio within a round.
  assert.deepEqual(rs[1].times_ms, [15, 5, 5, 15, 5, 5]);
  assert.deepEqual(rs[0].times_ms, [6, 2, 2, 6, 2, 2]);
  assert.deepEqual(rs[1].paired, { median: 2.5, q1: 2.5, q3: 2.5 });
  assert.deepEqual(rs[0].paired, { median: 1, q1: 1, q3: 1 });
  assert.equal(rs[1].median_ms, 5);
  assert.equal(rs[0].max_abs_diff, 0);
  assert.ok(es.every((e) => e.closed));
  assert.deepEqual([...input], [1, 2]);
});

test("measureInterleaved warms up for warmMs per engine", async () => {
  const clock = { t: 0, calls: 0, round: Infinity };
  const es = [driftingEngine(clock, "a", 2, []), driftingEngine(clock, "b", 3, [])];
  // A round costs 5 ms of the clock (no drift: round is Infinity, so
  // every call is in round 0, the slow one: 15 ms); 2 engines x 60 ms.
  const rs = await measureInterleaved(es, ["a", "b"], new Float32Array(1), new Float32Array(1), 1, () => clock.t, 60);
  assert.equal(rs[0].warmup_runs, 8);
  assert.deepEqual(rs.map((r) => r.times_ms), [[6], [9]]);
  assert.deepEqual(rs[1].paired, { median: 1.5, q1: 1.5, q3: 1.5 });
});

test("measureInterleaved closes every engine when an output is wrong", async () => {
  const clock = { t: 0, calls: 0, round: 2 };
  const es = [driftingEngine(clock, "a", 1, []), driftingEngine(clock, "b", 1, [])];
  es[1].read = async () => new Float32Array(3);
  await assert.rejects(measureInterleaved(es, ["a", "b"], new Float32Array(2), new Float32Array(2), 1, () => clock.t, 0), /b: 3 outputs, reference has 2/);
  assert.ok(es.every((e) => e.closed));
});
