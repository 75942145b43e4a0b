#!/usr/bin/env python3
"""Runs a compiled sinter artifact through its C API with ctypes: loads
ARTIFACT.so and its weights, feeds input_K.npy from --data, checks the
outputs against output_K.npy (|out - ref| <= atol + rtol |ref| for every
element, and prints ||out - ref|| / ||ref||), and times --runs runs after
--warmup (median, min, max in ms).

It needs Python 3 and numpy only: it is what runs CUDA artifacts on the GPU
machine, which has no MLIR and so no sinter-run (prepare.py compiles the
artifacts and converts the test data here). It runs CPU artifacts the same
way.

  run_artifact.py out/gpt_tiny.so --data out/gpt_tiny.data [--runs 20] [--json]
"""
import argparse
import ctypes
import glob
import json
import os
import re
import sys
import time

import numpy as np

# sinter_dtype (ONNX's numbering) of each numpy dtype.
DTYPES = {
    np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3,
    np.dtype(np.uint16): 4, np.dtype(np.int16): 5, np.dtype(np.int32): 6,
    np.dtype(np.int64): 7, np.dtype(np.bool_): 9, np.dtype(np.float16): 10,
    np.dtype(np.float64): 11, np.dtype(np.uint32): 12, np.dtype(np.uint64): 13,
}
NUMPY = {code: dtype for dtype, code in DTYPES.items()}


class Tensor(ctypes.Structure):
    """sinter_tensor (runtime/include/sinter/types.h)."""
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64))]


class Model:
    def __init__(self, library, weights, threads):
        self.lib = ctypes.CDLL(os.path.abspath(library))
        name = ctypes.cast(ctypes.addressof(
            ctypes.c_char.in_dll(self.lib, "sinter_artifact_name")),
            ctypes.c_char_p).value.decode()
        self.api = lambda suffix: getattr(self.lib, f"{name}_{suffix}")
        self.api("error").restype = ctypes.c_char_p
        self.api("error").argtypes = [ctypes.c_void_p]
        self.api("load").argtypes = [ctypes.c_char_p, ctypes.c_int,
                                     ctypes.POINTER(ctypes.c_void_p)]
        self.api("run").argtypes = [ctypes.c_void_p, ctypes.POINTER(Tensor),
                                    ctypes.c_int, ctypes.POINTER(Tensor),
                                    ctypes.c_int]
        self.api("free").argtypes = [ctypes.c_void_p]
        for suffix in ("num_inputs", "num_outputs"):
            self.api(suffix).argtypes = [ctypes.c_void_p]
        self.session = ctypes.c_void_p()
        status = self.api("load")(weights.encode(), threads,
                                  ctypes.byref(self.session))
        if status != 0:
            raise RuntimeError(self.error())
        self.num_outputs = self.api("num_outputs")(self.session)

    def error(self):
        return self.api("error")(self.session).decode()

    def run(self, arrays):
        inputs = (Tensor * len(arrays))()
        shapes = []
        for tensor, array in zip(inputs, arrays):
            shape = (ctypes.c_int64 * max(array.ndim, 1))(*array.shape)
            shapes.append(shape)
            tensor.data = array.ctypes.data
            tensor.dtype = DTYPES[array.dtype]
            tensor.rank = array.ndim
            tensor.shape = shape
        outputs = (Tensor * self.num_outputs)()
        status = self.api("run")(self.session, inputs, len(arrays), outputs,
                                 self.num_outputs)
        if status != 0:
            raise RuntimeError(self.error())
        results = []
        for tensor in outputs:
            shape = tuple(tensor.shape[d] for d in range(tensor.rank))
            dtype = NUMPY[tensor.dtype]
            count = int(np.prod(shape))
            buffer = (ctypes.c_char * (count * dtype.itemsize)).from_address(
                tensor.data) if count else b""
            results.append(np.frombuffer(buffer, dtype=dtype).reshape(shape).copy())
        return results

    def close(self):
        self.api("free")(self.session)


def numbered(folder, prefix):
    paths = glob.glob(os.path.join(folder, f"{prefix}_*.npy"))
    return sorted(paths, key=lambda p: int(re.findall(r"_(\d+)\.npy$", p)[0]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("artifact", help="the artifact's .so")
    parser.add_argument("--data", required=True,
                        help="folder with input_K.npy (and output_K.npy)")
    parser.add_argument("--weights", help="default: the .so's .weights")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--atol", type=float, default=1e-5)
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    weights = args.weights or re.sub(r"\.so$", "", args.artifact) + ".weights"
    inputs = [np.ascontiguousarray(np.load(p)) for p in numbered(args.data, "input")]
    references = [np.load(p) for p in numbered(args.data, "output")]
    report = {"artifact": os.path.basename(args.artifact)}
    try:
        model = Model(args.artifact, weights, args.threads)
        outputs = model.run(inputs)
        for _ in range(args.warmup):
            model.run(inputs)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            model.run(inputs)
            times.append((time.perf_counter() - start) * 1e3)
        model.close()
    except RuntimeError as error:
        print(f"{args.artifact}: {error}", file=sys.stderr)
        return 1
    times.sort()
    report.update(median_ms=times[len(times) // 2] if times else None,
                  min_ms=times[0] if times else None,
                  max_ms=times[-1] if times else None, outputs=[])
    passed = True
    for k, (out, ref) in enumerate(zip(outputs, references)):
        if out.shape != ref.shape:
            report["outputs"].append({"index": k, "error": f"shape {out.shape}, "
                                      f"reference {ref.shape}"})
            passed = False
            continue
        diff = np.abs(out.astype(np.float64) - ref.astype(np.float64))
        norm = np.linalg.norm(ref.astype(np.float64))
        ok = bool(np.all(diff <= args.atol + args.rtol * np.abs(ref)))
        report["outputs"].append({
            "index": k, "max_abs_error": float(diff.max()) if diff.size else 0.0,
            "relative_error": float(np.linalg.norm(diff) / norm) if norm else 0.0,
            "pass": ok})
        passed &= ok
    if len(references) not in (0, len(outputs)):
        passed = False
        report["error"] = f"{len(references)} references for {len(outputs)} outputs"
    report["pass"] = passed
    if args.json:
        print(json.dumps(report))
    else:
        for o in report["outputs"]:
            print(f"output {o['index']}: " + (o.get("error") or
                  f"max abs error {o['max_abs_error']:.3g}, |out - ref|/|ref| "
                  f"{o['relative_error']:.3g} {'PASS' if o['pass'] else 'FAIL'}"))
        if times:
            print(f"median {report['median_ms']:.3f} ms, min {report['min_ms']:.3f}, "
                  f"max {report['max_ms']:.3f} ({args.runs} runs)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
