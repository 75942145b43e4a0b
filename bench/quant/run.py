#!/usr/bin/python3
"""Weight-only quantization at the shape of one decoding step: a
GPT-2-base-sized model (12 layers, d 768, MLP 3072, 12 heads, vocabulary
8192: make_models.py's gpt-base with a sequence of 1 token), run by sinter
in f32, --quantize=w8, w4 (groups of 32 and 128), and by ONNX Runtime 1.30
in f32, on the same inputs and in the same run, at 1 and 2 threads. Prints
the median latency, the ratios, the weights file's size, and each run as a
fraction of its floor: the bytes of its weights over the read bandwidth
measured in the same run (bench/limits/bandwidth.c) -- a decoding step
reads every weight once and does little else.

Also the quantized GEMV kernel alone (bench/quant/qgemv.c) on the model's
layer shapes, as a fraction of the same floor.

  bench/quant/run.py --bin build/bin [--threads 1,2] [--runs 30] [--json F]

Generates the model once into bench/.models/gpt-base-decode (a few
minutes, PyTorch) and installs onnxruntime-node into bench/.peers (npm);
needs scripts/setup.sh --bench.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
from harness import bandwidth_gbs  # noqa: E402
import run as models_run  # noqa: E402  (bench/models/run.py)

MODEL = "gpt-base-decode"
VARIANTS = [  # (label, sinterc flags)
    ("f32", []),
    ("w8", ["--quantize=w8"]),
    ("w4 g32", ["--quantize=w4", "--group-size=32"]),
    ("w4 g128", ["--quantize=w4", "--group-size=128"]),
]
# GEMV shapes of one layer (N, K) and the LM head, for qgemv.c.
LAYER_SHAPES = [("qkv", 2304, 768), ("proj", 768, 768), ("fc", 3072, 768),
                ("fc out", 768, 3072), ("lm head", 8192, 768)]


def generate_model(shared):
    """make_models.py's gpt-base at one token, once, into bench/.models."""
    out = os.path.join(ROOT, "bench", ".models")
    path = os.path.join(out, MODEL)
    if os.path.exists(os.path.join(path, "model.onnx")):
        return path
    spec = importlib.util.spec_from_file_location(
        "make_models", os.path.join(shared, "make_models.py"))
    make_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_models)
    make_models.OUT_DIR = out
    base = make_models.CONFIGS["gpt-base"]
    config = make_models.Config(**{**make_models.dataclasses.asdict(base),
                                   "name": MODEL, "seq": 1})
    print(f"generating {MODEL} with make_models.py (once)", flush=True)
    make_models.build_one(config)
    return path


def kernel_rows(bin_dir, work, threads, read_gbs):
    """qgemv.c on the layer shapes: ms and fraction of the read floor."""
    binary = os.path.join(work, "qgemv")
    if not os.path.exists(binary):
        build = os.path.join(os.path.dirname(os.path.normpath(bin_dir)))
        subprocess.run(["cc", "-O2", "-fopenmp", "-I" + os.path.join(ROOT, "runtime", "include"),
                        os.path.join(HERE, "qgemv.c"),
                        os.path.join(build, "lib", "libsinter_rt_embedded.a"), "-lm", "-o",
                        binary], check=True)
    rows = []
    for bits, group in ((8, 0), (4, 32), (4, 128)):
        for name, n, k in LAYER_SHAPES:
            g = k if group == 0 else group
            out = subprocess.run([binary, "1", str(n), str(k), str(bits), str(g), "200"],
                                 capture_output=True, text=True, check=True,
                                 env=dict(os.environ, OMP_NUM_THREADS=str(threads))).stdout
            ms, _, size, error = out.split()
            floor_ms = int(size) / (read_gbs * 1e9) * 1e3
            rows.append({"kernel": f"w{bits}" + (f" g{group}" if group else ""), "shape": name,
                         "n": n, "k": k, "threads": threads, "ms": float(ms),
                         "floor_ms": floor_ms, "fraction_of_floor": floor_ms / float(ms),
                         "max_error": float(error)})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "models"))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    model_dir = generate_model(args.shared)
    models_run.ensure_onnxruntime()
    ort_env = dict(os.environ, NODE_PATH=os.path.join(models_run.PEERS, "node_modules"))
    data = os.path.join(model_dir, "test_data_set_0")
    rows, kernels = [], []
    with tempfile.TemporaryDirectory() as work:
        sizes = {}
        for label, flags in VARIANTS:
            stem = os.path.join(work, label.replace(" ", "-"))
            subprocess.run([os.path.join(args.bin, "sinterc"),
                            os.path.join(model_dir, "model.onnx"), "-o", stem, *flags],
                           check=True)
            sizes[label] = os.path.getsize(stem + ".weights")
        inputs_json = models_run.write_raw_inputs(model_dir, work)
        onnx_bytes = sum(os.path.getsize(os.path.join(model_dir, f))
                         for f in os.listdir(model_dir) if f.startswith("model.onnx"))
        print(f"{'threads':>7s} {'run':>10s} {'ms':>8s} {'/ORT f32':>9s} {'/sinter f32':>11s} "
              f"{'weights MiB':>11s} {'floor ms':>8s} {'of floor':>8s}", flush=True)
        for threads in [int(t) for t in args.threads.split(",")]:
            read = bandwidth_gbs(work, threads, "read")
            report, _ = models_run.timed(["node", os.path.join(HERE, "..", "models", "ort_run.js"),
                                          os.path.join(model_dir, "model.onnx"), inputs_json,
                                          str(threads), str(args.runs), str(args.warmup)],
                                         env=ort_env)
            ort_ms = report["median_ms"] if report else float("nan")
            measured = [("ORT f32", ort_ms, onnx_bytes)]
            for label, _ in VARIANTS:
                stem = os.path.join(work, label.replace(" ", "-"))
                report, _ = models_run.timed([os.path.join(args.bin, "sinter-run"), stem + ".so",
                                              f"--data={data}", f"--num-threads={threads}",
                                              f"--runs={args.runs}", f"--warmup={args.warmup}",
                                              "--json"])
                measured.append((f"sinter {label}", report["median_ms"] if report else float("nan"),
                                 sizes[label]))
            sinter_f32 = measured[1][1]
            for name, ms, weight_bytes in measured:
                floor = weight_bytes / (read * 1e9) * 1e3
                row = {"threads": threads, "run": name, "ms": ms, "over_ort_f32": ms / ort_ms,
                       "over_sinter_f32": ms / sinter_f32, "weight_bytes": weight_bytes,
                       "read_gbs": read, "floor_ms": floor, "fraction_of_floor": floor / ms}
                rows.append(row)
                print(f"{threads:7d} {name:>10s} {ms:8.2f} {row['over_ort_f32']:9.2f} "
                      f"{row['over_sinter_f32']:11.2f} {weight_bytes / 2**20:11.1f} "
                      f"{floor:8.2f} {row['fraction_of_floor']:8.2f}", flush=True)
            print(f"        read bandwidth {read:.1f} GB/s; kernels alone:")
            for k in kernel_rows(args.bin, work, threads, read):
                kernels.append(k)
                print(f"        {k['kernel']:>8s} {k['shape']:>8s} {k['n']:5d}x{k['k']:<5d} "
                      f"{k['ms'] * 1e3:8.1f} us  {k['fraction_of_floor']:.2f} of floor",
                      flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"models": rows, "kernels": kernels}, f, indent=2)


if __name__ == "__main__":
    main()
