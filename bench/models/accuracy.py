#!/usr/bin/python3
"""How far each engine's fp32 outputs are from the exact ones: the model
of make_models.py run by PyTorch in float64 is the truth; sinter, ONNX
Runtime and PyTorch in float32 (the references that make_models.py wrote)
are each measured against it, on the same test_data_set_0 inputs.

The references' own tolerance (atol 1e-5, rtol 1e-4) is a check that two
fp32 computations agree, and a base-size model can miss it with neither
side being wrong: fp32 rounding differs with the order of the sums. This
tells whether sinter loses accuracy (its error against float64 larger than
the peers') or only sums in another order (errors of the same size).

  bench/models/accuracy.py --bin build/bin [--models llama-base,gpt-small]
      [--threads 1]

Prints per model and engine the largest absolute error and the relative
error ||out - exact|| / ||exact|| against float64, as a table and as JSON.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (BASE_MODELS, ROOT, ensure_onnxruntime, generate_base_models,  # noqa: E402
                 load_make_models, load_pb, numbered, write_raw_inputs, PEERS, HERE)


def exact_outputs(make_models, name, inputs):
    """The make_models.py module in float64 on the same inputs."""
    module = load_make_models(make_models)
    model = module.build_model(module.CONFIGS[name]).double()
    tensors = [torch.from_numpy(x.astype(np.float64) if x.dtype == np.float32 else x.copy())
               for x in inputs]
    with torch.inference_mode():
        outputs = model(*tensors)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return [o.numpy() for o in outputs]


def errors(outputs, exact):
    """Largest absolute error and relative L2 error over all outputs."""
    worst, diff, norm = 0.0, 0.0, 0.0
    for out, ref in zip(outputs, exact):
        delta = out.astype(np.float64).reshape(ref.shape) - ref
        worst = max(worst, float(np.abs(delta).max()))
        diff += float((delta ** 2).sum())
        norm += float((ref ** 2).sum())
    return worst, (diff / norm) ** 0.5 if norm > 0 else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "models"))
    parser.add_argument("--models", default="llama-base",
                        help="comma-separated names of make_models.py's models")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip", default="", help="peers to leave out: ort")
    args = parser.parse_args()
    make_models = os.path.join(args.shared, "make_models.py")
    names = [m for m in args.models.split(",") if m]
    folders = {n: os.path.join(args.shared, n) for n in names if n not in BASE_MODELS}
    missing = [n for n, d in folders.items() if not os.path.exists(os.path.join(d, "model.onnx"))]
    if missing:
        print(f"accuracy: no such model in {args.shared}: {', '.join(missing)}", file=sys.stderr)
        return 2
    folders.update(generate_base_models(make_models, [n for n in names if n in BASE_MODELS]))
    skip = set(filter(None, args.skip.split(",")))
    if "ort" not in skip:
        ensure_onnxruntime()
    ort_env = dict(os.environ, NODE_PATH=os.path.join(PEERS, "node_modules"))

    rows = []
    print(f"{'model':12s} {'engine':14s} {'max abs err':>12s} {'rel L2 err':>11s}  (vs float64)")
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            folder = folders[name]
            data = os.path.join(folder, "test_data_set_0")
            inputs = [load_pb(p) for p in numbered(data, "input", "pb")]
            exact = exact_outputs(make_models, name, inputs)
            results = {"torch fp32": [load_pb(p) for p in numbered(data, "output", "pb")]}

            model_work = os.path.join(work, name)
            os.makedirs(model_work)
            stem = os.path.join(model_work, "model")
            subprocess.run([os.path.join(args.bin, "sinterc"),
                            os.path.join(folder, "model.onnx"), "-o", stem], check=True)
            saved = os.path.join(model_work, "sinter")
            # sinter-run exits with 1 when the outputs miss the references'
            # tolerance; the outputs are saved either way.
            run = subprocess.run([os.path.join(args.bin, "sinter-run"), stem + ".so",
                                  f"--data={data}", f"--num-threads={args.threads}",
                                  "--runs=1", "--warmup=0", f"--save-outputs={saved}"],
                                 capture_output=True, text=True)
            if run.returncode not in (0, 1) or not os.path.isdir(saved):
                print(f"{name}: sinter-run failed: {run.stderr.strip()}", file=sys.stderr)
                return 1
            results["sinter"] = [np.load(p) for p in numbered(saved, "output", "npy")]

            if "ort" not in skip:
                inputs_json = write_raw_inputs(folder, model_work)
                run = subprocess.run(["node", os.path.join(HERE, "ort_run.js"),
                                      os.path.join(folder, "model.onnx"), inputs_json,
                                      str(args.threads), "1", "0"],
                                     capture_output=True, text=True, env=ort_env, check=True)
                report = json.loads(run.stdout.strip().splitlines()[-1])
                results["onnxruntime"] = [
                    np.fromfile(os.path.join(model_work, o["file"]), dtype=np.float32)
                    for o in report["outputs"].values()]

            for engine, outputs in results.items():
                if len(outputs) != len(exact):
                    print(f"{name}: {engine} gave {len(outputs)} outputs, float64 "
                          f"{len(exact)}", file=sys.stderr)
                    return 1
                worst, relative = errors(outputs, exact)
                rows.append(dict(model=name, engine=engine, max_abs_error=worst,
                                 relative_l2_error=relative))
                print(f"{name:12s} {engine:14s} {worst:12.3g} {relative:11.3g}", flush=True)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
