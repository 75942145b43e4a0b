#!/usr/bin/python3
"""Single-node ONNX models of what the ONNX 1.12 test data covers thinly or
not at all, compiled into artifacts (sinterc -o), run by sinter-run and
compared with references computed here in numpy on the same seeded inputs
(atol 1e-5, rtol 1e-4):

- Einsum, one model per equation: matrix products, transposes, sums,
  diagonals, outer products, broadcast ellipses, three operands, implicit
  outputs (numpy.einsum);
- GroupNormalization at opset 18 (scale and bias per group) and 21 (per
  channel), which the test data predates.

  node_numerics.py --bin build/bin
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

RNG = np.random.default_rng(20261207)

# (equation, operand shapes)
EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 8), (1, 2, 5, 8)]),
    ("bqhd,bkhd->bhqk", [(2, 3, 2, 4), (2, 5, 2, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij->i", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("ji", [(3, 4)]),
    ("i,i", [(7,), (7,)]),
    ("i,i->", [(7,), (7,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,j", [(3,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("...ii->...i", [(2, 3, 4, 4)]),
    ("bii->b", [(2, 3, 3)]),
    ("iij,jk->ik", [(3, 3, 4), (4, 2)]),
    ("abc,cd->abd", [(2, 3, 4), (4, 5)]),
    ("nchw,oc->nohw", [(2, 3, 4, 5), (6, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 6)]),
    ("...ij,jk", [(2, 3, 4), (4, 5)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("ba,ca", [(3, 4), (5, 4)]),
    ("ijk,ikl->ijl", [(2, 3, 4), (2, 4, 5)]),
    ("abcd,cdef->abef", [(2, 3, 4, 5), (4, 5, 2, 3)]),
    ("ab,cd->", [(2, 3), (4, 5)]),
]


def einsum_case(equation, shapes):
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    reference = np.einsum(equation, *[a.astype(np.float64) for a in arrays])
    node = helper.make_node("Einsum", [f"x{k}" for k in range(len(shapes))], ["y"],
                            equation=equation)
    return f"Einsum '{equation}' {shapes}", node, arrays, reference, 17


def group_norm_case(opset, shape, groups):
    x = RNG.standard_normal(shape).astype(np.float32)
    count = groups if opset < 21 else shape[1]
    scale = (1 + 0.5 * RNG.standard_normal(count)).astype(np.float32)
    bias = RNG.standard_normal(count).astype(np.float32)
    epsilon = 1e-3
    n, c = shape[:2]
    g = x.astype(np.float64).reshape(n, groups, -1)
    normalized = (g - g.mean(axis=2, keepdims=True)) / np.sqrt(
        g.var(axis=2, keepdims=True) + epsilon)
    if opset < 21:
        y = normalized * scale.reshape(1, groups, 1) + bias.reshape(1, groups, 1)
        reference = y.reshape(shape)
    else:
        channel = [1, c] + [1] * (len(shape) - 2)
        reference = normalized.reshape(shape) * scale.reshape(channel) + bias.reshape(channel)
    node = helper.make_node("GroupNormalization", ["x0", "x1", "x2"], ["y"],
                            num_groups=groups, epsilon=epsilon)
    return (f"GroupNormalization opset {opset} {list(shape)} in {groups} groups", node,
            [x, scale, bias], reference, opset)


def cases():
    yield from (einsum_case(eq, shapes) for eq, shapes in EINSUM)
    yield group_norm_case(18, (2, 6, 5, 4), 3)
    yield group_norm_case(18, (1, 8, 10), 8)
    yield group_norm_case(21, (2, 6, 5, 4), 2)
    yield group_norm_case(21, (3, 4, 2, 3, 2), 1)


def check(bin_dir, work, index, case):
    title, node, arrays, reference, opset = case
    reference = np.array(reference, np.float32, order="C")
    names = list(node.input)
    graph = helper.make_graph(
        [node], "single",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape))
         for n, a in zip(names, arrays)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(reference.shape))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    folder = os.path.join(work, str(index))
    os.makedirs(folder)
    path = os.path.join(folder, "model.onnx")
    onnx.save(model, path)
    files = []
    for k, array in enumerate(arrays):
        files.append(f"--input={folder}/input_{k}.npy")
        np.save(f"{folder}/input_{k}.npy", array)
    files.append(f"--reference={folder}/reference.npy")
    np.save(f"{folder}/reference.npy", reference)
    stem = os.path.join(folder, "model")
    compiled = subprocess.run([os.path.join(bin_dir, "sinterc"), path, "-o", stem],
                              capture_output=True, text=True)
    if compiled.returncode != 0:
        print(f"FAIL {title}: sinterc exit {compiled.returncode}: "
              f"{compiled.stderr.strip()}")
        return False
    ran = subprocess.run([os.path.join(bin_dir, "sinter-run"), stem + ".so", *files],
                         capture_output=True, text=True)
    ok = ran.returncode == 0
    detail = [l for l in ran.stdout.splitlines() if l.startswith("output")]
    print(f"{'PASS' if ok else 'FAIL'} {title}: "
          + (detail[0] if detail else (ran.stdout + ran.stderr).strip()))
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        results = [check(args.bin, work, i, case) for i, case in enumerate(cases())]
    print(f"{sum(results)} of {len(results)} single-node models match numpy")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
