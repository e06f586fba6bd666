"""Writes a random-weight checkpoint of one of octnets.ARCHS, an input and
PyTorch's logits for it, for checking `octave import` and `octave run`:

  python3 make_checkpoint.py ARCH OUT.pth [--legacy] [--wrap] [--dataparallel]
      [--seed N] [--size 224] [--batch 2] [--input x.npy --logits y.npy
      [--logits-int8 y8.npy]] [--broken DIR]

Weights are Kaiming-normal, BatchNorm statistics are random and far from
the identity (mean ~ N(0, .1), var ~ U(.5, 1.5), gamma ~ U(.5, 1.5), beta ~
N(0, .1)), so that a wrong fold, a swapped branch or a missing BatchNorm
shows in the logits. --legacy saves with _use_new_zipfile_serialization=False
(the format of torch < 1.6); --wrap saves {"state_dict": ..., "epoch": 1};
--dataparallel prefixes every key with "module." as nn.DataParallel does.

--logits-int8 writes the logits of the network as an int8 Octave file holds
it, computed here independently: BatchNorm folded into each convolution
(s = gamma / sqrt(var + eps), w' = w s, b' = beta - mean s), each weight
tensor quantized symmetrically per output channel (scale = max|w'| / 127,
q = round(w' / scale), ties to even) and dequantized.

--broken DIR writes checkpoints that import must refuse, each named for its
fault: missing.pth (a key deleted), extra.pth (a key added), misshaped.pth
(a tensor of the wrong shape), quantized.pth (a torch quantized tensor).
"""
import argparse
import sys

import numpy as np
import torch

import octnets


def randomize(net, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            elif isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)
                m.num_batches_tracked.fill_(1000)
            elif isinstance(m, torch.nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (1.0 / m.in_features) ** 0.5)
                m.bias.copy_(torch.randn(m.out_features, generator=g) * 0.1)


def quantize(w):
    """Per-output-channel symmetric int8, dequantized. The scale and the
    quotient are computed in float64, as Octave's writer does, so that no
    rounding tie falls differently."""
    flat = w.reshape(w.shape[0], -1)
    scale = (flat.abs().amax(1).double() / 127).float()
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    q = torch.round(flat.double() / safe.double()[:, None]).clamp(-127, 127).float()
    return (q * scale[:, None]).reshape(w.shape)


def int8_copy(net):
    """A copy of net computing what its int8 Octave file computes."""
    import copy
    q = copy.deepcopy(net)

    def fold(convs_rows, bn):
        # convs_rows: the convs whose output rows bn normalizes.
        s64 = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
        s = s64.float()
        b = (bn.bias.double() - bn.running_mean.double() * s64).float()
        for c in convs_rows:
            c.weight.copy_(quantize(c.weight * s.view(-1, 1, 1, 1)))
        # BatchNorm becomes y + b: mean 0, var 1 - eps, gamma 1, beta b.
        bn.running_mean.zero_()
        bn.running_var.fill_(1 - bn.eps)
        bn.weight.fill_(1)
        bn.bias.copy_(b)

    with torch.no_grad():
        for m in q.modules():
            if isinstance(m, octnets.ConvBN):
                cv = m.conv
                if m.bn_h is not None:
                    fold([c for c in (cv.conv_h2h, cv.conv_l2h) if c is not None], m.bn_h)
                if m.bn_l is not None:
                    fold([c for c in (cv.conv_h2l, cv.conv_l2l) if c is not None], m.bn_l)
        if isinstance(q, octnets.OctResNet):
            fold([q.conv1], q.bn1)
        else:
            fold([q.features[0][0]], q.features[0][1])
        q.fc.weight.copy_(quantize(q.fc.weight))
    return q


def write_broken(sd, outdir, legacy):
    import os
    os.makedirs(outdir, exist_ok=True)
    keys = list(sd)
    conv = next(k for k in keys if k.endswith("conv_h2l.weight"))
    bad = {
        "missing": type(sd)((k, v) for k, v in sd.items() if k != conv),
        "extra": type(sd)(list(sd.items()) + [("head.weight", torch.zeros(3, 4))]),
        "misshaped": type(sd)((k, v[:-1] if k == conv else v) for k, v in sd.items()),
        "quantized": type(sd)((k, torch.quantize_per_tensor(v, 0.1, 0, torch.qint8) if k == "fc.weight" else v)
                              for k, v in sd.items()),
    }
    for name, d in bad.items():
        torch.save(d, os.path.join(outdir, name + ".pth"), _use_new_zipfile_serialization=not legacy)
    print("broken: %s is %s" % (conv, list(sd[conv].shape)), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arch", choices=sorted(octnets.ARCHS))
    ap.add_argument("out")
    ap.add_argument("--legacy", action="store_true")
    ap.add_argument("--wrap", action="store_true")
    ap.add_argument("--dataparallel", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--input")
    ap.add_argument("--logits")
    ap.add_argument("--logits-int8")
    ap.add_argument("--broken")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    net = octnets.ARCHS[a.arch]().eval()
    randomize(net, a.seed)
    sd = net.state_dict()
    if a.dataparallel:
        sd = type(sd)(("module." + k, v) for k, v in sd.items())
    obj = {"state_dict": sd, "epoch": 1} if a.wrap else sd
    torch.save(obj, a.out, _use_new_zipfile_serialization=not a.legacy)
    if a.input:
        g = torch.Generator().manual_seed(a.seed + 1)
        x = torch.randn(a.batch, 3, a.size, a.size, generator=g)
        with torch.no_grad():
            y = net(x)
        np.save(a.input, x.numpy().astype(np.float32))
        np.save(a.logits, y.numpy().astype(np.float32))
        if a.logits_int8:
            with torch.no_grad():
                y8 = int8_copy(net)(x)
            np.save(a.logits_int8, y8.numpy().astype(np.float32))
    if a.broken:
        write_broken(net.state_dict(), a.broken, a.legacy)
    print("%s: %d tensors, %d parameters" % (a.out, len(sd), sum(v.numel() for v in sd.values())), file=sys.stderr)


if __name__ == "__main__":
    main()
