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
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import compile_mlir, core_peak_gflops, time_artifact  # noqa: E402

HEADS, HEAD_DIM = 12, 64


def module(seq):
    t = f"tensor<1x{HEADS}x{seq}x{HEAD_DIM}xf32>"
    return (f"func.func @main(%q: {t}, %k: {t}, %v: {t}) -> {t} {{\n"
            f"  %0 = sinter.attention %q, %k, %v scale 0.125 : ({t}, {t}, {t}) -> {t}\n"
            f"  return %0 : {t}\n}}\n")


def measure(bin_dir, work, seq, flash, threads, runs):
    stem = os.path.join(work, f"attention_{seq}_{'flash' if flash else 'unfused'}")
    artifact = compile_mlir(bin_dir, module(seq), stem,
                            [f"--flash-attention={'true' if flash else 'false'}"])
    return time_artifact(bin_dir, artifact, threads, runs)


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
