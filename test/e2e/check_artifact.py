#!/usr/bin/python3
"""Compiles a model in the ONNX backend-test layout (model.onnx +
test_data_set_K/{input,output}_N.pb) into an artifact with sinterc, then runs
it with sinter-run on every data set at each thread count, checking every
output against the reference (numpy's rule: |out - ref| <= atol + rtol*|ref|
for each element, atol 1e-5 and rtol 1e-4 unless given).

  check_artifact.py --bin build/bin --model test/models/gpt-tiny --work DIR
"""
import argparse
import glob
import os
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="sinter's build/bin")
    parser.add_argument("--model", required=True, help="folder with model.onnx")
    parser.add_argument("--work", required=True, help="where the artifact goes")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--atol", default="1e-5")
    parser.add_argument("--rtol", default="1e-4")
    parser.add_argument("sinterc_flags", nargs="*", help="after --: more sinterc flags")
    args = parser.parse_args()

    name = os.path.basename(os.path.normpath(args.model))
    stem = os.path.join(args.work, name.replace("-", "_"))
    os.makedirs(args.work, exist_ok=True)
    compile_ = subprocess.run([os.path.join(args.bin, "sinterc"),
                               os.path.join(args.model, "model.onnx"), "-o", stem]
                              + args.sinterc_flags, capture_output=True, text=True)
    if compile_.returncode != 0:
        print(compile_.stderr)
        print(f"{name}: compile failed")
        return 1
    data_sets = sorted(glob.glob(os.path.join(args.model, "test_data_set_*")))
    if not data_sets:
        print(f"{name}: no test_data_set_* folder")
        return 1
    failed = 0
    for data in data_sets:
        for threads in args.threads.split(","):
            run = subprocess.run([os.path.join(args.bin, "sinter-run"), stem + ".so",
                                  "--data", data, "--num-threads", threads,
                                  "--atol", args.atol, "--rtol", args.rtol],
                                 capture_output=True, text=True)
            label = f"{name} {os.path.basename(data)} threads {threads}"
            print(f"{label}: " + (run.stdout.strip().replace("\n", "\n  ") or run.stderr.strip()))
            failed += run.returncode != 0
    total = len(data_sets) * len(args.threads.split(","))
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
