#!/usr/bin/python3
"""PTX for every model: sinterc --target=cuda --emit=ptx generates the
kernels of each model folder given, for sm_90 with its matmuls on tensor
cores in the default precision, tf32x3 (and for the first model also for
sm_80 and in the other precisions: tf32, bf16, fp32), and checks the text: PTX ISA 8.0 for the
architecture asked, at least one kernel entry, the tensor-core instruction
of the precision asked (every model has matmuls), no external function (the GPU has no libm and
libdevice is not linked: every call must be resolved in the PTX). Then, where
NVIDIA's assembler is available (--ptxas, /usr/local/cuda/bin/ptxas), each
PTX must assemble for its architecture without errors. Without ptxas the
generation is still checked, and the script exits 77 (ctest: skipped) to
say that the assembly was not.

  gpu_ptx.py --bin build/bin --work DIR [--ptxas PATH] MODEL_DIR...
"""
import argparse
import os
import re
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--ptxas", default="")
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    ptxas = args.ptxas if args.ptxas and os.access(args.ptxas, os.X_OK) else ""

    failed = []
    for index, model in enumerate(args.models):
        name = os.path.basename(os.path.normpath(model))
        variants = [("sm_90", "tf32x3")]
        if index == 0:
            variants += [("sm_80", "tf32x3"), ("sm_90", "tf32"),
                         ("sm_90", "bf16"), ("sm_80", "bf16"),
                         ("sm_90", "fp32")]
        for chip, precision in variants:
            label = f"{name} {chip} {precision}"
            ptx_path = os.path.join(args.work, f"{name}.{chip}.{precision}.ptx")
            run = subprocess.run(
                [os.path.join(args.bin, "sinterc"),
                 os.path.join(model, "model.onnx"), "--target=cuda",
                 f"--gpu-arch={chip}", f"--gpu-matmul-precision={precision}",
                 "--emit=ptx", "-o", ptx_path],
                capture_output=True, text=True)
            if run.returncode != 0:
                print(f"FAIL: {label}: sinterc failed\n{run.stderr}")
                failed.append(label)
                continue
            with open(ptx_path) as f:
                ptx = f.read()
            kernels = len(re.findall(r"^\.visible \.entry ", ptx, re.M))
            problems = []
            if ".version 8.0" not in ptx:
                problems.append("not PTX ISA 8.0")
            if f".target {chip}" not in ptx:
                problems.append(f"not for {chip}")
            if kernels == 0:
                problems.append("no kernel")
            tf32 = "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32"
            mma = {"tf32x3": tf32, "tf32": tf32,
                   "bf16":
                       "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32",
                   "fp32": None}[precision]
            if mma and mma not in ptx:
                problems.append(f"no {mma}")
            if not mma and "mma.sync" in ptx:
                problems.append("tensor cores in fp32")
            externs = re.findall(r"^\.extern \.func.*?(\w+)\(", ptx, re.M)
            if externs:
                problems.append("calls external functions: " +
                                ", ".join(sorted(set(externs))))
            if not problems and ptxas:
                assembled = subprocess.run(
                    [ptxas, f"-arch={chip}", ptx_path, "-o", os.devnull],
                    capture_output=True, text=True)
                if assembled.returncode != 0:
                    problems.append("ptxas: " + assembled.stderr.strip()[:2000])
            if problems:
                print(f"FAIL: {label}: " + "; ".join(problems))
                failed.append(label)
            else:
                print(f"ok:   {label}: {kernels} kernels, "
                      f"{ptx.count('mma.sync')} mma.sync, "
                      f"{len(ptx) // 1024} KiB"
                      + (", assembled by ptxas" if ptxas else ""))
    print(f"{len(failed)} failed")
    if failed:
        return 1
    if not ptxas:
        print("ptxas not found (--ptxas): the PTX was generated and checked, "
              "not assembled")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
