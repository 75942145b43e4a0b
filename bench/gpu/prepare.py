#!/usr/bin/python3
"""Gets models ready for the GPU machine, which has CUDA, PyTorch and numpy
but no MLIR: each model folder (model.onnx + test_data_set_0) is compiled
here with sinterc --target=cuda into OUT/<name>.{so,h,weights}, and its
test data is converted to OUT/<name>.data/{input,output}_K.npy. Copy OUT
and run_artifact.py there (the device tool's `carry`), then run

  python3 run_artifact.py OUT/<name>.so --data OUT/<name>.data --runs 50 --json

Usage: prepare.py --bin build/bin --out bench/gpu/out [--gpu-arch sm_90]
                  [--gpu-matmul-precision tf32] MODEL_DIR...
"""
import argparse
import glob
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--gpu-arch", default="sm_90")
    parser.add_argument("--gpu-matmul-precision", default="tf32",
                        help="tf32, bf16 or fp32 (sinterc's option)")
    parser.add_argument("--target", default="cuda",
                        help="cpu to prepare CPU artifacts the same way")
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for model in args.models:
        name = os.path.basename(os.path.normpath(model)).replace("-", "_")
        stem = os.path.join(args.out, name)
        command = [os.path.join(args.bin, "sinterc"),
                   os.path.join(model, "model.onnx"), "-o", stem,
                   f"--target={args.target}"]
        if args.target == "cuda":
            command += [f"--gpu-arch={args.gpu_arch}",
                        f"--gpu-matmul-precision={args.gpu_matmul_precision}"]
        compiled = subprocess.run(command, capture_output=True, text=True)
        if compiled.returncode != 0:
            print(compiled.stderr)
            return f"{model}: sinterc failed"
        data = os.path.join(model, "test_data_set_0")
        target = stem + ".data"
        os.makedirs(target, exist_ok=True)
        for pb in glob.glob(os.path.join(data, "*.pb")):
            tensor = onnx.TensorProto()
            with open(pb, "rb") as f:
                tensor.ParseFromString(f.read())
            np.save(os.path.join(target, re.sub(r"\.pb$", ".npy", os.path.basename(pb))),
                    numpy_helper.to_array(tensor))
        print(f"{name}: {stem}.so, {target}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
