#!/usr/bin/python3
"""The runtime's matmul kernel against the machine's limits, measured in
the same run: the large products (1024^3, 4096 x 4096 x 1024) and the
shapes of the models' linear layers as a fraction of the fp32 FMA peak
(bench/limits/fma_peak.c, times the thread count); batch-1 products by a
weight larger than the L2 cache (GEMV, both weight layouts) as a fraction
of the memory bandwidth (bench/limits/bandwidth.c, STREAM triad), the
floor being the weight's bytes over it.

  bench/gemm/run.py --build build [--threads 1,2] [--rounds 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import bandwidth_gbs, core_peak_gflops  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
# (name, M, N, K, B transposed, B packed as sinterc packs constant weights,
#  bound by)
SHAPES = [
    ("1024^3", 1024, 1024, 1024, False, False, "flops"),
    ("1024^3 (packed weight)", 1024, 1024, 1024, False, True, "flops"),
    ("4096x4096x1024", 4096, 4096, 1024, False, False, "flops"),
    ("4096x4096x1024 (packed weight)", 4096, 4096, 1024, False, True, "flops"),
    ("gpt-base qkv 128x2304x768 (packed)", 128, 2304, 768, True, True, "flops"),
    ("gpt-base mlp 128x3072x768 (packed)", 128, 3072, 768, True, True, "flops"),
    ("gpt-base mlp 128x768x3072 (packed)", 128, 768, 3072, True, True, "flops"),
    ("llama-base 256x2816x1024 (packed)", 256, 2816, 1024, True, True, "flops"),
    ("gemv 1x4096x4096", 1, 4096, 4096, False, False, "bytes"),
    ("gemv 1x4096x4096 (N x K weight)", 1, 4096, 4096, True, False, "bytes"),
    ("gemv 1x4096x4096 (packed weight)", 1, 4096, 4096, True, True, "bytes"),
    ("gemv 1x3072x768 (packed weight)", 1, 3072, 768, True, True, "bytes"),
]


def build_kernel_benchmark(build, work):
    """gemm.c linked against the runtime of the sinter build `build`; returns
    the binary, in `work`."""
    binary = os.path.join(work, "gemm")
    subprocess.run(["cc", "-O2", "-fopenmp", "-I", os.path.join(ROOT, "runtime", "include"),
                    os.path.join(HERE, "gemm.c"),
                    os.path.join(build, "lib", "libsinter_rt_embedded.a"), "-lm", "-o", binary],
                   check=True)
    return binary


def measure(binary, m, n, k, transposed, packed, threads):
    """One process: the kernel's median time over several calls."""
    runs = "3" if m * n * k > 4e9 else "10"
    out = subprocess.run([binary, str(m), str(n), str(k), str(int(transposed)), runs,
                          str(int(packed))],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    return (float(x) for x in out.stdout.split())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=5,
                        help="passes over all shapes, each after measuring the limits again; "
                             "figures are medians over the passes")
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    # This machine's clock and its neighbours' load drift by up to a tenth
    # within minutes: each pass measures the limits right before its
    # shapes, each fraction is taken against its own pass's limit, and the
    # figures are medians over the passes.
    samples = {}
    limits = []
    with tempfile.TemporaryDirectory() as work:
        binary = build_kernel_benchmark(args.build, work)
        for _ in range(args.rounds):
            peak = core_peak_gflops(work)
            bandwidth = {t: bandwidth_gbs(work, t) for t in threads_list}
            limits.append((peak, bandwidth))
            for name, m, n, k, transposed, packed, bound in SHAPES:
                for threads in threads_list:
                    ms, gflops, error = measure(binary, m, n, k, transposed, packed, threads)
                    if bound == "flops":
                        floor = 2.0 * m * n * k / (peak * threads * 1e9) * 1e3
                    else:
                        floor = 4.0 * n * k / (bandwidth[threads] * 1e9) * 1e3
                    samples.setdefault((name, threads), []).append(
                        dict(ms=ms, gflops=gflops, floor_ms=floor, fraction=floor / ms,
                             error=error))
    peak = statistics.median(p for p, _ in limits)
    bandwidth = {t: statistics.median(b[t] for _, b in limits) for t in threads_list}
    print(f"fp32 FMA peak {peak:.1f} GFLOP/s per core "
          f"({min(p for p, _ in limits):.1f}-{max(p for p, _ in limits):.1f} over "
          f"{args.rounds} passes); bandwidth (triad) " +
          ", ".join(f"{bandwidth[t]:.1f} GB/s at {t} thread(s)" for t in threads_list))
    rows = []
    for name, m, n, k, transposed, packed, bound in SHAPES:
        for threads in threads_list:
            runs = samples[(name, threads)]
            row = dict(shape=name, threads=threads, packed=packed, bound=bound,
                       error=max(r["error"] for r in runs))
            for key in ("ms", "gflops", "floor_ms", "fraction"):
                row[key] = statistics.median(r[key] for r in runs)
            rows.append(row)
            limit = "FMA peak" if bound == "flops" else "bandwidth"
            spread = sorted(r["fraction"] for r in runs)
            print(f"{name:34s} t={threads} {row['ms']:9.3f} ms {row['gflops']:7.1f} GFLOP/s "
                  f"{row['fraction']:5.0%} of {limit} ({spread[0]:.0%}-{spread[-1]:.0%}; "
                  f"floor {row['floor_ms']:.3f} ms)", flush=True)
    print(json.dumps(dict(peak_gflops=peak, bandwidth_gbs=bandwidth, rounds=args.rounds,
                          results=rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
