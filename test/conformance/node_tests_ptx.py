#!/usr/bin/python3
"""GPU code for every ONNX backend node test that sinter imports: each is
compiled with sinterc --target=cuda --emit=ptx (with the inputs frozen as
run_node_tests.py freezes them) and, where ptxas exists, assembled for
sm_90. Every test must get through, but for those listed in
ptx-known-failures.txt with their reason (a listed test that passes fails
the check too). Without ptxas the PTX is generated but not assembled, and
the script exits 77 (ctest: skipped).

  node_tests_ptx.py --sinterc build/bin/sinterc [--ptxas PATH] [--jobs N]
"""
import argparse
import concurrent.futures
import glob
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_node_tests as node  # noqa: E402

KNOWN_FAILURES = os.path.join(HERE, "ptx-known-failures.txt")


def compile_ptx(sinterc, ptxas, test_dir):
    """(name, outcome, detail) with outcome 'pass', 'skip' (not imported)
    or 'fail'."""
    name = os.path.basename(test_dir)
    imported = node.classify(sinterc, test_dir)
    if imported["outcome"] != "imported":
        return name, "skip", ""
    model = os.path.join(test_dir, "model.onnx")
    frozen = set()
    if imported["detail"].startswith("inputs frozen: "):
        frozen = set(imported["detail"][len("inputs frozen: "):].split(", "))
    with tempfile.TemporaryDirectory() as work:
        ptx = os.path.join(work, "model.ptx")
        flags = [f"--freeze-input={n}={pb}"
                 for n, pb in node.graph_inputs(model) if n in frozen]
        compiled = node.run([sinterc, model, "--target=cuda", "--emit=ptx",
                             "-o", ptx] + flags)
        if compiled.returncode == 1 and "freeze them with --freeze-input" in compiled.stderr:
            flags = [f"--freeze-input={n}={pb}" for n, pb in node.graph_inputs(model)]
            compiled = node.run([sinterc, model, "--target=cuda", "--emit=ptx",
                                 "-o", ptx] + flags)
        if compiled.returncode != 0:
            return name, "fail", "sinterc: " + node.first_error(compiled.stderr)[:200]
        with open(ptx) as f:
            kernels = ".entry " in f.read()
        # (No kernel: the outputs are empty and the PTX is too.)
        if ptxas and kernels:
            assembled = node.run([ptxas, "-arch=sm_90", ptx, "-o", os.devnull])
            if assembled.returncode != 0:
                return name, "fail", "ptxas: " + assembled.stderr.strip()[:200]
    return name, "pass", ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sinterc", required=True)
    parser.add_argument("--ptxas", default="")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--filter", default="",
                        help="only the tests whose name matches this regex "
                             "(for development; ctest runs them all)")
    args = parser.parse_args()
    ptxas = args.ptxas if args.ptxas and os.access(args.ptxas, os.X_OK) else ""
    tests = sorted(d for d in glob.glob(os.path.join(node.DATA, "*"))
                   if os.path.exists(os.path.join(d, "model.onnx"))
                   and re.search(args.filter, os.path.basename(d)))
    if not tests:
        print(f"no node tests under {node.DATA}: install libonnx-testdata")
        return 1
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda t: compile_ptx(args.sinterc, ptxas, t), tests))
    known = node.known_failures(KNOWN_FAILURES)
    failed = 0
    for name, outcome, detail in results:
        if outcome == "fail" and name not in known:
            print(f"FAIL {name}: {detail}")
            failed += 1
        elif outcome == "pass" and name in known:
            print(f"FAIL {name}: gets through but is listed in "
                  f"{os.path.basename(KNOWN_FAILURES)} ({known[name]})")
            failed += 1
    passed = sum(outcome == "pass" for _, outcome, _ in results)
    listed = sum(outcome == "fail" and name in known for name, outcome, _ in results)
    print(f"{passed} imported tests give PTX" +
          (" that ptxas assembles" if ptxas else "") +
          f", {listed} known failures, {failed} unexpected")
    if failed:
        return 1
    if not ptxas:
        print("ptxas not found (--ptxas): the PTX was not assembled")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
