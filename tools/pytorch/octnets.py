"""Oct-ResNet-26/50/101/152 and Oct-MobileNet v1 in PyTorch, with the module
names and forward semantics of d-li14/octconv.pytorch (written for Octave's
tests, not taken from that project): a checkpoint of these modules has the
same keys, shapes and meaning as one of that project's, so `octave import
--from octconv.pytorch` can be checked against PyTorch itself.

Semantics (the ones the importer must reproduce):
  * channels split as cL = int(alpha * c), cH = c - cL;
  * an octave conv of stride 2 first average-pools its inputs 2x2 (floor
    mode) and then convolves at stride 1, even at alpha 0 / 0;
  * H->L convolves the 2x2-pooled high input, L->H is upsampled 2x nearest at
    stride 1 (used as is at stride 2);
  * depthwise layers (groups == in channels) have only H->H and L->L;
  * BatchNorm per branch (bn_h, bn_l), ReLU after it except the last conv of
    a bottleneck, whose residual sum is ReLU'd.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def split(c, alpha):
    low = int(alpha * c)
    return c - low, low


class OctaveConv(nn.Module):
    def __init__(self, cin, cout, k, alpha_in, alpha_out, stride=1, padding=0, groups=1):
        super().__init__()
        self.stride, self.alpha_out = stride, alpha_out
        hi, li = split(cin, alpha_in)
        ho, lo = split(cout, alpha_out)
        self.depthwise = groups == cin and groups > 1

        def conv(i, o, g):
            return nn.Conv2d(i, o, k, 1, padding, 1, g, bias=False) if i > 0 and o > 0 else None

        if self.depthwise:
            self.conv_h2h, self.conv_l2l = conv(hi, ho, hi), conv(li, lo, li)
            self.conv_h2l = self.conv_l2h = None
        else:
            self.conv_h2h, self.conv_h2l = conv(hi, ho, groups), conv(hi, lo, groups)
            self.conv_l2h, self.conv_l2l = conv(li, ho, groups), conv(li, lo, groups)

    @staticmethod
    def pool(t):
        return F.avg_pool2d(t, 2, 2)

    def forward(self, x):
        xh, xl = x if isinstance(x, tuple) else (x, None)
        if self.stride == 2:
            xh = self.pool(xh)  # L->H then reads the low input as is, at the pooled high size
        yh = self.conv_h2h(xh) if self.conv_h2h is not None else None
        yl = None
        if self.conv_h2l is not None:
            yl = self.conv_h2l(self.pool(xh))
        if xl is not None:
            if self.conv_l2h is not None:
                t = self.conv_l2h(xl)
                if self.stride == 1:
                    t = F.interpolate(t, scale_factor=2, mode="nearest")
                yh = t if yh is None else yh + t
            if self.conv_l2l is not None:
                t = self.conv_l2l(self.pool(xl) if self.stride == 2 else xl)
                yl = t if yl is None else yl + t
        return yh, yl


class ConvBN(nn.Module):
    """OctaveConv + a BatchNorm per branch (+ ReLU when act)."""

    def __init__(self, cin, cout, k, alpha_in, alpha_out, stride=1, padding=0, groups=1, act=True):
        super().__init__()
        self.conv = OctaveConv(cin, cout, k, alpha_in, alpha_out, stride, padding, groups)
        ho, lo = split(cout, alpha_out)
        self.bn_h = nn.BatchNorm2d(ho) if ho else None
        self.bn_l = nn.BatchNorm2d(lo) if lo else None
        self.act = act

    def forward(self, x):
        h, l = self.conv(x)
        h = self.bn_h(h)
        l = self.bn_l(l) if l is not None else None
        if self.act:
            h = F.relu(h)
            l = F.relu(l) if l is not None else None
        return h, l


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride, alpha_in, alpha_out, inner, downsample):
        super().__init__()
        self.conv1 = ConvBN(cin, planes, 1, alpha_in, alpha_out)
        self.conv2 = ConvBN(planes, planes, 3, alpha_out, inner, stride, 1)
        self.conv3 = ConvBN(planes, planes * 4, 1, inner, inner, act=False)
        self.downsample = None
        if downsample:
            self.downsample = nn.Sequential(ConvBN(cin, planes * 4, 1, alpha_in, inner, stride, act=False))

    def forward(self, x):
        idh, idl = x if isinstance(x, tuple) else (x, None)
        h, l = self.conv3(self.conv2(self.conv1(x)))
        if self.downsample is not None:
            idh, idl = self.downsample(x)
        h = F.relu(h + idh)
        l = F.relu(l + idl) if l is not None else None
        return h, l


class OctResNet(nn.Module):
    def __init__(self, blocks, alpha=0.5, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin, cur = 64, 0.0
        for s, n in enumerate(blocks):
            planes, last = 64 << s, s == len(blocks) - 1
            layers = []
            for i in range(n):
                stride = 2 if s > 0 and i == 0 else 1
                ai, ao, inner = cur, (0.0 if last else alpha), (0.0 if last else alpha)
                layers.append(Bottleneck(cin, planes, stride, ai, ao, inner, i == 0))
                cin, cur = planes * 4, inner
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*layers))
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for s in range(4):
            x = getattr(self, "layer%d" % (s + 1))(x)
        h, _ = x
        return self.fc(h.mean((2, 3)))


class OctMobileNet(nn.Module):
    # (in, out, stride, alpha_in, alpha_out) of the 13 depthwise-separable blocks
    BLOCKS = [(32, 64, 1, 0, .5), (64, 128, 2, .5, .5), (128, 128, 1, .5, .5), (128, 256, 2, .5, .5),
              (256, 256, 1, .5, .5), (256, 512, 2, .5, .5)] + [(512, 512, 1, .5, .5)] * 4 + \
             [(512, 512, 1, .5, 0), (512, 1024, 2, 0, 0), (1024, 1024, 1, 0, 0)]

    def __init__(self, classes=1000):
        super().__init__()
        feats = [nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU())]
        for cin, cout, stride, ai, ao in self.BLOCKS:
            # The depthwise conv keeps alpha_in on both sides; the pointwise conv changes it.
            feats.append(nn.Sequential(ConvBN(cin, cin, 3, ai, ai, stride, 1, groups=cin),
                                       ConvBN(cin, cout, 1, ai, ao)))
        self.features = nn.Sequential(*feats)
        self.fc = nn.Linear(1024, classes)

    def forward(self, x):
        x = self.features[0](x)
        for f in self.features[1:]:
            x = f(x)
        h, _ = x
        return self.fc(h.mean((2, 3)))


ARCHS = {
    "oct-resnet26": lambda: OctResNet([2, 2, 2, 2]),
    "oct-resnet50": lambda: OctResNet([3, 4, 6, 3]),
    "oct-resnet101": lambda: OctResNet([3, 4, 23, 3]),
    "oct-resnet152": lambda: OctResNet([3, 8, 36, 3]),
    "oct-mobilenetv1": OctMobileNet,
}
