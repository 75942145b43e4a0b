#!/usr/bin/python3
"""Times sinterc importing a model with ~512 MiB of weights and measures its
peak resident memory, for weights held inline in the .onnx file and for
weights in an external data file.

  bench/import/bench_import.py --sinterc build/bin/sinterc [--runs 3]

The model is a chain of L MatMul + Add layers of D x D float32 weights,
written under --work (default: a temporary folder). Memory is the peak
resident set size reported by /usr/bin/time; the floor is the weights'
size for inline data (protobuf must hold them) and near zero for external
data (mapped, never read during import).
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def make_model(layers, width, seed=0):
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    current = "x"
    for i in range(layers):
        w = (rng.standard_normal((width, width), dtype=np.float32) / np.sqrt(width))
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        inits.append(numpy_helper.from_array(np.zeros(width, np.float32), f"b{i}"))
        nodes.append(helper.make_node("MatMul", [current, f"w{i}"], [f"m{i}"]))
        nodes.append(helper.make_node("Add", [f"m{i}", f"b{i}"], [f"h{i}"]))
        current = f"h{i}"
    nodes.append(helper.make_node("Identity", [current], ["y"]))
    graph = helper.make_graph(
        nodes, "import_bench",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width])],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def measure(sinterc, model_path, runs):
    seconds, rss = [], []
    for _ in range(runs):
        out = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", sinterc, model_path, "--emit=none"],
            capture_output=True, text=True, check=True)
        elapsed, kib = out.stderr.strip().splitlines()[-1].split()
        seconds.append(float(elapsed))
        rss.append(int(kib) / 1024.0)
    return statistics.median(seconds), statistics.median(rss)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sinterc", required=True)
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="sinter-import-bench-")
    os.makedirs(work, exist_ok=True)
    model = make_model(args.layers, args.width)
    weights_mib = sum(t.ByteSize() for t in model.graph.initializer) / 2**20
    inline = os.path.join(work, "inline.onnx")
    onnx.save_model(model, inline)
    external_dir = os.path.join(work, "external")
    os.makedirs(external_dir, exist_ok=True)
    external = os.path.join(external_dir, "model.onnx")
    onnx.save_model(model, external, save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin",
                    size_threshold=1024)

    # The process's own footprint (libMLIR.so, libLLVM.so) on a tiny model.
    tiny = os.path.join(work, "tiny.onnx")
    onnx.save_model(make_model(1, 8), tiny)
    _, baseline = measure(args.sinterc, tiny, args.runs)

    results = []
    for name, path in (("inline", inline), ("external", external)):
        seconds, rss = measure(args.sinterc, path, args.runs)
        results.append(dict(layout=name, weights_mib=round(weights_mib, 1),
                            median_seconds=seconds, peak_rss_mib=round(rss, 1),
                            baseline_rss_mib=round(baseline, 1),
                            rss_above_baseline_over_weights=round(
                                (rss - baseline) / weights_mib, 3)))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'layout':10}{'weights MiB':>13}{'median s':>10}{'peak RSS MiB':>14}"
          f"{'baseline MiB':>14}{'(RSS-base)/weights':>20}")
    for r in results:
        print(f"{r['layout']:10}{r['weights_mib']:>13}{r['median_seconds']:>10}"
              f"{r['peak_rss_mib']:>14}{r['baseline_rss_mib']:>14}"
              f"{r['rss_above_baseline_over_weights']:>20}")


if __name__ == "__main__":
    main()
