#!/usr/bin/python3
"""Fused (flash-attention kernel) against unfused (two contractions around a
softmax) attention, compiled by sinterc from the same sinter.attention op
(batch 1, 12 heads, head size 64, causal off), at sequence lengths 128, 512,
2048 and 8192: median latency of sinter-run, peak resident memory of the
process (the unfused lowering holds the 12 x S x S scores), and the floor:
4 S^2 D H FLOPs over the core's fp32 FMA peak, measured in the same run by
bench/limits/fma_peak.c (times the thread count), or given by --peak-gflops.

  bench/attention/run.py --bin build/bin [--lengths 128,512] [--threads 1,2]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HEADS, HEAD_DIM = 12, 64
HERE = os.path.dirname(os.path.abspath(__file__))


def core_peak_gflops(work):
    """One core's fp32 FMA peak, from bench/limits/fma_peak.c."""
    binary = os.path.join(work, "fma_peak")
    subprocess.run(["cc", "-O3", "-march=native",
                    os.path.join(HERE, "..", "limits", "fma_peak.c"), "-o", binary], check=True)
    out = subprocess.run([binary], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


def module(seq):
    t = f"tensor<1x{HEADS}x{seq}x{HEAD_DIM}xf32>"
    return (f"func.func @main(%q: {t}, %k: {t}, %v: {t}) -> {t} {{\n"
            f"  %0 = sinter.attention %q, %k, %v scale 0.125 : ({t}, {t}, {t}) -> {t}\n"
            f"  return %0 : {t}\n}}\n")


def measure(bin_dir, work, seq, flash, threads, runs):
    stem = os.path.join(work, f"attention_{seq}_{'flash' if flash else 'unfused'}")
    src = stem + ".mlir"
    with open(src, "w") as f:
        f.write(module(seq))
    subprocess.run([os.path.join(bin_dir, "sinterc"), src, "-o", stem,
                    f"--flash-attention={'true' if flash else 'false'}"], check=True)
    run = subprocess.run(
        ["/usr/bin/time", "-f", "MAXRSS %M", os.path.join(bin_dir, "sinter-run"), stem + ".so",
         f"--num-threads={threads}", f"--runs={runs}", "--warmup=1", "--json"],
        capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    rss_kib = int(re.search(r"MAXRSS (\d+)", run.stderr).group(1))
    return report["median_ms"], rss_kib / 1024.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--lengths", default="128,512,2048,8192")
    parser.add_argument("--threads", default="1")
    parser.add_argument("--peak-gflops", type=float, default=0.0,
                        help="one core's fp32 peak (default: measured now)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        peak = args.peak_gflops or core_peak_gflops(work)
        print(f"fp32 FMA peak: {peak:.1f} GFLOP/s per core")
        for seq in [int(s) for s in args.lengths.split(",")]:
            runs = 5 if seq <= 2048 else 1
            for threads in [int(t) for t in args.threads.split(",")]:
                fused_ms, fused_mb = measure(args.bin, work, seq, True, threads, runs)
                unfused_ms, unfused_mb = measure(args.bin, work, seq, False, threads, runs)
                gflop = 4.0 * seq * seq * HEAD_DIM * HEADS / 1e9
                floor = gflop / (peak * threads) * 1e3
                rows.append(dict(seq=seq, threads=threads, gflop=gflop, fused_ms=fused_ms,
                                 unfused_ms=unfused_ms, speedup=unfused_ms / fused_ms,
                                 fused_peak_mib=fused_mb, unfused_peak_mib=unfused_mb,
                                 floor_ms=floor, fraction_of_peak=floor / fused_ms))
                r = rows[-1]
                print(f"S={seq:5d} t={threads} fused {fused_ms:10.2f} ms ({fused_mb:8.1f} MiB)  "
                      f"unfused {unfused_ms:10.2f} ms ({unfused_mb:8.1f} MiB)  "
                      f"x{r['speedup']:.2f}  {gflop / fused_ms * 1e3:6.1f} GFLOP/s fused "
                      f"({floor / fused_ms:.0%} of peak, floor {floor:.2f} ms)", flush=True)
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
