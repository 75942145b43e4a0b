"""Quantization (sinterc --quantize) against an independent reference: this
script quantizes the model's initializers itself, with the rules of
docs/quantization.md written again in numpy (same groups, same bfloat16
scales rounded up, same round-half-to-even), writes the dequantized weights
into a copy of the ONNX model, and compiles that copy in f32. For weight-only
modes sinter's quantized kernels must match it to f32 rounding (atol 1e-5,
rtol 1e-4, the bar of the f32 models), at 1 and 2 threads: the only error
left against the original model is the quantization's, which is printed
with the weights file's size against f32 and checked against the bounds of
issue 8 (0.27x for w8 and w8a8, 0.16x for w4 in groups of 32).

For w8a8 the copy also rounds the input of every linear layer (MatMul or
Gemm by a 2-D initializer) per row in ONNX ops (ReduceMax of Abs, Div,
Round, Clip: docs/quantization.md's dynamic scales). Rounding to integers is
not continuous: the int8 kernel's sums differ from the reference's f32 sums
in the last bits, an activation that lies on a rounding boundary rounds the
other way, and from there the two differ by quantization noise in every
later layer (on the 2-layer tiny models they stay within 1e-4 of the
quantization error, on the 4-layer small ones 0.02-0.33 of it). So w8a8 is
held to what the rounding cannot move: its quantization error against the
f32 model within 10% of the reference's, and its distance from the
reference below the quantization error itself. The exact check of the
kernel, on layers that read the model's inputs, is w8a8_numerics.py.

Usage: quantize_numerics.py --bin build/bin --work DIR MODEL_DIR...
"""
import argparse
import math
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

MODES = [  # (label, sinterc flags, weights-size bound or None)
    ("w8", ["--quantize=w8"], 0.27),
    ("w4g32", ["--quantize=w4", "--group-size=32"], 0.16),
    ("w4g128", ["--quantize=w4", "--group-size=128"], None),
    ("w8a8", ["--quantize=w8a8"], 0.27),
]


def bf16_up(x):
    """float32 >= 0 rounded up to a bfloat16."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    up = np.where(bits & 0xFFFF, (bits & 0xFFFF0000) + 0x10000, bits)
    return up.astype(np.uint32).view(np.float32)


def bf16_nearest(x):
    """float32 rounded to the nearest bfloat16, ties to even."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32)


def fake_quantize(w, axis, group, bits):
    """w quantized in groups of `group` along `axis` and dequantized."""
    w = np.moveaxis(np.asarray(w, dtype=np.float32), axis, -1)
    n = w.shape[-1]
    group = n if group == 0 or group > n else group
    blocks = math.ceil(n / group)
    padded = np.pad(w, [(0, 0)] * (w.ndim - 1) + [(0, blocks * group - n)])
    g = padded.reshape(*w.shape[:-1], blocks, group)
    lo = np.minimum(g.min(-1), np.float32(0))
    hi = np.maximum(g.max(-1), np.float32(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        if bits == 8:
            s = bf16_up(np.maximum(-lo, hi) / np.float32(127))
            q = np.clip(np.rint(g / s[..., None]), -127, 127)
            q = np.where(s[..., None] == 0, 0, q).astype(np.float32)
            deq = q * s[..., None]
        else:
            s = bf16_up((hi - lo) / np.float32(15))
            zp = np.where(s == 0, 0, np.clip(np.rint(-lo / s), 0, 15)).astype(np.float32)
            q = np.clip(np.rint(g / s[..., None]) + zp[..., None], 0, 15)
            q = np.where(s[..., None] == 0, 0, q).astype(np.float32)
            deq = (q - zp[..., None]) * s[..., None]
    deq = deq.astype(np.float32).reshape(*w.shape[:-1], blocks * group)[..., :n]
    return np.moveaxis(deq, -1, axis)


def reference_model(model, bits, group):
    """A copy of `model` whose weights are quantized and dequantized by the
    rules of docs/quantization.md: contraction weights in groups along k,
    tables and position embeddings along their last axis, conv filters
    flattened per output channel, and the layers' vectors in bfloat16."""
    inits = {i.name: i for i in model.graph.initializer}
    plan = {}  # name -> ("groups", axis) | ("conv",) | ("bf16",)
    for node in model.graph.node:
        ins = list(node.input)

        def init(i):
            return ins[i] if i < len(ins) and ins[i] in inits else None

        def dims(name):
            return list(inits[name].dims)

        if node.op_type == "MatMul" and init(1) and len(dims(init(1))) >= 2:
            plan[init(1)] = ("groups", len(dims(init(1))) - 2)
        elif node.op_type == "Gemm":
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            if init(1):
                plan[init(1)] = ("groups", 1 if trans_b else 0)
            if init(2) and len(dims(init(2))) == 1 and dims(init(2))[0] >= 16:
                plan[init(2)] = ("bf16",)
        elif node.op_type == "Gather" and init(0) and len(dims(init(0))) >= 2:
            plan[init(0)] = ("groups", len(dims(init(0))) - 1)
        elif node.op_type == "Conv":
            if init(1):
                plan[init(1)] = ("conv",)
            if init(2) and dims(init(2))[0] >= 16:
                plan[init(2)] = ("bf16",)
        elif node.op_type in ("LayerNormalization", "Add", "Mul"):
            for name in filter(None, (init(i) for i in range(len(ins)))):
                shape = dims(name)
                if len(shape) == 1 and shape[0] >= 16:
                    plan.setdefault(name, ("bf16",))
                elif (node.op_type == "Add" and len(shape) >= 2
                      and np.prod(shape) >= 1024):
                    plan.setdefault(name, ("groups", len(shape) - 1))
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for tensor in copy.graph.initializer:
        if tensor.name not in plan or tensor.data_type != onnx.TensorProto.FLOAT:
            continue
        w = numpy_helper.to_array(tensor)
        kind = plan[tensor.name]
        if kind[0] == "groups":
            out = fake_quantize(w, kind[1], group, bits)
        elif kind[0] == "conv":
            out = fake_quantize(w.reshape(w.shape[0], -1), 1, group, bits).reshape(w.shape)
        else:
            out = bf16_nearest(w)
        tensor.CopyFrom(numpy_helper.from_array(out.astype(np.float32), tensor.name))
    return copy


def with_int8_activations(model):
    """`model` with the first input of every MatMul by a 2-D initializer
    (and every Gemm by an initializer) rounded to int8 per row and back."""
    inits = {i.name: list(i.dims) for i in model.graph.initializer}
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    nodes, extra = [], [
        numpy_helper.from_array(np.array(127, np.float32), "w8a8/127"),
        numpy_helper.from_array(np.array(-127, np.float32), "w8a8/-127"),
        numpy_helper.from_array(np.array(0, np.float32), "w8a8/0"),
        numpy_helper.from_array(np.array([-1], np.int64), "w8a8/axes")]
    for n, node in enumerate(model.graph.node):
        weight = node.input[1] if len(node.input) > 1 else ""
        if (node.op_type == "MatMul" and len(inits.get(weight, [])) == 2) or (
                node.op_type == "Gemm" and weight in inits):
            x, p = node.input[0], f"w8a8/{n}/"
            if opset >= 18:
                reduce = helper.make_node("ReduceMax", [p + "abs", "w8a8/axes"],
                                          [p + "max"], keepdims=1)
            else:
                reduce = helper.make_node("ReduceMax", [p + "abs"], [p + "max"],
                                          axes=[-1], keepdims=1)
            nodes += [
                helper.make_node("Abs", [x], [p + "abs"]), reduce,
                helper.make_node("Div", [p + "max", "w8a8/127"], [p + "s"]),
                helper.make_node("Div", [x, p + "s"], [p + "r"]),
                helper.make_node("Round", [p + "r"], [p + "rr"]),
                helper.make_node("Clip", [p + "rr", "w8a8/-127", "w8a8/127"], [p + "c"]),
                helper.make_node("Equal", [p + "s", "w8a8/0"], [p + "zero"]),
                helper.make_node("Where", [p + "zero", "w8a8/0", p + "c"], [p + "q"]),
                helper.make_node("Mul", [p + "q", p + "s"], [p + "x"])]
            node.input[0] = p + "x"
        nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    model.graph.initializer.extend(extra)
    return model


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result.stdout


def compile_and_run(bin_dir, onnx_path, stem, flags, data, threads):
    run([os.path.join(bin_dir, "sinterc"), onnx_path, "-o", stem] + flags)
    outputs = {}
    # The inputs alone: the data set's references are the f32 model's.
    inputs = [f"--input={os.path.join(data, f)}" for f in sorted(os.listdir(data))
              if f.startswith("input_")]
    for t in threads:
        out_dir = f"{stem}-out{t}"
        run([os.path.join(bin_dir, "sinter-run"), stem + ".so", f"--num-threads={t}",
             f"--save-outputs={out_dir}"] + inputs)
        outputs[t] = [np.load(os.path.join(out_dir, f))
                      for f in sorted(os.listdir(out_dir))]
    return outputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--modes", default=",".join(m[0] for m in MODES),
                        help="comma-separated subset of " +
                        ", ".join(m[0] for m in MODES))
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    failures = 0
    for model_dir in args.models:
        name = os.path.basename(os.path.normpath(model_dir))
        work = os.path.join(args.work, name)
        os.makedirs(work, exist_ok=True)
        model_path = os.path.join(model_dir, "model.onnx")
        data = os.path.join(model_dir, "test_data_set_0")
        model = onnx.load(model_path)
        originals = [numpy_helper.to_array(onnx.load_tensor(os.path.join(data, f)))
                     for f in sorted(os.listdir(data)) if f.startswith("output_")]
        fp32 = compile_and_run(args.bin, model_path, os.path.join(work, "f32"), [],
                               data, [1])
        fp32_bytes = os.path.getsize(os.path.join(work, "f32.weights"))
        for label, flags, bound in MODES:
            if label not in args.modes.split(","):
                continue
            bits = 8 if "w8" in label else 4
            group = 0 if bits == 8 else int(flags[1].split("=")[1])
            ref_path = os.path.join(work, f"{label}-reference.onnx")
            reference_onnx = reference_model(model, bits, group)
            if label == "w8a8":
                reference_onnx = with_int8_activations(reference_onnx)
            onnx.save(reference_onnx, ref_path)
            try:
                reference = compile_and_run(args.bin, ref_path,
                                            os.path.join(work, f"{label}-reference"),
                                            [], data, [1])[1]
                quantized = compile_and_run(args.bin, model_path,
                                            os.path.join(work, label), flags, data,
                                            [1, 2])
            except RuntimeError as error:
                print(f"{name} {label}: FAILED to compile or run\n{error}")
                failures += 1
                continue
            ratio = os.path.getsize(os.path.join(work, f"{label}.weights")) / fp32_bytes
            for threads, outs in quantized.items():
                for i, (out, ref) in enumerate(zip(outs, reference)):
                    if label == "w8a8":
                        orig = originals[i]
                        distance = np.linalg.norm(out - ref)
                        error = np.linalg.norm(out - orig)
                        ref_error = np.linalg.norm(ref - orig)
                        ok = bool(distance <= error and
                                  abs(error / ref_error - 1) <= 0.1)
                        failures += not ok
                        print(f"{name} {label} {threads}t output {i}: error vs f32 "
                              f"{error / ref_error:.3f}x the reference's, "
                              f"|out - ref| {distance / error:.3g} of it "
                              f"{'ok' if ok else 'FAIL'}")
                        continue
                    excess = np.abs(out - ref) - (1e-5 + 1e-4 * np.abs(ref))
                    ok = bool(np.all(excess <= 0))
                    failures += not ok
                    print(f"{name} {label} {threads}t output {i}: vs reference "
                          f"quantization max abs {np.max(np.abs(out - ref)):.3g} "
                          f"{'ok' if ok else 'FAIL'}")
            for i, (out, orig) in enumerate(zip(quantized[1], originals)):
                rel = np.linalg.norm(out - orig) / np.linalg.norm(orig)
                drift = np.linalg.norm(fp32[1][i] - orig) / np.linalg.norm(orig)
                print(f"{name} {label} output {i}: quantization error |out - f32 "
                      f"ref|/|ref| {rel:.3g} (f32 build {drift:.2g}), max abs "
                      f"{np.max(np.abs(out - orig)):.3g}")
            size_ok = bound is None or ratio <= bound
            failures += not size_ok
            print(f"{name} {label}: weights {ratio:.3f}x of f32"
                  + ("" if bound is None else f" (bound {bound}) {'ok' if size_ok else 'FAIL'}"))
    print("PASS" if failures == 0 else f"FAIL: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
