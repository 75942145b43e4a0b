"""What the benchmarks share: the machine's limits measured in the same run
(bench/limits), and compiling and timing a sinter artifact with sinter-run
(median latency, peak resident memory of the process)."""
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def _build_and_run(source, work, flags, env=None, args=()):
    binary = os.path.join(work, os.path.splitext(os.path.basename(source))[0])
    if not os.path.exists(binary):
        subprocess.run(["cc", "-O3", "-march=native", *flags, os.path.join(HERE, "limits", source),
                        "-o", binary], check=True)
    return subprocess.run([binary, *args], capture_output=True, text=True, check=True,
                          env=env).stdout


def core_peak_gflops(work):
    """One core's fp32 FMA peak, from bench/limits/fma_peak.c."""
    return float(_build_and_run("fma_peak.c", work, []).split()[0])


def int8_peak_gmacs(work):
    """One core's int8 multiply-add peak (vpmaddwd), from
    bench/limits/int8_peak.c."""
    return float(_build_and_run("int8_peak.c", work, []).split()[0])


def bandwidth_gbs(work, threads, kind="triad"):
    """Memory bandwidth (GB/s) at `threads` threads, from
    bench/limits/bandwidth.c: the STREAM triad, or with kind="read" a
    read-only stream (what a GEMV does with its weight)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = _build_and_run("bandwidth.c", work, ["-fopenmp"], env=env)
    return float(re.search(kind + r" ([0-9.]+)", out).group(1))


def compile_mlir(bin_dir, text, stem, flags=()):
    """Writes `text` to stem.mlir and compiles it to the artifact stem.so."""
    with open(stem + ".mlir", "w") as f:
        f.write(text)
    subprocess.run([os.path.join(bin_dir, "sinterc"), stem + ".mlir", "-o", stem, *flags],
                   check=True)
    return stem + ".so"


def time_artifact(bin_dir, artifact, threads, runs, warmup=1, extra=()):
    """sinter-run's median latency (ms) on random inputs (or `extra`'s),
    and the process's peak resident memory (MiB)."""
    run = subprocess.run(
        ["/usr/bin/time", "-f", "MAXRSS %M", os.path.join(bin_dir, "sinter-run"), artifact,
         f"--num-threads={threads}", f"--runs={runs}", f"--warmup={warmup}", "--json", *extra],
        capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    rss_kib = int(re.search(r"MAXRSS (\d+)", run.stderr).group(1))
    return report["median_ms"], rss_kib / 1024.0
