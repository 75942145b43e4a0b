#!/usr/bin/python3
"""Structured fuzzing of the ONNX importer: applies one random mutation at a
time to real models (an op type swapped, an input dropped, an attribute set
to an extreme value, a shape or data type changed, a byte flipped or the
file cut) and checks that sinterc either imports the result or rejects it
with a clean error: exit status 0 or 1, never a crash, an abort, a
sanitizer report or a hang. A third of the rejected models are also given
to `sinterc --check`, which imports past the nodes that fail.

  mutate_models.py --sinterc build/bin/sinterc --count 300 --seed 1
"""
import argparse
import copy
import os
import random
import subprocess
import sys
import tempfile

import onnx
from onnx import TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = [os.path.join(ROOT, "test", "models", name, "model.onnx")
          for name in ("gpt-tiny", "llama-tiny", "vit-tiny", "moe-tiny", "bert-tiny")]
OP_TYPES = ["Add", "MatMul", "Reshape", "Transpose", "Gather", "Slice", "Concat",
            "Softmax", "LayerNormalization", "Split", "Expand", "Where", "Conv",
            "TopK", "ReduceMean", "Unsqueeze", "Squeeze", "Cast", "Einsum",
            "ScatterElements", "Tile", "Range", "Trilu", "CumSum", "Gemm",
            "If", "Loop", "Scan", "LSTM", "GRU", "RNN",
            "Resize", "Pad", "DepthToSpace", "SpaceToDepth", "GatherND",
            "ScatterND",
            "CastLike",
            "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool",
            "GlobalMaxPool", "GlobalLpPool", "ConvTranspose",
            "BatchNormalization", "InstanceNormalization",
            "GroupNormalization", "LpNormalization", "LRN",
            "PRelu", "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish",
            "Softplus", "Softsign", "Mish", "Sign", "Shrink", "ThresholdedRelu",
            "Tan", "Asin", "Acosh", "Atanh", "Mod", "BitShift", "IsNaN", "IsInf",
            "Clip", "Sum", "Mean", "CastLike", "ReduceL1", "ReduceL2",
            "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ReduceProd",
            "ArgMax", "ArgMin", "Hardmax", "OneHot", "EyeLike",
            "MeanVarianceNormalization"]
EXTREMES = [0, 1, -1, 2, 3, -2**31, 2**31, -2**63, 2**63 - 1, 2**40, 7, -7]


def mutate(model, rng):
    graph = model.graph
    kind = rng.choice(["op_type", "drop_input", "swap_input", "attribute",
                       "initializer_dims", "input_dims", "data_type", "output_name",
                       "opset"])
    node = rng.choice(graph.node)
    if kind == "op_type":
        node.op_type = rng.choice(OP_TYPES)
    elif kind == "drop_input" and node.input:
        del node.input[rng.randrange(len(node.input))]
    elif kind == "swap_input" and node.input:
        other = rng.choice(graph.node)
        if other.output:
            node.input[rng.randrange(len(node.input))] = rng.choice(other.output)
    elif kind == "attribute" and node.attribute:
        attr = rng.choice(node.attribute)
        if attr.type == onnx.AttributeProto.INT:
            attr.i = rng.choice(EXTREMES)
        elif attr.type == onnx.AttributeProto.INTS and attr.ints:
            attr.ints[rng.randrange(len(attr.ints))] = rng.choice(EXTREMES)
        elif attr.type == onnx.AttributeProto.FLOAT:
            attr.f = rng.choice([0.0, -1.0, float("inf"), float("nan"), 1e30])
        elif attr.type == onnx.AttributeProto.TENSOR:
            attr.t.dims.append(rng.choice(EXTREMES[:5]))
    elif kind == "initializer_dims" and graph.initializer:
        tensor = rng.choice(graph.initializer)
        if tensor.dims:
            tensor.dims[rng.randrange(len(tensor.dims))] = rng.choice(EXTREMES)
        else:
            tensor.dims.append(rng.choice(EXTREMES))
    elif kind == "input_dims":
        dims = graph.input[0].type.tensor_type.shape.dim
        if dims:
            dim = dims[rng.randrange(len(dims))]
            if rng.random() < 0.5:
                dim.dim_value = rng.choice([0, 1, 3, 2**62, 2**31])
            else:
                dim.dim_param = "n"
    elif kind == "data_type" and graph.initializer:
        rng.choice(graph.initializer).data_type = rng.choice(
            [TensorProto.INT64, TensorProto.FLOAT16, TensorProto.BOOL,
             TensorProto.STRING, TensorProto.INT8, 99])
    elif kind == "opset":
        # Old opsets go through ONNX's version converter, node by node.
        for opset in model.opset_import:
            if opset.domain in ("", "ai.onnx"):
                opset.version = rng.choice([1, 6, 7, 9, 11, 12, 18, 21, 22, 23])
    elif kind == "output_name" and node.output:
        node.output[0] = rng.choice(["", "x", graph.output[0].name, node.output[0] + "_"])
    return kind


def run(sinterc, arguments):
    try:
        result = subprocess.run([sinterc, *arguments], capture_output=True, text=True,
                                errors="replace", timeout=60)
        return result.returncode, result.stderr + result.stdout
    except subprocess.TimeoutExpired:
        return "timeout", ""


def is_clean(code, output):
    return code in (0, 1) and "Sanitizer" not in output and \
        "runtime error" not in output and "Assertion" not in output


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sinterc", required=True)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    checks = random.Random(args.seed + 1)
    originals = [onnx.load(path) for path in MODELS]
    failures = 0
    outcomes = {0: 0, 1: 0}
    with tempfile.TemporaryDirectory() as work:
        for i in range(args.count):
            model = copy.deepcopy(rng.choice(originals))
            kinds = [mutate(model, rng) for _ in range(rng.randint(1, 3))]
            data = model.SerializeToString()
            if rng.random() < 0.15:  # raw damage on top
                kinds.append("bytes")
                data = bytearray(data)
                for _ in range(rng.randint(1, 8)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
                if rng.random() < 0.3:
                    data = data[: rng.randrange(len(data))]
            path = os.path.join(work, f"case{i}.onnx")
            with open(path, "wb") as f:
                f.write(bytes(data))
            code, stderr = run(args.sinterc, [path, "--emit=none"])
            clean = is_clean(code, stderr)
            if code in outcomes:
                outcomes[code] += 1
            # A third of the rejected models are also given to --check,
            # which imports past the failing nodes (reportAllProblems); its
            # own random stream keeps the mutations of a seed as they were.
            if clean and code == 1 and checks.random() < 1 / 3:
                code, stderr = run(args.sinterc, ["--check", path])
                clean = is_clean(code, stderr)
                kinds.append("--check")
            if not clean:
                failures += 1
                keep = os.path.join(tempfile.gettempdir(), f"sinter-fuzz-{args.seed}-{i}.onnx")
                with open(keep, "wb") as f:
                    f.write(bytes(data))
                print(f"FAIL case {i} ({'+'.join(kinds)}): exit {code}; kept {keep}")
                print("\n".join(stderr.splitlines()[-6:]))
    print(f"imported {outcomes[0]}, rejected {outcomes[1]}")
    print(f"{args.count - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
