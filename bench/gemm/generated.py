#!/usr/bin/python3
"""The runtime's hand-written GEMM kernel against the two ways issue 6 asks
to generate it, measured in the same run on the same operands: a Halide 14
generator (halide/, its own CMake project since Halide is built on LLVM 14)
and MLIR's vectorization driven by a transform-dialect schedule (mlir/,
lowered by LLVM 22's mlir-opt). Each is reported as a fraction of the fp32
FMA peak measured in the same pass (bench/limits/fma_peak.c).

B is the constant weight packed as sinterc packs it (what linear layers
see); "B at run time" rows give the kernel and Halide a row-major B they
must pack themselves. The MLIR schedule is specialized to the shape (static
sizes), the others take any shape.

  bench/gemm/generated.py --build build [--threads 1,2] [--rounds 3]
      [--shapes 1024x1024x1024,...] [--halide-params "rows=12 ..."]
      [--mlir-params "ROWS=8 ..."]

A shape the MLIR schedule does not tile (its sizes must divide the shape's)
is measured for the kernel and Halide only, and says so. Every variant
checks its product against a double-precision sum and fails the run when
it is wrong (what the ctest bench-generated-gemm relies on).
"""
import argparse
import json
import os
import statistics
import string
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import core_peak_gflops  # noqa: E402
from run import build_kernel_benchmark  # noqa: E402  (bench/gemm/run.py, this folder)

HERE = os.path.dirname(os.path.abspath(__file__))
LLVM = "/usr/lib/llvm-22/bin"
SHAPES = [(1024, 1024, 1024), (4096, 4096, 1024)]
MLIR_DEFAULTS = dict(PANEL=64, ROWS=8, BLOCK_SLIVERS=16, DEPTH_BLOCK=256)
MLIR_LOWERING = [
    "--transform-interpreter=entry-point=tile_and_vectorize", "--fold-memref-alias-ops",
    "--canonicalize", "--cse", "--transform-interpreter=entry-point=hoist_and_lower",
    "--canonicalize", "--cse", "--convert-vector-to-scf", "--lower-affine",
    "--convert-scf-to-cf", "--convert-vector-to-llvm", "--expand-strided-metadata",
    "--lower-affine", "--finalize-memref-to-llvm", "--convert-arith-to-llvm",
    "--convert-index-to-llvm", "--convert-ub-to-llvm", "--convert-func-to-llvm",
    "--convert-cf-to-llvm", "--reconcile-unrealized-casts"]


def run(cmd, **kwargs):
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        sys.exit(f"generated.py: {' '.join(cmd)} failed ({done.returncode}):\n"
                 f"{done.stdout}{done.stderr}")
    return done.stdout


def build_halide(work, params):
    """Configures and builds halide/ in its own CMake tree; returns the
    benchmark binary."""
    tree = os.path.join(work, "halide")
    run(["cmake", "-G", "Ninja", "-S", os.path.join(HERE, "halide"), "-B", tree,
         "-DCMAKE_BUILD_TYPE=Release", f"-DGEMM_PARAMS={params}"])
    run(["ninja", "-C", tree])
    return os.path.join(tree, "gemm_halide")


def build_mlir(work, m, n, k, params):
    """Specializes mlir/gemm.mlir.in and its schedule to the shape, lowers it
    with mlir-opt and links the timing driver; returns the binary."""
    values = dict(MLIR_DEFAULTS, M=m, N=n, K=k, SLIVERS=n // 32, **params)
    if m % values["PANEL"] or values["PANEL"] % values["ROWS"] or n % 32 or \
            (n // 32) % values["BLOCK_SLIVERS"] or k % values["DEPTH_BLOCK"]:
        return None
    stem = os.path.join(work, f"mlir_{m}x{n}x{k}")
    for name in ("gemm.mlir.in", "schedule.mlir.in"):
        with open(os.path.join(HERE, "mlir", name)) as f:
            text = string.Template(f.read()).substitute(values)
        with open(f"{stem}.{name[:-3]}", "w") as f:
            f.write(text)
    run([f"{LLVM}/mlir-opt", f"{stem}.gemm.mlir",
         f"--transform-preload-library=transform-library-paths={stem}.schedule.mlir",
         *MLIR_LOWERING, "-o", f"{stem}.llvm.mlir"])
    run([f"{LLVM}/mlir-translate", "--mlir-to-llvmir", f"{stem}.llvm.mlir", "-o", f"{stem}.ll"])
    run([f"{LLVM}/clang", "-O3", "-march=native", "-Wno-override-module", "-c", f"{stem}.ll",
         "-o", f"{stem}.o"])
    run(["cc", "-O2", "-fopenmp", f"-DM={m}", f"-DN={n}", f"-DK={k}",
         f"-DPANEL={values['PANEL']}", os.path.join(HERE, "mlir", "gemm_mlir.c"), f"{stem}.o",
         "-lm", "-o", stem])
    return stem


def timed(cmd, threads):
    out = run(cmd, env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    ms, gflops, error = (float(x) for x in out.split())
    return ms, gflops, error


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", default=",".join("x".join(map(str, s)) for s in SHAPES),
                        help="products MxNxK, comma-separated")
    parser.add_argument("--halide-params", default="",
                        help="generator parameters, e.g. 'rows=12 block_cols=512'")
    parser.add_argument("--mlir-params", default="",
                        help="schedule parameters, e.g. 'ROWS=8 DEPTH_BLOCK=256'")
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",")]
    mlir_params = dict((kv.split("=")[0], int(kv.split("=")[1]))
                       for kv in args.mlir_params.split())
    samples = {}
    peaks = []
    with tempfile.TemporaryDirectory() as work:
        kernel = build_kernel_benchmark(args.build, work)
        halide = build_halide(work, args.halide_params)
        mlir = {shape: build_mlir(work, *shape, mlir_params) for shape in shapes}
        for shape, binary in mlir.items():
            if binary is None:
                print("{}x{}x{}: not tiled by the MLIR schedule {}, measured without it".format(
                    *shape, dict(MLIR_DEFAULTS, **mlir_params)))
        for _ in range(args.rounds):
            peaks.append(core_peak_gflops(work))
            for m, n, k in shapes:
                runs = "3" if m * n * k > 4e9 else "10"
                variants = [
                    ("kernel", "packed", [kernel, str(m), str(n), str(k), "0", runs, "1"]),
                    ("halide", "packed", [halide, str(m), str(n), str(k), runs, "1"]),
                    ("mlir", "packed", [mlir[(m, n, k)], runs]) if mlir[(m, n, k)] else None,
                    ("kernel", "B at run time", [kernel, str(m), str(n), str(k), "0", runs, "0"]),
                    ("halide", "B at run time", [halide, str(m), str(n), str(k), runs, "0"]),
                ]
                for threads in threads_list:
                    for name, layout, cmd in filter(None, variants):
                        ms, gflops, error = timed(cmd, threads)
                        samples.setdefault((m, n, k, layout, name, threads), []).append(
                            dict(ms=ms, gflops=gflops, error=error,
                                 fraction=gflops / (peaks[-1] * threads)))
    peak = statistics.median(peaks)
    print(f"fp32 FMA peak {peak:.1f} GFLOP/s per core ({min(peaks):.1f}-{max(peaks):.1f} over "
          f"{args.rounds} passes)")
    rows = []
    for (m, n, k, layout, name, threads), runs in samples.items():
        row = dict(shape=f"{m}x{n}x{k}", layout=layout, generator=name, threads=threads,
                   error=max(r["error"] for r in runs))
        for key in ("ms", "gflops", "fraction"):
            row[key] = statistics.median(r[key] for r in runs)
        rows.append(row)
        print(f"{row['shape']:15s} {layout:14s} {name:7s} t={threads} {row['ms']:9.3f} ms "
              f"{row['gflops']:7.1f} GFLOP/s {row['fraction']:5.0%} of FMA peak "
              f"(max error {row['error']:.2g})", flush=True)
    print(json.dumps(dict(peak_gflops=peak, rounds=args.rounds, mlir_params=mlir_params,
                          halide_params=args.halide_params, results=rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
