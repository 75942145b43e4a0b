#!/usr/bin/python3
"""PyTorch (Debian's python3-torch, eager, fp32, inference mode) on one model
of make_models.py: rebuilds the module from its seeded weights, checks that
it reproduces the model's reference outputs (so both sides run the same
model), then times `runs` calls after `warmup` on `threads` intra-op
threads. Prints one line of JSON: {"median_ms", "min_ms", "max_ms",
"max_abs_error"}.

  torch_run.py --make-models ../shared/models/make_models.py --model gpt-small \\
      --data DIR/test_data_set_0 --threads 1 --runs 20 --warmup 3
"""
import argparse
import json
import sys
import time

import numpy as np
import torch

from run import load_make_models, load_pb, numbered


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--make-models", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    make_models = load_make_models(args.make_models)
    model = make_models.build_model(make_models.CONFIGS[args.model])
    inputs = [torch.from_numpy(load_pb(p)) for p in numbered(args.data, "input", "pb")]
    references = [load_pb(p) for p in numbered(args.data, "output", "pb")]
    with torch.inference_mode():
        outputs = model(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        error = max(float(np.abs(o.numpy() - r).max()) for o, r in zip(outputs, references))
        if error > 1e-4:
            print(f"torch_run: {args.model} does not reproduce its reference outputs "
                  f"(max abs error {error:.3g})", file=sys.stderr)
            return 1
        for _ in range(args.warmup):
            model(*inputs)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            model(*inputs)
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    print(json.dumps({"median_ms": times[len(times) // 2], "min_ms": times[0],
                      "max_ms": times[-1], "max_abs_error": error}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
