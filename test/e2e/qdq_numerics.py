"""Already-quantized ONNX models against ONNX's semantics computed here in
numpy: a QDQ model (QuantizeLinear / DequantizeLinear on the activations,
DequantizeLinear of an int8 weight with per-channel scales) and ONNX
Runtime's MatMulNBits (4-bit and 8-bit blocks, with and without zero
points, K not a multiple of the block, a bias). Each model is built with
python3-onnx from known weights, compiled with sinterc and run with
sinter-run against the numpy outputs (atol 1e-5, rtol 1e-4), at 1 and 2
threads. The QDQ layer runs on the int8 x int8 kernel and the MatMulNBits
weights on the weight-only quantized kernel, which --stats cannot show; the
test checks the LLVM IR for their calls.

Usage: qdq_numerics.py --bin build/bin --work DIR
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(7)


def save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, path)


def qdq_model(path):
    """x -> Q/DQ (uint8, per tensor) -> MatMul by DQ(int8 W, per column)
    -> + b; the reference is ONNX's formulas."""
    x = RNG.normal(size=(4, 16)).astype(np.float32)
    w = RNG.integers(-127, 128, size=(16, 8)).astype(np.int8)
    w_scale = RNG.uniform(0.001, 0.02, size=8).astype(np.float32)
    b = RNG.normal(size=8).astype(np.float32)
    x_scale, x_zp = np.float32(0.03), np.uint8(128)
    inits = [numpy_helper.from_array(np.array(x_scale), "x_scale"),
             numpy_helper.from_array(np.array(x_zp), "x_zp"),
             numpy_helper.from_array(w, "w_q"),
             numpy_helper.from_array(w_scale, "w_scale"),
             numpy_helper.from_array(b, "b")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xd"]),
             helper.make_node("DequantizeLinear", ["w_q", "w_scale"], ["wd"], axis=1),
             helper.make_node("MatMul", ["xd", "wd"], ["y0"]),
             helper.make_node("Add", ["y0", "b"], ["y"])]
    graph = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [4, 16])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [4, 8])], inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    q = np.clip(np.rint(x / x_scale) + np.float32(x_zp), 0, 255)
    xd = ((q - np.float32(x_zp)) * x_scale).astype(np.float32)
    wd = (w.astype(np.float32) * w_scale[None, :]).astype(np.float32)
    y = (xd.astype(np.float64) @ wd.astype(np.float64) + b).astype(np.float32)
    return [x], [y]


def matmulnbits_model(path, bits, k, n, block, zero_points, bias):
    blocks = -(-k // block)
    q = RNG.integers(0, 2 ** bits, size=(n, blocks * block)).astype(np.uint8)
    q[:, k:] = 0  # padding past K
    scales = RNG.uniform(0.01, 0.1, size=(n, blocks)).astype(np.float32)
    zp = (RNG.integers(0, 2 ** bits, size=(n, blocks)).astype(np.uint8) if zero_points
          else np.full((n, blocks), 2 ** (bits - 1), np.uint8))
    if bits == 4:
        packed = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)
        zp_cols = -(-blocks // 2)
        zp_padded = np.zeros((n, zp_cols * 2), np.uint8)
        zp_padded[:, :blocks] = zp
        zp_packed = (zp_padded[:, 0::2] | (zp_padded[:, 1::2] << 4)).astype(np.uint8)
    else:
        packed, zp_packed = q, zp
    b_init = packed.reshape(n, blocks, block * bits // 8)
    a = RNG.normal(size=(3, k)).astype(np.float32)
    bias_v = RNG.normal(size=n).astype(np.float32)
    inits = [numpy_helper.from_array(b_init, "B"),
             numpy_helper.from_array(scales.reshape(-1), "scales")]
    inputs = ["A", "B", "scales"]
    if zero_points:
        inits.append(numpy_helper.from_array(zp_packed.reshape(-1), "zero_points"))
        inputs.append("zero_points")
    if bias:
        inputs += [""] * (5 - len(inputs)) + ["bias"]
        inits.append(numpy_helper.from_array(bias_v, "bias"))
    node = helper.make_node("MatMulNBits", inputs, ["Y"], domain="com.microsoft",
                            K=k, N=n, bits=bits, block_size=block)
    graph = helper.make_graph([node], "nbits", [helper.make_tensor_value_info(
        "A", TensorProto.FLOAT, [3, k])], [helper.make_tensor_value_info(
            "Y", TensorProto.FLOAT, [3, n])], inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    onnx.save(model, path)  # the checker does not know contrib operators
    w = ((q[:, :k].astype(np.float32) - np.repeat(zp, block, axis=1)[:, :k])
         * np.repeat(scales, block, axis=1)[:, :k]).astype(np.float32)
    y = a.astype(np.float64) @ w.T.astype(np.float64)
    if bias:
        y += bias_v
    return [a], [y.astype(np.float32)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    # The kernel each model must run on: the QDQ layer (uint8 activations
    # with a zero point, int8 weights per column) on the int8 x int8 one,
    # MatMulNBits on the weight-only one.
    cases = [("qdq", lambda p: qdq_model(p), "sinter_qmatmul_i8")]
    for bits, k, block, zp, bias in [(4, 40, 16, True, True), (4, 64, 32, False, False),
                                     (8, 48, 16, True, False), (4, 300, 128, True, True)]:
        name = f"nbits{bits}-k{k}-b{block}{'-zp' if zp else ''}{'-bias' if bias else ''}"
        cases.append((name, lambda p, a=(bits, k, 24, block, zp, bias):
                      matmulnbits_model(p, *a), "sinter_qmatmul_f32"))
    failures = 0
    for name, build, kernel in cases:
        stem = os.path.join(args.work, name)
        inputs, outputs = build(stem + ".onnx")
        files = []
        for kind, arrays in (("input", inputs), ("reference", outputs)):
            for i, array in enumerate(arrays):
                files.append(f"--{kind}={stem}-{kind}{i}.npy")
                np.save(f"{stem}-{kind}{i}.npy", array)
        compiled = subprocess.run([os.path.join(args.bin, "sinterc"), stem + ".onnx", "-o", stem],
                                  capture_output=True, text=True)
        if compiled.returncode != 0:
            print(f"{name}: compile FAILED\n{compiled.stderr}")
            failures += 1
            continue
        if kernel:
            ir = subprocess.run([os.path.join(args.bin, "sinterc"), stem + ".onnx",
                                 "--emit=llvm", "-o", "-"], capture_output=True, text=True)
            on_kernel = f"call void @_mlir_ciface_{kernel}(" in ir.stdout
            failures += not on_kernel
            print(f"{name}: {'runs on' if on_kernel else 'FAIL: not on'} {kernel}")
        for threads in (1, 2):
            run = subprocess.run([os.path.join(args.bin, "sinter-run"), stem + ".so",
                                  f"--num-threads={threads}"] + files,
                                 capture_output=True, text=True)
            errors = [l.split(":", 1)[1].strip() for l in run.stdout.splitlines()
                      if "max abs error" in l]
            print(f"{name} {threads} thread(s): {'ok' if run.returncode == 0 else 'FAIL'} "
                  f"{'; '.join(errors) if errors else run.stderr.strip()}")
            failures += run.returncode != 0
    print("PASS" if failures == 0 else f"FAIL: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
