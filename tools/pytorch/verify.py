"""Checks `octave import` and `octave run` against PyTorch for the five
d-li14/octconv.pytorch architectures at full size (`make verify-pytorch`):

  python3 tools/pytorch/verify.py --octave bin/octave [--size 224] [--archs a,b]

For each architecture: a random-weight checkpoint with random BatchNorm
statistics (make_checkpoint.py; Oct-MobileNet's in the legacy format, the
others in the zip format), imported as float32 and as int8 (each import
timed), run on a batch of two inputs, and the logits compared: float32 with
PyTorch's, int8 with PyTorch's logits of the BatchNorm-folded, quantized
network (what the file holds). Differences are max|octave - torch| /
max|torch| over the batch. Exits 1 if a float32 or int8 difference exceeds
1e-4.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ARCHS = ["oct-resnet26", "oct-resnet50", "oct-resnet101", "oct-resnet152", "oct-mobilenetv1"]


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--octave", required=True)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    octave = os.path.abspath(a.octave)
    failed = False
    print("%-16s %9s %9s %9s %11s %11s %11s" % ("arch", "ckpt MB", "import s", "int8 s", "f32 rel", "int8 rel", "int8/float"))
    for arch in a.archs.split(","):
        with tempfile.TemporaryDirectory() as d:
            ck = os.path.join(d, "ckpt.pth")
            flags = ["--legacy"] if arch == "oct-mobilenetv1" else []
            subprocess.run([sys.executable, os.path.join(HERE, "make_checkpoint.py"), arch, ck, "--size", str(a.size),
                            "--input", os.path.join(d, "x.npy"), "--logits", os.path.join(d, "y.npy"),
                            "--logits-int8", os.path.join(d, "y8.npy")] + flags, check=True, stderr=subprocess.DEVNULL)
            res = {}
            for dt in ("f32", "int8"):
                model = os.path.join(d, dt + ".safetensors")
                t0 = time.monotonic()
                subprocess.run([octave, "import", "--from", "octconv.pytorch", "--arch", arch, ck, "-o", model, "--" + dt,
                                "--labels", "imagenet"], check=True, stdout=subprocess.DEVNULL)
                secs = time.monotonic() - t0
                out = os.path.join(d, dt + ".npz")
                subprocess.run([octave, "run", "--model", model, "--input", os.path.join(d, "x.npy"), "-o", out],
                               check=True, stdout=subprocess.DEVNULL)
                res[dt] = (secs, np.load(out)["output"])
            y, y8 = np.load(os.path.join(d, "y.npy")), np.load(os.path.join(d, "y8.npy"))
            f32, i8, i8f = rel(res["f32"][1], y), rel(res["int8"][1], y8), rel(res["int8"][1], y)
            failed = failed or f32 > a.tol or i8 > a.tol
            print("%-16s %9.1f %9.2f %9.2f %11.3g %11.3g %11.3g" % (arch, os.path.getsize(ck) / 1e6, res["f32"][0],
                                                                   res["int8"][0], f32, i8, i8f), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
