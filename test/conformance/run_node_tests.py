#!/usr/bin/python3
"""Imports every ONNX backend node test (Debian's libonnx-testdata) with
sinterc and checks the outcome against sinter's own operator table (with
--suites, the suites of small real models instead: pytorch-converted,
pytorch-operator and simple, each at the opset it was exported with):

  - a test whose operators are all supported must import and verify;
  - any other test must be rejected with the clean unsupported-operator (or
    unsupported-opset) error, never a crash or another error.

With --e2e, every imported test is also compiled into an artifact
(sinterc -o), run by sinter-run on the test's inputs and compared with its
outputs; the outcome of each goes in the table.

With --e2e the check also requires every imported test to pass end to end,
except those listed in e2e-known-failures.txt with their reason; a listed
test that passes fails the check too, so that the list stays true.

Usage:
  run_node_tests.py --sinterc build/bin/sinterc --e2e       check (ctest)
  run_node_tests.py --sinterc ... --e2e --write docs/onnx-coverage.md
  run_node_tests.py --sinterc ... --e2e --suites pytorch-converted,pytorch-operator,simple
"""
import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import sys

DATA_ROOT = "/usr/share/libonnx-testdata/data"
DATA = os.path.join(DATA_ROOT, "node")
MODEL_SUITES = ["pytorch-converted", "pytorch-operator", "simple"]
KNOWN_FAILURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "e2e-known-failures.txt")


def known_failures(path=KNOWN_FAILURES):
    """{test name: reason} from a list of known failures ("name: reason")."""
    failures = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(":")
                failures[name.strip()] = reason.strip()
    return failures


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def first_error(stderr):
    for line in stderr.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    return stderr.strip().splitlines()[-1] if stderr.strip() else "no message"


def graph_inputs(model_path):
    """(name, input_K.pb) for the model's non-initializer graph inputs."""
    import onnx

    model = onnx.load(model_path, load_external_data=False)
    initializers = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in initializers]
    data = os.path.join(os.path.dirname(model_path), "test_data_set_0")
    return [(name, os.path.join(data, f"input_{k}.pb")) for k, name in enumerate(names)]


def run_end_to_end(sinterc, test_dir, frozen):
    """Compiles the test into an artifact (sinterc -o) and runs it with
    sinter-run on the test's inputs against its outputs: (outcome, detail)."""
    import tempfile

    model = os.path.join(test_dir, "model.onnx")
    data = os.path.join(test_dir, "test_data_set_0")
    outputs = sorted(glob.glob(os.path.join(data, "output_*.pb")),
                     key=lambda p: int(re.findall(r"(\d+)\.pb$", p)[0]))
    note = ""
    with tempfile.TemporaryDirectory() as work:
        stem = os.path.join(work, "model")
        compile_ = lambda: run([sinterc, model, "-o", stem] + [
            f"--freeze-input={n}={pb}" for n, pb in graph_inputs(model) if n in frozen])
        compiled = compile_()
        # Output sizes that depend on input values (window lengths): the
        # artifact needs them fixed, so freeze every input as the import did.
        if compiled.returncode == 1 and "freeze them with --freeze-input" in compiled.stderr:
            frozen = {n for n, _ in graph_inputs(model)}
            note = "all inputs frozen (output size depends on their values)"
            compiled = compile_()
        if compiled.returncode != 0:
            return "error", "compile: " + first_error(compiled.stderr)[:150]
        command = [os.path.join(os.path.dirname(sinterc), "sinter-run"), stem + ".so"]
        command += [f"--input={pb}" for n, pb in graph_inputs(model) if n not in frozen]
        command += [f"--reference={pb}" for pb in outputs]
        ran = run(command)
    if ran.returncode == 0:
        return "pass", note
    failures = [l for l in ran.stdout.splitlines() if l.endswith("FAIL") and "output" in l]
    if failures:
        return "mismatch", re.sub(r"^output \d+ ", "", failures[0])[:160]
    return "error", "run: " + first_error(ran.stderr)[:150]


def classify(sinterc, test_dir, end_to_end=False):
    name = os.path.basename(test_dir)
    model = os.path.join(test_dir, "model.onnx")
    check = run([sinterc, "--check", model])
    ops = sorted(
        {
            line.split()[0]
            for line in check.stdout.splitlines()[2:]
            if len(line.split()) == 5 and line.split()[-1] in ("supported", "UNSUPPORTED")
        }
    )
    supported = check.returncode == 0
    command = [sinterc, model, "--emit=mlir", "-o", os.devnull,
               "--mlir-elide-resource-strings-if-larger=1"]
    result = run(command)
    # Node tests feed shapes, axes and bounds as graph inputs; sinter needs
    # them at import time. Freeze them from the test's own input data
    # (first every input but the data input, then all) and say so.
    inputs = graph_inputs(model)
    frozen = []
    for keep in (1, 0):
        if result.returncode != 1 or "unsupported dynamic value" not in result.stderr:
            break
        frozen = [name for name, _ in inputs[keep:]]
        result = run(command + [f"--freeze-input={name}={pb}" for name, pb in inputs[keep:]])
    if result.returncode == 0:
        outcome = "imported"
        detail = f"inputs frozen: {', '.join(frozen)}" if frozen else ""
    elif result.returncode != 1:
        outcome, detail = "crashed", f"exit code {result.returncode}: " + first_error(result.stderr)
    else:
        detail = first_error(result.stderr)
        outcome = "rejected" if detail.startswith("unsupported") else "error"
    # A test of supported operators may still use a feature sinter rejects
    # on purpose (training mode, string tensors): a clean "unsupported"
    # error is accepted there and counted apart.
    passed = outcome in ("imported", "rejected")
    e2e, e2e_detail = "", ""
    if end_to_end and outcome == "imported":
        e2e, e2e_detail = run_end_to_end(sinterc, test_dir, set(frozen))
    return dict(name=name, suite=os.path.basename(os.path.dirname(test_dir)), ops=ops,
                supported=supported, outcome=outcome,
                detail=detail, passed=passed, e2e=e2e, e2e_detail=e2e_detail)


def suites_intro(suites):
    """The heading and first lines of the table of the model suites."""
    return [
        "",
        "# Model suites: " + ", ".join(f"`{s}`" for s in suites),
        "",
        "Generated by `test/conformance/run_node_tests.py --suites ... --write`; do not edit.",
        "libonnx-testdata's suites of small real graphs (PyTorch exports of",
        "whole layers and of operator combinations, and hand-built models), each",
        "imported at the opset it was exported with and checked as the node tests",
        "are: a model whose operators sinter supports must import and pass end",
        "to end; any other must be rejected with a clean `unsupported` error.",
    ]


def write_table(results, path, suites=("node",)):
    imported = sum(r["outcome"] == "imported" for r in results)
    supported = sum(r["supported"] for r in results)
    failed = [r for r in results if not r["passed"]]
    node = list(suites) == ["node"]
    lines = [] if node else suites_intro(suites)
    lines += [] if not node else [
        "# ONNX backend node tests",
        "",
        "Generated by `test/conformance/run_node_tests.py --write`; do not edit.",
        "Each test of Debian's `libonnx-testdata` is imported with `sinterc`.",
        "A test whose operators sinter supports (`sinterc --list-ops`; opsets 1",
        "to 12 upgraded to 13 on import, 13 to 22 read natively) must import and",
        "verify, or be rejected with an `unsupported ...`",
        "error for a feature sinter does not offer (listed below); every other",
        "test must be rejected with the unsupported-operator or -opset error.",
        "Node tests pass shapes and axes as graph inputs: where sinter needs them",
        "at import time, the runner freezes them from the test's own data",
        "(`--freeze-input`).",
    ]
    lines += [
        "",
        f"- tests: {len(results)}" + ("" if node else " (" + ", ".join(
            f"{s}: {sum(r['suite'] == s for r in results)}" for s in suites) + ")"),
        f"- all operators supported: {supported}; imported: {imported} "
        f"({sum(r['outcome'] == 'imported' and 'frozen' in r['detail'] for r in results)}"
        f" with inputs frozen by `--freeze-input`), rejected for an "
        f"unsupported feature: {sum(r['supported'] and r['outcome'] == 'rejected' for r in results)}",
        f"- some operator unsupported, rejected cleanly: "
        f"{sum(not r['supported'] and r['outcome'] == 'rejected' for r in results)}",
        f"- failures (another error or a crash; the check fails on these): {len(failed)}",
    ]
    if any(r["e2e"] for r in results):
        count = lambda kind: sum(r["e2e"] == kind for r in results)
        lines += [
            "",
            "End to end (`--e2e`): each imported test compiled into an artifact",
            "(`sinterc -o`), run by `sinter-run` on the test's inputs and compared",
            "with its outputs (atol 1e-5, rtol 1e-4): "
            f"{count('pass')} pass, {count('mismatch')} mismatch, {count('error')} "
            "fail to compile or run. Every failure is listed with its reason below.",
        ]
    lines += [
        "",
        "| test | operators | expected | outcome | detail | end to end |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        detail = r["detail"].replace("|", "\\|")
        if len(detail) > 120:
            detail = detail[:117] + "..."
        lines.append(
            f"| {r['name']} | {' '.join(r['ops'])} | "
            f"{'import' if r['supported'] else 'reject'} | "
            f"{r['outcome'] if r['passed'] else '**' + r['outcome'] + '**'} | {detail} | "
            f"{r['e2e']}{' (' + r['e2e_detail'] + ')' if r['e2e'] == 'pass' and r['e2e_detail'] else ''}"
            f"{': ' + r['e2e_detail'].replace('|', '/') if r['e2e'] != 'pass' and r['e2e_detail'] else ''} |"
        )
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sinterc", required=True)
    parser.add_argument("--write", help="write the coverage table here")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--filter", default="",
                        help="only the tests whose name matches this regex "
                             "(for development; ctest runs them all)")
    parser.add_argument("--e2e", action="store_true",
                        help="also compile, run and compare each imported test")
    parser.add_argument("--suites", default="node",
                        help="comma-separated folders of libonnx-testdata's data: node "
                             "(default) or " + ", ".join(MODEL_SUITES))
    args = parser.parse_args()
    suites = args.suites.split(",")
    tests = []
    for suite in suites:
        found = sorted(d for d in glob.glob(os.path.join(DATA_ROOT, suite, "*"))
                       if os.path.exists(os.path.join(d, "model.onnx")))
        if not found:
            print(f"no tests under {os.path.join(DATA_ROOT, suite)}: install libonnx-testdata")
            return 1
        tests += [d for d in found if re.search(args.filter, os.path.basename(d))]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda t: classify(args.sinterc, t, args.e2e), tests))
    if args.write:
        write_table(results, args.write, suites)
    failed = [r for r in results if not r["passed"]]
    for r in failed:
        print(f"FAIL {r['name']}: got {r['outcome']}: {r['detail']}")
    if args.e2e:
        known = known_failures()
        for r in results:
            if r["outcome"] != "imported":
                continue
            if r["e2e"] != "pass" and r["name"] not in known:
                print(f"FAIL {r['name']}: end to end {r['e2e']}: {r['e2e_detail']}")
                failed.append(r)
            elif r["e2e"] == "pass" and r["name"] in known:
                print(f"FAIL {r['name']}: passes end to end but is listed in "
                      f"{os.path.basename(KNOWN_FAILURES)} ({known[r['name']]})")
                failed.append(r)
    passed = len(results) - len(failed)
    print(f"{passed} passed, {len(failed)} failed")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
