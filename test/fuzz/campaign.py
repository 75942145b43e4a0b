#!/usr/bin/env python3
"""A long coverage-guided campaign over the libFuzzer targets of a SINTER_FUZZ
build (README.md): each target runs from its committed corpus and
regression inputs for the time given, two at a time (the 2-core machine),
into a work corpus under --work; at the end a Markdown table gives each
target's executions, speed, coverage (edges and features), corpus size and
findings (the crash-*, leak-*, oom-* and timeout-* files libFuzzer wrote).

Usage: campaign.py --build build-fuzz --seconds 3600 [--targets a,b] [--parallel 2]
"""
import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run_target(build, target, seconds, work):
    binary = os.path.join(build, "bin", f"fuzz-{target}")
    corpus = os.path.join(work, target, "corpus")
    findings = os.path.join(work, target, "findings")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(findings, exist_ok=True)
    inputs = [os.path.join(HERE, "corpus", target)]
    regressions = os.path.join(HERE, "regressions", target)
    if os.path.isdir(regressions):
        inputs.append(regressions)
    log = os.path.join(work, target, "log.txt")
    # A huge allocation is a finding only if it is not checked: ASan returns
    # null (allocator_may_return_null) and the code must report it, and
    # libFuzzer's own malloc limit (the RSS limit by default) is lifted.
    command = [binary, f"-max_total_time={seconds}", "-print_final_stats=1",
               "-rss_limit_mb=4096", "-malloc_limit_mb=1000000000",
               "-timeout=20", "-max_len=65536",
               f"-artifact_prefix={findings}/", corpus] + inputs
    started = time.time()
    # -fork keeps going past a finding: each crash is saved, the run goes on.
    with open(log, "w") as out:
        env = dict(os.environ, ASAN_OPTIONS="allocator_may_return_null=1")
        status = subprocess.run(command + ["-fork=1", "-ignore_crashes=1",
                                           "-ignore_ooms=1", "-ignore_timeouts=1"],
                                stdout=out, stderr=subprocess.STDOUT,
                                env=env).returncode
    text = open(log, errors="replace").read()
    executions = sum(int(n) for n in re.findall(r"stat::number_of_executed_units: (\d+)", text))
    if not executions:  # -fork: the parent's progress lines carry the totals
        runs = re.findall(r"#(\d+): cov: (\d+) ft: (\d+) corp: (\d+)", text)
        executions = int(runs[-1][0]) if runs else 0
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text)
    edges, features, corpus_size = (cov[-1] if cov else ("?", "?", "?"))
    found = sorted(os.path.basename(p) for p in glob.glob(f"{findings}/*"))
    return {"target": target, "status": status, "seconds": time.time() - started,
            "executions": executions, "edges": edges, "features": features,
            "corpus": corpus_size, "findings": found}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--seconds", type=int, default=3600)
    parser.add_argument("--targets", default="model-file,onnx-graph,runtime-load,"
                        "sample-files,calibration-stats")
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--work", default="/tmp/sinter-fuzz-campaign")
    args = parser.parse_args()
    targets = args.targets.split(",")
    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        results = list(pool.map(
            lambda t: run_target(args.build, t, args.seconds, args.work), targets))
    print("| target | seconds | executions | exec/s | edges | features | corpus | findings |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    total = 0
    for r in results:
        total += r["executions"]
        print(f"| {r['target']} | {r['seconds']:.0f} | {r['executions']:,} | "
              f"{r['executions'] / max(r['seconds'], 1):.0f} | {r['edges']} | "
              f"{r['features']} | {r['corpus']} | "
              f"{', '.join(r['findings']) or 'none'} |")
    print(f"\ntotal executions: {total:,}")


if __name__ == "__main__":
    main()
