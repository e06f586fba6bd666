"""Training throughput of oct-resnet-mini in PyTorch on the CPU, for a
side-by-side with `go test -bench TrainStep ./octcore/train/`.

The network mirrors octcore.OctResNetMini (width 1: 16, 32, 64 channels; the
last stage vanilla and merging the octaves) with OctConv as the official code
does it (pool2 = 2x2 average, ceil mode; up2 = nearest; stride 2 pools first).
One SGD step (Nesterov momentum, weight decay) on a random batch of 128 28x28
images, as the Go benchmark does.

    python3 models/bench/torch_train_bench.py [--threads 1] [--steps 10]
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def pool2(x):
    return F.avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False)


class OctConv(nn.Module):
    def __init__(self, cin, cout, k, stride, ai, ao):
        super().__init__()
        cli, clo = int(ai * cin), int(ao * cout)
        chi, cho = cin - cli, cout - clo
        p = (k - 1) // 2
        self.stride, self.vanilla = stride, cli == 0 and clo == 0
        conv = lambda i, o, s=1: nn.Conv2d(i, o, k, s, p, bias=False) if i and o else None
        if self.vanilla:
            self.hh = conv(chi, cho, stride)
            self.hl = self.lh = self.ll = None
        else:
            self.hh, self.hl, self.lh, self.ll = conv(chi, cho), conv(chi, clo), conv(cli, cho), conv(cli, clo)
        self.bnh = nn.BatchNorm2d(cho)
        self.bnl = nn.BatchNorm2d(clo) if clo else None

    def forward(self, xh, xl):
        if self.vanilla:
            return self.bnh(self.hh(xh)), None
        yh = yl = None
        if self.stride == 2:
            ph = pool2(xh)
            yh = self.hh(ph)
            if self.lh is not None:
                yh = yh + self.lh(xl)
            if self.ll is not None:
                yl = self.ll(pool2(xl))
            if self.hl is not None:
                t = self.hl(pool2(ph))
                yl = t if yl is None else yl + t
        else:
            yh = self.hh(xh)
            if self.lh is not None:
                u = F.interpolate(self.lh(xl), scale_factor=2, mode="nearest")
                yh = yh + u[:, :, : yh.shape[2], : yh.shape[3]]
            if self.ll is not None:
                yl = self.ll(xl)
            if self.hl is not None:
                t = self.hl(pool2(xh))
                yl = t if yl is None else yl + t
        return self.bnh(yh), (self.bnl(yl) if yl is not None else None)


def relu2(h, l):
    return F.relu(h), (F.relu(l) if l is not None else None)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, ai, ao):
        super().__init__()
        self.conv1 = OctConv(cin, cout, 3, stride, ai, ao)
        self.short = OctConv(cin, cout, 1, stride, ai, ao)
        self.conv2 = OctConv(cout, cout, 3, 1, ao, ao)

    def forward(self, h, l):
        a = relu2(*self.conv1(h, l))
        s = self.short(h, l)
        y = self.conv2(*a)
        return relu2(y[0] + s[0], (y[1] + s[1]) if y[1] is not None else None)


class OctResNetMini(nn.Module):
    def __init__(self, alpha, width=1, classes=10):
        super().__init__()
        w = [int(16 * width), int(32 * width), int(64 * width)]
        self.stem = OctConv(1, w[0], 3, 1, 0, 0)
        self.s1 = Block(w[0], w[0], 1, 0, alpha)
        self.s2 = Block(w[0], w[1], 2, alpha, alpha)
        self.s3 = Block(w[1], w[2], 2, alpha, 0)
        self.fc = nn.Linear(w[2], classes)

    def forward(self, x):
        h, l = relu2(*self.stem(x, None))
        for s in (self.s1, self.s2, self.s3):
            h, l = s(h, l)
        return self.fc(h.mean((2, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x = torch.randn(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))
    for alpha in (0.0, 0.5):
        net = OctResNetMini(alpha)
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
        for i in range(2 + a.steps):
            if i == 2:
                t0 = time.perf_counter()
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
        dt = time.perf_counter() - t0
        print(f"pytorch {torch.__version__} threads {a.threads} alpha {alpha}: {a.batch * a.steps / dt:.1f} images/s")


if __name__ == "__main__":
    main()
