// CPU clocks for timing on a shared machine (Linux /proc): the time a thread
// actually ran, which other work on the cores does not inflate the way it
// inflates wall time.
import { readFileSync, readdirSync } from "node:fs";

// The main thread's CPU time of this process, in ms (/proc/self/schedstat
// is the thread-group leader's: the thread that runs JS and wasm).
export function mainThreadMs(pid = "self") {
  return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
}

// The processes below root (default: this one) whose command line holds
// `--type=renderer`: the Chromium renderers that playwright's browser runs.
export function renderers(root = process.pid) {
  const parent = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* gone */ }
  }
  const below = (p) => { for (let q = parent.get(p); q; q = parent.get(q)) if (q === root) return true; return false; };
  return [...parent.keys()].filter((p) => {
    if (!below(p)) return false;
    try { return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("--type=renderer"); } catch { return false; }
  });
}

// The summed main-thread CPU time of the renderers below root, in ms.
export function renderersMs(root = process.pid) {
  let t = 0;
  for (const p of renderers(root)) { try { t += mainThreadMs(p); } catch { /* gone */ } }
  return t;
}
