#!/usr/bin/python3
"""Numerics of sinter.linear, sinter.matmul and sinter.conv compiled both
ways: the runtime's packed GEMM kernel (sinterc's default) and the contractions
(--matmul-kernel=false), each against a float64 numpy reference, on random
inputs whose sizes straddle the kernel's blocks (6 x 16 registers, depth
256, 72-row and 512-column packed blocks; on AVX-512 12 x 32 registers,
depth 512 in equal parts (1024 for weights packed at compile time), 144
rows): a linear layer with the PyTorch
weight layout and bias, one with a K x N weight, batch-1 decoding rows
(which stream the weight), batched products with a broadcast side (the
experts of an MoE layer), and convolutions (GEMMs over their windows).

  matmul_numerics.py --bin build/bin --work DIR
"""
import argparse
import os
import sys

import numpy as np

from artifact_numerics import check_variants, mlir_type

VARIANTS = [("kernel", ["--matmul-kernel=true"]), ("contraction", ["--matmul-kernel=false"])]


def linear_case(args, name, x, w, bias, transpose):
    out_shape = x.shape[:-1] + (w.shape[0] if transpose else w.shape[1],)
    params = [f"%x: {mlir_type(x.shape)}", f"%w: {mlir_type(w.shape)}"]
    operands, types = ["%x", "%w"], [mlir_type(x.shape), mlir_type(w.shape)]
    if bias is not None:
        params.append(f"%b: {mlir_type(bias.shape)}")
        operands.append("%b")
        types.append(mlir_type(bias.shape))
    t = mlir_type(out_shape)
    text = (f"func.func @main({', '.join(params)}) -> {t} {{\n"
            f"  %y = sinter.linear {', '.join(operands)}{' transpose_weight' if transpose else ''} "
            f": ({', '.join(types)}) -> {t}\n  return %y : {t}\n}}\n")
    weight = w.T if transpose else w
    expected = x.astype(np.float64) @ weight.astype(np.float64)
    if bias is not None:
        expected = expected + bias
    inputs = [x, w] + ([bias] if bias is not None else [])
    return check_variants(args.bin, os.path.join(args.work, name), name, text, inputs,
                          [expected.astype(np.float32)], VARIANTS)


def dense_literal(array):
    """An MLIR dense attribute of `array` (f32, little-endian hex)."""
    return f'dense<"0x{array.astype("<f4").tobytes().hex().upper()}"> : {mlir_type(array.shape)}'


def constant_weight_case(args, name, x, w, bias, transpose):
    """linear with its weight a constant of the module, which sinterc packs
    into the kernel's layout at compile time."""
    out_shape = x.shape[:-1] + (w.shape[0] if transpose else w.shape[1],)
    t, tx = mlir_type(out_shape), mlir_type(x.shape)
    operands, types = ["%x", "%w"], [tx, mlir_type(w.shape)]
    if bias is not None:
        operands.append("%b")
        types.append(mlir_type(bias.shape))
    text = (f"func.func @main(%x: {tx}) -> {t} {{\n"
            f"  %w = sinter.constant {dense_literal(w)}\n"
            + (f"  %b = sinter.constant {dense_literal(bias)}\n" if bias is not None else "")
            + f"  %y = sinter.linear {', '.join(operands)}{' transpose_weight' if transpose else ''} "
            f": ({', '.join(types)}) -> {t}\n  return %y : {t}\n}}\n")
    expected = x.astype(np.float64) @ (w.T if transpose else w).astype(np.float64)
    if bias is not None:
        expected = expected + bias
    return check_variants(args.bin, os.path.join(args.work, name), name, text, [x],
                          [expected.astype(np.float32)], VARIANTS)


def sibling_linears_case(args, name, x, layers, transpose):
    """Linears that read one input, their weights constants (each layer's
    (weight, bias or None)): merged into one product by default
    (sinter-merge-sibling-linears), kept apart with --merge-linears=false,
    and merged again as contractions."""
    tx = mlir_type(x.shape)
    lines, results, expected = [], [], []
    for i, (w, bias) in enumerate(layers):
        out_shape = x.shape[:-1] + (w.shape[0] if transpose else w.shape[1],)
        operands, types = ["%x", f"%w{i}"], [tx, mlir_type(w.shape)]
        lines.append(f"  %w{i} = sinter.constant {dense_literal(w)}\n")
        if bias is not None:
            lines.append(f"  %b{i} = sinter.constant {dense_literal(bias)}\n")
            operands.append(f"%b{i}")
            types.append(mlir_type(bias.shape))
        lines.append(f"  %y{i} = sinter.linear {', '.join(operands)}"
                     f"{' transpose_weight' if transpose else ''} "
                     f": ({', '.join(types)}) -> {mlir_type(out_shape)}\n")
        results.append((f"%y{i}", mlir_type(out_shape)))
        product = x.astype(np.float64) @ (w.T if transpose else w).astype(np.float64)
        expected.append((product + (bias if bias is not None else 0)).astype(np.float32))
    text = (f"func.func @main(%x: {tx}) -> ({', '.join(t for _, t in results)}) {{\n"
            + "".join(lines)
            + f"  return {', '.join(v for v, _ in results)} : {', '.join(t for _, t in results)}\n}}\n")
    variants = [("merged", []), ("apart", ["--merge-linears=false"]),
                ("merged-contraction", ["--matmul-kernel=false"])]
    return check_variants(args.bin, os.path.join(args.work, name), name, text, [x],
                          expected, variants)


def matmul_case(args, name, a, b):
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.float32)
    ta, tb, t = mlir_type(a.shape), mlir_type(b.shape), mlir_type(expected.shape)
    text = (f"func.func @main(%a: {ta}, %b: {tb}) -> {t} {{\n"
            f"  %y = sinter.matmul %a, %b : ({ta}, {tb}) -> {t}\n  return %y : {t}\n}}\n")
    return check_variants(args.bin, os.path.join(args.work, name), name, text, [a, b],
                          [expected], VARIANTS)


def conv_reference(x, w, bias, strides, pads, dilations):
    """N-d convolution (one group) in float64, as ONNX Conv defines it."""
    spatial = x.ndim - 2
    x = np.pad(x.astype(np.float64),
               [(0, 0), (0, 0)] + [(pads[i], pads[spatial + i]) for i in range(spatial)])
    out_sizes = [(x.shape[2 + i] - dilations[i] * (w.shape[2 + i] - 1) - 1) // strides[i] + 1
                 for i in range(spatial)]
    out = np.zeros((x.shape[0], w.shape[0], *out_sizes))
    for window in np.ndindex(*w.shape[2:]):
        patch = x[(slice(None), slice(None)) + tuple(
            slice(window[i] * dilations[i],
                  window[i] * dilations[i] + strides[i] * (out_sizes[i] - 1) + 1, strides[i])
            for i in range(spatial))]
        out += np.einsum("nc...,mc->nm...", patch, w[(slice(None), slice(None)) + window])
    if bias is not None:
        out += bias.reshape((1, -1) + (1,) * spatial)
    return out.astype(np.float32)


def conv_case(args, name, x, w, bias, strides, pads, dilations):
    expected = conv_reference(x, w, bias, strides, pads, dilations)
    tx, tw, t = mlir_type(x.shape), mlir_type(w.shape), mlir_type(expected.shape)
    operands, types, params = ["%x", "%w"], [tx, tw], [f"%x: {tx}", f"%w: {tw}"]
    if bias is not None:
        operands.append("%b")
        types.append(mlir_type(bias.shape))
        params.append(f"%b: {mlir_type(bias.shape)}")
    text = (f"func.func @main({', '.join(params)}) -> {t} {{\n"
            f"  %y = sinter.conv {', '.join(operands)} strides {list(strides)} pads {list(pads)} "
            f"dilations {list(dilations)} group 1 : ({', '.join(types)}) -> {t}\n"
            f"  return %y : {t}\n}}\n")
    inputs = [x, w] + ([bias] if bias is not None else [])
    return check_variants(args.bin, os.path.join(args.work, name), name, text, inputs,
                          [expected], VARIANTS)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(5)

    def rand(*shape, fan_in=1):
        # Weights scaled as initializers scale them (1 / sqrt(fan-in)), so that
        # outputs are O(1) like the inputs and the default tolerances
        # (atol 1e-5, rtol 1e-4) measure the summation, not the magnitude.
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)

    failures = 0
    # GPT-2's MLP input projection in the PyTorch layout, 2 row blocks, 2
    # column blocks, depth over two blocks.
    failures += linear_case(args, "linear-nk-1x130x300", rand(1, 130, 300), rand(700, 300, fan_in=300),
                            rand(700), True)
    # Depth over three blocks on either route (the first block writes C).
    failures += linear_case(args, "linear-deep-50x1100", rand(50, 1100), rand(70, 1100, fan_in=1100),
                            rand(70), True)
    # A K x N weight without bias; rows, columns and depth all partial.
    failures += linear_case(args, "linear-kn-77x70x45", rand(77, 70), rand(70, 45, fan_in=70), None, False)
    # Decoding: one row, then three, streaming the weight both layouts.
    failures += linear_case(args, "decode-1x1x520", rand(1, 1, 520), rand(1030, 520, fan_in=520), rand(1030),
                            True)
    failures += linear_case(args, "decode-3x520", rand(3, 520), rand(520, 1030, fan_in=520), None, False)
    # Batched (attention-like) products, equal batches and a broadcast side.
    failures += matmul_case(args, "bmm-2x3x33x40x17", rand(2, 3, 33, 40), rand(2, 3, 40, 17, fan_in=40))
    failures += matmul_case(args, "bmm-broadcast", rand(4, 20, 64), rand(1, 64, 96, fan_in=64))
    # All experts of an MoE layer on the same tokens: [T, D] x [E, D, H].
    failures += matmul_case(args, "experts", rand(37, 64), rand(8, 64, 80, fan_in=64))
    # A matrix times a matrix of another rank's rows (the rows flatten).
    failures += matmul_case(args, "rows-by-matrix", rand(2, 5, 9, 31), rand(31, 8, fan_in=31))
    # Constant weights, packed at compile time: both layouts, partial
    # slivers (N not a multiple of 16), depth over two blocks, and the
    # streaming path for one and three rows.
    failures += constant_weight_case(args, "packed-nk-70x300", rand(70, 300),
                                     rand(45, 300, fan_in=300), rand(45), True)
    failures += constant_weight_case(args, "packed-kn-2x9x100", rand(2, 9, 100),
                                     rand(100, 530, fan_in=100), None, False)
    failures += constant_weight_case(args, "packed-deep-130x1030", rand(130, 1030),
                                     rand(1030, 200, fan_in=1030), rand(200), False)
    # One depth block of 900 on AVX-512 (compile-time packed weights take
    # blocks of up to 1024) over two blocks of A rows.
    failures += constant_weight_case(args, "packed-one-block-150x900", rand(150, 900),
                                     rand(70, 900, fan_in=900), rand(70), True)
    failures += constant_weight_case(args, "packed-decode-1", rand(1, 1, 260),
                                     rand(260, 77, fan_in=260), rand(77), False)
    failures += constant_weight_case(args, "packed-decode-3", rand(3, 260),
                                     rand(77, 260, fan_in=260), None, True)
    # Linears sharing their input, merged into one product: grouped-query
    # Q, K, V (nn.Linear layout; K without bias), and a gated MLP's gate and
    # up by K x N weights at one decoding row.
    failures += sibling_linears_case(
        args, "siblings-qkv", rand(2, 37, 96),
        [(rand(96, 96, fan_in=96), rand(96)), (rand(32, 96, fan_in=96), None),
         (rand(32, 96, fan_in=96), rand(32))], True)
    failures += sibling_linears_case(
        args, "siblings-decode-kn", rand(1, 200),
        [(rand(200, 300, fan_in=200), None), (rand(200, 45, fan_in=200), None)], False)
    # Convolutions as GEMMs: ViT's patch embedding (stride = window), a
    # padded, strided, dilated 3 x 3 without bias, batch 2, and a 1-D one.
    failures += conv_case(args, "conv-patches", rand(1, 3, 32, 32), rand(48, 3, 8, 8, fan_in=192),
                          rand(48), [8, 8], [0, 0, 0, 0], [1, 1])
    failures += conv_case(args, "conv-3x3", rand(2, 5, 13, 11), rand(7, 5, 3, 3, fan_in=45),
                          None, [2, 1], [1, 2, 0, 1], [1, 2])
    failures += conv_case(args, "conv-1d", rand(1, 4, 50), rand(6, 4, 5, fan_in=20), rand(6),
                          [1], [2, 2], [1])
    print("matmul numerics:", "FAIL" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
