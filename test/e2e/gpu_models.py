#!/usr/bin/python3
"""Every model given, compiled with sinterc --target=cuda in each matmul
precision and run on the GPU by sinter-run against its reference outputs
(check_artifact.py on each data set). The relative error ||out - ref|| /
||ref|| must be at most the bar of docs/gpu.md for the precision: 1e-5 with
fp32 matmuls (elementwise atol 1e-4 + rtol 1e-3: the kernels sum in another
order than the CPU, and exp/erf/tanh are polynomials) and on tensor cores
in tf32x3 (each value split in two TF32 parts), 1e-3 on TF32 tensor cores
(10 mantissa bits) and 1e-2 on BF16 ones (8).

Without an NVIDIA GPU (no libcuda.so.1, or the driver sees no device) it
runs nothing and exits 77, which ctest reports as skipped.

  gpu_models.py --bin build/bin --work DIR MODEL_DIR...
"""
import argparse
import ctypes
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# precision: (elementwise atol, rtol, bar on the relative error)
PRECISIONS = {"fp32": (1e-4, 1e-3, 1e-5),
              "tf32": (1e-2, 5e-2, 1e-3),
              "tf32x3": (1e-4, 1e-3, 1e-5),
              "bf16": (5e-2, 1e-1, 1e-2)}


def find_gpu():
    """None when a GPU is usable, else why not."""
    driver = os.environ.get("SINTER_CUDA_DRIVER") or "libcuda.so.1"
    try:
        cuda = ctypes.CDLL(driver)
    except OSError as error:
        return f"no CUDA driver ({error})"
    if cuda.cuInit(0) != 0:
        return "cuInit failed: the driver sees no usable GPU"
    count = ctypes.c_int(0)
    if cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
        return "the CUDA driver sees no GPU"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--gpu-arch", default="sm_90")
    parser.add_argument("--precisions", default="fp32,tf32x3,tf32,bf16")
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    precisions = args.precisions.split(",")
    for precision in precisions:
        if precision not in PRECISIONS:
            parser.error(f"unknown precision {precision}")

    missing = find_gpu()
    if missing:
        print(f"skipped: {missing}; the GPU runs of {len(args.models)} models "
              "need an NVIDIA GPU (the PTX is checked by e2e-gpu-ptx)")
        return 77

    failed = []
    runs = 0
    for model in args.models:
        name = os.path.basename(os.path.normpath(model))
        for precision in precisions:
            atol, rtol, bar = PRECISIONS[precision]
            runs += 1
            run = subprocess.run(
                [sys.executable, os.path.join(HERE, "check_artifact.py"),
                 "--bin", args.bin, "--model", model,
                 "--work", os.path.join(args.work, precision),
                 "--threads", "1", "--atol", str(atol), "--rtol", str(rtol),
                 "--", "--target=cuda", f"--gpu-arch={args.gpu_arch}",
                 f"--gpu-matmul-precision={precision}"],
                capture_output=True, text=True)
            print(f"[{precision}] " + (run.stdout.strip() or run.stderr.strip()))
            errors = [float(e) for e in re.findall(
                r"\|out - ref\|/\|ref\| ([0-9.e+-]+)", run.stdout)]
            worst = max(errors, default=float("inf"))
            if run.returncode != 0 or worst > bar:
                failed.append(f"{name} {precision} (relative error {worst:.2g}"
                              f", bar {bar:g})")
    print(f"{runs - len(failed)} passed, {len(failed)} failed" +
          (": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
