#!/usr/bin/python3
"""Builds examples/embed against this build's sinterc, runs it on the input
of test/models/gpt-tiny and compares the logits it writes with the PyTorch
reference (atol 1e-5, rtol 1e-4); then checks that a wrong input length and
a missing weights file end in the runtime's error message and exit 1."""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--sinterc", required=True)
    parser.add_argument("--model", required=True, help="test/models/gpt-tiny")
    parser.add_argument("--c-compiler", default="cc")
    args = parser.parse_args()

    for command in (["cmake", "-G", "Ninja", "-S", args.source, "-B", args.build,
                     f"-DSINTERC={args.sinterc}", f"-DCMAKE_C_COMPILER={args.c_compiler}",
                     f"-DMODEL={os.path.join(args.model, 'model.onnx')}"],
                    ["cmake", "--build", args.build]):
        subprocess.run(command, check=True)

    data = os.path.join(args.model, "test_data_set_0")
    ids = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "input_0.pb")))
    reference = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "output_0.pb")))
    ids_path = os.path.join(args.build, "ids.bin")
    logits_path = os.path.join(args.build, "logits.bin")
    ids.astype("<i8").tofile(ids_path)
    embed = os.path.join(args.build, "embed")
    weights = os.path.join(args.build, "gpt.weights")
    run = subprocess.run([embed, weights, ids_path, logits_path], capture_output=True, text=True)
    print(run.stdout, run.stderr)
    if run.returncode != 0:
        return 1
    logits = np.fromfile(logits_path, dtype="<f4").reshape(reference.shape)
    error = np.abs(logits - reference)
    bad = int((error > 1e-5 + 1e-4 * np.abs(reference)).sum())
    print(f"logits: max abs error {error.max():.3g}, {bad} beyond tolerance")
    expected_token = int(np.argmax(reference[0, -1]))
    if bad or f"next token: {expected_token} " not in run.stdout:
        print(f"FAIL: expected next token {expected_token}")
        return 1

    ids[:, :7].astype("<i8").tofile(ids_path)
    short = subprocess.run([embed, weights, ids_path, logits_path], capture_output=True, text=True)
    missing = subprocess.run([embed, weights + ".missing", ids_path, logits_path],
                             capture_output=True, text=True)
    print(short.stderr, missing.stderr)
    if (short.returncode != 1 or "must have size 32 in dimension 1, got 7" not in short.stderr
            or missing.returncode != 1 or "cannot open weights file" not in missing.stderr):
        print("FAIL: bad input did not give the runtime's error")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
