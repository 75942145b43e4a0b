#!/usr/bin/python3
"""The floating-point work of a model's contractions, for its floor (FLOPs
over the machine's FMA peak): 2 x the multiply-adds of every Conv,
ConvTranspose, Gemm and MatMul, from the shapes ONNX's shape inference
gives; the other operators' work is listed apart as elements written (a
bound on what they cost next to the contractions).

  flops.py MODEL.onnx [MODEL.onnx ...]
"""
import sys

import numpy as np
import onnx
from onnx import shape_inference


def shapes_of(model):
    inferred = shape_inference.infer_shapes(model)
    shapes = {}
    for value in list(inferred.graph.value_info) + list(inferred.graph.input) + \
            list(inferred.graph.output):
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        if dims and all(d > 0 for d in dims):
            shapes[value.name] = dims
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def work(model):
    """(contraction FLOPs, other elements written, {op type: FLOPs})."""
    shapes = shapes_of(model)
    flops, other, by_op = 0, 0, {}
    for node in model.graph.node:
        out = shapes.get(node.output[0]) if node.output else None
        if out is None:
            continue
        macs = 0
        if node.op_type == "Conv":
            w = shapes[node.input[1]]
            macs = int(np.prod(out)) * int(np.prod(w[1:]))
        elif node.op_type == "ConvTranspose":
            w = shapes[node.input[1]]
            x = shapes[node.input[0]]
            macs = int(np.prod(x)) * int(np.prod(w[1:]))
        elif node.op_type in ("Gemm", "MatMul"):
            a = shapes[node.input[0]]
            transposed = any(at.name == "transA" and at.i for at in node.attribute)
            macs = int(np.prod(out)) * (a[-2] if transposed else a[-1])
        else:
            other += int(np.prod(out))
        flops += 2 * macs
        if macs:
            by_op[node.op_type] = by_op.get(node.op_type, 0) + 2 * macs
    return flops, other, by_op


def main():
    for path in sys.argv[1:]:
        flops, other, by_op = work(onnx.load(path))
        parts = ", ".join(f"{op} {f / 1e9:.3f}" for op, f in sorted(by_op.items()))
        print(f"{path}: {flops / 1e9:.3f} GFLOP in contractions ({parts}); "
              f"{other / 1e6:.1f} M elements written by the other operators")


if __name__ == "__main__":
    main()
