#!/usr/bin/python3
"""Runs a model in the ONNX backend-test layout (model.onnx +
test_data_set_0/{input,output}_K.pb) through sinter's import and linalg
lowering, JIT-executes it with mlir-runner, and compares every output with
the reference: fails where |out - ref| > atol + rtol * |ref| for any element
(numpy's rule), and prints the max abs error and ||out - ref|| / ||ref||.

A second path to the compiled artifacts that check_artifact.py tests: it
involves no runtime, and op_numerics.py uses its harness for single ops.

  run_model.py --bin build/bin --model test/models/gpt-tiny
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

LLVM_BIN = "/usr/lib/llvm-22/bin"
LLVM_LIB = "/usr/lib/llvm-22/lib"
# sinterc's CPU pipeline (codegen/CpuPipeline.cpp) without the runtime's
# kernels: attention and matmuls as contractions, norms as reductions. The
# JIT has no runtime to give it the kernels (artifacts test those,
# test/e2e/attention_numerics.py, norm_numerics.py, matmul_numerics.py).
PIPELINE = ["--sinter-cpu-pipeline=flash-attention=false norm-kernel=false "
            "matmul-kernel=false"]
MLIR_TYPES = {np.float32: "f32", np.float16: "f16", np.float64: "f64",
              np.int64: "i64", np.int32: "i32", np.int16: "i16", np.int8: "i8",
              np.bool_: "i1"}


def tensor_type(shape, element):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def bool_literal(array):
    if array.ndim == 0:
        return "true" if array else "false"
    return "[" + ", ".join(bool_literal(a) for a in array) + "]"


def dense(array):
    element = MLIR_TYPES[array.dtype.type]
    if element == "i1":
        return f"dense<{bool_literal(array)}> : {tensor_type(array.shape, element)}"
    return f'dense<"0x{array.astype(array.dtype.newbyteorder("<")).tobytes().hex().upper()}"> : ' \
           f"{tensor_type(array.shape, element)}"


def signature(module_text, name="main"):
    """The argument and result tensor types of @name, as written."""
    match = re.search(r"func\.func @" + name + r"\((.*?)\)( -> (.*?))? \{\n", module_text)
    args = re.findall(r"tensor<[^>]*>", match.group(1))
    results = re.findall(r"tensor<[^>]*>", match.group(3) or "")
    return args, results


def entry_function(inputs, outputs, arg_types=None, result_types=None):
    """@entry: calls @main on `inputs` (constants) and prints every output,
    floats as f32 and integers and booleans as i64 (the printers MLIR's
    runtime has). Argument and result types default to the arrays' own."""
    arg_types = arg_types or [tensor_type(a.shape, MLIR_TYPES[a.dtype.type]) for a in inputs]
    result_types = result_types or [tensor_type(o.shape, MLIR_TYPES[o.dtype.type]) for o in outputs]
    lines = ["func.func private @printMemrefF32(tensor<*xf32>)",
             "func.func private @printMemrefI64(tensor<*xi64>)",
             "func.func @entry() {"]
    args = []
    for i, (array, arg_type) in enumerate(zip(inputs, arg_types)):
        static = tensor_type(array.shape, MLIR_TYPES[array.dtype.type])
        lines.append(f"  %in{i} = arith.constant {dense(array)}")
        if static != arg_type:
            lines.append(f"  %in{i}c = tensor.cast %in{i} : {static} to {arg_type}")
            args.append(f"%in{i}c")
        else:
            args.append(f"%in{i}")
    results = ", ".join(f"%out{i}" for i in range(len(outputs)))
    lines.append(f"  {results} = call @main({', '.join(args)}) : "
                 f"({', '.join(arg_types)}) -> ({', '.join(result_types)})")
    for i, (array, result_type) in enumerate(zip(outputs, result_types)):
        element = MLIR_TYPES[array.dtype.type]
        static = tensor_type(array.shape, element)
        value = f"%out{i}"
        if static != result_type:
            lines.append(f"  %s{i} = tensor.cast {value} : {result_type} to {static}")
            value = f"%s{i}"
        printed = "f32" if element in ("f32", "f16", "f64") else "i64"
        if element != printed:
            target = tensor_type(array.shape, printed)
            lines.append(f"  %p{i} = sinter.cast {value} : {static} to {target}")
            value, static = f"%p{i}", target
        lines.append(f"  %u{i} = tensor.cast {value} : {static} to tensor<*x{printed}>")
        printer = "printMemrefF32" if printed == "f32" else "printMemrefI64"
        lines.append(f"  call @{printer}(%u{i}) : (tensor<*x{printed}>) -> ()")
    lines.append("  return")
    lines.append("}")
    return "\n".join(lines)


def wrap_module(imported, inputs, outputs):
    """sinterc's module with @entry added before its resources."""
    arg_types, result_types = signature(imported)
    resources = imported.find("{-#")
    head, tail = (imported, "") if resources < 0 else (imported[:resources], imported[resources:])
    head = head.rstrip()
    assert head.endswith("}"), "sinterc's module must end with '}'"
    return head[:-1] + entry_function(inputs, outputs, arg_types, result_types) + "\n}\n" + tail


def parse_printed(text, count):
    """The data of each printMemref call, in order."""
    blocks = re.split(r"Unranked Memref[^\n]*data = \n", text)[1:]
    if len(blocks) != count:
        raise RuntimeError(f"expected {count} printed outputs, got {len(blocks)}:\n{text[-2000:]}")
    values = []
    for block in blocks:
        numbers = re.findall(r"[-+]?(?:nan|inf|\d+\.?\d*(?:e[-+]?\d+)?)", block)
        values.append(np.array([float(n) for n in numbers]))
    return values


def jit_run(bin_dir, module_text, outputs):
    """Lowers `module_text` (a module with an @entry that prints
    `len(outputs)` results) and runs it; returns the printed arrays, or
    raises RuntimeError with the tool's message."""
    with tempfile.TemporaryDirectory() as work:
        source = os.path.join(work, "model.mlir")
        lowered = os.path.join(work, "lowered.mlir")
        with open(source, "w") as f:
            f.write(module_text)
        opt = subprocess.run([os.path.join(bin_dir, "sinter-opt"), source, "-o", lowered]
                             + PIPELINE, capture_output=True, text=True)
        if opt.returncode != 0:
            raise RuntimeError(opt.stderr[-3000:])
        run = subprocess.run(
            [os.path.join(LLVM_BIN, "mlir-runner"), lowered, "-e", "entry",
             "-entry-point-result=void",
             f"-shared-libs={LLVM_LIB}/libmlir_runner_utils.so,{LLVM_LIB}/libmlir_c_runner_utils.so"],
            capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(run.stderr[-3000:])
    return parse_printed(run.stdout, len(outputs))


def compare(name, out, ref, atol, rtol):
    """numpy's allclose rule, with the error figures printed."""
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if out.size != ref.size:
        print(f"{name}: {out.size} values, reference has {ref.size}")
        return False
    error = np.abs(out - ref)
    bad = error > atol + rtol * np.abs(ref)
    relative = np.linalg.norm(out - ref) / max(np.linalg.norm(ref), 1e-30)
    print(f"{name}: {ref.size} values, max abs error {error.max() if error.size else 0:.3g}, "
          f"||out - ref|| / ||ref|| = {relative:.3g}, "
          f"{int(bad.sum())} beyond atol {atol} + rtol {rtol}")
    return not bad.any()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="sinter's build/bin")
    parser.add_argument("--model", required=True, help="folder with model.onnx")
    parser.add_argument("--atol", type=float, default=1e-5)
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()

    data = os.path.join(args.model, "test_data_set_0")
    load = lambda kind: [numpy_helper.to_array(onnx.load_tensor(p)) for p in
                         sorted(glob.glob(os.path.join(data, f"{kind}_*.pb")),
                                key=lambda p: int(re.findall(r"(\d+)\.pb$", p)[0]))]
    inputs, references = load("input"), load("output")
    imported = subprocess.run(
        [os.path.join(args.bin, "sinterc"), os.path.join(args.model, "model.onnx")],
        capture_output=True, text=True, check=True).stdout
    wrapped = wrap_module(imported, inputs, references)
    try:
        outputs = jit_run(args.bin, wrapped, references)
    except RuntimeError as error:
        print(error)
        print("0 passed, 1 failed")
        return 1
    ok = all(compare(f"output {i}", out, ref, args.atol, args.rtol)
             for i, (out, ref) in enumerate(zip(outputs, references)))
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
