"""Indices the model computes, checked at run time (docs/runtime-abi.md,
"Inputs used as indices"): small graphs built with onnx.helper whose
Gather, GatherElements and ScatterElements read indices computed from the
inputs (an offset added to token ids, positions from Range over a dynamic
length, ArgMax, an input indexing a dimension of dynamic size). Each is
compiled with sinterc and run with sinter-run:

- with indices in range (negative ones included), the outputs must equal
  numpy's, computed here from the ONNX definitions;
- with an index outside [-size, size), sinter-run must exit 1 with the
  message that names the node, the index, its position and the range;
- compiled with --check-input-indices=false, the same out-of-range run
  goes through (exit 0): the check is what refuses it.

Usage: index_checks.py --bin build/bin --work DIR
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(5)
I64 = TensorProto.INT64
F32 = TensorProto.FLOAT


def save_model(path, nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def offset_gather(path):
    """rows = Gather(table, ids + 3): the ids are checked in the graph, not
    before the run (the runtime sees only ids, not ids + 3)."""
    table = RNG.standard_normal((16, 4)).astype(np.float32)
    save_model(path, [
        helper.make_node("Add", ["ids", "three"], ["shifted"], name="shift"),
        helper.make_node("Gather", ["table", "shifted"], ["rows"], name="lookup"),
    ], [helper.make_tensor_value_info("ids", I64, [2, 3])],
        [helper.make_tensor_value_info("rows", F32, [2, 3, 4])],
        [numpy_helper.from_array(table, "table"),
         numpy_helper.from_array(np.array(3, np.int64), "three")])
    return lambda ids: [np.take(table, ids + 3, axis=0)]


def position_gather(path):
    """out = x + Gather(positions, Range(0, len(x))): a sequence longer than
    the position table (8) is an index the model computes out of range."""
    positions = RNG.standard_normal((8, 4)).astype(np.float32)
    save_model(path, [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["length"], axis=0,
                         name="length"),
        helper.make_node("Range", ["zero", "length", "one"], ["steps"],
                         name="steps"),
        helper.make_node("Gather", ["positions", "steps"], ["embedded"],
                         name="position_lookup"),
        helper.make_node("Add", ["x", "embedded"], ["out"], name="add"),
    ], [helper.make_tensor_value_info("x", F32, ["sequence", 4])],
        [helper.make_tensor_value_info("out", F32, ["sequence", 4])],
        [numpy_helper.from_array(positions, "positions"),
         numpy_helper.from_array(np.array(0, np.int64), "zero"),
         numpy_helper.from_array(np.array(1, np.int64), "one")])
    return lambda x: [x + positions[:len(x)]]


def argmax_gather_elements(path):
    """picked = GatherElements(x, ArgMax(x, axis 1, keepdims) + shift):
    ArgMax's indices are in range; shifted they may not be."""
    save_model(path, [
        helper.make_node("ArgMax", ["x"], ["best"], axis=1, keepdims=1,
                         name="best"),
        helper.make_node("Add", ["best", "shift"], ["index"], name="move"),
        helper.make_node("GatherElements", ["x", "index"], ["picked"], axis=1,
                         name="pick"),
    ], [helper.make_tensor_value_info("x", F32, [3, 5]),
        helper.make_tensor_value_info("shift", I64, [3, 1])],
        [helper.make_tensor_value_info("picked", F32, [3, 1])])

    def reference(x, shift):
        index = np.argmax(x, axis=1)[:, None] + shift
        return [np.take_along_axis(x, np.where(index < 0, index + 5, index),
                                   axis=1)]
    return reference


def scatter_elements(path):
    """out = ScatterElements(zeros[4, 6], 5 - ids, updates, axis 1)."""
    save_model(path, [
        helper.make_node("Sub", ["five", "ids"], ["index"], name="mirror"),
        helper.make_node("ScatterElements", ["base", "index", "updates"],
                         ["out"], axis=1, name="scatter"),
    ], [helper.make_tensor_value_info("base", F32, [4, 6]),
        helper.make_tensor_value_info("ids", I64, [4, 2]),
        helper.make_tensor_value_info("updates", F32, [4, 2])],
        [helper.make_tensor_value_info("out", F32, [4, 6])],
        [numpy_helper.from_array(np.array(5, np.int64), "five")])

    def reference(base, ids, updates):
        out = base.copy()
        index = 5 - ids
        for i in range(index.shape[0]):
            for j in range(index.shape[1]):
                out[i, index[i, j]] = updates[i, j]
        return [out]
    return reference


def dynamic_table(path):
    """rows = Gather(table, ids) with the table an input of dynamic length:
    no bound before the run, so the graph checks the ids itself."""
    save_model(path, [
        helper.make_node("Gather", ["table", "ids"], ["rows"], name="lookup"),
    ], [helper.make_tensor_value_info("table", F32, ["n", 3]),
        helper.make_tensor_value_info("ids", I64, [4])],
        [helper.make_tensor_value_info("rows", F32, [4, 3])])
    return lambda table, ids: [np.take(table, ids, axis=0)]


def ids(values):
    return np.array(values, np.int64)


# name, model builder, [(case, inputs, expected message or None)]
CASES = [
    ("offset-gather", offset_gather, [
        ("in range", [ids([[0, 5, 12], [-19, -4, 1]])], None),
        ("past the end", [ids([[0, 1, 2], [3, 13, 4]])],
         "node 'lookup' (Gather) got the index 16 at [1, 1] of its "
         "indices, outside [-16, 16): it indexes a dimension of size 16"),
        ("far below", [ids([[0, -1000000000, 2], [3, 4, 5]])],
         "node 'lookup' (Gather) got the index -999999997 at [0, 1] of "
         "its indices, outside [-16, 16)"),
    ]),
    ("position-gather", position_gather, [
        ("5 positions", [RNG.standard_normal((5, 4)).astype(np.float32)], None),
        ("8 positions", [RNG.standard_normal((8, 4)).astype(np.float32)], None),
        ("11 positions", [RNG.standard_normal((11, 4)).astype(np.float32)],
         "node 'position_lookup' (Gather) got the index 8 at [8] of its "
         "indices, outside [-8, 8): it indexes a dimension of size 8"),
    ]),
    ("argmax-gather-elements", argmax_gather_elements, [
        ("no shift", [RNG.standard_normal((3, 5)).astype(np.float32),
                      ids([[0], [0], [0]])], None),
        ("shifted in range", [np.eye(3, 5, dtype=np.float32),
                              ids([[-3], [2], [-7]])], None),
        ("shifted out", [np.eye(3, 5, dtype=np.float32), ids([[0], [4], [0]])],
         "node 'pick' (GatherElements) got the index 5 at [1, 0] of its "
         "indices, outside [-5, 5)"),
    ]),
    ("scatter-elements", scatter_elements, [
        ("in range", [np.zeros((4, 6), np.float32),
                      ids([[0, 1], [2, 3], [4, 5], [5, 0]]),
                      RNG.standard_normal((4, 2)).astype(np.float32)], None),
        ("below", [np.zeros((4, 6), np.float32),
                   ids([[0, 1], [2, 3], [4, 12], [5, 0]]),
                   RNG.standard_normal((4, 2)).astype(np.float32)],
         "node 'scatter' (ScatterElements) got the index -7 at [2, 1] of "
         "its indices, outside [-6, 6)"),
    ]),
    ("dynamic-table", dynamic_table, [
        ("in range", [RNG.standard_normal((7, 3)).astype(np.float32),
                      ids([0, 6, -7, 3])], None),
        ("past the end", [RNG.standard_normal((7, 3)).astype(np.float32),
                          ids([0, 6, 7, 3])],
         "node 'lookup' (Gather) got the index 7 at [2] of its indices, "
         "outside [-7, 7): it indexes a dimension of size 7"),
    ]),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    sinterc = os.path.join(args.bin, "sinterc")
    sinter_run = os.path.join(args.bin, "sinter-run")
    failures = 0
    for name, build, cases in CASES:
        stem = os.path.join(args.work, name)
        reference = build(stem + ".onnx")
        for variant, flags in (("", []),
                               ("-unchecked", ["--check-input-indices=false"])):
            compiled = subprocess.run([sinterc, stem + ".onnx", "-o",
                                       stem + variant] + flags,
                                      capture_output=True, text=True)
            if compiled.returncode != 0:
                print(f"{name}{variant}: compile FAILED\n{compiled.stderr}")
                failures += 1
        for number, (case, inputs, message) in enumerate(cases):
            files = []
            for i, array in enumerate(inputs):
                files.append(f"--input={stem}-{number}-input{i}.npy")
                np.save(f"{stem}-{number}-input{i}.npy", array)
            if message is None:
                for i, array in enumerate(reference(*inputs)):
                    files.append(f"--reference={stem}-{number}-reference{i}.npy")
                    np.save(f"{stem}-{number}-reference{i}.npy", array)
            run = subprocess.run([sinter_run, stem + ".so", "--atol=1e-6",
                                  "--rtol=1e-6"] + files,
                                 capture_output=True, text=True)
            if message is None:
                ok = run.returncode == 0
                detail = "outputs equal numpy's" if ok else run.stdout + run.stderr
            else:
                ok = (run.returncode == 1 and
                      f"sinter-run: error: {message}" in run.stderr)
                detail = run.stderr.strip() or run.stdout.strip()
                # Without the check, the same run goes through.
                unchecked = subprocess.run([sinter_run, stem + "-unchecked.so"]
                                           + files, capture_output=True,
                                           text=True)
                if unchecked.returncode != 0:
                    ok = False
                    detail += ("\n  unchecked build exit "
                               f"{unchecked.returncode}: {unchecked.stderr}")
            print(f"{name}, {case}: {'ok' if ok else 'FAIL'}: {detail}")
            failures += not ok
    print("PASS" if failures == 0 else f"FAIL: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
