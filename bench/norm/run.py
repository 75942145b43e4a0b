#!/usr/bin/python3
"""The norm kernel against the decomposed lowering (--norm-kernel=false),
compiled by sinterc from the same op: layer_norm with bias over rows of 768
(GPT-2, BERT) and add_norm (residual add + layer norm, both results
returned) at 128 to 32768 rows: median latency of sinter-run and the floor,
the bytes the op must move (layer_norm reads and writes the tensor once;
add_norm reads two and writes two) over the memory bandwidth measured in the
same run by bench/limits/bandwidth.c (STREAM triad). Small tensors live in
the caches, where the floor is not reachable and not the point: the large
ones show how close each lowering comes to streaming.

  bench/norm/run.py --bin build/bin [--rows 128,2048] [--threads 1,2]
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import bandwidth_gbs, compile_mlir, time_artifact  # noqa: E402

WIDTH = 768


def module(rows, residual):
    t, w = f"tensor<{rows}x{WIDTH}xf32>", f"tensor<{WIDTH}xf32>"
    if residual:
        return (f"func.func @main(%x: {t}, %r: {t}, %g: {w}, %b: {w}) -> ({t}, {t}) {{\n"
                f"  %s, %y = sinter.add_norm %x, %r, %g, %b kind layer axis 1 epsilon 1.0e-05 : "
                f"({t}, {t}, {w}, {w}) -> ({t}, {t})\n  return %s, %y : {t}, {t}\n}}\n")
    return (f"func.func @main(%x: {t}, %g: {w}, %b: {w}) -> {t} {{\n"
            f"  %y = sinter.layer_norm %x, %g, %b axis 1 epsilon 1.0e-05 : ({t}, {w}, {w}) -> {t}\n"
            f"  return %y : {t}\n}}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--rows", default="128,2048,32768")
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    rows_out = []
    with tempfile.TemporaryDirectory() as work:
        threads_list = [int(t) for t in args.threads.split(",")]
        bandwidth = {t: bandwidth_gbs(work, t) for t in threads_list}
        print("memory bandwidth (triad): " +
              ", ".join(f"{bandwidth[t]:.1f} GB/s at {t} thread(s)" for t in threads_list))
        for rows in [int(r) for r in args.rows.split(",")]:
            for residual in (False, True):
                name = "add_norm" if residual else "layer_norm"
                artifacts = {}
                for kernel in (True, False):
                    stem = os.path.join(work, f"{name}_{rows}_{'kernel' if kernel else 'decomposed'}")
                    artifacts[kernel] = compile_mlir(args.bin, module(rows, residual), stem,
                                                     [f"--norm-kernel={'true' if kernel else 'false'}"])
                megabytes = (4 if residual else 2) * rows * WIDTH * 4 / 1e6
                for threads in threads_list:
                    runs = 50 if rows <= 2048 else 10
                    kernel_ms, _ = time_artifact(args.bin, artifacts[True], threads, runs)
                    decomposed_ms, _ = time_artifact(args.bin, artifacts[False], threads, runs)
                    floor = megabytes / 1e3 / bandwidth[threads] * 1e3
                    rows_out.append(dict(op=name, rows=rows, threads=threads,
                                         kernel_ms=kernel_ms, decomposed_ms=decomposed_ms,
                                         speedup=decomposed_ms / kernel_ms, floor_ms=floor,
                                         kernel_gbs=megabytes / kernel_ms,
                                         fraction_of_bandwidth=floor / kernel_ms))
                    r = rows_out[-1]
                    print(f"{name:10s} {rows:6d}x{WIDTH} t={threads} kernel {kernel_ms:8.3f} ms  "
                          f"decomposed {decomposed_ms:8.3f} ms  x{r['speedup']:.2f}  "
                          f"{r['kernel_gbs']:6.1f} GB/s ({r['fraction_of_bandwidth']:.0%} of "
                          f"bandwidth, floor {floor:.3f} ms)", flush=True)
    print(json.dumps(rows_out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
