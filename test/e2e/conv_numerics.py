#!/usr/bin/python3
"""The convolution kernel end to end: small CNNs built and exported here with
PyTorch (torch.onnx.export, opset 17), compiled into artifacts, run by
sinter-run and compared with the same modules run by PyTorch in float64
(the reference, independent of sinter). They cover what the kernel and its
epilogue take: 3 x 3 and pointwise convolutions with residual additions and
ReLU (a ResNet bottleneck), ReLU6 (a clip), strides, dilations, a 1-D
convolution, a batch of images, and a conv whose output is
also read elsewhere (no epilogue); and transposed convolutions whose kernel
tiles the output (2 x 2 stride 2, 1-D 4 stride 4, with and without bias),
which run as one GEMM-kernel call, beside an overlapping one (4 x 4 stride
2, pad 1) that keeps the general lowering.

  conv_numerics.py --bin build/bin
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Bottleneck(nn.Module):
    def __init__(self, channels=16, inner=8):
        super().__init__()
        self.reduce = nn.Conv2d(channels, inner, 1)
        self.conv = nn.Conv2d(inner, inner, 3, padding=1)
        self.expand = nn.Conv2d(inner, channels, 1)

    def forward(self, x):
        y = F.relu(self.reduce(x))
        y = F.relu(self.conv(y))
        return F.relu(self.expand(y) + x)


class Mixed(nn.Module):
    """ReLU6, stride 2, dilation 2, a 1 x 5 kernel, a conv read twice."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 12, 3, stride=2, padding=1)
        self.dilated = nn.Conv2d(12, 12, 3, dilation=2, padding=2)
        self.wide = nn.Conv2d(12, 8, (1, 5), padding=(0, 2))

    def forward(self, x):
        y = torch.clamp(self.stem(x), 0.0, 6.0)
        z = self.dilated(y)
        w = self.wide(F.relu(z) + z)
        return w, z


class Audio(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(4, 16, 5, stride=2, padding=2)
        self.conv2 = nn.Conv1d(16, 16, 3, padding=1)

    def forward(self, x):
        y = F.relu(self.conv1(x))
        return F.relu(self.conv2(y) + y)


class Upsampling(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.overlap = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
        self.up1d = nn.ConvTranspose1d(16, 6, 4, stride=4, bias=False)

    def forward(self, x):
        y = F.relu(self.up(x))
        n, c, h, w = x.shape
        return self.overlap(y), self.up1d(x.reshape(n, c, h * w))


# name: (module, input shape, the kernel its artifact must call)
MODELS = {
    "bottleneck": (Bottleneck, (2, 16, 14, 14), "sinter_conv2d_f32"),
    "mixed": (Mixed, (1, 3, 21, 19), "sinter_conv2d_f32"),
    "audio": (Audio, (2, 4, 50), "sinter_conv2d_f32"),
    "upsampling": (Upsampling, (2, 16, 5, 7), "sinter_matmul_f32"),
}


def check(bin_dir, name, work):
    torch.manual_seed(7)
    make, shape, kernel = MODELS[name]
    module = make().eval()
    x = torch.randn(shape)
    folder = os.path.join(work, name)
    os.makedirs(folder)
    path = os.path.join(folder, "model.onnx")
    with torch.no_grad():
        outputs = module(x)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, x, path, opset_version=17)
        exact = module.double()(x.double())
    exact = exact if isinstance(exact, tuple) else (exact,)
    files = [f"--input={os.path.join(folder, 'input_0.npy')}"]
    np.save(files[0].split("=", 1)[1], x.numpy())
    for k, reference in enumerate(exact):
        files.append(f"--reference={os.path.join(folder, f'reference_{k}.npy')}")
        np.save(files[-1].split("=", 1)[1], reference.numpy().astype(np.float32))
    stem = os.path.join(folder, "model")
    compiled = subprocess.run([os.path.join(bin_dir, "sinterc"), path, "-o", stem],
                              capture_output=True, text=True)
    if compiled.returncode != 0:
        print(f"FAIL {name}: sinterc: {compiled.stderr.strip()}")
        return False
    # The kernel must be what ran: its calls are in the artifact.
    llvm = subprocess.run([os.path.join(bin_dir, "sinterc"), path, "--emit=llvm", "-o", "-"],
                          capture_output=True, text=True).stdout
    calls = llvm.count(f"call void @_mlir_ciface_{kernel}(")
    ran = subprocess.run([os.path.join(bin_dir, "sinter-run"), stem + ".so", *files],
                         capture_output=True, text=True)
    ok = ran.returncode == 0 and calls > 0
    print(f"{'PASS' if ok else 'FAIL'} {name}: {calls} calls of {kernel}")
    print("  " + ran.stdout.strip().replace("\n", "\n  "))
    if ran.returncode != 0:
        print("  " + ran.stderr.strip())
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        results = [check(args.bin, name, work) for name in MODELS]
    print(f"{sum(results)} of {len(results)} models match PyTorch in float64")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
