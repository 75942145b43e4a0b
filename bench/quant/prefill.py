#!/usr/bin/python3
"""W8A8 at the shape of a prefill: a GPT-2-base-sized model (12 layers, d
768, MLP 3072, vocabulary 8192, sequence 128: make_models.py's gpt-base) run
by sinter in f32, --quantize=w8 (weight-only) and --quantize=w8a8 (int8
activations, per-token scales at run time), and by ONNX Runtime 1.30 in f32,
on the same inputs and in the same run, at 1 and 2 threads. Prints the
median latency and the ratios, and each run against its floor: the linear
layers' multiply-adds over the core's peak for the arithmetic they run on
(f32 FMA for f32 and w8, whose blocks are unpacked to f32; the int8
instruction the kernel uses for w8a8: vpdpbusd with AVX-512 VNNI, else
vpmaddwd), both measured in the same run (bench/limits).

Also the int8 GEMM kernel alone (bench/quant/i8gemm.c) and the f32 GEMM
(bench/gemm/gemm.c) on the model's layer shapes at 128 rows, as fractions of
their peaks.

  bench/quant/prefill.py --bin build/bin [--threads 1,2] [--runs 10] [--json F]

Generates the model once into bench/.models/gpt-base (a few minutes,
PyTorch) and installs onnxruntime-node into bench/.peers (npm); needs
scripts/setup.sh --bench.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
from harness import core_peak_gflops, int8_peak_gmacs  # noqa: E402
import run as models_run  # noqa: E402  (bench/models/run.py)

MODEL = "gpt-base"
ROWS = 128
VARIANTS = [("f32", []), ("w8", ["--quantize=w8"]), ("w8a8", ["--quantize=w8a8"])]
# The linear layers of one block (N, K) and the LM head.
LAYER_SHAPES = [("qkv", 2304, 768), ("proj", 768, 768), ("fc", 3072, 768),
                ("fc out", 768, 3072), ("lm head", 8192, 768)]


def linear_macs(model_path, rows):
    """Multiply-adds of the MatMul/Gemm layers by 2-D initializers."""
    model = onnx.load(model_path, load_external_data=False)
    dims = {i.name: list(i.dims) for i in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        if node.op_type in ("MatMul", "Gemm") and len(dims.get(node.input[1], [])) == 2:
            k, n = dims[node.input[1]]
            total += rows * k * n
    return total


def build_tool(name, source, work, bin_dir):
    binary = os.path.join(work, name)
    if not os.path.exists(binary):
        build = os.path.dirname(os.path.normpath(bin_dir))
        subprocess.run(["cc", "-O2", "-fopenmp", "-I" + os.path.join(ROOT, "runtime", "include"),
                        source, os.path.join(build, "lib", "libsinter_rt_embedded.a"), "-lm",
                        "-o", binary], check=True)
    return binary


def kernel_rows(bin_dir, work, threads, f32_gmacs, int8_gmacs):
    i8gemm = build_tool("i8gemm", os.path.join(HERE, "i8gemm.c"), work, bin_dir)
    gemm = build_tool("gemm", os.path.join(ROOT, "bench", "gemm", "gemm.c"), work, bin_dir)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    rows = []
    for name, n, k in LAYER_SHAPES:
        i8 = subprocess.run([i8gemm, str(ROWS), str(n), str(k), "20"], capture_output=True,
                            text=True, check=True, env=env).stdout.split()
        f32 = subprocess.run([gemm, str(ROWS), str(n), str(k), "1", "20", "1"],
                             capture_output=True, text=True, check=True, env=env).stdout.split()
        rows.append({"shape": name, "n": n, "k": k, "threads": threads,
                     "int8_ms": float(i8[0]), "int8_gmacs": float(i8[1]),
                     "int8_of_peak": float(i8[1]) / (int8_gmacs * threads),
                     "f32_ms": float(f32[0]), "f32_gmacs": float(f32[1]) / 2,
                     "f32_of_peak": float(f32[1]) / 2 / (f32_gmacs * threads)})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "models"))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    model_dir = models_run.generate_base_models(
        os.path.join(args.shared, "make_models.py"), [MODEL])[MODEL]
    model_path = os.path.join(model_dir, "model.onnx")
    models_run.ensure_onnxruntime()
    ort_env = dict(os.environ, NODE_PATH=os.path.join(models_run.PEERS, "node_modules"))
    data = os.path.join(model_dir, "test_data_set_0")
    macs = linear_macs(model_path, ROWS)
    rows, kernels = [], []
    with tempfile.TemporaryDirectory() as work:
        f32_gmacs = core_peak_gflops(work) / 2
        int8_gmacs = int8_peak_gmacs(work)
        print(f"one core: f32 FMA {f32_gmacs:.1f} GMAC/s, int8 {int8_gmacs:.1f} GMAC/s; "
              f"linear layers {macs / 1e9:.2f} G multiply-adds", flush=True)
        for label, flags in VARIANTS:
            subprocess.run([os.path.join(args.bin, "sinterc"), model_path, "-o",
                            os.path.join(work, label), *flags], check=True)
        inputs_json = models_run.write_raw_inputs(model_dir, work)
        print(f"{'threads':>7s} {'run':>12s} {'ms':>8s} {'/ORT f32':>9s} {'/sinter f32':>11s} "
              f"{'floor ms':>8s} {'of floor':>8s}", flush=True)
        for threads in [int(t) for t in args.threads.split(",")]:
            report, _ = models_run.timed(["node", os.path.join(HERE, "..", "models", "ort_run.js"),
                                          model_path, inputs_json, str(threads), str(args.runs),
                                          str(args.warmup)], env=ort_env)
            ort_ms = report["median_ms"] if report else float("nan")
            measured = [("ORT f32", ort_ms, f32_gmacs)]
            for label, _ in VARIANTS:
                report, _ = models_run.timed([
                    os.path.join(args.bin, "sinter-run"), os.path.join(work, label + ".so"),
                    f"--data={data}", f"--num-threads={threads}", f"--runs={args.runs}",
                    f"--warmup={args.warmup}", "--json"])
                measured.append((f"sinter {label}",
                                 report["median_ms"] if report else float("nan"),
                                 int8_gmacs if label == "w8a8" else f32_gmacs))
            sinter_f32 = measured[1][1]
            for name, ms, peak in measured:
                floor = macs / (peak * threads * 1e9) * 1e3
                row = {"threads": threads, "run": name, "ms": ms, "over_ort_f32": ms / ort_ms,
                       "over_sinter_f32": ms / sinter_f32, "floor_ms": floor,
                       "fraction_of_floor": floor / ms}
                rows.append(row)
                print(f"{threads:7d} {name:>12s} {ms:8.2f} {row['over_ort_f32']:9.2f} "
                      f"{row['over_sinter_f32']:11.2f} {floor:8.2f} "
                      f"{row['fraction_of_floor']:8.2f}", flush=True)
            print("        kernels alone, 128 rows (int8 GEMM | f32 GEMM, packed weights):")
            for k in kernel_rows(args.bin, work, threads, f32_gmacs, int8_gmacs):
                kernels.append(k)
                print(f"        {k['shape']:>8s} {k['n']:5d}x{k['k']:<5d} int8 {k['int8_ms']:7.3f} ms "
                      f"{k['int8_of_peak']:.2f} of peak | f32 {k['f32_ms']:7.3f} ms "
                      f"{k['f32_of_peak']:.2f} of peak", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"models": rows, "kernels": kernels}, f, indent=2)


if __name__ == "__main__":
    main()
