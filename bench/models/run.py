#!/usr/bin/python3
"""sinter against ONNX Runtime and PyTorch on whole models, on the same
inputs, in one run: for each model and thread count, the median latency of
each, the ratio sinter / peer (below 1: sinter is faster) and each
process's peak resident memory, as a table and as JSON.

- sinter: sinterc compiles the model (-O3, fusion, the runtime's kernels)
  and sinter-run times it on the model's test_data_set_0 inputs, checking
  its outputs against the references (atol 1e-5, rtol 1e-4).
- ONNX Runtime 1.30 (onnxruntime-node from the npm registry, installed here
  into bench/.peers with --ignore-scripts), CPU provider, graph optimization
  level "all", intra-op threads = the thread count.
- PyTorch (Debian's python3-torch, eager): the module that make_models.py
  builds from its seeded weights, checked against the same references.

Models: every folder of the shared set (../shared/models) by default;
--base also generates the base-size ones (80-107 M parameters) with
make_models.py into bench/.models (once; a few minutes each) and benches
them. --vision benches the CNNs of bench/vision/make_vision_models.py instead
(ResNet-50, MobileNetV2 and a small U-Net from torchvision's and its own
modules, at opsets 11 and 17, batch 1 and 8; generated once into
bench/.models). Run scripts/setup.sh --bench first for PyTorch, torchvision
and Node.js.

  bench/models/run.py --bin build/bin [--models gpt-small,llama-tiny] [--base] [--vision]
      [--threads 1,2] [--runs 20] [--rounds 3] [--json out.json] [--skip torch]

Each engine runs --rounds times per model and thread count, alternating
with the others (sinter, ONNX Runtime, PyTorch, sinter, ...), each time
--runs runs after --warmup: latencies are medians over the rounds, ratios
the median of the rounds' ratios (this machine's speed drifts within
minutes; alternating keeps a drift out of the ratio).
"""
import argparse
import glob
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PEERS = os.path.join(ROOT, "bench", ".peers")
ORT_VERSION = "1.30"
BASE_MODELS = ["gpt-base", "bert-base", "llama-base", "moe-base", "vit-base"]
MAKE_VISION_MODELS = os.path.join(ROOT, "bench", "vision", "make_vision_models.py")


def load_pb(path):
    """A TensorProto file (the backend-test layout's input_N.pb) as numpy."""
    return numpy_helper.to_array(onnx.load_tensor(path))


def numbered(folder, stem, suffix):
    """folder/stem_0.suffix, stem_1.suffix, ... while they exist."""
    paths = []
    while os.path.exists(os.path.join(folder, f"{stem}_{len(paths)}.{suffix}")):
        paths.append(os.path.join(folder, f"{stem}_{len(paths)}.{suffix}"))
    return paths


def load_make_models(path):
    """make_models.py as a module (its CONFIGS and build_model)."""
    spec = importlib.util.spec_from_file_location("make_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_onnxruntime():
    if not os.path.isdir(os.path.join(PEERS, "node_modules", "onnxruntime-node")):
        os.makedirs(PEERS, exist_ok=True)
        subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund",
                        "--prefix", PEERS, f"onnxruntime-node@{ORT_VERSION}"], check=True)


def timed(command, env=None):
    """Runs `command` under /usr/bin/time: its JSON report and the peak
    resident memory in MiB (None and a message on failure)."""
    run = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", *command], capture_output=True,
                         text=True, env=env)
    rss = re.search(r"MAXRSS (\d+)", run.stderr)
    # sinter-run exits with 1 when outputs miss the tolerance but still
    # reports its timing; the row records the mismatch.
    if run.returncode == 1 and run.stdout.lstrip().startswith("{"):
        return json.loads(run.stdout), int(rss.group(1)) / 1024.0 if rss else float("nan")
    if run.returncode != 0:
        message = run.stderr.replace(rss.group(0), "").strip() if rss else run.stderr.strip()
        return None, message.splitlines()[-1] if message else f"exit {run.returncode}"
    try:  # sinter-run prints one JSON document over several lines
        report = json.loads(run.stdout)
    except json.JSONDecodeError:  # the peers print one line of JSON last
        report = json.loads(run.stdout.strip().splitlines()[-1])
    return report, int(rss.group(1)) / 1024.0 if rss else float("nan")


def write_raw_inputs(model_dir, work):
    """The test_data_set_0 inputs as raw files + inputs.json for ort_run.js."""
    graph = onnx.load(os.path.join(model_dir, "model.onnx"), load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    names = [i.name for i in graph.input if i.name not in initializers]
    spec = []
    for k, name in enumerate(names):
        array = load_pb(os.path.join(model_dir, "test_data_set_0", f"input_{k}.pb"))
        file = f"input_{k}.bin"
        array.astype(array.dtype.newbyteorder("<")).tofile(os.path.join(work, file))
        spec.append({"name": name, "dtype": str(array.dtype), "shape": list(array.shape),
                     "file": file})
    path = os.path.join(work, "inputs.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


def reference_error(model_dir, work, report):
    """ONNX Runtime's largest absolute error against the model's reference
    outputs (the same check sinter-run makes of sinter's)."""
    worst = 0.0
    for k, (name, output) in enumerate(report["outputs"].items()):
        expected = load_pb(os.path.join(model_dir, "test_data_set_0", f"output_{k}.pb"))
        actual = np.fromfile(os.path.join(work, output["file"]), dtype=expected.dtype)
        worst = max(worst, float(np.abs(actual.reshape(expected.shape) - expected).max()))
    return worst


def generate_models(make_models, names):
    """Runs a generator (make_models.py's interface) once for the models of
    `names` not generated yet, into bench/.models."""
    out = os.path.join(ROOT, "bench", ".models")
    missing = [n for n in names if not os.path.exists(os.path.join(out, n, "model.onnx"))]
    if missing:
        print(f"generating {', '.join(missing)} with {os.path.basename(make_models)} (once)",
              flush=True)
        subprocess.run(["/usr/bin/python3", make_models, "--out", out, "--only", ",".join(missing)],
                       check=True)
    return {n: os.path.join(out, n) for n in names}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "models"))
    parser.add_argument("--models", default="", help="comma-separated (default: every shared one)")
    parser.add_argument("--base", action="store_true", help="also the base-size models")
    parser.add_argument("--vision", action="store_true",
                        help="the CNNs of bench/vision/make_vision_models.py instead of the "
                             "shared models (--models picks among them)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--skip", default="", help="peers to leave out: ort, torch")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each engine runs, alternating; medians over them")
    parser.add_argument("--json", default="", help="also write the rows here")
    args = parser.parse_args()
    make_models = os.path.join(args.shared, "make_models.py")
    skip = set(filter(None, args.skip.split(",")))

    models = {}
    wanted = [m for m in args.models.split(",") if m]
    # The generator of each model's module, for the PyTorch peer.
    generator = {}
    if args.vision:
        vision = load_make_models(MAKE_VISION_MODELS).CONFIGS
        names = wanted or list(vision)
        unknown = [n for n in names if n not in vision]
        if unknown:
            raise SystemExit(f"unknown vision models {unknown}; known: {', '.join(vision)}")
        models = generate_models(MAKE_VISION_MODELS, names)
        generator = dict.fromkeys(names, MAKE_VISION_MODELS)
    else:
        for path in sorted(glob.glob(os.path.join(args.shared, "*", "model.onnx"))):
            name = os.path.basename(os.path.dirname(path))
            if not wanted or name in wanted:
                models[name] = os.path.dirname(path)
        base = [m for m in BASE_MODELS if args.base or m in wanted]
        if base:
            models.update(generate_models(make_models, base))
        generator = dict.fromkeys(models, make_models)
    if "ort" not in skip:
        ensure_onnxruntime()
    ort_env = dict(os.environ, NODE_PATH=os.path.join(PEERS, "node_modules"))

    rows = []
    print(f"{'model':20s} {'thr':>3s} {'sinter ms':>10s} {'ORT ms':>10s} {'torch ms':>10s} "
          f"{'s/ORT':>6s} {'s/torch':>7s} {'sinter MiB':>10s} {'ORT MiB':>8s} {'torch MiB':>9s}",
          flush=True)
    with tempfile.TemporaryDirectory() as work:
        for name, model_dir in models.items():
            model_work = os.path.join(work, name)
            os.makedirs(model_work)
            stem = os.path.join(model_work, "model")
            compiled = subprocess.run([os.path.join(args.bin, "sinterc"),
                                       os.path.join(model_dir, "model.onnx"), "-o", stem],
                                      capture_output=True, text=True)
            if compiled.returncode != 0:
                print(f"{name}: sinterc failed: {compiled.stderr.strip()}", flush=True)
                rows.append({"model": name, "error": compiled.stderr.strip()})
                continue
            inputs_json = write_raw_inputs(model_dir, model_work)
            data = os.path.join(model_dir, "test_data_set_0")
            for threads in [int(t) for t in args.threads.split(",")]:
                row = {"model": name, "threads": threads}
                # Each round runs every engine once, one after the other:
                # this machine's speed drifts by up to a tenth within
                # minutes, so the ratios are taken within a round and their
                # median reported (latencies: medians over the rounds).
                times = {"sinter": [], "ort": [], "torch": []}
                for _ in range(args.rounds):
                    report, mib = timed([os.path.join(args.bin, "sinter-run"), stem + ".so",
                                         f"--data={data}", f"--num-threads={threads}",
                                         f"--runs={args.runs}", f"--warmup={args.warmup}",
                                         "--json"])
                    if report is None:
                        row["sinter_error"] = mib
                    else:
                        times["sinter"].append(report["median_ms"])
                        row["sinter_mib"] = max(mib, row.get("sinter_mib", 0.0))
                        row["sinter_pass"] = row.get("sinter_pass", True) and report["pass"]
                        row["sinter_max_abs_error"] = max(
                            [o["max_abs_error"] for o in report["outputs"]] +
                            [row.get("sinter_max_abs_error", 0.0)])
                    if "ort" not in skip:
                        report, mib = timed(["node", os.path.join(HERE, "ort_run.js"),
                                             os.path.join(model_dir, "model.onnx"), inputs_json,
                                             str(threads), str(args.runs), str(args.warmup)],
                                            env=ort_env)
                        if report is None:
                            row["ort_error"] = mib
                        else:
                            times["ort"].append(report["median_ms"])
                            row["ort_mib"] = max(mib, row.get("ort_mib", 0.0))
                            row["ort_max_abs_error"] = reference_error(model_dir, model_work,
                                                                       report)
                    if "torch" not in skip:
                        report, mib = timed(["/usr/bin/python3",
                                             os.path.join(HERE, "torch_run.py"),
                                             "--make-models", generator[name], "--model", name,
                                             "--data", data, f"--threads={threads}",
                                             f"--runs={args.runs}", f"--warmup={args.warmup}"])
                        if report is None:
                            row["torch_error"] = mib
                        else:
                            times["torch"].append(report["median_ms"])
                            row["torch_mib"] = max(mib, row.get("torch_mib", 0.0))
                for engine, ms in times.items():
                    if ms and len(ms) == args.rounds:
                        row[f"{engine}_ms"] = statistics.median(ms)
                        row[f"{engine}_rounds_ms"] = ms
                for peer in ("ort", "torch"):
                    if "sinter_ms" in row and f"{peer}_ms" in row:
                        row[f"sinter_over_{peer}"] = statistics.median(
                            a / b for a, b in zip(times["sinter"], times[peer]))
                rows.append(row)

                def cell(key, fmt):
                    return format(row[key], fmt) if key in row else "-"
                print(f"{name:20s} {threads:3d} {cell('sinter_ms', '10.3f')} "
                      f"{cell('ort_ms', '10.3f'):>10s} {cell('torch_ms', '10.3f'):>10s} "
                      f"{cell('sinter_over_ort', '6.2f'):>6s} "
                      f"{cell('sinter_over_torch', '7.2f'):>7s} {cell('sinter_mib', '10.1f'):>10s} "
                      f"{cell('ort_mib', '8.1f'):>8s} {cell('torch_mib', '9.1f'):>9s}", flush=True)
                for key in ("sinter_error", "ort_error", "torch_error"):
                    if key in row:
                        print(f"  {key}: {row[key]}", flush=True)
                if row.get("sinter_pass") is False:
                    print(f"  sinter's outputs miss the references' tolerance (atol 1e-5, rtol "
                          f"1e-4): max abs error {row['sinter_max_abs_error']:.3g}; ONNX "
                          f"Runtime's: {row.get('ort_max_abs_error', float('nan')):.3g}",
                          flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
