"""PyTorch CPU engine of the bench: one case, one thread, one JSON line.

    python3 bench/torchnet.py WORK_DIR CASE [RUNS [WARMUP_MS]]

Reads the case's float32 model file (safetensors: 8-byte header length, JSON
header, raw data; the layer list in the header's __metadata__.graph) and runs
it with torch.nn.functional ops in NCHW, following docs/FORMAT.md section 3.1:

    stride 1:  Y_H = conv(X_H; W_hh) + crop(up2(conv(X_L; W_lh)))
               Y_L = conv(X_L; W_ll) + conv(pool2(X_H); W_hl)
    stride 2:  P = pool2(X_H);  Y_H = conv(P; W_hh) + conv(X_L; W_lh)
               Y_L = conv(pool2(X_L); W_ll) + conv(pool2(P); W_hl)

pool2 is avg_pool2d(2, 2, ceil_mode=True, count_include_pad=False), up2 is
nearest x2 and a crop for odd sizes. Timing follows bench/lib/engines.js's
measure(): a checked first run (against the reference output Octave native
wrote), a warm-up of at least 2 runs lasting WARMUP_MS (at most 1000 runs),
then RUNS timed runs, each from a float32 NumPy input to the output in NumPy
memory; the result is their median, of the wall clock (median_ms) and of the
process's CPU time (cpu_median_ms). torch.set_num_threads(1).
"""
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_model(path):
    with open(path, "rb") as f:
        b = f.read()
    n = int.from_bytes(b[:8], "little")
    header = json.loads(b[8 : 8 + n])
    base = 8 + n
    meta = header.pop("__metadata__", {})
    params = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise SystemExit(f"torchnet: tensor {name}: dtype {e['dtype']} (the bench writes float32 files)")
        lo, hi = e["data_offsets"]
        a = np.frombuffer(b, dtype="<f4", count=(hi - lo) // 4, offset=base + lo)
        params[name] = torch.from_numpy(a.reshape(e["shape"]).copy())
    return json.loads(meta["graph"]), params


def split(c, alpha):
    cl = int((alpha or 0) * c)
    return c - cl, cl


def pool2(x):
    return F.avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False)


def up2(x, h, w):
    u = F.interpolate(x, scale_factor=2, mode="nearest")
    if u.shape[2] == h and u.shape[3] == w:
        return u
    return u[:, :, :h, :w]


def act_fn(a):
    if a == "relu":
        return F.relu
    if a == "relu6":
        return F.relu6
    return None


def build(graph, params):
    """Returns run(x) -> (high, low) of the last layer, low None when absent."""
    steps = []

    def P(name):
        if name not in params:
            raise SystemExit(f"torchnet: missing parameter {name}")
        return params[name]

    for i, l in enumerate(graph):
        kind = l["kind"]
        name = l["name"]
        src = (l.get("inputs") or [graph[i - 1]["name"] if i else None])[0]
        if kind == "input":
            if l.get("alpha_out"):
                raise SystemExit("torchnet: octave inputs are not supported")
            continue
        k, s, pad = l.get("kernel") or 1, l.get("stride") or 1, l.get("pad") or 0
        dil, g = l.get("dilation") or 1, l.get("groups") or 1
        act = act_fn(l.get("act") or "")
        add = l.get("add") or None
        if kind in ("conv", "octconv"):
            oct_ = kind == "octconv"
            chi, cli = split(l["in"], l.get("alpha_in")) if oct_ else (l["in"], 0)
            cho, clo = split(l["out"], l.get("alpha_out")) if oct_ else (l["out"], 0)
            depthwise = g > 1 and g == l["in"] == l["out"]
            if g > 1 and not depthwise:
                raise SystemExit(f"torchnet: layer {name}: grouped convolution not supported")
            bias = P(name + ".bias") if l.get("bias") else None
            if l.get("bn"):
                raise SystemExit(f"torchnet: layer {name}: BatchNorm not folded (bench/tool prep folds it)")
            if not oct_:
                w = P(name + ".weight")
                steps.append(conv_step(name, src, add, act, w, bias, s, pad, dil, g))
                continue
            has = {
                "hh": chi > 0 and cho > 0,
                "lh": cli > 0 and cho > 0 and not depthwise,
                "ll": cli > 0 and clo > 0,
                "hl": chi > 0 and clo > 0 and not depthwise,
            }
            ws = {p: P(f"{name}.{p}.weight") for p in has if has[p]}
            bh = bias[:cho] if bias is not None and cho else None
            bl = bias[cho : cho + clo] if bias is not None and clo else None
            steps.append(octconv_step(name, src, add, act, ws, bh, bl, s, pad, dil, cho if depthwise else 1, clo if depthwise else 1))
            continue
        if kind in ("relu", "relu6"):
            f = act_fn(kind)
            steps.append(lambda v, src=src, name=name, f=f: v.__setitem__(name, tuple(f(t) if t is not None else None for t in v[src])))
        elif kind == "add":
            other = l["inputs"][1]

            def add_step(v, src=src, other=other, name=name, act=act):
                a, b = v[src], v[other]
                out = []
                for x, y in zip(a, b):
                    if x is None:
                        out.append(None)
                        continue
                    t = x + y
                    out.append(act(t) if act else t)
                v[name] = tuple(out)

            steps.append(add_step)
        elif kind in ("maxpool", "avgpool"):
            if kind == "maxpool":
                f = lambda t, k=k, s=s, pad=pad: F.max_pool2d(t, k, s, pad)
            else:
                f = lambda t, k=k, s=s, pad=pad: F.avg_pool2d(t, k, s, pad, count_include_pad=False)
            steps.append(lambda v, src=src, name=name, f=f: v.__setitem__(name, tuple(f(t) if t is not None else None for t in v[src])))
        elif kind == "gap":

            def gap(v, src=src, name=name):
                parts = [t.mean(dim=(2, 3)) for t in v[src] if t is not None]
                v[name] = (torch.cat(parts, 1) if len(parts) > 1 else parts[0], None)

            steps.append(gap)
        elif kind == "linear":
            w, b = P(name + ".weight"), P(name + ".bias")

            def linear(v, src=src, name=name, w=w, b=b, act=act):
                x = flatten(v[src])
                y = F.linear(x, w, b)
                v[name] = (act(y) if act else y, None)

            steps.append(linear)
        elif kind == "softmax":
            steps.append(lambda v, src=src, name=name: v.__setitem__(name, (F.softmax(flatten(v[src]), 1), None)))
        else:
            raise SystemExit(f"torchnet: layer {name}: kind {kind} not supported")

    first, last = graph[0]["name"], graph[-1]["name"]

    def run(x):
        v = {first: (x, None)}
        for st in steps:
            st(v)
        return v[last]

    return run


def flatten(p):
    parts = [t.reshape(1, -1) for t in p if t is not None]
    return torch.cat(parts, 1) if len(parts) > 1 else parts[0]


def conv_step(name, src, add, act, w, bias, s, pad, dil, g):
    def step(v):
        x = v[src][0]
        y = F.conv2d(x, w, bias, s, pad, dil, g)
        if add:
            y = y + v[add][0]
        v[name] = (act(y) if act else y, None)

    return step


def octconv_step(name, src, add, act, ws, bh, bl, s, pad, dil, gh, gl):
    def cv(p, x, b, g):
        return F.conv2d(x, ws[p], b, 1, pad, dil, g)

    def step(v):
        xh, xl = v[src]
        h_in, l_in, hl_in = xh, xl, None
        if s == 1:
            if "hl" in ws:
                hl_in = pool2(xh)
        else:
            if xh is not None:
                h_in = pool2(xh)
            if "hl" in ws:
                hl_in = pool2(h_in)
            if "ll" in ws:
                l_in = pool2(xl)
        yh = yl = None
        b = bh
        if "hh" in ws:
            yh, b = cv("hh", h_in, b, gh), None
        if "lh" in ws:
            t = cv("lh", xl, b, 1)
            if s == 1:
                # The high output's size: from the hh path when there is one,
                # else twice the low map, cropped like octcore (never here
                # in the bench networks, where every lh has an hh beside it).
                h, w = (yh.shape[2], yh.shape[3]) if yh is not None else (2 * t.shape[2], 2 * t.shape[3])
                t = up2(t, h, w)
            yh = t if yh is None else yh + t
        b = bl
        if "ll" in ws:
            yl, b = cv("ll", l_in, b, gl), None
        if "hl" in ws:
            t = cv("hl", hl_in, b, 1)
            yl = t if yl is None else yl + t
        if add:
            rh, rl = v[add]
            if yh is not None:
                yh = yh + rh
            if yl is not None:
                yl = yl + rl
        if act:
            yh = act(yh) if yh is not None else None
            yl = act(yl) if yl is not None else None
        v[name] = (yh, yl)

    return step


def main():
    if len(sys.argv) < 3:
        raise SystemExit("usage: python3 bench/torchnet.py WORK_DIR CASE [RUNS [WARMUP_MS]]")
    work, case_name = sys.argv[1], sys.argv[2]
    with open(os.path.join(work, "cases.json")) as f:
        cases = json.load(f)["cases"]
    c = next((x for x in cases if x["case"] == case_name), None)
    if c is None:
        raise SystemExit(f"torchnet: no case {case_name} in {work}/cases.json")
    runs = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else c["runs"]
    warm_ms = float(sys.argv[4]) if len(sys.argv) > 4 else 2000.0
    torch.set_num_threads(1)
    graph, params = load_model(os.path.join(work, c["model"]))
    net = build(graph, params)
    inp = np.fromfile(os.path.join(work, c["input"]), dtype="<f4")
    ref = np.fromfile(os.path.join(work, c["ref"]), dtype="<f4")
    shape = (1, c["channels"], c["height"], c["width"])

    def once(a):
        with torch.inference_mode():
            h, l = net(torch.from_numpy(a).reshape(shape))
            out = h.reshape(-1).numpy()
            if l is not None:
                out = np.concatenate([out, l.reshape(-1).numpy()])
            return out

    now = time.perf_counter
    t0 = now()
    out = once(inp.copy())
    first_ms = (now() - t0) * 1e3
    if out.size != ref.size:
        raise SystemExit(f"torchnet {case_name}: {out.size} outputs, reference has {ref.size}")
    d = np.abs(out.astype(np.float64) - ref)
    diff = math.inf if np.isnan(d).any() else float(d.max(initial=0))
    scale = float(np.abs(ref).max(initial=0))
    w0, warm = now(), 0
    while warm < 2 or ((now() - w0) * 1e3 < warm_ms and warm < 1000):
        once(inp.copy())
        warm += 1
    times, cpu = [], []
    for _ in range(runs):
        x = inp.copy()
        t, c0 = now(), time.process_time()
        once(x)
        times.append((now() - t) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    print(json.dumps({
        "case": case_name, "engine": "pytorch-cpu", "runtime": "native",
        "median_ms": statistics.median(times), "cpu_median_ms": statistics.median(cpu), "cpu_times_ms": cpu,
        "max_abs_diff": diff, "ref_max_abs": scale,
        "first_ms": first_ms, "warmup_runs": warm, "times_ms": times,
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
    }))


if __name__ == "__main__":
    main()
