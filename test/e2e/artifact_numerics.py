"""Shared by the kernel numerics tests (attention_numerics.py,
norm_numerics.py): compile a one-op MLIR module with sinterc under several
option sets and check the artifact with sinter-run against references, at 1
and 2 threads.

Tensors go to sinter-run as ONNX TensorProto files, as in the backend-test
layout.
"""
import os
import subprocess

from onnx import numpy_helper


def mlir_type(shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


def save_pb(path, array):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array).SerializeToString())


def check_variants(bin_dir, work, name, module_text, inputs, references, variants,
                   prepare_run=None):
    """Compiles `module_text` once per (label, sinterc flags) in `variants`
    and runs each artifact on `inputs` against `references` (numpy arrays);
    prints one line per run and returns the number of failures.
    `prepare_run(model_path, flags, stem)`, if given, returns the
    environment sinter-run needs for the artifact, or a string saying why
    there is none (the emulated GPU's kernel library)."""
    os.makedirs(work, exist_ok=True)
    input_files, reference_files = [], []
    for i, array in enumerate(inputs):
        input_files.append(os.path.join(work, f"input_{i}.pb"))
        save_pb(input_files[-1], array)
    for i, array in enumerate(references):
        reference_files.append(os.path.join(work, f"output_{i}.pb"))
        save_pb(reference_files[-1], array)
    with open(os.path.join(work, "model.mlir"), "w") as f:
        f.write(module_text)
    failures = 0
    for label, flags in variants:
        stem = os.path.join(work, label)
        compile_ = subprocess.run(
            [os.path.join(bin_dir, "sinterc"), os.path.join(work, "model.mlir"), "-o", stem]
            + flags, capture_output=True, text=True)
        if compile_.returncode != 0:
            print(f"{name} {label}: compile FAILED\n{compile_.stderr}")
            failures += 1
            continue
        env = None
        if prepare_run:
            env = prepare_run(os.path.join(work, "model.mlir"), flags, stem)
            if isinstance(env, str):
                print(f"{name} {label}: FAILED: {env}")
                failures += 1
                continue
        # (A GPU artifact's threads are the GPU's: one run.)
        for threads in (1,) if prepare_run else (1, 2):
            run = subprocess.run(
                [os.path.join(bin_dir, "sinter-run"), stem + ".so", f"--num-threads={threads}"]
                + [f"--input={p}" for p in input_files]
                + [f"--reference={p}" for p in reference_files],
                capture_output=True, text=True, env=env)
            verdict = "ok" if run.returncode == 0 else "FAIL"
            errors = [l.split(":", 1)[1].strip() for l in run.stdout.splitlines()
                      if "max abs error" in l]
            print(f"{name} {label} {threads} thread(s): {verdict} "
                  f"{'; '.join(errors) if errors else run.stderr.strip()}")
            failures += run.returncode != 0
    return failures
