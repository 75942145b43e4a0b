"""W8A8 (sinterc --quantize=w8a8) against the same rounding written again in
numpy, on models whose quantized layers read the model's inputs, so that
both sides round the same activations: the int8 kernel must match the
reference to f32 rounding (atol 1e-5, rtol 1e-4), at 1 and 2 threads.

The reference follows docs/quantization.md: weights symmetric int8 per
output column with bfloat16 scales rounded up from max|w| / 127, biases as
bfloat16; activations symmetric int8, with
- dynamic scales (no calibration): per row, s = max|x_row| / 127 in f32,
  q = clip(rint(x / s), -127, 127), 0 for a row of zeros;
- static scales (--calibrate): one per tensor, s = max|x| / 127 over the
  calibration samples, q = clip(rint(x / s), -128, 127) (values beyond the
  calibrated range saturate); the evaluated inputs go beyond it.
The products are exact integers, scaled by s_x s_w, plus the bias.

The layers cover the kernel's two routes (one row streams the weight; more
rows take the packed GEMM, across its 6-row, 16-column and 512-k blocks
with an odd depth), a bias and none, a 2-D Gemm with transB, a row of
zeros and a row with an outlier.

Usage: w8a8_numerics.py --bin build/bin --work DIR
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quantize_numerics import bf16_nearest, bf16_up  # noqa: E402

RNG = np.random.default_rng(11)
K = 515


def quantized_weight(w):
    """int8 q and f32 scales of w [K, N] per output column (axis 1)."""
    s = bf16_up(np.abs(w).max(axis=0) / np.float32(127))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.clip(np.rint(w / s), -127, 127)
    q = np.where(s == 0, 0, q).astype(np.int64)
    return q, s.astype(np.float64)


def dynamic_rows(x):
    """int8 rows of x and their scales (last axis)."""
    m = np.abs(x).max(axis=-1, keepdims=True).astype(np.float32)
    s = m / np.float32(127)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.clip(np.rint(x / s), -127, 127)
    q = np.where(s == 0, 0, q).astype(np.int64)
    return q, s.astype(np.float64)


def static_tensor(x, largest):
    s = np.float32(largest) / np.float32(127)
    q = np.clip(np.rint(x / s), -128, 127).astype(np.int64)
    return q, np.float64(s)


def layer(q, s_x, wq, s_w, bias):
    y = (q @ wq).astype(np.float64) * s_x * s_w[None, :]
    if bias is not None:
        y = y + bf16_nearest(bias).astype(np.float64)
    return y.astype(np.float32)


def build_model(path):
    """x [3, 37, K] @ W1 + b1; t [1, 1, K] @ W2; Gemm(u [7, 64], W3^T, b3)."""
    w1 = RNG.normal(size=(K, 300)).astype(np.float32) * 0.05
    b1 = RNG.normal(size=300).astype(np.float32)
    w2 = RNG.normal(size=(K, 70)).astype(np.float32) * 0.05
    w3 = RNG.normal(size=(48, 64)).astype(np.float32) * 0.1
    b3 = RNG.normal(size=48).astype(np.float32)
    w3[5] = 0.0  # a column of zeros: scale 0
    inits = [numpy_helper.from_array(v, n) for v, n in
             ((w1, "w1"), (b1, "b1"), (w2, "w2"), (w3, "w3"), (b3, "b3"))]
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["xw"], name="/fc1"),
             helper.make_node("Add", ["xw", "b1"], ["y1"], name="/fc1/add"),
             helper.make_node("MatMul", ["t", "w2"], ["y2"], name="/fc2"),
             helper.make_node("Gemm", ["u", "w3", "b3"], ["y3"], name="/fc3",
                              transB=1)]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 37, K]),
              helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 1, K]),
              helper.make_tensor_value_info("u", TensorProto.FLOAT, [7, 64])]
    outputs = [helper.make_tensor_value_info("y1", TensorProto.FLOAT, [3, 37, 300]),
               helper.make_tensor_value_info("y2", TensorProto.FLOAT, [1, 1, 70]),
               helper.make_tensor_value_info("y3", TensorProto.FLOAT, [7, 48])]
    graph = helper.make_graph(nodes, "w8a8", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return {"x": (w1, b1), "t": (w2, None), "u": (w3.T.copy(), b3)}


def sample_inputs(scale=1.0):
    x = RNG.normal(size=(3, 37, K)).astype(np.float32) * np.float32(scale)
    x[1, 4] = 0.0  # a row of zeros
    x[2, 9, 17] = 40.0 * scale  # an outlier
    t = RNG.normal(size=(1, 1, K)).astype(np.float32) * np.float32(scale)
    u = RNG.normal(size=(7, 64)).astype(np.float32) * np.float32(scale)
    return {"x": x, "t": t, "u": u}


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result.stdout


def save_inputs(folder, inputs):
    os.makedirs(folder, exist_ok=True)
    for i, name in enumerate(("x", "t", "u")):
        tensor = numpy_helper.from_array(inputs[name], name)
        with open(os.path.join(folder, f"input_{i}.pb"), "wb") as f:
            f.write(tensor.SerializeToString())


def check(bin_dir, stem, folder, expected, label):
    failures = 0
    for threads in (1, 2):
        out_dir = f"{stem}-out{threads}"
        run([os.path.join(bin_dir, "sinter-run"), stem + ".so", f"--data={folder}",
             f"--num-threads={threads}", f"--save-outputs={out_dir}"])
        for i, ref in enumerate(expected):
            out = np.load(os.path.join(out_dir, f"output_{i}.npy"))
            excess = np.abs(out - ref) - (1e-5 + 1e-4 * np.abs(ref))
            ok = out.shape == ref.shape and bool(np.all(excess <= 0))
            failures += not ok
            print(f"{label} {threads}t output {i}: max abs vs numpy "
                  f"{np.max(np.abs(out - ref)):.3g} {'ok' if ok else 'FAIL'}")
    return failures


def count_kernel_calls(sinterc, model_path, flags, label):
    """Every layer runs on the int8 kernel (not on dequantized floats)."""
    llvm = run([sinterc, model_path, "--quantize=w8a8", "--emit=llvm", "-o", "-"]
               + flags)
    calls = llvm.count("call void @_mlir_ciface_sinter_qmatmul_i8(")
    print(f"{label}: {calls} calls of the int8 kernel "
          f"{'ok' if calls == 3 else 'FAIL (expected 3)'}")
    return calls != 3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model_path = os.path.join(args.work, "w8a8.onnx")
    weights = build_model(model_path)
    sinterc = os.path.join(args.bin, "sinterc")
    failures = 0

    # Dynamic scales: no calibration.
    inputs = sample_inputs()
    folder = os.path.join(args.work, "data-dynamic")
    save_inputs(folder, inputs)
    expected = []
    for name in ("x", "t", "u"):
        w, b = weights[name]
        wq, sw = quantized_weight(w)
        q, sx = dynamic_rows(inputs[name])
        expected.append(layer(q, sx, wq, sw, b))
    stem = os.path.join(args.work, "dynamic")
    failures += count_kernel_calls(sinterc, model_path, [], "dynamic")
    run([sinterc, model_path, "--quantize=w8a8", "-o", stem])
    failures += check(args.bin, stem, folder, expected, "dynamic")

    # Static scales: calibrated on two samples; evaluated on inputs 1.5x
    # larger, so that some values saturate.
    calibration = os.path.join(args.work, "calibration")
    samples = [sample_inputs(), sample_inputs()]
    for i, sample in enumerate(samples):
        save_inputs(os.path.join(calibration, f"test_data_set_{i}"), sample)
    evaluated = sample_inputs(1.5)
    folder = os.path.join(args.work, "data-static")
    save_inputs(folder, evaluated)
    expected = []
    for name in ("x", "t", "u"):
        w, b = weights[name]
        wq, sw = quantized_weight(w)
        largest = max(float(np.abs(s[name]).max()) for s in samples)
        q, sx = static_tensor(evaluated[name], largest)
        expected.append(layer(q, sx, wq, sw, b))
    stem = os.path.join(args.work, "static")
    run([sinterc, model_path, "--quantize=w8a8", f"--calibrate={calibration}",
         "-o", stem])
    failures += count_kernel_calls(
        sinterc, model_path, [f"--calibration-stats={stem}.stats.json"], "static")
    failures += check(args.bin, stem, folder, expected, "static")

    print("PASS" if failures == 0 else f"FAIL: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
