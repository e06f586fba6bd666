// Tests of the report's first-load section: the committed results (cold and
// warm loads, no init part), a file whose first load holds only the init part
// (`firstload.mjs --loads 0 --write`), and both.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { renderReport } from "./report.mjs";

const committed = JSON.parse(readFileSync(new URL("./results.json", import.meta.url), "utf8"));
const init = {
  rounds: 3,
  init_ms: { relaxed: 412.25, plain: 398.5, ratio_median: 1.034 },
  load_ms: { relaxed: 61.5, plain: 63, ratio_median: 0.976 },
  classify_ms: { relaxed: 2.25, plain: 2.5, ratio_median: 0.9 },
  compile_ms: { relaxed: 301, plain: 296, ratio_median: 1.017 },
  patch_ms: { table: 0.35, patch_cold: 4.45, patch_warm: 0.95 },
  table_entries: 8,
};

test("the committed first load renders without an init part", () => {
  const md = renderReport(committed);
  assert.match(md, /## First load of the demo page/);
  assert.match(md, /Navigation to first prediction/);
  assert.doesNotMatch(md, /Octave\.init\(\)` in a cold page/);
});

test("an init-only first load renders its table and no load figures", () => {
  const md = renderReport({ ...committed, first_load: { model_source: "x", chromium: "156.0", init } });
  assert.match(md, /Chromium 156\.0/);
  assert.match(md, /\| `Octave\.init\(\)`[^|]*\| 412\.3 ms \| 398\.5 ms \| 1\.03 \|/);
  assert.match(md, /\| `WebAssembly\.compile`[^|]*\| 301\.0 ms \| 296\.0 ms \| 1\.02 \|/);
  assert.match(md, /\(8 places rewritten\)[^\n]*0\.3 ms[^\n]*4\.5 ms the first time, 0\.9 ms once warm/);
  assert.doesNotMatch(md, /Navigation to first prediction/);
});

test("loads and init together render both", () => {
  const md = renderReport({ ...committed, first_load: { ...committed.first_load, init } });
  assert.match(md, /Navigation to first prediction/);
  assert.match(md, /medians of 3 rounds/);
});
