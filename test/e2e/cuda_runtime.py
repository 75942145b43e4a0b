#!/usr/bin/python3
"""The CUDA path of the runtime and of a CUDA model's host code, on a machine
without a GPU: models compiled with sinterc --target=cuda are run by
sinter-run against
- no driver at all: a clear error, exit 1;
- a fake driver (fake_cuda_driver.c, through SINTER_CUDA_DRIVER) that fails
  in each way the runtime must report: cuInit, no device, a GPU older than
  the PTX, out of device memory, a failing kernel launch; every message
  names the driver call and its error;
- the fake driver succeeding: the generated host code loads the embedded
  PTX, looks every kernel up by name, and launches each kernel of the PTX,
  with non-empty grids, at most 1024 threads a block and the parameters the
  PTX entry declares; with a symbolic sequence length the grids follow the
  length given at run time.
The kernels' results are checked on a real GPU by gpu_models.py.

  cuda_runtime.py --bin build/bin --fake-driver libfake_cuda.so --work DIR
"""
import argparse
import collections
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "models")

failures = []


def check(condition, what):
    print(("ok:   " if condition else "FAIL: ") + what)
    if not condition:
        failures.append(what)


def compile_cuda(args, model, stem):
    sinterc = os.path.join(args.bin, "sinterc")
    onnx_path = os.path.join(MODELS, model, "model.onnx")
    for extra in ([], ["--emit=ptx", "-o", stem + ".ptx"]):
        command = [sinterc, onnx_path, "--target=cuda"] + (extra or ["-o", stem])
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stderr)
            sys.exit(f"{model}: {' '.join(command)} failed")
    with open(stem + ".ptx") as f:
        return f.read()


def run_model(args, stem, env_extra, *flags):
    env = dict(os.environ)
    env.update(env_extra)
    return subprocess.run([os.path.join(args.bin, "sinter-run"), stem + ".so",
                           "--runs", "1", "--warmup", "0", *flags],
                          capture_output=True, text=True, env=env)


def expect_error(args, stem, env, message, what):
    run = run_model(args, stem, env)
    output = run.stdout + run.stderr
    check(run.returncode == 1 and message in output,
          f"{what}: exit 1 with '{message}'" +
          ("" if message in output else f" (got: {output.strip()[:400]})"))


def entries(ptx):
    """Kernel name -> parameter count, from the PTX's .entry declarations."""
    result = {}
    for match in re.finditer(r"\.entry\s+(\w+)\(([^)]*)\)", ptx):
        result[match.group(1)] = match.group(2).count(".param ")
    return result


def launches(args, stem, log, *flags):
    if os.path.exists(log):
        os.remove(log)
    run = run_model(args, stem, {"SINTER_CUDA_DRIVER": args.fake_driver,
                                 "FAKE_CUDA_LOG": log}, *flags)
    if run.returncode != 0:
        print(run.stdout + run.stderr)
        return None
    with open(log) as f:
        return [line.split() for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--fake-driver", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    fake = {"SINTER_CUDA_DRIVER": args.fake_driver}

    stem = os.path.join(args.work, "gpt")
    ptx = compile_cuda(args, "gpt-tiny", stem)
    kernels = entries(ptx)
    check(len(kernels) > 10, f"gpt-tiny has {len(kernels)} GPU kernels")

    expect_error(args, stem, {"SINTER_CUDA_DRIVER": "/nonexistent/libcuda.so.1"},
                 "cannot load the CUDA driver (/nonexistent/libcuda.so.1)",
                 "no driver")
    expect_error(args, stem, {**fake, "FAKE_CUDA_MODE": "init-fails"},
                 "cuInit: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is "
                 "detected)", "cuInit fails")
    expect_error(args, stem, {**fake, "FAKE_CUDA_MODE": "no-device"},
                 "no CUDA device 0: the driver sees 0 GPUs", "no device")
    expect_error(args, stem, {**fake, "SINTER_CUDA_DEVICE": "1"},
                 "no CUDA device 1: the driver sees 1 GPU ", "device 1 of 1")
    expect_error(args, stem, {**fake, "SINTER_CUDA_DEVICE": "first"},
                 "SINTER_CUDA_DEVICE is 'first', not a device number",
                 "bad device number")
    expect_error(args, stem, {**fake, "FAKE_CUDA_MODE": "sm80"},
                 "compiled for sm_90, and the GPU (Fake GPU) is sm_80: "
                 "compile it with --gpu-arch=sm_80", "GPU older than the PTX")
    expect_error(args, stem, {**fake, "FAKE_CUDA_MEMORY": "100000"},
                 "cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (out of memory)",
                 "out of device memory")
    expect_error(args, stem, {**fake, "FAKE_CUDA_MODE": "launch-fails"},
                 "failed to run: cuLaunchKernel: CUDA_ERROR_LAUNCH_FAILED "
                 "(unspecified launch failure)", "kernel launch fails")

    log = os.path.join(args.work, "launches.txt")
    lines = launches(args, stem, log)
    check(lines is not None, "gpt-tiny runs on the fake driver")
    if lines:
        launched = collections.Counter(line[0] for line in lines)
        check(set(launched) == set(kernels),
              f"every kernel of the PTX is launched, and no other "
              f"({len(launched)} launched, {len(kernels)} in the PTX)")
        check(all(int(grid) > 0 and 0 < int(block) <= 1024
                  for _, grid, block, _ in lines),
              f"{len(lines)} launches have grids and blocks within limits")
        check(all(int(params) == kernels[name] and int(params) > 0
                  for name, _, _, params in lines),
              "each launch passes the parameters its PTX entry declares")

    # A symbolic sequence length: the launch sizes are computed at run time.
    dynamic = os.path.join(args.work, "gpt_dynamic")
    compile_cuda(args, "gpt-dynamic", dynamic)
    grids = {}
    for length in (5, 17):
        lines = launches(args, dynamic, log, "--dim", f"sequence={length}")
        check(lines is not None, f"gpt-dynamic runs at length {length}")
        grids[length] = [int(line[1]) * int(line[2]) for line in lines or []]
    check(len(grids[5]) == len(grids[17]) and grids[5] != grids[17] and
          all(a <= b for a, b in zip(grids[5], grids[17])),
          "gpt-dynamic launches the same kernels with more threads at "
          "length 17 than at 5")

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
