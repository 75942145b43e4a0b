#!/usr/bin/python3
"""Numerical tests of the sinter -> linalg lowering, op by op: each case
builds a small graph on seeded random inputs, runs it through the lowering
and the JIT (run_model.jit_run), and compares with a reference written
independently here in numpy (the ONNX / PyTorch semantics of the op).

  op_numerics.py --bin build/bin
"""
import argparse
import sys

import numpy as np

from run_model import compare, dense, jit_run, tensor_type

RNG = np.random.default_rng(20261125)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def module(inputs, body, results):
    """@entry with `inputs` as constants %a0.., `body` (MLIR lines using
    them) and `results` = [(ssa name, numpy reference)] printed in order;
    returns the module text and the references."""
    lines = ["func.func private @printMemrefF32(tensor<*xf32>)",
             "func.func private @printMemrefI64(tensor<*xi64>)",
             "func.func @entry() {"]
    for i, array in enumerate(inputs):
        lines.append(f"  %a{i} = arith.constant {dense(array)}")
    lines += ["  " + line for line in body]
    for i, (name, ref) in enumerate(results):
        element = "i64" if ref.dtype == np.int64 else "f32"
        printer = "printMemrefI64" if element == "i64" else "printMemrefF32"
        lines.append(f"  %u{i} = tensor.cast {name} : {tensor_type(ref.shape, element)} "
                     f"to tensor<*x{element}>")
        lines.append(f"  call @{printer}(%u{i}) : (tensor<*x{element}>) -> ()")
    lines += ["  return", "}"]
    return "\n".join(lines), [ref for _, ref in results]


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention_ref(q, k, v, scale, mask=None, causal=False):
    group = q.shape[1] // k.shape[1]
    k = np.repeat(k, group, axis=1)
    v = np.repeat(v, group, axis=1)
    s = np.einsum("bhqd,bhkd->bhqk", q.astype(np.float64), k) * scale
    if mask is not None:
        s = s + mask
    if causal:
        sq, sk = s.shape[2], s.shape[3]
        future = np.arange(sk)[None, :] > np.arange(sq)[:, None] + (sk - sq)
        s = np.where(future, -np.inf, s)
    return np.einsum("bhqk,bhkd->bhqd", softmax(s, 3), v)


def case_attention():
    q, k, v = rand(1, 4, 5, 8), rand(1, 2, 7, 8), rand(1, 2, 7, 6)
    mask = rand(1, 1, 5, 7)
    t = lambda a: tensor_type(a.shape, "f32")
    body = [f"%o1 = sinter.attention %a0, %a1, %a2 mask %a3 causal scale 0.3 : "
            f"({t(q)}, {t(k)}, {t(v)}, {t(mask)}) -> tensor<1x4x5x6xf32>",
            f"%o2 = sinter.attention %a0, %a1, %a2 scale 1.25 : "
            f"({t(q)}, {t(k)}, {t(v)}) -> tensor<1x4x5x6xf32>"]
    return module([q, k, v, mask], body,
                  [("%o1", attention_ref(q, k, v, 0.3, mask, causal=True)),
                   ("%o2", attention_ref(q, k, v, 1.25))])


def conv_ref(x, w, b, strides, pads, dilations, group):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (xp.shape[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, m, oh, ow))
    per_group = m // group
    for o in range(m):
        g = o // per_group
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg,
                           i * strides[0]: i * strides[0] + dilations[0] * (kh - 1) + 1: dilations[0],
                           j * strides[1]: j * strides[1] + dilations[1] * (kw - 1) + 1: dilations[1]]
                out[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3)) + b[o]
    return out


def case_conv():
    x, w, b = rand(1, 4, 7, 6), rand(6, 2, 3, 2), rand(6)
    ref = conv_ref(x, w, b, (2, 1), (1, 2, 0, 1), (1, 2), 2)
    t = lambda a: tensor_type(a.shape, "f32")
    body = [f"%o = sinter.conv %a0, %a1, %a2 strides [2, 1] pads [1, 2, 0, 1] "
            f"dilations [1, 2] group 2 : ({t(x)}, {t(w)}, {t(b)}) -> {t(ref)}"]
    return module([x, w, b], body, [("%o", ref)])


def case_topk():
    x = np.array([[1.0, 3.0, 3.0, -2.0, 5.0, 0.5],
                  [2.0, 2.0, 2.0, 2.0, 1.0, 9.0]], dtype=np.float32)
    largest = np.argsort(-x, axis=1, kind="stable")[:, :3]
    smallest = np.argsort(x, axis=1, kind="stable")[:, :2]
    body = ["%v, %i = sinter.topk %a0 k 3 axis 1 : tensor<2x6xf32> -> tensor<2x3xf32>, tensor<2x3xi64>",
            "%sv, %si = sinter.topk %a0 k 2 axis 1 smallest : tensor<2x6xf32> -> tensor<2x2xf32>, tensor<2x2xi64>"]
    return module([x], body, [
        ("%v", np.take_along_axis(x, largest, 1)), ("%i", largest.astype(np.int64)),
        ("%sv", np.take_along_axis(x, smallest, 1)), ("%si", smallest.astype(np.int64))])


def case_scatter_gather():
    data = rand(3, 5)
    indices = np.array([[1, -1], [0, 0], [4, 2]], dtype=np.int64)
    updates = rand(3, 2)
    scattered = data.copy()
    for r in range(3):
        for c in range(2):  # later updates win
            scattered[r, indices[r, c] % 5] = updates[r, c]
    gathered = np.take_along_axis(data, indices % 5, axis=1)
    body = ["%s = sinter.scatter_elements %a0[%a1], %a2 axis 1 : "
            "(tensor<3x5xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x5xf32>",
            "%g = sinter.gather_elements %a0[%a1] axis 1 : "
            "(tensor<3x5xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>"]
    return module([data, indices, updates], body, [("%s", scattered), ("%g", gathered)])


def case_norms_and_activations():
    x, g, b = rand(3, 8), rand(8), rand(8)
    mean = x.mean(1, keepdims=True)
    var = ((x - mean) ** 2).mean(1, keepdims=True)
    layer = (x - mean) / np.sqrt(var + 1e-5) * g + b
    rms = x / np.sqrt((x.astype(np.float64) ** 2).mean(1, keepdims=True) + 1e-6) * g
    from math import erf, sqrt, pi
    gelu = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / sqrt(2))))(x.astype(np.float64))
    gelu_tanh = 0.5 * x * (1 + np.tanh(np.sqrt(2 / pi) * (x + 0.044715 * x ** 3)))
    log_softmax = np.log(softmax(x.astype(np.float64), 1))
    body = ["%ln = sinter.layer_norm %a0, %a1, %a2 axis 1 epsilon 1.0e-05 : "
            "(tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x8xf32>",
            "%rms = sinter.rms_norm %a0, %a1 axis 1 epsilon 1.0e-06 : "
            "(tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>",
            "%ge = sinter.gelu %a0 approximate none : tensor<3x8xf32>",
            "%gt = sinter.gelu %a0 approximate tanh : tensor<3x8xf32>",
            "%ls = sinter.log_softmax %a0 axis 1 : tensor<3x8xf32>"]
    return module([x, g, b], body, [("%ln", layer), ("%rms", rms), ("%ge", gelu),
                                    ("%gt", gelu_tanh), ("%ls", log_softmax)])


def case_sequences():
    x = rand(2, 5, 5)
    m = rand(2, 6)
    start, limit, delta = np.array(2, np.int64), np.array(11, np.int64), np.array(3, np.int64)
    fstart, flimit, fdelta = (np.array(v, np.float32) for v in (0.5, -1.0, -0.25))
    body = ["%lo = sinter.trilu %a0 k 1 : tensor<2x5x5xf32>",
            "%up = sinter.trilu %a0 k -1 upper : tensor<2x5x5xf32>",
            "%cs = sinter.cumsum %a1 axis 1 : tensor<2x6xf32>",
            "%cx = sinter.cumsum %a1 axis 1 exclusive reverse : tensor<2x6xf32>",
            # Dynamic lengths: computed at run time from the scalars.
            "%r = sinter.range %a2, %a3, %a4 : tensor<i64> -> tensor<?xi64>",
            "%rs = tensor.cast %r : tensor<?xi64> to tensor<3xi64>",
            "%f = sinter.range %a5, %a6, %a7 : tensor<f32> -> tensor<?xf32>",
            "%fs = tensor.cast %f : tensor<?xf32> to tensor<6xf32>"]
    reverse_exclusive = np.flip(np.cumsum(np.flip(m, 1), 1), 1) - m
    return module([x, m, start, limit, delta, fstart, flimit, fdelta], body, [
        ("%lo", np.tril(x, 1)), ("%up", np.triu(x, -1)),
        ("%cs", np.cumsum(m, 1)), ("%cx", reverse_exclusive),
        ("%rs", np.arange(2, 11, 3, dtype=np.int64)),
        ("%fs", np.arange(0.5, -1.0, -0.25, dtype=np.float64))])


def case_rounding():
    # Halves (ties to even for round), negatives, and values far from 0.
    x = np.array([[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.7, -3.7],
                  [0.49999997, -0.49999997, 1e7 + 0.5, -1e-3, 0.0, 7.0, -7.25, 2.75]],
                 np.float32)
    body = ["%fl = sinter.floor %a0 : tensor<2x8xf32>",
            "%ce = sinter.ceil %a0 : tensor<2x8xf32>",
            "%ro = sinter.round %a0 : tensor<2x8xf32>"]
    return module([x], body, [("%fl", np.floor(x)), ("%ce", np.ceil(x)),
                              ("%ro", np.rint(x))])


def rotary_ref(x, cos, sin, interleaved):
    half = cos.shape[-1]
    out = x.astype(np.float64).copy()
    if interleaved:
        a, b = x[..., 0:2 * half:2], x[..., 1:2 * half:2]
        out[..., 0:2 * half:2] = a * cos - b * sin
        out[..., 1:2 * half:2] = b * cos + a * sin
    else:
        a, b = x[..., :half], x[..., half:2 * half]
        out[..., :half] = a * cos - b * sin
        out[..., half:2 * half] = b * cos + a * sin
    return out


def case_rotary():
    x = rand(1, 2, 5, 8)
    angles = RNG.uniform(0, 6, (5, 3)).astype(np.float32)  # rotary dim 6 < 8
    cos, sin = np.cos(angles), np.sin(angles)
    body = ["%rh = sinter.rotary_embedding %a0, %a1, %a2 : (tensor<1x2x5x8xf32>, "
            "tensor<5x3xf32>, tensor<5x3xf32>) -> tensor<1x2x5x8xf32>",
            "%il = sinter.rotary_embedding %a0, %a1, %a2 interleaved : (tensor<1x2x5x8xf32>, "
            "tensor<5x3xf32>, tensor<5x3xf32>) -> tensor<1x2x5x8xf32>"]
    return module([x, cos, sin], body, [("%rh", rotary_ref(x, cos, sin, False)),
                                        ("%il", rotary_ref(x, cos, sin, True))])


CASES = [case_sequences, case_rotary, case_attention, case_conv, case_topk, case_scatter_gather,
         case_norms_and_activations, case_rounding]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    passed = failed = 0
    for case in CASES:
        text, refs = case()
        try:
            outputs = jit_run(args.bin, text, refs)
            ok = all(compare(f"{case.__name__}[{i}]", out, ref, 1e-5, 1e-4)
                     for i, (out, ref) in enumerate(zip(outputs, refs)))
        except RuntimeError as error:
            print(f"{case.__name__}: {error}")
            ok = False
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
