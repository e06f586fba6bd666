// Translates an Octave layer list and its float32 parameters into a
// TensorFlow.js function built from tfjs ops (NHWC), following docs/FORMAT.md §3.1:
//
//   stride 1:  Y_H = conv(X_H; W_HH) + crop(up2(conv(X_L; W_LH)))
//              Y_L = conv(X_L; W_LL) + conv(pool2(X_H); W_HL)
//   stride 2:  P = pool2(X_H);  Y_H = conv(P; W_HH) + conv(X_L; W_LH)
//              Y_L = conv(pool2(X_L); W_LL) + conv(pool2(P); W_HL)
//
// pool2 is avgPool 2x2 stride 2 'same' (ceil mode; tfjs, like TensorFlow,
// excludes the padding from the average, which the bench's odd-size check
// verifies); up2 is resizeNearestNeighbor x2 (asymmetric, floor) and a
// slice for odd sizes. The bias rides on the first path of each branch
// through tf.fused.conv2d; the activation is fused too when a branch has one
// path and no residual.

import { split } from "./safetensors.js";

export function buildTF(tf, graph, params, h, w) {
  const consts = []; // tensors owned by the net
  const keep = (t) => (consts.push(t), t);
  const P = (name) => {
    const p = params[name];
    if (!p) throw new Error(`tfjs net: missing parameter ${name}`);
    return p;
  };
  // [O, I/g, k, k] -> [k, k, I, O]; depthwise [C, 1, k, k] -> [k, k, C, 1]
  const filter = (name, depthwise) => {
    const p = P(name);
    const t = tf.tensor4d(p.data, p.shape);
    const f = tf.transpose(t, depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]);
    t.dispose();
    return keep(f);
  };
  const vec = (name, lo, hi) => {
    const p = P(name);
    return keep(tf.tensor1d(p.data.subarray(lo ?? 0, hi ?? p.data.length)));
  };
  const shapes = new Map(); // layer name -> {h: [H, W], l: [H, W]}
  const half = (n) => (n + 1) >> 1;
  const convOut = (n, k, s, p, d) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

  // Compile every layer into a closure over tensors.
  const steps = [];
  const idx = new Map();
  graph.forEach((l, i) => idx.set(l.name, i));
  for (let i = 0; i < graph.length; i++) {
    const l = graph[i];
    const inName = l.inputs?.[0] ?? graph[i - 1]?.name;
    const k = l.kernel || 1, s = l.stride || 1, pad = l.pad || 0, dil = l.dilation || 1, g = l.groups || 1;
    const act = l.act && l.act !== "none" ? l.act : null;
    if (l.kind === "input") {
      if (l.alpha_out) throw new Error("tfjs net: octave inputs are not supported");
      shapes.set(l.name, { h: [h, w] });
      continue;
    }
    const inShape = shapes.get(inName);
    if (l.kind === "conv" || l.kind === "octconv") {
      const oct = l.kind === "octconv";
      const [cHi, cLi] = oct ? split(l.in, l.alpha_in) : [l.in, 0];
      const [cHo, cLo] = oct ? split(l.out, l.alpha_out) : [l.out, 0];
      const depthwise = g > 1 && g === l.in && g === l.out;
      if (g > 1 && !depthwise) throw new Error(`tfjs net: layer ${l.name}: grouped convolution not supported`);
      let oh, ow;
      if (!oct || s === 1) {
        const st = oct ? 1 : s;
        oh = convOut(inShape.h[0], k, st, pad, dil);
        ow = convOut(inShape.h[1], k, st, pad, dil);
      } else {
        oh = convOut(half(inShape.h[0]), k, 1, pad, dil);
        ow = convOut(half(inShape.h[1]), k, 1, pad, dil);
      }
      shapes.set(l.name, { h: cHo ? [oh, ow] : null, l: cLo ? [half(oh), half(ow)] : null });
      const bias = l.bias ? P(l.name + ".bias") : null;
      const bH = bias && cHo ? vec(l.name + ".bias", 0, cHo) : null;
      const bL = bias && cLo ? vec(l.name + ".bias", cHo, cHo + cLo) : null;
      const mk = (wname, stride) => {
        const f = filter(wname, depthwise);
        return (x, b, a) => {
          if (depthwise) {
            return tf.fused.depthwiseConv2d({ x, filter: f, strides: stride, pad, dilations: dil, bias: b ?? undefined, activation: a ?? "linear" });
          }
          return tf.fused.conv2d({ x, filter: f, strides: stride, pad, dilations: dil, bias: b ?? undefined, activation: a ?? "linear" });
        };
      };
      const addName = l.add || null;
      if (!oct) {
        const cv = mk(l.name + ".weight", s);
        steps.push((v) => {
          const x = v.get(inName).h;
          const r = addName ? v.get(addName) : null;
          let y = cv(x, bH, r ? null : act);
          if (r) y = applyAct(tf, tf.add(y, r.h), act);
          v.set(l.name, { h: y });
        });
        continue;
      }
      const has = {
        hh: cHi > 0 && cHo > 0,
        lh: cLi > 0 && cHo > 0 && !depthwise,
        ll: cLi > 0 && cLo > 0,
        hl: cHi > 0 && cLo > 0 && !depthwise,
      };
      const cv = {};
      for (const p of ["hh", "lh", "ll", "hl"]) if (has[p]) cv[p] = mk(`${l.name}.${p}.weight`, 1);
      const nH = (has.hh ? 1 : 0) + (has.lh ? 1 : 0), nL = (has.ll ? 1 : 0) + (has.hl ? 1 : 0);
      steps.push((v) => {
        const x = v.get(inName);
        const r = addName ? v.get(addName) : null;
        const fuseH = nH === 1 && !r ? act : null, fuseL = nL === 1 && !r ? act : null;
        let hIn = x.h, lIn = x.l, hlIn = null;
        if (s === 1) {
          if (has.hl) hlIn = pool2(tf, x.h);
        } else {
          if (cHi > 0) hIn = pool2(tf, x.h);
          if (has.hl) hlIn = pool2(tf, hIn);
          if (has.ll) lIn = pool2(tf, x.l);
        }
        let yh = null, yl = null;
        let bh = bH, bl = bL;
        if (has.hh) { yh = cv.hh(hIn, bh, fuseH); bh = null; }
        if (has.lh) {
          let t = cv.lh(x.l, bh, fuseH);
          if (s === 1) t = up2(tf, t, oh, ow);
          yh = yh ? tf.add(yh, t) : t;
        }
        if (has.ll) { yl = cv.ll(lIn, bl, fuseL); bl = null; }
        if (has.hl) {
          const t = cv.hl(hlIn, bl, fuseL);
          yl = yl ? tf.add(yl, t) : t;
        }
        if (r) {
          if (yh) yh = tf.add(yh, r.h);
          if (yl) yl = tf.add(yl, r.l);
        }
        if (yh && !(nH === 1 && !r)) yh = applyAct(tf, yh, act);
        if (yl && !(nL === 1 && !r)) yl = applyAct(tf, yl, act);
        v.set(l.name, { h: yh, l: yl });
      });
      continue;
    }
    switch (l.kind) {
      case "relu":
      case "relu6":
        shapes.set(l.name, inShape);
        steps.push((v) => v.set(l.name, branch(v.get(inName), (t) => applyAct(tf, t, l.kind))));
        break;
      case "add": {
        shapes.set(l.name, inShape);
        const other = l.inputs[1];
        steps.push((v) => {
          const a = v.get(inName), b = v.get(other);
          v.set(l.name, {
            h: a.h ? applyAct(tf, tf.add(a.h, b.h), act) : null,
            l: a.l ? applyAct(tf, tf.add(a.l, b.l), act) : null,
          });
        });
        break;
      }
      case "bn": {
        shapes.set(l.name, inShape);
        const c = P(l.name + ".weight").shape[0];
        const eps = l.eps || 1e-5;
        const sc = new Float32Array(c), sh = new Float32Array(c);
        const [gm, bt, mu, vr] = ["weight", "bias", "running_mean", "running_var"].map((n) => P(`${l.name}.${n}`).data);
        for (let o = 0; o < c; o++) { sc[o] = gm[o] / Math.sqrt(vr[o] + eps); sh[o] = bt[o] - mu[o] * sc[o]; }
        let cH = null;
        steps.push((v) => {
          const x = v.get(inName);
          cH ??= x.h ? x.h.shape[3] : 0;
          const f = (t, lo) => tf.add(tf.mul(t, sc.subarray(lo, lo + t.shape[3])), sh.subarray(lo, lo + t.shape[3]));
          v.set(l.name, { h: x.h ? f(x.h, 0) : null, l: x.l ? f(x.l, cH) : null });
        });
        break;
      }
      case "maxpool":
      case "avgpool": {
        const o = (n) => convOut(n, k, s, pad, 1);
        shapes.set(l.name, { h: inShape.h && [o(inShape.h[0]), o(inShape.h[1])], l: inShape.l && [o(inShape.l[0]), o(inShape.l[1])] });
        const fn = l.kind === "maxpool" ? tf.maxPool : tf.avgPool;
        steps.push((v) => v.set(l.name, branch(v.get(inName), (t) => fn(t, k, s, pad))));
        break;
      }
      case "gap":
        shapes.set(l.name, { flat: true });
        steps.push((v) => {
          const x = v.get(inName);
          const parts = [x.h, x.l].filter(Boolean).map((t) => tf.mean(t, [1, 2]));
          v.set(l.name, { h: parts.length === 1 ? parts[0] : tf.concat(parts, 1), flat: true });
        });
        break;
      case "linear": {
        shapes.set(l.name, { flat: true });
        const p = P(l.name + ".weight");
        const W = keep(tf.tensor2d(p.data, p.shape));
        const b = vec(l.name + ".bias");
        steps.push((v) => {
          const x = flatten(tf, v.get(inName));
          // Not tf.fused.matMul with a bias: tfjs-backend-wasm 4.22 adds the
          // bias twice to a [1, 64] x [64, 10] (transposeB) product; the
          // trained model's check caught it. The separate add costs nothing.
          v.set(l.name, { h: applyAct(tf, tf.add(tf.matMul(x, W, false, true), b), act), flat: true });
        });
        break;
      }
      case "softmax":
        shapes.set(l.name, { flat: true });
        steps.push((v) => v.set(l.name, { h: tf.softmax(flatten(tf, v.get(inName))), flat: true }));
        break;
      default:
        throw new Error(`tfjs net: layer ${l.name}: kind ${l.kind} not supported`);
    }
  }
  const C = graph[0].out;
  const lastName = graph[graph.length - 1].name;
  return {
    /** Runs the net; returns the last layer's output, NHWC parts concatenated (high first). */
    run(input) {
      return tf.tidy(() => {
        let x = tf.tensor4d(input, [1, C, h, w]);
        x = C === 1 ? tf.reshape(x, [1, h, w, 1]) : tf.transpose(x, [0, 2, 3, 1]);
        const v = new Map([[graph[0].name, { h: x }]]);
        for (const st of steps) st(v);
        const y = v.get(lastName);
        return { h: y.h, l: y.l ?? null, flat: !!y.flat };
      });
    },
    /** Downloads an output of run as one Float32Array in Octave's order (NCHW per part). */
    read(y, nchw) {
      const parts = [];
      for (const t of [y.h, y.l]) {
        if (!t) continue;
        if (nchw && !y.flat && t.shape.length === 4) {
          const n = tf.tidy(() => tf.transpose(t, [0, 3, 1, 2]));
          parts.push(n.dataSync());
          n.dispose();
        } else parts.push(t.dataSync());
      }
      return concat(parts);
    },
    dispose(y) {
      if (y) { y.h?.dispose(); y.l?.dispose(); return; }
      for (const t of consts) t.dispose();
    },
  };
}

function concat(parts) {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function applyAct(tf, t, act) {
  if (act === "relu") return tf.relu(t);
  if (act === "relu6") return tf.relu6(t);
  return t;
}

function branch(x, f) {
  return { h: x.h ? f(x.h) : null, l: x.l ? f(x.l) : null, flat: x.flat };
}

// pool2: 2x2 average, stride 2, ceil mode, padding excluded.
export function pool2(tf, x) {
  return tf.avgPool(x, 2, 2, "same");
}

// up2: nearest x2 (output pixel y reads y >> 1), cropped to h x w.
export function up2(tf, x, h, w) {
  const [, sh, sw] = x.shape;
  const u = tf.image.resizeNearestNeighbor(x, [2 * sh, 2 * sw], false, false);
  if (2 * sh === h && 2 * sw === w) return u;
  return tf.slice(u, [0, 0, 0, 0], [1, h, w, -1]);
}

// flatten turns a value into [1, n] in Octave's order: high part (C, H, W)
// then low part.
function flatten(tf, x) {
  if (x.flat) return x.h;
  const f = (t) => (t.shape[1] === 1 && t.shape[2] === 1 ? tf.reshape(t, [1, -1]) : tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [1, -1]));
  const parts = [x.h, x.l].filter(Boolean).map(f);
  return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
}
