#!/usr/bin/python3
"""Einsum end to end: one single-node ONNX model per equation (matrix
products, transposes, sums, diagonals, outer products, broadcast
ellipses, three operands, implicit outputs), compiled into an artifact
(sinterc -o), run by sinter-run and compared with numpy.einsum on the same
seeded inputs (atol 1e-5, rtol 1e-4).

  einsum_numerics.py --bin build/bin
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
CASES = [
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


def check(bin_dir, work, index, equation, shapes):
    names = [f"x{k}" for k in range(len(shapes))]
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    reference = np.einsum(equation, *[a.astype(np.float64) for a in arrays])
    reference = np.array(reference, np.float32, order="C")
    node = helper.make_node("Einsum", names, ["y"], equation=equation)
    graph = helper.make_graph(
        [node], "einsum",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape))
         for n, a in zip(names, arrays)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(reference.shape))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
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
        print(f"FAIL '{equation}': sinterc exit {compiled.returncode}: "
              f"{compiled.stderr.strip()}")
        return False
    ran = subprocess.run([os.path.join(bin_dir, "sinter-run"), stem + ".so", *files],
                         capture_output=True, text=True)
    ok = ran.returncode == 0
    detail = [l for l in ran.stdout.splitlines() if l.startswith("output")]
    print(f"{'PASS' if ok else 'FAIL'} '{equation}' {shapes}: "
          + (detail[0] if detail else (ran.stdout + ran.stderr).strip()))
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        results = [check(args.bin, work, i, eq, shapes)
                   for i, (eq, shapes) in enumerate(CASES)]
    print(f"{sum(results)} of {len(results)} Einsum equations match numpy.einsum")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
