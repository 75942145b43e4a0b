#!/usr/bin/python3
"""The cost of the run-time checks of gather and scatter indices
(docs/runtime-abi.md, "Inputs used as indices": inputs before the run,
computed indices in the model): each shared model (or a model folder given
by its path, such as test/models/gpt-dynamic) compiled with the checks (the
default) and with --check-input-indices=false, timed
by sinter-run on its test_data_set_0 inputs in alternating rounds; the
ratio is the median of the rounds' ratios (checked / unchecked), so that
the machine's drift does not land on one side.

    bench/checks/index_checks.py --bin build/bin [--models gpt-small,...]
        [--threads 1] [--rounds 5] [--runs 50]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "models"))
    parser.add_argument("--models", default="gpt-small,bert-small,llama-small,moe-small")
    parser.add_argument("--threads", default="1")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    print("| model | threads | checked ms | unchecked ms | checked / unchecked |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as work:
        for name in args.models.split(","):
            folder = name if os.path.isdir(name) else os.path.join(args.shared, name)
            name = os.path.basename(os.path.normpath(folder))
            model = os.path.join(folder, "model.onnx")
            data = os.path.join(folder, "test_data_set_0")
            artifacts = {}
            for variant, flags in (("checked", []),
                                   ("unchecked", ["--check-input-indices=false"])):
                stem = os.path.join(work, f"{name}-{variant}")
                subprocess.run([os.path.join(args.bin, "sinterc"), model, "-o", stem, *flags],
                               check=True)
                artifacts[variant] = stem + ".so"
            for threads in [int(t) for t in args.threads.split(",")]:
                times = {"checked": [], "unchecked": []}
                for _ in range(args.rounds):
                    for variant, artifact in artifacts.items():
                        median, _ = harness.time_artifact(
                            args.bin, artifact, threads, args.runs, warmup=3,
                            extra=[f"--data={data}"])
                        times[variant].append(median)
                ratio = statistics.median(
                    c / u for c, u in zip(times["checked"], times["unchecked"]))
                print(f"| {name} | {threads} | {statistics.median(times['checked']):.3f} | "
                      f"{statistics.median(times['unchecked']):.3f} | {ratio:.3f} |", flush=True)


if __name__ == "__main__":
    main()
