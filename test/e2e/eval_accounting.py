"""Accuracy accounting (sinterc --eval) against figures computed here.

`sinterc MODEL --quantize=... --eval=DIR` runs an f32 reference build and
the artifact on the samples in DIR and writes <output>.eval.json. This
test compiles the same two builds itself (plain sinterc, and sinterc
--quantize), runs them with sinter-run on the same samples, and computes
the figures in numpy:

- the relative error |out - ref| / |ref| over all samples;
- the max abs error;
- the top-1 agreement of the last axis;
- for the trained byte-level LM, whose samples are token ids in a .txt
  file, the next-byte cross-entropy in bits of each build.

Every figure in the file must match.

Usage: eval_accounting.py --bin build/bin --work DIR --lm test/models/byte-lm MODEL_DIR
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result.stdout


def outputs_of(bin_dir, artifact, inputs, work):
    """The first output of `artifact` on each list of input files."""
    outs = []
    for i, files in enumerate(inputs):
        dest = os.path.join(work, f"out-{os.path.basename(os.path.dirname(artifact))}-{i}")
        run([os.path.join(bin_dir, "sinter-run"), artifact, *[f"--input={f}" for f in files],
             f"--save-outputs={dest}"])
        outs.append(np.load(os.path.join(dest, "output_0.npy")).astype(np.float64))
    return outs


def bits(logits, ids):
    """Mean -log2 p(next id) over positions 0 .. S-2 of every window."""
    logits = logits[:, :-1, :]
    logits = logits - logits.max(-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    target = ids[:, 1:]
    return -np.take_along_axis(logp, target[..., None], -1).mean() / np.log(2)


def check(label, got, want, rtol=1e-6):
    if not abs(got - want) <= rtol * max(abs(want), 1e-12):
        sys.exit(f"FAIL {label}: --eval says {got}, this test computes {want}")


def compare(args, model, flags, eval_dir, inputs, label, tokens=None):
    work = os.path.join(args.work, label)
    sinterc = os.path.join(args.bin, "sinterc")
    run([sinterc, model, "-o", os.path.join(work, "f32", "m")])
    run([sinterc, model, *flags, "-o", os.path.join(work, "q", "m")])
    summary = run([sinterc, model, *flags, f"--eval={eval_dir}", "-o", os.path.join(work, "eval", "m")])
    report = json.load(open(os.path.join(work, "eval", "m.eval.json")))
    if report["format"] != "sinter-evaluation" or report["version"] != 1:
        sys.exit(f"FAIL {label}: unexpected header {report['format']} {report['version']}")
    if report["samples"] != len(inputs):
        sys.exit(f"FAIL {label}: {report['samples']} samples evaluated, expected {len(inputs)}")
    ref = outputs_of(args.bin, os.path.join(work, "f32", "m.so"), inputs, work)
    out = outputs_of(args.bin, os.path.join(work, "q", "m.so"), inputs, work)
    r, o = np.concatenate([x.ravel() for x in ref]), np.concatenate([x.ravel() for x in out])
    figures = report["outputs"][0]
    check(label + " relative error", figures["relative_error"],
          np.linalg.norm(o - r) / np.linalg.norm(r))
    check(label + " max abs error", figures["max_abs_error"], np.abs(o - r).max())
    agree = np.mean(np.concatenate([(a.argmax(-1) == b.argmax(-1)).ravel() for a, b in zip(out, ref)]))
    check(label + " top-1 agreement", figures["top1_agreement"], agree)
    if not (report["median_ms"] > 0 and report["reference_median_ms"] > 0):
        sys.exit(f"FAIL {label}: no times in the evaluation file")
    check(label + " weights", report["weights_bytes"],
          os.path.getsize(os.path.join(work, "q", "m.weights")) - 64)
    line = (f"{label}: relative error {figures['relative_error']:.4f}, top-1 agreement "
            f"{figures['top1_agreement']:.4f}")
    if tokens is not None:
        before = np.mean([bits(x, t) for x, t in zip(ref, tokens)])
        after = np.mean([bits(x, t) for x, t in zip(out, tokens)])
        check(label + " reference bits", figures["reference_bits_per_token"], before)
        check(label + " bits", figures["bits_per_token"], after)
        line += f", bits per byte {before:.4f} -> {after:.4f}"
    print(line + "; --eval's figures match")
    print("  " + summary.strip().replace("\n", "\n  "))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--lm", required=True)
    parser.add_argument("model")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)

    # A model with backend-test data: the test set and a noisy copy.
    data = os.path.join(args.model, "test_data_set_0")
    eval_dir = os.path.join(args.work, "samples")
    inputs = []
    for s in range(2):
        folder = os.path.join(eval_dir, f"test_data_set_{s}")
        os.makedirs(folder)
        files = []
        for k, f in enumerate(sorted(glob.glob(os.path.join(data, "input_*.pb")))):
            x = numpy_helper.to_array(onnx.load_tensor(f))
            if s and np.issubdtype(x.dtype, np.integer):
                x = np.roll(x, 3)
            files.append(os.path.join(folder, f"input_{k}.npy"))
            np.save(files[-1], x)
        inputs.append(files)
    compare(args, os.path.join(args.model, "model.onnx"), ["--quantize=w4"], eval_dir, inputs,
            os.path.basename(os.path.normpath(args.model)))

    # The trained LM on held-out text as token ids: 4 samples of 8 windows.
    model = onnx.load(os.path.join(args.lm, "model.onnx"))
    batch, context = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    windows = np.load(os.path.join(args.lm, "eval.npy"))[: 4 * batch, :context].astype(np.int64)
    text_dir = os.path.join(args.work, "text")
    os.makedirs(text_dir)
    with open(os.path.join(text_dir, "held-out.txt"), "w") as f:
        f.write("\n".join(" ".join(str(i) for i in row) for row in windows))
    inputs, tokens = [], []
    for s in range(4):
        ids = windows[s * batch:(s + 1) * batch]
        path = os.path.join(text_dir + "-npy", f"ids_{s}.npy")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, ids)
        inputs.append([path])
        tokens.append(ids)
    compare(args, os.path.join(args.lm, "model.onnx"), ["--quantize=w4", "--group-size=128"],
            text_dir, inputs, "byte-lm", tokens)
    print("PASS")


if __name__ == "__main__":
    main()
