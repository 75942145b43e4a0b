#!/usr/bin/python3
"""Numerics of sinter.layer_norm, sinter.rms_norm and sinter.add_norm
compiled both ways: the runtime's norm kernel (sinterc's default) and the
decomposed reductions (--norm-kernel=false), each against a float64 numpy
reference, on random inputs: GPT/BERT/LLaMA-sized rows, rows that span
several dimensions (axis 1 of a rank-3 tensor), a single row (axis 0), rows
far from zero mean (where E[x^2] - E[x]^2 would cancel), and both results of
the residual form.

  norm_numerics.py --bin build/bin --work DIR
"""
import argparse
import os
import sys

import numpy as np

from artifact_numerics import check_variants, mlir_type


def normalize(x, scale, bias, axis, epsilon, rms):
    x = x.astype(np.float64)
    axes = tuple(range(axis, x.ndim))
    centered = x if rms else x - x.mean(axis=axes, keepdims=True)
    y = centered / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + epsilon)
    y = y * scale
    if bias is not None:
        y = y + bias
    return y.astype(np.float32)


def run_case(args, name, x, scale, bias, axis, epsilon, rms, residual=None):
    """norm(x) or, with a residual, add_norm(x, residual) returning both the
    sum and the normalized sum."""
    t, w = mlir_type(x.shape), mlir_type(scale.shape)
    params = [f"%x: {t}"] + ([f"%r: {t}"] if residual is not None else []) + [f"%g: {w}"]
    operands, types = ["%x"] + (["%r"] if residual is not None else []) + ["%g"], \
        [t] + ([t] if residual is not None else []) + [w]
    if bias is not None:
        params.append(f"%b: {mlir_type(bias.shape)}")
        operands.append("%b")
        types.append(mlir_type(bias.shape))
    attrs = f"axis {axis} epsilon {epsilon:.6e}"
    if residual is not None:
        op = (f"  %s, %y = sinter.add_norm {', '.join(operands)} kind {'rms' if rms else 'layer'} "
              f"{attrs} : ({', '.join(types)}) -> ({t}, {t})\n  return %s, %y : {t}, {t}\n")
        results = f"({t}, {t})"
        source = (x.astype(np.float64) + residual).astype(np.float32)
        references = [source, normalize(source, scale, bias, axis, epsilon, rms)]
    else:
        kind = "rms_norm" if rms else "layer_norm"
        op = (f"  %y = sinter.{kind} {', '.join(operands)} {attrs} : "
              f"({', '.join(types)}) -> {t}\n  return %y : {t}\n")
        results = t
        references = [normalize(x, scale, bias, axis, epsilon, rms)]
    text = f"func.func @main({', '.join(params)}) -> {results} {{\n{op}}}\n"
    inputs = [x] + ([residual] if residual is not None else []) + [scale] + \
        ([bias] if bias is not None else [])
    return check_variants(args.bin, os.path.join(args.work, name), name, text, inputs,
                          references, [("kernel", ["--norm-kernel=true"]),
                                       ("decomposed", ["--norm-kernel=false"])])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(11)

    def rand(*shape, mean=0.0, std=1.0):
        return (mean + std * rng.standard_normal(shape)).astype(np.float32)

    failures = 0
    # GPT-2 rows (768), batch 2, with bias; enough rows to run threaded.
    failures += run_case(args, "layer-2x77x768", rand(2, 77, 768), rand(768), rand(768),
                         2, 1e-5, False)
    # LLaMA rows (4096, not a multiple of the vector tail), no bias.
    failures += run_case(args, "rms-1x33x4100", rand(1, 33, 4100), rand(4100), None,
                         2, 1e-6, True)
    # Rows over two dimensions: scale and bias 7 x 96.
    failures += run_case(args, "layer-axis1-4x7x96", rand(4, 7, 96), rand(7, 96), rand(7, 96),
                         1, 1e-5, False)
    # The whole tensor is one row.
    failures += run_case(args, "rms-axis0-5x64", rand(5, 64), rand(5, 64), None, 0, 1e-6, True)
    # Far from zero mean: the centered two-pass variance keeps its digits.
    failures += run_case(args, "layer-offset", rand(64, 384, mean=3.0, std=2.0), rand(384),
                         rand(384), 1, 1e-5, False)
    # Residual forms: both the sum and the normalized sum are checked.
    failures += run_case(args, "add-layer-3x50x384", rand(3, 50, 384), rand(384), rand(384),
                         2, 1e-5, False, residual=rand(3, 50, 384))
    failures += run_case(args, "add-rms-2x31x1000", rand(2, 31, 1000), rand(1000), None,
                         2, 1e-6, True, residual=rand(2, 31, 1000))
    print("norm numerics:", "FAIL" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
