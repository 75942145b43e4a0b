#!/usr/bin/python3
"""Numerics of sinter.attention compiled both ways: the flash-attention
kernel (sinterc's default) and the unfused contractions
(--flash-attention=false), each against a float64 numpy reference, on random
inputs: grouped-query heads, causal masks (square and decoding), padding
masks, long sequences that span many key blocks, Q, K and V read in place
out of a merged product (two layouts), and rows whose keys are all
masked, where the kernel must give zeros and no NaN (the unfused softmax
divides 0 by 0 there, so that case checks the kernel alone).

With --fake-driver and --clang, the same cases run instead as CUDA artifacts
on the emulated GPU (emulated_gpu.py): the GPU's flash-attention kernel,
with fp32 matmuls, against the same references.

  attention_numerics.py --bin build/bin --work DIR
                        [--fake-driver libfake_cuda.so --clang clang-22]
"""
import argparse
import os
import sys

import numpy as np

from artifact_numerics import check_variants, mlir_type
from emulated_gpu import build_kernels

# What each case compiles: (label, sinterc flags); the GPU's under
# --fake-driver (main).
VARIANTS = {"flash": ["--flash-attention=true"],
            "unfused": ["--flash-attention=false"]}
PREPARE_RUN = None


def reference(q, k, v, mask, causal, scale):
    group = q.shape[1] // k.shape[1]
    k = np.repeat(k.astype(np.float64), group, axis=1)
    v = np.repeat(v.astype(np.float64), group, axis=1)
    s = np.einsum("bhid,bhjd->bhij", q.astype(np.float64), k) * scale
    if mask is not None:
        s = s + mask.astype(np.float64)
    sq, sk = s.shape[2], s.shape[3]
    if causal:
        hidden = np.arange(sk)[None, :] > np.arange(sq)[:, None] + (sk - sq)
        s = np.where(hidden, -np.inf, s)
    top = s.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(s - top)
    total = e.sum(axis=-1, keepdims=True)
    p = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return np.einsum("bhij,bhjd->bhid", p, v).astype(np.float32)


def module(q, k, v, mask, causal, scale):
    args = [f"%q: {mlir_type(q.shape)}", f"%k: {mlir_type(k.shape)}", f"%v: {mlir_type(v.shape)}"]
    operand_types = [mlir_type(q.shape), mlir_type(k.shape), mlir_type(v.shape)]
    mask_text = ""
    if mask is not None:
        args.append(f"%m: {mlir_type(mask.shape)}")
        operand_types.append(mlir_type(mask.shape))
        mask_text = " mask %m"
    out = mlir_type(q.shape[:3] + v.shape[3:])
    return (f"func.func @main({', '.join(args)}) -> {out} {{\n"
            f"  %0 = sinter.attention %q, %k, %v{mask_text}{' causal' if causal else ''} "
            f"scale {scale!r} : ({', '.join(operand_types)}) -> {out}\n"
            f"  return %0 : {out}\n}}\n")


def run_case(args, name, q, k, v, mask, causal, scale, unfused_too):
    expected = reference(q, k, v, mask, causal, scale)
    assert not np.isnan(expected).any()
    labels = ["flash"] + (["unfused"] if unfused_too else [])
    inputs = [q, k, v] + ([mask] if mask is not None else [])
    return check(args, name, module(q, k, v, mask, causal, scale), inputs,
                 [expected], labels)


def check(args, name, text, inputs, references, labels):
    prefix = "gpu-" if PREPARE_RUN else ""
    variants = [(prefix + label, VARIANTS[label]) for label in labels
                if label in VARIANTS]
    return check_variants(args.bin, os.path.join(args.work, name), name, text,
                          inputs, references, variants, PREPARE_RUN)


def heads_in_place_case(args, name, batch, seq, heads, kv_heads, d):
    """Attention as the models spell it around a merged Q, K, V product: the
    product's columns split into Q, K and V, each reshaped into heads and
    transposed to [B, H, S, D], the result transposed back and merged. The
    kernel reads the heads in place and writes the merged layout directly
    (inPlaceView). K arrives as [H, S, B, D] through a 3-cycle transpose,
    which checks the order of the view's dimensions."""
    rng = np.random.default_rng(11)
    qkv = rng.standard_normal((batch, seq, (heads + kv_heads) * d)).astype(np.float32)
    k_raw = rng.standard_normal((kv_heads, seq, batch, d)).astype(np.float32)
    q = qkv[..., :heads * d].reshape(batch, seq, heads, d).transpose(0, 2, 1, 3)
    v = qkv[..., heads * d:].reshape(batch, seq, kv_heads, d).transpose(0, 2, 1, 3)
    k = k_raw.transpose(2, 0, 1, 3)
    scale = 1.0 / np.sqrt(d)
    expected = reference(q, k, v, None, True, scale).transpose(0, 2, 1, 3).reshape(
        batch, seq, heads * d)
    t = mlir_type
    text = (
        f"func.func @main(%qkv: {t(qkv.shape)}, %kr: {t(k_raw.shape)}) -> {t(expected.shape)} {{\n"
        f"  %q, %v = sinter.split %qkv axis 2 sizes [{heads * d}, {kv_heads * d}] : {t(qkv.shape)}"
        f" -> {t((batch, seq, heads * d))}, {t((batch, seq, kv_heads * d))}\n"
        f"  %q4 = sinter.reshape %q to [{batch}, {seq}, {heads}, {d}] : {t((batch, seq, heads * d))}"
        f" -> {t((batch, seq, heads, d))}\n"
        f"  %v4 = sinter.reshape %v to [{batch}, {seq}, {kv_heads}, {d}] : {t((batch, seq, kv_heads * d))}"
        f" -> {t((batch, seq, kv_heads, d))}\n"
        f"  %qh = sinter.transpose %q4 [0, 2, 1, 3] : {t((batch, seq, heads, d))} -> {t(q.shape)}\n"
        f"  %kh = sinter.transpose %kr [2, 0, 1, 3] : {t(k_raw.shape)} -> {t(k.shape)}\n"
        f"  %vh = sinter.transpose %v4 [0, 2, 1, 3] : {t((batch, seq, kv_heads, d))} -> {t(v.shape)}\n"
        f"  %o = sinter.attention %qh, %kh, %vh causal scale {scale!r} : ({t(q.shape)}, {t(k.shape)},"
        f" {t(v.shape)}) -> {t(q.shape)}\n"
        f"  %m = sinter.transpose %o [0, 2, 1, 3] : {t(q.shape)} -> {t((batch, seq, heads, d))}\n"
        f"  %r = sinter.reshape %m to [{batch}, {seq}, {heads * d}] : {t((batch, seq, heads, d))}"
        f" -> {t(expected.shape)}\n"
        f"  return %r : {t(expected.shape)}\n}}\n")
    return check(args, name, text, [qkv, k_raw], [expected],
                 ["flash", "unfused"])


def timm_qkv_case(args, name, batch, seq, heads, d):
    """timm's ViT layout: the merged product reshaped to [B, S, 3, H, D],
    permuted to [3, B, H, S, D], split along the 3 and each piece reshaped
    to [B, H, S, D]; the kernel reads the three through views of the
    product (the last reshape collapses the split's unit axis)."""
    rng = np.random.default_rng(13)
    qkv = rng.standard_normal((batch, seq, 3 * heads * d)).astype(np.float32)
    parts = qkv.reshape(batch, seq, 3, heads, d).transpose(2, 0, 3, 1, 4)
    q, k, v = parts[0], parts[1], parts[2]
    scale = 1.0 / np.sqrt(d)
    expected = reference(q, k, v, None, False, scale)
    t = mlir_type
    five = (batch, seq, 3, heads, d)
    moved = (3, batch, heads, seq, d)
    piece = (1, batch, heads, seq, d)
    text = (
        f"func.func @main(%qkv: {t(qkv.shape)}) -> {t(expected.shape)} {{\n"
        f"  %r = sinter.reshape %qkv to [{', '.join(map(str, five))}] : {t(qkv.shape)} -> {t(five)}\n"
        f"  %t = sinter.transpose %r [2, 0, 3, 1, 4] : {t(five)} -> {t(moved)}\n"
        f"  %p:3 = sinter.split %t axis 0 sizes [1, 1, 1] : {t(moved)}"
        f" -> {t(piece)}, {t(piece)}, {t(piece)}\n"
        + "".join(
            f"  %{x} = sinter.reshape %p#{i} to [{batch}, {heads}, {seq}, {d}] : {t(piece)}"
            f" -> {t(q.shape)}\n" for i, x in enumerate(["q", "k", "v"]))
        + f"  %o = sinter.attention %q, %k, %v scale {scale!r} : ({t(q.shape)}, {t(k.shape)},"
        f" {t(v.shape)}) -> {t(q.shape)}\n"
        f"  return %o : {t(expected.shape)}\n}}\n")
    return check(args, name, text, [qkv], [expected], ["flash", "unfused"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--fake-driver")
    parser.add_argument("--clang")
    args = parser.parse_args()
    if args.fake_driver:
        global VARIANTS, PREPARE_RUN
        VARIANTS = {"flash": ["--target=cuda", "--gpu-matmul-precision=fp32"]}

        def prepare(source, flags, stem):
            library, what = build_kernels(args.bin, args.clang, source, flags, stem)
            if not library:
                return what
            return dict(os.environ, SINTER_CUDA_DRIVER=args.fake_driver,
                        FAKE_CUDA_KERNELS=library)
        PREPARE_RUN = prepare
    rng = np.random.default_rng(7)

    def rand(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    failures = 0
    # Grouped-query causal attention over several partial key blocks.
    failures += run_case(args, "gqa-causal-300", rand(1, 4, 300, 64), rand(1, 2, 300, 64),
                         rand(1, 2, 300, 64), None, True, 0.125, True)
    # Decoding: one query against 517 keys, causal aligned to the end.
    failures += run_case(args, "decode-1x517", rand(2, 4, 1, 32), rand(2, 4, 517, 32),
                         rand(2, 4, 517, 32), None, True, 0.17677669, True)
    # A padding mask [B, 1, 1, Sk] (BERT) with -inf on padded keys, batch 2.
    pad = np.zeros((2, 1, 1, 1030), np.float32)
    pad[0, ..., 700:] = -np.inf
    pad[1, ..., 1000:] = np.finfo(np.float32).min
    failures += run_case(args, "padding-1030", rand(2, 2, 1030, 16), rand(2, 2, 1030, 16),
                         rand(2, 2, 1030, 16), pad, False, 0.25, True)
    # A long causal sequence (32 query blocks, 32 key blocks per head).
    failures += run_case(args, "causal-4096", rand(1, 2, 4096, 64), rand(1, 2, 4096, 64),
                         rand(1, 2, 4096, 64), None, True, 0.125, True)
    # Rows with every key masked: zeros from the kernel, never NaN.
    full = rand(1, 1, 64, 200) * 0.1
    full[..., 5, :] = -np.inf
    full[..., 40:48, :] = -np.inf
    failures += run_case(args, "masked-rows", rand(1, 3, 64, 40), rand(1, 3, 200, 40),
                         rand(1, 3, 200, 24), full, False, 0.3, False)
    # Heads read in place out of a merged product, batch 2, grouped-query.
    failures += heads_in_place_case(args, "heads-in-place", 2, 70, 4, 2, 32)
    # timm's ViT layout (197 tokens: partial tiles of queries and keys).
    failures += timm_qkv_case(args, "timm-qkv", 2, 197, 3, 64)
    print("attention numerics:", "FAIL" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
