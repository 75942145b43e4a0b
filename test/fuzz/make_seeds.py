#!/usr/bin/env python3
"""Writes raw seed inputs for the fuzz targets (targets/*.cpp) into
OUT/<target>/, from inputs this project and Debian already have:

  model-file         libonnx-testdata's node-test models (one per operator
                     family) and small real models, the ONNX text and .mlir
                     graphs of test/lit, and a model whose weights are
                     external data
  onnx-graph         random choice bytes (the target builds the graph)
  runtime-load       the descriptors of artifacts in a build folder, with a
                     small weights file, checksums left to the target (@SUM@)
  sample-files       .npy, TensorProto and token-id files of every dtype
  calibration-stats  stats files in the format of sinterc --calibrate, with
                     and without sampled rows

The committed corpora (corpus/) are these seeds minimized by a libFuzzer
merge (README.md); rerun this only to rebuild them.
Usage: make_seeds.py OUT [--build BUILD_DIR]
"""
import argparse
import glob
import io
import os
import random
import re
import struct
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTDATA = "/usr/share/libonnx-testdata/data"
EXTERNAL_SEPARATOR = b"\n--sinter-fuzz-external-data--\n"
PART_SEPARATOR = b"\n--sinter-fuzz-part--\n"
ROWS_SEPARATOR = b"\n--sinter-fuzz-rows--\n"


def files_under(folder, suffix):
    """Files named *suffix under folder; os.walk, not glob's "**", which
    follows test/lit's symlinks (one points outside the tree on purpose)."""
    found = []
    for parent, _, names in os.walk(folder):
        found += [os.path.join(parent, n) for n in names if n.endswith(suffix)]
    return sorted(found)


def write(out, target, name, data):
    folder = os.path.join(out, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def model_file_seeds(out):
    # One node test per operator (the first of each name), small models of
    # the suites: every converter starts from a valid model of its own.
    seen = set()
    for path in sorted(glob.glob(f"{TESTDATA}/node/*/model.onnx")):
        test = os.path.basename(os.path.dirname(path))
        op = re.sub(r"^test_", "", test).split("_")[0]
        if op in seen or os.path.getsize(path) > 4096:
            continue
        seen.add(op)
        write(out, "model-file", f"node-{test}", b"\0" + open(path, "rb").read())
    for path in sorted(glob.glob(f"{TESTDATA}/simple/*/model.onnx") +
                       glob.glob(f"{TESTDATA}/pytorch-operator/*/model.onnx")):
        if os.path.getsize(path) <= 8192:
            name = os.path.basename(os.path.dirname(path))
            write(out, "model-file", f"suite-{name}", b"\0" + open(path, "rb").read())
    for path in files_under(f"{ROOT}/test/lit", ".onnxtext"):
        write(out, "model-file", "text-" + os.path.basename(path),
              b"\1" + open(path, "rb").read())
    for path in (files_under(f"{ROOT}/test/lit/frontend", ".mlir") +
                 files_under(f"{ROOT}/test/lit/examples", ".mlir")):
        if os.path.getsize(path) <= 8192:
            write(out, "model-file", "mlir-" + os.path.basename(path),
                  b"\2" + open(path, "rb").read())
    # External data: a MatMul whose weight lives in weights.bin.
    weight = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(3, 4), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "external",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.onnx")
        onnx.save_model(model, path, save_as_external_data=True,
                        all_tensors_to_one_file=True, location="weights.bin",
                        size_threshold=0)
        data = open(path, "rb").read()
        weights = open(os.path.join(tmp, "weights.bin"), "rb").read()
    write(out, "model-file", "external-data", b"\0" + data + EXTERNAL_SEPARATOR + weights)


def onnx_graph_seeds(out):
    rng = random.Random(1)
    for i in range(64):
        write(out, "onnx-graph", f"random-{i}",
              bytes(rng.randrange(256) for _ in range(rng.choice([32, 96, 256]))))


def runtime_seeds(out, build):
    descriptors = set()
    for so in files_under(f"{build}/test", ".so"):
        text = subprocess.run(["strings", "-n", "3", so], capture_output=True,
                              text=True).stdout
        for match in re.finditer(r"^sinter-model 1\n.*?^end$", text, re.S | re.M):
            descriptor = re.sub(r"^weights \d+ [0-9a-fA-F]+$", "weights @SIZE@ @SUM@",
                                match.group(0), flags=re.M)
            descriptor = re.sub(r"^name .*$", "name m", descriptor, flags=re.M)
            descriptors.add(descriptor + "\n")
    # Keep one descriptor per set of keywords and dynamic-dimension use.
    kept = {}
    for d in sorted(descriptors, key=len):
        key = (tuple(sorted(set(re.findall(r"^(\w+)", d, re.M)))), "?" in d,
               d.count("\ninput "))
        kept.setdefault(key, d)
    header = struct.pack("<8sIIQQQ", b"SINTRWGT", 1, 0, 64, 256, 0).ljust(64, b"\0")
    weights = header + bytes(range(256))
    for i, d in enumerate(sorted(kept.values())):
        ids = bytes([3, 1, 0, 2, 7, 5, 200, 255] * 4)
        write(out, "runtime-load", f"descriptor-{i}",
              b"\1" + d.encode() + PART_SEPARATOR + weights + PART_SEPARATOR + ids)


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def sample_seeds(out):
    arrays = [np.zeros((), np.float32), np.arange(6, dtype=np.int64).reshape(2, 3),
              np.ones((1, 4), np.float16), np.array([True, False]),
              np.arange(4, dtype=np.int32), np.arange(3, dtype=np.uint8),
              np.arange(2, dtype=np.float64), np.zeros((2, 0, 3), np.float32)]
    for i, a in enumerate(arrays):
        write(out, "sample-files", f"npy-{i}", b"\0" + npy(a))
        write(out, "sample-files", f"npy-fortran-{i}", b"\0" + npy(np.asfortranarray(a)))
        write(out, "sample-files", f"pb-{i}",
              b"\1" + numpy_helper.from_array(a, "x").SerializeToString())
    raw = TensorProto(name="r", data_type=TensorProto.FLOAT, dims=[2, 2],
                      float_data=[1, 2, 3, 4])
    write(out, "sample-files", "pb-float-data", b"\1" + raw.SerializeToString())
    write(out, "sample-files", "tokens", b"\2" + b"1 2 3\n40 5\n\n 6 7 8 9 10\n")


def stats_seeds(out):
    probe = ('{"name": "p%d", "kind": "tensor", "consumers": [{"op": "sinter.linear", '
             '"name": "layer%d"}], "min": -1.5, "max": 2.0, '
             '"channel_abs_max": [1, 2], "channel_abs_mean": [0.5, 1], '
             '"channel_mean": [0, 0.1], "channel_mean_square": [1, 2]%s}')
    plain = ('{"format": "sinter-calibration-stats", "version": 1, "tensors": [%s]}'
             % ", ".join(probe % (i, i, "") for i in range(2)))
    write(out, "calibration-stats", "plain", plain.encode())
    sampled = ('{"format": "sinter-calibration-stats", "version": 1, '
               '"samples_file": "rows.bin", "tensors": [%s]}'
               % (probe % (0, 0, ', "sample_rows": 2, "sample_offset": 0')))
    write(out, "calibration-stats", "sampled",
          sampled.encode() + ROWS_SEPARATOR + struct.pack("<4f", 1, 2, 3, 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    model_file_seeds(args.out)
    onnx_graph_seeds(args.out)
    runtime_seeds(args.out, args.build)
    sample_seeds(args.out)
    stats_seeds(args.out)
    for target in sorted(os.listdir(args.out)):
        print(target, len(os.listdir(os.path.join(args.out, target))), "seeds")


if __name__ == "__main__":
    main()
