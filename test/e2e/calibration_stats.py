"""Calibration (sinterc --calibrate) against statistics computed here.

For each model, three samples go through `sinterc --calibrate`. The test
then checks three things:

1. The instrumented build (`--instrument`) computes exactly what the plain
   build computes, byte for byte, on every sample: probes only read.
2. Every probe's statistics match numpy's on the same values. The values
   come from a copy of the ONNX model whose probed tensors are extra graph
   outputs, compiled without probes. The statistics:
   - tensors: count, min, max, mean, rms, the per-channel max and mean of
     |x| along the probe's channel axis, and the magnitude histogram;
   - attention: the softmax probabilities (the Softmax node that feeds the
     probed attention) give the mean mass per key position and the
     entropy; the attention's output gives the head output norms;
   - routing: the TopK indices give the expert counts.
3. The samples can be given as folders of input_K files, as one stacked
   .npy array, or, for the trained byte-level LM, as a .txt file of token
   ids.

Usage: calibration_stats.py --bin build/bin --work DIR MODEL_DIR...
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

RTOL, ATOL = 2e-4, 2e-5


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result.stdout


def read_inputs(model_dir):
    files = sorted(glob.glob(os.path.join(model_dir, "test_data_set_0", "input_*.pb")))
    return [numpy_helper.to_array(onnx.load_tensor(f)) for f in files]


def make_samples(inputs, seed):
    """Three samples: the test inputs and two variations (floats with noise,
    integer ids shuffled among the values present)."""
    rng = np.random.default_rng(seed)
    samples = [inputs]
    for _ in range(2):
        varied = []
        for x in inputs:
            if np.issubdtype(x.dtype, np.floating):
                varied.append((x + rng.normal(0, 0.5, x.shape)).astype(x.dtype))
            else:
                varied.append(rng.permutation(x.reshape(-1)).reshape(x.shape).astype(x.dtype))
        samples.append(varied)
    return samples


def magnitude_bins(x):
    """The runtime's histogram bins (sinter/types.h), computed from the
    float's value with numpy's log2 rather than from its bits."""
    a = np.abs(x.astype(np.float64))
    with np.errstate(divide="ignore"):
        octave = np.floor(np.log2(a) * 4)
    bins = np.where(a < 2.0 ** -32, 0, np.clip(octave + 128 + 1, 1, 255))
    return np.bincount(bins.astype(np.int64).ravel(), minlength=256)


def close(name, got, want, rtol=RTOL, atol=ATOL, scale=None):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        sys.exit(f"FAIL {name}: shape {got.shape}, expected {want.shape}")
    tolerance = atol + rtol * (np.abs(want) if scale is None else scale)
    bad = np.abs(got - want) > tolerance
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        sys.exit(f"FAIL {name}: element {i} is {got.ravel()[i]}, expected "
                 f"{want.ravel()[i]} ({bad.sum()} of {bad.size} beyond tolerance)")
    return float(np.max(np.abs(got - want) / (np.abs(want) + 1e-12), initial=0))


def softmax_source(nodes_by_output, node):
    """The Softmax whose probabilities the attention's value product reads."""
    seen = node.input[0]
    for _ in range(4):
        producer = nodes_by_output.get(seen)
        if producer is None:
            return None
        if producer.op_type == "Softmax":
            return producer
        if producer.op_type not in ("Cast", "Dropout", "Identity"):
            return None
        seen = producer.input[0]
    return None


def reference_model(model, stats):
    """A copy of `model` whose probed tensors are graph outputs; returns the
    copy and, per probe, the names of the outputs that hold its values."""
    graph = model.graph
    nodes = {n.name: n for n in graph.node}
    by_output = {o: n for n in graph.node for o in n.output}
    inputs = [i.name for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    wanted = {}
    for t in stats["tensors"]:
        if t["name"].startswith("input "):
            wanted[t["id"]] = [inputs[int(t["name"].split()[1])]]
        elif t["name"] in nodes:
            wanted[t["id"]] = [nodes[t["name"]].output[0]]
    for a in stats["attention"]:
        node = nodes.get(a["name"])
        softmax = node is not None and softmax_source(by_output, node)
        if softmax:
            wanted[a["id"]] = [softmax.output[0], node.output[0]]
    for r in stats["routing"]:
        node = nodes.get(r["name"])
        if node is not None and node.op_type == "TopK":
            wanted[r["id"]] = [node.output[1]]
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    inferred = onnx.shape_inference.infer_shapes(copy)
    types = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)
             + list(inferred.graph.input)}
    existing = [o.name for o in copy.graph.output]
    extra = []
    for names in wanted.values():
        for name in names:
            if name not in existing and name not in extra and name not in inputs:
                extra.append(name)
    for name in extra:
        if name not in types:
            sys.exit(f"FAIL: no type for tensor '{name}' of the reference model")
        copy.graph.output.append(types[name])
    return copy, wanted


def check_model(bin_dir, work, model_dir, label, sample_sets, samples_arg, token_windows):
    model_path = os.path.join(model_dir, "model.onnx")
    sinterc = os.path.join(bin_dir, "sinterc")
    sinter_run = os.path.join(bin_dir, "sinter-run")
    out = os.path.join(work, label)
    run([sinterc, model_path, f"--calibrate={samples_arg}", "-o", os.path.join(out, "cal", "model")])
    stats = json.load(open(os.path.join(out, "cal", "model.stats.json")))
    rows_file = open(os.path.join(out, "cal", stats["samples_file"]), "rb").read()
    if stats["format"] != "sinter-calibration-stats" or stats["version"] != 1:
        sys.exit(f"FAIL {label}: unexpected stats header {stats['format']} {stats['version']}")
    if stats["samples"] != len(sample_sets):
        sys.exit(f"FAIL {label}: {stats['samples']} samples calibrated, expected {len(sample_sets)}")

    # 1. Instrumented and plain builds agree exactly.
    run([sinterc, model_path, "--instrument", "-o", os.path.join(out, "inst", "model")])
    run([sinterc, model_path, "-o", os.path.join(out, "plain", "model")])
    model = onnx.load(model_path)
    reference, wanted = reference_model(model, stats)
    ref_path = os.path.join(out, "reference.onnx")
    onnx.save(reference, ref_path)
    run([sinterc, ref_path, "-o", os.path.join(out, "ref", "model")])
    output_names = [o.name for o in reference.graph.output]
    input_names = [i.name for i in reference.graph.input
                   if i.name not in {t.name for t in reference.graph.initializer}]

    values = {}  # tensor name -> list over samples
    for s, sample in enumerate(sample_sets):
        folder = os.path.join(out, "inputs", f"sample_{s}")
        os.makedirs(folder, exist_ok=True)
        args = []
        for k, x in enumerate(sample):
            path = os.path.join(folder, f"input_{k}.npy")
            np.save(path, x)
            args += ["--input", path]
            values.setdefault(input_names[k], []).append(x)
        saved = {}
        for build in ("inst", "plain", "ref"):
            dest = os.path.join(out, "outputs", build, str(s))
            run([sinter_run, os.path.join(out, build, "model.so"), *args, "--save-outputs", dest])
            saved[build] = sorted(glob.glob(os.path.join(dest, "output_*.npy")))
        for a, b in zip(saved["inst"], saved["plain"]):
            if open(a, "rb").read() != open(b, "rb").read():
                sys.exit(f"FAIL {label}: the instrumented build's {os.path.basename(a)} "
                         f"differs from the plain build's on sample {s}")
        for k, name in enumerate(output_names):
            values.setdefault(name, []).append(np.load(os.path.join(out, "outputs", "ref", str(s), f"output_{k}.npy")))

    # 2. Every probe against numpy.
    checked = {"tensors": 0, "attention": 0, "routing": 0}
    worst = 0.0
    for t in stats["tensors"]:
        if t["id"] not in wanted:
            continue
        xs = [np.asarray(v, dtype=np.float64) for v in values[wanted[t["id"]][0]]]
        flat = np.concatenate([x.ravel() for x in xs])
        name = f"{label} tensor '{t['name']}'"
        if t["count"] != flat.size or t["calls"] != len(xs):
            sys.exit(f"FAIL {name}: count {t['count']} in {t['calls']} calls, expected "
                     f"{flat.size} in {len(xs)}")
        span = np.abs(flat).max()
        worst = max(worst, close(name + " min/max", [t["min"], t["max"]], [flat.min(), flat.max()], scale=span))
        close(name + " mean", t["mean"], flat.mean(), scale=span)
        close(name + " rms", t["rms"], np.sqrt(np.mean(flat ** 2)))
        axis = t["channel_axis"]
        moved = np.concatenate([np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis]) for x in xs])
        worst = max(worst, close(name + " channel_abs_max", t["channel_abs_max"], np.abs(moved).max(0)))
        close(name + " channel_abs_mean", t["channel_abs_mean"], np.abs(moved).mean(0))
        close(name + " channel_mean", t["channel_mean"], moved.mean(0), scale=np.abs(moved).max(0))
        close(name + " channel_mean_square", t["channel_mean_square"], (moved ** 2).mean(0))
        # The sampled rows: min(256, rows) of the value's own rows.
        if t["rows_seen"] != moved.shape[0] or t["sample_rows"] != min(256, moved.shape[0]):
            sys.exit(f"FAIL {name}: {t['sample_rows']} rows sampled of {t['rows_seen']}, "
                     f"expected min(256, {moved.shape[0]})")
        sampled = np.frombuffer(rows_file, dtype="<f4", count=t["sample_rows"] * t["channels"],
                                offset=t["sample_offset"]).reshape(t["sample_rows"], t["channels"])
        for row in sampled:
            distance = np.abs(moved - row).max(axis=1).min()
            if distance > ATOL + RTOL * np.abs(row).max():
                sys.exit(f"FAIL {name}: a sampled row is none of the value's rows "
                         f"(nearest differs by {distance})")
        histogram = np.asarray(t["histogram"])
        expected = magnitude_bins(np.concatenate([x.astype(np.float32).ravel() for x in xs]))
        # Values a rounding apart may fall on either side of a bin edge.
        if np.abs(histogram - expected).sum() > 0.002 * flat.size + 2:
            sys.exit(f"FAIL {name} histogram: differs in "
                     f"{np.abs(histogram - expected).sum()} of {flat.size} elements")
        checked["tensors"] += 1
    for a in stats["attention"]:
        if a["id"] not in wanted:
            continue
        probs = [np.asarray(v, dtype=np.float64) for v in values[wanted[a["id"]][0]]]
        outs = [np.asarray(v, dtype=np.float64) for v in values[wanted[a["id"]][1]]]
        name = f"{label} attention '{a['name']}'"
        keys = max(p.shape[-1] for p in probs)
        mass = np.zeros((a["heads"], keys))
        key_rows = np.zeros((a["heads"], keys))
        entropy = np.zeros(a["heads"])
        norms = np.zeros(a["heads"])
        rows = 0
        for p, o in zip(probs, outs):
            p = np.broadcast_to(p, (o.shape[0], o.shape[1], o.shape[2], p.shape[-1]))
            mass[:, :p.shape[-1]] += p.sum(axis=(0, 2))
            key_rows[:, :p.shape[-1]] += (p > 0).sum(axis=(0, 2))
            with np.errstate(divide="ignore", invalid="ignore"):
                entropy += -np.where(p > 0, p * np.log(p), 0).sum(-1).sum(axis=(0, 2))
            norms += np.linalg.norm(o, axis=-1).sum(axis=(0, 2))
            rows += p.shape[0] * p.shape[2]
        if a["rows"] != rows or a["keys"] != keys:
            sys.exit(f"FAIL {name}: {a['rows']} rows x {a['keys']} keys, expected {rows} x {keys}")
        worst = max(worst, close(name + " key_mass", a["key_mass"],
                                 np.where(key_rows > 0, mass / np.maximum(key_rows, 1), 0), atol=1e-5))
        if a["key_rows"] != key_rows.astype(int).tolist():
            sys.exit(f"FAIL {name}: key_rows differ from the rows that give each key any attention")
        close(name + " entropy", a["entropy"], entropy / rows)
        close(name + " output_norm", a["output_norm"], norms / rows)
        checked["attention"] += 1
    for r in stats["routing"]:
        if r["id"] not in wanted:
            continue
        chosen = np.concatenate([np.asarray(v).ravel() for v in values[wanted[r["id"]][0]]])
        expected = np.bincount(chosen, minlength=r["experts"])
        if list(expected) != r["choices"] or r["out_of_range"] != 0:
            sys.exit(f"FAIL {label} routing '{r['name']}': {r['choices']}, expected {list(expected)}")
        checked["routing"] += 1

    # Every kind of probe the model has is checked, and most tensor probes.
    for kind in checked:
        if stats[kind] and checked[kind] == 0:
            sys.exit(f"FAIL {label}: none of the {len(stats[kind])} {kind} probes maps to the ONNX graph")
    if checked["tensors"] * 2 < len(stats["tensors"]):
        sys.exit(f"FAIL {label}: only {checked['tensors']} of {len(stats['tensors'])} tensor probes checked")
    print(f"{label}: {len(sample_sets)} samples{token_windows}; checked "
          f"{checked['tensors']}/{len(stats['tensors'])} tensor, "
          f"{checked['attention']}/{len(stats['attention'])} attention, "
          f"{checked['routing']}/{len(stats['routing'])} routing probes; "
          f"instrumented outputs identical; worst relative difference {worst:.2e}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--lm", help="the trained byte-level LM's folder (token ids from a .txt file)")
    parser.add_argument("models", nargs="*")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    for index, model_dir in enumerate(args.models):
        label = os.path.basename(os.path.normpath(model_dir))
        samples = make_samples(read_inputs(model_dir), seed=index)
        if index % 2 == 0:
            # A folder of sample folders (the backend-test layout).
            root = os.path.join(args.work, label + "-samples")
            for s, sample in enumerate(samples):
                folder = os.path.join(root, f"test_data_set_{s}")
                os.makedirs(folder)
                for k, x in enumerate(sample):
                    onnx.save_tensor(numpy_helper.from_array(x), os.path.join(folder, f"input_{k}.pb"))
            check_model(args.bin, args.work, model_dir, label, samples, root, "")
        else:
            # Single-input models: one .npy array of the samples stacked.
            if len(samples[0]) != 1:
                sys.exit(f"FAIL: {label} takes several inputs; give it an even position")
            root = os.path.join(args.work, label + "-array")
            os.makedirs(root)
            np.save(os.path.join(root, "calibration.npy"), np.concatenate([s[0] for s in samples]))
            check_model(args.bin, args.work, model_dir, label, samples, root, " (one stacked .npy)")
    if args.lm:
        # Token ids as text: consecutive windows of the held-out bytes fill
        # the [batch, sequence] input, batch windows per sample.
        model = onnx.load(os.path.join(args.lm, "model.onnx"))
        dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        windows = np.load(os.path.join(args.lm, "eval.npy"))[:, :-1]
        ids = windows[: 3 * dims[0]].reshape(-1)
        root = os.path.join(args.work, "byte-lm-tokens")
        os.makedirs(root)
        with open(os.path.join(root, "held-out.txt"), "w") as f:
            for line in ids.reshape(-1, 32):
                f.write(" ".join(str(int(i)) for i in line) + "\n")
        samples = [[ids[i * dims[0] * dims[1]:(i + 1) * dims[0] * dims[1]].reshape(dims).astype(np.int64)]
                   for i in range(3)]
        check_model(args.bin, args.work, args.lm, "byte-lm", samples, root, " (token ids in a .txt file)")


if __name__ == "__main__":
    main()
